"""The first hour of an incident on small hand-made GeoPackage cities whose answers are known: the nearest resource
by road (not the straight-line nearest across a river, not against a one-way street), resources out of service
left out, hazchem enterprises and pipelines within the radius exactly at it, venues and schools within the
warning radius, the object's plan, last drill, open hazards and supervision; recording and closing incidents
(one row and its audit, an outcome required, a stale version refused); and a district user who cannot open,
close, see or print another district's incident, also when replaying the page's callbacks with edited payloads.

The cities are drawn in metres from (114.30, 30.60) in UTM 50N and stored in WGS-84 (``tests.test_coverage_core``):
district 420101 lies west of x = 0, 420102 east. Roads at 36 km/h (10 m/s); the off-road leg at 3.6 km/h
(1 m/s), so times are easy to count.
"""

from __future__ import annotations

import json
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import paths
from geo.roadgraph import RoadGraph
from layers.access import Principal, authorize
from layers.emergency import (
    close_incident,
    first_hour,
    incident_record,
    incident_sheet,
    incident_sheet_xlsx,
    incidents_list,
    open_incident,
)
from layers.errors import AccessDenied, EditConflict, RiskMapError
from layers.settings import Settings
from layers.store import open_store
from tests.test_coverage_core import districts, ll, pt

A, B = "420101", "420102"
AS_OF = date(2025, 9, 30)
ADMIN = Principal("admin", "admin")
LEADER_A = Principal("dA", "district", district=A)
LEADER_B = Principal("dB", "district", district=B)
PLACE = (5000, 20)           # the incident, 20 m north of the main road, in district B
KMH = 36.0
ACCESS_KMH = 3.6


def _line(*xy) -> shapely.LineString:
    return shapely.LineString([ll(x, y) for x, y in xy])


def _roads(oneway_main: bool = False) -> gpd.GeoDataFrame:
    """Main road y = 0 from x = -2000 to 10 km (one-way eastwards when told); a road across the river at
    y = 600 from x = 5000 to 9000, reached from the main road only by the bridge at x = 9000; a ring road back
    (10 km, 1 km north, to x = -2000) so that every node reaches every other."""
    geoms = [_line(*[(x, 0) for x in range(-2000, 10_001, 1000)]),
             _line((5000, 600), (9000, 600)), _line((9000, 0), (9000, 600)),
             _line((10_000, 0), (10_000, 1000), (-2000, 1000), (-2000, 0))]
    return gpd.GeoDataFrame({"id": ["MAIN", "RIVERSIDE", "BRIDGE", "RING"], "road_class": "primary",
                             "speed_kmh": KMH, "oneway": [oneway_main, False, False, False]},
                            geometry=geoms, crs=4326)


def _points(rows: list[dict], **defaults) -> gpd.GeoDataFrame:
    recs = [{**defaults, **{k: v for k, v in r.items() if k != "xy"}} for r in rows]
    return gpd.GeoDataFrame(pd.DataFrame(recs), geometry=[pt(*r["xy"]) for r in rows], crs=4326)


