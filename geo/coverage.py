"""Coverage arithmetic on arrays: latest event per object, overdue days, nearest-base reach, point in polygon.

Everything here is vectorised numpy/scipy: a group-max of event days per object (``np.maximum.at``), a KD-tree
(``scipy.spatial.cKDTree``) for straight-line distance to the nearest base, ``RoadGraph`` travel times when a
road layer is there, and ``shapely.intersects_xy`` per polygon (with a bounding-box prefilter) for which
district holds a point. Days are integers (days since 1970-01-01); distances are metres in a metric CRS.

Knows nothing of enterprises, the store or Dash.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from scipy.spatial import cKDTree

__all__ = ["NO_DAY", "latest_per_group", "overdue_days", "nearest_base_distance", "straight_travel_seconds",
           "road_travel_seconds", "road_travel", "within", "locate_points", "REACH_TOLERANCE_S"]

#: "no event" in a day array (smaller than any real day)
NO_DAY = np.iinfo(np.int64).min
#: a travel time within this many seconds over the limit still counts as in reach (float noise of a
#: projection round trip; a micro-second, far below anything a team would notice)
REACH_TOLERANCE_S = 1e-6


def latest_per_group(group: np.ndarray, day: np.ndarray, n_groups: int) -> np.ndarray:
    """The largest ``day`` per group index ``0..n_groups-1`` (``NO_DAY`` where a group has none).

    ``group`` and ``day`` are int arrays of equal length; entries with ``group < 0`` are skipped.
    """
    group = np.asarray(group, dtype=np.int64)
    day = np.asarray(day, dtype=np.int64)
    out = np.full(n_groups, NO_DAY, dtype=np.int64)
    ok = group >= 0
    if ok.any():
        np.maximum.at(out, group[ok], day[ok])
    return out


def overdue_days(last_day: np.ndarray, interval: np.ndarray, as_of_day: int, horizon_day: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days since the last event, days overdue, and whether the object is overdue (a dead corner).

    An object is overdue when ``as_of - last > interval`` (on day ``== interval`` it is still in time) or it
    has no event. Days overdue: ``as_of - last - interval``; for an object never inspected,
    ``interval + (as_of - horizon)``: as if it were due on the horizon day (the first day records count from)
    and had waited one more full interval, so it ranks above any object inspected since the horizon.

    Returns ``(days_since, days_overdue, overdue)``; ``days_since`` is -1 where there is no event.
    """
    last_day = np.asarray(last_day, dtype=np.int64)
    interval = np.asarray(interval, dtype=np.int64)
    never = last_day == NO_DAY
    days_since = np.where(never, -1, as_of_day - np.where(never, 0, last_day))
    over = np.where(never, interval + (as_of_day - horizon_day), days_since - interval)
    return days_since, over, never | (days_since > interval)


