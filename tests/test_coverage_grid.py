"""Vectorised H3 cells equal h3's own answer, KD-tree reach, point-in-polygon on borders, and MCLP siting."""

from __future__ import annotations

import h3
import numpy as np
import pytest
import shapely
from scipy.spatial.distance import cdist

from geo import coverage as gcov
from geo import grid, siting


def test_latlng_to_cells_equals_h3_for_a_city_and_the_globe():
    rng = np.random.default_rng(3)
    lat = 30.6 + rng.uniform(-0.2, 0.2, 20_000)
    lng = 114.3 + rng.uniform(-0.25, 0.25, 20_000)
    assert (grid.latlng_to_cells(lat, lng, 8) == grid.latlng_to_cells_scalar(lat, lng, 8)).all()
    for res in range(16):
        la = np.degrees(np.arcsin(rng.uniform(-1, 1, 3000)))
        lo = rng.uniform(-180, 180, 3000)
        assert (grid.latlng_to_cells(la, lo, res) == grid.latlng_to_cells_scalar(la, lo, res)).all(), res


def test_points_on_cell_edges_and_vertices_get_h3s_answer():
    # every vertex of some cells, and points a hair either side of each edge midpoint
    cells = grid.latlng_to_cells(np.array([30.6, 30.61, -33.9, 64.1]), np.array([114.3, 114.31, 18.4, -21.9]), 8)
    pts = []
    for c in cells:
        b = np.array(h3.cell_to_boundary(h3.int_to_str(int(c))))
        pts.extend(b)
        mids = (b + np.roll(b, -1, axis=0)) / 2
        centre = np.array(h3.cell_to_latlng(h3.int_to_str(int(c))))
        for eps in (-1e-12, 0.0, 1e-12, 1e-9):
            pts.extend(mids + eps * (mids - centre))
    pts = np.array(pts)
    got = grid.latlng_to_cells(pts[:, 0], pts[:, 1], 8)
    want = np.array([h3.str_to_int(h3.latlng_to_cell(a, b, 8)) for a, b in pts], dtype=np.uint64)
    assert (got == want).all()


def test_cell_strings_and_polygons():
    c = grid.latlng_to_cells(np.array([30.6]), np.array([114.3]), 8)
    s = grid.cells_to_str(c)
    assert s[0] == h3.latlng_to_cell(30.6, 114.3, 8)
    assert (grid.str_to_cells(s) == c).all()
    poly = grid.cells_to_polygons(c)[0]
    assert poly.contains(shapely.Point(114.3, 30.6))
    assert poly.area > 0


def test_latlng_to_cells_rejects_bad_input():
    with pytest.raises(ValueError, match="finite"):
        grid.latlng_to_cells(np.array([np.nan]), np.array([1.0]), 8)
    with pytest.raises(ValueError, match="resolution"):
        grid.latlng_to_cells(np.array([1.0]), np.array([1.0]), 16)
    assert len(grid.latlng_to_cells(np.empty(0), np.empty(0), 8)) == 0


def test_overdue_days_boundary_and_never():
    last = np.array([100, 99, gcov.NO_DAY])
    since, over, dead = gcov.overdue_days(last, np.array([30, 30, 30]), as_of_day=130, horizon_day=100)
    assert since.tolist() == [30, 31, -1]
    assert over.tolist() == [0, 1, 30 + 30]
    assert dead.tolist() == [False, True, True]


def test_latest_per_group_skips_negative_groups():
    out = gcov.latest_per_group(np.array([0, 0, 2, -1]), np.array([5, 7, 1, 99]), 3)
    assert out.tolist() == [7, gcov.NO_DAY, 1]


def test_reach_exactly_at_the_limit_is_within():
    d, idx = gcov.nearest_base_distance(np.array([[0.0, 0.0], [10.0, 0.0]]), np.array([[3.0, 4.0], [100.0, 0.0]]))
    assert d.tolist() == [5.0, pytest.approx(np.hypot(7, 4))] and idx.tolist() == [0, 0]
    t = gcov.straight_travel_seconds(np.array([1000.0]), speed_kmh=36.0, detour_factor=1.5)
    assert t.tolist() == [150.0]
    assert gcov.within(np.array([150.0, 150.0 + 1e-7, 150.01]), 150.0).tolist() == [True, True, False]
    assert np.isinf(gcov.nearest_base_distance(np.zeros((2, 2)), np.empty((0, 2)))[0]).all()


def test_locate_points_prefers_the_registered_district_on_a_shared_border():
    a = shapely.box(0, 0, 1, 1)
    b = shapely.box(1, 0, 2, 1)
    x = np.array([0.5, 1.0, 1.0, 1.5, 3.0])
    y = np.array([0.5, 0.5, 0.5, 0.5, 0.5])
    assert gcov.locate_points(x, y, [a, b]).tolist() == [0, 0, 0, 1, -1]
    prefer = np.array([-1, 1, 0, 0, 0])
    assert gcov.locate_points(x, y, [a, b], prefer=prefer).tolist() == [0, 1, 0, 1, -1]


