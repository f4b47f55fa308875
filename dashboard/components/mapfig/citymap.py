"""The city map of the map page and the wall: :func:`build_map` of a selection, :func:`city_map` from a store,
:func:`visibility_patch` to show and hide toggles without redrawing.

On MapLibre (``layout.map``) over the app's own basemap style: the areas are ``choroplethmap`` traces over a
GeoJSON of the districts (towns in a district), clickable (``customdata`` ``district:<code>``); the risk index
colours them; enterprises are circles, clustered per grade when zoomed out (one clustered trace per grade, so
the clusters show the mix of the four grades at every zoom); a large city's view aggregates them into H3 cells
(a ``choroplethmap`` over a GeoJSON of cells) coloured by the worst grade in the cell, the mix in the hover.
Place names come from the basemap style (symbol layers with collision handling), not from traces.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import shapely

from dashboard.components.mapfig.cache import cached
from dashboard.components.mapfig.coords import chain_lines, geojson_of, ring_coords, simplify, view_of
from dashboard.components.mapfig.hover import area_names, esc, hazard_hover, object_hover
from dashboard.components.mapfig.options import ALWAYS, DEFAULT_VISIBLE, MapFigure, MapOptions
from dashboard.components.mapfig.rail import line_name, station_lines
from dashboard.components.mapfig.style import basemap_for, below_labels
from dashboard.components.mapfig.traces import (
    area_trace,
    custom_ids,
    legend_key,
    line_trace,
    merge_rings,
    points_trace,
    ring,
)
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
    VENUE_KINDS,
    label,
)

register({
    "map.legend.hex": ("企业六边形（最高等级）", "Enterprise hexagons (worst grade)"),
    "map.legend.risk": ("风险指数", "Risk index"),
    "map.legend.rail_station": ("轨道站点", "Rail station"),
    "map.legend.district_line": ("区县界", "District boundary"),
    "map.legend.town_line": ("镇街界", "Town boundary"),
    "map.legend.water": ("水系", "Water"),
    "map.legend.tunnel_suffix": ("隧道", "tunnel"),
    "map.legend.bridge_suffix": ("桥梁", "bridge"),
    "map.legend.selected": ("选中对象", "Selected"),
    "map.hover.worst": ("最高等级", "Worst grade"),
})

#: how each enforcement state is marked around an object's point: (key, colour, ring size); drawn widest first
_ENFORCEMENT_MARKS = (
    ("repeat", "#E5141B", 22),
    ("suspended", "#7B2CBF", 18),
    ("closed", "#555555", 18),
    ("blacklisted", "#141414", 15),
)
HAZARD_MAJOR, HAZARD_GENERAL = "#E5141B", "#FF8A00"
#: venues drawn in the city view of a large city (the largest by capacity; a district shows every one)
VENUES_AGGREGATED = 2000


def build_map(sel: Selection, options: MapOptions | None = None, *, risk: pd.DataFrame | None = None,
              weights: Mapping[str, float] | None = None) -> MapFigure:
    """The map of a selection. ``risk``: :func:`layers.summary.risk_index` of it (computed from ``weights``
    when None and weights are given; no choropleth when both are None)."""
    options = options or MapOptions()
    lang, theme = options.lang, options.theme
    col = MAP_COLOURS[theme]
    visible = DEFAULT_VISIBLE if options.visible is None else frozenset(options.visible)
    names = area_names(sel.city, lang)
    style, crs = basemap_for(theme, lang)
    if options.style is not None:
        style = options.style
    if options.crs is not None:
        crs = options.crs
    below = below_labels(style)
    data: list[dict] = []
    keys: list[str] = []
    legend: list[tuple[str, dict]] = []
    fs = options.font_scale
    light = theme == "light"
    paper = "#ffffff" if light else col["paper"]

    rings_of: dict[int, list] = {}   # index of a ring trace -> the rings merged into it

    def add(key: str, trace: dict) -> None:
        part = trace.pop("_ring", None)
        if part is not None and data and keys[-1] == key and len(data) - 1 in rings_of:
            rings_of[len(data) - 1].append(part)   # one trace for consecutive rings of a toggle
            return
        if key != ALWAYS and key not in visible:
            trace["visible"] = False
        if part is not None:
            rings_of[len(data)] = [part]
        data.append(trace)
        keys.append(key)

    tip = options.hover == "events"

    def hover(layer: str, rows: pd.DataFrame) -> list[str] | None:
        return None if tip else _hover_of(sel, layer, lang, rows)

    html_legend: list[dict] = []

    def key_entry(key: str, trace: dict) -> None:
        if options.legend == "html":   # a key beside the map (no traces: each is MapLibre sources and layers)
            html_legend.append({"key": key, "title": (trace.get("legendgrouptitle") or {}).get("text"),
                                "name": trace["name"], "color": trace["marker"]["color"],
                                "size": trace["marker"].get("size", 10)})
        elif options.legend:
            legend.append((key, trace))

    def pts(x, y, **kw) -> dict:
        return points_trace(x, y, crs=crs, **kw)

    def rings(x, y, **kw) -> dict:
        return ring(x, y, crs=crs, **kw)

    minx, miny, maxx, maxy = sel.bounds
    span = max(maxx - minx, maxy - miny, 1e-3)
    tol = span / 3000.0  # about half a pixel on a 1500 px map
    if risk is None and weights is not None:
        risk = risk_index(sel, weights=weights)

    # -- areas: clickable (always) and the risk colour (switchable), one choroplethmap each -------------
    area_level = "district" if sel.level == "city" else "town"
    areas = sel.districts if area_level == "district" else sel.towns
    codes = areas["code"].astype(str).tolist()
    gj = _area_geojson(sel, areas, codes, tol, crs)
    click = t("map.hover.click_drill", lang)
    area_text = [f"<b>{esc(names.get(c, c))}</b><br>{click}" for c in codes]
    custom = [f"{area_level}:{c}" for c in codes]
    add(ALWAYS, area_trace(gj, codes, np.zeros(len(codes)), colors=["rgba(0,0,0,0)"], name=area_level,
                           text=area_text, custom=custom, opacity=0.0, below=below))   # never painted (MapLibre skips
    # a fill at opacity 0: a full-screen pass less per frame in software WebGL), still hovered and clicked
    scale = col["risk_scale"].split(",")
    rmap = risk.set_index("code") if risk is not None and len(risk) else None
    if rmap is not None:
        have = [c for c in codes if c in rmap.index]
        idx = np.array([float(rmap.loc[c, "index"]) for c in have])
        text = [f"<b>{esc(names.get(c, c))}</b><br>{t('map.hover.risk_index', lang)}: {i:.0f}"
                f"<br>{t('map.hover.score', lang)}: {float(rmap.loc[c, 'score']):.0f}<br>{click}"
                for c, i in zip(have, idx, strict=True)]
        add("risk", area_trace(gj, have, np.minimum(idx // 20, 4), colors=scale, name=t("map.legend.risk", lang),
                               text=text, custom=[f"{area_level}:{c}" for c in have],
                               opacity=0.38 if light else 0.55, line_color=col["district_line"],
                               line_width=0.6, below=below))
        for i, c in enumerate(scale):
            key_entry("risk", legend_key(f"{i * 20}–{(i + 1) * 20}", "risk", color=c, size=12,
                                         title=t("map.legend.risk", lang) if i == 0 else None))

    # -- lines: gas pipelines, rail, bridges, tunnels (never hovered: areas and points take the clicks) ----
    pipes = sel.lines["gas_pipelines"]
    first = True
    for p in reversed(tuple(PRESSURE_CLASSES)):
        sub = pipes[pipes["pressure"].eq(p)] if len(pipes) else pipes
        if not len(sub):
            continue
        x, y = _lines_xy(sel, "gas_pipelines:" + p, sub, tol)
        st = PRESSURE_CLASSES[p]
        width = (st["width"] * 0.6 + 0.4) * fs
        add("gas_pipelines", line_trace(x, y, name=label(PRESSURE_CLASSES, p, lang), color=st["color"],
                                        width=width, crs=crs, opacity=0.75))
        key_entry("gas_pipelines", legend_key(label(PRESSURE_CLASSES, p, lang), "gas_pipelines", color=st["color"],
                                              title=t("map.toggle.gas_pipelines", lang) if first else None))
        first = False
    rails = sel.lines["rail_lines"]
    for i, (_, r) in enumerate(rails.iterrows()):
        x, y = ring_coords(np.array([r.geometry], dtype=object))
        color = r.get("color") if isinstance(r.get("color"), str) and str(r.get("color")).startswith("#") \
            else "#6b5bd6"
        name = esc(line_name(r, lang))
        add("rail", line_trace(x, y, name=name, color=color, width=3 * fs, crs=crs))
        if i == 0:   # one key for the lines (each has its own colour), one for the stations
            key_entry("rail", legend_key(t("map.toggle.rail", lang), "rail", color=color,
                                         title=t("map.toggle.rail", lang)))
    for layer_name in ("bridges", "tunnels"):
        g = sel.lines[layer_name]
        if not len(g):
            continue
        for cc in CONDITION_CLASSES if sel.level != "city" else ():   # the city view: their midpoints only
            sub = g[g["condition_class"].eq(cc)]
            if len(sub):
                x, y = ring_coords(sub.geometry.values)
                add(layer_name, line_trace(x, y, name=label(CONDITION_CLASSES, cc, lang),
                                           color=CONDITION_CLASSES[cc]["color"],
                                           width=(5 if cc in ("4", "5") else 3.5) * fs, crs=crs))
        mids = shapely.line_interpolate_point(np.asarray(g.geometry.values), 0.5, normalized=True)
        colors = np.array([CONDITION_CLASSES.get(c, {"color": "#888888"})["color"] for c in g["condition_class"]],
                          dtype=object)
        mx, my = shapely.get_x(mids), shapely.get_y(mids)
        # a bridge: a dark ring around its condition colour; a tunnel: a light one
        add(layer_name, rings(mx, my, name=layer_name, color="#34495E" if layer_name == "bridges" else paper,
                              size=12 * fs))
        add(layer_name, pts(mx, my, name=t(f"map.toggle.{layer_name}", lang), color=colors, size=8 * fs,
                            text=hover(layer_name, g), custom=custom_ids(layer_name, g)))
    bridges_title = f"{t('map.toggle.bridges', lang)} / {t('map.toggle.tunnels', lang)}"
    for cc in CONDITION_CLASSES:
        key_entry("bridges", legend_key(label(CONDITION_CLASSES, cc, lang), "bridges",
                                        color=CONDITION_CLASSES[cc]["color"], size=9,
                                        title=bridges_title if cc == "1" else None))

    # -- enterprises: hexagons (a large city's view) or points; enforcement rings under the points -------
    ent = sel.enterprises
    ent = ent[ent["x"].notna()]
    aggregated = sel.level == "city" and len(ent) > options.point_limit   # a district or town: every point
    if aggregated:
        _hexagons(sel, ent, options, add, key_entry, names, crs, below)
    _enforcement(sel, add, key_entry, rings, fs, light, lang)
    cl = options.cluster_maxzoom
    if not aggregated and len(ent) and not cl:
        # one trace for the four grades (colour and size per point, major drawn last, on top): each scattermap
        # trace is its own MapLibre source and four layers, and their number, not their points, is what slows
        # zooming in software WebGL (benchmarks/bench_map.py)
        order = list(reversed(GRADE_ORDER))
        rank = pd.Categorical(ent["grade"], categories=order).codes   # an unknown grade -1: drawn first, grey
        by_rank = np.argsort(rank, kind="stable")
        sub, rank = ent.iloc[by_rank], rank[by_rank]
        colour = np.array([*(GRADES[g]["color"] for g in order), "#888888"], dtype=object)[rank]
        size = np.array([*({"major": 9.0, "high": 7.5}.get(g, 6.0) for g in order), 6.0])[rank] * fs
        add("enterprises", pts(sub["x"].to_numpy(), sub["y"].to_numpy(), name=t("map.toggle.enterprises", lang),
                               color=colour, size=size, text=hover("enterprises", sub),
                               custom=custom_ids("enterprises", sub)))
    elif not aggregated and len(ent):
        for g in reversed(GRADE_ORDER):   # major drawn last (on top); clustered per grade
            sub = ent[ent["grade"].eq(g)]
            if not len(sub):
                continue
            colour = GRADES[g]["color"]
            size = {"major": 9.0, "high": 7.5}.get(g, 6.0) * fs
            cluster = {"enabled": True, "maxzoom": cl, "color": colour, "opacity": 0.75,
                       "step": [-1, 10, 50, 200], "size": [round(s * fs ** 0.5, 1) for s in (11, 14, 18, 23)]} \
                if cl else None
            add("enterprises", pts(sub["x"].to_numpy(), sub["y"].to_numpy(), name=t("map.toggle.enterprises", lang),
                                   color=colour, size=size, text=hover("enterprises", sub),
                                   custom=custom_ids("enterprises", sub), cluster=cluster))
    if not aggregated:
        for g in GRADE_ORDER:
            key_entry("enterprises", legend_key(label(GRADES, g, lang), "enterprises", color=GRADES[g]["color"],
                                                title=t("map.toggle.enterprises", lang) if g == GRADE_ORDER[0]
                                                else None))

    # -- other points ---------------------------------------------------------------------------------
    v = sel.objects["venues"]
    v = v[v["x"].notna()]
    if aggregated and len(v) > VENUES_AGGREGATED:   # a large city's view: its largest venues (a district: all)
        v = v.iloc[np.argsort(-v["capacity"].astype("Float64").fillna(0).to_numpy(dtype=float),
                              kind="stable")[:VENUES_AGGREGATED]]
    if len(v):
        cap = v["capacity"].astype("Float64").fillna(0).to_numpy(dtype=float)
        size = (5 + 13 * np.sqrt(cap / max(cap.max(), 1.0))) * fs
        colors = np.array([VENUE_KINDS.get(k, {"color": "#888888"})["color"] for k in v["kind"]], dtype=object)
        add("venues", pts(v["x"].to_numpy(), v["y"].to_numpy(), name=t("map.toggle.venues", lang), color=colors,
                          size=size, text=hover("venues", v), custom=custom_ids("venues", v), opacity=0.7))
        key_entry("venues", legend_key(t("map.toggle.venues", lang), "venues", color="#16A085", size=11))
    gs = sel.objects["gas_stations"]
    gs = gs[gs["x"].notna()]
    if len(gs):
        gx, gy = gs["x"].to_numpy(), gs["y"].to_numpy()
        add("gas_stations", rings(gx, gy, name="gas_stations", color="#B0006D", size=13 * fs))
        add("gas_stations", pts(gx, gy, name=t("map.toggle.gas_stations", lang), color=paper, size=6 * fs,
                                text=hover("gas_stations", gs), custom=custom_ids("gas_stations", gs)))
        key_entry("gas_stations", legend_key(t("map.toggle.gas_stations", lang), "gas_stations", color="#B0006D"))
    rs = sel.objects["rail_stations"]
    rs = rs[rs["x"].notna()]
    if len(rs):
        text = [f"<b>{esc(n)}</b><br>{esc(station_lines(ln, lang))}<br>{t('map.hover.daily', lang)}: "
                f"{'' if pd.isna(d) else d}"
                for n, ln, d in zip(rs["name"], rs["lines"], rs["daily_passengers"], strict=True)]
        rx, ry = rs["x"].to_numpy(), rs["y"].to_numpy()
        add("rail", rings(rx, ry, name="rail_stations", color="#6b5bd6", size=10 * fs))
        add("rail", pts(rx, ry, name=t("map.legend.rail_station", lang), color="#ffffff", size=5 * fs,
                        text=None if tip else text, custom=custom_ids("rail_stations", rs)))
        key_entry("rail", legend_key(t("map.legend.rail_station", lang), "rail", color="#6b5bd6", size=9))
    for layer_name, kinds, extra in (
            ("resources", RESOURCE_KINDS, ("phone", "map.hover.phone")),
            ("flood_points", FLOOD_KINDS, ("max_depth_cm", "map.hover.depth"))):
        f = sel.objects[layer_name]
        f = f[f["x"].notna()]
        if not len(f):
            continue
        text = [f"<b>{esc(n)}</b><br>{label(kinds, k, lang)}<br>{t(extra[1], lang)}: {'' if pd.isna(e) else esc(e)}"
                for n, k, e in zip(f["name"], f["kind"], f[extra[0]], strict=True)]
        colors = np.array([kinds.get(k, {"color": "#888888"})["color"] for k in f["kind"]], dtype=object)
        fx, fy = f["x"].to_numpy(), f["y"].to_numpy()
        add(layer_name, pts(fx, fy, name=t(f"map.toggle.{layer_name}", lang), color=colors, size=9 * fs,
                            text=None if tip else text, custom=custom_ids(layer_name, f)))
        for i, k in enumerate(k for k in kinds if (f["kind"] == k).any()):
            key_entry(layer_name, legend_key(label(kinds, k, lang), layer_name, color=kinds[k]["color"], size=9,
                                             title=t(f"map.toggle.{layer_name}", lang) if i == 0 else None))

    # -- hazards: a ring (red major, orange general) with a white centre; overdue and listed: a wider ring --
    hz = sel.hazards
    hz = hz[hz["x"].notna()]
    if aggregated:   # the city view of a large city: major hazards only (a district shows every one)
        hz = hz[hz["level"].eq("major")]
    overdue_colour = "#7a0010" if light else "#ff4d6d"
    if len(hz):
        hz = hz.iloc[np.argsort(hz["level"].eq("major").to_numpy(), kind="stable")]
        text = None if tip else cached(sel.city, ("hazard_hover", lang),
                                       lambda: hazard_hover(sel.city.hazards, lang, names))
        major = hz["level"].eq("major").to_numpy()
        hx, hy = hz["x"].to_numpy(), hz["y"].to_numpy()
        custom = ("hazards:" + hz["id"].astype(str)).tolist()
        listed = hz["listed"].fillna(False).astype(bool).to_numpy() & hz["unclosed"].to_numpy(dtype=bool) \
            if "listed" in hz else np.zeros(len(hz), dtype=bool)
        od = hz["overdue"].to_numpy(dtype=bool)
        if listed.any():   # listed supervision (挂牌督办): the widest ring
            add("hazards", rings(hx[listed], hy[listed], name=t("map.legend.hazard_listed", lang),
                                 color=HAZARD_MAJOR, size=22 * fs, opacity=0.35))
        if od.any():
            add("hazards", rings(hx[od], hy[od], name=t("map.legend.hazard_overdue", lang), color=overdue_colour,
                                 size=16 * fs))
        add("hazards", pts(hx, hy, name=t("map.toggle.hazards", lang),
                           color=np.where(major, HAZARD_MAJOR, HAZARD_GENERAL).astype(object),
                           size=np.where(major, 12.0, 8.0) * fs,
                           text=None if tip else text[hz.index.to_numpy()], custom=custom))
        add("hazards", rings(hx, hy, name="hazard_centre", color=paper, size=np.where(major, 5.0, 3.5) * fs,
                             opacity=1.0))
    key_entry("hazards", legend_key(t("map.legend.hazard_major", lang), "hazards", color=HAZARD_MAJOR, size=12,
                                    title=t("map.toggle.hazards", lang)))
    key_entry("hazards", legend_key(t("map.legend.hazard_general", lang), "hazards", color=HAZARD_GENERAL, size=9))
    key_entry("hazards", legend_key(t("map.legend.hazard_overdue", lang), "hazards", color=overdue_colour, size=12))
    key_entry("hazards", legend_key(t("map.legend.hazard_listed", lang), "hazards", color="rgba(229,20,27,0.4)",
                                    size=14))

    # -- the selected object, the legend -----------------------------------------------------------------
    if options.selected:
        lay, oid = options.selected
        f = sel.city.objects.get(lay)
        if f is not None:
            row = f[f["id"].astype(str) == str(oid)]
            if len(row) and pd.notna(row["x"].iloc[0]):
                add(ALWAYS, rings(row["x"].to_numpy(float)[:1], row["y"].to_numpy(float)[:1],
                                  name=t("map.legend.selected", lang), color=col["selected"], size=28 * fs,
                                  opacity=0.45))
    for key, trace in legend:
        add(key, trace)
    for i, parts in rings_of.items():
        if len(parts) > 1:
            data[i].update(merge_rings(parts))

    center, zoom = view_of(sel.bounds, width_px=options.width_px, height_px=options.height_px)
    uirev = options.uirevision or f"{sel.level}:{','.join(sel.filters.districts or ())}:{sel.filters.town or ''}"
    layout = {
        "template": template_dict(theme),
        "paper_bgcolor": col["paper"], "plot_bgcolor": col["paper"],
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "map": {"style": style, "center": center, "zoom": zoom, "uirevision": uirev},
        "dragmode": "pan", "hovermode": "closest", "showlegend": bool(options.legend) and options.legend != "html",
        "legend": {**({"x": 0.995, "y": 0.99, "xanchor": "right", "yanchor": "top", "maxheight": 0.95}
                      if options.legend_orientation != "h" else
                      {"orientation": "h", "x": 0.0, "y": 0.0, "xanchor": "left", "yanchor": "bottom",
                       "entrywidth": 0, "maxheight": 0.3}),
                   "itemclick": False, "itemdoubleclick": False,
                   "bgcolor": "rgba(255,255,255,0.88)" if light else "rgba(6,16,31,0.8)",
                   "bordercolor": col["town_line"], "borderwidth": 1, "font": {"size": 10 * fs, "family": FONT},
                   "itemsizing": "constant", "tracegroupgap": 1, "grouptitlefont": {"size": 11 * fs}},
        "uirevision": uirev,
        "meta": {"level": sel.level, "aggregated": aggregated, "crs": crs},
    }
    return MapFigure(figure={"data": data, "layout": layout}, traces=keys, aggregated=aggregated,
                     extra={"legend": html_legend})


def _area_geojson(sel: Selection, areas: pd.DataFrame, codes: list[str], tol: float, crs: str) -> dict:
    """GeoJSON of the areas (simplified, in the drawing CRS), cached per city, area set and tolerance."""
    def make() -> dict:
        geoms = simplify(np.asarray(areas.geometry.values), tol)
        if crs != "wgs84":
            from layers.basemap import to_draw_crs

            geoms = shapely.transform(geoms, lambda c: np.column_stack(to_draw_crs(c[:, 0], c[:, 1], crs)))
        return geojson_of(codes, geoms)

    return cached(sel.city, ("areas_gj", tuple(codes), round(tol, 9), crs), make)


def _enforcement(sel: Selection, add, key_entry, rings, fs: float, light: bool, lang: str) -> None:
    """Rings under the points of enterprises under an order (suspended, closed), on the blacklist, and repeat
    offenders of any object layer, drawn in every view (they are few; a city view of a big city shows them over
    the hexagons). The point over the ring is hovered and clicked, not the ring."""
    legend_words = {"suspended": "map.legend.suspended", "closed": "map.legend.closed",
                    "blacklisted": "map.legend.blacklisted", "repeat": "map.legend.repeat"}
    for key, colour, size in _ENFORCEMENT_MARKS:
        if key == "blacklisted" and light is False:
            colour = "#F0F0F0"
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
            if m is None or not m.any():
                continue
            f = f[m & f["x"].notna().to_numpy()]
            tr = rings(f["x"].to_numpy(), f["y"].to_numpy(), name=t(legend_words[key], lang), color=colour,
                       size=size * fs, opacity=0.85)
            add("enforcement", tr)
        key_entry("enforcement", legend_key(t(legend_words[key], lang), "enforcement", color=colour, size=12,
                                            title=t("map.toggle.enforcement", lang) if key == "repeat" else None))


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
              names: Mapping[str, str], crs: str, below: str) -> None:
    """Enterprises aggregated to H3 cells (a ``choroplethmap`` over a GeoJSON of the cells): each cell coloured
    by the worst grade in it, lighter when that grade is a small share; the mix of the four grades in the
    hover; a click opens the cell's main district."""
    from geo.grid import cells_to_polygons

    lang = options.lang
    res = options.hex_resolution
    cells = _cells_for(sel, res)
    f = pd.DataFrame({"cell": cells[ent.index.to_numpy()], "grade": ent["grade"].to_numpy(),
                      "district": ent["district_code"].to_numpy()})
    counts = pd.crosstab(f["cell"], f["grade"])
    for g in GRADE_ORDER:
        if g not in counts:
            counts[g] = 0
    cmat = counts[list(GRADE_ORDER)].to_numpy()
    main_d = f.groupby(["cell", "district"]).size().reset_index().sort_values(0, ascending=False) \
        .drop_duplicates("cell").set_index("cell")["district"].reindex(counts.index)
    uc = counts.index.to_numpy(dtype=np.uint64)
    ids = [format(int(c), "x") for c in uc]
    polys = cached(sel.city, ("hexpolys", res, tuple(uc[:4]), len(uc)), lambda: cells_to_polygons(uc))
    if crs != "wgs84":
        from layers.basemap import to_draw_crs

        polys = shapely.transform(polys, lambda c: np.column_stack(to_draw_crs(c[:, 0], c[:, 1], crs)))
    gj = geojson_of(ids, polys, decimals=4)   # about 10 m: cells are 0.5 km across
    total = cmat.sum(axis=1)
    has = cmat > 0
    worst = np.where(has.any(axis=1), has.argmax(axis=1), len(GRADE_ORDER) - 1)   # GRADE_ORDER: worst first
    share = cmat[np.arange(len(cmat)), worst] / np.maximum(total, 1)
    # classes: the grade (4) x whether it is at least a quarter of the cell (2) -> 8 colours
    strong = share >= 0.25
    z = worst * 2 + strong.astype(int)
    colors = []
    for g in GRADE_ORDER:
        c = GRADES[g]["color"].lstrip("#")
        r, gg, b = int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)
        colors += [f"rgba({r},{gg},{b},0.45)", f"rgba({r},{gg},{b},0.9)"]
    # the hover: one template over per-cell numbers (customdata [click target, counts by grade, total, share of
    # the worst]), not a text per cell: a large city has thousands of cells
    ln, lw = t("map.hover.enterprises_n", lang), t("map.hover.worst", lang)
    mix = " · ".join(f"{label(GRADES, g, lang)} %{{customdata[{j + 1}]}}" for j, g in enumerate(GRADE_ORDER))
    template = (f"<b>{ln}: %{{customdata[5]}}</b><br>{lw}: %{{customdata[7]}} (%{{customdata[6]:.0%}})<br>{mix}"
                f"<br>{t('map.hover.click_drill', lang)}<extra></extra>")
    worst_names = [label(GRADES, g, lang) for g in GRADE_ORDER]
    custom = [[f"district:{d}", *map(int, cmat[i]), int(total[i]), round(float(share[i]), 2), worst_names[worst[i]]]
              for i, d in enumerate(main_d.to_numpy())]
    tr = area_trace(gj, ids, z, colors=colors, name=t("map.legend.hex", lang), text=None, custom=[],
                    opacity=1.0, line_color="rgba(255,255,255,0.6)", line_width=0.3, below=below)
    tr.pop("hoverinfo", None)
    tr.update(customdata=custom, hovertemplate=template)
    add("enterprises", tr)
    for k, g in enumerate(GRADE_ORDER):
        key_entry("enterprises", legend_key(label(GRADES, g, lang), "hex", color=GRADES[g]["color"], size=12,
                                            title=t("map.legend.hex", lang) if k == 0 else None))


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
