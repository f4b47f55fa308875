"""Readiness reach at scale: our multi-source way against the per-pair way, in one run; and the whole readiness
computation of the demo city from its store, cold.

``python benchmarks/bench_readiness.py [--quick] [--objects N] [--resources M] [--sample S]``

Reach: 200 resources (``--resources``) to 100,000 readiness objects (``--objects``) over a road graph of about
70,000 nodes. The demo city's road graph is smaller (about 10,000 nodes), so the graph here is synthetic: a
265 x 265 street grid 150 m apart (70,225 nodes, 40 km x 40 km), every tenth street an arterial at 60 km/h, the
others at 30 km/h, off-road legs at 5 km/h; objects and resources at uniformly random places.

* Ours: ``geo.roadgraph.nearest_source``: every point and resource snapped to the nearest point on a road, one
  multi-source Dijkstra from all resources (a virtual node per resource; ``min_only=True`` also says which
  resource), then each object's time from the ends of its edge (a resource on the same edge along it, a straight
  off-road trip when shorter). The time includes the snapping of the 100,000 objects.
* Per pair (the peer way, one Dijkstra per object): the same snapping done once for all (given to the peer for
  free), then for each object one Dijkstra over the reversed graph from the ends of its edge, and the best
  resource from their entry nodes. Run on ``--sample`` objects and extrapolated linearly to all; the answers of
  both are compared on the sample (same seconds, to 1e-6 s).

Then the demo city (``--demo-enterprises``, 5,000; quick 2,000) is generated into a GeoPackage and
``layers.analysis.readiness.compute`` is timed cold (every cache emptied: the store read, the road graph, the
objects, reach, plans and drills, supplies, the figures per area) and warm (a new as-of date: the layers and the
road graph are kept).

Prints both reach times, the ratio, and the cold and warm figures. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse import csgraph

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.roadgraph import RoadGraph, _exits, _same_edge, nearest_source  # noqa: E402

GRID, STEP = 265, 150.0


def grid_graph() -> RoadGraph:
    """The synthetic street grid (see the module docstring)."""
    xs = np.arange(GRID) * STEP
    rows = [np.column_stack([xs, np.full(GRID, y)]) for y in xs]
    cols = [np.column_stack([np.full(GRID, x), xs]) for x in xs]
    lines = np.array([shapely.LineString(c) for c in rows + cols], dtype=object)
    speed = np.where(np.arange(len(lines)) % 10 == 0, 60.0, 30.0)
    return RoadGraph.from_lines(lines, speed, access_kmh=5.0)


def per_pair(graph: RoadGraph, pts: np.ndarray, src: np.ndarray) -> np.ndarray:
    """Seconds from the nearest resource to each point, one Dijkstra per point over the reversed graph."""
    rev = sparse.csr_matrix(graph.csr.T)
    p_snap, s_snap = graph.snap_to_road(pts), graph.snap_to_road(src)
    u, su, v, sv, _ = _exits(graph, p_snap)
    s_point, s_node, s_secs = graph._entries(s_snap)
    si, pj, along = _same_edge(graph, s_snap, p_snap)
    out = np.empty(len(pts))
    for i in range(len(pts)):
        starts = [u[i]] if not np.isfinite(sv[i]) else [u[i], v[i]]
        dist = np.atleast_2d(csgraph.dijkstra(rev, directed=True, indices=starts))
        to_p = dist[0] + su[i] if len(starts) == 1 else np.minimum(dist[0] + su[i], dist[1] + sv[i])
        best = float((to_p[s_node] + s_secs).min())
        same = along[pj == i]
        if len(same):
            best = min(best, float(same.min()))
        walk = float(np.hypot(*(src - pts[i]).T).min()) / graph._access_ms
        out[i] = min(best, walk)
    return out


def bench_reach(n_obj: int, n_res: int, sample: int) -> None:
    t0 = time.perf_counter()
    g = grid_graph()
    print(f"synthetic road graph: {g.n_nodes:,} nodes, {g.n_edges:,} directed edges "
          f"(built in {time.perf_counter() - t0:.1f} s)", flush=True)
    rng = np.random.default_rng(15)
    span = (GRID - 1) * STEP
    pts = rng.uniform(0, span, (n_obj, 2))
    src = rng.uniform(0, span, (n_res, 2))
    nearest_source(g, pts[:1000], src)  # warm-up (the edge index is built once per graph, as in the app)
    times = []
    for _ in range(3):
        t = time.perf_counter()
        secs, who, _ = nearest_source(g, pts, src)
        times.append(time.perf_counter() - t)
    ours = min(times)
    print(f"ours     ({n_res} resources -> {n_obj:,} objects): {ours:.2f} s (best of 3: "
          f"{', '.join(f'{x:.2f}' for x in times)}); median {np.median(secs) / 60:.1f} min, "
          f"{len(np.unique(who))} resources nearest to some object", flush=True)
    pick = rng.choice(n_obj, size=min(sample, n_obj), replace=False)
    t = time.perf_counter()
    theirs = per_pair(g, pts[pick], src)
    naive = time.perf_counter() - t
    extrap = naive / len(pick) * n_obj
    same = np.abs(theirs - secs[pick]) <= 1e-6
    print(f"per pair ({len(pick)} objects, one Dijkstra each): {naive:.2f} s -> {extrap:,.0f} s for {n_obj:,} "
          f"(extrapolated); answers equal on {same.mean():.0%} of the sample", flush=True)
    print(f"ratio: {extrap / ours:,.0f}x (target for ours: < 3 s)", flush=True)


def bench_demo(enterprises: int) -> None:
    from layers.analysis import readiness
    from layers.cache import clear_all
    from layers.demo.city import AS_OF, build_demo_store
    from layers.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        store = build_demo_store(Path(tmp) / "city.gpkg", enterprises=enterprises)
        print(f"demo city: {enterprises:,} enterprises (generated and written in {time.perf_counter() - t:.1f} s)",
              flush=True)
        settings = Settings()
        clear_all()
        t = time.perf_counter()
        r = readiness.compute(store, as_of=AS_OF, settings=settings)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        readiness.compute(store, as_of=AS_OF.replace(day=1), settings=settings)
        warm = time.perf_counter() - t
        s = r.summary
        print(f"readiness of the demo city from the store: {cold:.2f} s cold, {warm:.2f} s for another as-of date "
              f"({r.info['road_nodes']:,} road nodes; {s['objects']:,} objects, {s['reach_gaps']:,} reach gaps, "
              f"{s['plan_gaps']:,} plan gaps, {s['drill_gaps']:,} drill gaps, {s['supply_short']:,} supplies short)",
              flush=True)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smaller per-pair sample and demo city (CI smoke test)")
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--resources", type=int, default=200)
    ap.add_argument("--sample", type=int, default=None, help="objects for the per-pair way (default 200; quick 20)")
    ap.add_argument("--demo-enterprises", type=int, default=None, help="default 5,000; quick 2,000")
    args = ap.parse_args(argv)
    bench_reach(args.objects, args.resources, args.sample or (20 if args.quick else 200))
    bench_demo(args.demo_enterprises or (2_000 if args.quick else 5_000))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
