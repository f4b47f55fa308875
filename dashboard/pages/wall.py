"""The command-centre wall (``/wall``, 指挥大屏): full screen, dark, refreshes and tours by itself.

Centre: the city map. Around it: the area's figures, the district ranking by risk index, the 3D view (pydeck)
and a ticker of the newest major and overdue hazards. Every ``Settings.wall_refresh_s`` seconds the wall asks
the store for its data version; unchanged -> nothing is sent (``no_update``); changed -> the picture is
redrawn; unreadable -> the last good picture stays and the header says it is stale. With a tour interval
(``Settings.wall_tour_s`` or ``/wall?tour=30``) it zooms to one district after another (a district user:
one town after another) and the figures follow.

Flood season mode (``layers.emergency.flood_season``): when it is on, the flood layers come forward on the map
(flood points by severity, pumps and supplies, tunnels and underpasses) and a flood panel shows the counts per
district and the worst points; a banner in the colour of the weather warning in force shows whenever one is
(any mode); at orange or red the wall puts flood risk first (the flood panel takes the left column, the map
shows the flood layers alone, the ticker starts with the worst flood points). The on-duty panel shows who is on
duty now (``layers.emergency.duty.on_duty``: the city's duty room, a district wall its district's). The mode,
the warning and the people on duty are checked at every refresh: a change redraws even when the data version
did not move (a shift handover, the first day of the season).

The area shown is always narrowed on the server to what the session's user may see (``context.scope``).
Timing marker for benchmarks: ``window.__wallReady`` becomes true (and ``#wall[data-ready="1"]`` is set) once
the map's plot has been drawn; ``#wall-map .js-plotly-plot`` exists from then on.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

import dash
import numpy as np
import pandas as pd
import shapely
from dash import (
    ClientsideFunction,
    Input,
    Output,
    Patch,
    State,
    callback,
    clientside_callback,
    dcc,
    html,
    no_update,
)

from dashboard import context, warmup
from dashboard.components import deck
from dashboard.components.errors import denied_page
from dashboard.components.mapfig import MapOptions, build_map, graph_config, ring_coords
from dashboard.components.mapfig.flood import flood_traces
from dashboard.components.mapfig.legend import legend_box
from dashboard.components.mapfig.traces import line_trace, lonlat
from dashboard.components.theme import MAP_COLOURS
from dashboard.emergency import duty_panels
from dashboard.i18n import norm_lang, register, t, with_query
from layers.analysis import coverage, readiness, summary
from layers.emergency.duty import on_duty
from layers.emergency.flood_season import FloodMode, FloodPicture, flood_mode, flood_picture
from layers.errors import RiskMapError
from layers.schema import FLOOD_SEVERITY, GRADE_ORDER, label
from layers.store import open_store

log = logging.getLogger(__name__)

dash.register_page(__name__, path="/wall", title="指挥大屏")


class Ids(StrEnum):
    ROOT = "wall"
    MAP = "wall-map"
    KPIS = "wall-kpis"
    RANK = "wall-rank"
    RANK_TITLE = "wall-rank-title"
    TICKER = "wall-ticker"
    DECK = "wall-deck"
    DECK_SINK = "wall-deck-sink"
    STATUS = "wall-status"
    UPDATED = "wall-updated"
    FOCUS_LABEL = "wall-focus"
    REFRESH = "wall-refresh"
    TOUR = "wall-tour"
    STATE = "wall-state"
    FOCUS = "wall-focus-store"
    CONF = "wall-conf"
    VIEW = "wall-view"
    BANNER = "wall-banner"
    FLOOD = "wall-flood"
    FLOOD_TITLE = "wall-flood-title"
    DUTY = "wall-duty"
    LEGEND = "wall-legend"


register({
    "wall.title": ("城市安全生产风险指挥大屏", "City work-safety command centre"),
    "wall.city": ("全市", "Whole city"),
    "wall.enterprises": ("监管企业", "Enterprises"),
    "wall.major_hazards": ("重大隐患未销号", "Open major hazards"),
    "wall.overdue": ("逾期未整改隐患", "Overdue hazards"),
    "wall.inspections_30d": ("近30日检查", "Inspections, last 30 days"),
    "wall.coverage": ("检查覆盖率", "Inspection coverage"),
    "wall.coverage_note": ("风险加权 · 在规定周期内已检查", "risk-weighted, inspected within interval"),
    "wall.readiness": ("救援力量未及时可达", "Beyond rescue reach"),
    "wall.readiness.plans": ("无预案", "no plan"),
    "wall.readiness.drills": ("演练逾期", "drills late"),
    "wall.readiness.supplies": ("内涝点物资不足", "supplies short"),
    "wall.rank_districts": ("区县风险指数排名", "District risk index"),
    "wall.rank_towns": ("镇街风险指数排名", "Town risk index"),
    "wall.ticker": ("最新重大及逾期隐患", "Newest major and overdue hazards"),
    "wall.ticker_empty": ("当前无重大或逾期隐患", "No open major or overdue hazards"),
    "wall.badge_major": ("重大", "MAJOR"),
    "wall.badge_overdue": ("逾期", "OVERDUE"),
    "wall.badge_listed": ("挂牌督办", "LISTED"),
    "wall.enforcement": ("执法与惩戒", "Enforcement"),
    "wall.listed": ("挂牌督办", "Listed"),
    "wall.suspended": ("停产整顿", "Suspended"),
    "wall.repeat": ("屡查屡犯", "Repeat offenders"),
    "wall.blacklisted": ("黑名单", "Blacklist"),
    "wall.found": ("发现", "found"),
    "wall.overdue_days": ("逾期 {n} 天", "{n} days overdue"),
    "wall.as_of": ("数据截至 {d}", "Data as of {d}"),
    "wall.updated": ("数据更新 {t}", "Data updated {t}"),
    "wall.checked": ("刷新 {t}", "Checked {t}"),
    "wall.ok": ("实时", "LIVE"),
    "wall.stale": ("数据源不可读，显示的是 {t} 的数据", "Data source unreadable; showing data from {t}"),
    "wall.no_data": ("数据暂不可读，正在重试", "Data cannot be read yet; retrying"),
    "wall.tour": ("轮巡", "Tour"),
    "wall.deck": ("三维风险 · 燃气管网", "3D risk · gas network"),
    "wall.lang": ("English", "中文"),
    "wall.grade.major": ("重大", "Major"),
    "wall.grade.high": ("较大", "High"),
    "wall.grade.moderate": ("一般", "Moderate"),
    "wall.grade.low": ("低", "Low"),
    "wall.badge_flood": ("内涝", "FLOOD"),
    "wall.rank_more": ("另有 {n} 个", "+{n} more"),
})

TICKER_ITEMS = 20
#: map layers the wall shows (mapfig toggle keys): risk, where the enterprises are, hazards, gas, rail
WALL_LAYERS = frozenset({"risk", "enterprises", "hazards", "gas_pipelines", "rail"})
#: in flood mode the flood layers come forward alone over the areas and the basemap (the risk index's reds and
#: oranges would hide the severity colours; enterprises, gas and rail step back)
FLOOD_LAYERS: frozenset[str] = frozenset()
#: above this many enterprises in the area the wall's map draws them as H3 hexagons (city zoom)
WALL_POINT_LIMIT = 2000
#: rows of the ranking at most (more areas: the last row says how many are not shown)
RANK_ROWS = 12


# --------------------------------------------------------------------------------------------------
# What the wall shows (plain functions over layers.summary; called by the callbacks and the deck route)
# --------------------------------------------------------------------------------------------------

def tour_stops(city: summary.City, scope: list[str] | None, towns: list[str] | None = None
               ) -> list[dict[str, str | None]]:
    """The areas the tour visits: the whole area first, then each district (a district user: each town; a
    town user: its town)."""
    if towns is not None and scope:
        return [{"district": scope[0], "town": t} for t in towns]
    if scope is not None and len(scope) == 1:
        towns = city.towns[city.towns["district_code"] == scope[0]].sort_values("code")
        return [{"district": scope[0], "town": None}] + [{"district": scope[0], "town": str(c)}
                                                         for c in towns["code"]]
    districts = city.districts if scope is None else city.districts[city.districts["code"].isin(scope)]
    return [{"district": None, "town": None}] + [{"district": str(c), "town": None}
                                                 for c in districts.sort_values("code")["code"]]


def filters_for(scope: list[str] | None, focus: Mapping[str, Any] | None) -> summary.Filters:
    """Filters of the focused area, checked against the user's scope (a focus outside it raises)."""
    focus = focus or {}
    district = focus.get("district")
    districts = context.scope(district) if district else scope
    town = focus.get("town") or None
    towns = context.allowed_towns()
    if towns is not None:   # a town leader's wall: its town, whatever the focus says
        context.authorize(context.action(), towns=town)
        town = town or (towns[0] if towns else "-")
    return summary.Filters.make(districts=districts, town=town)


