"""The district briefing (专报): for a district (or the city, or a town leader's town) and a period, what was
found, closed and is overdue, the major hazards and their state, listed supervision, repeat offenders, orders,
inspection coverage, the top lists, and charts; as data (:class:`Briefing`) and as XLSX (:func:`briefing_xlsx`).

Counting: *found* = found_date in [start, end]; *closed* = closed_date in [start, end]; *closed in time* = of
those, closed on or before the deadline; *open* and *overdue* are the state as of ``as_of`` (overdue: not closed
and past the deadline); *major hazards* = major hazards found in the period or still open as of ``as_of``;
*orders* = orders dated in the period. Every row belongs to the district and town of its target object.
Charts are plain plotly figures (no map styles, fonts or scripts from anywhere: they draw offline).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from layers.access.policy import Access, object_places
from layers.errors import AccessDenied
from layers.export import write_xlsx
from layers.ledger.accountability import LEAGUE_COLUMNS, league, orders_in
from layers.ledger.deadlines import BUCKETS
from layers.ledger.query import labelled, ledger_rows
from layers.ledger.repeat import BASES as REPEAT_BASES
from layers.ledger.repeat import repeat_offenders
from layers.schema import ACCIDENT_KINDS, HAZARD_STATUS, LAYERS, ORDER_KINDS, label
from layers.settings import Settings
from layers.store import Store, cached_read

if TYPE_CHECKING:
    import plotly.graph_objects as go

#: the briefing's figures and their labels (zh, en)
FIGURES: dict[str, tuple[str, str]] = {
    "found": ("期内发现隐患", "Hazards found in the period"),
    "found_major": ("其中重大隐患", "of which major"),
    "closed": ("期内销号隐患", "Hazards closed in the period"),
    "closed_in_time": ("其中按期销号", "of which in time"),
    "open": ("未销号隐患（截至统计日）", "Open hazards (as of the date)"),
    "overdue": ("逾期未整改", "Overdue"),
    **{f"bucket_{k}": (v["zh"], v["en"]) for k, v in BUCKETS.items()},
    "major_open": ("重大隐患未销号", "Major hazards open"),
    "listed": ("挂牌督办", "Under listed supervision"),
    "repeat_offenders": ("屡查屡犯对象", "Repeat offenders"),
    "orders": ("期内执法指令", "Orders in the period"),
    **{f"orders_{k}": (v["zh"], v["en"]) for k, v in ORDER_KINDS.items()},
    "coverage_objects": ("监管对象", "Objects supervised"),
    "coverage_share_in_time": ("按期检查覆盖率（风险加权）", "Inspected in time (risk-weighted share)"),
    "coverage_dead_corners": ("检查死角", "Dead corners"),
    "coverage_never_inspected": ("从未检查", "Never inspected"),
    "coverage_blind_spots": ("检查盲区", "Blind spots"),
    "coverage_share_cells_covered": ("风险网格覆盖率", "Risk cells covered (share)"),
}
SHEETS = {"summary": ("概况", "Summary"), "by_month": ("按月", "By month"), "major": ("重大隐患", "Major hazards"),
          "listed": ("挂牌督办", "Listed supervision"), "repeat": ("屡查屡犯", "Repeat offenders"),
          "orders": ("执法指令", "Orders"), "coverage": ("检查覆盖", "Coverage"),
          "top_overdue": ("逾期最久", "Most overdue"), "worst_departments": ("部门排名", "Departments")}
STATUS_COLORS = {"open": "#E5141B", "rectifying": "#FF8A00", "awaiting_check": "#F7D600", "closed": "#2E9E44",
                 "rejected": "#8B0000"}
HAZARD_COLUMNS = ("id", "target_name", "credit_code", "district_name", "town_name", "type", "level", "status",
                  "found_date", "deadline", "days_left", "bucket", "missing", "department_name", "officer",
                  "responsible_person", "listed")
LISTED_COLUMNS = ("listed_office", "listed_deadline", "listed_condition")


@dataclass(frozen=True, eq=False)
class Briefing:
    """A briefing's content. Frames are plain ledger rows and tables (language-neutral); ``charts`` are built
    in the language asked for. Do not modify."""

    level: str                      # city | district | town
    code: str | None
    name: str
    name_en: str
    start: date
    end: date
    as_of: date
    figures: dict
    by_month: pd.DataFrame          # month (YYYY-MM), found, closed
    by_status: pd.DataFrame         # status, n (hazards found in the period, by their status now)
    major: pd.DataFrame
    listed: pd.DataFrame
    repeat: pd.DataFrame
    orders: pd.DataFrame
    coverage: dict
    coverage_by_area: pd.DataFrame
    top_overdue: pd.DataFrame
    worst_departments: pd.DataFrame
    charts: dict[str, go.Figure] = field(default_factory=dict)


def _area(store: Store, access: Access, district: str | None) -> tuple[Access, str, str | None, str, str]:
    """The access narrowed to the briefing's area, and its level, code and names."""
    if district is not None:
        district = str(district)
        if not access.allows(district, *(access.towns or ())[:1]):
            raise AccessDenied(f"无权查看区县 {district!r} 的专报 (not allowed to brief on district {district!r})")
        access = Access(principal=access.principal, action=access.action, districts=(district,),
                        towns=access.towns)
    d = cached_read(store, "districts", columns=["code", "name", "name_en"])
    t = cached_read(store, "towns", columns=["code", "name", "name_en"])
    if access.towns is not None and len(access.towns) == 1:
        row = t[t["code"].astype(str) == access.towns[0]]
        code, level = access.towns[0], "town"
    elif access.districts is not None and len(access.districts) == 1:
        row = d[d["code"].astype(str) == access.districts[0]]
        code, level = access.districts[0], "district"
    else:
        return access, "city", None, "全市", "City"
    name = str(row["name"].iloc[0]) if len(row) else code
    name_en = str(row["name_en"].iloc[0]) if len(row) and pd.notna(row["name_en"].iloc[0]) else name
    return access, level, code, name, name_en


