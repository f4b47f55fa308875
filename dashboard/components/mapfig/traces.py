"""Trace dicts on a MapLibre map: lines, circle markers, rings, areas (choroplethmap), legend keys.

Every marker is a ``circle``: any other ``marker.symbol`` on ``scattermap`` makes plotly.js fetch an icon from a
CDN (its missing-image resolver loads ``cdn.jsdelivr.net/npm/@mapbox/maki``). Kinds are shown by colour and
size, and marks around a point (overdue, suspended, listed …) by a wider circle drawn under it (:func:`ring`).
``scattermap`` has no marker outline, so a "ring" is two stacked circles.

Coordinates are float32 typed arrays (plotly.js decodes a typed-array spec for every data array, ``lon`` and
``lat`` of scattermap included), shifted into the basemap's CRS (``crs``, :func:`layers.basemap.to_draw_crs`)
when the tiles are GCJ-02; the stored data are never changed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.components.mapfig.coords import typed
from layers.basemap import to_draw_crs


def lonlat(lon: np.ndarray, lat: np.ndarray, crs: str = "wgs84") -> tuple[dict, dict]:
    """Typed arrays of ``lon``, ``lat`` in the drawing CRS."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if crs != "wgs84":
        lon, lat = to_draw_crs(lon, lat, crs)
    return typed(lon), typed(lat)


def colour_spec(color) -> dict:
    """``marker`` colour keys for ``color``: one colour as is; many points with few distinct colours as a
    compact typed array of class indices over a stepped colour scale (a colour string per point weighs about
    ten bytes, an index one)."""
    if not isinstance(color, list | np.ndarray) or len(color) < 64:
        return {"color": list(color) if isinstance(color, np.ndarray) else color}
    uniq, idx = np.unique(np.asarray(color, dtype=object).astype(str), return_inverse=True)
    if len(uniq) > 250:
        return {"color": [str(c) for c in color]}
    n = len(uniq)
    scale: list = []
    for i, c in enumerate(uniq):
        scale += [[i / n, str(c)], [(i + 1) / n, str(c)]]
    return {"color": typed(idx.astype(float) + 0.5, "f4") if n > 1 else str(uniq[0]), "colorscale": scale,
            "cmin": 0, "cmax": n, "showscale": False}


def line_trace(x: np.ndarray, y: np.ndarray, *, name: str, color: str, width: float, crs: str = "wgs84",
               opacity: float = 1.0) -> dict:
    """Lines (NaN between parts). Never hovered or clicked: lines must not take a click meant for an area."""
    lon, lat = lonlat(x, y, crs)
    return {"type": "scattermap", "mode": "lines", "lon": lon, "lat": lat, "name": name,
            "line": {"color": color, "width": width}, "opacity": opacity, "hoverinfo": "skip",
            "showlegend": False, "connectgaps": False}


def points_trace(x: np.ndarray, y: np.ndarray, *, name: str, color: str | list | np.ndarray,
                 size: float | np.ndarray, text: list[str] | np.ndarray | None, custom: list[str] | np.ndarray | None,
                 opacity: float = 0.95, crs: str = "wgs84", cluster: dict | None = None) -> dict:
    """Circle markers; hover shows ``text`` (None: hover events only, for a server-built tooltip; no
    ``custom`` either: not hovered at all); no legend entry (:func:`legend_key`)."""
    lon, lat = lonlat(x, y, crs)
    marker: dict = {**colour_spec(color), "size": typed(size) if isinstance(size, np.ndarray) else size,
                    "opacity": opacity}
    tr = {"type": "scattermap", "mode": "markers", "lon": lon, "lat": lat, "name": name, "marker": marker,
          "showlegend": False}
    if custom is not None:
        tr["customdata"] = list(custom)
    if cluster:
        tr["cluster"] = cluster
    if text is not None:
        tr["text"] = list(text)
        tr["hovertemplate"] = "%{text}<extra></extra>"
    elif custom is not None:
        tr["hoverinfo"] = "none"      # hover events only (a dcc.Tooltip shows the details)
    else:
        tr["hoverinfo"] = "skip"
    return tr


def ring(x: np.ndarray, y: np.ndarray, *, name: str, color: str, size: float, opacity: float = 0.9,
         crs: str = "wgs84") -> dict:
    """A wider circle under a point: with the point drawn over it, a ring of ``color``. Not hovered (the
    point over it is). Consecutive rings of one toggle are merged into one trace by the map builder (``_ring``
    holds the parts): every trace is several MapLibre sources and layers."""
    tr = points_trace(x, y, name=name, color=color, size=size, text=None, custom=None, opacity=opacity, crs=crs)
    tr["_ring"] = (np.asarray(x, dtype=float), np.asarray(y, dtype=float), color, size, opacity, crs)
    return tr


def merge_rings(parts: list[tuple]) -> dict:
    """The ``lon``, ``lat`` and ``marker`` of one trace drawing every ring of ``parts`` (in order)."""
    xs, ys, colours, sizes, opac = [], [], [], [], []
    for x, y, color, size, opacity, _crs in parts:
        n = len(x)
        xs.append(x)
        ys.append(y)
        colours += list(color) if isinstance(color, list | np.ndarray) else [color] * n
        sizes.append(np.broadcast_to(np.asarray(size, dtype=float), (n,)))
        opac.append(np.full(n, float(opacity)))
    lon, lat = lonlat(np.concatenate(xs), np.concatenate(ys), parts[0][5])
    return {"lon": lon, "lat": lat, "marker": {**colour_spec(colours), "size": typed(np.concatenate(sizes)),
                                                "opacity": typed(np.concatenate(opac))}}


def area_trace(geojson: dict, codes: list[str], z: np.ndarray, *, colors: list[str], name: str,
               text: list[str] | None, custom: list[str], opacity: float, line_color: str = "rgba(0,0,0,0)",
               line_width: float = 0.0, below: str | None = None) -> dict:
    """Areas (districts, towns, H3 cells) as a ``choroplethmap``: ``z`` = the class index into ``colors``
    (a stepped colour scale, no colour bar). Hover shows ``text``; a click gives ``customdata``."""
    n = max(len(colors), 1)
    scale: list = []
    for i, c in enumerate(colors):   # steps: class i covers [i, i + 1) of z
        scale += [[i / n, c], [(i + 1) / n, c]]
    tr = {"type": "choroplethmap", "geojson": geojson, "locations": list(codes),
          "z": typed(np.asarray(z, dtype=float) + 0.5, "f4"), "zmin": 0, "zmax": n, "colorscale": scale,
          "showscale": False, "marker": {"opacity": opacity, "line": {"color": line_color, "width": line_width}},
          "customdata": list(custom), "name": name, "showlegend": False}
    if text is None:
        tr["hoverinfo"] = "skip"
    else:
        tr["text"] = list(text)
        tr["hovertemplate"] = "%{text}<extra></extra>"
    if below is not None:
        tr["below"] = below
    return tr


def legend_key(name: str, group: str, *, color: str, size: float = 10, title: str | None = None) -> dict:
    """A legend entry only (no data, a circle): the legend is a key, the layer checklist shows and hides."""
    tr = {"type": "scattermap", "mode": "markers", "lon": [None], "lat": [None], "name": name, "legendgroup": group,
          "showlegend": True, "hoverinfo": "skip", "marker": {"color": color, "size": size}}
    if title:
        tr["legendgrouptitle"] = {"text": title}
    return tr


def custom_ids(layer: str, f: pd.DataFrame) -> list[str]:
    return (layer + ":" + f["id"].astype(str)).tolist()
