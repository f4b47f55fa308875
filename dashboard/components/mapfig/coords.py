"""Geometry to Plotly coordinates: NaN-separated rings and lines as float32 typed arrays, GeoJSON of areas, the
view (centre and zoom of a MapLibre map) of a bounding box."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable

import numpy as np
import shapely


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


def simplify(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    return shapely.simplify(np.asarray(geoms, dtype=object), tolerance, preserve_topology=True) \
        if tolerance > 0 else np.asarray(geoms, dtype=object)


def chain_lines(geoms: np.ndarray) -> np.ndarray:
    """Join line parts that meet end to end into long polylines (walking the network), same drawing.
    Points, polygons and empty lines among ``geoms`` are left out.

    A street grid of n short segments becomes about (odd-degree nodes)/2 polylines. Plotly draws one SVG path
    per NaN-separated part of a line trace, so this turns thousands of paths into a few hundred.
    """
    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    # empty lines (a road clipped to a box it only touches) have no ends to join
    parts = parts[(shapely.get_type_id(parts) == 1) & ~shapely.is_empty(parts)]
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


def view_range(bounds: tuple[float, float, float, float], pad: float = 0.04) -> tuple[list[float], list[float]]:
    minx, miny, maxx, maxy = bounds
    dx, dy = (maxx - minx) or 0.01, (maxy - miny) or 0.01
    return [minx - dx * pad, maxx + dx * pad], [miny - dy * pad, maxy + dy * pad]


def view_of(bounds: tuple[float, float, float, float], *, width_px: float = 1100, height_px: float = 720,
            pad: float = 0.04, max_zoom: float = 16.0) -> tuple[dict, float]:
    """``({"lon", "lat"}, zoom)`` of a MapLibre map of ``width_px`` x ``height_px`` that shows ``bounds``
    (lon/lat, padded by ``pad`` of the span each side). Web Mercator, 512 px tiles (MapLibre's zoom)."""
    minx, miny, maxx, maxy = bounds
    dx, dy = (maxx - minx) or 0.01, (maxy - miny) or 0.01
    minx, maxx, miny, maxy = minx - dx * pad, maxx + dx * pad, miny - dy * pad, maxy + dy * pad

    def merc(lat: float) -> float:
        r = math.radians(max(min(lat, 85.0), -85.0))
        return math.log(math.tan(math.pi / 4 + r / 2))

    y0, y1 = merc(miny), merc(maxy)
    zx = math.log2(width_px * 360.0 / (512.0 * (maxx - minx)))
    zy = math.log2(height_px * 2 * math.pi / (512.0 * max(y1 - y0, 1e-9)))
    lat_c = math.degrees(2 * math.atan(math.exp((y0 + y1) / 2)) - math.pi / 2)
    zoom = max(0.0, min(zx, zy, max_zoom))
    return {"lon": round((minx + maxx) / 2, 6), "lat": round(lat_c, 6)}, round(zoom, 3)


def geojson_of(ids: Iterable[str], geoms: np.ndarray, *, decimals: int = 5) -> dict:
    """A FeatureCollection of ``geoms`` (polygons), feature ``id`` = ``ids`` (a choroplethmap's ``locations``),
    coordinates rounded to ``decimals`` (5: about 1 m)."""
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return {"type": "FeatureCollection", "features": []}
    rounded = shapely.transform(geoms, lambda c: np.round(c, decimals))
    feats = [{"type": "Feature", "id": str(i), "properties": {}, "geometry": json.loads(g)}
             for i, g in zip(ids, shapely.to_geojson(rounded), strict=True) if g is not None]
    return {"type": "FeatureCollection", "features": feats}
