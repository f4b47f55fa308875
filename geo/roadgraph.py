"""Road graph: travel times over a road network in a metric CRS.

Nodes are the vertices of the road lines (so two roads meet where they share a vertex), snapped by rounding the
coordinates to ``snap_m`` metres. An edge joins two consecutive vertices of a line; its weight is the travel time
in seconds (length / speed). Parallel edges keep the fastest. Shortest paths use ``scipy.sparse.csgraph.dijkstra``
on a directed CSR matrix (two-way roads are stored in both directions, one-way roads in the drawing direction).

Two ways to join a point off the network to it (both only onto the largest strongly connected component, so
every pair has a finite time), the gap covered at ``access_kmh`` (the off-road leg):

* to the nearest *point on a road* (:meth:`RoadGraph.snap_to_road`, used for reach: :meth:`RoadGraph.min_time_from`
  and :meth:`RoadGraph.reach_seconds`): the edge is split there, the time from the snapped point to each end is
  its share of the edge's time (a one-way edge only forwards), and a point on the same edge as a source is
  reached along it;
* to the nearest *node* (:meth:`RoadGraph.snap`, used by :meth:`RoadGraph.matrix` and the paths for the planner).

A straight off-road leg between two points is used when it is shorter than going through the network.

Knows nothing of enterprises, the store or Dash.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

__all__ = ["RoadGraph"]

_CHUNK = 32  # Dijkstra sources per call in matrix()
_MIN_EDGE_S = 1e-3  # csgraph treats a stored 0 as "no edge" in some paths; keep weights strictly positive
_SAMPLE_M = 25.0  # spacing of the points sampled along the edges for the nearest-edge look-up (metres)
_SNAP_K = (8, 32)  # nearest samples tried per point (then GEOS's exact STRtree look-up for the few left)
_SNAP_CHUNK = 131_072  # points per block in the nearest-edge look-up (keeps the (n, k, 2) arrays small)


@dataclass(frozen=True, eq=False)
class Edges:
    """The straight road segments a point can be snapped onto (both ends in the largest strongly connected
    component), one per drawn segment: start ``a`` and end ``b`` (metres, drawing direction), their nodes ``u``
    and ``v``, travel time ``t`` (seconds) and ``oneway`` (only ``u`` -> ``v``)."""

    a: np.ndarray
    b: np.ndarray
    u: np.ndarray
    v: np.ndarray
    t: np.ndarray
    oneway: np.ndarray

    def __len__(self) -> int:
        return len(self.t)


@dataclass(frozen=True, eq=False)
class RoadSnap:
    """Where points meet the road network: the edge (index into :class:`Edges`), the fraction ``frac`` of the
    way from its start ``a`` to its end ``b`` (0..1), and the distance ``dist_m`` from the point (metres)."""

    edge: np.ndarray
    frac: np.ndarray
    dist_m: np.ndarray


@dataclass(frozen=True, eq=False)
class RoadGraph:
    """A directed road graph with travel times in seconds.

    Attributes
    ----------
    nodes_xy : (N, 2) float array, node coordinates in the metric CRS of the input lines (metres).
    csr : scipy.sparse.csr_matrix (N, N), edge travel time in seconds (directed).
    snappable : (N,) bool array, nodes in the largest strongly connected component (snap targets).
    access_kmh : speed of the off-road leg (point to road) and of a straight off-road trip, km/h.
    edges : the segments points are snapped onto for reach (:class:`Edges`); None: none (reach then snaps to
        nodes).
    """

    nodes_xy: np.ndarray
    csr: sparse.csr_matrix
    snappable: np.ndarray
    access_kmh: float = 5.0
    edges: Edges | None = None

    # ------------------------------------------------------------------ build
    @classmethod
    def from_lines(
        cls,
        geoms_metric,
        speed_kmh,
        oneway=None,
        *,
        snap_m: float = 0.5,
        access_kmh: float = 5.0,
    ) -> RoadGraph:
        """Build the graph from road lines.

        Parameters
        ----------
        geoms_metric : array of shapely LineString / MultiLineString in a metric CRS (metres).
        speed_kmh : array of travel speeds per line, km/h (> 0); a scalar is broadcast.
        oneway : optional array of bool per line; True means traversable only in the drawing direction.
        snap_m : vertices closer than this (by rounding to a grid of this size) become one node.
        access_kmh : speed of the off-road leg between a point and the road, km/h.
        """
        geoms = np.asarray(geoms_metric, dtype=object)
        n_lines = len(geoms)
        speed = np.broadcast_to(np.asarray(speed_kmh, dtype=float), (n_lines,)).copy()
        if oneway is None:
            ow = np.zeros(n_lines, dtype=bool)
        else:
            ow = np.broadcast_to(np.asarray(oneway, dtype=bool), (n_lines,)).copy()
        if snap_m <= 0:
            raise ValueError(f"snap_m must be > 0, got {snap_m}")
        if access_kmh <= 0:
            raise ValueError(f"access_kmh must be > 0, got {access_kmh}")
        bad = ~np.isfinite(speed) | (speed <= 0)
        if bad.any():
            raise ValueError(
                f"speed_kmh must be a positive number for every line; line {int(np.flatnonzero(bad)[0])} has "
                f"{speed[bad][0]!r}"
            )
        if n_lines == 0:
            return cls._empty(access_kmh)

        # Explode multi-part lines: each part keeps its source line index.
        parts, part_src = shapely.get_parts(geoms, return_index=True)
        keep = ~shapely.is_empty(parts) & (shapely.get_type_id(parts) == 1)  # LineString only
        parts, part_src = parts[keep], part_src[keep]
        if len(parts) == 0:
            return cls._empty(access_kmh)
        coords, part_of = shapely.get_coordinates(parts, return_index=True)
        # consecutive vertices of the same part form a segment
        same = part_of[1:] == part_of[:-1]
        a = coords[:-1][same]
        b = coords[1:][same]
        line_of_seg = part_src[part_of[:-1][same]]

        # Nodes: snap by rounding, then unique.
        q = np.round(np.vstack([a, b]) / snap_m).astype(np.int64)
        uniq, inverse = np.unique(q, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        nodes_xy = uniq.astype(float) * snap_m
        n_seg = len(a)
        u = inverse[:n_seg]
        v = inverse[n_seg:]
        length = np.hypot(*(b - a).T)
        t = np.maximum(length / (speed[line_of_seg] / 3.6), _MIN_EDGE_S)
        ok = u != v
        seg_a, seg_b = a[ok], b[ok]
        u, v, t, seg_ow = u[ok], v[ok], t[ok], ow[line_of_seg][ok]
        two = ~seg_ow
        rows = np.concatenate([u, v[two]])
        cols = np.concatenate([v, u[two]])
        w = np.concatenate([t, t[two]])
        csr = cls._csr_min(rows, cols, w, len(nodes_xy))

        n_comp, labels = csgraph.connected_components(csr, directed=True, connection="strong")
        if n_comp > 1:
            biggest = np.bincount(labels).argmax()
            snappable = labels == biggest
        else:
            snappable = np.ones(len(nodes_xy), dtype=bool)
        on = snappable[u] & snappable[v]
        edges = Edges(a=seg_a[on], b=seg_b[on], u=u[on], v=v[on], t=t[on], oneway=seg_ow[on])
        return cls(nodes_xy=nodes_xy, csr=csr, snappable=snappable, access_kmh=float(access_kmh), edges=edges)

    @staticmethod
    def _csr_min(rows, cols, w, n) -> sparse.csr_matrix:
        """CSR matrix keeping the minimum weight of parallel edges (csr would sum them)."""
        order = np.lexsort((w, cols, rows))
        rows, cols, w = rows[order], cols[order], w[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        return sparse.csr_matrix((w[first], (rows[first], cols[first])), shape=(n, n))

    @classmethod
    def _empty(cls, access_kmh: float) -> RoadGraph:
        return cls(
            nodes_xy=np.empty((0, 2)),
            csr=sparse.csr_matrix((0, 0)),
            snappable=np.empty(0, dtype=bool),
            access_kmh=float(access_kmh),
            edges=Edges(a=np.empty((0, 2)), b=np.empty((0, 2)), u=np.empty(0, np.int64), v=np.empty(0, np.int64),
                        t=np.empty(0), oneway=np.empty(0, bool)),
        )

    # ------------------------------------------------------------------ properties
    @property
    def n_nodes(self) -> int:
        return len(self.nodes_xy)

    @property
    def n_edges(self) -> int:
        return int(self.csr.nnz)

    @property
    def _access_ms(self) -> float:
        return self.access_kmh / 3.6

    def _tree(self) -> tuple[cKDTree, np.ndarray]:
        cached = self.__dict__.get("_tree_cache")
        if cached is None:
            idx = np.flatnonzero(self.snappable)
            cached = (cKDTree(self.nodes_xy[idx]), idx)
            object.__setattr__(self, "_tree_cache", cached)
        return cached

    # ------------------------------------------------------------------ queries
    def snap(self, xy) -> tuple[np.ndarray, np.ndarray]:
        """Nearest snappable node for each point.

        Parameters
        ----------
        xy : (n, 2) array of points in the graph's metric CRS.

        Returns
        -------
        node_idx : (n,) int array of node indices.
        dist_m : (n,) float array, distance to that node in metres.
        """
        pts = np.asarray(xy, dtype=float).reshape(-1, 2)
        if self.n_nodes == 0:
            raise ValueError("the road graph is empty (no lines): cannot snap points")
        tree, idx = self._tree()
        dist, k = tree.query(pts)
        return idx[np.asarray(k, dtype=np.int64)], np.asarray(dist, dtype=float)

    def matrix(self, src_xy, dst_xy=None) -> np.ndarray:
        """Travel time in seconds from every source point to every destination point.

        Dijkstra runs once per unique snapped source node. Each pair's time is the snap walk at the source +
        the network time + the snap walk at the destination, or the straight walk if that is shorter.

        Parameters
        ----------
        src_xy : (n, 2) points, metric CRS.
        dst_xy : (m, 2) points, metric CRS; defaults to ``src_xy``.

        Returns
        -------
        (n, m) float array of seconds (``inf`` only if the graph is disconnected between snapped nodes, which
        cannot happen for the snap targets, since they form one strongly connected component).
        """
        src = np.asarray(src_xy, dtype=float).reshape(-1, 2)
        dst = src if dst_xy is None else np.asarray(dst_xy, dtype=float).reshape(-1, 2)
        if len(src) == 0 or len(dst) == 0:
            return np.zeros((len(src), len(dst)))
        s_node, s_d = self.snap(src)
        d_node, d_d = self.snap(dst)
        uniq, inv = np.unique(s_node, return_inverse=True)
        net_u = np.empty((len(uniq), len(dst)))
        # chunks of sources keep the (k, N) Dijkstra output small (300 x 70,000 floats would be 170 MB)
        for lo in range(0, len(uniq), _CHUNK):
            part = csgraph.dijkstra(self.csr, directed=True, indices=uniq[lo : lo + _CHUNK])
            net_u[lo : lo + _CHUNK] = part[:, d_node]
        net = net_u[inv.ravel()]
        out = net + (s_d / self._access_ms)[:, None] + (d_d / self._access_ms)[None, :]
        walk = np.hypot(src[:, None, 0] - dst[None, :, 0], src[:, None, 1] - dst[None, :, 1]) / self._access_ms
        return np.minimum(out, walk)

    def _edge_index(self) -> tuple[cKDTree, np.ndarray, float]:
        """A k-d tree of points sampled along the edges at most ``_SAMPLE_M`` apart (ends included), each
        sample's edge, and the largest gap between two samples of an edge."""
        cached = self.__dict__.get("_edge_cache")
        if cached is None:
            e = self.edges
            length = np.hypot(*(e.b - e.a).T)
            gaps = np.maximum(np.ceil(length / _SAMPLE_M), 1).astype(np.int64)  # samples - 1 per edge
            count = gaps + 1
            edge_of = np.repeat(np.arange(len(e)), count)
            k = np.arange(len(edge_of)) - np.repeat(np.cumsum(count) - count, count)
            f = (k / gaps[edge_of])[:, None]
            xy = e.a[edge_of] * (1 - f) + e.b[edge_of] * f
            spacing = float((length / gaps).max()) if len(e) else 0.0
            cached = (cKDTree(xy), edge_of, spacing)
            object.__setattr__(self, "_edge_cache", cached)
        return cached

    def _project(self, pts: np.ndarray, edge: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fraction along each ``edge`` (0..1 from its start) of the point nearest ``pts``, and the distance."""
        a, b = self.edges.a[edge], self.edges.b[edge]
        ab = b - a
        den = np.einsum("...i,...i->...", ab, ab)
        f = np.clip(np.einsum("...i,...i->...", pts - a, ab) / np.where(den > 0, den, 1.0), 0.0, 1.0)
        d = pts - (a + f[..., None] * ab)
        return f, np.sqrt(np.einsum("...i,...i->...", d, d))

    def snap_to_road(self, xy) -> RoadSnap:
        """The nearest point on a road (an edge of the largest strongly connected component) for each point.

        Exact, vectorised: the nearest of the points sampled along the edges (a k-d tree) name candidate edges
        and the exact point-to-segment distance picks among them; the answer is proved when the last sample
        tried is farther than the best distance plus half the sample spacing (every edge nearer than the best
        has a sample within that), else more samples are tried, and the few points still unproved (far from
        sparse roads) go to GEOS's exact nearest look-up (``shapely.STRtree.query_nearest``).

        Parameters
        ----------
        xy : (n, 2) array of points in the graph's metric CRS.
        """
        pts = np.asarray(xy, dtype=float).reshape(-1, 2)
        if self.edges is None or len(self.edges) == 0:
            raise ValueError("the road graph has no edges: cannot snap points to a road")
        tree, edge_of, spacing = self._edge_index()
        slack = spacing / 2 * (1 + 1e-9) + 1e-9
        n = len(pts)
        edge = np.zeros(n, dtype=np.int64)
        dist = np.full(n, np.inf)
        todo = np.arange(n)
        for k in _SNAP_K:
            k = min(k, tree.n)
            nxt = []
            for lo in range(0, len(todo), _SNAP_CHUNK):
                rows = todo[lo:lo + _SNAP_CHUNK]
                sd, si = tree.query(pts[rows], k=k)
                sd, si = sd.reshape(len(rows), k), si.reshape(len(rows), k)
                cand = edge_of[si]
                _, d = self._project(pts[rows][:, None, :], cand)
                best = np.argmin(d, axis=1)
                take = np.arange(len(rows))
                edge[rows] = cand[take, best]
                dist[rows] = d[take, best]
                if k < tree.n:
                    nxt.append(rows[sd[:, -1] < dist[rows] + slack])
            todo = np.concatenate(nxt) if nxt else np.empty(0, np.int64)
            if len(todo) == 0:
                break
        if len(todo):
            str_tree = self.__dict__.get("_str_tree")
            if str_tree is None:
                str_tree = shapely.STRtree(shapely.linestrings(np.stack([self.edges.a, self.edges.b], axis=1)))
                object.__setattr__(self, "_str_tree", str_tree)
            (src, hit) = str_tree.query_nearest(shapely.points(pts[todo]), all_matches=False)
            edge[todo[src]] = hit
        frac, dist = self._project(pts, edge)
        return RoadSnap(edge=edge, frac=frac, dist_m=dist)

    def _entries(self, snap: RoadSnap) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """From snapped points onto the network: (point, node, seconds from the point to the node), the off-road
        leg included; to the edge's end always, to its start only when the edge is two-way."""
        e = self.edges
        i = np.arange(len(snap.edge))
        acc = snap.dist_m / self._access_ms
        t = e.t[snap.edge]
        two = ~e.oneway[snap.edge]
        point = np.concatenate([i, i[two]])
        node = np.concatenate([e.v[snap.edge], e.u[snap.edge][two]])
        secs = np.concatenate([acc + (1 - snap.frac) * t, (acc + snap.frac * t)[two]])
        return point, node, secs

    def _node_times(self, snap: RoadSnap) -> np.ndarray:
        """Multi-source shortest time from the snapped sources to every node (a virtual node joined to each
        source's edge ends)."""
        n = self.n_nodes
        _, node, secs = self._entries(snap)
        coo = self.csr.tocoo()
        rows = np.concatenate([coo.row, np.full(len(node), n)])
        cols = np.concatenate([coo.col, node])
        w = np.concatenate([coo.data, secs + _MIN_EDGE_S])  # strictly positive; taken off again below
        aug = self._csr_min(rows, cols, w, n + 1)
        dist = csgraph.dijkstra(aug, directed=True, indices=n)
        return np.asarray(dist[:n], dtype=float) - _MIN_EDGE_S

    def min_time_from(self, src_xy) -> np.ndarray:
        """Shortest travel time in seconds from the nearest of several source points to every node.

        Each source is snapped to the nearest point on a road (:meth:`snap_to_road`): its off-road leg at
        ``access_kmh``, then its share of the edge's time to the edge's end (and to its start on a two-way edge).
        Nodes outside the largest strongly connected component may be ``inf``.

        Parameters
        ----------
        src_xy : (n, 2) points, metric CRS.

        Returns
        -------
        (N,) float array of seconds, one per node (aligned with ``nodes_xy``).
        """
        src = np.asarray(src_xy, dtype=float).reshape(-1, 2)
        if len(src) == 0:
            return np.full(self.n_nodes, np.inf)
        return self._node_times(self.snap_to_road(src))

    def reach_seconds(self, points_xy, sources_xy) -> tuple[np.ndarray, np.ndarray]:
        """Travel time in seconds from the nearest source to each point, and each point's off-road metres.

        Sources and points are snapped to the nearest point on a road (:meth:`snap_to_road`); one multi-source
        Dijkstra from the sources; a point is then reached from its edge's start (its share of the edge's time)
        or, on a two-way edge, from its end, plus its off-road leg at ``access_kmh``; a point on the same edge as
        a source is also reached along that edge (forwards only when one-way). A straight off-road trip from the
        nearest source is taken when it is shorter (its whole length is then off-road).

        Parameters
        ----------
        points_xy : (n, 2) points, metric CRS.
        sources_xy : (m, 2) points, metric CRS.

        Returns
        -------
        seconds : (n,) float array (``inf`` with no source).
        off_road_m : (n,) float array, metres covered at ``access_kmh`` at the point's end of the chosen way
            (the straight distance when the straight trip wins).
        """
        pts = np.asarray(points_xy, dtype=float).reshape(-1, 2)
        src = np.asarray(sources_xy, dtype=float).reshape(-1, 2)
        if len(src) == 0 or len(pts) == 0:
            return np.full(len(pts), np.inf), np.full(len(pts), np.nan)
        e = self.edges
        s_snap = self.snap_to_road(src)
        node_t = self._node_times(s_snap)
        p_snap = self.snap_to_road(pts)
        pe = p_snap.edge
        t = e.t[pe]
        on_road = np.minimum(node_t[e.u[pe]] + p_snap.frac * t,
                             np.where(e.oneway[pe], np.inf, node_t[e.v[pe]] + (1 - p_snap.frac) * t))
        # a source on the same edge: along it
        s_order = np.argsort(s_snap.edge, kind="stable")
        s_edge = s_snap.edge[s_order]
        lo = np.searchsorted(s_edge, pe, side="left")
        hi = np.searchsorted(s_edge, pe, side="right")
        count = hi - lo
        if count.any():
            j = np.repeat(np.arange(len(pts)), count)
            si = s_order[np.repeat(lo, count) + np.arange(len(j)) - np.repeat(np.cumsum(count) - count, count)]
            df = p_snap.frac[j] - s_snap.frac[si]
            along = s_snap.dist_m[si] / self._access_ms + np.abs(df) * t[j]
            along[(df < 0) & e.oneway[pe[j]]] = np.inf
            np.minimum.at(on_road, j, along)
        via_road = on_road + p_snap.dist_m / self._access_ms
        walk_m, _ = cKDTree(src).query(pts)
        walk = np.asarray(walk_m, dtype=float) / self._access_ms
        straight = walk < via_road
        return np.where(straight, walk, via_road), np.where(straight, walk_m, p_snap.dist_m)

    def path_xy(self, a_xy, b_xy) -> np.ndarray:
        """Coordinates of the fastest path between two points (for drawing a route along the roads).

        Returns a (k, 2) array starting at ``a_xy`` and ending at ``b_xy`` (metric CRS).
        """
        a = np.asarray(a_xy, dtype=float).reshape(1, 2)
        b = np.asarray(b_xy, dtype=float).reshape(1, 2)
        (na,), _ = self.snap(a)
        (nb,), _ = self.snap(b)
        _, pred = csgraph.dijkstra(self.csr, directed=True, indices=int(na), return_predecessors=True)
        seq = [int(nb)]
        while seq[-1] != na and pred[seq[-1]] >= 0:
            seq.append(int(pred[seq[-1]]))
        seq.reverse()
        return np.vstack([a, self.nodes_xy[seq], b])

    def paths_xy(self, stops_xy) -> list[np.ndarray]:
        """Road-following coordinates for each leg of an ordered sequence of points.

        One Dijkstra per distinct leg start. Returns ``len(stops_xy) - 1`` arrays of shape (k, 2).
        """
        pts = np.asarray(stops_xy, dtype=float).reshape(-1, 2)
        if len(pts) < 2:
            return []
        nodes, _ = self.snap(pts)
        uniq, inv = np.unique(nodes[:-1], return_inverse=True)
        _, pred = csgraph.dijkstra(self.csr, directed=True, indices=uniq, return_predecessors=True)
        pred = np.atleast_2d(pred)
        legs = []
        for i in range(len(pts) - 1):
            row = pred[inv.ravel()[i]]
            na, nb = nodes[i], nodes[i + 1]
            seq = [int(nb)]
            while seq[-1] != na and row[seq[-1]] >= 0:
                seq.append(int(row[seq[-1]]))
            seq.reverse()
            legs.append(np.vstack([pts[i : i + 1], self.nodes_xy[seq], pts[i + 1 : i + 2]]))
        return legs


# ---------------------------------------------------------------------- which source, and sources within a limit
# (module functions over a RoadGraph: the nearest source of each point with its index, and every (source, point)
# pair within a travel-time limit; the same snapping and off-road legs as RoadGraph.reach_seconds)

def _exits(graph: RoadGraph, snap: RoadSnap) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """How the network reaches snapped points: from the edge's start ``u`` (its share ``frac`` of the edge's time)
    and, on a two-way edge, from its end ``v``; the off-road leg included. Returns ``(u, secs_u, v, secs_v)``
    (``secs_v`` inf on a one-way edge) and the off-road seconds."""
    e = graph.edges
    acc = snap.dist_m / graph._access_ms
    t = e.t[snap.edge]
    secs_v = np.where(e.oneway[snap.edge], np.inf, acc + (1 - snap.frac) * t)
    return e.u[snap.edge], acc + snap.frac * t, e.v[snap.edge], secs_v, acc


def _with_virtual(csr: sparse.csr_matrix, point: np.ndarray, node: np.ndarray, secs: np.ndarray, m: int
                  ) -> sparse.csr_matrix:
    """``csr`` and ``m`` virtual nodes (``n + j``) joined to the network: an edge ``n + point -> node`` of ``secs``
    (plus the small positive epsilon every caller takes off again)."""
    n = csr.shape[0]
    coo = csr.tocoo()
    ok = np.isfinite(secs)
    rows = np.concatenate([coo.row, n + point[ok]])
    cols = np.concatenate([coo.col, node[ok]])
    w = np.concatenate([coo.data, secs[ok] + _MIN_EDGE_S])
    return RoadGraph._csr_min(rows, cols, w, n + m)


def _same_edge(graph: RoadGraph, s_snap: RoadSnap, p_snap: RoadSnap) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source, point, seconds) of the pairs on the same edge, driven along it (forwards only when one-way)."""
    e = graph.edges
    s_order = np.argsort(s_snap.edge, kind="stable")
    s_edge = s_snap.edge[s_order]
    pe = p_snap.edge
    lo = np.searchsorted(s_edge, pe, side="left")
    hi = np.searchsorted(s_edge, pe, side="right")
    count = hi - lo
    if not count.any():
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    j = np.repeat(np.arange(len(pe)), count)
    si = s_order[np.repeat(lo, count) + np.arange(len(j)) - np.repeat(np.cumsum(count) - count, count)]
    df = p_snap.frac[j] - s_snap.frac[si]
    secs = (s_snap.dist_m[si] + p_snap.dist_m[j]) / graph._access_ms + np.abs(df) * e.t[pe[j]]
    secs[(df < 0) & e.oneway[pe[j]]] = np.inf
    return si, j, secs


def nearest_source(graph: RoadGraph, points_xy, sources_xy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Travel time in seconds from the nearest source to each point, *which* source it is, and the point's off-road
    metres: :meth:`RoadGraph.reach_seconds` with the source's index.

    One multi-source Dijkstra (``scipy.sparse.csgraph.dijkstra(..., min_only=True, return_predecessors=True)``,
    which also returns the source each node was reached from) over the graph and one virtual node per source,
    joined to the ends of the edge it snaps to (its off-road leg and its share of the edge's time), so the
    answer is the same as ``reach_seconds``; a point on a source's edge is also reached along it, and a straight
    off-road trip from the nearest source (a k-d tree) is taken when it is shorter.

    Parameters
    ----------
    points_xy : (n, 2) points, metric CRS.
    sources_xy : (m, 2) points, metric CRS.

    Returns
    -------
    seconds : (n,) float array (``inf`` with no source).
    source : (n,) int array, index into ``sources_xy`` (-1 with no source).
    off_road_m : (n,) float array, as ``reach_seconds`` gives it.
    """
    pts = np.asarray(points_xy, dtype=float).reshape(-1, 2)
    src = np.asarray(sources_xy, dtype=float).reshape(-1, 2)
    if len(src) == 0 or len(pts) == 0:
        return np.full(len(pts), np.inf), np.full(len(pts), -1, np.int64), np.full(len(pts), np.nan)
    n, m = graph.n_nodes, len(src)
    s_snap = graph.snap_to_road(src)
    point, node, secs = graph._entries(s_snap)
    aug = _with_virtual(graph.csr, point, node, secs, m)
    dist, _, origin = csgraph.dijkstra(aug, directed=True, indices=n + np.arange(m), min_only=True,
                                       return_predecessors=True)
    node_t = np.asarray(dist[:n], dtype=float) - _MIN_EDGE_S
    node_s = np.where(origin[:n] >= n, origin[:n] - n, -1).astype(np.int64)
    p_snap = graph.snap_to_road(pts)
    u, su, v, sv, acc = _exits(graph, p_snap)
    via_u = node_t[u] + su
    via_v = node_t[v] + sv
    best = np.where(via_v < via_u, via_v, via_u)
    who = np.where(via_v < via_u, node_s[v], node_s[u])
    si, j, along = _same_edge(graph, s_snap, p_snap)
    if len(j):
        order = np.lexsort((along, j))  # per point, its fastest along-edge source first
        first = order[np.r_[True, j[order][1:] != j[order][:-1]]]
        take = along[first] < best[j[first]]
        best[j[first][take]] = along[first][take]
        who[j[first][take]] = si[first][take]
    walk_m, near = cKDTree(src).query(pts)
    walk_m = np.asarray(walk_m, dtype=float)
    walk = walk_m / graph._access_ms
    straight = walk < best
    return (np.where(straight, walk, best), np.where(straight, np.asarray(near, np.int64), who),
            np.where(straight, walk_m, p_snap.dist_m))


