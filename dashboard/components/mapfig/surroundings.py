"""The object page's small map: the surroundings of one object within a radius."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import shapely

from dashboard.components.mapfig.cache import cached
from dashboard.components.mapfig.coords import chain_lines, ring_coords, typed
from dashboard.components.mapfig.hover import area_names, esc, object_hover
from dashboard.components.mapfig.traces import custom_ids, line_trace, points_trace
from dashboard.components.theme import MAP_COLOURS, template_dict
from dashboard.i18n import t
from layers.schema import GRADES, OBJECT_LAYERS

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
            data.append(line_trace(x, y, name=t("map.toggle.roads", lang), color=col["road_major"], width=1.2))
    for frame, width, dash in ((city.towns, 1.0, "dot"), (city.districts, 2.0, None)):
        geoms = shapely.intersection(shapely.boundary(np.asarray(frame.geometry.values)), box)
        x, y = ring_coords(geoms[~shapely.is_empty(geoms)])
        data.append(line_trace(x, y, name="", color=col["district_line"] if dash is None else col["town_line"],
                               width=width, dash=dash))
    ang = np.linspace(0, 2 * np.pi, 73)
    data.append({"type": "scatter", "mode": "lines", "x": typed(x0 + kx * np.cos(ang)),
                 "y": typed(y0 + ky * np.sin(ang)), "line": {"color": col["selected"], "width": 1, "dash": "dash"},
                 "hoverinfo": "skip", "showlegend": False})
    names = area_names(city, lang)
    for lay, sub in near.groupby("layer", sort=False):
        full = city.objects[lay]
        if lay in OBJECT_LAYERS:
            hover = cached(city, ("hover", lay, lang), lambda full=full, lay=lay: object_hover(full, lay, lang, names))
            text = hover[sub["row"].to_numpy(dtype=int)].tolist()
        else:
            text = [f"<b>{esc(n)}</b>" for n in sub["name"]]
        if lay == "enterprises":
            color: object = np.array([GRADES.get(g, {"color": "#888888"})["color"] for g in sub["grade"]],
                                     dtype=object)
            symbol = "circle"
        else:
            symbol, color = _NEAR_STYLE.get(lay, ("circle", "#555555"))
        data.append(points_trace(sub["x"].to_numpy(float), sub["y"].to_numpy(float), name=lay, color=color,
                                 size=10, text=text, custom=custom_ids(lay, sub), symbol=symbol,
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
