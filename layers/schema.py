"""Layer schemas: the one place that says what each layer holds.

Each layer has columns with a type, whether they are required, allowed values, the header names an import
may use for them (Chinese or English), zh/en labels, and a drawing style. Column names, ids and allowed
values are referenced from here, never typed as strings in other places.

Geometries are stored in WGS-84 (EPSG:4326). Dates are ISO text ``YYYY-MM-DD`` (GeoPackage DATE).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Geom(StrEnum):
    """GeoPackage geometry type names."""

    POINT = "POINT"
    LINESTRING = "LINESTRING"
    MULTILINESTRING = "MULTILINESTRING"
    POLYGON = "POLYGON"
    MULTIPOLYGON = "MULTIPOLYGON"
    GEOMETRY = "GEOMETRY"


class T(StrEnum):
    """Column types; each maps to a GeoPackage/SQLite type."""

    TEXT = "TEXT"
    INT = "INTEGER"
    REAL = "REAL"
    BOOL = "BOOLEAN"
    DATE = "DATE"
    DATETIME = "DATETIME"
    BLOB = "BLOB"


@dataclass(frozen=True)
class Column:
    name: str
    type: T
    zh: str
    en: str
    required: bool = False
    allowed: tuple[str, ...] | None = None
    aliases: tuple[str, ...] = ()
    unique: bool = False


@dataclass(frozen=True)
class Layer:
    name: str
    zh: str
    en: str
    geometry: Geom | None
    columns: tuple[Column, ...]
    id_column: str | None = "id"
    style: dict = field(default_factory=dict)
    #: geometry is required for spatial layers unless False (e.g. a hazard may carry only a target)
    geometry_required: bool = True
    #: False for bookkeeping layers (users, sessions, tokens): writing them does not change the data version,
    #: so a login does not throw away every analysis cached for the data
    counts_as_data: bool = True
    #: rows may be added, never changed or removed (the audit log): the store refuses UPDATE and DELETE
    append_only: bool = False
    #: rows carry a ``version`` column checked on every edit (optimistic locking: a stale save is refused)
    versioned: bool = False

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"layer {self.name!r} has no column {name!r}")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def spatial(self) -> bool:
        return self.geometry is not None


# --------------------------------------------------------------------------------------------------
# Allowed values with labels and colours
# --------------------------------------------------------------------------------------------------

#: Risk grades in the national four-colour scheme (red, orange, yellow, blue), highest first.
GRADES: dict[str, dict] = {
    "major": {"zh": "重大风险", "en": "Major", "color": "#E5141B",
              "aliases": ("重大", "红", "红色", "red", "1", "一级", "重大風險", "紅", "紅色", "一級")},
    "high": {"zh": "较大风险", "en": "High", "color": "#FF8A00",
             "aliases": ("较大", "橙", "橙色", "orange", "2", "二级", "較大風險", "較大", "二級")},
    "moderate": {"zh": "一般风险", "en": "Moderate", "color": "#F7D600",
                 "aliases": ("一般", "黄", "黄色", "yellow", "3", "三级", "一般風險", "黃", "黃色", "三級")},
    "low": {"zh": "低风险", "en": "Low", "color": "#1E6FE0",
            "aliases": ("低", "蓝", "蓝色", "blue", "4", "四级", "低風險", "藍", "藍色", "四級")},
}
GRADE_ORDER = ("major", "high", "moderate", "low")

INDUSTRIES: dict[str, dict] = {
    "mining": {"zh": "矿山", "en": "Mining", "skill": "mining", "aliases": ("礦山",)},
    "hazchem": {"zh": "危险化学品", "en": "Hazardous chemicals", "skill": "hazchem",
                "aliases": ("危化", "危化品", "危險化學品")},
    "metallurgy": {"zh": "冶金", "en": "Metallurgy", "skill": "industry_trade"},
    "industry_trade": {"zh": "工贸", "en": "Industry & trade", "skill": "industry_trade", "aliases": ("工貿",)},
    "construction": {"zh": "建筑施工", "en": "Construction", "skill": "construction", "aliases": ("建築施工",)},
    "fireworks": {"zh": "烟花爆竹", "en": "Fireworks", "skill": "hazchem", "aliases": ("煙花爆竹",)},
    "transport": {"zh": "道路运输（两客一危）", "en": "Road transport", "skill": "transport",
                  "aliases": ("道路运输", "两客一危", "道路運輸", "兩客一危")},
    "fire_key_unit": {"zh": "消防重点单位", "en": "Fire key unit", "skill": "fire", "aliases": ("消防重點單位",)},
    "gas": {"zh": "城镇燃气", "en": "City gas", "skill": "gas", "aliases": ("城鎮燃氣",)},
}

ENTERPRISE_STATUS = {
    "operating": {"zh": "在营", "en": "Operating", "aliases": ("正常", "营业", "在业", "在營", "營業", "在業")},
    "suspended": {"zh": "停产整顿", "en": "Suspended", "aliases": ("停产", "停业", "停產整頓", "停產", "停業")},
    "closed": {"zh": "关闭", "en": "Closed", "aliases": ("注销", "吊销", "关停", "關閉", "註銷", "吊銷", "關停")},
}

PRESSURE_CLASSES: dict[str, dict] = {
    "high": {"zh": "高压", "en": "High pressure", "color": "#B0006D", "width": 4},
    "sub_high": {"zh": "次高压", "en": "Sub-high pressure", "color": "#E0439A", "width": 3},
    "medium": {"zh": "中压", "en": "Medium pressure", "color": "#F08AC0", "width": 2},
    "low": {"zh": "低压", "en": "Low pressure", "color": "#F6BEDC", "width": 1},
}

#: Technical condition class of bridges and tunnels (技术状况等级), 1 best .. 5 worst.
CONDITION_CLASSES: dict[str, dict] = {
    "1": {"zh": "1类", "en": "Class 1", "color": "#2E9E44"},
    "2": {"zh": "2类", "en": "Class 2", "color": "#8CC43F"},
    "3": {"zh": "3类", "en": "Class 3", "color": "#F7D600"},
    "4": {"zh": "4类", "en": "Class 4", "color": "#FF8A00"},
    "5": {"zh": "5类", "en": "Class 5", "color": "#E5141B"},
}

VENUE_KINDS: dict[str, dict] = {
    "ktv": {"zh": "KTV", "en": "KTV", "color": "#9B59B6"},
    "foot_massage": {"zh": "足浴", "en": "Foot massage", "color": "#8E44AD"},
    "bar": {"zh": "酒吧", "en": "Bar", "color": "#6C3483"},
    "mall": {"zh": "商场", "en": "Mall", "color": "#16A085"},
    "cinema": {"zh": "影剧院", "en": "Cinema / theatre", "color": "#1ABC9C"},
    "stadium": {"zh": "体育场馆", "en": "Stadium", "color": "#2980B9"},
    "school": {"zh": "学校", "en": "School", "color": "#27AE60"},
    "hospital": {"zh": "医院", "en": "Hospital", "color": "#C0392B"},
    "market": {"zh": "农贸市场", "en": "Market", "color": "#D35400"},
    "hotel": {"zh": "宾馆酒店", "en": "Hotel", "color": "#7F8C8D"},
}

HAZARD_LEVELS = {
    "general": {"zh": "一般隐患", "en": "General", "aliases": ("一般",)},
    "major": {"zh": "重大隐患", "en": "Major", "aliases": ("重大",)},
}
HAZARD_STATUS = {
    "open": {"zh": "待整改", "en": "Open", "aliases": ("未整改",)},
    "rectifying": {"zh": "整改中", "en": "Rectifying", "aliases": ()},
    "awaiting_check": {"zh": "待验收", "en": "Awaiting check", "aliases": ("待复查",)},
    "closed": {"zh": "已销号", "en": "Closed", "aliases": ("已整改", "销号", "已銷號", "銷號")},
    "rejected": {"zh": "已驳回", "en": "Check failed", "aliases": ("验收不合格", "驳回", "已駁回", "驗收不合格")},
}
#: the five elements of 五到位
FIVE_IN_PLACE = {
    "resp_in_place": {"zh": "责任到位", "en": "Responsibility"},
    "measures_in_place": {"zh": "措施到位", "en": "Measures"},
    "funds_in_place": {"zh": "资金到位", "en": "Funds"},
    "deadline_in_place": {"zh": "时限到位", "en": "Deadline"},
    "plan_in_place": {"zh": "预案到位", "en": "Contingency plan"},
}

#: enforcement orders on an enterprise (执法指令)
ORDER_KINDS = {
    "suspend": {"zh": "停产停业整顿", "en": "Suspension", "aliases": ("停产整顿", "停业整顿", "停產停業整頓")},
    "resume": {"zh": "恢复生产经营", "en": "Resumption", "aliases": ("复产", "恢复生产", "復產")},
    "close": {"zh": "依法关闭", "en": "Closure", "aliases": ("关闭", "取缔", "关闭取缔", "關閉", "取締")},
}
#: why an enterprise is closed
CLOSE_GROUNDS = {
    "illegal": {"zh": "非法违法生产经营", "en": "Illegal operation"},
    "failed_recheck": {"zh": "复查仍不合格", "en": "Failed re-check"},
}
BLACKLIST_BASES = {
    "order": {"zh": "执法指令", "en": "Order"},
    "accident": {"zh": "生产安全事故", "en": "Accident"},
    "hazard": {"zh": "重大隐患拒不整改", "en": "Major hazard not rectified"},
}

INSPECTION_RESULTS = {
    "pass": {"zh": "合格", "en": "Pass"},
    "hazards_found": {"zh": "发现隐患", "en": "Hazards found"},
    "closed_door": {"zh": "未营业/闭门", "en": "Closed door"},
}
INSPECTION_ACTIONS = {
    "none": {"zh": "无", "en": "None"},
    "order_rectify": {"zh": "责令整改", "en": "Order to rectify"},
    "fine": {"zh": "罚款", "en": "Fine"},
    "suspend": {"zh": "停产整顿", "en": "Order to suspend"},
    "close": {"zh": "关闭", "en": "Order to close"},
}

SKILLS = {
    "hazchem": {"zh": "危化", "en": "Hazchem"},
    "gas": {"zh": "燃气", "en": "Gas"},
    "fire": {"zh": "消防", "en": "Fire"},
    "construction": {"zh": "建筑施工", "en": "Construction"},
    "mining": {"zh": "矿山", "en": "Mining"},
    "industry_trade": {"zh": "工贸", "en": "Industry & trade"},
    "transport": {"zh": "交通运输", "en": "Transport"},
    "structures": {"zh": "桥隧结构", "en": "Bridges & tunnels"},
}

#: emergency resources; ``capacity`` is the count a resource holds where it is a supply (pumps, sandbags, boats,
#: generators), people for a team, places for a shelter
RESOURCE_KINDS = {
    "fire_station": {"zh": "消防站", "en": "Fire station", "color": "#E74C3C"},
    "rescue_team": {"zh": "救援队伍", "en": "Rescue team", "color": "#E67E22"},
    "hazchem_team": {"zh": "危化救援队", "en": "Hazchem rescue team", "color": "#8E44AD"},
    "medical": {"zh": "医疗急救站", "en": "Medical (ambulance) station", "color": "#16A085"},
    "drainage_pump": {"zh": "排涝泵车", "en": "Drainage pumps", "color": "#1F77B4"},
    "sandbags": {"zh": "沙袋储备点", "en": "Sandbag store", "color": "#A0522D"},
    "boat": {"zh": "冲锋舟", "en": "Rescue boats", "color": "#17BECF"},
    "generator": {"zh": "应急发电车", "en": "Generators", "color": "#BCBD22"},
    "shelter": {"zh": "应急避难场所", "en": "Shelter", "color": "#27AE60"},
    "supply_depot": {"zh": "物资储备库", "en": "Supply depot", "color": "#2980B9"},
}
RESOURCE_STATUS = {
    "ready": {"zh": "在岗可用", "en": "Ready"},
    "out_of_service": {"zh": "停用维修", "en": "Out of service"},
}
#: what a readiness gap is measured for: risk objects by class (``layers.analysis.readiness``)
READINESS_CLASSES = {
    "major_enterprise": {"zh": "重大风险企业", "en": "Major-risk enterprise"},
    "high_enterprise": {"zh": "较大风险企业", "en": "High-risk enterprise"},
    "hazchem": {"zh": "危化企业", "en": "Hazchem enterprise"},
    "venue": {"zh": "人员密集场所", "en": "Crowded venue"},
    "tunnel": {"zh": "隧道", "en": "Tunnel"},
    "flood_point": {"zh": "内涝点", "en": "Flood point"},
}
FLOOD_SEVERITY = {
    "severe": {"zh": "严重", "en": "Severe", "color": "#C0392B"},
    "moderate": {"zh": "较重", "en": "Moderate", "color": "#E67E22"},
    "minor": {"zh": "一般", "en": "Minor", "color": "#F1C40F"},
}
DRILL_KINDS = {
    "tabletop": {"zh": "桌面推演", "en": "Tabletop exercise"},
    "field": {"zh": "实战演练", "en": "Field drill"},
}
INCIDENT_KINDS = {
    "fire": {"zh": "火灾", "en": "Fire"},
    "explosion": {"zh": "爆炸", "en": "Explosion"},
    "hazchem_leak": {"zh": "危化品泄漏", "en": "Hazchem leak"},
    "gas_leak": {"zh": "燃气泄漏", "en": "Gas leak"},
    "collapse": {"zh": "坍塌", "en": "Collapse"},
    "flooding": {"zh": "内涝积水", "en": "Flooding"},
    "crowd_crush": {"zh": "拥挤踩踏", "en": "Crowd crush"},
}
INCIDENT_STATUS = {
    "open": {"zh": "处置中", "en": "Open"},
    "closed": {"zh": "已结束", "en": "Closed"},
}
#: weather warning levels set by the duty officer (预警); "none" lifts a warning
WARNING_LEVELS = {
    "none": {"zh": "无预警", "en": "No warning", "color": "#5B6B82"},
    "blue": {"zh": "蓝色预警", "en": "Blue warning", "color": "#1E6FD9"},
    "yellow": {"zh": "黄色预警", "en": "Yellow warning", "color": "#F5C400"},
    "orange": {"zh": "橙色预警", "en": "Orange warning", "color": "#FF8A00"},
    "red": {"zh": "红色预警", "en": "Red warning", "color": "#E5141B"},
}
WARNING_KINDS = {
    "rainstorm": {"zh": "暴雨", "en": "Rainstorm"},
    "typhoon": {"zh": "台风", "en": "Typhoon"},
    "flood": {"zh": "洪水", "en": "Flood"},
    "thunderstorm": {"zh": "雷暴大风", "en": "Thunderstorm and gale"},
    "heat": {"zh": "高温", "en": "Heat"},
}
DUTY_ROLES = {
    "leader": {"zh": "带班领导", "en": "Leader on duty"},
    "officer": {"zh": "值班员", "en": "Duty officer"},
}
FLOOD_KINDS = {
    "waterlogging": {"zh": "易涝点", "en": "Waterlogging point", "color": "#00A8E8"},
    "underpass": {"zh": "下穿通道", "en": "Low underpass", "color": "#0077B6"},
    "riverside_works": {"zh": "临河工地", "en": "Riverside works", "color": "#48CAE4"},
}
ROAD_CLASSES = {
    "motorway": {"zh": "快速路", "en": "Expressway", "speed": 60, "width": 3.0},
    "primary": {"zh": "主干路", "en": "Arterial", "speed": 40, "width": 2.2},
    "secondary": {"zh": "次干路", "en": "Secondary", "speed": 30, "width": 1.5},
    "tertiary": {"zh": "支路", "en": "Local road", "speed": 20, "width": 1.0},
}
GAS_STATION_KINDS = {
    "gate": {"zh": "门站", "en": "Gate station"},
    "regulator": {"zh": "调压站", "en": "Regulator station"},
    "storage": {"zh": "储配站", "en": "Storage station"},
    "filling": {"zh": "加气站", "en": "Filling station"},
    "fuel": {"zh": "加油站", "en": "Fuel station"},
}
ACCIDENT_KINDS = {
    "fire": {"zh": "火灾", "en": "Fire"},
    "explosion": {"zh": "爆炸", "en": "Explosion"},
    "poisoning": {"zh": "中毒窒息", "en": "Poisoning / asphyxiation"},
    "fall": {"zh": "高处坠落", "en": "Fall from height"},
    "collapse": {"zh": "坍塌", "en": "Collapse"},
    "machinery": {"zh": "机械伤害", "en": "Machinery"},
    "electrocution": {"zh": "触电", "en": "Electrocution"},
    "traffic": {"zh": "交通事故", "en": "Traffic"},
}
OBJECT_LAYERS = ("enterprises", "venues", "gas_stations", "bridges", "tunnels")
"""Layers whose rows are inspectable objects (targets of inspections, hazards, responsibility links)."""


def _c(name: str, type_: T, zh: str, en: str, *aliases: str, **kw) -> Column:
    return Column(name, type_, zh, en, aliases=tuple(aliases), **kw)


_DISTRICT = _c("district_code", T.TEXT, "区县代码", "District code", "区县", "所属区县", "区县编码", "district",
               "區縣代碼", "區縣", "所屬區縣", "區縣編碼")
_TOWN = _c("town_code", T.TEXT, "镇街代码", "Town code", "镇街", "乡镇街道", "街道", "镇街编码", "town",
           "鎮街代碼", "鎮街", "鄉鎮街道", "鎮街編碼")
_NAME = _c("name", T.TEXT, "名称", "Name", "名称", "企业名称", "单位名称", "名字", "name", "名稱", "企業名稱", "單位名稱",
           required=True)
_ID = _c("id", T.TEXT, "编号", "ID", "编号", "ID", "id", "序号", "编码", "編號", "序號", "編碼", required=True,
         unique=True)

LAYERS: dict[str, Layer] = {}


def _add(layer: Layer) -> None:
    LAYERS[layer.name] = layer


_add(Layer("districts", "区县", "Districts", Geom.MULTIPOLYGON, (
    _c("code", T.TEXT, "区县代码", "Code", "代码", "区划代码", "行政区划代码", "编码", "code", required=True, unique=True),
    _c("name", T.TEXT, "名称", "Name", "名称", "区县名称", "name", required=True),
    _c("name_en", T.TEXT, "英文名", "English name", "英文名称", "name_en"),
), id_column="code", style={"line": "#5B6B82", "fill": "rgba(91,107,130,0.04)"}))

_add(Layer("towns", "镇街", "Towns / streets", Geom.MULTIPOLYGON, (
    _c("code", T.TEXT, "镇街代码", "Code", "代码", "区划代码", "编码", "code", required=True, unique=True),
    _c("name", T.TEXT, "名称", "Name", "名称", "镇街名称", "街道名称", "name", required=True),
    _c("name_en", T.TEXT, "英文名", "English name", "英文名称", "name_en"),
    _DISTRICT,
), id_column="code", style={"line": "#8A96A8", "fill": "rgba(0,0,0,0)"}))

_add(Layer("enterprises", "企业", "Enterprises", Geom.POINT, (
    _ID,
    _c("credit_code", T.TEXT, "统一社会信用代码", "Unified social credit code", "统一社会信用代码", "信用代码",
       "社会信用代码", "credit_code", "uscc", "統一社會信用代碼", "信用代碼", "社會信用代碼"),
    _NAME,
    _c("industry", T.TEXT, "行业", "Industry", "行业", "行业类别", "行业分类", "industry", "行業", "行業類別", "行業分類",
       required=True, allowed=tuple(INDUSTRIES)),
    _c("grade", T.TEXT, "风险等级", "Risk grade", "风险等级", "等级", "风险分级", "grade", "risk_grade", "風險等級", "等級",
       "風險分級", required=True, allowed=tuple(GRADES)),
    _DISTRICT, _TOWN,
    _c("status", T.TEXT, "经营状态", "Status", "状态", "经营状态", "status", "狀態", "經營狀態",
       allowed=tuple(ENTERPRISE_STATUS)),
    _c("address", T.TEXT, "地址", "Address", "地址", "详细地址", "注册地址", "address", "詳細地址", "註冊地址"),
    _c("employees", T.INT, "从业人数", "Employees", "从业人数", "职工人数", "人数", "employees", "從業人數", "職工人數",
       "人數"),
    _c("contact", T.TEXT, "安全负责人", "Safety contact", "安全负责人", "联系人", "contact", "安全負責人", "聯繫人",
       "聯絡人"),
    _c("contact_phone", T.TEXT, "安全负责人电话", "Safety contact's phone", "安全负责人电话", "联系电话", "联系人电话",
       "contact_phone", "聯繫電話", "聯絡電話"),
), style={"size": 7}))

_add(Layer("gas_pipelines", "燃气管线", "Gas pipelines", Geom.LINESTRING, (
    _ID,
    _c("pressure", T.TEXT, "压力级制", "Pressure class", "压力级制", "压力等级", "压力", "pressure", required=True,
       allowed=tuple(PRESSURE_CLASSES)),
    _c("material", T.TEXT, "管材", "Material", "管材", "材质", "material"),
    _c("diameter_mm", T.INT, "管径(mm)", "Diameter (mm)", "管径", "diameter", "diameter_mm"),
    _c("year_laid", T.INT, "敷设年份", "Year laid", "敷设年份", "建设年份", "year", "year_laid"),
    _DISTRICT,
)))

_add(Layer("gas_stations", "燃气场站", "Gas stations", Geom.POINT, (
    _ID, _NAME,
    _c("kind", T.TEXT, "类型", "Kind", "类型", "场站类型", "kind", allowed=tuple(GAS_STATION_KINDS)),
    _c("pressure", T.TEXT, "压力级制", "Pressure class", "压力级制", "pressure", allowed=tuple(PRESSURE_CLASSES)),
    _c("condition_class", T.TEXT, "安全状况等级", "Condition class", "状况等级", "condition", "condition_class",
       allowed=tuple(CONDITION_CLASSES)),
    _DISTRICT, _TOWN,
)))

_STRUCTURE = (
    _ID, _NAME,
    _c("condition_class", T.TEXT, "技术状况等级", "Condition class", "技术状况等级", "状况等级", "技术等级",
       "condition", "condition_class", required=True, allowed=tuple(CONDITION_CLASSES)),
    _c("length_m", T.REAL, "长度(m)", "Length (m)", "长度", "length", "length_m"),
    _c("year_built", T.INT, "建成年份", "Year built", "建成年份", "year", "year_built"),
    _c("road", T.TEXT, "所在道路", "Road", "所在道路", "道路", "road"),
    _DISTRICT, _TOWN,
)
_add(Layer("bridges", "桥梁", "Bridges", Geom.LINESTRING, _STRUCTURE))
_add(Layer("tunnels", "隧道", "Tunnels", Geom.LINESTRING, _STRUCTURE))

_add(Layer("rail_lines", "轨道交通线路", "Rail lines", Geom.LINESTRING, (
    _ID, _NAME,
    _c("line_no", T.TEXT, "线路号", "Line", "线路", "线路号", "line", "line_no"),
    _c("color", T.TEXT, "线路色", "Line colour", "颜色", "color", "colour"),
)))
_add(Layer("rail_stations", "轨道交通车站", "Rail stations", Geom.POINT, (
    _ID, _NAME,
    _c("lines", T.TEXT, "所属线路", "Lines", "线路", "lines"),
    _c("daily_passengers", T.INT, "日均客流", "Daily passengers", "客流", "日均客流", "daily_passengers"),
    _DISTRICT,
)))

_add(Layer("venues", "人员密集场所", "Crowded venues", Geom.POINT, (
    _ID, _NAME,
    _c("kind", T.TEXT, "场所类型", "Kind", "类型", "场所类型", "kind", required=True, allowed=tuple(VENUE_KINDS)),
    _c("capacity", T.INT, "容纳人数", "Capacity", "容纳人数", "容量", "核定人数", "capacity"),
    _c("open_hours", T.TEXT, "营业时间", "Opening hours", "营业时间", "开放时间", "open_hours", "opening_hours"),
    _c("credit_code", T.TEXT, "统一社会信用代码", "Unified social credit code", "统一社会信用代码", "credit_code"),
    _c("address", T.TEXT, "地址", "Address", "地址", "address"),
    _DISTRICT, _TOWN,
)))

_TARGET_LAYER = _c("target_layer", T.TEXT, "对象图层", "Target layer", "对象类型", "target_layer", required=True,
                   allowed=OBJECT_LAYERS)
_TARGET_ID = _c("target_id", T.TEXT, "对象编号", "Target ID", "对象编号", "企业编号", "target_id", required=True)

_add(Layer("hazards", "隐患", "Hazards", Geom.POINT, (
    _ID, _TARGET_LAYER, _TARGET_ID,
    _c("type", T.TEXT, "隐患类型", "Hazard type", "隐患类型", "类型", "type"),
    _c("description", T.TEXT, "隐患描述", "Description", "隐患描述", "描述", "description"),
    _c("level", T.TEXT, "隐患级别", "Level", "隐患级别", "级别", "level", required=True, allowed=tuple(HAZARD_LEVELS)),
    _c("found_date", T.DATE, "发现日期", "Found", "发现日期", "排查日期", "found_date", required=True),
    _c("deadline", T.DATE, "整改期限", "Deadline", "整改期限", "整改时限", "deadline"),
    _c("status", T.TEXT, "整改状态", "Status", "整改状态", "状态", "status", required=True, allowed=tuple(HAZARD_STATUS)),
    _c("closed_date", T.DATE, "销号日期", "Closed", "销号日期", "closed_date"),
    *(_c(k, T.BOOL, v["zh"], v["en"], v["zh"], k) for k, v in FIVE_IN_PLACE.items()),
    _c("responsible_person", T.TEXT, "整改责任人", "Responsible person", "责任人", "整改责任人", "responsible_person",
       "責任人", "整改責任人"),
    _c("measures", T.TEXT, "整改措施", "Measures", "整改措施", "措施", "measures"),
    _c("funds", T.REAL, "整改资金(万元)", "Funds (10k yuan)", "整改资金", "资金", "资金(万元)", "funds", "整改資金", "資金"),
    _c("plan_ref", T.TEXT, "应急预案", "Contingency plan", "应急预案", "预案", "plan_ref", "應急預案", "預案"),
    _c("department_id", T.TEXT, "监管部门", "Supervising department", "监管部门", "部门编号", "department_id",
       "監管部門"),
    _c("inspection_id", T.TEXT, "检查记录", "Inspection", "检查记录编号", "inspection_id"),
    _c("checker", T.TEXT, "验收人", "Checked by", "验收人", "checker", "驗收人"),
    _c("check_date", T.DATE, "验收日期", "Check date", "验收日期", "check_date", "驗收日期"),
    _c("evidence", T.TEXT, "验收意见", "Check evidence", "验收意见", "验收情况", "evidence", "驗收意見"),
    _c("reject_reason", T.TEXT, "驳回原因", "Reason for failing", "驳回原因", "reject_reason"),
    _c("listed", T.BOOL, "挂牌督办", "Listed supervision", "挂牌督办", "是否挂牌督办", "listed", "掛牌督辦"),
    _c("listed_office", T.TEXT, "督办单位", "Supervising office", "督办单位", "listed_office", "督辦單位"),
    _c("listed_deadline", T.DATE, "督办期限", "Supervision deadline", "督办期限", "listed_deadline"),
    _c("listed_condition", T.TEXT, "摘牌条件", "Closing condition", "摘牌条件", "listed_condition"),
    _c("version", T.INT, "版本", "Version", "version"),
    _c("updated_at", T.DATETIME, "修改时间", "Updated at", "updated_at"),
    _c("updated_by", T.TEXT, "修改人", "Updated by", "updated_by"),
    _DISTRICT,
), geometry_required=False, versioned=True, style={"major": "#E5141B", "general": "#FF8A00"}))

_add(Layer("inspections", "检查记录", "Inspections", None, (
    _ID, _TARGET_LAYER, _TARGET_ID,
    _c("date", T.DATE, "检查日期", "Date", "检查日期", "日期", "date", required=True),
    _c("team_id", T.TEXT, "检查组", "Team", "检查组", "检查组编号", "team", "team_id"),
    _c("result", T.TEXT, "检查结果", "Result", "检查结果", "结果", "result", allowed=tuple(INSPECTION_RESULTS)),
    _c("hazards_found", T.INT, "发现隐患数", "Hazards found", "隐患数", "发现隐患数", "hazards_found"),
    _c("action", T.TEXT, "处理措施", "Action", "处理措施", "执法措施", "action", allowed=tuple(INSPECTION_ACTIONS)),
    _c("plan_id", T.TEXT, "计划编号", "Plan", "计划编号", "plan_id"),
)))

_add(Layer("teams", "检查组", "Inspector teams", Geom.POINT, (
    _ID, _NAME,
    _c("district_scope", T.TEXT, "负责区县", "District scope", "负责区县", "辖区", "district_scope"),
    _c("skills", T.TEXT, "专业技能", "Skills", "技能", "专业", "skills"),
    _c("shift_start", T.TEXT, "上班时间", "Shift start", "上班时间", "shift_start"),
    _c("shift_end", T.TEXT, "下班时间", "Shift end", "下班时间", "shift_end"),
    _c("break_start", T.TEXT, "午休开始", "Break start", "午休开始", "break_start"),
    _c("break_minutes", T.INT, "午休分钟", "Break (min)", "午休分钟", "break_minutes"),
    _c("members", T.INT, "人数", "Members", "人数", "members"),
    _DISTRICT,
), style={"color": "#00E5FF"}))

_add(Layer("departments", "监管部门", "Departments", None, (
    _ID, _NAME,
    _c("name_en", T.TEXT, "英文名", "English name", "name_en"),
    _c("kind", T.TEXT, "部门类别", "Kind", "类别", "kind"),
    _c("phone", T.TEXT, "值班电话", "Duty phone", "值班电话", "电话", "联系电话", "phone", "值班電話", "電話"),
    _DISTRICT,
)))

_add(Layer("responsibilities", "监管责任", "Supervision links", None, (
    _ID, _TARGET_LAYER, _TARGET_ID,
    _c("department_id", T.TEXT, "监管部门", "Department", "监管部门", "部门编号", "department_id", required=True),
    _c("lead", T.BOOL, "牵头部门", "Lead", "牵头", "是否牵头", "lead"),
    _c("officer", T.TEXT, "包保责任人", "Officer", "包保责任人", "责任人", "officer"),
    _c("officer_phone", T.TEXT, "责任人电话", "Officer's phone", "责任人电话", "包保责任人电话", "联系电话",
       "officer_phone", "責任人電話"),
)))

_add(Layer("accidents", "事故", "Accidents", Geom.POINT, (
    _ID,
    _c("enterprise_id", T.TEXT, "企业编号", "Enterprise", "企业编号", "enterprise_id"),
    _c("date", T.DATE, "事故日期", "Date", "事故日期", "日期", "date", required=True),
    _c("kind", T.TEXT, "事故类型", "Kind", "事故类型", "类型", "kind", allowed=tuple(ACCIDENT_KINDS)),
    _c("deaths", T.INT, "死亡人数", "Deaths", "死亡", "死亡人数", "deaths"),
    _c("injuries", T.INT, "受伤人数", "Injuries", "受伤", "受伤人数", "injuries"),
    _c("description", T.TEXT, "简要经过", "Description", "描述", "简要经过", "description"),
    _DISTRICT,
), geometry_required=False))

_add(Layer("resources", "应急资源", "Emergency resources", Geom.POINT, (
    _ID, _NAME,
    _c("kind", T.TEXT, "资源类型", "Kind", "类型", "kind", required=True, allowed=tuple(RESOURCE_KINDS)),
    _c("capacity", T.INT, "规模", "Capacity", "规模", "容量", "数量", "capacity", "quantity"),
    _c("phone", T.TEXT, "值班电话", "Duty phone", "电话", "值班电话", "phone"),
    _c("status", T.TEXT, "状态", "Status", "状态", "status", allowed=tuple(RESOURCE_STATUS)),
    _DISTRICT,
)))

_add(Layer("flood_points", "内涝点", "Flood points", Geom.POINT, (
    _ID, _NAME,
    _c("kind", T.TEXT, "类型", "Kind", "类型", "kind", required=True, allowed=tuple(FLOOD_KINDS)),
    _c("max_depth_cm", T.INT, "历史最大积水(cm)", "Max depth (cm)", "积水深度", "max_depth_cm"),
    _c("severity", T.TEXT, "风险程度", "Severity", "风险程度", "严重程度", "severity", allowed=tuple(FLOOD_SEVERITY)),
    _DISTRICT,
)))

# Emergency readiness (layers/analysis/readiness, layers/emergency): plans, drills, flood history, duty roster,
# warnings and incidents.
#: a contingency plan on file (应急预案) for an object, or a district's own plan (target_layer "districts")
_add(Layer("emergency_plans", "应急预案", "Contingency plans", None, (
    _ID,
    _c("target_layer", T.TEXT, "对象图层", "Target layer", "对象类型", "target_layer", required=True,
       allowed=OBJECT_LAYERS + ("districts",)),
    _c("target_id", T.TEXT, "对象编号", "Target ID", "对象编号", "企业编号", "target_id", required=True),
    _c("title", T.TEXT, "预案名称", "Title", "预案名称", "名称", "title"),
    _c("plan_version", T.TEXT, "版本号", "Version", "版本号", "版本", "plan_version", "version"),
    _c("filed_date", T.DATE, "备案日期", "Filed", "备案日期", "编制日期", "filed_date", required=True),
    _DISTRICT,
)))
#: a drill (演练) held at an object (or a district), tabletop or field
_add(Layer("drills", "应急演练", "Drills", None, (
    _ID,
    _c("target_layer", T.TEXT, "对象图层", "Target layer", "对象类型", "target_layer", required=True,
       allowed=OBJECT_LAYERS + ("districts",)),
    _c("target_id", T.TEXT, "对象编号", "Target ID", "对象编号", "企业编号", "target_id", required=True),
    _c("plan_id", T.TEXT, "预案编号", "Plan", "预案编号", "plan_id"),
    _c("date", T.DATE, "演练日期", "Date", "演练日期", "日期", "date", required=True),
    _c("kind", T.TEXT, "演练形式", "Kind", "演练形式", "形式", "kind", allowed=tuple(DRILL_KINDS)),
    _c("participants", T.INT, "参演人数", "Participants", "参演人数", "participants"),
    _c("note", T.TEXT, "评估意见", "Assessment", "评估意见", "备注", "note"),
    _DISTRICT,
)))
#: the waterlogging history of flood points (积水记录)
_add(Layer("flood_events", "积水记录", "Flood history", None, (
    _ID,
    _c("point_id", T.TEXT, "内涝点编号", "Flood point", "内涝点编号", "point_id", required=True),
    _c("date", T.DATE, "日期", "Date", "日期", "date", required=True),
    _c("depth_cm", T.INT, "积水深度(cm)", "Depth (cm)", "积水深度", "depth_cm"),
    _c("hours", T.REAL, "持续时长(小时)", "Duration (h)", "持续时长", "hours"),
    _DISTRICT,
)))
#: the duty roster (值班表): who is on duty when; no district = the city's own duty room
_add(Layer("duty_roster", "值班表", "Duty roster", None, (
    _ID,
    _c("date", T.DATE, "日期", "Date", "日期", "值班日期", "date", required=True),
    _c("role", T.TEXT, "岗位", "Role", "岗位", "role", required=True, allowed=tuple(DUTY_ROLES)),
    _c("name", T.TEXT, "姓名", "Name", "姓名", "name", required=True),
    _c("phone", T.TEXT, "电话", "Phone", "电话", "联系电话", "phone"),
    _c("start", T.TEXT, "开始时间", "From", "开始时间", "start"),
    _c("end", T.TEXT, "结束时间", "Until", "结束时间", "end"),
    _DISTRICT,
)))
#: weather warnings set by the duty officer (预警); the newest row is the one in force
_add(Layer("warnings", "预警", "Weather warnings", None, (
    _ID,
    _c("level", T.TEXT, "预警等级", "Level", "预警等级", "level", required=True, allowed=tuple(WARNING_LEVELS)),
    _c("kind", T.TEXT, "预警类型", "Kind", "预警类型", "kind", allowed=tuple(WARNING_KINDS)),
    _c("set_at", T.DATETIME, "发布时间", "Set at", "set_at", required=True),
    _c("set_by", T.TEXT, "发布人", "Set by", "set_by"),
    _c("note", T.TEXT, "说明", "Note", "note"),
), append_only=True))
#: an incident's first hour (突发事件): where, what, who opened it, what was shown, the outcome
_add(Layer("incidents", "突发事件", "Incidents", Geom.POINT, (
    _ID,
    _c("kind", T.TEXT, "事件类型", "Kind", "事件类型", "kind", required=True, allowed=tuple(INCIDENT_KINDS)),
    _c("target_layer", T.TEXT, "对象图层", "Target layer", "target_layer", allowed=OBJECT_LAYERS),
    _c("target_id", T.TEXT, "对象编号", "Target ID", "target_id"),
    _c("status", T.TEXT, "状态", "Status", "status", required=True, allowed=tuple(INCIDENT_STATUS)),
    _c("opened_at", T.DATETIME, "接报时间", "Opened at", "opened_at", required=True),
    _c("opened_by", T.TEXT, "接报人", "Opened by", "opened_by"),
    _c("shown", T.TEXT, "当时所见(JSON)", "What was shown (JSON)", "shown"),
    _c("closed_at", T.DATETIME, "结束时间", "Closed at", "closed_at"),
    _c("closed_by", T.TEXT, "结束人", "Closed by", "closed_by"),
    _c("outcome", T.TEXT, "处置结果", "Outcome", "outcome"),
    _c("version", T.INT, "版本", "Version", "version"),
    _DISTRICT,
), versioned=True))

_add(Layer("roads", "道路", "Roads", Geom.LINESTRING, (
    _ID,
    _c("name", T.TEXT, "名称", "Name", "名称", "道路名称", "name"),
    _c("road_class", T.TEXT, "道路等级", "Road class", "道路等级", "等级", "road_class", "class", required=True,
       allowed=tuple(ROAD_CLASSES)),
    _c("speed_kmh", T.REAL, "设计速度", "Speed (km/h)", "速度", "设计速度", "speed", "speed_kmh"),
    _c("oneway", T.BOOL, "单行", "One way", "单行", "oneway"),
)))

_add(Layer("water", "水系", "Water", Geom.GEOMETRY, (
    _ID,
    _c("name", T.TEXT, "名称", "Name", "名称", "name"),
    _c("kind", T.TEXT, "类型", "Kind", "类型", "kind"),
), style={"fill": "#1B3A5C", "line": "#2B5C8A"}))

# The hazard ledger (layers/ledger): enforcement orders, blacklist, departments' responsibility lists, files, audit.
_add(Layer("orders", "执法指令", "Enforcement orders", None, (
    _ID, _TARGET_LAYER, _TARGET_ID,
    _c("kind", T.TEXT, "指令类型", "Kind", "指令类型", "执法类型", "kind", required=True, allowed=tuple(ORDER_KINDS)),
    _c("doc_no", T.TEXT, "文书编号", "Document no.", "文书编号", "文书号", "doc_no", "文書編號", required=True),
    _c("date", T.DATE, "日期", "Date", "日期", "下达日期", "date", required=True),
    _c("reason", T.TEXT, "事由", "Reason", "事由", "原因", "reason"),
    _c("ground", T.TEXT, "关闭依据", "Ground", "关闭依据", "ground", allowed=tuple(CLOSE_GROUNDS)),
    _c("hazard_ids", T.TEXT, "涉及隐患", "Hazards", "涉及隐患", "隐患编号", "hazard_ids"),
    _c("check_id", T.TEXT, "验收检查", "Passed check", "验收检查", "检查记录编号", "check_id"),
    _c("department_id", T.TEXT, "执法部门", "Department", "执法部门", "department_id"),
    _c("issued_by", T.TEXT, "经办人", "Issued by", "经办人", "issued_by"),
)))
_add(Layer("blacklist", "黑名单", "Blacklist", None, (
    _ID, _TARGET_LAYER, _TARGET_ID,
    _c("reason", T.TEXT, "列入原因", "Reason", "列入原因", "原因", "reason", required=True),
    _c("basis", T.TEXT, "列入依据", "Basis", "列入依据", "依据类型", "basis", allowed=tuple(BLACKLIST_BASES)),
    _c("basis_id", T.TEXT, "依据编号", "Basis id", "依据编号", "basis_id"),
    _c("start_date", T.DATE, "列入日期", "From", "列入日期", "开始日期", "start_date", required=True),
    _c("end_date", T.DATE, "移出日期", "Until", "移出日期", "截止日期", "end_date"),
    _c("added_by", T.TEXT, "经办人", "Added by", "经办人", "added_by"),
    _c("removed", T.BOOL, "已移出", "Removed", "已移出", "removed"),
    _c("version", T.INT, "版本", "Version", "version"),
), versioned=True))
#: a department's responsibility list (权力责任清单): the object layers (and industries) it supervises
_add(Layer("department_duties", "权力责任清单", "Responsibility lists", None, (
    _ID,
    _c("department_id", T.TEXT, "监管部门", "Department", "监管部门", "部门编号", "department_id", required=True),
    _c("target_layer", T.TEXT, "对象图层", "Object layer", "对象类型", "target_layer", required=True,
       allowed=OBJECT_LAYERS),
    _c("industry", T.TEXT, "行业", "Industry", "行业", "industry", allowed=tuple(INDUSTRIES)),
    _c("duty", T.TEXT, "监管事项", "Duty", "监管事项", "职责", "duty"),
)))
#: photos and documents attached to a hazard, kept in the store itself (size-limited, type-checked)
_add(Layer("hazard_files", "隐患附件", "Hazard files", None, (
    _ID,
    _c("hazard_id", T.TEXT, "隐患编号", "Hazard", "hazard_id", required=True),
    _c("filename", T.TEXT, "文件名", "File name", "filename", required=True),
    _c("mime", T.TEXT, "类型", "Type", "mime", required=True),
    _c("size", T.INT, "大小(字节)", "Size (bytes)", "size"),
    _c("sha256", T.TEXT, "SHA-256", "SHA-256", "sha256"),
    _c("data", T.BLOB, "内容", "Content", "data"),
    _c("uploaded_by", T.TEXT, "上传人", "Uploaded by", "uploaded_by"),
    _c("uploaded_at", T.DATETIME, "上传时间", "Uploaded at", "uploaded_at"),
)))
#: every change to the ledger: who, when, what, old value, new value; written in the change's own transaction
_add(Layer("audit_log", "操作日志", "Audit log", None, (
    _ID,
    _c("at", T.DATETIME, "时间", "At", "at", required=True),
    _c("user_id", T.TEXT, "操作人", "User", "user_id"),
    _c("action", T.TEXT, "操作", "Action", "action", required=True),
    _c("layer", T.TEXT, "图层", "Layer", "layer", required=True),
    _c("record_id", T.TEXT, "记录编号", "Record", "record_id", required=True),
    _c("field", T.TEXT, "字段", "Field", "field"),
    _c("old_value", T.TEXT, "原值", "Old value", "old_value"),
    _c("new_value", T.TEXT, "新值", "New value", "new_value"),
    _c("note", T.TEXT, "说明", "Note", "note"),
), append_only=True))

# Planning (issue: inspection planning) -- saved plans and their stops.
_add(Layer("plans", "检查计划", "Inspection plans", None, (
    _ID,
    _c("name", T.TEXT, "计划名称", "Name", "name"),
    _c("plan_date", T.DATE, "计划日期", "Date", "plan_date", required=True),
    _c("version", T.INT, "版本", "Version", "version"),
    _c("created_by", T.TEXT, "制定人", "Created by", "created_by"),
    _c("created_at", T.DATETIME, "制定时间", "Created at", "created_at"),
    _c("params", T.TEXT, "参数(JSON)", "Parameters (JSON)", "params"),
)))
_add(Layer("plan_stops", "计划站点", "Plan stops", None, (
    _ID,
    _c("plan_id", T.TEXT, "计划编号", "Plan", "plan_id", required=True),
    _c("team_id", T.TEXT, "检查组", "Team", "team_id"),
    _c("seq", T.INT, "顺序", "Order", "seq"),
    _TARGET_LAYER, _TARGET_ID,
    _c("arrival", T.TEXT, "到达时间", "Arrival", "arrival"),
    _c("departure", T.TEXT, "离开时间", "Departure", "departure"),
    _c("locked", T.BOOL, "锁定", "Locked", "locked"),
    _c("status", T.TEXT, "状态", "Status", "status"),
    _c("unassigned_reason", T.TEXT, "未分配原因", "Unassigned reason", "unassigned_reason"),
)))

#: Roles (see ``layers.access.policy``): admin, command centre, planner, district and town leaders, wall kiosk.
ROLES: dict[str, dict] = {
    "admin": {"zh": "系统管理员", "en": "Administrator"},
    "command": {"zh": "指挥中心", "en": "Command centre"},
    "planner": {"zh": "执法计划员", "en": "Planner"},
    "district": {"zh": "区县领导", "en": "District leader"},
    "town": {"zh": "镇街领导", "en": "Town leader"},
    "wall": {"zh": "大屏", "en": "Wall display"},
}

_add(Layer("users", "用户", "Users", None, (
    _c("id", T.TEXT, "用户名", "Username", "id", required=True, unique=True),
    _c("password_hash", T.TEXT, "密码散列", "Password hash", "password_hash", required=True),
    _c("role", T.TEXT, "角色", "Role", "role", required=True, allowed=tuple(ROLES) + ("city",)),
    _c("district_code", T.TEXT, "区县代码", "District code", "district_code"),
    _c("town_code", T.TEXT, "镇街代码", "Town code", "town_code"),
    _c("display_name", T.TEXT, "姓名", "Display name", "display_name"),
    _c("disabled", T.BOOL, "已停用", "Disabled", "disabled"),
    _c("demo", T.BOOL, "演示账号", "Demo account", "demo"),
    _c("changed_at", T.DATETIME, "修改时间", "Changed at", "changed_at"),
), counts_as_data=False))

#: Server-side sessions: the cookie carries only a random token; the row is keyed by its SHA-256.
_add(Layer("sessions", "会话", "Sessions", None, (
    _c("id", T.TEXT, "令牌散列", "Token hash", "id", required=True, unique=True),
    _c("user_id", T.TEXT, "用户名", "Username", "user_id", required=True),
    _c("created_at", T.DATETIME, "创建时间", "Created at", "created_at"),
    _c("expires_at", T.DATETIME, "过期时间", "Expires at", "expires_at"),
), counts_as_data=False))

#: Wall kiosk tokens: a long random token in the URL opens /wall (city-wide or one district) and nothing else.
_add(Layer("wall_tokens", "大屏令牌", "Wall tokens", None, (
    _c("id", T.TEXT, "令牌散列", "Token hash", "id", required=True, unique=True),
    _c("label", T.TEXT, "名称", "Label", "label"),
    _c("district_code", T.TEXT, "区县代码", "District code", "district_code"),
    _c("created_at", T.DATETIME, "创建时间", "Created at", "created_at"),
    _c("revoked", T.BOOL, "已撤销", "Revoked", "revoked"),
), counts_as_data=False))


def layer(name: str) -> Layer:
    """The schema of layer ``name``; a clear error when there is no such layer."""
    try:
        return LAYERS[name]
    except KeyError:
        known = ", ".join(LAYERS)
        raise KeyError(f"没有图层 {name!r}，可选：{known} (no layer {name!r}; known layers: {known})") from None


def label(mapping: dict[str, dict], key: str, lang: str) -> str:
    """zh/en label of an allowed value (``lang`` is ``"zh"`` or ``"en"``); the key itself when unknown."""
    entry = mapping.get(key)
    if entry is None:
        return str(key)
    return entry["en"] if lang == "en" else entry["zh"]
