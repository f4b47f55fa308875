"""Every string of the readiness page (``/readiness``, 应急准备) in zh and en, and the export's column headers."""

from __future__ import annotations

from dashboard.i18n import register
from layers.schema import READINESS_CLASSES

register({
    "nav.readiness": ("应急准备", "Readiness"),
    "rd.heading": ("应急准备：到达、预案演练、防汛物资", "Emergency readiness: reach, plans and drills, flood supplies"),
    "rd.as_of": ("统计日期", "As of"),
    "rd.after_data": ("统计日期晚于数据日期 {d}：此后的演练与备案尚未录入，结果按已有记录计算",
                      "the date is after the data's date {d}: later drills and plans are not in yet, the result "
                      "counts the records there are"),
    "rd.districts": ("区县", "Districts"),
    "rd.all_districts": ("全部可见区县", "All districts you may see"),
    "rd.export": ("导出 Excel", "Export to Excel"),
    "rd.suggest": ("建议新增", "Suggest"),
    "rd.suggest.k": ("处", "more"),
    "rd.suggest.kind": ("资源类型", "Kind of resource"),
    "rd.greedy": ("贪心（快）", "Greedy (fast)"),
    "rd.exact": ("精确（MCLP）", "Exact (MCLP)"),
    # summary cards
    "rd.card.objects": ("应急对象", "Objects"),
    "rd.card.reach": ("到达缺口", "Reach gaps"),
    "rd.card.reach_objects": ("涉及 {n} 个对象", "at {n} objects"),
    "rd.card.plan": ("预案缺口", "Plan gaps"),
    "rd.card.drill": ("演练缺口", "Drill gaps"),
    "rd.card.drill_detail": ("从未演练 {never} · 逾期 {over}", "never {never} · overdue {over}"),
    "rd.card.supply": ("防汛物资不足", "Supply shortfalls"),
    "rd.card.supply_detail": ("涉及 {n} 个内涝点", "at {n} flood points"),
    "rd.card.ready": ("准备就绪", "Ready"),
    "rd.card.ready_detail": ("{n} 个对象无任何缺口", "{n} objects with no gap"),
    # notes
    "rd.reach_road": ("到达时间按道路计算", "Travel time over the road network"),
    "rd.reach_straight": ("到达时间按直线距离×绕行系数估算", "Travel time estimated: straight line x detour factor"),
    "rd.shown": ("显示前 {n} 条，共 {total} 条；完整清单请导出", "Showing the first {n} of {total}; export for all"),
    "rd.town_view": ("镇街视图：区县物资统计不显示", "Town view: the district stock is not shown"),
    # suggestions: why fewer than asked
    "rd.fewer": ("要求 {k} 处{kind}，建议 {n} 处：{why}", "{k} {kind} asked, {n} suggested: {why}"),
    "rd.fewer.none": ("区域内没有{kind}的到达缺口，无需新增", "no reach gap for a {kind} in the area: none is needed"),
    "rd.fewer.all": ("已使区域内全部{kind}到达缺口进入时限，无需更多",
                     "they bring every {kind} reach gap in the area within its target: no more are needed"),
    "rd.fewer.stuck": ("其余候选位置都不能再使更多到达缺口进入时限",
                       "no other candidate place brings more reach gaps within their target"),
    "rd.fewer.outside": ("{m} 处建议位置在所选区域外，未列出", "{m} suggested place(s) outside the selected area left out"),
    # map
    "rd.map.gap.out_of_reach": ("到达超时", "Out of reach"),
    "rd.map.gap.no_plan": ("未备案预案", "No plan"),
    "rd.map.gap.drill": ("演练逾期或从未演练", "Drill overdue or never held"),
    "rd.map.gap.supply_short": ("防汛物资不足", "Supplies short"),
    "rd.map.suggested": ("建议新增", "Suggested"),
    "rd.map.out_of_service": ("停用维修", "out of service"),
    # tabs
    "rd.tab.district": ("分区县", "By district"),
    "rd.tab.town": ("分镇街", "By town"),
    "rd.tab.reach": ("到达缺口", "Reach gaps"),
    "rd.tab.plan": ("预案与演练缺口", "Plans and drills"),
    "rd.tab.supply": ("内涝点物资不足", "Flood-point supplies short"),
    "rd.tab.stock": ("区县物资与需求", "District stock vs need"),
    "rd.tab.suggest": ("建议新增位置", "Suggested places"),
    # table columns
    "rd.col.code": ("代码", "Code"),
    "rd.col.name": ("名称", "Name"),
    "rd.col.object": ("对象", "Object"),
    "rd.col.class": ("类别", "Class"),
    "rd.col.district": ("区县", "District"),
    "rd.col.town": ("镇街", "Town"),
    "rd.col.kind_needed": ("所需资源", "Kind needed"),
    "rd.col.nearest": ("最近资源", "Nearest resource"),
    "rd.col.minutes": ("到达（分钟）", "Travel (min)"),
    "rd.col.target": ("时限（分钟）", "Target (min)"),
    "rd.col.reason": ("原因", "Reason"),
    "rd.col.gap": ("缺口", "Gap"),
    "rd.col.last_drill": ("上次演练", "Last drill"),
    "rd.col.overdue": ("逾期天数", "Days overdue"),
    "rd.col.point": ("内涝点", "Flood point"),
    "rd.col.severity": ("风险程度", "Severity"),
    "rd.col.kind": ("物资", "Supply"),
    "rd.col.need": ("需要", "Need"),
    "rd.col.have": ("可达", "Have"),
    "rd.col.short": ("缺少", "Short"),
    "rd.col.points": ("内涝点数", "Flood points"),
    "rd.col.stock": ("区内在岗", "Stock ready"),
    "rd.col.oos": ("停用维修", "Out of service"),
    "rd.col.objects": ("对象", "Objects"),
    "rd.col.reach_gaps": ("到达缺口", "Reach gaps"),
    "rd.col.objects_reach_gap": ("到达缺口对象", "Objects out of reach"),
    "rd.col.plan_gaps": ("预案缺口", "Plan gaps"),
    "rd.col.drill_gaps": ("演练缺口", "Drill gaps"),
    "rd.col.supply_short": ("物资不足", "Supplies short"),
    "rd.col.share_ready": ("就绪比例", "Share ready"),
    "rd.col.district_plan": ("区县预案备案", "District plan filed"),
    "rd.col.district_drill": ("区县上次演练", "District last drill"),
    "rd.col.rank": ("序号", "Rank"),
    "rd.col.road": ("最近道路", "Nearest road"),
    "rd.col.lon": ("经度", "Longitude"),
    "rd.col.lat": ("纬度", "Latitude"),
    "rd.col.closed": ("可消除缺口", "Gaps closed"),
    "rd.col.cum_share": ("累计占缺口", "Cumulative share of the gaps"),
    "rd.none": ("无", "None"),
    "rd.no_road": ("附近无有名称的道路", "no named road near"),
    "rd.outside": ("（区外）", "(outside)"),
    # export: sheet of the suggestions
    "rd.sheet.suggested": ("建议新增位置", "suggested_places"),
})

