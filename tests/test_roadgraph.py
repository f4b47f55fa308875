"""Road graph: shortest travel times on tiny hand-made networks whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.roadgraph import RoadGraph


def _lines(*coords):
    return np.array([shapely.LineString(c) for c in coords], dtype=object)


@pytest.fixture
def square() -> RoadGraph:
    """A 1 km square A(0,0) B(1000,0) C(1000,1000) D(0,1000) at 36 km/h (10 m/s), plus a slow
    diagonal A-C at 3.6 km/h (1 m/s, 1414 s) that is never the fastest way."""
    return RoadGraph.from_lines(
        _lines(
            [(0, 0), (1000, 0)],
            [(1000, 0), (1000, 1000)],
            [(1000, 1000), (0, 1000)],
            [(0, 1000), (0, 0)],
            [(0, 0), (1000, 1000)],
        ),
        [36, 36, 36, 36, 3.6],
    )


def test_nodes_and_edges(square):
    assert square.n_nodes == 4
    assert square.n_edges == 10  # five two-way lines


def test_matrix_on_nodes(square):
    pts = [(0, 0), (1000, 0), (1000, 1000)]
    m = square.matrix(pts)
    expected = np.array([[0, 100, 200], [100, 0, 100], [200, 100, 0]], dtype=float)
    np.testing.assert_allclose(m, expected, atol=1e-6)


def test_fast_diagonal_wins():
    g = RoadGraph.from_lines(
        _lines([(0, 0), (1000, 0)], [(1000, 0), (1000, 1000)], [(0, 0), (1000, 1000)]), [36, 36, 72]
    )
    # diagonal 1414.2 m at 20 m/s = 70.7 s, beats 200 s around
    assert g.matrix([(0, 0)], [(1000, 1000)])[0, 0] == pytest.approx(np.hypot(1000, 1000) / 20)


def test_snap_distance_walked_at_access_speed():
    # 36 m off the road next to B, walked at 3.6 km/h = 1 m/s each end
    g = RoadGraph.from_lines(_lines([(0, 0), (1000, 0)]), [36], access_kmh=3.6)
    node, dist = g.snap([(1000, 36)])
    assert dist[0] == pytest.approx(36)
    assert g.nodes_xy[node[0]].tolist() == [1000, 0]
    t = g.matrix([(0, -10)], [(1000, 36)])[0, 0]
    assert t == pytest.approx(10 + 100 + 36)


def test_straight_walk_when_shorter(square):
    # two points 2 m apart near the middle of A-B: walking is shorter than driving to the corners
    t = square.matrix([(500, 1)], [(502, 1)])[0, 0]
    assert t == pytest.approx(2 / (5 / 3.6))


def test_oneway():
    # A -> B one way (10 s), B -> A only by a long two-way detour via C
    g = RoadGraph.from_lines(
        _lines([(0, 0), (100, 0)], [(100, 0), (100, 100)], [(100, 100), (0, 0)]),
        [36, 36, 36],
        oneway=[True, False, False],
    )
    m = g.matrix([(0, 0), (100, 0)])
    assert m[0, 1] == pytest.approx(10)
    assert m[1, 0] == pytest.approx(10 + np.hypot(100, 100) / 10)


def test_parallel_edges_keep_fastest():
    g = RoadGraph.from_lines(_lines([(0, 0), (100, 0)], [(0, 0), (100, 0)]), [36, 72])
    assert g.n_edges == 2
    assert g.matrix([(0, 0)], [(100, 0)])[0, 0] == pytest.approx(5)


def test_vertices_snapped_within_half_metre():
    # the second line starts 0.2 m from where the first ends: one node there
    g = RoadGraph.from_lines(_lines([(0, 0), (100, 0)], [(100.2, 0), (200, 0)]), [36, 36])
    assert g.n_nodes == 3
    assert g.matrix([(0, 0)], [(200, 0)])[0, 0] == pytest.approx(20, abs=0.05)


def test_isolated_piece_is_not_a_snap_target():
    # a far-away little road is not connected; a point next to it snaps to the big component
    g = RoadGraph.from_lines(
        _lines([(0, 0), (100, 0)], [(100, 0), (200, 0)], [(5000, 5000), (5001, 5000)]), [36, 36, 36]
    )
    node, _ = g.snap([(5000, 5000)])
    assert g.nodes_xy[node[0]].tolist() == [200, 0]
    assert np.isfinite(g.matrix([(5000, 5000)], [(0, 0)])).all()


def test_min_time_from_multi_source(square):
    t = square.min_time_from([(0, 0), (1000, 1000)])
    order = np.lexsort((square.nodes_xy[:, 1], square.nodes_xy[:, 0]))
    # nodes sorted: A(0,0) D(0,1000) B(1000,0) C(1000,1000)
    np.testing.assert_allclose(t[order], [0, 100, 100, 0], atol=1e-6)


def test_path_follows_roads(square):
    legs = square.paths_xy([(0, 0), (1000, 1000), (0, 0)])
    assert len(legs) == 2
    # via B or D, never the slow diagonal: three distinct corners on the way
    inner = legs[0][1:-1]
    assert len(inner) == 3
    assert inner[1].tolist() in ([1000, 0], [0, 1000])


def test_bad_speed_is_rejected():
    with pytest.raises(ValueError, match="speed_kmh"):
        RoadGraph.from_lines(_lines([(0, 0), (1, 0)]), [0])
