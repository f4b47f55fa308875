"""Coverage gaps on small hand-made cities whose answers are known.

The cities are drawn in UTM zone 50N (EPSG:32650, metres) near lon 114.3, lat 30.6 and stored in WGS-84, as
the store keeps them. Default settings: major 30 days, high 90, moderate 180, low 365; reach 30 min at 30 km/h
with detour 1.3 (11,538.46 m straight line); window 365 days.
"""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import h3
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from layers.analysis.coverage import compute, compute_cached, compute_frames, read_frames, suggest_bases
from layers.settings import Settings
from layers.store import open_store

TO_M = Transformer.from_crs(4326, 32650, always_xy=True)
TO_LL = Transformer.from_crs(32650, 4326, always_xy=True)
X0, Y0 = TO_M.transform(114.30, 30.60)
AS_OF = date(2025, 9, 30)
TODAY = date(2025, 10, 15)
REACH_M = 30 / 3.6 * 30 * 60 / 1.3


def ll(x: float, y: float) -> tuple[float, float]:
    """lon, lat of a point given in metres from the city origin."""
    return TO_LL.transform(X0 + x, Y0 + y)


def pt(x: float, y: float) -> shapely.Point:
    return shapely.Point(*ll(x, y))


def square(x0: float, y0: float, x1: float, y1: float) -> shapely.MultiPolygon:
    ring = [ll(x0, y0), ll(x1, y0), ll(x1, y1), ll(x0, y1)]
    return shapely.MultiPolygon([shapely.Polygon(ring)])


def districts() -> gpd.GeoDataFrame:
    """Two districts side by side, split along the meridian 114.30 (x = 0): A west, B east, about 20 km
    tall and wide."""
    return gpd.GeoDataFrame({"code": ["420101", "420102"], "name": ["甲区", "乙区"], "name_en": ["A", "B"]},
                            geometry=[shapely.MultiPolygon([shapely.box(114.09, 30.51, 114.30, 30.69)]),
                                      shapely.MultiPolygon([shapely.box(114.30, 30.51, 114.51, 30.69)])], crs=4326)


def enterprises(rows: list[dict]) -> gpd.GeoDataFrame:
    base = {"status": "operating", "grade": "low", "district_code": "420102", "town_code": None}
    recs = [{**base, "name": r.get("id"), **{k: v for k, v in r.items() if k not in ("xy", "lonlat")}}
            for r in rows]
    geoms = [shapely.Point(*r["lonlat"]) if "lonlat" in r else pt(*r["xy"]) for r in rows]
    return gpd.GeoDataFrame(pd.DataFrame(recs), geometry=geoms, crs=4326)


def inspections(rows: list[tuple[str, str]], layer: str = "enterprises") -> pd.DataFrame:
    return pd.DataFrame({"id": [f"I{i}" for i in range(len(rows))], "target_layer": layer,
                         "target_id": [r[0] for r in rows], "date": pd.to_datetime([r[1] for r in rows])})


def teams(xys: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": [f"T{i}" for i in range(len(xys))], "name": [f"组{i}" for i in range(len(xys))]},
                            geometry=[pt(*xy) for xy in xys], crs=4326)


def run(frames: dict, **kw):
    kw.setdefault("as_of", AS_OF)
    kw.setdefault("today", TODAY)
    kw.setdefault("settings", Settings())
    return compute_frames(frames, **kw)


def dead_ids(result) -> set[str]:
    return set(result.dead_corners["id"])


# -- dead corners ---------------------------------------------------------------------------------------

