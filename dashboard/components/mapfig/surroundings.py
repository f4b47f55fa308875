"""The object page's small map: the surroundings of one object within a radius, on the basemap."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dashboard.components.mapfig.cache import cached
from dashboard.components.mapfig.coords import view_of
from dashboard.components.mapfig.hover import area_names, esc, object_hover
from dashboard.components.mapfig.style import basemap_for
from dashboard.components.mapfig.traces import custom_ids, line_trace, points_trace, ring
from dashboard.components.theme import MAP_COLOURS, template_dict
from layers.schema import GRADES, OBJECT_LAYERS

#: colour of each nearby kind (every marker a circle: no icon is fetched)
_NEAR_COLOUR = {"venues": "#16A085", "gas_stations": "#B0006D", "bridges": "#7F8C8D", "tunnels": "#34495E",
                "rail_stations": "#6b5bd6", "resources": "#E74C3C", "flood_points": "#0077B6"}


def surroundings_map(city, layer: str, row: pd.Series, near: pd.DataFrame, *, radius_m: float,
                     lang: str = "zh", theme: str = "light", width_px: int = 700, height_px: int = 380) -> dict:
    """A small map around one object: the basemap (roads, water, boundaries and their names), every point
    object within ``radius_m`` (from :func:`layers.summary.nearby`), the radius circle and the object ringed.
    A figure dict."""
    col = MAP_COLOURS[theme]
    style, crs = basemap_for(theme, lang)
    x0, y0 = float(row["x"]), float(row["y"])
    ky = radius_m / 110_574.0
    kx = radius_m / (111_320.0 * math.cos(math.radians(y0)))
    bounds = (x0 - kx * 1.1, y0 - ky * 1.1, x0 + kx * 1.1, y0 + ky * 1.1)
    ang = np.linspace(0, 2 * np.pi, 73)
    data: list[dict] = [line_trace(x0 + kx * np.cos(ang), y0 + ky * np.sin(ang), name="radius", color=col["selected"],
                                   width=1.5, crs=crs, opacity=0.8)]
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
        else:
            color = _NEAR_COLOUR.get(lay, "#555555")
        x, y = sub["x"].to_numpy(float), sub["y"].to_numpy(float)
        data.append(ring(x, y, name=lay, color="#ffffff", size=13, crs=crs, opacity=1.0))
        data.append(points_trace(x, y, name=lay, color=color, size=10, text=text, custom=custom_ids(lay, sub),
                                 crs=crs))
    data.append(ring(np.array([x0]), np.array([y0]), name="selected", color=col["selected"], size=30, crs=crs,
                     opacity=0.4))
    data.append(points_trace(np.array([x0]), np.array([y0]), name="selected", color=col["selected"], size=9,
                             text=[f"<b>{esc(row.get('name'))}</b>"], custom=None, crs=crs))
    for tr in data:
        tr.pop("_ring", None)
    center, zoom = view_of(bounds, width_px=width_px, height_px=height_px, pad=0.0)
    return {"data": data, "layout": {
        "template": template_dict(theme), "paper_bgcolor": col["paper"],
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "showlegend": False, "dragmode": "pan", "hovermode": "closest",
        "map": {"style": style, "center": center, "zoom": zoom}, "uirevision": f"{layer}:{row.get('id')}",
        "meta": {"crs": crs}}}