def area_name(sel: summary.Selection, lang: str) -> str:
    def pick(frame: pd.DataFrame) -> str:
        row = frame.iloc[0]
        en = row.get("name_en")
        return str(en) if lang == "en" and isinstance(en, str) and en else str(row["name"])
    if sel.level == "town" and len(sel.towns):
        return f"{pick(sel.districts)} · {pick(sel.towns)}"
    if sel.level == "district" and len(sel.districts):
        return pick(sel.districts)
    return t("wall.city", lang)


def coverage_share(store: Any, sel: summary.Selection, settings: Any) -> float | None:
    """Coverage of the area (layers.coverage): the share of its risk weight inspected within each object's
    interval, as of the city's "as of" date. None when the area carries no risk weight."""
    as_of = sel.city.as_of.date() if sel.city.as_of is not None else None
    res = coverage.compute_cached(store, as_of=as_of, settings=settings)
    if sel.level == "town":
        rows = res.by_town[res.by_town["town_code"] == sel.filters.town]
    elif sel.filters.districts is not None:
        rows = res.by_district[res.by_district["district_code"].isin(sel.filters.districts)]
    else:
        rows = res.by_district
    weight = float(rows["risk_weight"].sum()) if len(rows) else 0.0
    return float(rows["risk_weight_in_time"].sum()) / weight if weight > 0 else None


#: how long the wall's refresh waits for the readiness result before drawing without it (s)
READINESS_WAIT_S = 0.5
_READINESS_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="riskmap-wall-readiness")


def readiness_counts(store: Any, sel: summary.Selection, settings: Any) -> dict | None:
    """The area's readiness gaps (layers.analysis.readiness, as of the city's date): objects no ready resource
    of a needed kind reaches in time, plans missing, drills overdue or never held, flood points short of
    supplies. None when it cannot be computed (the tile shows —, the wall carries on)."""
    as_of = sel.city.as_of.date() if sel.city.as_of is not None else None
    # computed beside the wall's refresh, not in it: a cold result (after a start or an import) would hold up the
    # whole picture; until it is ready the tile shows — and the next refresh fills it (the cache is single-flight)
    job = _READINESS_POOL.submit(readiness.compute_cached, store, as_of=as_of, settings=settings)
    try:
        res = job.result(timeout=READINESS_WAIT_S)
    except FutureTimeout:
        return None
    except RiskMapError:
        log.exception("readiness for the wall failed")
        return None
    if sel.level == "town":
        res = res.for_towns([sel.filters.town])
    elif sel.filters.districts is not None:
        res = res.for_districts(sel.filters.districts)
    return dict(res.summary)


def ticker_rows(sel: summary.Selection, *, limit: int = TICKER_ITEMS) -> pd.DataFrame:
    """The newest open hazards that are major or overdue (found date descending)."""
    h = sel.hazards
    h = h[h["unclosed"] & (h["level"].eq("major") | h["overdue"])]
    return h.sort_values(["found_date", "id"], ascending=[False, False]).head(limit)


def now_local() -> datetime:
    """Now on the server's local clock (naive): the season's days and the roster's times are local."""
    return datetime.now().astimezone().replace(tzinfo=None)


def duty_room(scope: list[str] | None) -> str | None:
    """The roster the wall shows: the city's duty room (None) for a city-wide wall, a district wall its
    district's."""
    return scope[0] if scope is not None and len(scope) == 1 else None


def duty_now(store: Any, scope: list[str] | None) -> tuple[pd.DataFrame, str | None]:
    """(who is on duty now, the room: a district code or None for the city's duty room) for the wall's room; a
    district without its own roster shows the city's room."""
    now = now_local()
    room = duty_room(scope)
    rows = on_duty(store, now, room)
    if room is not None and not len(rows):
        room, rows = None, on_duty(store, now, None)
    return rows, room


def duty_key(rows: pd.DataFrame) -> str:
    """Changes when someone else goes on duty."""
    return ",".join(rows["id"].astype(str)) if len(rows) else ""


def flood_state(store: Any, settings: Any) -> FloodMode:
    return flood_mode(now_local().date(), settings, store)