def test_exactly_at_the_interval_is_in_time_one_day_more_is_a_dead_corner():
    e = enterprises([{"id": "E30", "grade": "major", "xy": (1000, 0)},
                     {"id": "E31", "grade": "major", "xy": (1000, 100)},
                     {"id": "L365", "grade": "low", "xy": (1000, 200)}])
    r = run({"enterprises": e, "districts": districts(),
             "inspections": inspections([("E30", "2025-08-31"), ("E31", "2025-08-30"), ("L365", "2024-09-30")]),
             "teams": teams([(0, 0)])})
    assert dead_ids(r) == {"E31"}
    row = r.dead_corners.iloc[0]
    assert (row["days_since"], row["days_overdue"], row["interval_days"]) == (31, 1, 30)
    assert row["score"] == 10.0  # major weight 10 x 1 day
    assert row["reason_zh"] == "上次检查 2025-08-30，已 31 天；红色（重大）风险要求 30 天"
    assert row["reason_en"] == "last inspected 2025-08-30, 31 days ago; red (major) grade requires 30 days"


def test_never_inspected_is_overdue_interval_plus_days_since_the_horizon():
    e = enterprises([{"id": "N", "grade": "high", "xy": (1000, 0)}, {"id": "S", "grade": "low", "xy": (1000, 50)}])
    # the earliest inspection that counts (2025-01-01) is the horizon: 272 days before the as-of date
    r = run({"enterprises": e, "districts": districts(), "inspections": inspections([("S", "2025-01-01")]),
             "teams": teams([(0, 0)])})
    row = r.dead_corners.set_index("id").loc["N"]
    assert row["days_overdue"] == 90 + (AS_OF - date(2025, 1, 1)).days
    assert row["days_since"] == -1 and pd.isna(row["last_inspection"])
    assert row["reason_zh"].startswith("从未检查；橙色（较大）风险要求 90 天")
    assert r.reach["horizon"] == "2025-01-01"


def test_an_inspection_dated_in_the_future_is_ignored_and_reported():
    e = enterprises([{"id": "F", "grade": "major", "xy": (1000, 0)}, {"id": "G", "grade": "major", "xy": (900, 0)}])
    r = run({"enterprises": e, "districts": districts(), "teams": teams([(0, 0)]),
             "inspections": inspections([("F", "2025-12-01"),   # after today: reported
                                         ("G", "2025-10-05"),   # after as-of, before today: not counted
                                         ("X", "2025-09-01")])})  # no such object
    assert dead_ids(r) == {"F", "G"}
    counts = r.ignored_inspections.set_index("kind")["count"].to_dict()
    assert counts == {"future": 1, "after_as_of": 1, "no_date": 0, "unknown_target": 1, "closed_enterprise": 0}
    fut = r.future_inspections
    assert list(fut["target_id"]) == ["F"] and fut["reason_en"].iloc[0] == "dated 2025-12-01, after today 2025-10-15"


def test_as_of_a_past_date_counts_only_what_had_happened_by_then():
    e = enterprises([{"id": "M", "grade": "major", "xy": (1000, 0)}])
    hz = pd.DataFrame({"target_layer": "enterprises", "target_id": ["M", "M", "M"], "level": ["major", "general", "major"],
                       "found_date": pd.to_datetime(["2025-01-10", "2025-02-01", "2025-06-01"]),
                       "status": ["closed", "open", "closed"],
                       "closed_date": pd.to_datetime(["2025-03-01", None, None])})
    frames = {"enterprises": e, "districts": districts(), "teams": teams([(0, 0)]), "hazards": hz,
              "inspections": inspections([("M", "2025-02-10"), ("M", "2025-09-20")])}
    now = run(frames)
    assert dead_ids(now) == set()
    then = run(frames, as_of=date(2025, 2, 20))
    assert dead_ids(then) == set()  # inspected 10 days before
    row = run(frames, as_of=date(2025, 4, 1)).dead_corners.iloc[0]
    # as of 2025-04-01: the 2025-09-20 inspection has not happened; the first major hazard was closed on
    # 2025-03-01; the general one is open; the third (closed, no date) does not exist yet
    assert (row["last_inspection"], row["days_since"]) == ("2025-02-10", 50)
    assert (row["open_major_hazards"], row["open_general_hazards"]) == (0, 1)
    assert row["weight"] == 10.0 + 1.0
    row = run(frames, as_of=date(2025, 2, 15)).dead_corners
    assert len(row) == 0
    feb = run({**frames, "inspections": inspections([])}, as_of=date(2025, 2, 15)).dead_corners.iloc[0]
    assert (feb["open_major_hazards"], feb["open_general_hazards"], feb["weight"]) == (1, 1, 10.0 + 8.0 + 1.0)


