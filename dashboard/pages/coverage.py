"""Coverage gaps (``/coverage``, 检查覆盖): dead corners, blind spots and supervision gaps as of a date.

A map with the dead corners as points in their grade's colour, the blind-spot hexagons coloured by risk, the
team bases and the suggested new bases; the per-district and per-town figures; the lists of dead corners,
blind spots and supervision gaps with the reason of each; an as-of date picker; k suggested bases.

Callbacks are thin adapters over ``layers.coverage`` (``compute_cached`` then ``for_districts``). What a user
may see is decided on the server from the session (``dashboard.context.scope``), never from the inputs: a
district leader gets only their district. A run on the demo city takes about a second and is cached per
(store version, date, settings), so the page computes in the callback with a loading indicator; a background
callback would need ``diskcache``, which is not installed.
"""

from __future__ import annotations

import math
import tempfile
from datetime import date
from enum import StrEnum
from pathlib import Path

import dash
import numpy as np
import pandas as pd
import shapely
from dash import Input, Output, State, callback, dcc, html

from dashboard import context
from dashboard.components.dates import date_picker
from dashboard.components.errors import calm_message, denied_page, guarded
from dashboard.components.grid import grid
from dashboard.components.mapfig import esc, graph_config, ring_coords, typed
from dashboard.components.mapfig.convert import on_map
from dashboard.components.nav import navbar
from dashboard.components.theme import template_dict
from dashboard.i18n import dropdown_labels, norm_lang, register, t
from layers.analysis import coverage as cov
from layers.cache import StoreCache
from layers.errors import AccessDenied, RiskMapError
from layers.schema import GRADES, LAYERS, label
from layers.store import cached_read

register({
    "cov.heading": ("检查覆盖：死角、盲区、监管空白", "Inspection coverage: dead corners, blind spots, supervision gaps"),
    "cov.as_of": ("统计日期", "As of"),
    "cov.after_data": ("统计日期晚于数据日期 {d}：此后的检查尚未录入，结果按已有记录计算",
                       "the date is after the data's date {d}: later inspections are not in yet, the result counts "
                       "the records there are"),
    "cov.sheet.bases": ("建议驻地", "suggested_bases"),
    "cov.sheet.bases.rank": ("序号", "Rank"),
    "cov.sheet.bases.lon": ("经度", "Longitude"),
    "cov.sheet.bases.lat": ("纬度", "Latitude"),
    "cov.sheet.bases.cell": ("H3 网格", "H3 cell"),
    "cov.sheet.bases.gained": ("新增覆盖风险", "Risk newly reached"),
    "cov.sheet.bases.share": ("占未覆盖风险", "Share of the unreached risk"),
    "cov.districts": ("区县", "Districts"),
    "cov.all_districts": ("全部可见区县", "All districts you may see"),
    "cov.k": ("建议新增驻地数", "Suggested new bases"),
    "cov.method": ("选址方法", "Siting method"),
    "cov.greedy": ("贪心（快）", "Greedy (fast)"),
    "cov.exact": ("精确（MCLP）", "Exact (MCLP)"),
    "cov.export": ("导出 Excel", "Export to Excel"),
    "cov.objects": ("检查对象", "Objects"),
    "cov.in_time": ("按时检查（风险加权）", "Inspected in time (risk-weighted)"),
    "cov.cells_covered": ("风险网格覆盖", "Risk cells covered"),
    "cov.dead": ("死角", "Dead corners"),
    "cov.never": ("从未检查", "Never inspected"),
    "cov.blind": ("盲区网格", "Blind cells"),
    "cov.gaps": ("监管空白", "Supervision gaps"),
    "cov.future": ("条检查日期晚于今天，未计入", "inspections dated after today were not counted"),
    "cov.reach_road": ("到达时间按道路计算", "Travel time over the road network"),
    "cov.reach_straight": ("到达时间按直线距离×绕行系数估算", "Travel time estimated: straight line x detour factor"),
    "cov.map.dead": ("死角", "Dead corners"),
    "cov.map.dead_outside": ("登记在所选区县、位于区外的死角", "Dead corners registered here but lying outside"),
    "cov.map.blind": ("盲区（按风险着色）", "Blind spots (by risk)"),
    "cov.map.bases": ("检查组驻地", "Team bases"),
    "cov.map.suggested": ("建议驻地", "Suggested bases"),
    "cov.tab.district": ("分区县", "By district"),
    "cov.tab.town": ("分镇街", "By town"),
    "cov.tab.dead": ("死角清单", "Dead corners"),
    "cov.tab.blind": ("盲区清单", "Blind spots"),
    "cov.tab.gaps": ("监管空白清单", "Supervision gaps"),
    "cov.tab.bases": ("建议驻地", "Suggested bases"),
    "cov.col.code": ("代码", "Code"),
    "cov.col.name": ("名称", "Name"),
    "cov.col.layer": ("类型", "Kind"),
    "cov.col.grade": ("等级", "Grade"),
    "cov.col.district": ("区县", "District"),
    "cov.col.overdue": ("超期天数", "Days overdue"),
    "cov.col.score": ("优先度", "Priority"),
    "cov.col.reason": ("原因", "Reason"),
    "cov.col.risk": ("风险", "Risk"),
    "cov.col.kind": ("类别", "Kind"),
    "cov.col.travel": ("到达（分钟）", "Travel (min)"),
    "cov.col.rank": ("序号", "Rank"),
    "cov.col.town": ("镇街", "Town"),
    "cov.col.road": ("最近道路", "Nearest road"),
    "cov.base.road_m": ("约 {m} 米", "about {m} m"),
    "cov.base.no_road": ("1 公里内无有名称的道路", "no named road within 1 km"),
    "cov.base.fewer": ("要求 {k} 个驻地：{why}", "{k} bases asked: {why}"),
    "cov.sheet.bases.district": ("区县", "District"),
    "cov.sheet.bases.town": ("镇街", "Town"),
    "cov.sheet.bases.road": ("最近道路", "Nearest road"),
    "cov.col.gained": ("新增可达风险", "Risk brought in reach"),
    "cov.col.share": ("累计占不可达风险", "Cumulative share of unreached risk"),
    "cov.col.dead": ("死角", "Dead corners"),
    "cov.col.blind": ("盲区", "Blind cells"),
    "cov.col.no_department": ("无部门", "No department"),
    "cov.col.no_lead": ("无牵头", "No lead"),
    "cov.col.no_officer": ("无责任人", "No officer"),
    "cov.col.mismatch": ("区县不符", "Wrong district"),
    "cov.col.outside": ("区县外", "Outside"),
    "cov.none": ("无", "None"),
    "cov.shown": ("显示前 {n} 条，共 {total} 条；完整清单请导出", "Showing the first {n} of {total}; export for all"),
})