def test_locate_points_by_cell_gives_the_point_by_point_answer():
    # districts of a city (one overlapping another, one with a hole) and points in H3 cells, many of them on
    # the borders, at the cells' vertices, and a hair either side; the cell areas decide most points at once
    rng = np.random.default_rng(11)
    polys = [shapely.box(114.20, 30.50, 114.30, 30.60),
             shapely.box(114.30, 30.50, 114.40, 30.60).difference(shapely.Point(114.35, 30.55).buffer(0.01)),
             shapely.Point(114.30, 30.60).buffer(0.03),  # overlaps both
             None, shapely.Polygon()]
    lon = rng.uniform(114.18, 114.42, 40_000)
    lat = rng.uniform(30.48, 30.62, 40_000)
    edge = rng.random(40_000) < 0.2  # on a border
    lon[edge] = rng.choice([114.20, 114.30, 114.40], edge.sum())
    lat[edge & (rng.random(40_000) < 0.5)] = 30.60
    cells = grid.latlng_to_cells(lat, lon, 8)
    verts = np.array([p for c in np.unique(cells)[:30] for p in h3.cell_to_boundary(h3.int_to_str(int(c)))])
    lat = np.r_[lat, verts[:, 0], verts[:, 0] + 1e-12]
    lon = np.r_[lon, verts[:, 1], verts[:, 1] - 1e-12]
    cells = grid.latlng_to_cells(lat, lon, 8)
    codes, uniq = np.unique(cells, return_inverse=True)
    areas = grid.cells_to_polygons(codes, scale=1.2)
    prefer = rng.integers(-1, 4, len(lon))
    plain = gcov.locate_points(lon, lat, polys, prefer=prefer)
    grouped = gcov.locate_points(lon, lat, polys, prefer=prefer, groups=uniq, group_areas=areas)
    assert (plain == grouped).all()
    # unknown groups (-1) and missing areas are located point by point
    groups = np.where(rng.random(len(lon)) < 0.1, -1, uniq)
    areas[::7] = None
    assert (gcov.locate_points(lon, lat, polys, prefer=prefer, groups=groups, group_areas=areas) == plain).all()


def test_enlarged_cell_polygons_hold_every_point_of_their_cell():
    rng = np.random.default_rng(5)
    for res in (0, 2, 5, 8, 11):
        lat = np.degrees(np.arcsin(rng.uniform(-0.95, 0.95, 5000)))
        lng = rng.uniform(-170, 170, 5000)
        cells = grid.latlng_to_cells(lat, lng, res)
        uniq, inv = np.unique(cells, return_inverse=True)
        plain = grid.cells_to_polygons(uniq)
        assert all(shapely.equals_exact(p, shapely.Polygon(np.array(h3.cell_to_boundary(h3.int_to_str(int(c))))
                                                           [:, ::-1]), 0) for p, c in zip(plain[:50], uniq[:50], strict=True))
        big = grid.cells_to_polygons(uniq, scale=1.2)
        b = shapely.bounds(big)
        keep = (b[:, 2] - b[:, 0]) < 90  # not across the antimeridian
        sel = keep[inv]
        assert shapely.intersects_xy(big[inv[sel]], lng[sel], lat[sel]).all(), res


def test_greedy_and_exact_mclp_on_a_case_with_a_known_optimum():
    # demand on a line; radius 1: candidate 0 covers {0,1}, 1 covers {1,2,3}, 2 covers {3,4}
    demand = np.array([[0, 0], [1, 0], [2, 0], [3, 0], [4, 0]], float)
    cand = np.array([[0.5, 0], [2, 0], [3.5, 0]])
    w = np.array([5, 1, 1, 1, 5], float)
    cover = siting.cover_matrix_radius(demand, cand, 1.0)
    assert (cover.toarray() == (cdist(cand, demand) <= 1.0)).all()
    g = siting.greedy_mclp(w, cover, 2)
    e = siting.exact_mclp(w, cover, 2)
    assert sorted(e.chosen.tolist()) == [0, 2] and e.covered_weight == 12.0
    assert g.covered_weight <= e.covered_weight
    one = siting.greedy_mclp(w, cover, 1)
    assert one.chosen.tolist() == [0] and one.gained.tolist() == [6.0]


def test_greedy_is_close_to_the_optimum_on_random_cities():
    rng = np.random.default_rng(11)
    for _ in range(3):
        demand = rng.uniform(0, 10_000, (300, 2))
        w = rng.uniform(1, 10, 300)
        cover = siting.cover_matrix_radius(demand, demand[:120], 1500.0)
        g = siting.greedy_mclp(w, cover, 4)
        e = siting.exact_mclp(w, cover, 4)
        assert e.covered_weight >= g.covered_weight >= 0.63 * e.covered_weight