def test_intervals_and_weights_of_venues_gas_stations_and_bridges():
    venues = gpd.GeoDataFrame({"id": ["V1", "V2", "V3"], "name": ["KTV小", "KTV大", "酒店"], "kind": ["ktv", "ktv", "hotel"],
                               "capacity": pd.array([200, 1500, 100], dtype="Int64"), "district_code": "420102",
                               "town_code": None}, geometry=[pt(1000, 0), pt(1100, 0), pt(1200, 0)], crs=4326)
    gas = gpd.GeoDataFrame({"id": ["G1", "G2"], "name": ["a", "b"], "kind": "regulator", "pressure": ["high", "low"],
                            "condition_class": [None, "4"], "district_code": "420102", "town_code": None},
                           geometry=[pt(1300, 0), pt(1400, 0)], crs=4326)
    line = shapely.LineString([ll(2000, 0), ll(2400, 0)])
    bridges = gpd.GeoDataFrame({"id": ["B1"], "name": ["桥"], "condition_class": ["5"], "district_code": "420102",
                                "town_code": None}, geometry=[line], crs=4326)
    r = run({"venues": venues, "gas_stations": gas, "bridges": bridges, "districts": districts(),
             "teams": teams([(0, 0)]), "inspections": inspections([("B1", "2025-01-01")], layer="bridges")})
    dc = r.dead_corners.set_index("id")
    assert dc.loc["V1", ["grade", "interval_days", "weight"]].tolist() == ["high", 90, 5.0]
    assert dc.loc["V2", ["grade", "interval_days", "weight"]].tolist() == ["major", 30, 10.0]  # crowded: one up
    assert dc.loc["V3", ["grade", "interval_days"]].tolist() == ["low", 365]
    assert dc.loc["G1", ["grade", "interval_days"]].tolist() == ["high", 90]  # high pressure, no class
    assert dc.loc["G2", ["grade", "interval_days"]].tolist() == ["high", 60]  # class 4: 60 days
    assert dc.loc["B1", ["grade", "interval_days", "days_since"]].tolist() == ["major", 30, 272]
    assert dc.loc["B1", "reason_zh"] == "上次检查 2025-01-01，已 272 天；5类技术状况要求 30 天"
    assert "crowded: one grade up" in dc.loc["V2", "reason_en"]
    # the bridge is placed at the middle of its line (in degrees: within a few millimetres of the metric one)
    assert dc.loc["B1"].geometry.distance(pt(2200, 0)) < 1e-6


def test_closed_enterprises_are_not_inspectable():
    e = enterprises([{"id": "C", "grade": "major", "status": "closed", "xy": (1000, 0)},
                     {"id": "S", "grade": "major", "status": "suspended", "xy": (1000, 10)}])
    r = run({"enterprises": e, "districts": districts(), "teams": teams([(0, 0)])})
    assert dead_ids(r) == {"S"} and r.summary["objects"] == 1


# -- blind spots --------------------------------------------------------------------------------------

def _cell_centre_m(x: float, y: float) -> tuple[float, float]:
    lon, lat = ll(x, y)
    clat, clon = h3.cell_to_latlng(h3.latlng_to_cell(lat, lon, 8))
    return TO_M.transform(clon, clat)