def _between(values: pd.Series, start: date, end: date) -> np.ndarray:
    d = pd.to_datetime(values, errors="coerce")
    return ((d >= pd.Timestamp(start)) & (d <= pd.Timestamp(end))).to_numpy(dtype=bool)


def _months(start: date, end: date) -> list[str]:
    return [p.strftime("%Y-%m") for p in pd.period_range(pd.Timestamp(start), pd.Timestamp(end), freq="M")]


def _repeat_in_area(store: Store, access: Access, as_of: date, settings: Settings) -> pd.DataFrame:
    hz = cached_read(store, "hazards", columns=["target_layer", "target_id", "type", "found_date"])
    acc = cached_read(store, "accidents", columns=["enterprise_id", "date", "kind"])
    r = repeat_offenders(hz, acc, as_of=as_of, settings=settings)
    if len(r) == 0:
        return r.assign(target_name=pd.Series(dtype=object), district_code=pd.Series(dtype=object),
                        town_code=pd.Series(dtype=object))
    keys = (r["target_layer"].astype(str) + ":" + r["target_id"].astype(str)).tolist()
    places = object_places(store, keys)
    r = r.assign(district_code=places["district_code"].to_numpy(dtype=object),
                 town_code=places["town_code"].to_numpy(dtype=object))
    r = r[access.mask(r["district_code"].to_numpy(), r["town_code"].to_numpy())]
    names = {}
    for layer in r["target_layer"].unique():
        f = cached_read(store, str(layer), columns=["id", "name"])
        names.update({(str(layer), str(i)): n for i, n in zip(f["id"], f["name"], strict=True)})
    r = r.assign(target_name=[names.get((a, b)) for a, b in zip(r["target_layer"], r["target_id"], strict=True)])
    return r.reset_index(drop=True)