dash.register_page(__name__, path="/coverage", title="检查覆盖")

TABLE_ROWS = 500
BLIND_COLOURS = ("#fdd49e", "#fc8d59", "#e34a33", "#b30000")
PAGE_SIZE = 15


class Ids(StrEnum):
    LANG = "cov-lang"
    AS_OF = "cov-as-of"
    DISTRICTS = "cov-districts"
    K = "cov-k"
    METHOD = "cov-method"
    SUMMARY = "cov-summary"
    MAP = "cov-map"
    BY_DISTRICT = "cov-by-district"
    BY_TOWN = "cov-by-town"
    DEAD = "cov-dead"
    BLIND = "cov-blind"
    GAPS = "cov-gaps"
    BASES = "cov-bases"
    NOTE = "cov-note"
    EXPORT = "cov-export"
    DOWNLOAD = "cov-download"


# --------------------------------------------------------------------------------------------------
# the analysis for this user
# --------------------------------------------------------------------------------------------------

def data_as_of() -> date:
    """The data's as-of date (the latest inspection), the date the map and the wall count from; today when
    there is none."""
    stamp = context.store().latest("inspections", "date")
    return pd.Timestamp(stamp).date() if stamp is not None else date.today()


def _parse_date(text: str | None) -> date:
    if not text:
        return data_as_of()
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        raise RiskMapError(f"日期 {text!r} 无效 (date {text!r} is not valid)") from None


def _suggest(result: cov.CoverageResult, k: int, method: str | None):
    """``k`` suggested bases inside the user's selected area, each named by its nearest road (None for k = 0)."""
    if k <= 0:
        return None
    roads = cached_read(context.store(), "roads", columns=["name", "geometry"])
    return cov.suggest_bases(result, k, method="exact" if method == "exact" else "greedy", roads=roads)