def _city(path, *, oneway_main: bool = False):
    store = open_store(path)
    ents = _points([
        {"id": "T", "name": "事发危化有限公司", "industry": "hazchem", "grade": "major", "xy": PLACE,
         "contact": "李四", "contact_phone": "13800000000"},
        {"id": "H_AT", "name": "正好一千米危化有限公司", "industry": "hazchem", "grade": "high", "xy": (6000, 20)},
        {"id": "H_OUT", "name": "一千零一米危化有限公司", "industry": "hazchem", "grade": "high", "xy": (5000, 1021)},
        {"id": "PLAIN", "name": "旁边的工贸有限公司", "industry": "industry_trade", "grade": "low", "xy": (5100, 20)},
        {"id": "H_WEST", "name": "甲区边界危化仓储有限公司", "industry": "hazchem", "grade": "major", "xy": (-300, 20),
         "district_code": A},
        {"id": "E_WEST", "name": "甲区普通企业有限公司", "industry": "industry_trade", "grade": "low", "xy": (-1500, 20),
         "district_code": A},
    ], status="operating", district_code=B)
    resources = _points([
        # the straight-line nearest fire station lies across the river: 580 m away, 8.6 km by road
        {"id": "F_RIVER", "name": "河对岸消防站", "kind": "fire_station", "xy": (5000, 600)},
        {"id": "F_ROAD", "name": "同岸消防站", "kind": "fire_station", "xy": (2000, -20)},
        {"id": "F_OOS", "name": "停用消防站", "kind": "fire_station", "xy": (5050, 20), "status": "out_of_service"},
        {"id": "R_EAST", "name": "东边救援队", "kind": "rescue_team", "xy": (6000, -20)},
        {"id": "R_WEST", "name": "西边救援队", "kind": "rescue_team", "xy": (3000, -20)},
        {"id": "F_A", "name": "甲区消防站", "kind": "fire_station", "xy": (-1000, -20), "district_code": A},
    ], status="ready", district_code=B, phone="0700-119")
    venues = _points([
        {"id": "SCHOOL", "name": "正好五百米小学", "kind": "school", "capacity": 900, "xy": (5000, 520)},
        {"id": "KTV", "name": "五百零一米KTV", "kind": "ktv", "capacity": 80, "xy": (5000, 521)},
        {"id": "MALL", "name": "近旁商场", "kind": "mall", "capacity": 3000, "xy": (5200, 20)},
        {"id": "V_WEST", "name": "甲区边界商场", "kind": "mall", "capacity": 500, "xy": (-200, 20), "district_code": A},
    ], district_code=B)
    pipes = gpd.GeoDataFrame({"id": ["GP_HIGH", "GP_MED", "GP_LOW_FAR"], "pressure": ["high", "medium", "low"],
                              "material": "钢", "district_code": B},
                             geometry=[_line((4000, 500), (6000, 500)), _line((5000, -980), (5500, -980)),
                                       _line((4000, 1500), (6000, 1500))], crs=4326)
    plans = pd.DataFrame({"id": ["P1", "P2", "PD"], "target_layer": ["enterprises", "enterprises", "districts"],
                          "target_id": ["T", "T", B], "title": ["旧预案", "危化泄漏专项预案", "乙区总体预案"],
                          "plan_version": ["v1", "v2", "2025"], "district_code": B,
                          "filed_date": pd.to_datetime(["2024-01-01", "2025-03-01", "2025-01-01"])})
    drills = pd.DataFrame({"id": ["D1", "D2", "D3"], "target_layer": "enterprises", "target_id": "T",
                           "plan_id": "P2", "kind": ["tabletop", "field", "field"], "district_code": B,
                           "date": pd.to_datetime(["2025-05-01", "2025-08-01", "2025-12-01"])})
    hz = gpd.GeoDataFrame({"id": ["HZ1", "HZ2", "HZ3", "HZ4"], "target_layer": "enterprises",
                           "target_id": ["T", "T", "T", "H_AT"], "type": ["储罐区", "消防通道", "电气", "储罐区"],
                           "description": ["储罐区可燃气体报警器失效", "消防通道堵塞", "已整改的电气隐患", "别家的隐患"],
                           "level": ["major", "general", "general", "major"],
                           "status": ["open", "rectifying", "closed", "open"], "district_code": B,
                           "found_date": pd.to_datetime(["2025-06-01", "2025-09-01", "2025-01-01", "2025-06-01"]),
                           "deadline": pd.to_datetime(["2025-07-01", "2025-12-01", "2025-02-01", "2025-07-01"]),
                           "version": 0}, geometry=[None] * 4, crs=4326)
    depts = pd.DataFrame({"id": ["DEPT1", "DEPT2"], "name": ["乙区应急管理局", "乙区消防救援大队"],
                          "name_en": ["B Emergency Bureau", "B Fire Brigade"], "kind": "emergency",
                          "phone": ["0700-1110001", "0700-1190002"]})
    resp = pd.DataFrame({"id": ["RS1", "RS2"], "target_layer": "enterprises", "target_id": "T",
                         "department_id": ["DEPT2", "DEPT1"], "lead": [False, True], "officer": ["赵六", "王五"],
                         "officer_phone": ["13900000006", None]})
    with store.transaction() as tx:
        tx.append("districts", districts())
        tx.append("roads", _roads(oneway_main))
        tx.append("enterprises", ents)
        tx.append("resources", resources)
        tx.append("venues", venues)
        tx.append("gas_pipelines", pipes)
        tx.append("emergency_plans", plans)
        tx.append("drills", drills)
        tx.append("hazards", hz)
        tx.append("departments", depts)
        tx.append("responsibilities", resp)
    return store