#: the export's column headers (every column of ``ReadinessResult.sheets`` and of the suggestions sheet)
EXPORT_COLUMNS: dict[str, tuple[str, str]] = {
    "key": ("对象键", "Object key"), "layer": ("图层", "Layer"), "id": ("编号", "ID"), "class": ("类别", "Class"),
    "classes": ("所属类别", "Classes"), "kind": ("类型", "Kind"), "name": ("名称", "Name"),
    "name_en": ("英文名称", "Name (English)"), "district_code": ("区县代码", "District code"),
    "town_code": ("镇街代码", "Town code"), "lon": ("经度", "Longitude"), "lat": ("纬度", "Latitude"),
    "target_min": ("时限（分钟）", "Target (min)"), "travel_min": ("到达（分钟）", "Travel (min)"),
    "over_min": ("超时（分钟）", "Over target (min)"), "nearest_id": ("最近资源编号", "Nearest resource ID"),
    "nearest_name": ("最近资源", "Nearest resource"), "nearest_min": ("最近资源到达（分钟）", "Nearest (min)"),
    "off_road_m": ("离路距离（米）", "Off road (m)"), "in_reach": ("是否在时限内", "In reach"),
    "reason_zh": ("原因", "Reason (Chinese)"), "reason_en": ("原因（英文）", "Reason"),
    "kind_zh": ("缺口类型", "Gap kind (Chinese)"), "kind_en": ("缺口类型（英文）", "Gap kind"),
    "drills_per_year": ("每年应演练次数", "Drills a year"), "interval_days": ("演练间隔（天）", "Interval (days)"),
    "plan_id": ("预案编号", "Plan ID"), "plan_title": ("预案名称", "Plan title"),
    "plan_version": ("预案版本", "Plan version"), "plan_filed": ("预案备案日期", "Plan filed"),
    "plan_age_days": ("预案已备案天数", "Plan age (days)"), "last_drill": ("上次演练", "Last drill"),
    "days_since_drill": ("距上次演练（天）", "Days since drill"),
    "drills_last_365_days": ("近 365 天演练次数", "Drills in the last 365 days"),
    "days_overdue": ("逾期天数", "Days overdue"), "has_plan": ("已备案预案", "Plan on file"),
    "drill_status": ("演练状态", "Drill status"), "severity": ("风险程度", "Severity"), "need": ("需要", "Need"),
    "within": ("时限内可达", "Within reach"), "resources_within": ("时限内资源数", "Resources within reach"),
    "short": ("缺少", "Short"), "flood_points": ("内涝点数", "Flood points"), "stock": ("区内在岗", "Stock ready"),
    "out_of_service": ("停用维修", "Out of service"), "objects": ("对象数", "Objects"),
    "reach_gaps": ("到达缺口", "Reach gaps"), "objects_reach_gap": ("到达缺口对象", "Objects out of reach"),
    "plan_gaps": ("预案缺口", "Plan gaps"), "drill_gaps": ("演练缺口", "Drill gaps"),
    "never_drilled": ("从未演练", "Never drilled"), "drills_overdue": ("演练逾期", "Drills overdue"),
    "supply_short": ("物资不足", "Supplies short"), "flood_points_short": ("物资不足内涝点", "Flood points short"),
    "objects_ready": ("就绪对象", "Objects ready"), "share_ready": ("就绪比例", "Share ready"),
    "district_plan_filed": ("区县预案备案", "District plan filed"),
    "district_last_drill": ("区县上次演练", "District last drill"), "wkt": ("几何（WKT）", "Geometry (WKT)"),
    **{f"n_{c}": (w["zh"], w["en"]) for c, w in READINESS_CLASSES.items()},
    # the suggestions sheet as shown on the page
    "rank": ("序号", "Rank"), "district": ("区县", "District"), "town": ("镇街", "Town"),
    "road": ("最近道路", "Nearest road"), "closed": ("可消除缺口", "Gaps closed"),
    "cum_share": ("累计占缺口", "Cumulative share of the gaps"), "reason": ("原因", "Reason"),
    "method": ("方法", "Method"),
}


def header(column: str, lang: str) -> str:
    """The export header of ``column`` in ``lang`` (the column's own name when it has none)."""
    zh, en = EXPORT_COLUMNS.get(column, (column, column))
    return en if lang == "en" else zh


__all__ = ["EXPORT_COLUMNS", "header"]