def result_for_user(as_of: str | None, districts: list[str] | None) -> cov.CoverageResult:
    """The cached city-wide result narrowed on the server to what the session's user may see."""
    scope = context.scope(districts or None)
    result = cov.compute_cached(context.store(), as_of=_parse_date(as_of), settings=context.settings())
    return result.for_districts(scope).for_towns(context.allowed_towns())


# --------------------------------------------------------------------------------------------------
# figures and tables
# --------------------------------------------------------------------------------------------------

def _name(frame: pd.DataFrame, lang: str) -> pd.Series:
    if lang == "en" and "name_en" in frame.columns:
        return frame["name_en"].where(frame["name_en"].notna(), frame["name"])
    return frame["name"]


def coverage_map(result: cov.CoverageResult, suggested: pd.DataFrame | None, *, lang: str,
                 districts: list[str] | None) -> dict:
    """District outlines, blind hexagons by risk class, dead corners by grade, team bases, suggested bases."""
    store = context.store()
    traces: list[dict] = []
    d = cached_read(store, "districts")
    if districts is not None and len(d):
        d = d[d["code"].isin(districts)]
    bounds = tuple(d.total_bounds) if len(d) else None
    if len(d):
        x, y = ring_coords(d.geometry.to_numpy())
        traces.append({"type": "scatter", "mode": "lines", "x": typed(x), "y": typed(y), "hoverinfo": "skip",
                       "line": {"color": "#5B6B82", "width": 1.2}, "showlegend": False, "name": "districts"})
    blind = result.blind_spots
    if len(blind):
        q = np.quantile(blind["risk"], [0.5, 0.8, 0.95]) if len(blind) > 3 else np.array([np.inf] * 3)
        cls = np.searchsorted(q, blind["risk"].to_numpy(), side="right")
        for k, colour in enumerate(BLIND_COLOURS):
            sel = blind[cls == k]
            if len(sel) == 0:
                continue
            x, y = ring_coords(sel.geometry.to_numpy())
            reason = sel["reason_en" if lang == "en" else "reason_zh"]
            traces.append({"type": "scatter", "mode": "lines", "fill": "toself", "x": typed(x), "y": typed(y),
                           "line": {"color": colour, "width": 0.5}, "fillcolor": colour, "opacity": 0.75,
                           "name": t("cov.map.blind", lang), "legendgroup": "blind", "showlegend": k == 0,
                           "hoverinfo": "skip"})
            # a hover point at each hexagon's centre
            traces.append({"type": "scatter", "mode": "markers", "x": typed(sel["lon"]), "y": typed(sel["lat"]),
                           "marker": {"size": 6, "color": colour, "opacity": 0.01}, "showlegend": False,
                           "legendgroup": "blind", "text": [esc(r) for r in reason],
                           "hovertemplate": "%{text}<extra></extra>", "name": "blind"})
    dead = result.dead_corners
    if len(dead) and districts is not None and len(d):
        # an object registered to the district but lying outside it (a supervision gap too) is the district's
        # dead corner: drawn apart, in grey and named so, not among the district's own
        area = shapely.union_all(d.geometry.to_numpy())
        inside = shapely.covers(area, dead.geometry.to_numpy())
        out = dead[~inside]
        dead = dead[inside]
        if len(out):
            reason = out["reason_en" if lang == "en" else "reason_zh"]
            traces.append({"type": "scattergl", "mode": "markers", "x": typed(out.geometry.x),
                           "y": typed(out.geometry.y), "name": t("cov.map.dead_outside", lang),
                           "marker": {"size": 8, "color": "#8A94A6"},
                           "customdata": (out["layer"] + ":" + out["id"]).tolist(),
                           "text": [f"{esc(n)}<br>{esc(r)}" for n, r in zip(out["name"].astype(str), reason,
                                                                           strict=True)],
                           "hovertemplate": "%{text}<extra></extra>"})
    if len(dead):
        for g in GRADES:
            sel = dead[dead["grade"] == g]
            if len(sel) == 0:
                continue
            reason = sel["reason_en" if lang == "en" else "reason_zh"]
            traces.append({"type": "scattergl", "mode": "markers", "x": typed(sel.geometry.x),
                           "y": typed(sel.geometry.y),
                           "marker": {"size": 7, "color": GRADES[g]["color"], "line": {"width": 0.5, "color": "#222"}},
                           "name": f"{t('cov.map.dead', lang)} · {label(GRADES, g, lang)}",
                           "customdata": (sel["layer"] + ":" + sel["id"]).tolist(),
                           "text": [f"{esc(n)}<br>{esc(r)}" for n, r in zip(sel["name"].astype(str), reason,
                                                                           strict=True)],
                           "hovertemplate": "%{text}<extra></extra>"})
    teams = cached_read(store, "teams")
    if len(teams):
        teams = teams[teams.geometry.notna()]
        if districts is not None and "district_code" in teams.columns:
            teams = teams[teams["district_code"].isin(districts) | teams["district_code"].isna()]
        traces.append({"type": "scatter", "mode": "markers", "x": typed(teams.geometry.x),
                       "y": typed(teams.geometry.y), "name": t("cov.map.bases", lang),
                       "marker": {"size": 11, "symbol": "square", "color": "#00A3C4", "line": {"width": 1,
                                                                                              "color": "#000"}},
                       "text": [esc(n) for n in teams["name"]], "hovertemplate": "%{text}<extra></extra>"})
    if suggested is not None and len(suggested):
        traces.append({"type": "scatter", "mode": "markers+text", "x": typed(suggested["lon"]),
                       "y": typed(suggested["lat"]), "name": t("cov.map.suggested", lang),
                       "marker": {"size": 18, "symbol": "star", "color": "#12A150", "line": {"width": 1,
                                                                                            "color": "#000"}},
                       "text": [str(r) for r in suggested["rank"]], "textposition": "top center",
                       "hovertext": [f"#{r} {esc(rd) if isinstance(rd, str) else ''} +{g:.1f}" for r, rd, g in zip(
                           suggested["rank"], suggested.get("road", [None] * len(suggested)),
                           suggested["risk_gained"], strict=True)],
                       "hovertemplate": "%{hovertext}<extra></extra>"})
    return on_map(traces, bounds, lang=lang, uirevision="coverage-map")   # MapLibre, on the basemap