SETTINGS = Settings(access_speed_kmh=ACCESS_KMH)


@pytest.fixture
def city(tmp_path):
    return _city(tmp_path / "city.gpkg")


def _fh(store, who=ADMIN, **kw):
    kw.setdefault("kind", "fire")
    kw.setdefault("as_of", AS_OF)
    if "target" not in kw:
        kw.setdefault("lon", ll(*PLACE)[0])
        kw.setdefault("lat", ll(*PLACE)[1])
    return first_hour(store, settings=kw.pop("settings", SETTINGS), access=authorize(who, "incident"), **kw)


# -- resources by road ------------------------------------------------------------------------------------------

def test_the_nearest_fire_station_by_road_not_the_one_across_the_river(city):
    fh = _fh(city)
    fire = fh.resources[fh.resources["kind"] == "fire_station"]
    assert fire["id"].tolist()[:2] == ["F_ROAD", "F_RIVER"]
    assert fh.place["method"] == "road" and fh.place["district_code"] == B
    # 20 m off-road at 1 m/s, 3000 m at 10 m/s, 20 m off-road
    assert fire.iloc[0]["minutes"] * 60 == pytest.approx(20 + 300 + 20, abs=0.05)
    # across the river: the straight 580 m walk (580 s) beats 8.6 km round by the bridge (860 s + 40 s)
    assert fire.iloc[1]["minutes"] * 60 == pytest.approx(580, abs=0.05)
    assert fire.iloc[1]["distance_m"] < fire.iloc[0]["distance_m"]   # it *is* the straight-line nearest
    # the off-road leg is a straight walk (the road graph knows no river): at 7.2 km/h the 580 m take 290 s,
    # less than the 320 s by road from the other station
    fast = _fh(city, settings=Settings(access_speed_kmh=7.2))
    assert fast.resources[fast.resources["kind"] == "fire_station"]["id"].iloc[0] == "F_RIVER"


def test_out_of_service_resources_are_left_out_and_a_kind_without_any_is_said(city):
    fh = _fh(city)
    assert "F_OOS" not in set(fh.resources["id"])    # 50 m away, out of service
    assert fh.needs == ["fire_station", "medical", "rescue_team"]
    assert fh.missing == ["medical"]


def test_a_one_way_street_makes_the_resource_behind_it_longer(tmp_path):
    store = _city(tmp_path / "oneway.gpkg", oneway_main=True)
    fh = _fh(store, kind="collapse")
    rescue = fh.resources[fh.resources["kind"] == "rescue_team"]
    # west, 2 km along the one-way street: 20 + 200 + 20 s; east, 1 km against it: round the ring road or a
    # 1,002 m walk at 1 m/s
    assert rescue["id"].tolist() == ["R_WEST", "R_EAST"]
    assert rescue.iloc[0]["minutes"] * 60 == pytest.approx(240, abs=0.05)
    assert rescue.iloc[1]["minutes"] * 60 == pytest.approx(np.hypot(1000, 40), abs=0.05)
    # two-way, the east team is nearer (1 km)
    two = _fh(_city(tmp_path / "twoway.gpkg"), kind="collapse")
    assert two.resources[two.resources["kind"] == "rescue_team"]["id"].iloc[0] == "R_EAST"


