"""Travel times and routes from many points *to one* point over a road graph: one search, with predecessors.

The question of an incident's first hour is "which of these resources gets here first, and by which way": the
answer for every resource at once is one shortest-path search on the *reversed* graph from the incident
(``dist[v]`` = seconds from node ``v`` to the incident), started from the incident's own place on the road (a
virtual node joined to the ends of the edge it lies on: a multi-source start with the share of the edge's time
as each start's offset), with predecessors: following them from a resource's node walks its route towards the
incident in driving order.

Points join the road at the nearest point on it (:meth:`geo.roadgraph.RoadGraph.snap_to_road`): the off-road
leg at the graph's ``access_kmh``, the edge split there (one-way edges only forwards); a point on the same edge
as the target goes along it; a straight off-road trip is taken when it is shorter, as in
:meth:`geo.roadgraph.RoadGraph.reach_seconds`.

Arrays only: knows nothing of resources, the store or Dash (metres in the graph's metric CRS, seconds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from geo.roadgraph import RoadGraph, RoadSnap

__all__ = ["Exits", "TargetSearch", "exits", "reversed_csr", "search_to", "times_to", "route_xy"]

_MIN_S = 1e-3  # csgraph drops explicit zeros in some paths: a virtual edge is never 0 s (taken off again)


@dataclass(frozen=True, eq=False)
class Exits:
    """Where snapped points leave their edge onto the network: per exit the point (``point``), the node it
    reaches (``node``) and the seconds from the point to it (``secs``, off-road leg included); to the edge's
    end always, to its start only on a two-way edge."""

    snap: RoadSnap
    point: np.ndarray
    node: np.ndarray
    secs: np.ndarray


def exits(graph: RoadGraph, xy) -> Exits:
    """The :class:`Exits` of points (``(n, 2)``, metric CRS) snapped to the nearest point on a road."""
    pts = np.asarray(xy, dtype=float).reshape(-1, 2)
    snap = graph.snap_to_road(pts)
    e = graph.edges
    i = np.arange(len(pts))
    acc = snap.dist_m / (graph.access_kmh / 3.6)
    t = e.t[snap.edge]
    two = ~e.oneway[snap.edge]
    return Exits(snap=snap, point=np.concatenate([i, i[two]]),
                 node=np.concatenate([e.v[snap.edge], e.u[snap.edge][two]]),
                 secs=np.concatenate([acc + (1 - snap.frac) * t, (acc + snap.frac * t)[two]]))


def reversed_csr(graph: RoadGraph) -> sparse.csr_matrix:
    """The graph with every edge turned round (``csr.T`` as CSR): a search on it from a target gives the time
    *to* the target from every node. Build once per graph and pass it to :func:`search_to`."""
    return sparse.csr_matrix(graph.csr.T)


@dataclass(frozen=True, eq=False)
class TargetSearch:
    """One search towards a target point: ``dist[v]`` seconds from node ``v`` to the target (``inf``: cannot
    get there), ``pred[v]`` the next node on the way (``virtual``: the target's own edge is next, -9999 none),
    and where the target joins the road (``snap``, its ``entry`` nodes and their ``entry_secs``)."""

    xy: np.ndarray
    dist: np.ndarray
    pred: np.ndarray
    virtual: int
    snap: RoadSnap
    entry: np.ndarray
    entry_secs: np.ndarray


def search_to(graph: RoadGraph, rev: sparse.csr_matrix, target_xy, *, limit_s: float = np.inf) -> TargetSearch:
    """Seconds from every node to ``target_xy`` and the way there: one Dijkstra on the reversed graph ``rev``
    (:func:`reversed_csr`) from a virtual node joined to the target's edge ends, with predecessors.

    The virtual node's edges are appended to ``rev`` as one more CSR row (an array copy, no sort). Nodes
    beyond ``limit_s`` are left ``inf`` (the search stops there).
    """
    xy = np.asarray(target_xy, dtype=float).reshape(1, 2)
    snap = graph.snap_to_road(xy)
    e = graph.edges
    edge, f = int(snap.edge[0]), float(snap.frac[0])
    acc = float(snap.dist_m[0]) / (graph.access_kmh / 3.6)
    t = float(e.t[edge])
    # to reach the target one drives along its edge from the start u (a share f of its time) or, on a two-way
    # edge, from the end v (the rest); then the off-road leg
    entry = [int(e.u[edge])]
    secs = [acc + f * t]
    if not bool(e.oneway[edge]):
        entry.append(int(e.v[edge]))
        secs.append(acc + (1 - f) * t)
    n = graph.n_nodes
    indptr = np.concatenate([rev.indptr, [rev.indptr[-1] + len(entry)]]).astype(rev.indptr.dtype, copy=False)
    aug = sparse.csr_matrix((np.concatenate([rev.data, np.asarray(secs) + _MIN_S]),
                             np.concatenate([rev.indices, np.asarray(entry, dtype=rev.indices.dtype)]), indptr),
                            shape=(n + 1, n + 1))
    lim = limit_s + _MIN_S if np.isfinite(limit_s) else np.inf
    dist, pred = csgraph.dijkstra(aug, directed=True, indices=n, return_predecessors=True, limit=lim)
    dist = np.asarray(dist[:n], dtype=float) - _MIN_S
    return TargetSearch(xy=xy[0], dist=dist, pred=np.asarray(pred[:n]), virtual=n, snap=snap,
                        entry=np.asarray(entry, dtype=np.int64), entry_secs=np.asarray(secs, dtype=float))


def times_to(graph: RoadGraph, search: TargetSearch, ex: Exits, xy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seconds from each point (``xy``, with its :class:`Exits` ``ex``) to the search's target, the exit used
    (index into ``ex.node``; -1: along the target's own edge; -2: a straight off-road trip) and whether the
    straight trip was taken.

    The best of: out of its edge to a node and on from there (``dist``); along the edge it shares with the
    target (forwards only when one-way); a straight off-road trip at ``access_kmh``.
    """
    pts = np.asarray(xy, dtype=float).reshape(-1, 2)
    m = len(pts)
    best = np.full(m, np.inf)
    via = np.full(m, -1, dtype=np.int64)
    if len(ex.node):
        total = ex.secs + search.dist[ex.node]
        order = np.lexsort((total, ex.point))   # per point, its fastest exit first
        first = np.ones(len(order), dtype=bool)
        first[1:] = ex.point[order][1:] != ex.point[order][:-1]
        pick = order[first]
        best[ex.point[pick]] = total[pick]
        via[ex.point[pick]] = pick
    # the same edge as the target: along it
    e = graph.edges
    same = ex.snap.edge == int(search.snap.edge[0])
    if same.any():
        idx = np.flatnonzero(same)
        df = float(search.snap.frac[0]) - ex.snap.frac[idx]
        t = float(e.t[int(search.snap.edge[0])])
        along = (ex.snap.dist_m[idx] + float(search.snap.dist_m[0])) / (graph.access_kmh / 3.6) + np.abs(df) * t
        along[(df < 0) & bool(e.oneway[int(search.snap.edge[0])])] = np.inf
        better = along < best[idx]
        best[idx[better]] = along[better]
        via[idx[better]] = -1
    walk = np.hypot(*(pts - search.xy).T) / (graph.access_kmh / 3.6)
    straight = walk < best
    best = np.where(straight, walk, best)
    via = np.where(straight, -2, via)
    return best, via, straight


def route_xy(graph: RoadGraph, search: TargetSearch, ex: Exits, point: int, via: int, xy) -> np.ndarray:
    """The way from point ``point`` (at ``xy``) to the target as metric coordinates ``(k, 2)``, in driving
    order: the point, where it meets the road, the nodes (predecessors from its exit ``via``, see
    :func:`times_to`), where the target meets the road, the target."""
    start = np.asarray(xy, dtype=float).reshape(2)
    e = graph.edges
    if via == -2:
        return np.vstack([start, search.xy])
    s_edge = int(ex.snap.edge[point])
    s_on = e.a[s_edge] + float(ex.snap.frac[point]) * (e.b[s_edge] - e.a[s_edge])
    t_edge = int(search.snap.edge[0])
    t_on = e.a[t_edge] + float(search.snap.frac[0]) * (e.b[t_edge] - e.a[t_edge])
    if via == -1:
        return np.vstack([start, s_on, t_on, search.xy])
    seq = [int(ex.node[via])]
    guard = graph.n_nodes + 1
    while len(seq) <= guard:
        nxt = int(search.pred[seq[-1]])
        if nxt < 0 or nxt == search.virtual:
            break
        seq.append(nxt)
    return np.vstack([start, s_on, graph.nodes_xy[seq], t_on, search.xy])