def test_a_cell_exactly_at_the_reach_limit_is_in_reach_one_metre_more_is_not():
    cx, cy = _cell_centre_m(5000, 0)
    e = enterprises([{"id": "E", "grade": "major", "xy": (5000, 0)}])
    insp = inspections([("E", "2025-09-29")])
    # a team base exactly REACH_M east of the cell centre
    base_at = gpd.GeoDataFrame({"id": ["T"], "name": ["组"]},
                               geometry=[shapely.Point(*TO_LL.transform(cx + REACH_M, cy))], crs=4326)
    r = run({"enterprises": e, "districts": districts(), "teams": base_at, "inspections": insp})
    assert len(r.blind_spots) == 0 and bool(r.cells["in_reach"].iloc[0])
    assert r.cells["travel_min"].iloc[0] == pytest.approx(30.0, abs=1e-6)
    base_out = base_at.set_geometry([shapely.Point(*TO_LL.transform(cx + REACH_M + 1.0, cy))], crs=4326)
    r = run({"enterprises": e, "districts": districts(), "teams": base_out, "inspections": insp})
    assert list(r.blind_spots["kind"]) == ["out_of_reach"]
    assert r.blind_spots["reason_zh"].iloc[0] == "风险 10.0（1 个对象）；最近的检查组驻地估算约 30 分钟，超过 30 分钟"
    assert r.by_district.set_index("district_code").loc["420102", "blind_out_of_reach"] == 1


def test_a_cell_inspected_exactly_window_days_ago_is_covered():
    e = enterprises([{"id": "A", "grade": "low", "xy": (3000, 0)}, {"id": "B", "grade": "low", "xy": (-3000, 0)}])
    r = run({"enterprises": e, "districts": districts(), "teams": teams([(0, 0)]),
             "inspections": inspections([("A", "2024-09-30"), ("B", "2024-09-29")])})
    blind = r.blind_spots
    assert len(blind) == 1 and blind["kind"].iloc[0] == "not_inspected"
    assert blind["last_inspection"].iloc[0] == "2024-09-29"
    assert "近 365 天无检查（上次 2024-09-29）" in blind["reason_zh"].iloc[0]
    assert dead_ids(r) == {"B"}


def test_no_team_base_means_every_risk_cell_is_beyond_reach():
    e = enterprises([{"id": "A", "grade": "low", "xy": (3000, 0)}])
    r = run({"enterprises": e, "districts": districts(), "inspections": inspections([("A", "2025-09-01")])})
    assert list(r.blind_spots["kind"]) == ["out_of_reach"]
    assert "no team base at all" in r.blind_spots["reason_en"].iloc[0]


def test_cells_sum_the_risk_of_their_objects_and_go_to_the_district_holding_most_of_it():
    # three objects in one cell: two registered in A (weights 1 + 1), one in B (weight 10)
    e = enterprises([{"id": "a1", "grade": "low", "district_code": "420101", "xy": (5000, 5000)},
                     {"id": "a2", "grade": "low", "district_code": "420101", "xy": (5001, 5000)},
                     {"id": "b1", "grade": "major", "district_code": "420102", "xy": (5000, 5001)}])
    r = run({"enterprises": e, "districts": districts()})
    cell = r.cells.iloc[0]
    assert len(r.cells) == 1 and cell["risk"] == 12.0 and cell["n_objects"] == 3
    assert cell["district_code"] == "420102"


# -- supervision gaps ---------------------------------------------------------------------------------