def times_within(graph: RoadGraph, sources_xy, points_xy, limit_s: float, *, chunk: int = _CHUNK
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (source, point) pair within ``limit_s`` seconds of travel, source to point (the same way as
    :meth:`RoadGraph.reach_seconds` measures one pair: snapped to the nearest point on a road, off-road legs at
    ``access_kmh``, along a shared edge, or a straight off-road trip when shorter).

    Bounded Dijkstra (``limit=``) from the smaller side, ``chunk`` starts per call: from each source over the
    graph when there are no more sources than points, else from each point over the reversed graph (the time
    from a node to the point). Each run stops at the limit, so a short limit touches a small part of the graph.

    Returns
    -------
    source, point : int arrays (indices into ``sources_xy`` / ``points_xy``), one entry per pair, sorted by
        source then point.
    seconds : float array, the pair's travel time (``<= limit_s``).
    """
    src = np.asarray(sources_xy, dtype=float).reshape(-1, 2)
    pts = np.asarray(points_xy, dtype=float).reshape(-1, 2)
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    if len(src) == 0 or len(pts) == 0 or not limit_s >= 0:
        return empty
    n = graph.n_nodes
    s_snap, p_snap = graph.snap_to_road(src), graph.snap_to_road(pts)
    s_point, s_node, s_secs = graph._entries(s_snap)  # source -> node
    u, su, v, sv, _ = _exits(graph, p_snap)  # node -> point
    found_s, found_p, found_t = [], [], []
    lim = float(limit_s) + _MIN_EDGE_S
    if len(src) <= len(pts):
        aug = _with_virtual(graph.csr, s_point, s_node, s_secs, len(src))
        for lo in range(0, len(src), chunk):
            ids = np.arange(lo, min(lo + chunk, len(src)))
            dist = csgraph.dijkstra(aug, directed=True, indices=n + ids, limit=lim)[:, :n] - _MIN_EDGE_S
            t = np.minimum(dist[:, u] + su, dist[:, v] + sv)
            r, c = np.nonzero(t <= limit_s)
            found_s.append(ids[r])
            found_p.append(c)
            found_t.append(t[r, c])
    else:
        rev = sparse.csr_matrix(graph.csr.T)
        p_idx = np.arange(len(pts))
        two = np.isfinite(sv)
        aug = _with_virtual(rev, np.concatenate([p_idx, p_idx[two]]), np.concatenate([u, v[two]]),
                            np.concatenate([su, sv[two]]), len(pts))
        for lo in range(0, len(pts), chunk):
            ids = np.arange(lo, min(lo + chunk, len(pts)))
            dist = csgraph.dijkstra(aug, directed=True, indices=n + ids, limit=lim)[:, :n] - _MIN_EDGE_S
            # per source: the best of its entries (to the edge's end, and its start when two-way)
            t = np.full((len(src), len(ids)), np.inf)
            np.minimum.at(t, s_point, (dist[:, s_node] + s_secs).T)
            t = t.T
            r, c = np.nonzero(t <= limit_s)
            found_s.append(c)
            found_p.append(ids[r])
            found_t.append(t[r, c])
    si, pj, along = _same_edge(graph, s_snap, p_snap)
    found_s.append(si)
    found_p.append(pj)
    found_t.append(along)
    walk = cKDTree(src).sparse_distance_matrix(cKDTree(pts), float(limit_s) * graph._access_ms,
                                               output_type="coo_matrix")
    found_s.append(walk.row.astype(np.int64))
    found_p.append(walk.col.astype(np.int64))
    found_t.append(walk.data / graph._access_ms)
    # (sparse_distance_matrix leaves out zero distances: a source exactly on a point)
    zd, zi = cKDTree(src).query(pts)
    zero = np.flatnonzero(np.asarray(zd) == 0)
    found_s.append(np.asarray(zi, np.int64)[zero])
    found_p.append(zero)
    found_t.append(np.zeros(len(zero)))
    s_all = np.concatenate(found_s).astype(np.int64)
    p_all = np.concatenate(found_p).astype(np.int64)
    t_all = np.concatenate(found_t)
    ok = t_all <= limit_s
    s_all, p_all, t_all = s_all[ok], p_all[ok], t_all[ok]
    if len(t_all) == 0:
        return empty
    order = np.lexsort((t_all, p_all, s_all))
    s_all, p_all, t_all = s_all[order], p_all[order], t_all[order]
    first = np.r_[True, (s_all[1:] != s_all[:-1]) | (p_all[1:] != p_all[:-1])]
    return s_all[first], p_all[first], t_all[first]