def _pct(v: float | None) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1%}"


def summary_cards(result: cov.CoverageResult, lang: str) -> list:
    s = result.summary
    cards = [("cov.objects", f"{s['objects']:,}"), ("cov.in_time", _pct(s["share_in_time"])),
             ("cov.cells_covered", _pct(s["share_cells_covered"])), ("cov.dead", f"{s['dead_corners']:,}"),
             ("cov.never", f"{s.get('never_inspected', 0):,}"), ("cov.blind", f"{s['blind_spots']:,}"),
             ("cov.gaps", f"{len(result.supervision_gaps):,}")]
    box = {"background": "#fff", "border": "1px solid #dfe4ea", "borderRadius": "6px", "padding": "6px 12px",
           "minWidth": "110px"}
    return [html.Div(style=box, children=[html.Div(v, style={"fontSize": "22px", "fontWeight": "bold"}),
                                          html.Div(t(k, lang), className="muted")]) for k, v in cards]


def note(result: cov.CoverageResult, lang: str) -> list:
    out = [html.Span(t("cov.reach_road" if result.reach.get("method") == "road" else "cov.reach_straight", lang))]
    fut = int(result.ignored_inspections.set_index("kind")["count"].get("future", 0)) \
        if len(result.ignored_inspections) else 0
    if fut:
        out.append(html.Span(f" · {fut} {t('cov.future', lang)}", style={"color": "#b35900"}))
    data_day = data_as_of()
    if result.as_of > data_day:
        out.append(html.Span(" · " + t("cov.after_data", lang).format(d=data_day.isoformat()),
                             style={"color": "#b35900"}, id="cov-after-data"))
    return out


def area_rows(frame: pd.DataFrame, lang: str, key: str) -> list[dict]:
    f = frame.assign(label=_name(frame, lang))
    return [{"code": r[key] or "", "name": r["label"], "objects": int(r["objects"]),
             "in_time": _pct(r["share_in_time"]), "cells": _pct(r["share_cells_covered"]),
             "dead": int(r["dead_corners"]), "blind": int(r["blind_spots"]),
             "no_department": int(r["gap_no_department"]), "no_lead": int(r["gap_no_lead"]),
             "no_officer": int(r["gap_no_officer"]), "mismatch": int(r["gap_district_mismatch"]),
             "outside": int(r["gap_outside_districts"])} for r in f.to_dict("records")]