def test_supervision_gaps_each_kind_with_its_reason():
    e = enterprises([{"id": "none", "xy": (1000, 0)}, {"id": "two", "xy": (1000, 10)},
                     {"id": "led", "xy": (1000, 20)}, {"id": "nooff", "xy": (1000, 30)},
                     {"id": "ghost", "xy": (1000, 40)},
                     {"id": "wrong", "district_code": "420101", "xy": (1000, 50)},       # lies in B
                     {"id": "border", "district_code": "420101", "lonlat": (114.30, 30.6)},  # on the border
                     {"id": "border2", "district_code": "420102", "lonlat": (114.30, 30.61)},
                     {"id": "unreg", "district_code": None, "xy": (-1000, 80)},
                     {"id": "away", "xy": (30_000, 0)}])                                 # outside both
    deps = pd.DataFrame({"id": ["D1", "D2"], "name": ["应急局", "住建局"], "name_en": ["Emergency", "Housing"]})
    links = pd.DataFrame([
        ("two", "D1", False, "张"), ("two", "D2", False, "李"),
        ("led", "D1", True, "张"), ("led", "D2", False, "李"),
        ("nooff", "D1", True, None), ("ghost", "D9", True, "王"),
        *[(i, "D1", True, "张") for i in ("wrong", "border", "border2", "unreg", "away")],
    ], columns=["target_id", "department_id", "lead", "officer"]).assign(target_layer="enterprises")
    r = run({"enterprises": e, "districts": districts(), "responsibilities": links, "departments": deps})
    g = r.supervision_gaps
    got = {(i, k) for i, k in zip(g["id"], g["kind"], strict=True)}
    assert got == {("none", "no_department"), ("ghost", "no_department"), ("two", "no_lead"),
                   ("nooff", "no_officer"), ("wrong", "district_mismatch"), ("unreg", "district_mismatch"),
                   ("away", "outside_districts")}
    why = dict(zip(g["id"] + "/" + g["kind"], g["reason_zh"], strict=True))
    assert why["none/no_department"] == "没有监管部门"
    assert why["ghost/no_department"] == "登记的监管部门不在部门表中"
    assert why["two/no_lead"] == "有 2 个监管部门（应急局、住建局）但没有牵头部门"
    assert why["nooff/no_officer"] == "监管部门 应急局 未落实包保责任人"
    assert why["wrong/district_mismatch"] == "登记区县 420101（甲区），实际位于 420102（乙区）"
    assert why["unreg/district_mismatch"] == "未登记区县，实际位于 420101（甲区）"
    assert why["away/outside_districts"].endswith("不在任何区县范围内")
    en = dict(zip(g["id"] + "/" + g["kind"], g["reason_en"], strict=True))
    assert en["two/no_lead"] == "2 supervising departments (Emergency, Housing) and no lead"
    bd = r.by_district.set_index("district_code")
    assert bd.loc["420101", "gap_district_mismatch"] == 1 + 1  # "wrong" (registered A) and "unreg" (lies in A)
    assert bd.loc["420102", "gap_no_department"] == 2


# -- per district ---------------------------------------------------------------------------------------

def test_per_district_shares_and_access_filter():
    e = enterprises([{"id": "a_ok", "grade": "major", "district_code": "420101", "xy": (-5000, 0)},
                     {"id": "a_late", "grade": "low", "district_code": "420101", "xy": (-5000, 3000)},
                     {"id": "b_late", "grade": "high", "district_code": "420102", "xy": (5000, 0)}])
    r = run({"enterprises": e, "districts": districts(), "teams": teams([(-5000, 0)]),
             "inspections": inspections([("a_ok", "2025-09-20"), ("a_late", "2024-01-01")])})
    bd = r.by_district.set_index("district_code")
    assert bd.loc["420101", "share_in_time"] == pytest.approx(10 / 11)
    assert bd.loc["420102", "share_in_time"] == 0.0
    assert bd.loc["420101", ["risk_cells", "risk_cells_covered"]].tolist() == [2, 1]
    assert bd.loc["420102", ["risk_cells", "risk_cells_covered", "blind_not_inspected"]].tolist() == [1, 0, 1]
    assert bd.loc["420101", "name"] == "甲区" and bd.loc["420102", "name_en"] == "B"
    mine = r.for_districts(["420101"])
    assert set(mine.dead_corners["id"]) == {"a_late"}
    assert set(mine.by_district["district_code"]) == {"420101"}
    assert set(mine.blind_spots["district_code"]) <= {"420101"}
    assert mine.summary["objects"] == 2


