"""Emergency readiness (issue 15) on small hand-made cities stored as real GeoPackages, whose answers are known.

Metres from the city origin in UTM 50N (as ``tests.test_coverage_core``), stored in WGS-84. The road: a straight
30 km road along y = 0 at 36 km/h (10 m/s) with vertices every 10 km; off-road at 3.6 km/h (1 m/s). A point on
the road x metres from a resource on it is x / 10 seconds away.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely

from geo.roadgraph import RoadGraph, nearest_source, times_within
from layers.access import Principal, authorize
from layers.analysis import readiness
from layers.analysis.readiness import interval_days, suggest_resources
from layers.cli import main
from layers.settings import Settings
from layers.store import open_store
from tests.test_coverage_core import ll, pt

AS_OF = date(2026, 6, 30)
#: only what a case asks for: fire stations for major enterprises (10 min), medical for them (15), pumps for
#: flood points (30)
TARGETS = {"major_enterprise/fire_station": 10, "major_enterprise/medical": 15, "hazchem/fire_station": 0,
           "hazchem/hazchem_team": 0, "hazchem/medical": 0, "venue/fire_station": 0, "venue/medical": 0,
           "tunnel/fire_station": 0, "tunnel/rescue_team": 0, "tunnel/drainage_pump": 0,
           "flood_point/drainage_pump": 30, "flood_point/sandbags": 0, "flood_point/generator": 0,
           "flood_point/boat": 0}
SUPPLIES = {"severe/drainage_pump": 2, "severe/sandbags": 0, "severe/generator": 0, "severe/boat": 0,
            "moderate/drainage_pump": 1, "moderate/sandbags": 0, "moderate/generator": 0, "minor/sandbags": 0}


def settings(**over) -> Settings:
    return Settings(**{"readiness_targets": TARGETS, "flood_supplies": SUPPLIES, "access_speed_kmh": 3.6, **over})


def _districts() -> gpd.GeoDataFrame:
    """Two districts split at x = 15 km: A (420101) west, B (420102) east; one town in each."""
    w, e = shapely.Polygon([ll(-5000, -5000), ll(15_000, -5000), ll(15_000, 5000), ll(-5000, 5000)]), \
        shapely.Polygon([ll(15_000, -5000), ll(35_000, -5000), ll(35_000, 5000), ll(15_000, 5000)])
    return gpd.GeoDataFrame({"code": ["420101", "420102"], "name": ["甲区", "乙区"], "name_en": ["A", "B"]},
                            geometry=[shapely.MultiPolygon([w]), shapely.MultiPolygon([e])], crs=4326)


def _towns() -> gpd.GeoDataFrame:
    d = _districts()
    return gpd.GeoDataFrame({"code": ["420101001", "420102001"], "name": ["甲街道", "乙街道"],
                             "name_en": ["A street", "B street"], "district_code": ["420101", "420102"]},
                            geometry=d.geometry.values, crs=4326)


def _road() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": ["R1"], "name": ["滨江大道"], "road_class": ["primary"], "speed_kmh": [36.0],
                             "oneway": [False]},
                            geometry=[shapely.LineString([ll(x, 0) for x in range(0, 30_001, 10_000)])], crs=4326)


def _enterprises(rows: list[tuple]) -> gpd.GeoDataFrame:
    """(id, x, grade, industry, status) on the road."""
    return gpd.GeoDataFrame({"id": [r[0] for r in rows], "name": [f"企业{r[0]}" for r in rows],
                             "grade": [r[2] for r in rows], "industry": [r[3] for r in rows],
                             "status": [r[4] for r in rows],
                             "district_code": ["420101" if r[1] < 15_000 else "420102" for r in rows]},
                            geometry=[pt(r[1], 0) for r in rows], crs=4326)


def _resources(rows: list[tuple]) -> gpd.GeoDataFrame:
    """(id, name, kind, x, status, capacity) on the road."""
    return gpd.GeoDataFrame({"id": [r[0] for r in rows], "name": [r[1] for r in rows], "kind": [r[2] for r in rows],
                             "status": [r[4] for r in rows], "capacity": [r[5] for r in rows],
                             "district_code": ["420101" if r[3] < 15_000 else "420102" for r in rows]},
                            geometry=[pt(r[3], 0) for r in rows], crs=4326)


def _store(path: Path, **layers) -> Path:
    store = open_store(path)
    with store.transaction() as tx:
        tx.append("districts", _districts())
        tx.append("towns", _towns())
        tx.append("roads", _road())
        for name, frame in layers.items():
            tx.append(name, frame)
    return path


def _compute(path: Path, **kw):
    readiness.clear_cache()
    return readiness.compute(open_store(path, create=False), as_of=kw.pop("as_of", AS_OF),
                             settings=kw.pop("settings", settings()), **kw)


# -- geo: which source, and sources within a limit ---------------------------------------------------------

def _grid_graph(seed: int = 3) -> RoadGraph:
    rng = np.random.default_rng(seed)
    xs = np.linspace(0, 7000, 8)
    lines = [[(x + rng.normal(0, 30), y0), (x + rng.normal(0, 30), y0 + 1000)] for x in xs for y0 in xs[:-1]]
    lines += [[(x0, y + rng.normal(0, 30)), (x0 + 1000, y + rng.normal(0, 30))] for y in xs for x0 in xs[:-1]]
    return RoadGraph.from_lines(np.array([shapely.LineString(c) for c in lines], dtype=object),
                                rng.uniform(20, 60, len(lines)), rng.random(len(lines)) < 0.2, snap_m=50)


def test_nearest_source_gives_reach_seconds_and_the_source_that_gives_it():
    g = _grid_graph()
    rng = np.random.default_rng(4)
    pts, src = rng.uniform(-500, 7500, (600, 2)), rng.uniform(0, 7000, (9, 2))
    t, who, off = nearest_source(g, pts, src)
    t0, off0 = g.reach_seconds(pts, src)
    np.testing.assert_allclose(t, t0, rtol=0, atol=1e-6)
    np.testing.assert_allclose(off, off0, rtol=0, atol=1e-6)
    alone = np.array([g.reach_seconds(pts[i:i + 1], src[who[i]:who[i] + 1])[0][0] for i in range(len(pts))])
    np.testing.assert_allclose(alone, t, rtol=0, atol=1e-6)


@pytest.mark.parametrize("n_points", [400, 4])  # more points than sources (forwards), fewer (reversed graph)
def test_times_within_finds_every_pair_within_the_limit_and_only_those(n_points):
    g = _grid_graph()
    rng = np.random.default_rng(5)
    pts, src = rng.uniform(-500, 7500, (n_points, 2)), rng.uniform(0, 7000, (12, 2))
    full = np.column_stack([g.reach_seconds(pts, src[j:j + 1])[0] for j in range(len(src))])
    for limit in (200.0, 700.0):
        s, p, t = times_within(g, src, pts, limit)
        got = np.full(full.shape, np.inf)
        got[p, s] = t
        want = np.where(full <= limit, full, np.inf)
        assert np.array_equal(np.isfinite(got), np.isfinite(want))
        np.testing.assert_allclose(got[np.isfinite(want)], want[np.isfinite(want)], rtol=0, atol=1e-6)


# -- reach ----------------------------------------------------------------------------------------------------

def test_a_resource_exactly_at_the_target_is_in_reach_a_second_more_is_a_gap(tmp_path):
    path = _store(tmp_path / "c.gpkg",
                  enterprises=_enterprises([("AT", 6000, "major", "industry_trade", "operating"),
                                            ("OVER", 6010, "major", "industry_trade", "operating")]),
                  resources=_resources([("F1", "一站", "fire_station", 0, "ready", 6)]))
    r = _compute(path)
    fire = r.reach[r.reach["kind"] == "fire_station"].set_index("id")
    assert fire.loc["AT", "travel_min"] == pytest.approx(10.0)  # 6000 m at 10 m/s
    assert bool(fire.loc["AT", "in_reach"]) and fire.loc["AT", "reason_zh"] is None
    assert not bool(fire.loc["OVER", "in_reach"]) and fire.loc["OVER", "nearest_id"] == "F1"
    assert fire.loc["OVER", "reason_zh"] == "最近的消防站（一站）经道路约 10.1 分钟，超过 10 分钟"
    assert fire.loc["OVER", "reason_en"] == "nearest fire station (一站) 10.1 min by road, over 10"
    assert r.info["method"] == "road"


def test_a_needed_kind_with_no_resource_at_all_and_an_out_of_service_one_not_counted(tmp_path):
    path = _store(tmp_path / "c.gpkg",
                  enterprises=_enterprises([("E", 6500, "major", "industry_trade", "operating"),
                                            ("SHUT", 100, "major", "industry_trade", "closed")]),
                  resources=_resources([("F1", "一站", "fire_station", 0, "ready", 6),
                                        ("F2", "二站（维修）", "fire_station", 6500, "out_of_service", 6)]))
    r = _compute(path)
    assert set(r.objects["id"]) == {"E"}  # a closed enterprise is left out, as coverage leaves it out
    gaps = r.reach_gaps.set_index("kind")
    # the out-of-service station beside it does not count: the ready one is 650 s away
    assert gaps.loc["fire_station", "nearest_id"] == "F1"
    assert gaps.loc["fire_station", "travel_min"] == pytest.approx(650 / 60)
    assert gaps.loc["fire_station", "reason_zh"] == "最近的消防站（一站）经道路约 11 分钟，超过 10 分钟"
    # no medical station at all
    assert gaps.loc["medical", "reason_zh"] == "全市没有在岗可用的医疗急救站"
    assert gaps.loc["medical", "reason_en"] == "no ready medical (ambulance) station anywhere"
    assert np.isnan(gaps.loc["medical", "travel_min"])
    # an out-of-service one is named as such
    path2 = _store(tmp_path / "c2.gpkg", enterprises=_enterprises([("E", 6500, "major", "industry_trade",
                                                                     "operating")]),
                   resources=_resources([("M1", "急救站", "medical", 6500, "out_of_service", 2)]))
    g2 = _compute(path2).reach_gaps.set_index("kind")
    assert g2.loc["medical", "reason_zh"] == "全市没有在岗可用的医疗急救站（1 处停用维修）"
    assert g2.loc["fire_station", "reason_en"] == "no ready fire station anywhere"


def test_an_enterprise_in_two_classes_is_measured_for_each_class_target(tmp_path):
    # major and hazchem: fire station 10 min for major, 5 min asked of hazchem here; 8 min away
    t = {**TARGETS, "hazchem/fire_station": 5}
    path = _store(tmp_path / "c.gpkg", enterprises=_enterprises([("H", 4800, "major", "hazchem", "operating")]),
                  resources=_resources([("F1", "一站", "fire_station", 0, "ready", 6)]))
    r = _compute(path, settings=settings(readiness_targets=t))
    fire = r.reach[r.reach["kind"] == "fire_station"].set_index("class")
    assert bool(fire.loc["major_enterprise", "in_reach"]) and not bool(fire.loc["hazchem", "in_reach"])
    assert set(r.objects["class"]) == {"major_enterprise", "hazchem"}
    assert r.summary["objects"] == 1


# -- plans and drills --------------------------------------------------------------------------------------------

def _venues(ids: list[str], x0: float = 1000) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": ids, "name": [f"场所{i}" for i in ids], "kind": "mall",
                             "district_code": "420101", "town_code": "420101001"},
                            geometry=[pt(x0 + 10 * i, 0) for i in range(len(ids))], crs=4326)


def test_a_drill_exactly_at_its_interval_is_in_time_one_day_more_is_overdue(tmp_path):
    assert interval_days(1) == 365 and interval_days(2) == 182 and interval_days(52) == 7
    ids = ["AT", "LATE", "NEVER", "NOPLAN", "FUTUREPLAN"]
    plans = pd.DataFrame({"id": ["P1", "P2", "P3", "P5", "P6"],
                          "target_layer": ["venues", "venues", "venues", "venues", "enterprises"],
                          "target_id": ["AT", "LATE", "NEVER", "FUTUREPLAN", "MAJ"],
                          "filed_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01", "2026-07-10",
                                                        "2024-01-01"])})
    d = lambda days: AS_OF - timedelta(days=days)  # noqa: E731
    drills = pd.DataFrame({"id": [f"D{i}" for i in range(6)],
                           "target_layer": ["venues", "venues", "venues", "enterprises", "enterprises", "venues"],
                           "target_id": ["AT", "LATE", "NOPLAN", "MAJ", "MAJ2", "NEVER"],
                           "date": pd.to_datetime([d(365), d(366), d(10), d(182), d(183), d(-5)])})
    ent = _enterprises([("MAJ", 2000, "major", "industry_trade", "operating"),
                        ("MAJ2", 2100, "major", "industry_trade", "operating")])
    path = _store(tmp_path / "c.gpkg", venues=_venues(ids), enterprises=ent, emergency_plans=plans, drills=drills)
    r = _compute(path)
    reg = r.register.set_index("id")
    assert reg.loc["AT", "drill_status"] == "in_time" and reg.loc["AT", "days_since_drill"] == 365
    assert reg.loc["LATE", "drill_status"] == "overdue" and reg.loc["LATE", "days_overdue"] == 1
    assert reg.loc["NEVER", "drill_status"] == "never"  # its only drill is after the as-of date
    assert reg.loc["MAJ", "drill_status"] == "in_time" and reg.loc["MAJ", "interval_days"] == 182
    assert reg.loc["MAJ2", "drill_status"] == "overdue" and reg.loc["MAJ2", "days_overdue"] == 1
    gaps = {(g.id, g.kind): g for g in r.plan_gaps.itertuples()}
    assert set(gaps) == {("LATE", "drill_overdue"), ("NEVER", "never_drilled"), ("NOPLAN", "no_plan"),
                         ("FUTUREPLAN", "no_plan"), ("FUTUREPLAN", "never_drilled"), ("MAJ2", "no_plan"),
                         ("MAJ2", "drill_overdue")}
    assert gaps[("LATE", "drill_overdue")].reason_zh == (
        "上次演练 2025-06-29，已 366 天，逾期 1 天；人员密集场所每年须演练 1 次（至少每 365 天一次）")
    assert gaps[("LATE", "drill_overdue")].reason_en == (
        "last drill 2025-06-29, 366 days ago, 1 days overdue; a crowded venue must drill once a year "
        "(every 365 days at most)")
    assert gaps[("NEVER", "never_drilled")].reason_zh == "从未演练；人员密集场所每年须演练 1 次（至少每 365 天一次）"
    assert gaps[("NOPLAN", "no_plan")].reason_zh == "未备案应急预案"
    assert gaps[("FUTUREPLAN", "no_plan")].reason_zh == "截至统计日期未备案应急预案（预案 2026-07-10 才备案）"
    assert reg.loc["AT", "plan_id"] == "P1" and reg.loc["AT", "plan_filed"] == "2024-01-01"
    # per district: every object here is in A
    a = r.by_district.set_index("district_code").loc["420101"]
    assert (a["plan_gaps"], a["never_drilled"], a["drills_overdue"]) == (3, 2, 2)


# -- flood supplies ---------------------------------------------------------------------------------------------

def _flood_points(rows: list[tuple]) -> gpd.GeoDataFrame:
    """(id, x, severity)."""
    return gpd.GeoDataFrame({"id": [r[0] for r in rows], "name": [f"易涝点{r[0]}" for r in rows],
                             "kind": "waterlogging", "severity": [r[2] for r in rows],
                             "district_code": ["420101" if r[1] < 15_000 else "420102" for r in rows]},
                            geometry=[pt(r[1], 0) for r in rows], crs=4326)


def test_a_flood_point_whose_only_pump_is_beyond_reach_is_short(tmp_path):
    # pumps (5 of them) at x = 25 km; FAR at 1 km is 24 km = 40 min away, NEAR at 20 km 500 s away
    path = _store(tmp_path / "c.gpkg", flood_points=_flood_points([("FAR", 1000, "severe"),
                                                                   ("NEAR", 20_000, "moderate"),
                                                                   ("NONE", 21_000, None)]),
                  resources=_resources([("P1", "泵站", "drainage_pump", 25_000, "ready", 5)]))
    r = _compute(path)
    sup = r.supplies.set_index("id")
    assert set(sup.index) == {"FAR", "NEAR"}  # no severity reads minor, and a minor point needs no pump here
    assert (sup.loc["FAR", "need"], sup.loc["FAR", "within"], sup.loc["FAR", "short"]) == (2, 0, 2)
    assert sup.loc["FAR", "nearest_min"] == pytest.approx(40.0)
    assert sup.loc["FAR", "reason_zh"] == ("30 分钟内排涝泵车 0 台（需 2 台），缺 2 台；最近的排涝泵车（泵站）经道路约 40 分钟")
    assert (sup.loc["NEAR", "within"], sup.loc["NEAR", "short"]) == (5, 0)
    assert list(r.supply_shortfalls["id"]) == ["FAR"]
    # per district: A needs 2 and holds none; B needs 1 and holds 5
    ds = r.district_supplies.set_index("district_code")
    assert (ds.loc["420101", "need"], ds.loc["420101", "stock"], ds.loc["420101", "short"]) == (2, 0, 2)
    assert (ds.loc["420102", "need"], ds.loc["420102", "stock"], ds.loc["420102", "short"]) == (1, 5, 0)
    assert ds.loc["420101", "reason_zh"] == "甲区内涝点共需排涝泵车 2 台，区内在岗可用 0 台，缺 2 台"


def test_every_pump_within_reach_counts_and_an_out_of_service_one_does_not(tmp_path):
    # two depots of 1 pump each, 10 and 20 min from the point, a third of 3 pumps out of service beside it
    path = _store(tmp_path / "c.gpkg", flood_points=_flood_points([("S", 10_000, "severe")]),
                  resources=_resources([("P1", "东站", "drainage_pump", 16_000, "ready", 1),
                                        ("P2", "西站", "drainage_pump", 2_000, "ready", 1),
                                        ("P3", "备用站", "drainage_pump", 10_050, "out_of_service", 3)]))
    sup = _compute(path).supplies.set_index("id")
    assert (sup.loc["S", "within"], sup.loc["S", "resources_within"], sup.loc["S", "short"]) == (2, 2, 0)
    tight = settings(readiness_targets={**TARGETS, "flood_point/drainage_pump": 12})
    sup = _compute(path, settings=tight).supplies.set_index("id")
    assert (sup.loc["S", "within"], sup.loc["S", "short"]) == (1, 1)


# -- siting -----------------------------------------------------------------------------------------------------

def test_siting_closes_the_gaps_it_was_asked_to(tmp_path):
    ent = _enterprises([("A", 20_000, "major", "industry_trade", "operating"),
                        ("B", 21_000, "major", "industry_trade", "operating"),
                        ("C", 26_000, "major", "industry_trade", "operating")])
    res = _resources([("F1", "一站", "fire_station", 0, "ready", 6), ("M1", "急救", "medical", 20_000, "ready", 2)])
    path = _store(tmp_path / "c.gpkg", enterprises=ent, resources=res)
    r = _compute(path)
    assert set(r.reach_gaps["kind"]) == {"fire_station"} and len(r.reach_gaps) == 3
    sg = suggest_resources(r, "fire_station", 1)
    assert len(sg) == 1 and sg.iloc[0]["gaps_closed"] == 3 and sg.iloc[0]["share_of_gaps"] == 1.0
    assert set(sg.iloc[0]["closes"].split(",")) == {"enterprises:A", "enterprises:B", "enterprises:C"}
    assert sg.iloc[0]["road"] == "滨江大道" and sg.iloc[0]["district_code"] == "420102"
    # put a station there: no fire-station gap is left
    new = gpd.GeoDataFrame({"id": ["F9"], "name": ["新站"], "kind": ["fire_station"], "status": ["ready"]},
                           geometry=[shapely.Point(sg.iloc[0]["lon"], sg.iloc[0]["lat"])], crs=4326)
    with open_store(path, create=False).transaction() as tx:
        tx.append("resources", new)
    again = _compute(path)
    assert len(again.reach_gaps) == 0
    assert len(suggest_resources(again, "fire_station", 2)) == 0
    exact = suggest_resources(r, "fire_station", 1, method="exact")
    assert exact.iloc[0]["gaps_closed"] == 3


# -- narrowing, the store cache ----------------------------------------------------------------------------------

def test_results_narrow_to_a_district_and_to_a_users_access(tmp_path):
    ent = _enterprises([("W", 9000, "major", "industry_trade", "operating"),
                        ("E", 29_000, "major", "industry_trade", "operating")])
    path = _store(tmp_path / "c.gpkg", enterprises=ent, resources=_resources([("F1", "一站", "fire_station", 0,
                                                                              "ready", 6)]))
    r = _compute(path)
    assert set(r.reach_gaps["id"]) == {"W", "E"}  # W: no medical; E: both
    b = r.for_districts(["420102"])
    assert set(b.reach_gaps["id"]) == {"E"} and list(b.by_district["district_code"]) == ["420102"]
    assert b.summary["objects"] == 1
    acc = authorize(Principal(id="d1", role="district", district="420101"))
    a = r.for_access(acc)
    assert set(a.reach_gaps["id"]) == {"W"} and set(a.objects["id"]) == {"W"}
    t = r.for_access(authorize(Principal(id="t1", role="town", district="420101", town="420101001")))
    assert set(t.reach_gaps["id"]) == {"W"} and len(t.district_supplies) == 0
    assert list(t.by_town["town_code"]) == ["420101001"]
    store = open_store(path, create=False)
    one = readiness.compute_cached(store, as_of=AS_OF, settings=settings())
    assert readiness.compute_cached(store, as_of=AS_OF, settings=settings()) is one


def test_straight_line_without_roads(tmp_path):
    path = tmp_path / "c.gpkg"
    store = open_store(path)
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises([("E", 9600, "major", "industry_trade", "operating")]))
        tx.append("resources", _resources([("F1", "一站", "fire_station", 0, "ready", 6)]))
    r = _compute(path, settings=settings(travel_speed_kmh=36, detour_factor=1.5))
    fire = r.reach_gaps.set_index("kind").loc["fire_station"]
    assert r.info["method"] == "straight"
    assert fire["travel_min"] == pytest.approx(9600 * 1.5 / 10 / 60, rel=1e-6)  # 24 min
    assert fire["reason_zh"] == "最近的消防站（一站）按直线估算约 24 分钟，超过 10 分钟"
    assert fire["reason_en"] == "nearest fire station (一站) about 24 min (straight-line estimate), over 10"


# -- import and the command line ---------------------------------------------------------------------------------

def test_plans_and_drills_import_from_csv_and_count(tmp_path):
    path = _store(tmp_path / "c.gpkg", venues=_venues(["V1"]))
    plans = tmp_path / "预案.csv"
    pd.DataFrame({"编号": ["P1"], "对象图层": ["venues"], "对象编号": ["V1"], "预案名称": ["商场突发事件应急预案"],
                  "版本号": ["V2.0"], "备案日期": ["2025-03-01"]}).to_csv(plans, index=False, encoding="gbk")
    drills = tmp_path / "演练.csv"
    pd.DataFrame({"编号": ["D1"], "对象图层": ["venues"], "对象编号": ["V1"], "演练日期": ["2026-05-20"],
                  "演练形式": ["field"], "参演人数": [45]}).to_csv(drills, index=False, encoding="utf-8")
    assert main(["import", "emergency_plans", str(plans), "--store", str(path)]) == 0
    assert main(["import", "drills", str(drills), "--store", str(path)]) == 0
    r = _compute(path)
    row = r.register.set_index("id").loc["V1"]
    assert (row["plan_id"], row["plan_version"], row["plan_filed"], row["last_drill"], row["drill_status"]) == (
        "P1", "V2.0", "2025-03-01", "2026-05-20", "in_time")
    assert len(r.plan_gaps) == 0


def test_cli_writes_xlsx_and_gpkg_with_suggestions(tmp_path, capsys):
    ent = _enterprises([("A", 20_000, "major", "industry_trade", "operating"),
                        ("B", 1000, "major", "industry_trade", "operating")])
    path = _store(tmp_path / "c.gpkg", enterprises=ent,
                  resources=_resources([("F1", "一站", "fire_station", 0, "ready", 6),
                                        ("M1", "急救", "medical", 0, "ready", 2)]),
                  flood_points=_flood_points([("FAR", 1000, "severe")]))
    env_free = ["--store", str(path), "--as-of", AS_OF.isoformat()]
    xlsx = tmp_path / "r.xlsx"
    assert main(["readiness", *env_free, "--out", str(xlsx), "--suggest", "fire_station", "--k", "1"]) == 0
    cap = capsys.readouterr()
    assert "100.0%" in cap.err and "到达缺口" in cap.out and "written" in cap.out
    wb = openpyxl.load_workbook(xlsx)
    assert {"到达缺口", "预案演练缺口", "防汛物资缺口", "分区县", "分镇街", "区县物资", "建议预置点"} <= set(wb.sheetnames)
    ws = wb["到达缺口"]
    header = [c.value for c in ws[1]]
    reasons = {ws.cell(row=i, column=header.index("reason_zh") + 1).value for i in range(2, ws.max_row + 1)}
    assert any(x.startswith("最近的消防站（一站）经道路约") for x in reasons)
    gpkg = tmp_path / "r.gpkg"
    assert main(["readiness", *env_free, "--out", str(gpkg), "--lang", "en", "--district", "420102"]) == 0
    layers = dict(pyogrio.list_layers(gpkg))
    assert layers["reach_gaps"] == "Point" and layers["by_district"] is None
    gaps = gpd.read_file(gpkg, layer="reach_gaps")
    assert set(gaps["id"]) == {"A"} and gaps.crs.to_epsg() == 4326
    assert main(["readiness", *env_free, "--out", str(tmp_path / "r.txt")]) == 2
    assert main(["readiness", *env_free, "--out", str(gpkg), "--district", "999999"]) == 2