def test_the_route_runs_along_the_roads_from_the_resource_to_the_place(city):
    fh = _fh(city)
    lon, lat = fh.routes["F_ROAD"]
    assert (lon[0], lat[0]) == pytest.approx(ll(2000, -20), abs=1e-7)
    assert (lon[-1], lat[-1]) == pytest.approx(ll(*PLACE), abs=1e-7)
    # it passes the road's nodes at x = 3000 and 4000 on y = 0
    for x in (3000, 4000):
        assert np.min(np.hypot(lon - ll(x, 0)[0], lat - ll(x, 0)[1])) < 1e-5   # nodes sit on a 0.5 m grid


def test_one_search_gives_every_resources_time_as_the_per_pair_reach_does():
    rng = np.random.default_rng(5)
    xs = np.linspace(0, 6000, 7)
    lines = [[(x, y0), (x + rng.normal(0, 20), y0 + 1000)] for x in xs for y0 in xs[:-1]]
    lines += [[(x0, y), (x0 + 1000, y + rng.normal(0, 20))] for y in xs for x0 in xs[:-1]]
    g = RoadGraph.from_lines(np.array([shapely.LineString(c) for c in lines], dtype=object),
                             np.full(len(lines), 30.0), rng.random(len(lines)) < 0.25, snap_m=30, access_kmh=5)
    rev = paths.reversed_csr(g)
    for _ in range(5):
        target, src = rng.uniform(0, 6000, 2), rng.uniform(0, 6000, (25, 2))
        search = paths.search_to(g, rev, target)
        t, via, _ = paths.times_to(g, search, paths.exits(g, src), src)
        per_pair = [g.reach_seconds(target[None], src[i:i + 1])[0][0] for i in range(len(src))]
        np.testing.assert_allclose(t, per_pair, atol=1e-6)


def test_without_roads_the_times_are_straight_line_estimates(tmp_path):
    store = open_store(tmp_path / "flat.gpkg")
    with store.transaction() as tx:
        tx.append("districts", districts())
        tx.append("resources", _points([{"id": "F", "name": "站", "kind": "fire_station", "xy": (6000, 20)}],
                                       district_code=B))
    fh = _fh(store)
    s = Settings()
    assert fh.place["method"] == "straight"
    assert fh.resources.iloc[0]["minutes"] * 60 == pytest.approx(1000 * s.detour_factor / (s.travel_speed_kmh / 3.6),
                                                                 rel=1e-6)


# -- around the place ---------------------------------------------------------------------------------------------

def test_hazchem_within_the_radius_exactly_at_it_and_not_a_metre_more(city):
    fh = _fh(city)
    assert fh.radius_m == 1000.0
    # the object itself is not its own neighbour when picked; as a place it is listed at 0 m
    assert fh.hazchem["id"].tolist() == ["T", "H_AT"]
    assert fh.hazchem.set_index("id").loc["H_AT", "distance_m"] == pytest.approx(1000, abs=1e-3)
    picked = _fh(city, target="enterprises:T")
    assert picked.hazchem["id"].tolist() == ["H_AT"]
    assert _fh(city, settings=Settings(access_speed_kmh=ACCESS_KMH, incident_radius_m=999)).hazchem["id"].tolist() \
        == ["T"]


def test_gas_pipelines_within_the_radius_by_pressure_class(city):
    fh = _fh(city)
    assert fh.pipelines["id"].tolist() == ["GP_HIGH", "GP_MED"]     # high pressure first; the low one 1.48 km off
    assert fh.pipelines["distance_m"].tolist() == pytest.approx([480, 1000], abs=1e-3)
    assert set(fh.pipeline_lines) == {"GP_HIGH", "GP_MED"}


def test_venues_and_schools_within_the_warning_radius_with_capacity(city):
    fh = _fh(city)
    v = fh.venues.set_index("id")
    assert list(v.index) == ["MALL", "SCHOOL"]          # nearest first; the KTV is 501 m away
    assert v.loc["SCHOOL", "school"] and not v.loc["MALL", "school"]
    assert v.loc["SCHOOL", "distance_m"] == pytest.approx(500, abs=1e-3)
    assert v["capacity"].tolist() == [3000, 900]


# -- the object ------------------------------------------------------------------------------------------------