def picture(store: Any, settings: Any, scope: list[str] | None, focus: Mapping[str, Any] | None,
            lang: str, *, font_scale: float = 1.5, with_map: bool = True,
            box: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Everything the wall draws for one area: figures, ranking, ticker, the map figure (a dict; None
    unless ``with_map``), the flood mode, its flood picture (None when the mode is off) and who is on duty."""
    city = summary.load_city(store)
    mode = flood_state(store, settings)
    flood = flood_picture(store, settings, now_local().date(), context.authorize(context.action())) \
        if mode.on else None
    sel = summary.select(city, filters_for(scope, focus))
    figs = summary.area_figures(sel)
    whole = summary.select(city, summary.Filters.make(districts=scope))
    rank = summary.area_risk_index(city, whole.filters, weights=settings.risk_index_weights)
    dnames = {str(c): (en if lang == "en" and isinstance(en, str) and en else zh)
              for c, zh, en in zip(city.districts["code"], city.districts["name"],
                                   city.districts["name_en"] if "name_en" in city.districts else
                                   [None] * len(city.districts), strict=True)}
    fig = map_figure(whole, sel, rank, lang, font_scale=font_scale, flood=flood, alert=mode.alert, box=box) \
        if with_map else None
    return {
        "version": city.version,
        "as_of": figs["as_of"],
        "area": area_name(sel, lang),
        "figures": figs,
        "coverage": coverage_share(store, sel, settings),
        "readiness": readiness_counts(store, sel, settings),
        "rank": rank.sort_values(["index", "code"], ascending=[False, True]).to_dict("records"),
        "rank_level": "district" if whole.level == "city" else "town",
        "ticker": ticker_rows(sel).assign(district_name=lambda f: f["district_code"].map(dnames)),
        "as_of_ts": city.as_of,
        "map": fig,
        "legend": fig.pop("_legend") if fig is not None else None,
        "selection": sel,
        "mode": mode,
        "flood": flood,
        "duty": duty_now(store, scope),
        "district_names": dnames,
    }


# --------------------------------------------------------------------------------------------------
# The map: mapfig's dark map of the whole area in scope, zoomed to the focus, the focus outlined last
# --------------------------------------------------------------------------------------------------

def _focus_outline(sel: summary.Selection) -> tuple[np.ndarray, np.ndarray]:
    """lon, lat of the focused area's outline (NaN between parts); empty when the focus is the whole area."""
    if sel.level == "town":
        geoms = np.asarray(sel.towns.geometry.values)
    elif sel.level == "district":
        geoms = np.asarray(sel.districts.geometry.values)
    else:
        geoms = np.empty(0, dtype=object)
    return ring_coords(geoms)


def _uirevision(sel: summary.Selection) -> str:
    return f"wall:{sel.level}:{','.join(sel.filters.districts or ())}:{sel.filters.town or ''}"


#: the wall's map box at 1080 px of screen height, and the key's box in its top right corner (the browser
#: reports the real ones: ``viewport`` in assets/wall.js; these are for the first picture)
WALL_MAP_PX = (1000, 840)
WALL_LEGEND_PX = (150, 440)
#: space kept free around the focus inside the map (px at 1080 p; fitBounds' padding)
WALL_FIT_PAD_PX = 24


def map_box(view: Mapping[str, Any] | None, font_scale: float | None = None) -> dict[str, float]:
    """The map's and the key's pixel size (``mw``, ``mh``, ``lw``, ``lh``) from the browser's report, else
    the sizes at 1080 p scaled to the screen."""
    v = view or {}
    try:
        box = {k: float(v[k]) for k in ("mw", "mh", "lw", "lh")}
        if box["mw"] >= 50 and box["mh"] >= 50 and 0 <= box["lw"] < box["mw"] and 0 <= box["lh"] <= box["mh"]:
            return {k: round(x) for k, x in box.items()}
    except (KeyError, TypeError, ValueError):
        pass
    h = v.get("h")
    k = float(h) / 1080 if isinstance(h, int | float) and h > 0 else (font_scale or BASE_FONT_SCALE) / BASE_FONT_SCALE
    return {"mw": WALL_MAP_PX[0] * k, "mh": WALL_MAP_PX[1] * k, "lw": WALL_LEGEND_PX[0] * k,
            "lh": WALL_LEGEND_PX[1] * k}


def _merc(lat: float) -> float:
    r = math.radians(max(min(lat, 85.0), -85.0))
    return math.log(math.tan(math.pi / 4 + r / 2))


def fit_view(bounds: tuple[float, float, float, float], box: Mapping[str, float], *,
             pad_px: float = WALL_FIT_PAD_PX, max_zoom: float = 16.0) -> tuple[dict, float]:
    """MapLibre ``fitBounds`` with the key as padding: centre and zoom that show ``bounds`` (lon/lat) whole
    inside the map (``box["mw"]`` x ``box["mh"]`` px) and clear of the key (``lw`` x ``lh`` px in its top right
    corner), ``pad_px`` from every edge. The focus goes left of the key or below it, whichever lets it be
    larger. Web Mercator, 512 px tiles (MapLibre's zoom)."""
    minx, miny, maxx, maxy = bounds
    mw, mh, lw, lh = (float(box[k]) for k in ("mw", "mh", "lw", "lh"))
    pad = pad_px * mh / WALL_MAP_PX[1]   # grows with the screen
    dx = max(maxx - minx, 1e-6) / 360.0                     # world fractions
    dy = max(_merc(maxy) - _merc(miny), 1e-9) / (2 * math.pi)
    # (left, top, width, height) of the free rectangles: left of the key, below it
    free = [(0.0, 0.0, mw - lw, mh), (0.0, lh, mw, mh - lh)]
    best = None
    for x0, y0, w, h in free:
        w, h = w - 2 * pad, h - 2 * pad
        if w <= 10 or h <= 10:
            continue
        z = math.log2(min(w / (dx * 512), h / (dy * 512)))
        if best is None or z > best[0]:
            best = (z, x0 + pad + w / 2, y0 + pad + h / 2)
    if best is None:
        best = (math.log2(min(mw / (dx * 512), mh / (dy * 512))), mw / 2, mh / 2)
    zoom = max(0.0, min(best[0], max_zoom))
    world = 512 * 2 ** zoom
    # the focus' centre sits at (cx, cy) px; the map's centre is (mw/2, mh/2) px
    fx, fy = (minx + maxx) / 2 / 360 + 0.5, 0.5 - (_merc(maxy) + _merc(miny)) / 2 / (2 * math.pi)
    cx, cy = fx + (mw / 2 - best[1]) / world, fy + (mh / 2 - best[2]) / world
    lon = (cx - 0.5) * 360
    lat = math.degrees(2 * math.atan(math.exp((0.5 - cy) * 2 * math.pi)) - math.pi / 2)
    return {"lon": round(lon, 6), "lat": round(lat, 6)}, round(zoom, 3)


def _view(sel: summary.Selection, font_scale: float, box: Mapping[str, float] | None = None) -> tuple[dict, float]:
    """Centre and zoom that fit the focused area into the wall's map, clear of the key in its top right."""
    return fit_view(tuple(sel.bounds), box or map_box(None, font_scale))


def map_legend(fig_legend: list[dict], lang: str, *, flood: FloodPicture | None = None) -> list[dict]:
    """The wall's key (entries for :func:`legend.legend_box`) from mapfig's entries: what its map shows (the
    layers in :data:`WALL_LAYERS`, rail lines and stations among them; in flood mode the flood layers)."""
    visible = WALL_LAYERS if flood is None else FLOOD_LAYERS
    entries = [e for e in fig_legend if e["key"] in visible]
    if flood is not None:
        for tr in flood_traces(flood, lang=lang, paper=MAP_COLOURS["dark"]["paper"]):
            if tr.get("showlegend") and list(tr.get("lon") or []) == [None]:
                entries.append({"key": "flood", "title": (tr.get("legendgrouptitle") or {}).get("text"),
                                "name": tr["name"], "color": tr["marker"]["color"],
                                "size": tr["marker"].get("size", 10)})
    order = {k: i for i, k in reversed(list(enumerate(e["key"] for e in entries)))}
    return sorted(entries, key=lambda e: order[e["key"]])   # a layer's entries together (rail stations too)


def legend_panel(entries: list[dict] | None) -> Any:
    return legend_box(entries or [], theme="dark", box_id="wall-legend-box", relative=True) if entries else None


def map_figure(whole: summary.Selection, sel: summary.Selection, rank: pd.DataFrame, lang: str, *,
               font_scale: float = 1.5, flood: FloodPicture | None = None, alert: bool = False,
               box: Mapping[str, float] | None = None) -> dict:
    """The dark map of ``whole`` (every layer; enterprises as H3 hexagons when many) zoomed to ``sel``, the
    focused area outlined by the last trace. Not draggable: a wall is watched, not handled. With ``flood`` (flood
    mode) the flood layers are drawn alone over the areas (:data:`FLOOD_LAYERS`)."""
    # the key is HTML beside the map (:func:`map_legend`): sized with the screen, no legend traces on the map
    mf = build_map(whole, MapOptions(lang=lang, theme="dark", legend="html", font_scale=font_scale,
                                     visible=WALL_LAYERS if flood is None else FLOOD_LAYERS,
                                     point_limit=WALL_POINT_LIMIT,
                                     uirevision=_uirevision(sel)), risk=rank)
    fig = mf.figure
    # a wall is watched, not hovered: hidden layers and hover texts stay on the server (a fifth of the size)
    data = []
    for trace in fig["data"]:
        if trace.get("visible", True) is False:
            continue
        for k in ("hovertext", "customdata", "hovertemplate", "text"):
            trace.pop(k, None)
        trace["hoverinfo"] = "skip"
        data.append(trace)
    fig["data"] = data
    crs = fig["layout"]["meta"].get("crs", "wgs84")
    if flood is not None:
        fig["data"].extend(flood_traces(flood, lang=lang, font_scale=font_scale, crs=crs, legend=False,
                                        paper=MAP_COLOURS["dark"]["paper"]))
    x, y = _focus_outline(sel)
    fig["data"].append({**line_trace(x, y, name="focus", color=MAP_COLOURS["dark"]["selected"],
                                     width=3 * font_scale, crs=crs), "showlegend": False})
    center, zoom = _view(sel, font_scale, box)
    fig["layout"]["map"]["center"], fig["layout"]["map"]["zoom"] = center, zoom
    fig["layout"]["showlegend"] = False
    fig["layout"]["dragmode"] = False
    fig["layout"]["meta"] = {**fig["layout"].get("meta", {}), "wall_focus_trace": len(fig["data"]) - 1}
    fig["_legend"] = map_legend(mf.extra["legend"], lang, flood=flood)   # picture() takes it out
    return fig


def focus_patch(sel: summary.Selection, trace_index: int, *, font_scale: float = 1.5,
                crs: str = "wgs84", box: Mapping[str, float] | None = None) -> Patch:
    """Move the drawn map to ``sel`` without sending the map again: a new centre and zoom, the focus outline."""
    patch = Patch()
    center, zoom = _view(sel, font_scale, box)
    patch["layout"]["map"]["center"] = center
    patch["layout"]["map"]["zoom"] = zoom
    patch["layout"]["map"]["uirevision"] = _uirevision(sel)
    patch["layout"]["uirevision"] = _uirevision(sel)
    x, y = _focus_outline(sel)
    lon, lat = lonlat(x, y, crs)
    patch["data"][trace_index]["lon"] = lon
    patch["data"][trace_index]["lat"] = lat
    return patch


# --------------------------------------------------------------------------------------------------
# Components
# --------------------------------------------------------------------------------------------------

def _fmt_int(n: int | None) -> str:
    return "—" if n is None else f"{int(n):,}"


def kpi_tiles(pic: Mapping[str, Any] | None, lang: str) -> list[html.Div]:
    figs = (pic or {}).get("figures") or {}
    ent = figs.get("enterprises") or {}
    hz = figs.get("hazards") or {}
    cov = (pic or {}).get("coverage")
    rd = (pic or {}).get("readiness") or {}
    enf = figs.get("enforcement") or {}
    grades = html.Div(className="wall-grades", children=[
        html.Div(className=f"wall-grade grade-{g}", children=[
            html.Span(t(f"wall.grade.{g}", lang), className="wall-grade-label"),
            html.Span(_fmt_int(ent.get(g)), className="wall-grade-value", id=f"wall-kpi-grade-{g}"),
        ]) for g in GRADE_ORDER])

    def tile(key: str, label: str, value: str, extra: Any = None, cls: str = "") -> html.Div:
        return html.Div(className=f"wall-tile {cls}", id=f"wall-kpi-{key}", children=[
            html.Div(label, className="wall-tile-label"),
            html.Div(value, className="wall-tile-value"),
            extra,
        ])

    return [
        tile("enterprises", t("wall.enterprises", lang), _fmt_int(ent.get("total")) if ent else "—", grades,
             "wall-tile-ent"),
        tile("major", t("wall.major_hazards", lang), _fmt_int(hz.get("major")) if hz else "—", None, "alarm"),
        tile("overdue", t("wall.overdue", lang), _fmt_int(hz.get("overdue")) if hz else "—", None, "warn"),
        tile("inspections", t("wall.inspections_30d", lang), _fmt_int(figs.get("inspections_30d"))
             if figs else "—"),
        tile("coverage", t("wall.coverage", lang), "—" if cov is None else f"{100 * cov:.1f}%",
             html.Div(t("wall.coverage_note", lang), className="wall-tile-note")),
        tile("readiness", t("wall.readiness", lang), _fmt_int(rd.get("objects_reach_gap")) if rd else "—",
             html.Div(className="wall-tile-note", children=" · ".join(
                 f"{t(k, lang)} {_fmt_int(rd.get(c))}" for k, c in (
                     ("wall.readiness.plans", "plan_gaps"), ("wall.readiness.drills", "drill_gaps"),
                     ("wall.readiness.supplies", "flood_points_short")))) if rd else None, "warn"),
        tile("enforcement", t("wall.enforcement", lang), _fmt_int(enf.get("suspended")) if enf else "—",
             html.Div(className="wall-tile-note", children=" · ".join(
                 f"{t(k, lang)} {_fmt_int(v)}" for k, v in (
                     ("wall.suspended", enf.get("suspended")), ("wall.listed", hz.get("listed")),
                     ("wall.repeat", enf.get("repeat")), ("wall.blacklisted", enf.get("blacklisted")))
                 if v is not None)) if enf else None, "warn"),
    ]


def ranking(pic: Mapping[str, Any] | None, focus: Mapping[str, Any] | None, lang: str) -> list[html.Div]:
    rows = (pic or {}).get("rank") or []
    level = (pic or {}).get("rank_level", "district")
    focus = focus or {}
    current = focus.get("town") if level == "town" else focus.get("district")
    out = []
    shown = list(enumerate(rows, start=1))
    if len(shown) > RANK_ROWS:   # the last row says how many more; the focused area stays in view
        keep = shown[:RANK_ROWS - 1]
        here = next((x for x in shown[RANK_ROWS - 1:] if x[1].get("code") == current), None)
        shown = keep[:-1] + [here] if here is not None else keep
    for i, r in shown:
        name = r.get("name_en") if lang == "en" and isinstance(r.get("name_en"), str) and r.get("name_en") \
            else r.get("name")
        idx = float(r.get("index") or 0.0)
        out.append(html.Div(className="wall-rank-row" + (" current" if r.get("code") == current else ""),
                            **{"data-code": str(r.get("code"))}, children=[
            html.Span(str(i), className="wall-rank-no"),
            html.Span(str(name), className="wall-rank-name" + _name_size(str(name))),
            html.Span(className="wall-rank-bar",
                      children=html.Span(style={"width": f"{max(idx, 1.5):.1f}%"})),
            html.Span(f"{idx:.0f}", className="wall-rank-value"),
        ]))
    if len(rows) > len(out):
        out.append(html.Div(t("wall.rank_more", lang).format(n=len(rows) - len(out)),
                            className="wall-rank-row wall-rank-more"))
    return out


def flood_ticker_items(pic: Mapping[str, Any] | None, lang: str) -> list[Any]:
    """At an orange or red warning: the worst flood points first in the ticker."""
    mode, fp = (pic or {}).get("mode"), (pic or {}).get("flood")
    if mode is None or fp is None or not mode.alert:
        return []
    names = (pic or {}).get("district_names") or {}
    items = []
    for _, p in fp.worst(8).iterrows():
        sev = str(p["severity"])
        depth = p.get("worst_depth_cm")
        text = " · ".join(s for s in (str(p["name"]), label(FLOOD_SEVERITY, sev, lang),
                                      t("flood.depth", lang).format(d=int(depth)) if depth is not None and
                                      not pd.isna(depth) else "", names.get(str(p.get("district_code")), "")) if s)
        items.append(html.Span(className="wall-ticker-item flood", **{"data-flood": str(p["id"])}, children=[
            html.Span(t("wall.badge_flood", lang), className="badge flood",
                      style={"background": FLOOD_SEVERITY.get(sev, {"color": "#5B6B82"})["color"]}),
            html.Span(text)]))
    return items


def ticker(pic: Mapping[str, Any] | None, lang: str) -> list[Any]:
    rows = (pic or {}).get("ticker")
    flood_items = flood_ticker_items(pic, lang)
    if (rows is None or len(rows) == 0) and not flood_items:
        return [html.Span(t("wall.ticker_empty", lang), className="wall-ticker-empty")]
    rows = rows if rows is not None else pd.DataFrame()
    as_of = (pic or {}).get("as_of_ts")
    items = list(flood_items)
    for r in rows.to_dict("records"):
        badges = []
        if r.get("level") == "major":
            badges.append(html.Span(t("wall.badge_major", lang), className="badge major"))
        if r.get("overdue"):
            badges.append(html.Span(t("wall.badge_overdue", lang), className="badge overdue"))
        if not pd.isna(r.get("listed", False)) and bool(r.get("listed", False)):
            badges.append(html.Span(t("wall.badge_listed", lang), className="badge listed"))
        found = summary.as_date(r.get("found_date"))
        late = ""
        dl = summary.as_date(r.get("deadline"))
        if r.get("overdue") and dl is not None and as_of is not None:
            late = t("wall.overdue_days", lang).format(n=(as_of.date() - dl).days)
        what = str(r.get("description") or r.get("type") or "")
        what = what if len(what) <= 24 else what[:23] + "…"
        text = " · ".join(s for s in (str(r.get("obj_name") or r.get("target_id") or ""), what,
                                      str(r.get("district_name") or ""),
                                      f"{t('wall.found', lang)} {found.isoformat()}" if found else "", late) if s)
        items.append(html.Span(className="wall-ticker-item", **{"data-hazard": str(r.get("id"))},
                               children=[*badges, html.Span(text)]))
    # the row twice, so the scroll loops without a gap
    return [html.Div(className="wall-ticker-track", children=[
        html.Div(items, className="wall-ticker-run"),
        html.Div(items, className="wall-ticker-run", **{"aria-hidden": "true"}),
    ])]


def _local(ts: str | datetime | None) -> str:
    if ts is None:
        return "—"
    d = datetime.fromisoformat(ts) if isinstance(ts, str) else ts
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return d.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _focus_key(focus: Mapping[str, Any] | None) -> str:
    """The area a picture was drawn for, as one string ("" = the whole area in scope)."""
    f = focus or {}
    return f"{f.get('district') or ''}/{f.get('town') or ''}"


def _district_names(store: Any, lang: str) -> tuple[list[str], list[str]]:
    from layers.store import cached_read

    d = cached_read(store, "districts", columns=["code", "name", "name_en"])
    return [str(c) for c in d["code"]], [str(en) if lang == "en" and isinstance(en, str) and en else str(zh)
                                          for zh, en in zip(d["name"], d["name_en"], strict=True)]


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def status_line(state: Mapping[str, Any], lang: str) -> tuple[list[Any], str]:
    """Children and class of the status chip: live, or stale since the last good picture."""
    if state.get("stale"):
        since = state.get("good_at")
        text = t("wall.stale", lang).format(t=_local(since)) if since else t("wall.no_data", lang)
        return [html.Span("⚠ ", className="wall-status-icon"), text], "wall-status stale"
    return [html.Span("● ", className="wall-status-icon"), t("wall.ok", lang)], "wall-status ok"


def updated_line(state: Mapping[str, Any], lang: str) -> list[Any]:
    parts = []
    if state.get("as_of"):
        parts.append(html.Span(t("wall.as_of", lang).format(d=state["as_of"])))
    if state.get("written"):
        parts.append(html.Span(t("wall.updated", lang).format(t=_local(state["written"]))))
    if state.get("checked_at"):
        parts.append(html.Span(t("wall.checked", lang).format(t=_local(state["checked_at"])[-8:])))
    return parts


def _empty_map(lang: str) -> dict:
    """The map's frame while no data could be read yet (the refresh fills it in)."""
    paper = MAP_COLOURS["dark"]["paper"]
    return {"data": [], "layout": {
        "paper_bgcolor": paper, "plot_bgcolor": paper, "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "xaxis": {"visible": False}, "yaxis": {"visible": False},   # no map (no style request) until data
        "annotations": [{"text": t("wall.no_data", lang), "showarrow": False, "x": 0.5, "y": 0.5, "xref": "paper",
                         "yref": "paper", "font": {"size": 24, "color": MAP_COLOURS["dark"]["town_label"]}}]}}


#: map text size at 1080 px of screen height (mapfig's sizes x this); grows with the screen
BASE_FONT_SCALE = 1.5


def font_scale(view: Mapping[str, Any] | None) -> float:
    """Map text scale for the browser's viewport (``{"h": innerHeight}``), in steps of 0.25."""
    h = float((view or {}).get("h") or 1080)
    return max(1.0, round(BASE_FONT_SCALE * h / 1080 * 4) / 4)


def wall_class(pic: Mapping[str, Any] | None) -> str:
    """The root's classes: ``flood`` in flood mode, ``warned`` while a warning is in force, ``alert`` when flood
    risk comes first (orange or red flood-relevant warning)."""
    mode = (pic or {}).get("mode")
    cls = ["wall"]
    if mode is not None and mode.on:
        cls.append("flood")
    if mode is not None and mode.warning is not None and mode.warning.active:
        cls.append("warned")
    if mode is not None and mode.alert:
        cls.append("alert")
    return " ".join(cls)


def flood_outputs(pic: Mapping[str, Any] | None, focus: Mapping[str, Any] | None, lang: str) -> tuple:
    """(banner children, banner class, banner style, flood panel, flood title, duty panel, root class)."""
    mode = (pic or {}).get("mode")
    children, cls, style = duty_panels.banner(mode.warning if mode is not None else None, lang)
    current = (focus or {}).get("district")
    panel = duty_panels.flood_panel((pic or {}).get("flood"), lang, alert=bool(mode and mode.alert),
                                    current=current)
    title = t("flood.panel_alert" if mode is not None and mode.alert else "flood.panel", lang)
    return (children, cls, style, panel, title, duty_tile(pic, lang), wall_class(pic))


def duty_tile(pic: Mapping[str, Any] | None, lang: str) -> list[Any]:
    rows, room = (pic or {}).get("duty") or (None, None)
    names = (pic or {}).get("district_names") or {}
    return duty_panels.duty_panel(rows if rows is not None else pd.DataFrame(), lang,
                                  names.get(room, room) if room else t("duty.city_room", lang))


# --------------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------------

def _name_size(name: str) -> str:
    """A smaller font for a long area name (English ones run to 20+ letters), two lines for a very long one, so
    the ranking shows whole names rather than cutting them (assets/wall.css)."""
    return " longer" if len(name) > 24 else " long" if len(name) > 17 else ""


def _tour_seconds(tour: str | None, default: int) -> int:
    try:
        return max(0, int(float(tour))) if tour not in (None, "") else int(default)
    except ValueError:
        return int(default)


@context.checked("wall.read", denied=denied_page)
def layout(lang: str | None = None, tour: str | None = None, **query: str) -> html.Div:
    lang = norm_lang(lang)
    settings = context.settings()
    tour_s = _tour_seconds(tour, settings.wall_tour_s)
    scope = context.scope()
    state: dict[str, Any] = {"version": None, "stale": False, "good_at": None, "checked_at": _now()}
    stops: list[dict[str, Any]] = []
    pic = None
    try:
        store = context.store()
        city = summary.load_city(store)
        warm_deck(lang)   # the 3D view's data, made beside the first picture (its frame asks for it at once)
        stops = tour_stops(city, scope, context.allowed_towns())
        focus = stops[0] if stops else {"district": None, "town": None}
        pic = picture(store, settings, scope, focus, lang, font_scale=BASE_FONT_SCALE)
        state.update(version=pic["version"], as_of=pic["as_of"], good_at=_now(), drawn=_focus_key(focus),
                     scale=BASE_FONT_SCALE, focus_trace=pic["map"]["layout"]["meta"]["wall_focus_trace"],
                     written=getattr(store, "last_write", store.last_import)())
    except Exception:  # noqa: BLE001 - the wall never shows an error page: it draws the frame and retries
        log.exception("wall: first picture failed")
        focus = {"district": scope[0] if scope and len(scope) == 1 else None, "town": None}
        state.update(stale=True)
    if pic is not None:
        state.update(flood_key=pic["mode"].key, duty_key=duty_key(pic["duty"][0]), box=map_box(None))
    banner_children, banner_class, banner_style, flood_panel, flood_title, duty, root_class = \
        flood_outputs(pic, focus, lang)
    status_children, status_class = status_line(state, lang)
    search = "&".join(f"{k}={v}" for k, v in {"tour": tour, **query}.items() if isinstance(v, str) and v)
    other = "en" if lang == "zh" else "zh"
    fig = pic["map"] if pic else _empty_map(lang)
    return html.Div(id=Ids.ROOT, className=root_class, **{"data-lang": lang, "data-ready": "0"}, children=[
        html.Header(className="wall-head", children=[
            html.Div(t("wall.title", lang), className="wall-title"),
            html.Div(className="wall-focus-box", children=[
                html.Span(t("wall.tour", lang) + " ▸ ", className="wall-tour-label") if tour_s else None,
                html.Span(pic["area"] if pic else "—", id=Ids.FOCUS_LABEL, className="wall-focus"),
            ]),
            html.Div(updated_line(state, lang), id=Ids.UPDATED, className="wall-updated"),
            html.Div(status_children, id=Ids.STATUS, className=status_class, role="status"),
            html.A(t("wall.lang", lang), href=with_query("/wall", search, lang=other if other != "zh" else None),
                   id="wall-lang-switch", className="wall-lang"),
        ]),
        html.Div(banner_children, id=Ids.BANNER, className=banner_class, style=banner_style, role="status"),
        html.Section(className="wall-kpis", id=Ids.KPIS, children=kpi_tiles(pic, lang)),
        html.Section(className="wall-duty-box", children=html.Div(duty, id=Ids.DUTY, className="wall-duty")),
        html.Section(className="wall-flood-box", children=[
            html.H2(flood_title, id=Ids.FLOOD_TITLE, className="wall-h"),
            html.Div(flood_panel, id=Ids.FLOOD, className="wall-flood")]),
        html.Section(className="wall-map-box", children=[
            dcc.Graph(id=Ids.MAP, figure=fig, className="wall-map", responsive=True,
                      config=graph_config(displayModeBar=False, scrollZoom=False, staticPlot=False)),
            html.Div(legend_panel((pic or {}).get("legend")), id=Ids.LEGEND, className="wall-legend"),
        ]),
        html.Section(className="wall-rank-box", children=[
            html.H2(t("wall.rank_districts" if (pic or {}).get("rank_level", "district") == "district"
                      else "wall.rank_towns", lang), id=Ids.RANK_TITLE, className="wall-h"),
            html.Div(ranking(pic, focus, lang), id=Ids.RANK, className="wall-rank"),
        ]),
        html.Section(className="wall-deck-box", children=[
            html.H2(t("wall.deck", lang), className="wall-h"),
            # src is set by assets/wall.js as soon as the wall is on the page (the frame draws its 2D picture
            # first and runs deck.gl after it: components/deck.py)
            html.Iframe(id=Ids.DECK, className="wall-deck", title=t("deck.title", lang),
                        **{"data-src": f"{deck.PAGE_ROUTE}?lang={lang}"}),
        ]),
        html.Section(className="wall-ticker-box", children=[
            html.Div(t("wall.ticker", lang), className="wall-ticker-title"),
            html.Div(ticker(pic, lang), id=Ids.TICKER, className="wall-ticker"),
        ]),
        dcc.Interval(id=Ids.REFRESH, interval=max(1, int(settings.wall_refresh_s)) * 1000),
        dcc.Interval(id=Ids.TOUR, interval=max(1, tour_s) * 1000, disabled=not tour_s or len(stops) < 2),
        dcc.Store(id=Ids.STATE, data=state),
        dcc.Store(id=Ids.FOCUS, data={**focus, "i": 0}),
        dcc.Store(id=Ids.CONF, data={"lang": lang, "stops": stops}),
        dcc.Store(id=Ids.VIEW),
        html.Div(id=Ids.DECK_SINK, hidden=True),
    ])


# --------------------------------------------------------------------------------------------------
# Callbacks
# --------------------------------------------------------------------------------------------------

@callback(Output(Ids.FOCUS, "data"), Input(Ids.TOUR, "n_intervals"), State(Ids.FOCUS, "data"),
          State(Ids.CONF, "data"), prevent_initial_call=True)
@context.checked("wall.read")
def advance_tour(_n: int | None, focus: dict | None, conf: dict | None) -> Any:
    """Next stop of the tour (the stops were made for this user on the server; the render re-checks scope)."""
    stops = (conf or {}).get("stops") or []
    if len(stops) < 2:
        return no_update
    i = (int((focus or {}).get("i", 0)) + 1) % len(stops)
    return {**stops[i], "i": i}


_OUTPUTS = [Output(Ids.MAP, "figure"), Output(Ids.KPIS, "children"), Output(Ids.RANK, "children"),
            Output(Ids.RANK_TITLE, "children"), Output(Ids.TICKER, "children"), Output(Ids.FOCUS_LABEL, "children"),
            Output(Ids.STATUS, "children"), Output(Ids.STATUS, "className"), Output(Ids.UPDATED, "children"),
            Output(Ids.BANNER, "children"), Output(Ids.BANNER, "className"), Output(Ids.BANNER, "style"),
            Output(Ids.FLOOD, "children"), Output(Ids.FLOOD_TITLE, "children"), Output(Ids.DUTY, "children"),
            Output(Ids.ROOT, "className"), Output(Ids.LEGEND, "children"), Output(Ids.STATE, "data")]
_FLOOD_KEEP = (no_update,) * 7


@callback(*_OUTPUTS, Input(Ids.REFRESH, "n_intervals"), Input(Ids.FOCUS, "data"), Input(Ids.VIEW, "data"),
          State(Ids.STATE, "data"), State(Ids.CONF, "data"), prevent_initial_call=True)
@context.checked("wall.read")
def refresh(_n: int | None, focus: dict | None, view: dict | None, state: dict | None, conf: dict | None
            ) -> tuple:
    """Redraw when the data version, the flood mode or the warning changed; move the map (a Patch) and redo the
    figures when only the focus or the map's size changed; only the on-duty panel when only the people on duty
    changed; send nothing when none did. When the store cannot be read, keep the picture and say "stale"."""
    lang = norm_lang((conf or {}).get("lang"))
    state = dict(state or {})
    state["checked_at"] = _now()
    keep = (no_update,) * 6
    try:
        store = context.store()
        version = store.data_version()
        written = getattr(store, "last_write", store.last_import)()
        fkey = flood_state(store, context.settings()).key
        dkey = duty_key(duty_now(store, context.scope())[0])
    except Exception:  # noqa: BLE001 - unreadable store: keep the last good picture
        log.warning("wall: store unreadable, keeping the last picture", exc_info=True)
        state["stale"] = True
        return (*keep, *status_line(state, lang), updated_line(state, lang), *_FLOOD_KEEP, no_update, state)
    want, scale = _focus_key(focus), font_scale(view)
    box = map_box(view)
    same_data = version == state.get("version") and not state.get("stale") and scale == state.get("scale") \
        and state.get("flood_key", fkey) == fkey
    if same_data and want == state.get("drawn") and box == state.get("box", box):
        if state.get("duty_key", dkey) == dkey:
            return (*keep, no_update, no_update, updated_line(state, lang), *_FLOOD_KEEP, no_update, state)
        try:   # a handover: only the on-duty panel
            rows, room = duty_now(store, context.scope())
            names = {str(c): str(n) for c, n in zip(*_district_names(store, lang), strict=True)}
            tile = duty_tile({"duty": (rows, room), "district_names": names}, lang)
        except Exception:  # noqa: BLE001 - keep the panel as it is; the next refresh tries again
            log.exception("wall: duty panel failed, keeping it")
            return (*keep, no_update, no_update, updated_line(state, lang), *_FLOOD_KEEP, no_update, state)
        state["duty_key"] = duty_key(rows)
        return (*keep, no_update, no_update, updated_line(state, lang), *(no_update,) * 5, tile, no_update, no_update,
                state)
    move_only = same_data and state.get("focus_trace") is not None
    try:
        pic = picture(store, context.settings(), context.scope(), focus, lang, font_scale=scale,
                      with_map=not move_only, box=box)
    except Exception:  # noqa: BLE001 - e.g. the file changed under us: keep the last good picture
        log.exception("wall: redraw failed, keeping the last picture")
        state["stale"] = True
        return (*keep, *status_line(state, lang), updated_line(state, lang), *_FLOOD_KEEP, no_update, state)
    if move_only:
        fig = focus_patch(pic["selection"], int(state["focus_trace"]), font_scale=scale,
                          crs=state.get("crs") or "wgs84", box=box)
    else:
        fig = pic["map"]
        state["focus_trace"] = fig["layout"]["meta"]["wall_focus_trace"]
        state["crs"] = fig["layout"]["meta"].get("crs", "wgs84")
    state.update(version=pic["version"], stale=False, good_at=_now(), as_of=pic["as_of"], written=written,
                 drawn=want, scale=scale, box=box, flood_key=pic["mode"].key, duty_key=duty_key(pic["duty"][0]))
    title = t("wall.rank_districts" if pic["rank_level"] == "district" else "wall.rank_towns", lang)
    return (fig, kpi_tiles(pic, lang), ranking(pic, focus, lang), title, ticker(pic, lang), pic["area"],
            *status_line(state, lang), updated_line(state, lang), *flood_outputs(pic, focus, lang),
            no_update if move_only else legend_panel(pic["legend"]), state)


clientside_callback(ClientsideFunction(namespace="riskmapWall", function_name="viewport"),
                    Output(Ids.VIEW, "data"), Input(Ids.CONF, "data"))
clientside_callback(ClientsideFunction(namespace="riskmapWall", function_name="toDeck"),
                    Output(Ids.DECK_SINK, "title"), Input(Ids.FOCUS, "data"), Input(Ids.STATE, "data"))


# --------------------------------------------------------------------------------------------------
# The 3D view's data (served by deck.install's route, inside the request: scope from the session)
# --------------------------------------------------------------------------------------------------

def _paths(geom: Any, tol: float = 0.0004) -> list[list[list[float]]]:
    g = shapely.simplify(geom, tol, preserve_topology=True)
    return [np.round(np.asarray(p.exterior.coords)[:, :2], 5).tolist() for p in getattr(g, "geoms", [g])]


def risk_cells(sel: summary.Selection, weights: Mapping[str, float], res: int) -> pd.DataFrame:
    """H3 cells (resolution ``res``) of the selection with a risk score: the risk index weights
    (``Settings.risk_index_weights``) of its enterprises by grade plus those of its open hazards (major or
    general, plus overdue). Columns cell (H3 string), risk, objects, major, hazards."""
    from geo.grid import cells_to_str, latlng_to_cells

    w = weights
    ent = sel.enterprises
    ent = ent[ent["x"].notna() & ent["y"].notna()]
    h = sel.hazards
    h = h[h["unclosed"] & h["x"].notna() & h["y"].notna()]
    grade_w = ent["grade"].map({g: float(w.get(f"{g}_enterprise", 0.0)) for g in GRADE_ORDER}).fillna(0.0)
    haz_w = np.where(h["level"].eq("major"), w.get("open_major_hazard", 0.0), w.get("open_general_hazard", 0.0)) \
        + np.where(h["overdue"], w.get("overdue_hazard", 0.0), 0.0)
    frame = pd.DataFrame({
        "cell": np.concatenate([latlng_to_cells(ent["y"].to_numpy(float), ent["x"].to_numpy(float), res),
                                latlng_to_cells(h["y"].to_numpy(float), h["x"].to_numpy(float), res)]),
        "risk": np.concatenate([grade_w.to_numpy(float), np.asarray(haz_w, dtype=float)]),
        "objects": np.concatenate([np.ones(len(ent)), np.zeros(len(h))]),
        "major": np.concatenate([ent["grade"].eq("major").to_numpy(float), np.zeros(len(h))]),
        "hazards": np.concatenate([np.zeros(len(ent)), np.ones(len(h))]),
    })
    if len(frame) == 0:
        return pd.DataFrame(columns=["cell", "risk", "objects", "major", "hazards"])
    agg = frame.groupby("cell", sort=True).sum().reset_index()
    agg["cell"] = cells_to_str(agg["cell"].to_numpy(np.uint64))
    return agg[agg["risk"] > 0].reset_index(drop=True)


def _deck_args(lang: str) -> tuple:
    """What the 3D view's data depends on, for the session's user: (store, data version, scope, language,
    weights and H3 resolution)."""
    settings = context.settings()
    scope = context.scope()
    store = context.store()
    key = json.dumps({"w": settings.risk_index_weights, "res": int(settings.h3_resolution)}, sort_keys=True)
    return store.url, store.data_version(), None if scope is None else tuple(scope), lang, key


_DECK_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="riskmap-wall-deck")
_DECK_JOBS: dict[tuple, Future] = {}
_DECK_LOCK = threading.Lock()


