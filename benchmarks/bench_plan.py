"""Inspection planning benchmark: ``python benchmarks/bench_plan.py [--quick]``.

1. Plan 10 teams x 300 candidates on the demo city's road layer: time to plan, travel-time matrix included
   (target < 5 s).
2. Quality on the same instance (same matrix, time windows, shifts, breaks, skills, district scopes, service
   times): total priority served and total travel time of our plan (VROOM) and of OR-Tools routing (guided
   local search, 60 s; ``--quick``: 10 s). Target: ours at least equal in priority served, within 2 % in travel.
3. Travel-time matrix for 300 points on a 70,000-node road graph (a synthetic grid; the demo's roads are
   smaller): ours (``geo.roadgraph``, scipy Dijkstra from each source) against networkx per-pair shortest paths
   on a subsample, extrapolated (and networkx one-to-all from each source, extrapolated). Target < 5 s.
   ``--quick`` (a CI smoke test): a 1,500-enterprise city, OR-Tools 10 s, 100 points on a 22,500-node grid.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.roadgraph import RoadGraph  # noqa: E402
from geo.routing import solve  # noqa: E402
from layers.planning import routes as P  # noqa: E402
from layers.settings import Settings  # noqa: E402

PLAN_DATE = date(2026, 12, 1)


# --------------------------------------------------------------------------------------------------
# the peer: OR-Tools routing on the same problem
# --------------------------------------------------------------------------------------------------

def solve_ortools(problem: P.Problem, *, time_limit_s: int) -> dict[int, list[int]]:
    """Routes (vehicle id -> job ids in order) by OR-Tools with the same constraints as the VROOM model.
    Dropping a job costs a penalty proportional to its priority and larger than any travel time, so priority
    served comes first, as in VROOM."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    vehicles, jobs = problem.vehicles, problem.jobs
    n_t = len(problem.teams)
    locs = list(range(n_t)) + [j.location for j in jobs]
    sub = np.clip(np.rint(problem.matrix[np.ix_(locs, locs)]), 0, None).astype(np.int64)
    service = [0] * n_t + [int(j.service) for j in jobs]
    manager = pywrapcp.RoutingIndexManager(len(locs), len(vehicles), [v.start for v in vehicles],
                                           [v.end for v in vehicles])
    routing = pywrapcp.RoutingModel(manager)

    def travel(i: int, j: int) -> int:
        return int(sub[manager.IndexToNode(i), manager.IndexToNode(j)])

    def transit(i: int, j: int) -> int:
        a = manager.IndexToNode(i)
        return int(service[a] + sub[a, manager.IndexToNode(j)])

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(travel))
    horizon = max(v.time_window[1] for v in vehicles)
    routing.AddDimension(routing.RegisterTransitCallback(transit), horizon, horizon, False, "Time")
    td = routing.GetDimensionOrDie("Time")
    visit = [service[manager.IndexToNode(i)] if i < routing.Size() else 0 for i in range(routing.Size())]
    solver = routing.solver()
    for vi, v in enumerate(vehicles):
        td.CumulVar(routing.Start(vi)).SetRange(int(v.time_window[0]), int(v.time_window[1]))
        td.CumulVar(routing.End(vi)).SetRange(int(v.time_window[0]), int(v.time_window[1]))
        if v.breaks:
            brk = [solver.FixedDurationIntervalVar(int(a), int(b), int(s), False, f"break-{vi}-{k}")
                   for k, (a, b, s) in enumerate(v.breaks)]
            td.SetBreakIntervalsOfVehicle(brk, vi, visit)
    prios = np.array([max(float(problem.cands["priority"].iloc[j.id - 1]), 1e-3) for j in jobs])
    scale = 1e6 / prios.min()  # the cheapest job is worth more than any total travel time (s)
    for k, j in enumerate(jobs):
        idx = manager.NodeToIndex(n_t + k)
        if j.time_windows:
            lo = min(a for a, _ in j.time_windows)
            hi = max(b for _, b in j.time_windows)
            td.CumulVar(idx).SetRange(int(lo), int(hi))
            ws = sorted(j.time_windows)
            for (_, b0), (a1, _) in zip(ws[:-1], ws[1:], strict=True):
                if a1 - 1 >= b0 + 1:
                    td.CumulVar(idx).RemoveInterval(int(b0 + 1), int(a1 - 1))
        allowed = [vi for vi, v in enumerate(vehicles) if j.skills <= v.skills]
        routing.VehicleVar(idx).SetValues([-1, *allowed])
        routing.AddDisjunction([idx], int(round(prios[k] * scale)))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.seconds = int(time_limit_s)
    sol = routing.SolveWithParameters(params)
    routes: dict[int, list[int]] = {}
    if sol is None:
        return routes
    for vi, v in enumerate(vehicles):
        idx = sol.Value(routing.NextVar(routing.Start(vi)))
        seq = []
        while not routing.IsEnd(idx):
            seq.append(jobs[manager.IndexToNode(idx) - n_t].id)
            idx = sol.Value(routing.NextVar(idx))
        routes[v.id] = seq
    return routes