def test_the_objects_newest_plan_last_drill_open_hazards_and_supervision(city):
    fh = _fh(city, target="enterprises:T", kind="hazchem_leak")
    assert fh.place["target"] == "enterprises:T" and fh.place["name"] == "事发危化有限公司"
    assert (fh.place["lon"], fh.place["lat"]) == pytest.approx(ll(*PLACE), abs=1e-9)
    assert fh.plan["id"] == "P2" and fh.plan["plan_version"] == "v2" and fh.plan["filed_date"] == "2025-03-01"
    # the drill planned for December has not happened by the 30th of September
    assert fh.drill["id"] == "D2" and fh.drill["date"] == "2025-08-01" and fh.drill["days_ago"] == 60
    assert fh.hazards["id"].tolist() == ["HZ1", "HZ2"]              # not closed; the overdue one first
    assert fh.hazards["overdue"].tolist() == [True, False]
    assert fh.supervision["department"].tolist() == ["乙区应急管理局", "乙区消防救援大队"]   # the lead first
    assert fh.supervision["officer"].tolist() == ["王五", "赵六"] and fh.supervision["lead"].tolist() == [True, False]
    # whom to call: the departments' duty phones, the officers' phones (where known), the contact on site
    assert fh.supervision["department_phone"].tolist() == ["0700-1110001", "0700-1190002"]
    assert [v if isinstance(v, str) else None for v in fh.supervision["officer_phone"]] == [None, "13900000006"]
    assert fh.contact == "李四" and fh.contact_phone == "13800000000"
    shown = fh.shown()
    assert shown["contact_phone"] == "13800000000"
    assert [r["officer_phone"] for r in shown["supervision"]] == [None, "13900000006"]
    assert [r["department_phone"] for r in shown["supervision"]] == ["0700-1110001", "0700-1190002"]
    assert fh.needs == ["hazchem_team", "fire_station", "medical"] and fh.missing == ["hazchem_team", "medical"]


def test_a_place_without_an_object_gets_the_districts_plan(city):
    fh = _fh(city)
    assert fh.plan["id"] == "PD" and fh.plan["target_layer"] == "districts"
    assert fh.drill is None and len(fh.hazards) == 0 and len(fh.supervision) == 0


def test_an_unknown_kind_an_unknown_object_and_a_place_that_is_none_are_refused(city):
    with pytest.raises(RiskMapError, match="unknown incident kind"):
        _fh(city, kind="meteor")
    with pytest.raises(AccessDenied):
        _fh(city, target="enterprises:NOPE")
    with pytest.raises(RiskMapError):
        _fh(city, lon="east", lat=None)
    with pytest.raises(RiskMapError):
        _fh(city, lon=500.0, lat=30.6)
    with pytest.raises(AccessDenied):   # a read grant is not enough
        first_hour(city, lon=ll(*PLACE)[0], lat=ll(*PLACE)[1], kind="fire", settings=SETTINGS,
                   access=authorize(ADMIN, "read"))


# -- the record ------------------------------------------------------------------------------------------------

def _audit(store, iid):
    return store.read("audit_log", where={"layer": "incidents", "record_id": iid})


