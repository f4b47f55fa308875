"""The city map of the map page and the wall: :func:`build_map` of a selection, :func:`city_map` from a store,
:func:`visibility_patch` to show and hide toggles without redrawing."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import shapely

from dashboard.components.mapfig.cache import cached
from dashboard.components.mapfig.coords import chain_lines, ring_coords, simplify, typed, view_range
from dashboard.components.mapfig.hover import area_names, esc, hazard_hover, object_hover
from dashboard.components.mapfig.options import ALWAYS, DEFAULT_VISIBLE, MapFigure, MapOptions
from dashboard.components.mapfig.tiles import tile_images
from dashboard.components.mapfig.traces import area_labels, custom_ids, legend_key, line_trace, points_trace
from dashboard.components.theme import FONT, MAP_COLOURS, template_dict
from dashboard.i18n import register, t
from layers.analysis.summary import Filters, Selection, load_city, risk_index, select
from layers.schema import (
    CONDITION_CLASSES,
    FLOOD_KINDS,
    GRADE_ORDER,
    GRADES,
    PRESSURE_CLASSES,
    RESOURCE_KINDS,
    ROAD_CLASSES,
    VENUE_KINDS,
    label,
)

register({
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


def build_map(sel: Selection, options: MapOptions | None = None, *, risk: pd.DataFrame | None = None,
              weights: Mapping[str, float] | None = None) -> MapFigure:
    """The map of a selection. ``risk``: :func:`layers.summary.risk_index` of it (computed from ``weights``
    when None and weights are given; no choropleth when both are None)."""
    options = options or MapOptions()
    lang, theme = options.lang, options.theme
    col = MAP_COLOURS[theme]
    visible = DEFAULT_VISIBLE if options.visible is None else frozenset(options.visible)
    names = area_names(sel.city, lang)
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
    simple_areas = simplify(np.asarray(areas.geometry.values), tol)
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
            key_entry("risk", legend_key(f"{i * 20}–{(i + 1) * 20}", "risk",
                                         title=t("map.legend.risk", lang) if i == 0 else None,
                                         marker={"symbol": "square", "size": 12, "color": c, "opacity": 0.7}))

    # -- water, roads -------------------------------------------------------------------------------
    water = sel.lines["water"]
    if len(water):
        geoms = simplify(water.geometry.values, tol)
        tid = shapely.get_type_id(geoms)
        polys, lines = geoms[np.isin(tid, (3, 6))], geoms[np.isin(tid, (1, 5))]
        if len(polys):
            x, y = ring_coords(polys)
            add(ALWAYS, {"type": "scatter", "mode": "lines", "x": typed(x), "y": typed(y), "fill": "toself",
                         "fillcolor": col["water"], "line": {"color": col["water_line"], "width": 0.5},
                         "hoverinfo": "skip", "name": t("map.legend.water", lang), "showlegend": False})
        if len(lines):
            x, y = ring_coords(lines)
            add(ALWAYS, line_trace(x, y, name=t("map.legend.water", lang), color=col["water"], width=4))
    roads = sel.lines["roads"]
    for rc in reversed(tuple(ROAD_CLASSES)):
        sub = roads[roads["road_class"].eq(rc)] if len(roads) else roads
        if not len(sub):
            continue
        x, y = _lines_xy(sel, "roads:" + rc, sub, tol)
        major = rc in ("motorway", "primary")
        add("roads", line_trace(x, y, name=label(ROAD_CLASSES, rc, lang),
                                color=col["road_major" if major else "road"],
                                width=ROAD_CLASSES[rc]["width"] * (0.9 if major else 0.6)))

    # -- boundaries ---------------------------------------------------------------------------------
    towns_drawn = sel.city.towns if sel.level == "city" else sel.towns
    x, y = ring_coords(simplify(towns_drawn.geometry.values, tol))
    add("boundaries", line_trace(x, y, name=t("map.legend.town_line", lang), color=col["town_line"], width=0.8,
                                 dash="dot"))
    x, y = ring_coords(simplify(sel.districts.geometry.values, tol))
    add("boundaries", line_trace(x, y, name=t("map.legend.district_line", lang), color=col["district_line"],
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
        add("gas_pipelines", line_trace(x, y, name=label(PRESSURE_CLASSES, p, lang), color=st["color"],
                                        width=width, hover=True))
        key_entry("gas_pipelines", legend_key(label(PRESSURE_CLASSES, p, lang), "gas_pipelines",
                                              line={"color": st["color"], "width": width + 1},
                                              title=t("map.toggle.gas_pipelines", lang) if first else None))
        first = False
    rails = sel.lines["rail_lines"]
    for i, (_, r) in enumerate(rails.iterrows()):
        x, y = ring_coords(np.array([r.geometry], dtype=object))
        color = r.get("color") if isinstance(r.get("color"), str) and str(r.get("color")).startswith("#") \
            else "#6b5bd6"
        name = esc(r.get("name") or r.get("line_no") or r["id"])
        add("rail", line_trace(x, y, name=name, color=color, width=3, hover=True))
        key_entry("rail", legend_key(name, "rail", line={"color": color, "width": 3},
                                     title=t("map.toggle.rail", lang) if i == 0 else None))
    for layer_name, dash in (("bridges", None), ("tunnels", "dash")):
        g = sel.lines[layer_name]
        if not len(g):
            continue
        for cc in CONDITION_CLASSES:
            sub = g[g["condition_class"].eq(cc)]
            if len(sub):
                x, y = ring_coords(sub.geometry.values)
                add(layer_name, line_trace(x, y, name=label(CONDITION_CLASSES, cc, lang),
                                           color=CONDITION_CLASSES[cc]["color"],
                                           width=5 if cc in ("4", "5") else 3.5, dash=dash))
        mids = shapely.line_interpolate_point(np.asarray(g.geometry.values), 0.5, normalized=True)
        colors = np.array([CONDITION_CLASSES.get(c, {"color": "#888888"})["color"] for c in g["condition_class"]],
                          dtype=object)
        add(layer_name, points_trace(shapely.get_x(mids), shapely.get_y(mids), name=t(f"map.toggle.{layer_name}",
                                                                                      lang),
                                     color=colors, size=8 * fs, text=hover(layer_name, g),
                                     custom=custom_ids(layer_name, g), symbol="square" if layer_name == "bridges"
                                     else "diamond", line_color=col["paper"], gl=False))
    bridges_title = f"{t('map.toggle.bridges', lang)} / {t('map.toggle.tunnels', lang)}"
    for cc in CONDITION_CLASSES:
        key_entry("bridges", legend_key(label(CONDITION_CLASSES, cc, lang), "bridges",
                                        marker={"symbol": "square", "size": 9,
                                                "color": CONDITION_CLASSES[cc]["color"]},
                                        title=bridges_title if cc == "1" else None))

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
        add("enterprises", points_trace(ent["x"].to_numpy(), ent["y"].to_numpy(),
                                        name=t("map.toggle.enterprises", lang), color=colors[np.clip(gi, 0, 3)],
                                        size=sizes, text=hover("enterprises", ent),
                                        custom=custom_ids("enterprises", ent),
                                        line_color="#ffffff" if light else None))
    if not aggregated:
        for g in GRADE_ORDER:
            key_entry("enterprises", legend_key(label(GRADES, g, lang), "enterprises",
                                                marker={"size": 10, "color": GRADES[g]["color"]},
                                                title=t("map.toggle.enterprises", lang) if g == GRADE_ORDER[0]
                                                else None))

    # -- enforcement: suspended / closed enterprises, blacklist, repeat offenders (marks around the points) -
    _enforcement(sel, add, key_entry, hover, fs, light, lang)

    # -- other points ---------------------------------------------------------------------------------
    v = sel.objects["venues"]
    v = v[v["x"].notna()]
    if len(v):
        cap = v["capacity"].astype("Float64").fillna(0).to_numpy(dtype=float)
        size = (5 + 13 * np.sqrt(cap / max(cap.max(), 1.0))) * fs
        colors = np.array([VENUE_KINDS.get(k, {"color": "#888888"})["color"] for k in v["kind"]], dtype=object)
        add("venues", points_trace(v["x"].to_numpy(), v["y"].to_numpy(), name=t("map.toggle.venues", lang),
                                   color=colors, size=size, text=hover("venues", v),
                                   custom=custom_ids("venues", v), symbol="diamond", opacity=0.8))
        for i, k in enumerate(k for k in VENUE_KINDS if (v["kind"] == k).any()):
            key_entry("venues", legend_key(label(VENUE_KINDS, k, lang), "venues",
                                           marker={"symbol": "diamond", "size": 9,
                                                   "color": VENUE_KINDS[k]["color"]},
                                           title=t("map.toggle.venues", lang) if i == 0 else None))
    gs = sel.objects["gas_stations"]
    gs = gs[gs["x"].notna()]
    if len(gs):
        add("gas_stations", points_trace(gs["x"].to_numpy(), gs["y"].to_numpy(),
                                         name=t("map.toggle.gas_stations", lang), color="#B0006D", size=9 * fs,
                                         text=hover("gas_stations", gs),
                                         custom=custom_ids("gas_stations", gs), symbol="triangle-up",
                                         line_color="#ffffff"))
        key_entry("gas_stations", legend_key(t("map.toggle.gas_stations", lang), "gas_stations",
                                             marker={"symbol": "triangle-up", "size": 10,
                                                     "color": "#B0006D"}))
    rs = sel.objects["rail_stations"]
    rs = rs[rs["x"].notna()]
    if len(rs):
        text = [f"<b>{esc(n)}</b><br>{esc(ln or '')}<br>{t('map.hover.daily', lang)}: {'' if pd.isna(d) else d}"
                for n, ln, d in zip(rs["name"], rs["lines"], rs["daily_passengers"], strict=True)]
        add("rail", points_trace(rs["x"].to_numpy(), rs["y"].to_numpy(), name=t("map.legend.rail_station", lang),
                                 color="#ffffff", size=7 * fs, text=None if tip else text,
                                 custom=custom_ids("rail_stations", rs),
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
        add(layer_name, points_trace(f["x"].to_numpy(), f["y"].to_numpy(), name=t(f"map.toggle.{layer_name}", lang),
                                     color=colors, size=10 * fs, text=None if tip else text,
                                     custom=custom_ids(layer_name, f),
                                     symbol=symbol))
        for i, k in enumerate(k for k in kinds if (f["kind"] == k).any()):
            key_entry(layer_name, legend_key(label(kinds, k, lang), layer_name,
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
        text = None if tip else cached(sel.city, ("hazard_hover", lang),
                                       lambda: hazard_hover(sel.city.hazards, lang, names))
        major = hz["level"].eq("major").to_numpy()
        custom = ("hazards:" + hz["id"].astype(str)).tolist()
        od = hz["overdue"].to_numpy(dtype=bool)
        if od.any():
            add("hazards", points_trace(hz["x"].to_numpy()[od], hz["y"].to_numpy()[od],
                                        name=t("map.legend.hazard_overdue", lang), color="rgba(0,0,0,0)",
                                        size=14 * fs, text=None if tip else text[hz.index.to_numpy()[od]],
                                        custom=np.asarray(custom, dtype=object)[od], symbol="circle-open",
                                        opacity=0.8))
            data[-1]["marker"]["line"] = {"color": overdue_colour, "width": 1.5}
            data[-1]["marker"]["color"] = overdue_colour
        add("hazards", points_trace(hz["x"].to_numpy(), hz["y"].to_numpy(), name=t("map.toggle.hazards", lang),
                                    color=np.where(major, "#E5141B", "#FF8A00").astype(object),
                                    size=np.where(major, 11.0, 7.0) * fs,
                                    text=None if tip else text[hz.index.to_numpy()],
                                    custom=custom, symbol="x"))
        listed = hz["listed"].fillna(False).astype(bool).to_numpy() & hz["unclosed"].to_numpy(dtype=bool) \
            if "listed" in hz else np.zeros(len(hz), dtype=bool)
        if listed.any():   # listed supervision (挂牌督办): a star over the cross
            add("hazards", points_trace(hz["x"].to_numpy()[listed], hz["y"].to_numpy()[listed],
                                        name=t("map.legend.hazard_listed", lang), color="#E5141B",
                                        size=16 * fs, text=None if tip else text[hz.index.to_numpy()[listed]],
                                        custom=np.asarray(custom, dtype=object)[listed], symbol="star-open",
                                        opacity=0.95))
            data[-1]["marker"]["line"] = {"color": "#E5141B", "width": 2}
    key_entry("hazards", legend_key(t("map.legend.hazard_major", lang), "hazards",
                                    marker={"symbol": "x", "size": 11, "color": "#E5141B"},
                                    title=t("map.toggle.hazards", lang)))
    key_entry("hazards", legend_key(t("map.legend.hazard_general", lang), "hazards",
                                    marker={"symbol": "x", "size": 8, "color": "#FF8A00"}))
    key_entry("hazards", legend_key(t("map.legend.hazard_overdue", lang), "hazards",
                                    marker={"symbol": "circle-open", "size": 12, "color": overdue_colour,
                                      "line": {"width": 2}}))

    # -- labels, the selected object, the legend ----------------------------------------------------------
    notes = area_labels(sel, add, names, col, lang, fs) if options.labels else []
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


#: how each enforcement state is marked around an object's point: (legend key, symbol, colour, size)
_ENFORCEMENT_MARKS = (
    ("suspended", "square-open", "#7B2CBF", 15),
    ("closed", "x-open", "#555555", 14),
    ("blacklisted", "square", "rgba(20,20,20,0.85)", 8),
    ("repeat", "diamond-open", "#E5141B", 18),
)


def _enforcement(sel: Selection, add, key_entry, hover, fs: float, light: bool, lang: str) -> None:
    """Marks for enterprises under an order (suspended, closed), on the blacklist, and repeat offenders of any
    object layer, drawn in every view (they are few; a city view of a big city shows them over the hexagons)."""
    legend_words = {"suspended": "map.legend.suspended", "closed": "map.legend.closed",
                    "blacklisted": "map.legend.blacklisted", "repeat": "map.legend.repeat"}
    for key, symbol, colour, size in _ENFORCEMENT_MARKS:
        if key == "blacklisted" and light is False:
            colour = "rgba(240,240,240,0.9)"
        frames = []
        for layer in ("enterprises", "venues", "gas_stations"):
            f = sel.objects.get(layer)
            if f is None or not len(f):
                continue
            if key in ("suspended", "closed"):
                m = f["status"].eq(key).fillna(False).to_numpy(dtype=bool) if "status" in f else None
            elif key == "blacklisted":
                m = f["blacklisted"].fillna(False).to_numpy(dtype=bool) if "blacklisted" in f else None
            else:
                m = f["repeat_offender"].fillna(False).to_numpy(dtype=bool) if "repeat_offender" in f else None
            if m is not None and m.any():
                frames.append((layer, f[m & f["x"].notna().to_numpy()]))
        for layer, f in frames:
            add("enforcement", points_trace(f["x"].to_numpy(), f["y"].to_numpy(), name=t(legend_words[key], lang),
                                            color=colour, size=size * fs, text=hover(layer, f),
                                            custom=custom_ids(layer, f), symbol=symbol, opacity=0.95))
        key_entry("enforcement", legend_key(t(legend_words[key], lang), "enforcement",
                                            marker={"symbol": symbol, "size": 11, "color": colour},
                                            title=t("map.toggle.enforcement", lang) if key == "suspended"
                                            else None))


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


def _hover_of(sel: Selection, layer: str, lang: str, rows: pd.DataFrame) -> list[str]:
    city = sel.city
    full = city.objects[layer] if layer in city.objects else city.lines[layer]
    arr = cached(city, ("hover", layer, lang), lambda: object_hover(full, layer, lang, area_names(city, lang)))
    return arr[rows.index.to_numpy()].tolist()


def _lines_xy(sel: Selection, layer: str, frame: pd.DataFrame, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Chained and simplified coordinates of some rows of a line layer (cached per area and filter)."""
    fl = sel.filters
    key = ("lines", layer, tuple(frame.index[:3]), len(frame), int(frame.index.to_numpy().sum()) if len(frame)
           else 0, round(tol, 9), fl.districts, fl.town)
    return cached(sel.city, key, lambda: ring_coords(simplify(chain_lines(frame.geometry.values), tol)))


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
    polys = cached(sel.city, ("hexpolys", res, tuple(uc[:4]), len(uc)), lambda: cells_to_polygons(uc))
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
        key_entry("enterprises", legend_key(f"{lo:.0f}–{hi:.0f}", "hex",
                                            title=t("map.legend.hex", lang) if k == 0 else None,
                                            marker={"symbol": "hexagon", "size": 12, "color": scale[k]}))
    ln = t("map.hover.enterprises_n", lang)
    text = []
    cmat = counts[list(GRADE_ORDER)].to_numpy()
    for i, d in enumerate(main_d.to_numpy()):
        parts = " · ".join(f"{label(GRADES, g, lang)} {int(cmat[i, j])}" for j, g in enumerate(GRADE_ORDER)
                           if cmat[i, j])
        text.append(f"<b>{ln}: {int(cmat[i].sum())}</b><br>{parts}<br>{esc(names.get(str(d), ''))}"
                    f"<br>{t('map.hover.click_drill', lang)}")
    add("enterprises", points_trace(lng, lat, name=t("map.legend.hex", lang), color="rgba(0,0,0,0)", size=12,
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

    return cached(sel.city, ("h3", res), make)