def briefing(store: Store, access: Access, *, district: str | None = None, start: date, end: date,
             as_of: date, settings: Settings | None = None, lang: str = "zh", top: int = 10,
             today: date | None = None) -> Briefing:
    """The briefing of ``district`` (None = the reader's whole area: the city, or their district or town) for
    the period [start, end] as of ``as_of``. Raises :class:`AccessDenied` for a district outside ``access``."""
    settings = settings or Settings.from_env()
    if end < start:
        start, end = end, start
    access, level, code, name, name_en = _area(store, access, district)
    rows = ledger_rows(store, access, as_of=as_of, settings=settings)
    found = _between(rows["found_date"], start, end)
    closed_now = rows["status"].astype(object).to_numpy() == "closed"
    closed = closed_now & _between(rows["closed_date"], start, end)
    dl = pd.to_datetime(rows["deadline"], errors="coerce")
    cd = pd.to_datetime(rows["closed_date"], errors="coerce")
    in_time = closed & (dl.notna() & (cd <= dl)).to_numpy(dtype=bool)
    overdue = rows["overdue"].to_numpy(dtype=bool)
    major = rows["level"].astype(object).to_numpy() == "major"
    listed = rows["listed"].to_numpy(dtype=bool)
    orders = orders_in(store, access, start=start, end=end)
    repeat = _repeat_in_area(store, access, as_of, settings)

    cov = _coverage(store, access, as_of=as_of, settings=settings, today=today, level=level, code=code)
    figures: dict = {
        "found": int(found.sum()), "found_major": int((found & major).sum()), "closed": int(closed.sum()),
        "closed_in_time": int(in_time.sum()), "open": int((~closed_now).sum()), "overdue": int(overdue.sum()),
        **{f"bucket_{k}": int((rows["bucket"].astype(object) == k).sum()) for k in BUCKETS},
        "major_open": int((major & ~closed_now).sum()), "listed": int((listed & ~closed_now).sum()),
        "repeat_offenders": int(len(set(zip(repeat["target_layer"], repeat["target_id"], strict=True)))),
        "orders": int(len(orders)),
        **{f"orders_{k}": int((orders["kind"].astype(object) == k).sum()) if len(orders) else 0
           for k in ORDER_KINDS},
        **{f"coverage_{k}": cov[0].get(k) for k in ("objects", "share_in_time", "dead_corners",
                                                    "never_inspected", "blind_spots", "share_cells_covered")},
    }
    months = _months(start, end)
    fm = pd.to_datetime(rows.loc[found, "found_date"]).dt.strftime("%Y-%m").value_counts()
    cm = pd.to_datetime(rows.loc[closed, "closed_date"]).dt.strftime("%Y-%m").value_counts()
    by_month = pd.DataFrame({"month": months, "found": fm.reindex(months).fillna(0).astype(int).to_numpy(),
                             "closed": cm.reindex(months).fillna(0).astype(int).to_numpy()})
    st = rows.loc[found, "status"].astype(object).value_counts()
    by_status = pd.DataFrame({"status": list(HAZARD_STATUS),
                              "n": [int(st.get(s, 0)) for s in HAZARD_STATUS]})
    major_rows = rows[major & (found | ~closed_now)].sort_values(["status", "found_date"], kind="stable")
    listed_rows = rows[listed & ~closed_now].sort_values("listed_deadline", kind="stable", na_position="last")
    over = rows[overdue].sort_values(["days_left", "id"], kind="stable")
    worst = league(rows, by="department", as_of=as_of, orders=orders)
    worst = worst[(worst["overdue"] > 0) | (worst["open"] > 0)]
    b = Briefing(level=level, code=code, name=name, name_en=name_en, start=start, end=end, as_of=as_of,
                 figures=figures, by_month=by_month, by_status=by_status, major=major_rows.reset_index(drop=True),
                 listed=listed_rows.reset_index(drop=True), repeat=repeat, orders=orders, coverage=cov[0],
                 coverage_by_area=cov[1], top_overdue=over.head(top).reset_index(drop=True),
                 worst_departments=worst.head(top).reset_index(drop=True))
    b.charts.update(charts(b, lang))
    return b


