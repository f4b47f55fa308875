"""Where to pre-position more resources of a kind (预置): :func:`suggest_resources`.

Demand: the reach gaps of the kind (one per object, class and kind beyond its target), each of weight 1, each
with its own target (a class's ``readiness_targets``). Candidates: points on the road (over roads) or on the
ground (straight line) where a resource could stand: the nearest road point of every gap object (a resource
there certainly closes that gap) and road-graph nodes picked on a regular grid over the gaps' extent, at most
``max_candidates`` in all. A candidate covers a gap when its travel time to the gap object is within that gap's
target (inclusive): one bounded Dijkstra per candidate (``limit=`` the longest target; ``geo.roadgraph.
times_within``). The ``k`` candidates that close the most gaps are chosen by the maximal covering location
solvers of ``geo.siting`` (greedy, or HiGHS exactly, warm-started with the greedy answer).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.spatial import cKDTree

from geo import coverage as gcov
from geo import siting
from layers.analysis.coverage.blind_spots import own
from layers.analysis.readiness.reach import kind_words
from layers.analysis.readiness.result import ReadinessResult

SUGGESTION_COLUMNS = ("rank", "method", "kind", "lon", "lat", "road", "district_code", "town_code", "gaps_closed",
                      "cumulative_closed", "share_of_gaps", "closes", "reason_zh", "reason_en")


def _candidates(travel, gap_xy: np.ndarray, max_candidates: int) -> np.ndarray:
    """Candidate sites (metric xy): the road point nearest each gap object, then grid-picked graph nodes."""
    g = travel.graph
    if g is None:
        own = np.unique(np.round(gap_xy, 1), axis=0)
    else:
        snap = g.snap_to_road(gap_xy)
        e = g.edges
        own = e.a[snap.edge] + snap.frac[:, None] * (e.b[snap.edge] - e.a[snap.edge])
        own = np.unique(np.round(own, 1), axis=0)
    if len(own) >= max_candidates:  # spread over the gaps: every j-th by position
        pick = np.linspace(0, len(own) - 1, max_candidates).round().astype(np.int64)
        return own[np.unique(pick)]
    room = max_candidates - len(own)
    lo, hi = gap_xy.min(axis=0), gap_xy.max(axis=0)
    span = np.maximum(hi - lo, 1.0)
    step = float(np.sqrt(span[0] * span[1] / room)) if room else np.inf
    if not np.isfinite(step) or step <= 0:
        return own
    gx, gy = np.meshgrid(np.arange(lo[0], hi[0] + step, step), np.arange(lo[1], hi[1] + step, step))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    if g is not None:
        idx = np.flatnonzero(g.snappable)
        _, k = cKDTree(g.nodes_xy[idx]).query(grid)
        grid = g.nodes_xy[idx[np.unique(k)]]
    grid = grid[:room]
    return np.vstack([own, grid])


def suggest_resources(result: ReadinessResult, kind: str, k: int, *, method: str = "greedy",
                      max_candidates: int = 300, time_limit_s: float = 20.0) -> gpd.GeoDataFrame:
    """``k`` places to pre-position more resources of ``kind`` that close the most of its reach gaps.

    Each place is named by its nearest named road and placed in its district and town (the store's, as read for
    ``result``).
    Returns one row per place in the order chosen: rank, method, kind, lon, lat, road, district_code,
    town_code, gaps_closed, cumulative_closed, share_of_gaps, closes (the gap objects' keys), reasons (zh, en).
    """
    empty = gpd.GeoDataFrame({c: [] for c in SUGGESTION_COLUMNS}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    travel = result._travel
    gaps = result.reach_gaps
    gaps = gaps[(gaps["kind"] == kind) & np.isfinite(gaps["lon"].astype(float)) &
                np.isfinite(gaps["lat"].astype(float))] if len(gaps) else gaps
    if k > 0 and len(gaps) == 0:
        empty.attrs["fewer"] = (f"区域内没有{kind_words(kind)[0]}的到达缺口，无需新增",
                                f"no reach gap of a {kind_words(kind)[1]} in the area: none is needed")
    if k <= 0 or len(gaps) == 0 or travel is None:
        return empty
    gap_xy = travel.xy(gaps["lon"].to_numpy(dtype=float), gaps["lat"].to_numpy(dtype=float))
    target_s = gaps["target_min"].to_numpy(dtype=float) * 60.0
    cand = _candidates(travel, gap_xy, max_candidates)
    # the places lie in the area asked about: the districts of its gaps (a narrowed result's are its own)
    inside = {str(c) for c in gaps["district_code"].dropna()}
    if inside and len(cand):
        c_lon, c_lat = travel.lonlat(cand)
        cand = cand[np.isin(_areas(result, c_lon, c_lat)[0].astype(str), list(inside))]
    if len(cand) == 0:
        empty.attrs["fewer"] = (f"区域内没有可设置{kind_words(kind)[0]}的道路位置",
                                f"no road position inside the area for a {kind_words(kind)[1]}")
        return empty
    s, p, t = travel.pairs(cand, gap_xy, float(target_s.max()))
    ok = gcov.within(t, target_s[p])
    cover = sparse.csr_matrix((np.ones(int(ok.sum()), bool), (s[ok], p[ok])), shape=(len(cand), len(gaps)),
                              dtype=bool)
    w = np.ones(len(gaps))
    sol = siting.solve_mclp(w, cover, k, method=method, time_limit_s=time_limit_s)
    fewer = None
    if len(sol.chosen) < k:
        n = len(sol.chosen)
        fewer = ((f"{n} 处已使区域内全部{kind_words(kind)[0]}到达缺口进入时限，无需更多",
                  f"{n} place(s) close every {kind_words(kind)[1]} reach gap in the area: no more are needed")
                 if bool(sol.covered.all()) else
                 (f"只找到 {n} 处：其余候选位置都不能再使更多缺口进入时限",
                  f"only {n} found: no other candidate brings more gaps within their target"))
    if len(sol.chosen) == 0:
        if fewer:
            empty.attrs["fewer"] = fewer
        return empty
    keys = gaps["key"].to_numpy(dtype=object)
    covered = np.zeros(len(gaps), bool)
    closed, closes = [], []
    for j in sol.chosen:
        row = cover.indices[cover.indptr[j]:cover.indptr[j + 1]]
        new = row[~covered[row]]
        covered[new] = True
        closed.append(len(new))
        closes.append(",".join(dict.fromkeys(keys[new].tolist())))
    xy = cand[sol.chosen]
    lon, lat = travel.lonlat(xy)
    cum = np.cumsum(closed)
    kz, ke = kind_words(kind)
    road = np.full(len(xy), None, dtype=object)
    roads = result._areas.get("roads")
    if roads is not None and len(roads) and "name" in roads.columns:
        named = roads[roads["name"].notna() & roads.geometry.notna()]
        if len(named):
            tree = shapely.STRtree(named.geometry.to_crs(travel.epsg).to_numpy())
            idx = tree.query_nearest(shapely.points(xy), all_matches=False)[1]
            road = named["name"].to_numpy(dtype=object)[idx]
    dc, tc = _areas(result, lon, lat)
    out = pd.DataFrame({
        "rank": np.arange(1, len(xy) + 1), "method": sol.method, "kind": kind, "lon": lon, "lat": lat,
        "road": road, "district_code": dc, "town_code": tc, "gaps_closed": closed, "cumulative_closed": cum,
        "share_of_gaps": cum / len(gaps), "closes": closes,
        "reason_zh": [f"在此增设{kz}可使 {c} 处到达缺口进入时限" + (f"（{r}附近）" if r else "")
                      for c, r in zip(closed, road, strict=True)],
        "reason_en": [f"a {ke} here brings {c} reach gaps within their target" + (f" (near {r})" if r else "")
                      for c, r in zip(closed, road, strict=True)]})
    gdf = gpd.GeoDataFrame(out, geometry=shapely.points(lon, lat), crs=4326)
    if fewer:
        gdf.attrs["fewer"] = fewer
    return gdf


def _areas(result: ReadinessResult, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """District and town each place lies in (None outside every one)."""
    out = []
    for name in ("districts", "towns"):
        areas = result._areas.get(name)
        if areas is None or len(areas) == 0 or "geometry" not in areas.columns:
            out.append(np.full(len(lon), None, dtype=object))
            continue
        at = gcov.locate_points(lon, lat, own(areas.geometry.values))
        out.append(np.array([*areas["code"].astype(str), None], dtype=object)[at])
    return out[0], out[1]
