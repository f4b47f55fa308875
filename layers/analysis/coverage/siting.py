"""Suggested team bases, by maximal covering location: :func:`suggest_bases`."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import coverage as gcov
from geo import siting
from layers.analysis.coverage.result import CoverageResult


def suggest_bases(result: CoverageResult, k: int, *, method: str = "greedy", max_candidates: int = 400,
                  time_limit_s: float = 20.0) -> gpd.GeoDataFrame:
    """``k`` new team bases that bring the most out-of-reach risk into reach (maximal covering location).

    Demand: the risk-carrying cells beyond every base's reach, weighted by risk. Candidates: the centres of
    risk-carrying cells (on roads: the ``max_candidates`` riskiest out-of-reach cells, since each candidate
    costs a shortest-path run). ``method`` is ``"greedy"`` or ``"exact"`` (the MCLP integer programme solved by
    HiGHS, warm-started with the greedy answer and stopped after ``time_limit_s``; the ``method`` column says
    whether it proved the optimum).

    Returns one row per base in the order chosen: cell, lon, lat, risk_gained, cells_gained,
    cumulative_risk, share_of_unreached (cumulative), and a point geometry.
    """
    cells = result.cells
    demand = cells[(cells["risk"] > 0) & ~cells["in_reach"]]
    cols = ["rank", "method", "cell", "lon", "lat", "risk_gained", "cells_gained", "cumulative_risk", "share_of_unreached"]
    empty = gpd.GeoDataFrame({c: [] for c in cols}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
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
    if method == "exact":
        sol = siting.exact_mclp(w, cover, k, time_limit_s=time_limit_s)
    elif method == "greedy":
        sol = siting.greedy_mclp(w, cover, k)
    else:
        raise ValueError(f"未知方法 {method!r}，可选 greedy/exact (unknown method {method!r}; use greedy or exact)")
    if len(sol.chosen) == 0:
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
    out = pd.DataFrame({"rank": np.arange(1, len(picked) + 1), "method": sol.method,
                        "cell": picked["cell"].to_numpy(),
                        "lon": picked["lon"].to_numpy(), "lat": picked["lat"].to_numpy(),
                        "risk_gained": sol.gained, "cells_gained": cells_gained, "cumulative_risk": cum,
                        "share_of_unreached": cum / total if total else np.nan})
    return gpd.GeoDataFrame(out, geometry=shapely.points(out["lon"], out["lat"]), crs=4326)
