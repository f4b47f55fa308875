"""Suggested team bases, by maximal covering location: :func:`suggest_bases`."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import coverage as gcov
from geo import siting
from layers.analysis.coverage.result import CoverageResult

#: a suggested base is named by the nearest named road within this many metres
ROAD_NAME_M = 1000.0


def suggest_bases(result: CoverageResult, k: int, *, method: str = "greedy", max_candidates: int = 400,
                  time_limit_s: float = 20.0, roads: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """``k`` new team bases that bring the most out-of-reach risk into reach (maximal covering location).

    Demand: the risk-carrying cells beyond every base's reach, weighted by risk. Candidates: the centres of
    risk-carrying cells (on roads: the ``max_candidates`` riskiest out-of-reach cells, since each candidate
    costs a shortest-path run). ``method`` is ``"greedy"`` or ``"exact"`` (the MCLP integer programme solved by
    HiGHS, warm-started with the greedy answer and stopped after ``time_limit_s``; the ``method`` column says
    whether it proved the optimum).

    The result is the one the user sees (narrowed to the selected districts or towns), so demand and candidates
    lie in that area and every base is inside it.

    Returns one row per base in the order chosen: cell, lon, lat, district_code, town_code, road (the nearest
    named road within :data:`ROAD_NAME_M` when ``roads`` is given, else None), road_m, risk_gained,
    cells_gained, cumulative_risk, share_of_unreached (cumulative), and a point geometry. When fewer than ``k``
    bases are returned, ``attrs["fewer"]`` says why as ``(zh, en)``.
    """
    cells = result.cells
    demand = cells[(cells["risk"] > 0) & ~cells["in_reach"]]
    cols = ["rank", "method", "cell", "lon", "lat", "district_code", "town_code", "road", "road_m", "risk_gained",
            "cells_gained", "cumulative_risk", "share_of_unreached"]
    empty = gpd.GeoDataFrame({c: [] for c in cols}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    if k > 0 and len(demand) == 0:
        empty.attrs["fewer"] = ("区域内没有超出到达时间的风险网格，无需新增驻地",
                                "no risk-carrying cell in the area is beyond reach: no new base is needed")
    if k <= 0 or len(demand) == 0 or result._travel is None:
        return empty
    dxy = demand[["x", "y"]].to_numpy()
    w = demand["risk"].to_numpy(dtype=float)
    limit_s = result.reach["limit_minutes"] * 60.0
    if result.reach.get("method") == "road":
        cand = demand.sort_values("risk", ascending=False).head(max_candidates)
        cxy = cand[["x", "y"]].to_numpy()
        times = np.vstack([result._travel(cxy[j:j + 1], dxy) for j in range(len(cxy))])
        cover = siting.cover_matrix_from_times(times, limit_s, tolerance=gcov.REACH_TOLERANCE_S)
    else:
        cand = cells[cells["risk"] > 0]
        cxy = cand[["x", "y"]].to_numpy()
        radius = result.reach["reach_m"]
        cover = siting.cover_matrix_radius(dxy, cxy, radius * (1 + 1e-12) + 1e-6)
    sol = siting.solve_mclp(w, cover, k, method=method, time_limit_s=time_limit_s)
    fewer = None
    if len(sol.chosen) < k:
        n = len(sol.chosen)
        fewer = ((f"{n} 个驻地已使区域内全部超出到达时间的风险网格可达，无需更多",
                  f"{n} base(s) bring every out-of-reach risk cell in the area into reach: no more are needed")
                 if bool(sol.covered.all()) else
                 (f"只找到 {n} 个：其余候选点都不能再使更多风险网格进入 {result.reach['limit_minutes']:g} 分钟可达范围",
                  f"only {n} found: no other candidate brings more risk cells within {result.reach['limit_minutes']:g}"
                  f" min"))
    if len(sol.chosen) == 0:
        if fewer:
            empty.attrs["fewer"] = fewer
        return empty
    picked = cand.iloc[sol.chosen]
    cells_gained = []
    covered = np.zeros(len(demand), bool)
    for j in sol.chosen:
        row = cover.indices[cover.indptr[j]:cover.indptr[j + 1]]
        cells_gained.append(int((~covered[row]).sum()))
        covered[row] = True
    total = float(w.sum())
    cum = np.cumsum(sol.gained)
    road, road_m = _nearest_road(picked[["x", "y"]].to_numpy(dtype=float), roads, result.reach.get("epsg"))
    out = pd.DataFrame({"rank": np.arange(1, len(picked) + 1), "method": sol.method,
                        "cell": picked["cell"].to_numpy(),
                        "lon": picked["lon"].to_numpy(), "lat": picked["lat"].to_numpy(),
                        "district_code": picked["district_code"].to_numpy(dtype=object),
                        "town_code": picked["town_code"].to_numpy(dtype=object),
                        "road": road, "road_m": road_m,
                        "risk_gained": sol.gained, "cells_gained": cells_gained, "cumulative_risk": cum,
                        "share_of_unreached": cum / total if total else np.nan})
    gdf = gpd.GeoDataFrame(out, geometry=shapely.points(out["lon"], out["lat"]), crs=4326)
    if fewer:
        gdf.attrs["fewer"] = fewer
    return gdf


def _nearest_road(xy: np.ndarray, roads: gpd.GeoDataFrame | None, epsg: int | None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The name of the nearest named road within :data:`ROAD_NAME_M` of each metric point, and its distance."""
    names = np.full(len(xy), None, dtype=object)
    dist = np.full(len(xy), np.nan)
    if roads is None or epsg is None or len(roads) == 0 or len(xy) == 0:
        return names, dist
    named = roads[roads["name"].notna() & (roads["name"].astype(str).str.strip() != "") & roads.geometry.notna()]
    if len(named) == 0:
        return names, dist
    metric = named.geometry.to_crs(int(epsg)).to_numpy()
    tree = shapely.STRtree(metric)
    (qi, ti), d = tree.query_nearest(shapely.points(xy), max_distance=ROAD_NAME_M, return_distance=True,
                                     all_matches=False)
    names[qi] = named["name"].to_numpy(dtype=object)[ti]
    dist[qi] = d
    return names, dist
