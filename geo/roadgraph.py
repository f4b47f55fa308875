"""Road graph: travel times over a road network in a metric CRS.

Nodes are the vertices of the road lines (so two roads meet where they share a vertex), snapped by rounding the
coordinates to ``snap_m`` metres. An edge joins two consecutive vertices of a line; its weight is the travel time
in seconds (length / speed). Parallel edges keep the fastest. Shortest paths use ``scipy.sparse.csgraph.dijkstra``
on a directed CSR matrix (two-way roads are stored in both directions, one-way roads in the drawing direction).

Points off the network are snapped to the nearest node of the largest strongly connected component (so every
snapped pair has a finite time) and the snap distance is walked at ``access_kmh`` (a low speed: parking, walking
to the door). A straight walk between two points is used when it is shorter than going through the network.

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


@dataclass(frozen=True, eq=False)
class RoadGraph:
    """A directed road graph with travel times in seconds.

    Attributes
    ----------
    nodes_xy : (N, 2) float array, node coordinates in the metric CRS of the input lines (metres).
    csr : scipy.sparse.csr_matrix (N, N), edge travel time in seconds (directed).
    snappable : (N,) bool array, nodes in the largest strongly connected component (snap targets).
    access_kmh : speed used for the snap distance and for a straight walk, km/h.
    """

    nodes_xy: np.ndarray
    csr: sparse.csr_matrix
    snappable: np.ndarray
    access_kmh: float = 5.0

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
        access_kmh : speed for the distance between a point and its snapped node, km/h.
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
        return cls(nodes_xy=nodes_xy, csr=csr, snappable=snappable, access_kmh=float(access_kmh))

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

    def min_time_from(self, src_xy) -> np.ndarray:
        """Shortest travel time in seconds from the nearest of several source points to every node.

        The snap walk of each source is included (a virtual node joined to each source's snapped node).
        Nodes outside the largest strongly connected component may be ``inf``.

        Parameters
        ----------
        src_xy : (n, 2) points, metric CRS.

        Returns
        -------
        (N,) float array of seconds, one per node (aligned with ``nodes_xy``).
        """
        src = np.asarray(src_xy, dtype=float).reshape(-1, 2)
        n = self.n_nodes
        if len(src) == 0:
            return np.full(n, np.inf)
        s_node, s_d = self.snap(src)
        walk = s_d / self._access_ms + _MIN_EDGE_S  # strictly positive; taken off again below
        coo = self.csr.tocoo()
        rows = np.concatenate([coo.row, np.full(len(s_node), n)])
        cols = np.concatenate([coo.col, s_node])
        w = np.concatenate([coo.data, walk])
        aug = self._csr_min(rows, cols, w, n + 1)
        dist = csgraph.dijkstra(aug, directed=True, indices=n)
        return np.asarray(dist[:n], dtype=float) - _MIN_EDGE_S

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
