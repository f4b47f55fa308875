"""Reach over the road layer: bases and cell centres join the road at the nearest point on it (the edge split
there), the off-road leg at RISKMAP_ACCESS_SPEED_KMH; one-way edges only forwards. Hand-made roads whose
answers are known to the second; and an inspection of a closed enterprise reported as such."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.roadgraph import RoadGraph
from layers.settings import Settings, SettingsInvalid
from tests.test_coverage_core import TO_M, X0, Y0, _cell_centre_m, enterprises, inspections, ll, run, teams


def _lines(*coords):
    return np.array([shapely.LineString(c) for c in coords], dtype=object)


def _straight(access_kmh: float = 3.6) -> RoadGraph:
    """One straight road A(0,0)-B(10000,0) at 36 km/h (10 m/s) with no vertex between: its two vertices are
    5 km from its middle. Off-road at 3.6 km/h = 1 m/s unless told."""
    return RoadGraph.from_lines(_lines([(0, 0), (10_000, 0)]), [36], access_kmh=access_kmh)


# -- geo: the nearest point on a road ---------------------------------------------------------------

def test_a_point_40_m_from_the_middle_of_a_long_road_is_reached_by_the_middle_not_a_far_vertex():
    g = _straight()
    snap = g.snap_to_road([(5000, 40)])
    assert (int(snap.edge[0]), snap.frac[0], snap.dist_m[0]) == (0, pytest.approx(0.5), pytest.approx(40))
    t, off = g.reach_seconds([(5000, 40)], [(0, 0)])
    assert t[0] == pytest.approx(5000 / 10 + 40 / 1)  # 500 s driving to the middle + 40 s off-road
    assert off[0] == pytest.approx(40)
    # snapped to the nearest vertex (5 km away), the same point was a 5 km walk
    assert g.matrix([(0, 0)], [(5000, 40)])[0, 0] == pytest.approx(np.hypot(5000, 40))


def test_the_access_speed_sets_the_off_road_leg():
    assert _straight(7.2).reach_seconds([(5000, 40)], [(0, 0)])[0][0] == pytest.approx(500 + 40 / 2)
    assert _straight(18).reach_seconds([(5000, 40)], [(0, 0)])[0][0] == pytest.approx(500 + 40 / 5)


def test_a_base_beside_the_middle_of_an_edge_joins_it_there():
    g = _straight()
    # base 30 m off the middle; to vertex B: 30 s off-road + 500 s along half the road
    t, _ = g.reach_seconds([(10_000, 0)], [(5000, -30)])
    assert t[0] == pytest.approx(30 + 500)
    np.testing.assert_allclose(np.sort(g.min_time_from([(5000, -30)])), [530, 530])
    # a point on the same edge, 100 m further along: straight along the edge, not out to a vertex and back
    t, _ = g.reach_seconds([(5100, 40)], [(5000, -30)])
    assert t[0] == pytest.approx(30 + 10 + 40)
    # the nearest of several bases wins
    t, _ = g.reach_seconds([(5100, 40), (9000, 0)], [(0, 0), (5000, -30)])
    np.testing.assert_allclose(t, [80, 30 + 400])


def test_one_way_edges_are_only_driven_forwards_from_the_split_point():
    # A -> B one way (10 km at 10 m/s); back from B only by a two-way detour B-(10000,100)-(0,100)-A
    g = RoadGraph.from_lines(_lines([(0, 0), (10_000, 0)], [(10_000, 0), (10_000, 100), (0, 100), (0, 0)]),
                             [36, 36], oneway=[True, False], access_kmh=3.6)
    # forwards: 10 s off-road, 200 s along, 10 s off-road
    assert g.reach_seconds([(6000, -10)], [(4000, -10)])[0][0] == pytest.approx(10 + 200 + 10)
    # backwards: on to B (400 s), round the detour (10 + 1000 + 10 s), A to the point (400 s); a 2 km walk
    # (2000 s) would be longer
    assert g.reach_seconds([(4000, -10)], [(6000, -10)])[0][0] == pytest.approx(10 + 400 + 1020 + 400 + 10)
    # a base mid-way on the one-way edge enters the network at B only
    t = g.min_time_from([(6000, -10)])
    a = int(np.flatnonzero((g.nodes_xy == [0, 0]).all(axis=1))[0])
    b = int(np.flatnonzero((g.nodes_xy == [10_000, 0]).all(axis=1))[0])
    assert t[b] == pytest.approx(410) and t[a] == pytest.approx(410 + 1020)


def test_a_straight_off_road_trip_wins_when_shorter():
    g = _straight()
    # two points 50 m and 60 m off the road, 20 m apart: 20 s straight beats 50 + 60 s via the road
    t, off = g.reach_seconds([(5000, 60)], [(5000, 40)])
    assert t[0] == pytest.approx(20) and off[0] == pytest.approx(20)


def test_snapping_is_exact_against_geos_on_a_random_network():
    rng = np.random.default_rng(3)
    # a jittered 8 x 8 grid of streets (long edges, few vertices), some far-off points too
    xs = np.linspace(0, 7000, 8)
    lines = [[(x + rng.normal(0, 30), y0), (x + rng.normal(0, 30), y0 + 1000)] for x in xs for y0 in xs[:-1]]
    lines += [[(x0, y + rng.normal(0, 30)), (x0 + 1000, y + rng.normal(0, 30))] for y in xs for x0 in xs[:-1]]
    g = RoadGraph.from_lines(_lines(*lines), np.full(len(lines), 30.0), snap_m=50)
    pts = np.vstack([rng.uniform(-500, 7500, (4000, 2)), rng.uniform(-20_000, 27_000, (200, 2))])
    snap = g.snap_to_road(pts)
    segs = shapely.linestrings(np.stack([g.edges.a, g.edges.b], axis=1))
    expected = shapely.distance(shapely.points(pts)[:, None], segs[None, :]).min(axis=1)
    np.testing.assert_allclose(snap.dist_m, expected, rtol=0, atol=1e-6)
    on = g.edges.a[snap.edge] + snap.frac[:, None] * (g.edges.b[snap.edge] - g.edges.a[snap.edge])
    np.testing.assert_allclose(np.hypot(*(pts - on).T), snap.dist_m, atol=1e-6)


def test_a_point_beside_a_detached_road_joins_the_main_network():
    g = RoadGraph.from_lines(_lines([(0, 0), (1000, 0)], [(5000, 50), (5100, 50)]), [36, 36], access_kmh=3.6)
    snap = g.snap_to_road([(5050, 50)])
    assert snap.dist_m[0] == pytest.approx(np.hypot(4050, 50))
    assert np.isfinite(g.reach_seconds([(5050, 50)], [(0, 0)])[0]).all()


# -- coverage: cells, the setting, the reason -------------------------------------------------------

def _road() -> gpd.GeoDataFrame:
    """A straight 30 km road along y = 0 at 40 km/h with vertices only every 10 km."""
    return gpd.GeoDataFrame({"id": ["R1"], "road_class": ["primary"], "speed_kmh": [40.0], "oneway": [False]},
                            geometry=[shapely.LineString([ll(x, 0) for x in range(0, 30_001, 10_000)])], crs=4326)


def _road_city(**settings):
    """:func:`_road`, a base at its west end and an enterprise 20 km along it and 1.5 km to the north."""
    road = _road()
    e = enterprises([{"id": "E", "grade": "low", "xy": (20_000, 1500)}])
    return run({"enterprises": e, "teams": teams([(0, 0)]), "roads": road,
                "inspections": inspections([("E", "2025-09-01")])}, settings=Settings(**settings))


def test_the_access_speed_setting_changes_the_cells_reach_and_the_reason_says_so():
    cx, cy = _cell_centre_m(20_000, 1500)
    along, off = cx - X0, cy - Y0
    assert off > 1000  # the cell centre is well off the road: its leg matters
    slow = _road_city(access_speed_kmh=5)
    fast = _road_city()  # default 15 km/h
    for r, kmh in ((slow, 5), (fast, 15)):
        cell = r.cells.iloc[0]
        assert cell["travel_min"] * 60 == pytest.approx(along / (40 / 3.6) + off / (kmh / 3.6), abs=0.01)
        assert cell["off_road_m"] == pytest.approx(off, abs=0.01)
        assert r.reach["access_speed_kmh"] == kmh
    # 30 min along the road: out of reach either way; the reason names the off-road leg and its speed
    bl = slow.blind_spots.iloc[0]
    assert bl["kind"] == "out_of_reach"
    leg = off / (5 / 3.6) / 60
    assert f"（其中网格中心离最近道路 {off:.0f} 米，按 5 km/h 约 {leg:.0f} 分钟）" in bl["reason_zh"]
    assert f"(of which {off:.0f} m from the cell centre to the nearest road at 5 km/h, {leg:.0f} min)" \
        in bl["reason_en"]
    # a longer reach limit brings it in at 15 km/h but not at 5 km/h
    lim = (along / (40 / 3.6) + off / (10 / 3.6)) / 60
    assert _road_city(reach_minutes=lim).cells["in_reach"].iloc[0]
    assert not _road_city(reach_minutes=lim, access_speed_kmh=5).cells["in_reach"].iloc[0]


def test_a_base_beside_the_middle_of_a_road_in_coverage():
    # base 200 m south of the road's middle (15 km, 5 km from each vertex); the cell near 16 km is reached along
    # the road from there, not via a vertex 5 km away
    e = enterprises([{"id": "E", "grade": "low", "xy": (16_000, 0)}])
    r = run({"enterprises": e, "teams": teams([(15_000, -200)]), "roads": _road(),
             "inspections": inspections([("E", "2025-09-01")])})
    cx, cy = _cell_centre_m(16_000, 0)
    bx, by = TO_M.transform(*ll(15_000, -200))
    expected = abs(by - Y0) / (15 / 3.6) + abs(cx - bx) / (40 / 3.6) + abs(cy - Y0) / (15 / 3.6)
    assert r.cells["travel_min"].iloc[0] * 60 == pytest.approx(expected, abs=0.01)
    assert r.cells["travel_min"].iloc[0] < 5


def test_the_access_speed_setting_is_validated():
    assert Settings.from_env({"RISKMAP_ACCESS_SPEED_KMH": "5"}).access_speed_kmh == 5.0
    for bad in ("0", "-3", "abc", "61"):
        with pytest.raises(SettingsInvalid, match="RISKMAP_ACCESS_SPEED_KMH"):
            Settings.from_env({"RISKMAP_ACCESS_SPEED_KMH": bad})


# -- a closed enterprise's inspections ---------------------------------------------------------------

def test_a_closed_enterprises_inspection_has_its_own_kind_not_target_not_found():
    e = enterprises([{"id": "OPEN", "grade": "major", "xy": (1000, 0)},
                     {"id": "SHUT", "grade": "major", "xy": (1200, 0), "status": "closed"}])
    r = run({"enterprises": e, "teams": teams([(0, 0)]),
             "inspections": inspections([("OPEN", "2025-09-20"), ("SHUT", "2025-09-01"), ("SHUT", "2025-08-01"),
                                         ("GONE", "2025-09-01")])})
    ign = r.ignored_inspections.set_index("kind")
    assert ign["count"].to_dict() == {"future": 0, "after_as_of": 0, "no_date": 0, "unknown_target": 1,
                                      "closed_enterprise": 2}
    assert ign.loc["closed_enterprise", "reason_zh"] == "检查对象为已关闭企业，不计入覆盖统计"
    assert ign.loc["closed_enterprise", "reason_en"] == "target is a closed enterprise, left out of coverage"
    assert ign.loc["unknown_target", "reason_en"] == "target object not found"
    # still left out of every gap kind
    assert set(r.dead_corners["id"]) == set() and "SHUT" not in set(r.supervision_gaps.get("id", []))
    assert r.summary["objects"] == 1
