"""Route sheets (检查路线单) and plan exports, safe against formula injection (through ``layers.export``).

- one team's route sheet as XLSX: ordered stops with times, addresses, what to check and a signature column;
- the whole plan as CSV (stops and unassigned candidates with reasons).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from layers.export import write_csv, write_xlsx
from layers.planning.routes import REASONS, SOURCES, Plan
from layers.schema import GAS_STATION_KINDS, GRADES, INDUSTRIES, LAYERS, SKILLS, VENUE_KINDS, label

#: what an inspector checks, by skill (shown on the route sheet)
CHECKS: dict[str, dict[str, str]] = {
    "hazchem": {"zh": "重大危险源监控、储存与装卸、特殊作业审批、应急预案与演练",
                "en": "major hazard monitoring, storage and loading, permits for special work, emergency plan"},
    "gas": {"zh": "调压与切断装置、泄漏报警、管线标识与巡检记录、第三方施工防护",
            "en": "regulators and shut-off valves, leak alarms, pipe markers and patrol log, third-party works"},
    "fire": {"zh": "疏散通道与安全出口、消防设施与报警、电气线路、人员密度与值守",
             "en": "escape routes and exits, fire equipment and alarms, wiring, crowding and staff on duty"},
    "construction": {"zh": "深基坑与高支模、起重机械、临边防护、特种作业持证",
                     "en": "deep pits and high formwork, cranes, edge protection, licensed special workers"},
    "mining": {"zh": "通风与瓦斯监测、顶板支护、提升运输、尾矿库",
               "en": "ventilation and gas monitoring, roof support, hoisting, tailings dam"},
    "industry_trade": {"zh": "粉尘防爆、有限空间作业、涉氨制冷、金属熔融",
                       "en": "dust explosion, confined spaces, ammonia refrigeration, molten metal"},
    "transport": {"zh": "车辆动态监控、驾驶员资质与休息、危货运输证件",
                  "en": "vehicle tracking, driver licences and rest, dangerous-goods papers"},
    "structures": {"zh": "技术状况与病害、限载标志、排水与照明、监测数据",
                   "en": "condition and defects, load-limit signs, drainage and lighting, monitoring data"},
}

_HEAD = {
    "seq": ("顺序", "No."), "day": ("日期", "Date"), "arrival": ("到达", "Arrive"), "start": ("开始检查", "Start"),
    "departure": ("离开", "Leave"), "layer": ("对象类型", "Object type"), "name": ("名称", "Name"),
    "address": ("地址", "Address"), "kind": ("类别", "Kind"), "grade": ("风险等级", "Grade"),
    "check": ("检查要点", "What to check"), "priority": ("优先级", "Priority"), "source": ("来源", "Source"),
    "locked": ("锁定", "Locked"), "status": ("状态", "Status"), "result": ("检查结果", "Result"),
    "signature": ("签字", "Signature"), "team": ("检查组", "Team"), "target_id": ("对象编号", "Object ID"),
    "reason": ("未分配原因", "Why unassigned"), "lon": ("经度", "Longitude"), "lat": ("纬度", "Latitude"),
}


def _h(key: str, lang: str) -> str:
    zh, en = _HEAD[key]
    return en if lang == "en" else zh


#: status of a planned stop
STATUS: dict[str, dict[str, str]] = {
    "planned": {"zh": "待检查", "en": "Planned"},
    "done": {"zh": "已完成", "en": "Done"},
    "unassigned": {"zh": "未分配", "en": "Unassigned"},
}


def layer_label(layer: str, lang: str) -> str:
    lay = LAYERS.get(layer)
    return layer if lay is None else (lay.en if lang == "en" else lay.zh)


def kind_label(layer: str, kind: object, lang: str) -> str:
    if layer == "enterprises":
        return label(INDUSTRIES, str(kind), lang)
    if layer == "venues":
        return label(VENUE_KINDS, str(kind), lang)
    if layer == "gas_stations" and isinstance(kind, str) and kind in GAS_STATION_KINDS:
        return label(GAS_STATION_KINDS, kind, lang)
    return layer_label(layer, lang)


def check_text(skill: object, lang: str) -> str:
    entry = CHECKS.get(str(skill))
    if entry is None:
        return ""
    return entry["en" if lang == "en" else "zh"]


def _text(v: object) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return ""
    return str(v)


def route_sheet(plan: Plan, team_id: str, *, lang: str = "zh") -> pd.DataFrame:
    """One team's ordered stops as a table for printing or XLSX (headers in ``lang``)."""
    s = plan.stops[plan.stops["team_id"] == team_id].sort_values(["day", "seq"])
    rows = []
    for r in s.itertuples(index=False):
        rows.append({
            _h("seq", lang): int(r.seq), _h("day", lang): str(r.day),
            _h("arrival", lang): pd.Timestamp(r.arrival).strftime("%H:%M"),
            _h("start", lang): pd.Timestamp(r.start).strftime("%H:%M") if pd.notna(r.start) else "",
            _h("departure", lang): pd.Timestamp(r.departure).strftime("%H:%M"),
            _h("target_id", lang): r.target_id,
            _h("name", lang): _text(r.name), _h("address", lang): _text(r.address),
            _h("kind", lang): kind_label(r.target_layer, r.kind, lang),
            _h("grade", lang): label(GRADES, _text(r.grade), lang),
            _h("check", lang): check_text(r.skill, lang),
            _h("result", lang): "", _h("signature", lang): "",
        })
    return pd.DataFrame(rows, columns=[_h(k, lang) for k in (
        "seq", "day", "arrival", "start", "departure", "target_id", "name", "address", "kind", "grade", "check",
        "result", "signature")])