def test_suggested_bases_cover_the_heaviest_unreached_risk_first():
    far_east = [{"id": f"e{i}", "grade": "major", "xy": (40_000 + 300 * i, 0)} for i in range(3)]
    far_west = [{"id": f"w{i}", "grade": "low", "xy": (-40_000 - 300 * i, 0)} for i in range(3)]
    e = enterprises(far_east + far_west)
    r = run({"enterprises": e, "teams": teams([(0, 0)])})
    assert set(r.blind_spots["kind"]) == {"not_inspected+out_of_reach"}
    sb = suggest_bases(r, 1)
    assert len(sb) == 1 and sb["risk_gained"].iloc[0] == 30.0
    assert sb["share_of_unreached"].iloc[0] == pytest.approx(30 / 33)
    two = suggest_bases(r, 2, method="exact")
    assert two["cumulative_risk"].iloc[-1] == 33.0
    assert len(suggest_bases(r, 0)) == 0


# -- through a real store ---------------------------------------------------------------------------------

def test_compute_reads_a_real_geopackage_and_the_cache_follows_the_data_version(tmp_path):
    store = open_store(tmp_path / "city.gpkg")
    with store.transaction() as tx:
        tx.append("districts", districts())
        tx.append("enterprises", enterprises([{"id": "E1", "grade": "major", "xy": (1000, 0)},
                                              {"id": "E2", "grade": "low", "xy": (2000, 0)}]))
        tx.append("teams", teams([(0, 0)]))
        tx.append("inspections", inspections([("E2", "2025-09-01")]))
    s = Settings(store=str(tmp_path / "city.gpkg"))
    r = compute(store, as_of=AS_OF, settings=s, today=TODAY)
    assert dead_ids(r) == {"E1"}
    assert r.reach["method"] == "straight"
    c1 = compute_cached(store, as_of=AS_OF, settings=s, today=TODAY)
    assert compute_cached(store, as_of=AS_OF, settings=s, today=TODAY) is c1
    with store.transaction() as tx:
        tx.append("inspections", pd.DataFrame({"id": ["I9"], "target_layer": ["enterprises"], "target_id": ["E1"],
                                                "date": ["2025-09-25"]}))
    c2 = compute_cached(store, as_of=AS_OF, settings=s, today=TODAY)
    assert c2 is not c1 and dead_ids(c2) == set()


def test_another_date_reuses_the_layers_read_and_the_look_ups_and_a_write_starts_afresh(writable_store):
    from layers.analysis.coverage import cache

    store = writable_store
    s = Settings()
    today = date(2026, 11, 28)
    dates = [date(2026, 11, 28), date(2026, 6, 30), date(2025, 12, 31)]
    first = compute(store, as_of=dates[0], settings=s, today=today)
    frames, memo = cache._FRAMES.get(store, lambda: pytest.fail("the layers read were not kept"))
    assert {"inspections", "hazards", "responsibilities"} <= set(memo)
    for d in dates:  # memoised or not, the same answer
        again = compute(store, as_of=d, settings=s, today=today)
        fresh = compute_frames(read_frames(store), as_of=d, settings=s, today=today)
        assert again.summary == fresh.summary
        pd.testing.assert_frame_equal(pd.DataFrame(again.dead_corners.drop(columns="geometry")),
                                      pd.DataFrame(fresh.dead_corners.drop(columns="geometry")))
        pd.testing.assert_frame_equal(again.supervision_gaps, fresh.supervision_gaps)
    assert cache._FRAMES.get(store, lambda: pytest.fail("read again"))[0] is frames  # read once
    # a write: a new data version, read again; the old layers are let go
    insp = store.read("inspections", columns=["target_layer", "target_id"]).head(1)
    with store.transaction() as tx:
        tx.append("inspections", pd.DataFrame({"id": ["I-new"], "target_layer": insp["target_layer"],
                                                "target_id": insp["target_id"], "date": ["2026-11-27"]}))
    after = compute(store, as_of=dates[0], settings=s, today=today)
    assert cache._FRAMES.keys() == [(store.identity(), store.data_version(), ())]
    assert cache._FRAMES.get(store, lambda: pytest.fail("not kept"))[0] is not frames
    assert after.summary == compute_frames(read_frames(store), as_of=dates[0], settings=s, today=today).summary
    target = (insp["target_layer"].iloc[0], insp["target_id"].iloc[0])
    assert target not in set(zip(after.dead_corners["layer"], after.dead_corners["id"], strict=True))
    assert first.summary["objects"] == after.summary["objects"]


