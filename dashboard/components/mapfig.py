"""The map figure, shared by the map page (``/``) and the wall (``/wall``).

A Plotly figure on cartesian axes (x = lon, y = lat, ``yaxis.scaleanchor = "x"`` with
``scaleratio = 1/cos(lat0)``: equidistant at city scale), built as a plain dict (no plotly validation: fast),
coordinates as float32 typed arrays (``{"dtype": "f4", "bdata": ...}``, about 0.7 m precision), polygons and
lines as ``NaN``-separated rings. The basemap is drawn from our own layers; nothing is fetched from any host
unless the operator set ``Settings.tile_url``.

Use::

    from dashboard.components.mapfig import MapOptions, build_map, city_map, visibility_patch
    mf = city_map(store, filters=Filters.make(districts=context.scope(None)), options=MapOptions(
        lang="zh", theme="dark"), weights=settings.risk_index_weights)
    dcc.Graph(figure=mf.figure)           # mf.traces[i] is the toggle key of trace i (see TOGGLES)
    # later, to show only some toggles without redrawing:
    return visibility_patch(mf.traces, {"enterprises", "hazards"})

``build_map(selection, options, risk=...)`` does the same from a :class:`layers.summary.Selection`.

Every text from data is HTML-escaped before it reaches Plotly (hover labels and map labels render a subset of
HTML). Every clickable point carries ``customdata = "<layer>:<id>"`` (``"district:<code>"``,
``"town:<code>"`` for area labels, ``"district:<code>"`` for a hexagon: its main district,
``"hazards:<id>"`` for a hazard). With ``MapOptions(hover="events")`` points carry no hover text at all (the
map page shows a server-built ``dcc.Tooltip`` instead: a figure several times smaller).
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from dashboard.components.theme import FONT, MAP_COLOURS, template_dict
from dashboard.i18n import register, t
from layers.analysis.summary import Filters, Selection, load_city, risk_index, select
from layers.schema import (
    CONDITION_CLASSES,
    FLOOD_KINDS,
    GAS_STATION_KINDS,
    GRADE_ORDER,
    GRADES,
    INDUSTRIES,
    OBJECT_LAYERS,
    PRESSURE_CLASSES,
    RESOURCE_KINDS,
    ROAD_CLASSES,
    VENUE_KINDS,
    label,
)

#: toggle keys of the layer checklist, in display order (the basemap and labels are always drawn)
TOGGLES = ("risk", "enterprises", "hazards", "gas_pipelines", "gas_stations", "bridges", "tunnels", "rail",
           "venues", "resources", "flood_points", "boundaries", "roads")
DEFAULT_VISIBLE = frozenset({"risk", "enterprises", "hazards", "gas_pipelines", "bridges", "tunnels", "rail",
                             "venues", "boundaries", "roads"})
ALWAYS = "base"
#: above this many enterprises in view, enterprises are drawn as H3 hexagons
POINT_LIMIT = 20_000
HEX_RESOLUTION = 8

register({
    "map.toggle.risk": ("风险指数", "Risk index"),
    "map.toggle.enterprises": ("企业", "Enterprises"),
    "map.toggle.hazards": ("隐患", "Hazards"),
    "map.toggle.gas_pipelines": ("燃气管线", "Gas pipelines"),
    "map.toggle.gas_stations": ("燃气场站", "Gas stations"),
    "map.toggle.bridges": ("桥梁", "Bridges"),
    "map.toggle.tunnels": ("隧道", "Tunnels"),
    "map.toggle.rail": ("轨道交通", "Rail transit"),
    "map.toggle.venues": ("人员密集场所", "Crowded venues"),
    "map.toggle.resources": ("应急资源", "Emergency resources"),
    "map.toggle.flood_points": ("内涝点", "Flood points"),
    "map.toggle.boundaries": ("行政边界", "Boundaries"),
    "map.toggle.roads": ("道路", "Roads"),
    "map.hover.grade": ("风险等级", "Grade"),
    "map.hover.industry": ("行业", "Industry"),
    "map.hover.area": ("区域", "Area"),
    "map.hover.last_inspection": ("最近检查", "Last inspection"),
    "map.hover.never": ("从未检查", "never"),
    "map.hover.open_hazards": ("未销号隐患", "Open hazards"),
    "map.hover.major_suffix": ("其中重大", "major"),
    "map.hover.department": ("监管部门", "Department"),
    "map.hover.none": ("无", "none"),
    "map.hover.capacity": ("容纳人数", "Capacity"),
    "map.hover.condition": ("技术状况", "Condition"),
    "map.hover.pressure": ("压力级制", "Pressure"),
    "map.hover.deadline": ("整改期限", "Deadline"),
    "map.hover.found": ("发现日期", "Found"),
    "map.hover.status": ("状态", "Status"),
    "map.hover.target": ("对象", "Object"),
    "map.hover.risk_index": ("风险指数", "Risk index"),
    "map.hover.score": ("风险分值", "Risk score"),
    "map.hover.enterprises_n": ("企业数", "Enterprises"),
    "map.hover.click_drill": ("点击进入", "click to open"),
    "map.hover.daily": ("日均客流", "Daily passengers"),
    "map.hover.phone": ("值班电话", "Duty phone"),
    "map.hover.depth": ("最大积水(cm)", "Max depth (cm)"),
    "map.legend.hazard_major": ("重大隐患", "Major hazard"),
    "map.legend.hazard_general": ("一般隐患", "General hazard"),
    "map.legend.hazard_overdue": ("逾期隐患", "Overdue hazard"),
    "map.legend.hex": ("企业聚合（六边形）", "Enterprises (hexagons)"),
    "map.legend.risk": ("风险指数", "Risk index"),
    "map.legend.rail_station": ("轨道站点", "Rail station"),
    "map.legend.district_line": ("区县界", "District boundary"),
    "map.legend.town_line": ("镇街界", "Town boundary"),
    "map.legend.water": ("水系", "Water"),
    "map.legend.tunnel_suffix": ("隧道", "tunnel"),
    "map.legend.bridge_suffix": ("桥梁", "bridge"),
    "map.legend.selected": ("选中对象", "Selected"),
})


@dataclass(frozen=True)
class MapOptions:
    """How to draw. ``visible`` holds toggle keys (:data:`TOGGLES`); None = :data:`DEFAULT_VISIBLE`."""

    lang: str = "zh"
    theme: str = "light"
    visible: frozenset[str] | None = None
    point_limit: int = POINT_LIMIT
    hex_resolution: int = HEX_RESOLUTION
    legend: bool = True
    labels: bool = True
    selected: tuple[str, str] | None = None
    tile_url: str = ""
    tile_crs: str = "wgs84"
    width_px: int = 1200
    uirevision: str | None = None
    font_scale: float = 1.0
    #: "text": hover labels inside the figure; "events": no labels, hover events only (the page shows a
    #: server-built dcc.Tooltip: a much smaller figure)
    hover: str = "text"


@dataclass
class MapFigure:
    """A figure dict, the toggle key of each trace, and whether enterprises were aggregated to hexagons."""

    figure: dict
    traces: list[str]
    aggregated: bool
    extra: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------
# Small builders
# --------------------------------------------------------------------------------------------------

def esc(value: object) -> str:
    """Data text made safe for Plotly's HTML-subset labels (``<`` shows as ``<``, never a tag)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return ""
    return html.escape(str(value), quote=False)