def dead_rows(result: cov.CoverageResult, lang: str) -> list[dict]:
    d = result.dead_corners.head(TABLE_ROWS)
    reason = "reason_en" if lang == "en" else "reason_zh"
    return [{"layer": LAYERS[r["layer"]].en if lang == "en" else LAYERS[r["layer"]].zh, "name": str(r["name"]),
             "grade": label(GRADES, r["grade"], lang), "district": r["district_code"] or "",
             "overdue": int(r["days_overdue"]), "score": round(float(r["score"]), 1), "reason": r[reason]}
            for r in d.to_dict("records")]


def blind_rows(result: cov.CoverageResult, lang: str) -> list[dict]:
    b = result.blind_spots.head(TABLE_ROWS)
    reason = "reason_en" if lang == "en" else "reason_zh"
    kinds = {k: v[1] if lang == "en" else v[0] for k, v in cov.BLIND_KINDS.items()}
    return [{"cell": r["cell"], "district": r["district_code"] or "", "risk": round(float(r["risk"]), 1),
             "kind": " + ".join(kinds[k] for k in r["kind"].split("+")),
             "travel": None if not np.isfinite(r["travel_min"]) else round(float(r["travel_min"]), 1),
             "reason": r[reason]} for r in b.to_dict("records")]


def gap_rows(result: cov.CoverageResult, lang: str) -> list[dict]:
    g = result.supervision_gaps.head(TABLE_ROWS)
    return [{"layer": LAYERS[r["layer"]].en if lang == "en" else LAYERS[r["layer"]].zh, "name": str(r["name"]),
             "district": r["district_code"] or "", "kind": r["kind_en"] if lang == "en" else r["kind_zh"],
             "reason": r["reason_en"] if lang == "en" else r["reason_zh"]} for r in g.to_dict("records")]


def base_rows(suggested: pd.DataFrame, lang: str = "zh") -> list[dict]:
    """One row per suggested base: where it is in words (district, town, nearest road) and what it brings."""
    store = context.store()
    names = {}
    for layer in ("districts", "towns"):
        f = cached_read(store, layer, columns=["code", "name", "name_en"])
        names.update(zip(f["code"], _name(f, lang), strict=True))
    return [{"rank": int(r["rank"]), "district": names.get(r.get("district_code"), r.get("district_code") or ""),
             "town": names.get(r.get("town_code"), r.get("town_code") or ""),
             "road": (f"{r['road']}（{t('cov.base.road_m', lang).format(m=round(float(r['road_m'])))}）"
                      if isinstance(r.get("road"), str) else t("cov.base.no_road", lang)),
             "cell": r["cell"], "lon": round(float(r["lon"]), 5),
             "lat": round(float(r["lat"]), 5), "gained": round(float(r["risk_gained"]), 1),
             "share": _pct(float(r["share_of_unreached"]))} for r in suggested.to_dict("records")]


def fewer_note(suggested: pd.DataFrame | None, k: int, lang: str) -> str | None:
    """Why fewer bases than asked were suggested, in ``lang`` (None when as many as asked)."""
    if suggested is None or "fewer" not in suggested.attrs:
        return None
    zh, en = suggested.attrs["fewer"]
    return t("cov.base.fewer", lang).format(k=k, why=en if lang == "en" else zh)


def _table(tid: str, lang: str, *pairs: tuple[str, str]):
    """One of the page's lists: an AG Grid of ``(text key, field)`` columns, sortable, 15 rows a page."""
    return grid(tid, [], pairs, lang, page_size=PAGE_SIZE)


def _shown(total: int, lang: str) -> str:
    return t("cov.shown", lang).format(n=TABLE_ROWS, total=total) if total > TABLE_ROWS else ""


# --------------------------------------------------------------------------------------------------
# layout and callbacks
# --------------------------------------------------------------------------------------------------

def _district_options(lang: str) -> list[dict]:
    allowed = context.allowed_districts()
    d = cached_read(context.store(), "districts", columns=["code", "name", "name_en"])
    if allowed is not None:
        d = d[d["code"].isin(allowed)]
    return [{"label": f"{(r.name_en if lang == 'en' and isinstance(r.name_en, str) and r.name_en else r.name)} "
                      f"({r.code})", "value": r.code} for r in d.itertuples(index=False)]


