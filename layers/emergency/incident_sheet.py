"""The incident sheet (突发事件处置单): one page per recorded incident, from what the record holds (what was shown
when it was opened, who opened and closed it, the outcome), so it reads the same when reviewed afterwards.

:func:`incident_sheet` gathers it (authorized on the incident's district, read from the store) as labelled rows;
the dashboard prints it as HTML, :func:`incident_sheet_xlsx` writes it as a workbook, formula-safe
(:func:`layers.export.write_xlsx`: every text is a string cell, so ``=HYPERLINK(...)`` in a name stays text).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from layers.access import Access, Principal
from layers.emergency.incident import incident_record
from layers.export import write_xlsx
from layers.schema import (
    DRILL_KINDS,
    GRADES,
    HAZARD_LEVELS,
    HAZARD_STATUS,
    INCIDENT_KINDS,
    INCIDENT_STATUS,
    LAYERS,
    PRESSURE_CLASSES,
    RESOURCE_KINDS,
    VENUE_KINDS,
    label,
)
from layers.store import Store

__all__ = ["IncidentSheet", "incident_sheet", "incident_sheet_xlsx", "SECTIONS"]

#: section key -> (zh, en) heading
SECTIONS = {
    "summary": ("事件概况", "Incident"),
    "resources": ("最近的救援力量（道路行车时间）", "Nearest resources (road travel time)"),
    "hazchem": ("周边危化企业", "Hazchem enterprises nearby"),
    "pipelines": ("周边燃气管线", "Gas pipelines nearby"),
    "venues": ("需通知/疏散的人员密集场所和学校", "Crowded venues and schools to warn or evacuate"),
    "object": ("对象预案、演练与隐患", "The object's plan, drill and hazards"),
    "supervision": ("监管部门和包保责任人", "Supervising departments and officers"),
}
_COLS = {
    "kind": ("资源类型", "Kind"), "rank": ("序", "#"), "id": ("编号", "ID"), "name": ("名称", "Name"),
    "phone": ("值班电话", "Duty phone"), "minutes": ("行车时间(分钟)", "Travel (min)"),
    "distance_m": ("直线距离(米)", "Straight distance (m)"), "grade": ("风险等级", "Grade"),
    "pressure": ("压力级制", "Pressure"), "material": ("管材", "Material"), "diameter_mm": ("管径(mm)", "Diameter (mm)"),
    "capacity": ("容纳人数", "Capacity"), "venue_kind": ("场所类型", "Kind"), "level": ("级别", "Level"),
    "type": ("类型", "Type"), "description": ("描述", "Description"), "status": ("状态", "Status"),
    "deadline": ("整改期限", "Deadline"), "overdue": ("逾期", "Overdue"), "department": ("部门", "Department"),
    "lead": ("牵头", "Lead"), "officer": ("包保责任人", "Officer"), "officer_phone": ("责任人电话", "Officer's phone"),
    "department_phone": ("部门值班电话", "Department duty phone"), "field": ("项目", "Field"), "value": ("内容", "Value"),
}
_FIELDS = {
    "id": ("事件编号", "Incident"), "kind": ("事件类型", "Kind"), "status": ("状态", "Status"),
    "place": ("事发地点", "Place"), "target": ("事发对象", "Object"), "district": ("所在区县", "District"),
    "opened_at": ("接报时间(UTC)", "Opened (UTC)"), "opened_by": ("接报人", "Opened by"),
    "closed_at": ("结束时间(UTC)", "Closed (UTC)"), "closed_by": ("结束人", "Closed by"),
    "outcome": ("处置结果", "Outcome"), "missing": ("无可用力量的类型", "Kinds with no ready resource"),
    "method": ("时间算法", "Travel times"), "contact": ("单位安全负责人", "Safety contact on site"),
    "plan": ("应急预案", "Contingency plan"), "drill": ("最近一次演练", "Last drill"),
    "radius": ("危化/管线半径(米)", "Hazchem/pipeline radius (m)"), "warn": ("通知半径(米)", "Warning radius (m)"),
}
_YES, _NO, _NONE = ("是", "yes"), ("否", "no"), ("无", "none")


def _t(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


@dataclass
class IncidentSheet:
    """The sheet's parts, labelled in ``lang``: ``summary`` (field, value) and one table per section."""

    id: str
    lang: str
    title: str
    summary: list[tuple[str, str]]
    tables: dict[str, pd.DataFrame]


def _table(rows: list[dict], cols: list[str], lang: str, maps: dict | None = None) -> pd.DataFrame:
    maps = maps or {}
    out = []
    for r in rows:
        rec = {}
        for c in cols:
            src = "kind" if c == "venue_kind" else c
            v = r.get(src)
            if c in maps and isinstance(v, str):
                v = label(maps[c], v, lang)
            elif isinstance(v, bool):
                v = _t(_YES if v else _NO, lang)
            elif c == "minutes" and isinstance(v, int | float):
                v = round(float(v), 1)
            elif c == "distance_m" and isinstance(v, int | float):
                v = int(round(float(v)))
            rec[_t(_COLS[c], lang)] = v
        out.append(rec)
    return pd.DataFrame(out, columns=[_t(_COLS[c], lang) for c in cols])