def _coverage(store: Store, access: Access, *, as_of: date, settings: Settings, today: date | None, level: str,
              code: str | None) -> tuple[dict, pd.DataFrame]:
    """Coverage figures of the area (summary dict) and per area one level down (districts of the city, towns
    of a district, the town itself)."""
    from layers.analysis.coverage import compute_cached

    result = compute_cached(store, as_of=as_of, settings=settings, today=today)
    result = result.for_districts(access.districts).for_towns(access.towns)
    if level == "city":
        by_area = result.by_district
    elif level == "district":
        by_area = result.by_town[result.by_town["district_code"].astype(object) == code] \
            if "district_code" in result.by_town else result.by_town
    else:
        by_area = result.by_town
    return dict(result.summary), by_area.reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Charts and the workbook
# --------------------------------------------------------------------------------------------------

def _t(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def charts(b: Briefing, lang: str = "zh") -> dict[str, go.Figure]:
    """``by_month`` (bars: found and closed per month) and ``status`` (donut of the period's hazards by their
    status now). Plain figures: the app applies its theme template."""
    import plotly.graph_objects as go

    area = b.name_en if lang == "en" else b.name
    bar = go.Figure(
        data=[go.Bar(name=_t(lang, "发现", "Found"), x=b.by_month["month"], y=b.by_month["found"],
                     marker_color="#E5141B"),
              go.Bar(name=_t(lang, "销号", "Closed"), x=b.by_month["month"], y=b.by_month["closed"],
                     marker_color="#2E9E44")],
        layout={"barmode": "group", "title": {"text": _t(lang, f"{area} 隐患发现与销号（按月）",
                                                         f"{area}: hazards found and closed per month")},
                "xaxis": {"type": "category"}, "yaxis": {"rangemode": "tozero"},
                "margin": {"l": 40, "r": 20, "t": 50, "b": 40}})
    st = b.by_status[b.by_status["n"] > 0]
    donut = go.Figure(
        data=[go.Pie(labels=[label(HAZARD_STATUS, s, lang) for s in st["status"]], values=st["n"].tolist(),
                     hole=0.55, sort=False, marker={"colors": [STATUS_COLORS.get(s, "#888888") for s in st["status"]]},
                     textinfo="label+value")],
        layout={"title": {"text": _t(lang, "期内发现隐患的整改状态", "Status of the hazards found in the period")},
                "margin": {"l": 20, "r": 20, "t": 50, "b": 20}, "showlegend": False})
    return {"by_month": bar, "status": donut}


def _layer_frame(frame: pd.DataFrame, layer: str, lang: str, columns: tuple[str, ...]) -> pd.DataFrame:
    schema = LAYERS[layer]
    out = pd.DataFrame(index=frame.index)
    for c in columns:
        if c not in frame.columns:
            continue
        s = frame[c]
        if c == "kind" and layer == "orders":
            s = s.map(lambda v: label(ORDER_KINDS, v, lang) if isinstance(v, str) else "")
        elif pd.api.types.is_datetime64_any_dtype(s):
            s = s.dt.strftime("%Y-%m-%d")
        try:
            col = schema.column(c)
            head = col.en if lang == "en" else col.zh
        except KeyError:
            head = c
        out[head] = s.astype(object).where(s.notna(), "").to_numpy()
    return out.reset_index(drop=True)


def _repeat_frame(r: pd.DataFrame, lang: str) -> pd.DataFrame:
    heads = {"target_layer": ("对象图层", "Object layer"), "target_id": ("对象编号", "Object"),
             "target_name": ("对象名称", "Object name"), "district_code": ("区县", "District"),
             "basis": ("类别", "Basis"), "type": ("隐患类型/事故类型", "Hazard type / accident kind"),
             "count": ("次数", "Times"), "first": ("首次", "First"), "last": ("最近", "Last")}
    out = pd.DataFrame(index=r.index)
    for c, (zh, en) in heads.items():
        s = r[c] if c in r else pd.Series("", index=r.index)
        if c == "basis":
            s = s.map(lambda v: label(REPEAT_BASES, v, lang))
        elif c == "type":
            s = pd.Series([label(ACCIDENT_KINDS, v, lang) if b == "accident_kind" else v
                           for b, v in zip(r["basis"], r["type"], strict=True)], index=r.index, dtype=object)
        elif c == "target_layer":
            s = s.map(lambda v: (LAYERS[v].en if lang == "en" else LAYERS[v].zh) if v in LAYERS else v)
        elif c in ("first", "last"):
            s = pd.to_datetime(s).dt.strftime("%Y-%m-%d")
        out[en if lang == "en" else zh] = s.astype(object).where(s.notna(), "").to_numpy()
    return out.reset_index(drop=True)


def _summary(b: Briefing, lang: str) -> pd.DataFrame:
    area = b.name_en if lang == "en" else b.name
    rows = [(_t(lang, "地区", "Area"), area), (_t(lang, "统计期", "Period"), f"{b.start} – {b.end}"),
            (_t(lang, "统计日", "As of"), b.as_of.isoformat())]
    for k, (zh, en) in FIGURES.items():
        v = b.figures.get(k)
        if isinstance(v, float):
            v = round(v, 4)
        rows.append((en if lang == "en" else zh, "" if v is None else v))
    return pd.DataFrame(rows, columns=[_t(lang, "项目", "Item"), _t(lang, "数值", "Value")])


def briefing_sheets(b: Briefing, lang: str = "zh") -> dict[str, pd.DataFrame]:
    """The workbook's sheets (name in ``lang`` -> frame with headers and values in ``lang``)."""
    def name(key: str) -> str:
        zh, en = SHEETS[key]
        return en if lang == "en" else zh

    league_cols = [c for c in LEAGUE_COLUMNS if c in b.worst_departments.columns]
    worst = b.worst_departments[league_cols].copy()
    if lang == "en" and "name_en" in b.worst_departments:
        worst["name"] = b.worst_departments["name_en"]
    worst.columns = [LEAGUE_COLUMNS[c][1] if lang == "en" else LEAGUE_COLUMNS[c][0] for c in league_cols]
    months = b.by_month.rename(columns={"month": _t(lang, "月份", "Month"), "found": _t(lang, "发现", "Found"),
                                        "closed": _t(lang, "销号", "Closed")})
    order_cols = ("doc_no", "date", "kind", "target_layer", "target_id", "district_code", "reason", "ground",
                  "hazard_ids", "department_id")
    return {
        name("summary"): _summary(b, lang),
        name("by_month"): months,
        name("major"): labelled(b.major, lang, HAZARD_COLUMNS),
        name("listed"): pd.concat([labelled(b.listed, lang, HAZARD_COLUMNS),
                                   _layer_frame(b.listed, "hazards", lang, LISTED_COLUMNS)], axis=1),
        name("repeat"): _repeat_frame(b.repeat, lang),
        name("orders"): _layer_frame(b.orders, "orders", lang, order_cols),
        name("coverage"): b.coverage_by_area,
        name("top_overdue"): labelled(b.top_overdue, lang, HAZARD_COLUMNS),
        name("worst_departments"): worst,
    }


def briefing_xlsx(b: Briefing, lang: str = "zh") -> bytes:
    """The briefing as an XLSX workbook, one sheet per section; formula-safe (:mod:`layers.export`: every text
    is written as a string cell, so ``=HYPERLINK(...)`` in a name stays text)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_xlsx(briefing_sheets(b, lang), Path(tmp) / "briefing.xlsx")
        return path.read_bytes()


__all__ = ["Briefing", "briefing", "briefing_xlsx", "briefing_sheets", "charts", "FIGURES", "SHEETS"]