def team_name(plan: Plan, team_id: str) -> str:
    for t in plan.teams:
        if t.id == team_id:
            return t.name
    return team_id


#: how travel times were computed (``plan.summary["travel_mode"]``), in words (zh, en)
TRAVEL_MODES = {"roads": ("按道路网最短路径计算", "road network shortest paths"),
                "straight": ("按直线距离 × 绕行系数估算", "straight line x detour factor")}


def travel_mode_text(mode: str | None, lang: str = "zh") -> str:
    """The words for a travel mode (an unknown one as it is, none as empty)."""
    if mode in TRAVEL_MODES:
        return TRAVEL_MODES[mode][1 if lang == "en" else 0]
    return "" if mode is None else str(mode)


def write_route_sheet_xlsx(plan: Plan, team_id: str, path: str | Path, *, lang: str = "zh") -> Path:
    """One team's route sheet as an XLSX workbook (a sheet of stops and a sheet of plan facts)."""
    info = pd.DataFrame({
        ("项目" if lang != "en" else "Item"): [
            "计划" if lang != "en" else "Plan", _h("team", lang), _h("day", lang),
            "行程时间" if lang != "en" else "Travel times"],
        ("内容" if lang != "en" else "Value"): [
            f"{plan.name or ''} {plan.id or ''}".strip(), f"{team_id} {team_name(plan, team_id)}",
            ", ".join(plan.params.get("dates", [])), travel_mode_text(plan.summary.get("travel_mode"), lang)],
    })
    sheet = route_sheet(plan, team_id, lang=lang)
    return write_xlsx({"路线单" if lang != "en" else "Route": sheet,
                       "说明" if lang != "en" else "About": info}, path)


def plan_table(plan: Plan, *, lang: str = "zh") -> pd.DataFrame:
    """The whole plan as one table: every stop in order, then every unassigned candidate with its reason."""
    rows = []
    for r in plan.stops.sort_values(["team_id", "day", "seq"]).itertuples(index=False):
        rows.append({
            _h("team", lang): r.team_id, _h("day", lang): str(r.day), _h("seq", lang): int(r.seq),
            _h("arrival", lang): pd.Timestamp(r.arrival).strftime("%H:%M"),
            _h("departure", lang): pd.Timestamp(r.departure).strftime("%H:%M"),
            _h("layer", lang): layer_label(r.target_layer, lang), _h("target_id", lang): r.target_id,
            _h("name", lang): _text(r.name), _h("address", lang): _text(r.address),
            _h("kind", lang): kind_label(r.target_layer, r.kind, lang),
            _h("grade", lang): label(GRADES, _text(r.grade), lang),
            _h("priority", lang): round(float(r.priority), 1) if pd.notna(r.priority) else None,
            _h("source", lang): label(SOURCES, _text(r.source), lang),
            _h("locked", lang): bool(r.locked), _h("status", lang): label(STATUS, _text(r.status), lang),
            _h("reason", lang): "",
            _h("lon", lang): round(float(r.lon), 6), _h("lat", lang): round(float(r.lat), 6),
        })
    for r in plan.unassigned.itertuples(index=False):
        rows.append({
            _h("team", lang): "", _h("day", lang): "", _h("seq", lang): None, _h("arrival", lang): "",
            _h("departure", lang): "", _h("layer", lang): layer_label(r.target_layer, lang),
            _h("target_id", lang): r.target_id,
            _h("name", lang): _text(r.name), _h("address", lang): _text(r.address),
            _h("kind", lang): kind_label(r.target_layer, r.kind, lang),
            _h("grade", lang): label(GRADES, _text(r.grade), lang),
            _h("priority", lang): round(float(r.priority), 1) if pd.notna(r.priority) else None,
            _h("source", lang): label(SOURCES, _text(r.source), lang), _h("locked", lang): False,
            _h("status", lang): label(STATUS, "unassigned", lang),
            _h("reason", lang): label(REASONS, _text(r.reason), lang),
            _h("lon", lang): round(float(r.lon), 6) if pd.notna(r.lon) else None,
            _h("lat", lang): round(float(r.lat), 6) if pd.notna(r.lat) else None,
        })
    out = pd.DataFrame(rows)
    if len(out):
        out[_h("seq", lang)] = out[_h("seq", lang)].astype("Int64")
    return out


def write_plan_csv(plan: Plan, path: str | Path, *, lang: str = "zh") -> Path:
    """The whole plan as CSV (UTF-8 with BOM, formula-like text neutralised)."""
    return write_csv(plan_table(plan, lang=lang), path)


def write_plan_xlsx(plan: Plan, path: str | Path, *, lang: str = "zh") -> Path:
    """The whole plan as XLSX: one sheet for all stops, one per team (its route sheet)."""
    sheets = {"计划" if lang != "en" else "Plan": plan_table(plan, lang=lang)}
    for t in plan.teams:
        sheets[f"{t.id}"[:31]] = route_sheet(plan, t.id, lang=lang)
    return write_xlsx(sheets, path)


def skills_label(skills, lang: str) -> str:
    return "、".join(label(SKILLS, s, lang) for s in skills) if lang != "en" else ", ".join(
        label(SKILLS, s, lang) for s in skills)