def test_opening_writes_one_incident_and_its_audit_and_closing_needs_an_outcome(city):
    before = city.count("incidents")
    iid = open_incident(city, ADMIN, kind="explosion", target="enterprises:T", settings=SETTINGS, as_of=AS_OF)
    assert city.count("incidents") == before + 1
    row = city.read("incidents", ids=[iid]).iloc[0]
    assert (row["status"], row["opened_by"], row["district_code"], row["kind"]) == ("open", "admin", B, "explosion")
    assert (row["target_layer"], row["target_id"], int(row["version"])) == ("enterprises", "T", 0)
    assert (row.geometry.x, row.geometry.y) == pytest.approx(ll(*PLACE), abs=1e-9)
    assert pd.Timestamp(row["opened_at"]).year >= 2025
    shown = json.loads(row["shown"])
    fire = [(r["id"], round(r["minutes"] * 60, 1)) for r in shown["resources"] if r["kind"] == "fire_station"]
    assert fire == [("F_ROAD", 340.0), ("F_RIVER", 580.0), ("F_A", 640.0)]
    assert [r["id"] for r in shown["hazchem"]] == ["H_AT"] and [r["id"] for r in shown["venues"]] == ["MALL", "SCHOOL"]
    assert shown["plan"]["id"] == "P2" and [h["id"] for h in shown["hazards"]] == ["HZ1", "HZ2"]
    audit = _audit(city, iid)
    assert set(audit["action"]) == {"incident.open"} and set(audit["user_id"]) == {"admin"}
    assert ("status", "open") in set(zip(audit["field"], audit["new_value"], strict=True))

    for empty in ("", "   ", None):
        with pytest.raises(RiskMapError, match="outcome"):
            close_incident(city, authorize(ADMIN, "incident"), iid, 0, empty)
    with pytest.raises(EditConflict):
        close_incident(city, authorize(ADMIN, "incident"), iid, 3, "已处置完毕")
    assert city.read("incidents", ids=[iid]).iloc[0]["status"] == "open"
    assert set(_audit(city, iid)["action"]) == {"incident.open"}          # the refused closes wrote nothing
    assert close_incident(city, authorize(ADMIN, "incident"), iid, 0, "明火已扑灭，无人员伤亡") == 1
    row = city.read("incidents", ids=[iid]).iloc[0]
    assert (row["status"], row["outcome"], row["closed_by"], int(row["version"])) == \
        ("closed", "明火已扑灭，无人员伤亡", "admin", 1)
    closed = _audit(city, iid)
    closed = closed[closed["action"] == "incident.close"]
    assert dict(zip(closed["field"], closed["new_value"], strict=True))["outcome"] == "明火已扑灭，无人员伤亡"
    with pytest.raises(RiskMapError, match="already closed"):
        close_incident(city, authorize(ADMIN, "incident"), iid, 1, "again")


def test_a_second_close_of_the_same_version_is_refused(city):
    iid = open_incident(city, ADMIN, kind="fire", lon=ll(*PLACE)[0], lat=ll(*PLACE)[1], settings=SETTINGS)
    close_incident(city, LEADER_B, iid, 0, "第一人结束")
    with pytest.raises(RiskMapError):     # the second officer, who had version 0 open: closed already
        close_incident(city, LEADER_B, iid, 0, "第二人结束")
    assert city.read("incidents", ids=[iid]).iloc[0]["outcome"] == "第一人结束"


def test_a_district_user_cannot_open_close_list_or_print_another_districts_incident(city):
    iid = open_incident(city, LEADER_B, kind="fire", lon=ll(*PLACE)[0], lat=ll(*PLACE)[1], settings=SETTINGS)
    assert city.read("incidents", ids=[iid]).iloc[0]["opened_by"] == "dB"
    before = (city.count("incidents"), city.count("audit_log"))
    with pytest.raises(AccessDenied):
        open_incident(city, LEADER_A, kind="fire", lon=ll(*PLACE)[0], lat=ll(*PLACE)[1], settings=SETTINGS)
    with pytest.raises(AccessDenied):
        open_incident(city, LEADER_A, kind="fire", target="enterprises:T", settings=SETTINGS)
    with pytest.raises(AccessDenied):
        close_incident(city, LEADER_A, iid, 0, "不是我区的")
    with pytest.raises(AccessDenied):
        incident_record(city, LEADER_A, iid)
    with pytest.raises(AccessDenied):
        incident_sheet(city, LEADER_A, iid)
    with pytest.raises(AccessDenied):     # a town user has no incident grant at all
        incidents_list(city, Principal("t", "town", district=B, town="x"))
    assert iid not in set(incidents_list(city, LEADER_A)["id"])
    assert iid in set(incidents_list(city, LEADER_B)["id"]) and iid in set(incidents_list(city, ADMIN)["id"])
    assert (city.count("incidents"), city.count("audit_log")) == before
    assert city.read("incidents", ids=[iid]).iloc[0]["status"] == "open"