def _deck_job(args: tuple) -> Future:
    """The 3D view's data being made (or made) for ``args``: one job per data version, scope and language,
    shared by every wall and request (a failed job is dropped, so the next request tries again)."""
    with _DECK_LOCK:
        job = _DECK_JOBS.get(args)
        if job is None or (job.done() and job.exception() is not None):
            while len(_DECK_JOBS) >= 16:
                _DECK_JOBS.pop(next(iter(_DECK_JOBS)))
            job = _DECK_JOBS[args] = _DECK_POOL.submit(_deck_payload, *args)
    return job


def warm_deck(lang: str) -> None:
    """Start making the 3D view's data while the wall's first picture is made (the 3D frame asks for it as soon
    as the wall is on the page, and then finds it ready or nearly). Never fails the page."""
    try:
        _deck_job(_deck_args(lang))
    except Exception:  # noqa: BLE001 - the data route tries again and reports
        log.warning("wall: could not start the 3D view's data", exc_info=True)


def _warm_city_deck(settings: Any, store: Any) -> None:
    """The served app's warm-up (:mod:`dashboard.warmup`): the city-wide 3D data in both languages, so the first
    wall after a start or an import finds it made (a district's wall makes its own on its first visit)."""
    key = json.dumps({"w": settings.risk_index_weights, "res": int(settings.h3_resolution)}, sort_keys=True)
    version = store.data_version()
    for lang in (settings.lang, *(x for x in ("zh", "en") if x != settings.lang)):
        _deck_job((store.url, version, None, lang, key)).result()