def incident_sheet(store: Store, who: Principal | Access | None, incident_id: object, *,
                   lang: str = "zh") -> IncidentSheet:
    """The sheet of one recorded incident in the reader's area (:func:`incident_record` authorizes)."""
    lang = "en" if lang == "en" else "zh"
    row = incident_record(store, who, incident_id)
    shown = row["shown_data"] or {}
    place = shown.get("place") or {}

    def text(v: object) -> str:
        return "—" if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v) else str(v)

    target = place.get("target")
    where = f"{place.get('lon', 0):.5f}, {place.get('lat', 0):.5f}" if place.get("lon") is not None else "—"
    tlabel = "—"
    if target:
        layer = str(target).split(":", 1)[0]
        lname = _t((LAYERS[layer].zh, LAYERS[layer].en), lang) if layer in LAYERS else layer
        tlabel = f"{place.get('name') or ''} ({lname} {target.split(':', 1)[1]})"
    plan, drill = shown.get("plan"), shown.get("drill")
    plan_txt = _t(_NONE, lang) if not plan else \
        f"{plan.get('title') or plan.get('id')} · {plan.get('plan_version') or ''} · {plan.get('filed_date') or ''}"
    drill_txt = _t(_NONE, lang) if not drill else \
        f"{drill.get('date')} · {label(DRILL_KINDS, drill.get('kind'), lang) if drill.get('kind') else ''}" + \
        (f" · {drill['days_ago']} {_t(('天前', 'days ago'), lang)}" if drill.get("days_ago") is not None else "")
    kinds = ", ".join(label(RESOURCE_KINDS, k, lang) for k in shown.get("missing") or []) or _t(_NONE, lang)
    method = _t(("道路（最近点接入，含步行段）", "by road (nearest point on a road, off-road leg included)"), lang) \
        if place.get("method") == "road" else _t(("直线估算", "straight-line estimate"), lang)
    summary = [
        (_t(_FIELDS["id"], lang), str(row["id"])),
        (_t(_FIELDS["kind"], lang), label(INCIDENT_KINDS, row.get("kind"), lang)),
        (_t(_FIELDS["status"], lang), label(INCIDENT_STATUS, row.get("status"), lang)),
        (_t(_FIELDS["place"], lang), where),
        (_t(_FIELDS["target"], lang), tlabel),
        (_t(_FIELDS["district"], lang), text(row.get("district_code"))),
        (_t(_FIELDS["opened_at"], lang), text(row.get("opened_at"))),
        (_t(_FIELDS["opened_by"], lang), text(row.get("opened_by"))),
        (_t(_FIELDS["closed_at"], lang), text(row.get("closed_at"))),
        (_t(_FIELDS["closed_by"], lang), text(row.get("closed_by"))),
        (_t(_FIELDS["outcome"], lang), text(row.get("outcome"))),
        (_t(_FIELDS["method"], lang), method),
        (_t(_FIELDS["missing"], lang), kinds),
        (_t(_FIELDS["radius"], lang), text(shown.get("radius_m"))),
        (_t(_FIELDS["warn"], lang), text(shown.get("warn_radius_m"))),
        (_t(_FIELDS["plan"], lang), plan_txt),
        (_t(_FIELDS["drill"], lang), drill_txt),
        (_t(_FIELDS["contact"], lang), " ".join(str(c) for c in (shown.get("contact"), shown.get("contact_phone"))
                                                 if c) or text(None)),
    ]
    hz_levels = {**HAZARD_LEVELS}
    tables = {
        "resources": _table(shown.get("resources") or [], ["kind", "rank", "name", "phone", "minutes", "distance_m"],
                            lang, {"kind": RESOURCE_KINDS}),
        "hazchem": _table(shown.get("hazchem") or [], ["name", "grade", "distance_m"], lang, {"grade": GRADES}),
        "pipelines": _table(shown.get("pipelines") or [], ["id", "pressure", "material", "diameter_mm",
                                                           "distance_m"], lang, {"pressure": PRESSURE_CLASSES}),
        "venues": _table(shown.get("venues") or [], ["name", "venue_kind", "capacity", "distance_m"], lang,
                         {"venue_kind": VENUE_KINDS}),
        "object": _table(shown.get("hazards") or [], ["level", "type", "description", "status", "deadline",
                                                      "overdue"], lang,
                         {"level": hz_levels, "status": HAZARD_STATUS}),
        "supervision": _table([{**r, "department": (r.get("department_en") or r.get("department"))
                                if lang == "en" else r.get("department")} for r in shown.get("supervision") or []],
                              ["department", "department_phone", "lead", "officer", "officer_phone"], lang),
    }
    title = _t(("突发事件处置单", "Incident sheet"), lang) + f" · {row['id']}"
    return IncidentSheet(id=str(row["id"]), lang=lang, title=title, summary=summary, tables=tables)


def incident_sheet_xlsx(sheet: IncidentSheet) -> bytes:
    """The sheet as an XLSX workbook: the summary and one worksheet per section (formula-safe)."""
    lang = sheet.lang
    sheets = {_t(SECTIONS["summary"], lang)[:31]: pd.DataFrame(sheet.summary, columns=[_t(_COLS["field"], lang),
                                                                                      _t(_COLS["value"], lang)])}
    names = {"resources": ("救援力量", "Resources"), "hazchem": ("危化企业", "Hazchem"), "pipelines": ("燃气管线", "Pipelines"),
             "venues": ("人员密集场所", "Venues"), "object": ("隐患", "Hazards"), "supervision": ("监管责任", "Supervision")}
    for key, frame in sheet.tables.items():
        sheets[_t(names[key], lang)] = frame
    with tempfile.TemporaryDirectory() as tmp:
        return write_xlsx(sheets, Path(tmp) / "incident.xlsx").read_bytes()