def test_near_the_border_a_district_user_sees_only_its_own_district(city):
    border = ll(300, 20)
    admin = _fh(city, lon=border[0], lat=border[1])
    assert "H_WEST" in set(admin.hazchem["id"]) and "V_WEST" in set(admin.venues["id"])
    assert "F_A" in set(admin.resources["id"])
    own = _fh(city, who=LEADER_B, lon=border[0], lat=border[1])
    assert "H_WEST" not in set(own.hazchem["id"]) and "V_WEST" not in set(own.venues["id"])
    assert "F_A" not in set(own.resources["id"])
    assert set(own.resources["district_code"]) == {B}
    with pytest.raises(AccessDenied):          # a place in district A
        _fh(city, who=LEADER_B, lon=ll(-300, 20)[0], lat=ll(-300, 20)[1])


def test_the_sheet_prints_what_was_shown_and_its_xlsx_keeps_a_formula_as_text(city):
    with city.transaction() as tx:
        tx.update("resources", ["F_ROAD"], {"name": '=HYPERLINK("http://evil.example","x")'})
    iid = open_incident(city, ADMIN, kind="fire", target="enterprises:T", settings=SETTINGS, as_of=AS_OF)
    sheet = incident_sheet(city, ADMIN, iid, lang="en")
    summary = dict(sheet.summary)
    assert summary["Incident"] == iid and summary["Kind"] == "Fire" and summary["Status"] == "Open"
    assert summary["Contingency plan"].startswith("危化泄漏专项预案 · v2")
    res = sheet.tables["resources"]
    assert res["Name"].iloc[0] == '=HYPERLINK("http://evil.example","x")'
    # whom to call is on the sheet: the contact's phone, the departments' duty phones and the officers' phones
    assert summary["Safety contact on site"] == "李四 13800000000"
    sup = sheet.tables["supervision"]
    assert sup["Department duty phone"].tolist() == ["0700-1110001", "0700-1190002"]
    assert "13900000006" in sup["Officer's phone"].tolist()
    data = incident_sheet_xlsx(sheet)
    import io

    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["Resources"]
    cells = [c for row in ws.iter_rows() for c in row if c.value and "HYPERLINK" in str(c.value)]
    assert cells and all(c.data_type == "s" for c in cells)     # a string cell, never a formula


# -- the page's callbacks, replayed by an attacker ----------------------------------------------------------------

@pytest.fixture
def app_on_city(city, tmp_path):
    from layers import access
    from layers.settings import Settings as S

    for uid, role, dc in (("admin", "admin", None), ("dA", "district", A), ("dB", "district", B)):
        access.add_user(city, uid, "demo", role=role, district_code=dc, demo=True)
    from dashboard.app import create_app

    app = create_app(S(store=str(tmp_path / "city.gpkg"), secret_key="k", access_speed_kmh=ACCESS_KMH))
    return app


def _client(app, user: str):
    c = app.server.test_client()
    assert c.post("/login", data={"username": user, "password": "demo", "next": "/"}).status_code == 302
    return c


def _post(c, deps, match: str, values: dict, changed: str):
    dep = next(d for d in deps if match in d["output"])
    outs = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1].split("@")[0]}
            for o in dep["output"].strip(".").split("...")]
    def item(d):
        return {"id": d["id"], "property": d["property"], "value": values.get(f"{d['id']}.{d['property']}")}
    return c.post("/_dash-update-component", json={
        "output": dep["output"], "outputs": outs if len(outs) > 1 else outs[0],
        "inputs": [item(d) for d in dep["inputs"]], "state": [item(d) for d in dep["state"]],
        "changedPropIds": [changed]})