@context.checked("read", denied=denied_page)
def layout(lang: str | None = None, as_of: str | None = None, **query: str) -> html.Div:
    lang = norm_lang(lang)
    try:
        options = _district_options(lang)
    except (RiskMapError, AccessDenied) as exc:
        return html.Div([navbar(lang, "/coverage", {"lang": lang, **query}),
                         html.Div(calm_message(lang, exc), className="page")])
    row = {"display": "flex", "gap": "10px", "alignItems": "center", "flexWrap": "wrap", "margin": "4px 0"}
    area_cols = (("cov.col.code", "code"), ("cov.col.name", "name"), ("cov.objects", "objects"),
                 ("cov.in_time", "in_time"), ("cov.cells_covered", "cells"), ("cov.col.dead", "dead"),
                 ("cov.col.blind", "blind"), ("cov.col.no_department", "no_department"),
                 ("cov.col.no_lead", "no_lead"), ("cov.col.no_officer", "no_officer"),
                 ("cov.col.mismatch", "mismatch"), ("cov.col.outside", "outside"))
    tables = dcc.Tabs([
        dcc.Tab(label=t("cov.tab.district", lang), children=[_table(Ids.BY_DISTRICT, lang, *area_cols)]),
        dcc.Tab(label=t("cov.tab.town", lang), children=[_table(Ids.BY_TOWN, lang, *area_cols)]),
        dcc.Tab(label=t("cov.tab.dead", lang), children=[_table(
            Ids.DEAD, lang, ("cov.col.layer", "layer"), ("cov.col.name", "name"), ("cov.col.grade", "grade"),
            ("cov.col.district", "district"), ("cov.col.overdue", "overdue"), ("cov.col.score", "score"),
            ("cov.col.reason", "reason"))]),
        dcc.Tab(label=t("cov.tab.blind", lang), children=[_table(
            Ids.BLIND, lang, ("cov.col.code", "cell"), ("cov.col.district", "district"), ("cov.col.risk", "risk"),
            ("cov.col.kind", "kind"), ("cov.col.travel", "travel"), ("cov.col.reason", "reason"))]),
        dcc.Tab(label=t("cov.tab.gaps", lang), children=[_table(
            Ids.GAPS, lang, ("cov.col.layer", "layer"), ("cov.col.name", "name"), ("cov.col.district", "district"),
            ("cov.col.kind", "kind"), ("cov.col.reason", "reason"))]),
        dcc.Tab(label=t("cov.tab.bases", lang), children=[_table(
            Ids.BASES, lang, ("cov.col.rank", "rank"), ("cov.col.district", "district"), ("cov.col.town", "town"),
            ("cov.col.road", "road"), ("cov.col.code", "cell"), ("cov.col.gained", "gained"),
            ("cov.col.share", "share"))]),
    ])
    return html.Div([
        navbar(lang, "/coverage", {"lang": lang, **query}),
        dcc.Store(id=Ids.LANG, data=lang),
        html.Div(className="page", children=[
            html.H2(t("cov.heading", lang)),
            html.Div(className="panel", style=row, children=[
                html.Label(t("cov.as_of", lang), htmlFor=Ids.AS_OF),
                date_picker(lang=lang, id=Ids.AS_OF, date=_parse_date(as_of).isoformat()),
                html.Label(t("cov.districts", lang)),
                html.Div(dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.DISTRICTS, options=options, multi=True,
                                      placeholder=t("cov.all_districts", lang)), style={"minWidth": "260px"}),
                html.Label(t("cov.k", lang), htmlFor=Ids.K),
                dcc.Input(id=Ids.K, type="number", value=3, min=0, max=20, step=1, style={"width": "60px"}),
                dcc.RadioItems(id=Ids.METHOD, value="greedy", inline=True, options=[
                    {"label": t("cov.greedy", lang), "value": "greedy"},
                    {"label": t("cov.exact", lang), "value": "exact"}]),
                html.Button(t("cov.export", lang), id=Ids.EXPORT, n_clicks=0),
                dcc.Download(id=Ids.DOWNLOAD),
            ]),
            dcc.Loading(type="default", children=[
                html.Div(id=Ids.SUMMARY, style=row),
                html.Div(id=Ids.NOTE, className="muted"),
                dcc.Graph(id=Ids.MAP, figure={"data": [], "layout": {"template": template_dict("light")}},
                          style={"height": "62vh"}, config=graph_config(scrollZoom=True)),
            ]),
            tables,
        ]),
    ])