def score(problem: P.Problem, routes: dict[int, list[int]]) -> tuple[float, float, int]:
    """(priority served, travel hours, stops) of routes given as vehicle id -> job ids, on the problem's
    matrix rounded as both engines see it."""
    m = np.rint(problem.matrix)
    job_loc = {j.id: j.location for j in problem.jobs}
    by_id = {v.id: v for v in problem.vehicles}
    prio = travel = 0.0
    n = 0
    for vid, seq in routes.items():
        if not seq:
            continue
        v = by_id[vid]
        path = [v.start, *(job_loc[j] for j in seq), v.end]
        travel += float(sum(m[a, b] for a, b in zip(path[:-1], path[1:], strict=True)))
        prio += float(sum(problem.cands["priority"].iloc[j - 1] for j in seq))
        n += len(seq)
    return prio, travel / 3600.0, n


# --------------------------------------------------------------------------------------------------
# the matrix on a 70,000-node grid
# --------------------------------------------------------------------------------------------------

def grid_lines(side: int, spacing: float, seed: int):
    """A side x side street grid (one line per block side) with speeds by road class."""
    import shapely

    rng = np.random.default_rng(seed)
    xs = np.arange(side) * spacing
    a, b = [], []
    for i in range(side):
        for j in range(side - 1):
            a.append((xs[j], xs[i]))
            b.append((xs[j + 1], xs[i]))
            a.append((xs[i], xs[j]))
            b.append((xs[i], xs[j + 1]))
    a, b = np.array(a), np.array(b)
    lines = shapely.linestrings(np.stack([a, b], axis=1))
    speed = rng.choice([60.0, 40.0, 30.0, 20.0], size=len(lines), p=[0.05, 0.15, 0.3, 0.5])
    return lines, speed


def bench_matrix(quick: bool) -> None:
    import networkx as nx

    side = 150 if quick else 265  # 22,500 / 70,225 nodes
    lines, speed = grid_lines(side, 100.0, seed=3)
    t0 = time.perf_counter()
    g = RoadGraph.from_lines(lines, speed)
    t_build = time.perf_counter() - t0
    rng = np.random.default_rng(11)
    n_pts = 100 if quick else 300
    pts = rng.uniform(0, (side - 1) * 100.0, size=(n_pts, 2))
    t0, c0 = time.perf_counter(), time.process_time()
    m = g.matrix(pts)
    t_ours, c_ours = time.perf_counter() - t0, time.process_time() - c0
    print(f"[matrix] grid {g.n_nodes:,} nodes, {g.n_edges:,} directed edges (built in {t_build:.2f} s)")
    print(f"[matrix] ours: {n_pts} x {n_pts} travel-time matrix in {t_ours:.2f} s wall, {c_ours:.2f} s CPU "
          f"(target for 300 x 300: < 5 s)")

    # peer: networkx on the same graph (the snapped nodes, the same edge times)
    t0 = time.perf_counter()
    coo = g.csr.tocoo()
    G = nx.DiGraph()
    G.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True))
    t_nxbuild = time.perf_counter() - t0
    nodes, _ = g.snap(pts)
    k_pairs = 6 if quick else 30
    pairs = [(int(nodes[i]), int(nodes[j])) for i, j in rng.integers(0, n_pts, size=(k_pairs, 2))]
    t0 = time.perf_counter()
    for s_, d_ in pairs:
        nx.shortest_path_length(G, s_, d_, weight="weight")
    per_pair = (time.perf_counter() - t0) / k_pairs
    t_pairs = per_pair * n_pts * n_pts
    k_src = 2 if quick else 6
    t0 = time.perf_counter()
    for s_ in nodes[:k_src]:
        d = nx.single_source_dijkstra_path_length(G, int(s_), weight="weight")
    per_src = (time.perf_counter() - t0) / k_src
    t_src = per_src * n_pts
    # agreement check on the subsample (network part only: both from snapped node to snapped node)
    from scipy.sparse.csgraph import dijkstra

    ref = dijkstra(g.csr, indices=int(nodes[k_src - 1]))[nodes]
    nxv = np.array([d[int(n)] for n in nodes])
    print(f"[matrix] networkx graph built in {t_nxbuild:.2f} s; results agree: "
          f"{bool(np.allclose(ref, nxv, rtol=1e-9, atol=1e-6))}")
    print(f"[matrix] peer networkx per-pair shortest_path_length: {per_pair * 1000:.0f} ms/pair on {k_pairs} pairs "
          f"-> {t_pairs:,.0f} s for {n_pts * n_pts:,} pairs (extrapolated); ratio {t_pairs / t_ours:,.0f}x")
    print(f"[matrix] peer networkx one-to-all per source: {per_src:.2f} s/source -> {t_src:.0f} s for {n_pts} "
          f"(extrapolated); ratio {t_src / t_ours:.1f}x")
    del m