def nearest_base_distance(points_xy: np.ndarray, bases_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Straight-line distance (metres) from each point to its nearest base, and that base's index.

    With no bases the distance is ``inf`` and the index -1.
    """
    pts = np.asarray(points_xy, dtype=float).reshape(-1, 2)
    bases = np.asarray(bases_xy, dtype=float).reshape(-1, 2)
    if len(bases) == 0 or len(pts) == 0:
        return np.full(len(pts), np.inf), np.full(len(pts), -1, dtype=np.int64)
    dist, idx = cKDTree(bases).query(pts, k=1)
    return np.asarray(dist, dtype=float), np.asarray(idx, dtype=np.int64)


def straight_travel_seconds(distance_m: np.ndarray, *, speed_kmh: float, detour_factor: float) -> np.ndarray:
    """Travel time for a straight-line distance: ``distance x detour / speed``."""
    if speed_kmh <= 0 or detour_factor <= 0:
        raise ValueError(f"speed_kmh and detour_factor must be > 0, got {speed_kmh}, {detour_factor}")
    return np.asarray(distance_m, dtype=float) * detour_factor / (speed_kmh / 3.6)


def road_travel_seconds(graph, points_xy: np.ndarray, bases_xy: np.ndarray) -> np.ndarray:
    """Travel time (seconds) from the nearest base to each point over a road graph.

    ``graph`` is a ``geo.roadgraph.RoadGraph``: bases and points are snapped to the nearest point on a road
    (the edge split there), one multi-source Dijkstra from all bases, and the off-road legs at the graph's
    ``access_kmh``; a straight off-road trip from the nearest base is used when shorter
    (``RoadGraph.reach_seconds``).
    """
    return road_travel(graph, points_xy, bases_xy)[0]


def road_travel(graph, points_xy: np.ndarray, bases_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`road_travel_seconds` and the metres each point's end of the way lies off the road."""
    pts = np.asarray(points_xy, dtype=float).reshape(-1, 2)
    bases = np.asarray(bases_xy, dtype=float).reshape(-1, 2)
    if len(bases) == 0 or len(pts) == 0:
        return np.full(len(pts), np.inf), np.full(len(pts), np.nan)
    return graph.reach_seconds(pts, bases)


def within(seconds: np.ndarray, limit_s: float) -> np.ndarray:
    """``seconds <= limit`` with :data:`REACH_TOLERANCE_S` of slack: exactly at the limit is in reach."""
    return np.asarray(seconds, dtype=float) <= limit_s + REACH_TOLERANCE_S


def locate_points(x: np.ndarray, y: np.ndarray, polygons: Sequence, *, prefer: np.ndarray | None = None,
                  groups: np.ndarray | None = None, group_areas: Sequence | None = None) -> np.ndarray:
    """Index of the polygon holding each point (-1 when none); a point on a shared border is in both.

    ``prefer`` (optional, one polygon index per point, -1 for none) breaks ties: when the preferred polygon
    holds the point (e.g. it lies on the border of its registered district), it wins; otherwise the first
    polygon in order that holds it.

    ``groups`` and ``group_areas`` (optional) speed this up for many points: ``groups[i]`` is the index of an
    area (e.g. the point's grid cell, enlarged by a margin) that certainly holds point ``i`` (-1: none known).
    An area that lies in the interior of some polygons and meets no other polygon decides for all its points at
    once; only the points of areas a polygon boundary crosses are tested one by one. The answer is the same.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    out = np.full(len(x), -1, dtype=np.int64)
    todo = np.arange(len(x))
    if groups is not None and group_areas is not None and len(group_areas) and len(x):
        groups = np.asarray(groups, dtype=np.int64)
        areas = np.asarray(group_areas, dtype=object)
        k_polys = len(polygons)
        inside = np.zeros((len(areas), k_polys), dtype=bool)  # area in the polygon's interior
        crossed = shapely.is_missing(areas) | shapely.is_empty(areas)  # (no area: decided point by point)
        for k, poly in enumerate(polygons):
            if poly is None or shapely.is_empty(poly):
                continue
            shapely.prepare(poly)
            meets = shapely.intersects(poly, areas)
            inside[:, k] = shapely.contains_properly(poly, areas)
            crossed |= meets & ~inside[:, k]
        decided = np.flatnonzero((groups >= 0) & ~crossed[np.maximum(groups, 0)])
        g = groups[decided]
        first = np.where(inside.any(axis=1), np.argmax(inside, axis=1), -1)
        ans = first[g]
        if prefer is not None and k_polys:
            p = np.asarray(prefer, dtype=np.int64)[decided]
            mine = (p >= 0) & (p < k_polys)
            mine[mine] = inside[g[mine], p[mine]]
            ans = np.where(mine, p, ans)
        out[decided] = ans
        undecided = np.ones(len(x), dtype=bool)
        undecided[decided] = False
        todo = np.flatnonzero(undecided)
    if len(todo) == 0:
        return out
    xs, ys = x[todo], y[todo]
    pref = None if prefer is None else np.asarray(prefer, dtype=np.int64)[todo]
    res = np.full(len(todo), -1, dtype=np.int64)
    preferred_hit = np.zeros(len(todo), dtype=bool)
    for k, poly in enumerate(polygons):
        if poly is None or shapely.is_empty(poly):
            continue
        minx, miny, maxx, maxy = shapely.bounds(poly)
        cand = np.flatnonzero((xs >= minx) & (xs <= maxx) & (ys >= miny) & (ys <= maxy))
        if len(cand) == 0:
            continue
        shapely.prepare(poly)
        hit = cand[shapely.intersects_xy(poly, xs[cand], ys[cand])]
        first = hit[res[hit] < 0]
        res[first] = k
        if pref is not None:
            mine = hit[(pref[hit] == k) & ~preferred_hit[hit]]
            res[mine] = k
            preferred_hit[mine] = True
    out[todo] = res
    return out