def test_replayed_callbacks_with_another_districts_place_object_and_incident(city, app_on_city):
    b_incident = open_incident(city, LEADER_B, kind="fire", target="enterprises:T", settings=SETTINGS)
    names_b = ["事发危化有限公司", "正好一千米危化有限公司", "同岸消防站", "近旁商场", "正好五百米小学", "乙区应急管理局",
               "储罐区可燃气体报警器失效", b_incident]
    c = _client(app_on_city, "dA")
    deps = c.get("/_dash-dependencies").get_json()
    before = (city.count("incidents"), city.count("audit_log"))
    lon, lat = ll(*PLACE)

    def leaks(r, echoed: str | None = None) -> list[str]:
        text = json.dumps(r.get_json(silent=True) or {}, ensure_ascii=False)
        return [n for n in names_b if n in text and n != echoed]

    # the first hour at a place and at an object of district B
    for click in ({"lon": lon, "lat": lat, "target": None}, {"lon": 0, "lat": 0, "target": "enterprises:T"},
                  {"lon": lon, "lat": lat, "target": "venues:SCHOOL"}):
        r = _post(c, deps, "incident-panel.children", {"incident-click.data": click, "incident-kind.value": "fire",
                                                        "incident-lang.data": "zh"}, "incident-click.data")
        assert r.status_code in (200, 204, 403) and leaks(r) == [], click
    r = _post(c, deps, "incident-panel.children", {"incident-pick.value": "enterprises:H_AT",
                                                    "incident-kind.value": "fire"}, "incident-pick.value")
    assert leaks(r) == []
    # the object search
    r = _post(c, deps, "incident-pick.options", {"incident-pick.search_value": "危化"}, "incident-pick.search_value")
    assert leaks(r) == [] and "甲区边界危化仓储有限公司" in json.dumps(r.get_json(), ensure_ascii=False)
    # open at B's place or object, with a forged place
    for place in ({"lon": lon, "lat": lat, "target": None}, {"target": "enterprises:T"},
                  {"lon": ll(-300, 20)[0], "lat": ll(-300, 20)[1], "target": "enterprises:T"}):
        r = _post(c, deps, "incident-list.children", {"incident-open.n_clicks": 1, "incident-place.data": place,
                                                       "incident-kind.value": "fire", "incident-lang.data": "zh"},
                  "incident-open.n_clicks")
        assert leaks(r) == [], place
    # close B's incident with its real version
    r = _post(c, deps, "incident-outcome.value", {"incident-close.n_clicks": 1, "incident-close-pick.value": b_incident,
                                                   "incident-outcome.value": "伪造的结束",
                                                   "incident-versions.data": {b_incident: 0}},
              "incident-close.n_clicks")
    assert leaks(r) == []
    # download B's sheet
    r = _post(c, deps, "incident-sheet-download.data", {"incident-sheet-xlsx.n_clicks": 1,
                                                         "incident-sheet-id.data": b_incident}, "incident-sheet-xlsx.n_clicks")
    assert r.status_code in (200, 204, 403) and '"filename"' not in json.dumps(r.get_json(silent=True) or {})
    # the sheet page and the incident page with B's target, through the page router
    for path, search in (("/incident/sheet", f"?id={b_incident}"), ("/incident", "?target=enterprises:T")):
        r = _post(c, deps, "_pages_content.children", {"_pages_location.pathname": path,
                                                        "_pages_location.search": search}, "_pages_location.pathname")
        assert r.status_code == 200 and leaks(r, echoed=b_incident) == [], path   # the URL's own id is echoed
        assert "calm-error" in json.dumps(r.get_json()), path
    assert (city.count("incidents"), city.count("audit_log")) == before
    assert city.read("incidents", ids=[b_incident]).iloc[0]["status"] == "open"

    # the same callbacks work for B's own leader
    own = _client(app_on_city, "dB")
    r = _post(own, deps, "incident-list.children", {"incident-open.n_clicks": 1,
                                                     "incident-place.data": {"target": "enterprises:T"},
                                                     "incident-kind.value": "fire", "incident-lang.data": "zh"},
              "incident-open.n_clicks")
    assert r.status_code == 200 and city.count("incidents") == before[0] + 1
    r = _post(own, deps, "incident-panel.children", {"incident-click.data": {"lon": lon, "lat": lat, "target": None},
                                                      "incident-kind.value": "fire"}, "incident-click.data")
    assert "同岸消防站" in json.dumps(r.get_json(), ensure_ascii=False)