# --------------------------------------------------------------------------------------------------
# plan on the demo city
# --------------------------------------------------------------------------------------------------

def bench_plan(quick: bool) -> None:
    from layers.demo.city import build_demo_store

    tmp = Path(tempfile.mkdtemp(prefix="bench_plan_"))
    enterprises = 1500 if quick else 5000
    t0 = time.perf_counter()
    store = build_demo_store(tmp / "city.gpkg", enterprises=enterprises, seed=7)
    print(f"[plan] demo city with {enterprises} enterprises built in {time.perf_counter() - t0:.1f} s "
          f"({store.count('roads'):,} road lines)")
    settings = Settings(store=str(tmp / "city.gpkg"))
    teams = P.teams_from_store(store)[:10]
    districts = sorted({d for t in teams for d in t.districts})
    cands = P.candidates(store, as_of=PLAN_DATE, settings=settings, districts=districts, limit=300)
    print(f"[plan] {len(teams)} teams ({', '.join(t.id for t in teams)}), {len(cands)} candidates in "
          f"districts {', '.join(districts)}")

    t0 = time.perf_counter()
    plan = P.plan_routes(store, cands, teams, dates=[PLAN_DATE], settings=settings)
    t_cold = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    problem = P.build_problem(store, cands, teams, dates=[PLAN_DATE], settings=settings)
    t_matrix = time.perf_counter() - t0
    t1 = time.perf_counter()
    result = solve(problem.matrix, problem.vehicles, problem.jobs, exploration_level=5, nb_threads=2)
    t_vroom = time.perf_counter() - t1
    plan = P.assemble(problem, result, settings=settings)
    c_warm = time.process_time() - c0
    print(f"[plan] ours: plan in {t_cold:.2f} s with the road graph built, {t_matrix + t_vroom:.2f} s wall / "
          f"{c_warm:.2f} s CPU with it cached (matrix + problem {t_matrix:.2f} s, VROOM {t_vroom:.2f} s); "
          f"target < 5 s; travel times: {plan.summary['travel_mode']}")
    why = {k: int(v) for k, v in plan.unassigned["reason"].value_counts().items()}
    print(f"[plan] jobs in the model: {len(problem.jobs)}, ruled out before: {len(problem.reasons)}; "
          f"unassigned by reason: {why}")

    ours = {vid: [s.job_id for s in steps if s.kind == "job"] for vid, steps in result.routes.items()}
    p_ours, h_ours, n_ours = score(problem, ours)
    limit = 10 if quick else 60
    t0 = time.perf_counter()
    peer = solve_ortools(problem, time_limit_s=limit)
    t_peer = time.perf_counter() - t0
    p_peer, h_peer, n_peer = score(problem, peer)
    print(f"[quality] ours (VROOM, {t_vroom:.1f} s): priority served {p_ours:,.0f}, travel {h_ours:.2f} h, "
          f"{n_ours} stops")
    print(f"[quality] peer (OR-Tools GLS, {t_peer:.0f} s): priority served {p_peer:,.0f}, travel {h_peer:.2f} h, "
          f"{n_peer} stops")
    dp = (p_ours - p_peer) / p_peer * 100 if p_peer else math.nan
    dt = (h_ours - h_peer) / h_peer * 100 if h_peer else math.nan
    print(f"[quality] priority served: ours {dp:+.2f} % vs peer (target >= 0); travel: ours {dt:+.2f} % vs peer "
          f"(target within 2 % when priority is equal; more stops need more travel)")
    print(f"[quality] time ratio peer/ours: {t_peer / t_vroom:.1f}x")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller city, 10 s OR-Tools limit, fewer peer samples")
    args = ap.parse_args(argv)
    bench_plan(args.quick)
    bench_matrix(args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