def test_travel_goes_over_the_road_layer_when_the_store_has_roads():
    # a straight road along y = 0 with a vertex every 500 m, 40 km/h; the base sits on its west end. A cell's
    # time: along the road to the point on it nearest its centre, then the off-road leg from there at
    # RISKMAP_ACCESS_SPEED_KMH (15 km/h). An object 15 km east is in reach (22.5 min + a short leg); one 25 km
    # east is not. (It used to go to the nearest vertex and walk from there at 5 km/h.)
    road = gpd.GeoDataFrame({"id": ["R1"], "road_class": ["primary"], "speed_kmh": [40.0], "oneway": [False]},
                            geometry=[shapely.LineString([ll(x, 0) for x in range(0, 30_001, 500)])], crs=4326)
    e = enterprises([{"id": "near", "grade": "low", "xy": (15_000, 0)}, {"id": "far", "grade": "low", "xy": (25_000, 0)}])
    r = run({"enterprises": e, "teams": teams([(0, 0)]), "roads": road,
             "inspections": inspections([("near", "2025-09-01"), ("far", "2025-09-01")])})
    assert r.reach["method"] == "road" and r.reach["access_speed_kmh"] == 15.0
    assert list(r.blind_spots["kind"]) == ["out_of_reach"]
    near = r.cells.sort_values("travel_min").iloc[0]
    cx, cy = _cell_centre_m(15_000, 0)
    expected_s = (cx - X0) / (40 / 3.6) + abs(cy - Y0) / (15 / 3.6)
    assert near["travel_min"] * 60 == pytest.approx(expected_s, abs=0.01)
    assert near["off_road_m"] == pytest.approx(abs(cy - Y0), abs=0.01)
    assert bool(near["in_reach"])


def test_an_empty_city_and_an_object_without_a_location():
    r = compute_frames({}, as_of=AS_OF, today=TODAY, settings=Settings())
    assert r.summary["objects"] == 0 and len(r.dead_corners) == len(r.blind_spots) == 0
    assert len(suggest_bases(r, 3)) == 0
    e = gpd.GeoDataFrame({"id": ["A"], "name": ["无坐标"], "grade": ["major"], "district_code": ["420101"]},
                         geometry=[None], crs=4326)
    r = run({"enterprises": e, "districts": districts()})
    assert dead_ids(r) == {"A"} and len(r.cells) == 0
    g = r.supervision_gaps.set_index("kind")
    assert g.loc["outside_districts", "reason_en"] == "no location"


def test_settings_change_the_answer_and_the_cache_key(tmp_path):
    store = open_store(tmp_path / "city.gpkg")
    with store.transaction() as tx:
        tx.append("enterprises", enterprises([{"id": "E", "grade": "high", "xy": (1000, 0)}]))
        tx.append("inspections", inspections([("E", "2025-07-01")]))  # 91 days before the as-of date
    strict = compute_cached(store, as_of=AS_OF, today=TODAY, settings=Settings())
    lenient = compute_cached(store, as_of=AS_OF, today=TODAY,
                             settings=Settings(intervals={"major": 30, "high": 120, "moderate": 180, "low": 365}))
    assert dead_ids(strict) == {"E"} and dead_ids(lenient) == set()