def typed(values: np.ndarray | Iterable[float], dtype: str = "f4") -> dict:
    """A Plotly typed-array spec (base64 little-endian) of ``values``."""
    arr = np.ascontiguousarray(np.asarray(values, dtype="<" + dtype))
    return {"dtype": dtype, "bdata": base64.b64encode(arr.tobytes()).decode("ascii")}


def ring_coords(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x, y of the exterior rings (polygons) or the lines of ``geoms``, one NaN between parts."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return np.empty(0), np.empty(0)
    parts = shapely.get_parts(geoms)
    tid = shapely.get_type_id(parts)
    poly = tid == 3
    if poly.any():
        parts = parts.copy()
        parts[poly] = shapely.get_exterior_ring(parts[poly])
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    if len(coords) == 0:
        return np.empty(0), np.empty(0)
    # insert a NaN row after each part
    breaks = np.flatnonzero(np.diff(idx)) + 1
    xy = np.insert(coords, breaks, np.nan, axis=0)
    return xy[:, 0], xy[:, 1]


def _simplify(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    return shapely.simplify(np.asarray(geoms, dtype=object), tolerance, preserve_topology=True) \
        if tolerance > 0 else np.asarray(geoms, dtype=object)


def chain_lines(geoms: np.ndarray) -> np.ndarray:
    """Join line parts that meet end to end into long polylines (walking the network), same drawing.

    A street grid of n short segments becomes about (odd-degree nodes)/2 polylines. Plotly draws one SVG path
    per NaN-separated part of a line trace, so this turns thousands of paths into a few hundred.
    """
    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    parts = parts[shapely.get_type_id(parts) == 1]
    n = len(parts)
    if n == 0:
        return np.empty(0, dtype=object)
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    counts = np.bincount(idx, minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    ends = starts + counts - 1
    ends_xy = np.concatenate([coords[starts], coords[ends]])
    _, node = np.unique(np.round(ends_xy * 1e7).astype(np.int64), axis=0, return_inverse=True)
    node = node.ravel()
    a, b = node[:n], node[n:]
    # CSR adjacency: edges incident to each node
    inc_node = np.concatenate([a, b])
    inc_edge = np.concatenate([np.arange(n), np.arange(n)])
    order = np.argsort(inc_node, kind="stable")
    inc_edge = inc_edge[order].tolist()
    bounds = np.searchsorted(inc_node[order], np.arange(node.max() + 2)).tolist()
    ptr = bounds[:-1].copy()
    used = [False] * n
    al, bl = a.tolist(), b.tolist()

    def next_edge(v: int) -> int:
        p = ptr[v]
        end = bounds[v + 1]
        while p < end and used[inc_edge[p]]:
            p += 1
        ptr[v] = p
        return inc_edge[p] if p < end else -1

    def walk(v: int) -> list[tuple[int, bool]]:
        out = []
        while True:
            e = next_edge(v)
            if e < 0:
                return out
            used[e] = True
            fwd = al[e] == v
            out.append((e, fwd))
            v = bl[e] if fwd else al[e]

    chains = []
    for e0 in range(n):
        if used[e0]:
            continue
        used[e0] = True
        ahead = walk(bl[e0])
        behind = walk(al[e0])
        seq = [(e, not f) for e, f in reversed(behind)] + [(e0, True)] + ahead
        pieces = []
        for k, (e, fwd) in enumerate(seq):
            c = coords[starts[e]:ends[e] + 1]
            c = c if fwd else c[::-1]
            pieces.append(c if k == 0 else c[1:])
        chains.append(np.concatenate(pieces))
    lengths = np.array([len(c) for c in chains])
    return shapely.linestrings(np.concatenate(chains), indices=np.repeat(np.arange(len(chains)), lengths))


def _line_trace(x: np.ndarray, y: np.ndarray, *, name: str, color: str, width: float,
                dash: str | None = None, hover: bool = False) -> dict:
    tr = {"type": "scatter", "mode": "lines", "x": typed(x), "y": typed(y), "name": name,
          "line": {"color": color, "width": width}, "hoverinfo": "name" if hover else "skip", "showlegend": False,
          "connectgaps": False}
    if dash:
        tr["line"]["dash"] = dash
    return tr


def _points_trace(x: np.ndarray, y: np.ndarray, *, name: str, color: str | list | np.ndarray,
                  size: float | np.ndarray, text: list[str] | np.ndarray | None, custom: list[str] | np.ndarray,
                  symbol: str | list = "circle", line_color: str | None = None, opacity: float = 0.95,
                  gl: bool = True) -> dict:
    """Markers (WebGL unless ``gl`` is False); hover shows ``text``; no legend entry (see :func:`_key`)."""
    marker: dict = {"color": list(color) if isinstance(color, np.ndarray) else color,
                    "size": typed(size) if isinstance(size, np.ndarray) else size,
                    "symbol": list(symbol) if isinstance(symbol, np.ndarray) else symbol, "opacity": opacity}
    if line_color:
        marker["line"] = {"color": line_color, "width": 1}
    tr = {"type": "scattergl" if gl else "scatter", "mode": "markers", "x": typed(x), "y": typed(y),
          "name": name, "marker": marker, "customdata": list(custom), "showlegend": False}
    if text is None:
        tr["hoverinfo"] = "none"      # hover events only (a dcc.Tooltip shows the details)
    else:
        tr["text"] = list(text)
        tr["hovertemplate"] = "%{text}<extra></extra>"
    return tr


def _key(name: str, group: str, *, marker: dict | None = None, line: dict | None = None,
         title: str | None = None) -> dict:
    """A legend entry only (no data): the legend is a key, the layer checklist shows and hides."""
    tr = {"type": "scatter", "mode": "lines" if line else "markers", "x": [None], "y": [None], "name": name,
          "legendgroup": group, "showlegend": True, "hoverinfo": "skip"}
    if line:
        tr["line"] = line
    else:
        tr["marker"] = marker or {}
    if title:
        tr["legendgrouptitle"] = {"text": title}
    return tr


def _date(v: object, lang: str) -> str:
    if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return t("map.hover.never", lang)
    ts = pd.Timestamp(v)
    return t("map.hover.never", lang) if pd.isna(ts) else ts.date().isoformat()


def _area_names(city, lang: str) -> dict[str, str]:
    key = ("names", lang)
    if key not in city.extra:
        out: dict[str, str] = {}
        for frame in (city.districts, city.towns):
            names = frame["name_en"].where(frame["name_en"].notna(), frame["name"]) if lang == "en" and \
                "name_en" in frame else frame["name"]
            out.update(dict(zip(frame["code"].astype(str), names.astype(str), strict=True)))
        city.extra[key] = out
    return city.extra[key]


def _object_hover(f: pd.DataFrame, layer: str, lang: str, names: Mapping[str, str]) -> np.ndarray:
    """Hover text of every row of an object frame: name, kind line, area, last inspection, open hazards,
    department and officer (all data text escaped)."""
    n = len(f)
    if n == 0:
        return np.empty(0, dtype=object)
    col = f.get

    def strs(name: str) -> list:
        return f[name].astype(object).where(f[name].notna(), None).tolist() if name in f else [None] * n

    if layer == "enterprises":
        head = [f"{label(GRADES, g, lang)} · {label(INDUSTRIES, i, lang)}" for g, i in
                zip(strs("grade"), strs("industry"), strict=True)]
    elif layer == "venues":
        cap = t("map.hover.capacity", lang)
        head = [f"{label(VENUE_KINDS, k, lang)} · {cap} {'' if c is None else int(c)}" for k, c in
                zip(strs("kind"), strs("capacity"), strict=True)]
    elif layer in ("bridges", "tunnels"):
        cond = t("map.hover.condition", lang)
        head = [f"{cond}: {label(CONDITION_CLASSES, c, lang)}" for c in strs("condition_class")]
    elif layer == "gas_stations":
        head = [f"{label(GAS_STATION_KINDS, k, lang)}" + (f" · {label(PRESSURE_CLASSES, p, lang)}" if p else "")
                for k, p in zip(strs("kind"), strs("pressure"), strict=True)]
    else:
        head = [""] * n
    area = [esc(" · ".join(x for x in (names.get(str(d), ""), names.get(str(tw), "")) if x))
            for d, tw in zip(strs("district_code"), strs("town_code"), strict=True)]
    never = t("map.hover.never", lang)
    last = col("last_inspection")
    last = last.dt.strftime("%Y-%m-%d").fillna(never).tolist() if last is not None else [never] * n
    oh = col("open_hazards").tolist() if "open_hazards" in f else [0] * n
    om = col("open_major").tolist() if "open_major" in f else [0] * n
    dep = strs("department_en" if lang == "en" else "department")
    dep_zh = strs("department")
    officer = strs("officer")
    l_area, l_last = t("map.hover.area", lang), t("map.hover.last_inspection", lang)
    l_open, l_major = t("map.hover.open_hazards", lang), t("map.hover.major_suffix", lang)
    l_dep, none = t("map.hover.department", lang), t("map.hover.none", lang)
    out = np.empty(n, dtype=object)
    for i, nm in enumerate(strs("name")):
        d = dep[i] or dep_zh[i]
        d = esc(d) if d else none
        if officer[i]:
            d += f" · {esc(officer[i])}"
        hz = f"{l_open}: {oh[i]}" + (f" ({l_major} {om[i]})" if om[i] else "")
        out[i] = (f"<b>{esc(nm)}</b><br>{head[i]}<br>{l_area}: {area[i]}<br>{l_last}: {last[i]}<br>{hz}"
                  f"<br>{l_dep}: {d}")
    return out


def _cached(city, key: tuple, make):
    """A per-city (so per data version) cache of drawing inputs: hover texts, chained lines."""
    hit = city.extra.get(key)
    if hit is None:
        hit = make()
        city.extra[key] = hit
    return hit


def _hover_of(sel: Selection, layer: str, lang: str, rows: pd.DataFrame) -> list[str]:
    city = sel.city
    full = city.objects[layer] if layer in city.objects else city.lines[layer]
    arr = _cached(city, ("hover", layer, lang), lambda: _object_hover(full, layer, lang, _area_names(city, lang)))
    return arr[rows.index.to_numpy()].tolist()


def _ids(layer: str, f: pd.DataFrame) -> list[str]:
    return (layer + ":" + f["id"].astype(str)).tolist()


def _lines_xy(sel: Selection, layer: str, frame: pd.DataFrame, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Chained and simplified coordinates of some rows of a line layer (cached per area and filter)."""
    fl = sel.filters
    key = ("lines", layer, tuple(frame.index[:3]), len(frame), int(frame.index.to_numpy().sum()) if len(frame)
           else 0, round(tol, 9), fl.districts, fl.town)
    return _cached(sel.city, key, lambda: ring_coords(_simplify(chain_lines(frame.geometry.values), tol)))


# --------------------------------------------------------------------------------------------------
# The figure
# --------------------------------------------------------------------------------------------------

def view_range(bounds: tuple[float, float, float, float], pad: float = 0.04) -> tuple[list[float], list[float]]:
    minx, miny, maxx, maxy = bounds
    dx, dy = (maxx - minx) or 0.01, (maxy - miny) or 0.01
    return [minx - dx * pad, maxx + dx * pad], [miny - dy * pad, maxy + dy * pad]


def build_map(sel: Selection, options: MapOptions | None = None, *, risk: pd.DataFrame | None = None,
              weights: Mapping[str, float] | None = None) -> MapFigure:
    """The map of a selection. ``risk``: :func:`layers.summary.risk_index` of it (computed from ``weights``
    when None and weights are given; no choropleth when both are None)."""
    options = options or MapOptions()
    lang, theme = options.lang, options.theme
    col = MAP_COLOURS[theme]
    visible = DEFAULT_VISIBLE if options.visible is None else frozenset(options.visible)
    names = _area_names(sel.city, lang)
    data: list[dict] = []
    keys: list[str] = []
    legend: list[tuple[str, dict]] = []
    fs = options.font_scale
    light = theme == "light"

    def add(key: str, trace: dict) -> None:
        if key != ALWAYS and key not in visible:
            trace["visible"] = False
        data.append(trace)
        keys.append(key)

    tip = options.hover == "events"

    def hover(layer: str, rows: pd.DataFrame) -> list[str] | None:
        return None if tip else _hover_of(sel, layer, lang, rows)

    def key_entry(key: str, trace: dict) -> None:
        if options.legend:
            legend.append((key, trace))

    minx, miny, maxx, maxy = sel.bounds
    span = max(maxx - minx, maxy - miny, 1e-3)
    tol = span / 3000.0  # about half a pixel on a 1500 px map
    if risk is None and weights is not None:
        risk = risk_index(sel, weights=weights)

    # -- land and risk choropleth (one trace per area: hover and click on the fill) ------------------
    area_level = "district" if sel.level == "city" else "town"
    areas = sel.districts if area_level == "district" else sel.towns
    scale = col["risk_scale"].split(",")
    rmap = risk.set_index("code") if risk is not None and len(risk) else None
    simple_areas = _simplify(np.asarray(areas.geometry.values), tol)
    for code, geom in zip(areas["code"].astype(str), simple_areas, strict=True):
        x, y = ring_coords(np.array([geom], dtype=object))
        idx = float(rmap.loc[code, "index"]) if rmap is not None and code in rmap.index else None
        label_txt = esc(names.get(code, code))
        # land under everything (always), and the risk colour over it (switchable)
        add(ALWAYS, {"type": "scatter", "mode": "lines", "x": typed(x), "y": typed(y), "fill": "toself",
                     "fillcolor": col["land"], "line": {"width": 0, "color": col["land"]}, "hoverinfo": "skip",
                     "name": label_txt, "showlegend": False})
        if idx is None:
            continue
        fill = scale[min(int(idx // 20), 4)]
        fill_hover = (f"{label_txt}<br>{t('map.hover.risk_index', lang)}: {idx:.0f}"
                 f"<br>{t('map.hover.score', lang)}: {float(rmap.loc[code, 'score']):.0f}"
                 f"<br>{t('map.hover.click_drill', lang)}")
        add("risk", {"type": "scatter", "mode": "lines", "x": typed(x), "y": typed(y), "fill": "toself",
                     "fillcolor": fill, "line": {"width": 0, "color": fill}, "hoveron": "fills",
                     "hoverinfo": "text", "text": fill_hover, "name": label_txt, "showlegend": False,
                     "opacity": 0.5 if light else 0.6, "meta": f"{area_level}:{code}"})
    if rmap is not None:
        for i, c in enumerate(scale):
            key_entry("risk", _key(f"{i * 20}–{(i + 1) * 20}", "risk", title=t("map.legend.risk", lang) if i == 0
                                   else None, marker={"symbol": "square", "size": 12, "color": c, "opacity": 0.7}))

    # -- water, roads -------------------------------------------------------------------------------
    water = sel.lines["water"]
    if len(water):
        geoms = _simplify(water.geometry.values, tol)
        tid = shapely.get_type_id(geoms)
        polys, lines = geoms[np.isin(tid, (3, 6))], geoms[np.isin(tid, (1, 5))]
        if len(polys):
            x, y = ring_coords(polys)
            add(ALWAYS, {"type": "scatter", "mode": "lines", "x": typed(x), "y": typed(y), "fill": "toself",
                         "fillcolor": col["water"], "line": {"color": col["water_line"], "width": 0.5},
                         "hoverinfo": "skip", "name": t("map.legend.water", lang), "showlegend": False})
        if len(lines):
            x, y = ring_coords(lines)
            add(ALWAYS, _line_trace(x, y, name=t("map.legend.water", lang), color=col["water"], width=4))
    roads = sel.lines["roads"]
    for rc in reversed(tuple(ROAD_CLASSES)):
        sub = roads[roads["road_class"].eq(rc)] if len(roads) else roads
        if not len(sub):
            continue
        x, y = _lines_xy(sel, "roads:" + rc, sub, tol)
        major = rc in ("motorway", "primary")
        add("roads", _line_trace(x, y, name=label(ROAD_CLASSES, rc, lang),
                                 color=col["road_major" if major else "road"],
                                 width=ROAD_CLASSES[rc]["width"] * (0.9 if major else 0.6)))

    # -- boundaries ---------------------------------------------------------------------------------
    towns_drawn = sel.city.towns if sel.level == "city" else sel.towns
    x, y = ring_coords(_simplify(towns_drawn.geometry.values, tol))
    add("boundaries", _line_trace(x, y, name=t("map.legend.town_line", lang), color=col["town_line"], width=0.8,
                                  dash="dot"))
    x, y = ring_coords(_simplify(sel.districts.geometry.values, tol))
    add("boundaries", _line_trace(x, y, name=t("map.legend.district_line", lang), color=col["district_line"],
                                  width=1.8))

    # -- lines: gas pipelines, rail, bridges, tunnels ----------------------------------------------------
    pipes = sel.lines["gas_pipelines"]
    first = True
    for p in reversed(tuple(PRESSURE_CLASSES)):
        sub = pipes[pipes["pressure"].eq(p)] if len(pipes) else pipes
        if not len(sub):
            continue
        x, y = _lines_xy(sel, "gas_pipelines:" + p, sub, tol)
        st = PRESSURE_CLASSES[p]
        width = st["width"] * 0.6 + 0.4
        add("gas_pipelines", _line_trace(x, y, name=label(PRESSURE_CLASSES, p, lang), color=st["color"],
                                         width=width, hover=True))
        key_entry("gas_pipelines", _key(label(PRESSURE_CLASSES, p, lang), "gas_pipelines",
                                        line={"color": st["color"], "width": width + 1},
                                        title=t("map.toggle.gas_pipelines", lang) if first else None))
        first = False
    rails = sel.lines["rail_lines"]
    for i, (_, r) in enumerate(rails.iterrows()):
        x, y = ring_coords(np.array([r.geometry], dtype=object))
        color = r.get("color") if isinstance(r.get("color"), str) and str(r.get("color")).startswith("#") \
            else "#6b5bd6"
        name = esc(r.get("name") or r.get("line_no") or r["id"])
        add("rail", _line_trace(x, y, name=name, color=color, width=3, hover=True))
        key_entry("rail", _key(name, "rail", line={"color": color, "width": 3},
                               title=t("map.toggle.rail", lang) if i == 0 else None))
    for layer_name, dash in (("bridges", None), ("tunnels", "dash")):
        g = sel.lines[layer_name]
        if not len(g):
            continue
        for cc in CONDITION_CLASSES:
            sub = g[g["condition_class"].eq(cc)]
            if len(sub):
                x, y = ring_coords(sub.geometry.values)
                add(layer_name, _line_trace(x, y, name=label(CONDITION_CLASSES, cc, lang),
                                            color=CONDITION_CLASSES[cc]["color"],
                                            width=5 if cc in ("4", "5") else 3.5, dash=dash))
        mids = shapely.line_interpolate_point(np.asarray(g.geometry.values), 0.5, normalized=True)
        colors = np.array([CONDITION_CLASSES.get(c, {"color": "#888888"})["color"] for c in g["condition_class"]],
                          dtype=object)
        add(layer_name, _points_trace(shapely.get_x(mids), shapely.get_y(mids), name=t(f"map.toggle.{layer_name}",
                                                                                      lang),
                                      color=colors, size=8 * fs, text=hover(layer_name, g),
                                      custom=_ids(layer_name, g), symbol="square" if layer_name == "bridges"
                                      else "diamond", line_color=col["paper"], gl=False))
    for cc in CONDITION_CLASSES:
        key_entry("bridges", _key(label(CONDITION_CLASSES, cc, lang), "bridges",
                                  marker={"symbol": "square", "size": 9, "color": CONDITION_CLASSES[cc]["color"]},
                                  title=f"{t('map.toggle.bridges', lang)} / {t('map.toggle.tunnels', lang)}"
                                  if cc == "1" else None))

    # -- enterprises: points (one WebGL trace, major drawn last) or hexagons ---------------------------
    ent = sel.enterprises
    ent = ent[ent["x"].notna()]
    aggregated = sel.level == "city" and len(ent) > options.point_limit   # a district or town: every point
    if aggregated:
        _hexagons(sel, ent, options, add, key_entry, names)
    elif len(ent):
        rank = ent["grade"].map({g: i for i, g in enumerate(reversed(GRADE_ORDER))}).fillna(0).to_numpy()
        ent = ent.iloc[np.argsort(rank, kind="stable")]
        grade = ent["grade"].to_numpy(dtype=object)
        colors = np.array([GRADES.get(g, {"color": "#888888"})["color"] for g in GRADES], dtype=object)
        gi = pd.Categorical(grade, categories=list(GRADES)).codes
        sizes = np.array([9.0, 7.5, 6.0, 6.0])[np.clip(gi, 0, 3)] * fs
        add("enterprises", _points_trace(ent["x"].to_numpy(), ent["y"].to_numpy(),
                                         name=t("map.toggle.enterprises", lang), color=colors[np.clip(gi, 0, 3)],
                                         size=sizes, text=hover("enterprises", ent),
                                         custom=_ids("enterprises", ent),
                                         line_color="#ffffff" if light else None))
    if not aggregated:
        for g in GRADE_ORDER:
            key_entry("enterprises", _key(label(GRADES, g, lang), "enterprises",
                                          marker={"size": 10, "color": GRADES[g]["color"]},
                                          title=t("map.toggle.enterprises", lang) if g == GRADE_ORDER[0] else None))

    # -- other points ---------------------------------------------------------------------------------
    v = sel.objects["venues"]
    v = v[v["x"].notna()]
    if len(v):
        cap = v["capacity"].astype("Float64").fillna(0).to_numpy(dtype=float)
        size = (5 + 13 * np.sqrt(cap / max(cap.max(), 1.0))) * fs
        colors = np.array([VENUE_KINDS.get(k, {"color": "#888888"})["color"] for k in v["kind"]], dtype=object)
        add("venues", _points_trace(v["x"].to_numpy(), v["y"].to_numpy(), name=t("map.toggle.venues", lang),
                                    color=colors, size=size, text=hover("venues", v),
                                    custom=_ids("venues", v), symbol="diamond", opacity=0.8))
        for i, k in enumerate(k for k in VENUE_KINDS if (v["kind"] == k).any()):
            key_entry("venues", _key(label(VENUE_KINDS, k, lang), "venues",
                                     marker={"symbol": "diamond", "size": 9, "color": VENUE_KINDS[k]["color"]},
                                     title=t("map.toggle.venues", lang) if i == 0 else None))
    gs = sel.objects["gas_stations"]
    gs = gs[gs["x"].notna()]
    if len(gs):
        add("gas_stations", _points_trace(gs["x"].to_numpy(), gs["y"].to_numpy(),
                                          name=t("map.toggle.gas_stations", lang), color="#B0006D", size=9 * fs,
                                          text=hover("gas_stations", gs),
                                          custom=_ids("gas_stations", gs), symbol="triangle-up",
                                          line_color="#ffffff"))
        key_entry("gas_stations", _key(t("map.toggle.gas_stations", lang), "gas_stations",
                                       marker={"symbol": "triangle-up", "size": 10, "color": "#B0006D"}))
    rs = sel.objects["rail_stations"]
    rs = rs[rs["x"].notna()]
    if len(rs):
        text = [f"<b>{esc(n)}</b><br>{esc(ln or '')}<br>{t('map.hover.daily', lang)}: {'' if pd.isna(d) else d}"
                for n, ln, d in zip(rs["name"], rs["lines"], rs["daily_passengers"], strict=True)]
        add("rail", _points_trace(rs["x"].to_numpy(), rs["y"].to_numpy(), name=t("map.legend.rail_station", lang),
                                  color="#ffffff", size=7 * fs, text=None if tip else text,
                                  custom=_ids("rail_stations", rs),
                                  line_color="#6b5bd6", gl=False))
    for layer_name, kinds, symbol, extra in (
            ("resources", RESOURCE_KINDS, "cross", ("phone", "map.hover.phone")),
            ("flood_points", FLOOD_KINDS, "triangle-down", ("max_depth_cm", "map.hover.depth"))):
        f = sel.objects[layer_name]
        f = f[f["x"].notna()]
        if not len(f):
            continue
        text = [f"<b>{esc(n)}</b><br>{label(kinds, k, lang)}<br>{t(extra[1], lang)}: {'' if pd.isna(e) else esc(e)}"
                for n, k, e in zip(f["name"], f["kind"], f[extra[0]], strict=True)]
        colors = np.array([kinds.get(k, {"color": "#888888"})["color"] for k in f["kind"]], dtype=object)
        add(layer_name, _points_trace(f["x"].to_numpy(), f["y"].to_numpy(), name=t(f"map.toggle.{layer_name}", lang),
                                      color=colors, size=10 * fs, text=None if tip else text,
                                      custom=_ids(layer_name, f),
                                      symbol=symbol))
        for i, k in enumerate(k for k in kinds if (f["kind"] == k).any()):
            key_entry(layer_name, _key(label(kinds, k, lang), layer_name,
                                       marker={"symbol": symbol, "size": 9, "color": kinds[k]["color"]},
                                       title=t(f"map.toggle.{layer_name}", lang) if i == 0 else None))

    # -- hazards: general and major (x), overdue (a ring around) ------------------------------------------
    hz = sel.hazards
    hz = hz[hz["x"].notna()]
    if aggregated:   # the city view of a large city: major hazards only (a district shows every one)
        hz = hz[hz["level"].eq("major")]
    overdue_colour = "#b0001e" if light else "#ff4d6d"
    if len(hz):
        hz = hz.iloc[np.argsort(hz["level"].eq("major").to_numpy(), kind="stable")]
        text = None if tip else _cached(sel.city, ("hazard_hover", lang),
                                        lambda: _hazard_hover(sel.city.hazards, lang, names))
        major = hz["level"].eq("major").to_numpy()
        custom = ("hazards:" + hz["id"].astype(str)).tolist()
        od = hz["overdue"].to_numpy(dtype=bool)
        if od.any():
            add("hazards", _points_trace(hz["x"].to_numpy()[od], hz["y"].to_numpy()[od],
                                         name=t("map.legend.hazard_overdue", lang), color="rgba(0,0,0,0)",
                                         size=14 * fs, text=None if tip else text[hz.index.to_numpy()[od]],
                                         custom=np.asarray(custom, dtype=object)[od], symbol="circle-open",
                                         opacity=0.8))
            data[-1]["marker"]["line"] = {"color": overdue_colour, "width": 1.5}
            data[-1]["marker"]["color"] = overdue_colour
        add("hazards", _points_trace(hz["x"].to_numpy(), hz["y"].to_numpy(), name=t("map.toggle.hazards", lang),
                                     color=np.where(major, "#E5141B", "#FF8A00").astype(object),
                                     size=np.where(major, 11.0, 7.0) * fs,
                                     text=None if tip else text[hz.index.to_numpy()],
                                     custom=custom, symbol="x"))
    key_entry("hazards", _key(t("map.legend.hazard_major", lang), "hazards",
                              marker={"symbol": "x", "size": 11, "color": "#E5141B"},
                              title=t("map.toggle.hazards", lang)))
    key_entry("hazards", _key(t("map.legend.hazard_general", lang), "hazards",
                              marker={"symbol": "x", "size": 8, "color": "#FF8A00"}))
    key_entry("hazards", _key(t("map.legend.hazard_overdue", lang), "hazards",
                              marker={"symbol": "circle-open", "size": 12, "color": overdue_colour,
                                      "line": {"width": 2}}))

    # -- labels, the selected object, the legend ----------------------------------------------------------
    notes = _labels(sel, add, names, col, lang, fs) if options.labels else []
    if options.selected:
        lay, oid = options.selected
        f = sel.city.objects.get(lay)
        if f is not None:
            row = f[f["id"].astype(str) == str(oid)]
            if len(row) and pd.notna(row["x"].iloc[0]):
                add(ALWAYS, {"type": "scatter", "mode": "markers", "x": [float(row["x"].iloc[0])],
                             "y": [float(row["y"].iloc[0])], "name": t("map.legend.selected", lang),
                             "marker": {"symbol": "circle-open", "size": 26 * fs, "color": col["selected"],
                                        "line": {"width": 3, "color": col["selected"]}},
                             "hoverinfo": "skip", "showlegend": False})
    for key, trace in legend:
        add(key, trace)

    xr, yr = view_range(sel.bounds)
    lat0 = (yr[0] + yr[1]) / 2
    layout = {
        "template": template_dict(theme),
        "paper_bgcolor": col["paper"], "plot_bgcolor": col["paper"],
        "margin": {"l": 0, "r": int(150 * fs) if options.legend else 0, "t": 0, "b": 0},
        "xaxis": {"visible": False, "range": xr, "showgrid": False, "zeroline": False},
        "yaxis": {"visible": False, "range": yr, "showgrid": False, "zeroline": False, "scaleanchor": "x",
                  "scaleratio": 1.0 / math.cos(math.radians(lat0))},
        "dragmode": "pan", "hovermode": "closest", "showlegend": options.legend,
        "legend": {"x": 1.0, "y": 1.0, "xanchor": "left", "yanchor": "top", "itemclick": False,
                   "itemdoubleclick": False, "bgcolor": "rgba(255,255,255,0.85)" if light else "rgba(6,16,31,0.75)",
                   "bordercolor": col["town_line"], "borderwidth": 1, "font": {"size": 10.5 * fs, "family": FONT},
                   "itemsizing": "constant", "tracegroupgap": 2, "grouptitlefont": {"size": 11.5 * fs}},
        "uirevision": options.uirevision or f"{sel.level}:{','.join(sel.filters.districts or ())}:"
                                            f"{sel.filters.town or ''}",
        "meta": {"level": sel.level, "aggregated": aggregated},
        "annotations": notes,
    }
    if options.tile_url:
        layout["images"] = tile_images(options.tile_url, xr, yr, width_px=options.width_px, crs=options.tile_crs)
    return MapFigure(figure={"data": data, "layout": layout}, traces=keys, aggregated=aggregated)


_HZ_STATUS = {"open": {"zh": "待整改", "en": "Open"}, "rectifying": {"zh": "整改中", "en": "Rectifying"},
              "awaiting_check": {"zh": "待验收", "en": "Awaiting check"}, "closed": {"zh": "已销号", "en": "Closed"}}


def _hazard_hover(h: pd.DataFrame, lang: str, names: Mapping[str, str]) -> np.ndarray:
    """Hover text of every hazard (indexed like ``h``)."""
    stat = {k: label(_HZ_STATUS, k, lang) for k in _HZ_STATUS}
    l_t, l_f, l_d, l_s = (t("map.hover.target", lang), t("map.hover.found", lang), t("map.hover.deadline", lang),
                          t("map.hover.status", lang))
    over = t("map.legend.hazard_overdue", lang)
    lvl = {"major": t("map.legend.hazard_major", lang), "general": t("map.legend.hazard_general", lang)}
    found = h["found_date"].dt.strftime("%Y-%m-%d").fillna("—").tolist()
    dl = h["deadline"].dt.strftime("%Y-%m-%d").fillna("—").tolist()
    out = np.empty(len(h), dtype=object)
    for i, (desc, typ, level, tname, dist, status, od) in enumerate(zip(
            h["description"].tolist(), h["type"].tolist(), h["level"].tolist(), h["obj_name"].tolist(),
            h["district_code"].tolist(), h["status"].tolist(), h["overdue"].tolist(), strict=True)):
        head = f"<b>{lvl.get(level, esc(level))}</b>" + (f" · <b>{over}</b>" if od else "")
        out[i] = "<br>".join([head, esc(desc or typ or ""), f"{l_t}: {esc(tname)} ({esc(names.get(str(dist), ''))})",
                              f"{l_f}: {found[i]} · {l_d}: {dl[i]}", f"{l_s}: {stat.get(status, esc(status))}"])
    return out


def _labels(sel: Selection, add, names: Mapping[str, str], col: Mapping[str, str], lang: str, fs: float
            ) -> list[dict]:
    """District names (and town names inside a district): annotations to be read above the WebGL points, and
    an invisible marker trace under each for hover and click (``customdata`` ``district:<code>``)."""
    click = t("map.hover.click_drill", lang)
    groups = [("district", sel.districts, 16 if sel.level == "city" else 18, col["label"])]
    if sel.level != "city":
        groups.append(("town", sel.towns, 12, col["town_label"]))
    notes: list[dict] = []
    for kind, frame, size, color in groups:
        if not len(frame):
            continue
        pts = shapely.point_on_surface(np.asarray(frame.geometry.values))
        codes = frame["code"].astype(str).tolist()
        txt = [esc(names.get(c, c)) for c in codes]
        xs, ys = shapely.get_x(pts), shapely.get_y(pts)
        add(ALWAYS, {"type": "scatter", "mode": "markers", "x": typed(xs), "y": typed(ys), "text": txt,
                     "marker": {"size": 24 * fs, "color": "rgba(0,0,0,0)"},
                     "customdata": [f"{kind}:{c}" for c in codes],
                     "hovertemplate": "%{text}<br>" + click + "<extra></extra>", "name": kind, "showlegend": False})
        for x, y, tx in zip(xs.tolist(), ys.tolist(), txt, strict=True):
            notes.append({"x": x, "y": y, "xref": "x", "yref": "y", "text": f"<b>{tx}</b>" if kind == "district"
                          else tx, "showarrow": False, "font": {"size": size * fs, "color": color, "family": FONT},
                          "bgcolor": col["label_halo"], "borderpad": 2, "opacity": 0.95})
    return notes


def _hexagons(sel: Selection, ent: pd.DataFrame, options: MapOptions, add, key_entry,
              names: Mapping[str, str]) -> None:
    """Enterprises aggregated to H3 cells: fill by a grade-weighted count (5 classes), hover at the centre."""
    from geo.grid import cell_centers, cells_to_polygons

    lang = options.lang
    col = MAP_COLOURS[options.theme]
    res = options.hex_resolution
    cells = _cells_for(sel, res)
    w = {"major": 10.0, "high": 5.0, "moderate": 2.0, "low": 1.0}
    f = pd.DataFrame({"cell": cells[ent.index.to_numpy()], "grade": ent["grade"].to_numpy(),
                      "district": ent["district_code"].to_numpy(), "w": ent["grade"].map(w).fillna(1.0).to_numpy()})
    counts = pd.crosstab(f["cell"], f["grade"])
    for g in GRADE_ORDER:
        if g not in counts:
            counts[g] = 0
    score = f.groupby("cell")["w"].sum()
    counts = counts.reindex(score.index)
    main_d = f.groupby(["cell", "district"]).size().reset_index().sort_values(0, ascending=False) \
        .drop_duplicates("cell").set_index("cell")["district"].reindex(score.index)
    uc = score.index.to_numpy(dtype=np.uint64)
    polys = _cached(sel.city, ("hexpolys", res, tuple(uc[:4]), len(uc)), lambda: cells_to_polygons(uc))
    lat, lng = cell_centers(uc)
    sc = score.to_numpy()
    qs = np.quantile(sc, [0.2, 0.4, 0.6, 0.8]) if len(sc) else np.zeros(4)
    cls = np.searchsorted(qs, sc, side="right")
    scale = col["hex_scale"].split(",")
    for k in range(5):
        m = cls == k
        if not m.any():
            continue
        x, y = ring_coords(polys[m])
        add("enterprises", {"type": "scatter", "mode": "lines", "x": typed(x), "y": typed(y), "fill": "toself",
                            "fillcolor": scale[k], "line": {"color": col["paper"], "width": 0.3},
                            "hoverinfo": "skip", "name": f"{t('map.legend.hex', lang)} {k + 1}", "showlegend": False,
                            "opacity": 0.85})
        lo = 0 if k == 0 else qs[k - 1]
        hi = qs[k] if k < 4 else sc.max()
        key_entry("enterprises", _key(f"{lo:.0f}–{hi:.0f}", "hex", title=t("map.legend.hex", lang) if k == 0
                                      else None, marker={"symbol": "hexagon", "size": 12, "color": scale[k]}))
    ln = t("map.hover.enterprises_n", lang)
    text = []
    cmat = counts[list(GRADE_ORDER)].to_numpy()
    for i, d in enumerate(main_d.to_numpy()):
        parts = " · ".join(f"{label(GRADES, g, lang)} {int(cmat[i, j])}" for j, g in enumerate(GRADE_ORDER)
                           if cmat[i, j])
        text.append(f"<b>{ln}: {int(cmat[i].sum())}</b><br>{parts}<br>{esc(names.get(str(d), ''))}"
                    f"<br>{t('map.hover.click_drill', lang)}")
    add("enterprises", _points_trace(lng, lat, name=t("map.legend.hex", lang), color="rgba(0,0,0,0)", size=12,
                                     text=text, custom=[f"district:{d}" for d in main_d.to_numpy()]))


def _cells_for(sel: Selection, res: int) -> np.ndarray:
    """H3 cell of every enterprise of the city (cached on the City, per resolution), by row label."""
    from geo.grid import latlng_to_cells

    def make() -> np.ndarray:
        e = sel.city.objects["enterprises"]
        ok = e["x"].notna().to_numpy()
        cells = np.zeros(int(e.index.max()) + 1 if len(e) else 0, dtype=np.uint64)
        if ok.any():
            cells[e.index.to_numpy()[ok]] = latlng_to_cells(e.loc[ok, "y"].to_numpy(float),
                                                             e.loc[ok, "x"].to_numpy(float), res)
        return cells

    return _cached(sel.city, ("h3", res), make)


def tile_images(url: str, xr: list[float], yr: list[float], *, width_px: int = 1200, crs: str = "wgs84",
                max_tiles: int = 64) -> list[dict]:
    """``layout.images`` of the XYZ tiles (Web Mercator) covering lon range ``xr`` and lat range ``yr``.

    Each tile is placed by its lon/lat bounds; for GCJ-02 tiles the placement is shifted to WGS-84 (the
    data stay as stored).
    """
    lon_span = max(xr[1] - xr[0], 1e-6)
    z = int(np.clip(round(math.log2(360.0 * width_px / (256.0 * lon_span))), 1, 18))

    def tx(lon: float, zz: int) -> int:
        return int(math.floor((lon + 180.0) / 360.0 * 2 ** zz))

    def ty(lat: float, zz: int) -> int:
        r = math.radians(lat)
        return int(math.floor((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * 2 ** zz))

    while True:
        x0, x1 = tx(xr[0], z), tx(xr[1], z)
        y0, y1 = ty(yr[1], z), ty(yr[0], z)
        if (x1 - x0 + 1) * (y1 - y0 + 1) <= max_tiles or z <= 1:
            break
        z -= 1

    def lon_of(x: int) -> float:
        return x / 2 ** z * 360.0 - 180.0

    def lat_of(y: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / 2 ** z))))

    images = []
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            west, east, north, south = lon_of(x), lon_of(x + 1), lat_of(y), lat_of(y + 1)
            if crs == "gcj02":
                from geo.crs import gcj02_to_wgs84
                lo, la = gcj02_to_wgs84(np.array([west, east]), np.array([north, south]))
                west, east, north, south = float(lo[0]), float(lo[1]), float(la[0]), float(la[1])
            images.append({"source": url.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y)),
                           "xref": "x", "yref": "y", "x": west, "y": north, "sizex": east - west,
                           "sizey": north - south, "sizing": "stretch", "layer": "below", "opacity": 1.0})
    return images


# --------------------------------------------------------------------------------------------------
# Conveniences
# --------------------------------------------------------------------------------------------------

def city_map(store, *, filters: Filters | None = None, options: MapOptions | None = None,
             weights: Mapping[str, float] | None = None) -> MapFigure:
    """Load (cached per data version), select and draw. ``filters.districts`` must already be scoped."""
    sel = select(load_city(store), filters or Filters())
    options = options or MapOptions()
    return build_map(sel, options, weights=weights)


def visibility_patch(traces: list[str], visible: Iterable[str]):
    """A ``dash.Patch`` that sets each trace's visibility from the toggle keys in ``visible``."""
    from dash import Patch

    on = set(visible)
    patch = Patch()
    for i, key in enumerate(traces):
        if key != ALWAYS:
            patch["data"][i]["visible"] = key in on
    return patch


def toggle_options(lang: str) -> list[dict]:
    """Checklist options for :data:`TOGGLES`."""
    return [{"label": t(f"map.toggle.{k}", lang), "value": k} for k in TOGGLES]


_NEAR_STYLE = {"venues": ("diamond", "#16A085"), "gas_stations": ("triangle-up", "#B0006D"),
               "bridges": ("square", "#7F8C8D"), "tunnels": ("diamond", "#7F8C8D"),
               "rail_stations": ("circle", "#6b5bd6"), "resources": ("cross", "#E74C3C"),
               "flood_points": ("triangle-down", "#0077B6")}


def surroundings_map(city, layer: str, row: pd.Series, near: pd.DataFrame, *, radius_m: float,
                     lang: str = "zh", theme: str = "light") -> dict:
    """A small map around one object: roads, water, boundaries, every point object within ``radius_m``
    (from :func:`layers.summary.nearby`), the radius circle and the object ringed. A figure dict."""
    col = MAP_COLOURS[theme]
    x0, y0 = float(row["x"]), float(row["y"])
    ky = radius_m / 110_574.0
    kx = radius_m / (111_320.0 * math.cos(math.radians(y0)))
    bounds = (x0 - kx * 1.15, y0 - ky * 1.15, x0 + kx * 1.15, y0 + ky * 1.15)
    box = shapely.box(*bounds)
    data: list[dict] = []
    for name in ("water", "roads"):
        g = city.lines[name]
        if not len(g):
            continue
        m = (g["maxx"] >= bounds[0]) & (g["minx"] <= bounds[2]) & (g["maxy"] >= bounds[1]) & (g["miny"] <= bounds[3])
        geoms = shapely.intersection(np.asarray(g.loc[m, "geometry"].values), box)
        if not len(geoms):
            continue
        if name == "water":
            polys = geoms[np.isin(shapely.get_type_id(geoms), (3, 6))]
            x, y = ring_coords(polys)
            data.append({"type": "scatter", "mode": "lines", "x": typed(x), "y": typed(y), "fill": "toself",
                         "fillcolor": col["water"], "line": {"width": 0, "color": col["water"]}, "hoverinfo": "skip",
                         "showlegend": False})
        else:
            x, y = ring_coords(chain_lines(geoms))
            data.append(_line_trace(x, y, name=t("map.toggle.roads", lang), color=col["road_major"], width=1.2))
    for frame, width, dash in ((city.towns, 1.0, "dot"), (city.districts, 2.0, None)):
        geoms = shapely.intersection(shapely.boundary(np.asarray(frame.geometry.values)), box)
        x, y = ring_coords(geoms[~shapely.is_empty(geoms)])
        data.append(_line_trace(x, y, name="", color=col["district_line"] if dash is None else col["town_line"],
                                width=width, dash=dash))
    ang = np.linspace(0, 2 * np.pi, 73)
    data.append({"type": "scatter", "mode": "lines", "x": typed(x0 + kx * np.cos(ang)),
                 "y": typed(y0 + ky * np.sin(ang)), "line": {"color": col["selected"], "width": 1, "dash": "dash"},
                 "hoverinfo": "skip", "showlegend": False})
    names = _area_names(city, lang)
    for lay, sub in near.groupby("layer", sort=False):
        full = city.objects[lay]
        if lay in OBJECT_LAYERS:
            hover = _cached(city, ("hover", lay, lang), lambda full=full, lay=lay: _object_hover(full, lay, lang, names))
            text = hover[sub["row"].to_numpy(dtype=int)].tolist()
        else:
            text = [f"<b>{esc(n)}</b>" for n in sub["name"]]
        if lay == "enterprises":
            color: object = np.array([GRADES.get(g, {"color": "#888888"})["color"] for g in sub["grade"]],
                                     dtype=object)
            symbol = "circle"
        else:
            symbol, color = _NEAR_STYLE.get(lay, ("circle", "#555555"))
        data.append(_points_trace(sub["x"].to_numpy(float), sub["y"].to_numpy(float), name=lay, color=color,
                                  size=10, text=text, custom=_ids(lay, sub), symbol=symbol,
                                  line_color="#ffffff", gl=False))
    data.append({"type": "scatter", "mode": "markers", "x": [x0], "y": [y0], "showlegend": False,
                 "marker": {"symbol": "circle-open", "size": 24, "line": {"width": 3, "color": col["selected"]},
                            "color": col["selected"]},
                 "text": [esc(row.get("name"))], "hovertemplate": "%{text}<extra></extra>"})
    return {"data": data, "layout": {
        "template": template_dict(theme), "paper_bgcolor": col["paper"], "plot_bgcolor": col["land"],
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "showlegend": False, "dragmode": "pan", "hovermode": "closest",
        "xaxis": {"visible": False, "range": [bounds[0], bounds[2]]},
        "yaxis": {"visible": False, "range": [bounds[1], bounds[3]], "scaleanchor": "x",
                  "scaleratio": 1.0 / math.cos(math.radians(y0))}}}