def _outputs_for_error(exc: BaseException) -> tuple:
    return (calm_message("zh", exc), "", dash.no_update, [], [], [], [], [], [])


@callback(Output(Ids.SUMMARY, "children"), Output(Ids.NOTE, "children"), Output(Ids.MAP, "figure"),
          Output(Ids.BY_DISTRICT, "rowData"), Output(Ids.BY_TOWN, "rowData"), Output(Ids.DEAD, "rowData"),
          Output(Ids.BLIND, "rowData"), Output(Ids.GAPS, "rowData"), Output(Ids.BASES, "rowData"),
          Input(Ids.AS_OF, "date"), Input(Ids.DISTRICTS, "value"), Input(Ids.K, "value"), Input(Ids.METHOD, "value"),
          State(Ids.LANG, "data"))
@guarded(_outputs_for_error)
@context.checked("read")
def update(as_of, districts, k, method, lang):
    """Everything on the page for one date, district selection and k: made once per data version and what the
    server derived from them (the date, the user's districts and towns, k, method, language) and shared by
    every user with the same view (60 users moving the same date do not each solve the siting again)."""
    lang = norm_lang(lang)
    scope = context.scope(districts or None)            # from the session: a forged district is refused here
    towns = context.allowed_towns()
    day = _parse_date(as_of)
    k = max(0, min(int(k or 0), 20))
    method = "exact" if method == "exact" else "greedy"
    key = (day.isoformat(), None if scope is None else tuple(sorted(scope)),
           None if towns is None else tuple(sorted(towns)), k, method, lang)
    return _PAGE.get(context.store(), lambda: _update(day.isoformat(), scope, k, method, lang), key=key)


#: the page's outputs per view (above); a new data version lets the older ones go
_PAGE: StoreCache[tuple] = StoreCache("coverage page", maxsize=32)


def _update(as_of: str, scope: list[str] | None, k: int, method: str, lang: str) -> tuple:
    result = result_for_user(as_of, scope)
    suggested = _suggest(result, k, method)
    notes = note(result, lang)
    fewer = fewer_note(suggested, k, lang)
    if fewer:
        notes.append(html.Span(f" · {fewer}", className="cov-fewer"))
    for frame, n in ((result.dead_corners, "dead"), (result.supervision_gaps, "gaps")):
        if len(frame) > TABLE_ROWS:
            notes.append(html.Span(f" · {t('cov.tab.' + n, lang)}: {_shown(len(frame), lang)}"))
    return (summary_cards(result, lang), notes, coverage_map(result, suggested, lang=lang, districts=scope),
            area_rows(result.by_district, lang, "district_code"), area_rows(result.by_town, lang, "town_code"),
            dead_rows(result, lang), blind_rows(result, lang), gap_rows(result, lang),
            base_rows(suggested, lang) if suggested is not None else [])


@callback(Output(Ids.DOWNLOAD, "data"), Input(Ids.EXPORT, "n_clicks"), State(Ids.AS_OF, "date"),
          State(Ids.DISTRICTS, "value"), State(Ids.LANG, "data"), State(Ids.K, "value"), State(Ids.METHOD, "value"),
          prevent_initial_call=True)
@guarded(lambda exc: dash.no_update)
@context.checked("read")
def export(_n, as_of, districts, lang, k=0, method="greedy"):
    """The user's area as an XLSX file (formula-like text stays text), with the suggested bases as shown."""
    from layers.export import write_xlsx

    lang = norm_lang(lang)
    result = result_for_user(as_of, districts)
    sheets = result.sheets(lang)   # every header in the user's language, geometry as WKT text
    k = max(0, min(int(k or 0), 20))
    if k:
        suggested = _suggest(result, k, method)
        sheets[t("cov.sheet.bases", lang)] = pd.DataFrame(base_rows(suggested, lang)).rename(
            columns=lambda c: t(f"cov.sheet.bases.{c}", lang))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"coverage-{result.as_of.isoformat()}.xlsx"
        write_xlsx(sheets, path)
        return dcc.send_bytes(path.read_bytes(), path.name)