warmup.also_warm("wall-3d", _warm_city_deck)


@context.checked("wall.read")
def deck_payload(lang: str) -> dict[str, Any]:
    """The 3D view's JSON for the session's user: risk hexagons, gas network, the tour's areas and the 2D
    picture's dots. Made once per data version (:func:`_deck_job`), started by the wall's page itself."""
    return _deck_job(_deck_args(lang)).result()


@lru_cache(maxsize=16)
def _deck_payload(url: str, version: int, scope: tuple[str, ...] | None, lang: str, key: str) -> dict[str, Any]:
    """Cached per (store, data version, scope, language, weights): every wall on the same data shares it."""
    opts = json.loads(key)
    store = open_store(url, create=False)
    city = summary.load_city(store)
    whole = summary.select(city, summary.Filters.make(districts=scope))
    cells = risk_cells(whole, opts["w"], int(opts["res"]))
    level = whole.towns if scope is not None and len(scope) == 1 else whole.districts
    areas = {str(r["code"]): {"paths": _paths(r.geometry), "bounds": list(r.geometry.bounds)}
             for _, r in level.iterrows()}
    bounds = list(whole.bounds)
    pipes = whole.lines.get("gas_pipelines")
    spec = deck.deck_spec(cells=cells, pipelines=pipes if pipes is not None else pd.DataFrame(),
                          view=deck.fit_view(bounds), lang=lang)
    return {"deck": spec, "areas": areas, "bounds": bounds, "version": city.version, "empty": len(cells) == 0,
            "preview": deck.preview_points(cells)}

