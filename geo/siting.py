"""Where to put new bases: the maximal covering location problem (MCLP).

Given demand points with weights, candidate sites and which candidates cover which demand (a boolean sparse
matrix, built from distances or travel times), choose ``k`` sites that cover the most weight.

* :func:`greedy_mclp`: add the site with the largest uncovered weight ``k`` times (vectorised on a CSR
  matrix); a (1 - 1/e) approximation, usually within a few percent of the optimum.
* :func:`exact_mclp`: the integer programme solved to optimality by HiGHS (``highspy``, offline), passed as
  one sparse matrix. (``spopt.locate.MCLP`` with ``pulp.HiGHS`` also works offline, but builds the model one
  PuLP expression at a time: 80 s for 2,525 candidates x 1,176 demand cells here, before solving.)

Knows nothing of enterprises, the store or Dash.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

__all__ = ["SitingResult", "cover_matrix_radius", "cover_matrix_from_times", "greedy_mclp", "exact_mclp", "solve_mclp"]


@dataclass(frozen=True)
class SitingResult:
    """Chosen candidate indices in the order chosen, the weight each one added, and the total covered."""

    chosen: np.ndarray
    gained: np.ndarray
    covered_weight: float
    covered: np.ndarray  # bool per demand point
    method: str


def cover_matrix_radius(demand_xy: np.ndarray, cand_xy: np.ndarray, radius: float) -> sparse.csr_matrix:
    """(n_candidates, n_demand) boolean CSR: candidate within ``radius`` metres (inclusive) of demand."""
    demand_xy = np.asarray(demand_xy, float).reshape(-1, 2)
    cand_xy = np.asarray(cand_xy, float).reshape(-1, 2)
    if len(demand_xy) == 0 or len(cand_xy) == 0:
        return sparse.csr_matrix((len(cand_xy), len(demand_xy)), dtype=bool)
    m = cKDTree(cand_xy).sparse_distance_matrix(cKDTree(demand_xy), radius, output_type="coo_matrix")
    rows, cols = m.row, m.col
    # sparse_distance_matrix leaves out zero distances (a candidate on a demand point): add them back
    same_d, same_c = cKDTree(demand_xy).query(cand_xy, k=1)
    zero = np.flatnonzero(same_d == 0)
    rows = np.concatenate([rows, zero])
    cols = np.concatenate([cols, same_c[zero]])
    data = np.ones(len(rows), dtype=bool)
    out = sparse.csr_matrix((data, (rows, cols)), shape=(len(cand_xy), len(demand_xy)), dtype=bool)
    out.sum_duplicates()
    return out


def cover_matrix_from_times(times: np.ndarray, limit: float, *, tolerance: float = 1e-6) -> sparse.csr_matrix:
    """(n_candidates, n_demand) boolean CSR from a dense time (or distance) matrix: ``time <= limit``."""
    return sparse.csr_matrix(np.asarray(times, float) <= limit + tolerance)


def greedy_mclp(weights: np.ndarray, cover: sparse.csr_matrix, k: int) -> SitingResult:
    """Choose up to ``k`` candidates greedily by uncovered weight (ties: lowest index)."""
    w = np.asarray(weights, dtype=float)
    cover = sparse.csr_matrix(cover, dtype=bool)
    n_cand, n_dem = cover.shape
    covered = np.zeros(n_dem, dtype=bool)
    chosen, gained = [], []
    csc = cover.tocsc()
    a = cover.astype(float)
    gain = np.asarray(a @ w).ravel()
    for _ in range(min(k, n_cand)):
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        row = cover.indices[cover.indptr[j]:cover.indptr[j + 1]]
        new = row[~covered[row]]
        chosen.append(j)
        gained.append(float(w[new].sum()))
        covered[new] = True
        # candidates that also covered the newly covered demand lose that weight
        sub = csc[:, new]
        if sub.nnz:
            gain -= np.asarray(sub.astype(float) @ w[new]).ravel()
        gain[j] = -np.inf
    return SitingResult(np.array(chosen, dtype=np.int64), np.array(gained), float(w[covered].sum()), covered,
                        "greedy")


def exact_mclp(weights: np.ndarray, cover: sparse.csr_matrix, k: int, *, time_limit_s: float = 20.0
               ) -> SitingResult:
    """The optimal ``k`` candidates: the MCLP integer programme solved by HiGHS (``highspy``, offline).

    maximise sum w_i y_i  subject to  y_i <= sum_{j covers i} x_j,  sum_j x_j = k,  x binary, 0 <= y <= 1.

    The model is passed to HiGHS as one sparse matrix (``spopt.locate.MCLP`` builds the same model through
    PuLP one Python expression at a time, which takes minutes for a few thousand candidates). Candidates with
    the same coverage are merged first, and the greedy answer is given to HiGHS as its first incumbent, so a
    run stopped by ``time_limit_s`` is never worse than the greedy one; ``method`` then reads
    ``"exact (time limit)"``.
    """
    import highspy

    w = np.asarray(weights, dtype=float)
    cover = sparse.csr_matrix(cover, dtype=bool)
    n_cand, n_dem = cover.shape
    if n_cand == 0 or n_dem == 0 or k <= 0:
        return SitingResult(np.empty(0, np.int64), np.empty(0), 0.0, np.zeros(n_dem, bool), "exact")
    # merge candidates that cover the same demand (keep the lowest index); drop those covering nothing
    rows = [tuple(cover.indices[cover.indptr[j]:cover.indptr[j + 1]]) for j in range(n_cand)]
    keep: dict[tuple, int] = {}
    for j, r in enumerate(rows):
        if r and r not in keep:
            keep[r] = j
    cand = np.array(sorted(keep.values()), dtype=np.int64)
    if len(cand) == 0:
        return SitingResult(np.empty(0, np.int64), np.empty(0), 0.0, np.zeros(n_dem, bool), "exact")
    k = min(k, len(cand))
    sub = cover[cand].astype(float)
    nc = len(cand)
    a = sparse.vstack([sparse.hstack([-sub.T, sparse.identity(n_dem)]),
                       sparse.hstack([sparse.csr_matrix(np.ones((1, nc))), sparse.csr_matrix((1, n_dem))])]).tocsc()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    lp = highspy.HighsLp()
    lp.num_col_ = nc + n_dem
    lp.num_row_ = n_dem + 1
    lp.col_cost_ = np.r_[np.zeros(nc), -w]
    lp.col_lower_ = np.zeros(nc + n_dem)
    lp.col_upper_ = np.ones(nc + n_dem)
    lp.row_lower_ = np.r_[np.full(n_dem, -highspy.kHighsInf), k]
    lp.row_upper_ = np.r_[np.zeros(n_dem), k]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * nc + [highspy.HighsVarType.kContinuous] * n_dem
    h.passModel(lp)
    g = greedy_mclp(w, sub, k)
    start = highspy.HighsSolution()
    x0 = np.zeros(nc)
    x0[g.chosen] = 1.0
    start.col_value = list(np.r_[x0, g.covered.astype(float)])
    h.setSolution(start)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    values = np.asarray(h.getSolution().col_value, dtype=float)
    picked = np.flatnonzero(values[:nc] > 0.5) if len(values) >= nc else np.empty(0, np.int64)
    if len(picked) != k or float(w[np.asarray(sub[picked].sum(axis=0)).ravel() > 0].sum()) < g.covered_weight:
        picked = g.chosen  # no better incumbent than the greedy start
    label = "exact" if status == "Optimal" else "exact (time limit)"
    # order by marginal gain, as the greedy reports it
    covered = np.zeros(n_dem, dtype=bool)
    order, gained = [], []
    left = [int(j) for j in picked]
    while left:
        gains = []
        for j in left:
            r = sub.indices[sub.indptr[j]:sub.indptr[j + 1]]
            gains.append(w[r[~covered[r]]].sum())
        j = left.pop(int(np.argmax(gains)))
        r = sub.indices[sub.indptr[j]:sub.indptr[j + 1]]
        order.append(int(cand[j]))
        gained.append(float(w[r[~covered[r]]].sum()))
        covered[r] = True
    return SitingResult(np.array(order, dtype=np.int64), np.array(gained), float(w[covered].sum()), covered, label)


def solve_mclp(weights: np.ndarray, cover: sparse.csr_matrix, k: int, *, method: str = "greedy",
               time_limit_s: float = 20.0) -> SitingResult:
    """:func:`greedy_mclp` (``method="greedy"``) or :func:`exact_mclp` (``"exact"``); another method is refused."""
    if method == "exact":
        return exact_mclp(weights, cover, k, time_limit_s=time_limit_s)
    if method == "greedy":
        return greedy_mclp(weights, cover, k)
    raise ValueError(f"未知方法 {method!r}，可选 greedy/exact (unknown method {method!r}; use greedy or exact)")
