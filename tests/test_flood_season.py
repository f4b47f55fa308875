"""Flood season mode and the duty desk, on a small hand-made GeoPackage city whose answers are known.

The city: two square districts (甲区 420102 west, 乙区 420103 east, 0.1° each at latitude 30°, where 0.001° of
longitude is about 96 m), flood points F1 (severe, recorded), F2 (an underpass recorded without a severity, 60 cm
deep: severe by depth), F3 (minor) and F4 (neither severity nor depth: unrated), a river along the north edge,
two construction sites (one 190 m from F1, one 390 m), three venues (one 55 m from the river, one 555 m, one
96 m from the minor point F3), two tunnels (one passing F2), pumps, sandbags and a fire station.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from layers.access import Principal, authorize
from layers.access.policy import Access
from layers.access.users import add_user
from layers.emergency.duty import current_warning, on_duty, roster, set_warning, warning_history
from layers.emergency.flood_season import flood_mode, flood_mode_on, flood_picture, in_flood_season
from layers.errors import AccessDenied, ActionDenied, StepRefused
from layers.settings import Settings
from layers.store import open_store

A, B = "420102", "420103"
ROOT = Path(__file__).resolve().parents[1]


def _sq(x0: float, y0: float, x1: float, y1: float) -> MultiPolygon:
    return MultiPolygon([Polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])])


def build_flood_city(path: Path):
    store = open_store(path)
    districts = gpd.GeoDataFrame({"code": [A, B], "name": ["甲区", "乙区"], "name_en": ["Jia", "Yi"]},
                                 geometry=[_sq(114.0, 30.0, 114.1, 30.1), _sq(114.1, 30.0, 114.2, 30.1)], crs=4326)
    towns = gpd.GeoDataFrame({"code": [A + "001", B + "001"], "name": ["甲一街道", "乙一街道"],
                              "district_code": [A, B]},
                             geometry=[_sq(114.0, 30.0, 114.1, 30.1), _sq(114.1, 30.0, 114.2, 30.1)], crs=4326)
    flood = gpd.GeoDataFrame({
        "id": ["F1", "F2", "F3", "F4"], "name": ["甲路易涝点", "乙下穿通道", "甲小区积水点", "乙广场"],
        "kind": ["waterlogging", "underpass", "waterlogging", "waterlogging"],
        "max_depth_cm": [50, 60, 10, None], "severity": ["severe", None, "minor", None],
        "district_code": [A, B, A, B]},
        geometry=[Point(114.02, 30.05), Point(114.12, 30.05), Point(114.07, 30.06), Point(114.15, 30.02)], crs=4326)
    events = pd.DataFrame({
        "id": ["E1", "E2", "E3", "E4", "E5"], "point_id": ["F1", "F1", "F1", "F1", "F3"],
        "date": pd.to_datetime(["2025-07-01", "2026-07-10", "2021-07-01", "2024-05-31", "2024-06-01"]),
        "depth_cm": [40, 70, 200, 150, 20], "district_code": [A, A, A, A, A]})
    ent = gpd.GeoDataFrame({
        "id": ["C1", "C2", "C3"], "name": ["甲建筑工地", "甲远处工地", "甲化工"],
        "industry": ["construction", "construction", "hazchem"], "grade": ["moderate", "low", "major"],
        "district_code": [A, A, A], "status": ["operating"] * 3},
        geometry=[Point(114.022, 30.05), Point(114.024, 30.05), Point(114.0205, 30.05)], crs=4326)
    venues = gpd.GeoDataFrame({
        "id": ["V1", "V2", "V3"], "name": ["河边商场", "远处影院", "小区KTV"], "kind": ["mall", "cinema", "ktv"],
        "capacity": [2000, 500, 80], "district_code": [A, A, A]},
        geometry=[Point(114.05, 30.0895), Point(114.05, 30.085), Point(114.071, 30.06)], crs=4326)
    water = gpd.GeoDataFrame({"id": ["W1"], "name": ["长河"], "kind": ["river"]},
                             geometry=[Polygon([(114.0, 30.09), (114.2, 30.09), (114.2, 30.095), (114.0, 30.095)])],
                             crs=4326)
    tunnels = gpd.GeoDataFrame({
        "id": ["T1", "T2"], "name": ["乙隧道", "甲隧道"], "condition_class": ["2", "3"], "district_code": [B, A]},
        geometry=[LineString([(114.118, 30.04), (114.118, 30.06)]), LineString([(114.03, 30.01), (114.04, 30.01)])],
        crs=4326)
    resources = gpd.GeoDataFrame({
        "id": ["P1", "P2", "S1", "FS"], "name": ["甲泵站", "甲泵车", "乙沙袋", "甲消防站"],
        "kind": ["drainage_pump", "drainage_pump", "sandbags", "fire_station"], "capacity": [3, 2, 500, None],
        "status": ["ready", "out_of_service", None, "ready"], "district_code": [A, A, B, A]},
        geometry=[Point(114.03, 30.04), Point(114.04, 30.04), Point(114.13, 30.04), Point(114.05, 30.05)], crs=4326)
    insp = pd.DataFrame({"id": ["I1"], "target_layer": ["enterprises"], "target_id": ["C1"],
                         "date": pd.to_datetime(["2026-07-20"]), "result": ["pass"]})
    roster_rows = pd.DataFrame({
        "id": ["L1", "OA", "OB", "L2", "OC", "DA"],
        "date": pd.to_datetime(["2026-07-01"] * 3 + ["2026-07-02"] * 2 + ["2026-07-01"]),
        "role": ["leader", "officer", "officer", "leader", "officer", "officer"],
        "name": ["王带班", "李白班", "赵夜班", "孙带班", "周白班", "甲区值班"],
        "phone": ["13800000001", "13800000002", "13800000003", "13800000004", "13800000005", "13800000006"],
        "start": ["08:00", "08:00", "20:00", "08:00", "8:00", None], "end": ["08:00", "20:00", "08:00", "08:00",
                                                                           "20:00", None],
        "district_code": [None, None, None, None, None, A]})
    with store.transaction() as tx:
        tx.append("districts", districts)
        tx.append("towns", towns)
        tx.append("flood_points", flood)
        tx.append("flood_events", events)
        tx.append("enterprises", ent)
        tx.append("venues", venues)
        tx.append("water", water)
        tx.append("tunnels", tunnels)
        tx.append("resources", resources)
        tx.append("inspections", insp)
        tx.append("duty_roster", roster_rows)
    add_user(store, "admin", "demo", role="admin", demo=True)
    add_user(store, "command", "demo", role="command", demo=True)
    add_user(store, "planner", "demo", role="planner", demo=True)
    add_user(store, "d" + A, "demo", role="district", district_code=A, demo=True)
    return store


@pytest.fixture(scope="module")
def city_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("flood") / "city.gpkg"
    build_flood_city(path)
    return path


@pytest.fixture
def store(city_path, tmp_path):
    import shutil

    path = tmp_path / "city.gpkg"
    shutil.copyfile(city_path, path)
    return open_store(path, create=False)


COMMAND = Principal("command", "command")
PLANNER = Principal("planner", "planner")
LEADER_A = Principal("d" + A, "district", district=A)


# -- the season and the mode ----------------------------------------------------------------------

def test_season_edges_first_and_last_day_are_in_it():
    s = Settings(flood_season="06-01..09-30")
    assert [in_flood_season(date(2026, m, d), s) for m, d in ((5, 31), (6, 1), (9, 30), (10, 1))] == \
        [False, True, True, False]
    wrap = Settings(flood_season="11-15..02-15")
    assert [in_flood_season(date(2026, m, d), wrap) for m, d in ((11, 14), (11, 15), (12, 31), (1, 1), (2, 15),
                                                                 (2, 16))] == [False, True, True, True, True, False]


def test_flood_mode_forced_or_by_season(store):
    july, january = date(2026, 7, 15), date(2026, 1, 15)
    assert flood_mode_on(january, Settings(flood_mode="1"), store)
    assert not flood_mode_on(july, Settings(flood_mode="0"), store)
    assert flood_mode(july, Settings(flood_mode="auto"), store).reason == "season"
    m = flood_mode(january, Settings(flood_mode="auto"), store)
    assert (m.on, m.reason) == (False, "off_season")


def test_a_flood_warning_at_yellow_turns_the_mode_on_out_of_season(store):
    january, auto = date(2026, 1, 15), Settings(flood_mode="auto")
    grant = authorize(COMMAND, "duty")
    set_warning(store, grant, "blue", "rainstorm")
    assert not flood_mode_on(january, auto, store)           # blue is below yellow
    set_warning(store, grant, "red", "heat")
    assert not flood_mode_on(january, auto, store)           # heat brings no water
    set_warning(store, grant, "yellow", "typhoon")
    m = flood_mode(january, auto, store)
    assert (m.on, m.reason, m.alert) == (True, "warning", False)
    set_warning(store, grant, "orange", "rainstorm", "预计6小时降雨50毫米")
    assert flood_mode(january, auto, store).alert
    assert not flood_mode_on(january, Settings(flood_mode="0"), store)   # forced off stays off
    set_warning(store, grant, "none", None)                   # lifted
    w = current_warning(store)
    assert (w.level, w.kind, w.active) == ("none", "rainstorm", False)
    assert not flood_mode_on(january, auto, store)
    assert [x.level for x in warning_history(store)] == ["none", "orange", "yellow", "red", "blue"]


# -- setting the warning: the duty grant, on the server, with an audit row --------------------------

def test_set_warning_writes_the_row_and_its_audit_row(store):
    w = set_warning(store, authorize(COMMAND, "duty"), "orange", "rainstorm", "注意下穿通道")
    row = store.read("warnings").iloc[-1]
    assert (row["id"], row["level"], row["kind"], row["set_by"], row["note"]) == \
        (w.id, "orange", "rainstorm", "command", "注意下穿通道")
    audit = store.read("audit_log", where={"layer": "warnings", "record_id": w.id})
    assert set(audit["field"]) == {"level", "kind"} and set(audit["user_id"]) == {"command"}
    assert audit.set_index("field").loc["level", "new_value"] == "orange"
    assert pd.isna(audit.set_index("field").loc["level", "old_value"])
    assert set(audit["action"]) == {"warning.set"}


@pytest.mark.parametrize("make", [
    lambda: authorize(PLANNER, "read"),                                   # planner: no duty grant at all
    lambda: authorize(LEADER_A, "read"),                                  # district: read only
    lambda: Access(principal=LEADER_A, action="duty", districts=(A,)),    # a forged grant for one district
    lambda: authorize(COMMAND, "read"),                                   # the right person, the wrong grant
])
def test_set_warning_refused_without_the_duty_grant_and_writes_nothing(store, make):
    before = (store.count("warnings"), store.count("audit_log"))
    with pytest.raises(ActionDenied):
        set_warning(store, make(), "red", "rainstorm")
    assert (store.count("warnings"), store.count("audit_log")) == before


def test_the_duty_grant_is_only_the_command_centres_and_admins():
    for who in (PLANNER, LEADER_A, Principal("t", "town", district=A, town=A + "001"), Principal("w", "wall")):
        with pytest.raises(AccessDenied):
            authorize(who, "duty")
    assert authorize(Principal("admin", "admin"), "duty").districts is None


def test_a_bad_level_kind_or_note_is_refused(store):
    grant = authorize(COMMAND, "duty")
    for level, kind, note in (("purple", "rainstorm", None), ("red", "meteor", None), ("red", None, None),
                              ("red", "rainstorm", "x" * 501)):
        with pytest.raises(StepRefused):
            set_warning(store, grant, level, kind, note)
    assert store.count("warnings") == 0


def test_a_forged_callback_payload_is_refused_over_http(city_path, tmp_path):
    """The duty desk's callback posted by a planner and a district leader with a red warning in the payload:
    refused, nothing written; the command centre's own post writes a row signed with its session's user."""
    import shutil

    from dashboard.app import create_app

    path = tmp_path / "city.gpkg"
    shutil.copyfile(city_path, path)
    app = create_app(Settings(store=str(path), secret_key="k"))
    s = open_store(path, create=False)

    def post(user: str):
        c = app.server.test_client()
        assert c.post("/login", data={"username": user, "password": "demo", "next": "/"}).status_code == 302
        deps = c.get("/_dash-dependencies").get_json()
        dep = next(d for d in deps if "duty-msg.children" in d["output"])
        outs = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]}
                for o in dep["output"].strip(".").split("...")]
        return c.post("/_dash-update-component", json={
            "output": dep["output"], "outputs": outs,
            "inputs": [{"id": "duty-set", "property": "n_clicks", "value": 1},
                       {"id": "duty-lift", "property": "n_clicks", "value": 0}],
            "state": [{"id": "duty-level", "property": "value", "value": "red"},
                      {"id": "duty-kind", "property": "value", "value": "typhoon"},
                      {"id": "duty-note", "property": "value", "value": "set_by=admin"},
                      {"id": "duty-lang", "property": "data", "value": "zh"}],
            "changedPropIds": ["duty-set.n_clicks"]})

    for user in ("planner", "d" + A):
        r = post(user)
        assert r.status_code == 403, user
        assert (s.count("warnings"), s.count("audit_log")) == (0, 0)
    r = post("command")
    assert r.status_code == 200 and "duty-saved" in r.get_data(as_text=True)
    w = current_warning(s)
    assert (w.level, w.kind, w.set_by) == ("red", "typhoon", "command")


# -- the roster ------------------------------------------------------------------------------------

def test_on_duty_picks_the_right_person_at_a_shift_boundary(store):
    def who(when: str, district=None) -> dict[str, str]:
        f = on_duty(store, datetime.fromisoformat(when), district)
        return dict(zip(f["role"], f["name"], strict=True))

    assert who("2026-07-01T07:59") == {}                                   # before the first shift
    assert who("2026-07-01T08:00") == {"leader": "王带班", "officer": "李白班"}
    assert who("2026-07-01T19:59:59") == {"leader": "王带班", "officer": "李白班"}
    assert who("2026-07-01T20:00") == {"leader": "王带班", "officer": "赵夜班"}   # the incoming officer
    assert who("2026-07-02T07:59") == {"leader": "王带班", "officer": "赵夜班"}   # the night shift runs on
    assert who("2026-07-02T08:00") == {"leader": "孙带班", "officer": "周白班"}   # handover, both roles
    assert who("2026-07-01T12:00", A) == {"officer": "甲区值班"}             # the district's own room
    assert who("2026-07-02T00:00", A) == {}                                 # a whole day ends at midnight
    f = on_duty(store, datetime.fromisoformat("2026-07-01T12:00"))
    assert list(f["role"]) == ["leader", "officer"] and f["phone"].iloc[0] == "13800000001"


def test_roster_of_a_week_is_narrowed_to_the_users_district(store):
    everyone = roster(store, date(2026, 6, 29), date(2026, 7, 5), authorize(COMMAND))
    assert list(everyone["id"]) == ["DA", "L1", "OA", "OB", "L2", "OC"]
    assert everyone.loc[everyone["id"] == "OB", "ends"].iloc[0] == pd.Timestamp("2026-07-02 08:00")
    mine = roster(store, date(2026, 6, 29), date(2026, 7, 5), authorize(LEADER_A))
    assert list(mine["id"]) == ["DA"]
    assert len(roster(store, date(2026, 7, 6), date(2026, 7, 12), authorize(COMMAND))) == 0


def test_a_roster_csv_imports_end_to_end(store, tmp_path):
    csv = tmp_path / "值班表.csv"
    csv.write_text("编号,值班日期,岗位,姓名,联系电话,开始时间,结束时间,区县\n"
                   "R1,2026-08-03,带班领导,钱领导,13900000001,08:30,08:30,\n"
                   "R2,2026-08-03,值班员,吴值班,13900000002,8:30,20:30,\n"
                   "R3,2026-08-03,值班员,郑夜班,13900000003,20:30,08:30,\n"
                   f"R4,2026-08-03,值班员,甲区员,13900000004,,,{A}\n"
                   "R5,2026-08-03,司机,错岗位,13900000005,08:30,20:30,\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "layers", "import", "duty_roster", str(csv), "--store",
                          str(Path(store.url))], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "写入 4" in run.stdout and "隔离 1" in run.stdout and "司机" in run.stdout
    week = roster(store, date(2026, 8, 3), date(2026, 8, 9), authorize(COMMAND))
    assert list(week["id"]) == ["R4", "R1", "R2", "R3"]
    assert list(week["role"]) == ["officer", "leader", "officer", "officer"]
    night = on_duty(store, datetime(2026, 8, 4, 6, 0))
    assert dict(zip(night["role"], night["name"], strict=True)) == {"leader": "钱领导", "officer": "郑夜班"}
    assert list(on_duty(store, datetime(2026, 8, 3, 23, 0), A)["name"]) == ["甲区员"]


# -- what flood mode puts forward --------------------------------------------------------------------

def test_flood_picture_counts_on_the_hand_made_city(store):
    fp = flood_picture(store, Settings(), date(2026, 8, 1), authorize(COMMAND))
    assert fp.since == date(2024, 6, 1)                    # the 2024, 2025 and 2026 seasons
    p = fp.points.set_index("id")
    assert p.loc[["F1", "F2", "F3", "F4"], "severity"].tolist() == ["severe", "severe", "minor", "unrated"]
    assert p.loc[["F1", "F2", "F3", "F4"], "severity_source"].tolist() == ["recorded", "depth", "recorded", "none"]
    # F1: 2025-07-01 and 2026-07-10 count; 2021 and 2024-05-31 are before the window; F3's 2024-06-01 counts
    assert (p.loc["F1", "events"], p.loc["F1", "worst_depth_cm"]) == (2, 70)
    assert (p.loc["F3", "events"], p.loc["F2", "events"]) == (1, 0)
    assert list(fp.worst(2)["id"]) == ["F1", "F2"]
    by = fp.by_district.set_index("code")
    assert by.loc[A, ["points_severe", "points_minor", "points_unrated"]].tolist() == [1, 1, 0]
    assert by.loc[B, ["points_severe", "points_unrated"]].tolist() == [1, 1]
    assert by.loc[A, ["drainage_pump_sites", "drainage_pump_ready", "drainage_pump_units"]].tolist() == [2, 1, 3]
    assert by.loc[B, ["sandbags_sites", "sandbags_ready", "sandbags_units"]].tolist() == [1, 1, 500]
    assert set(fp.supplies["id"]) == {"P1", "P2", "S1"}    # the fire station is no flood supply
    assert by.loc[A, ["underpasses", "tunnels", "underground_low"]].tolist() == [0, 1, 0]
    assert by.loc[B, ["underpasses", "tunnels", "underground_low"]].tolist() == [1, 1, 2]   # T1 passes F2
    ex = fp.exposed.set_index("id")
    assert set(ex.index) == {"C1", "V1"}                   # C2 390 m away; V3 is near a minor point only
    assert (ex.loc["C1", "near"], ex.loc["V1", "near"]) == ("flood_point", "water")
    assert 150 < ex.loc["C1", "distance_m"] < 250 and 30 < ex.loc["V1", "distance_m"] < 80
    assert (by.loc[A, "sites_low"], by.loc[A, "venues_low"]) == (1, 1)
    assert fp.totals()["points_severe"] == 2


def test_flood_picture_of_a_district_user_holds_only_their_district(store):
    fp = flood_picture(store, Settings(), date(2026, 8, 1), authorize(LEADER_A))
    assert list(fp.by_district["code"]) == [A]
    for frame in (fp.points, fp.supplies, fp.underground, fp.exposed):
        assert set(frame["district_code"]) <= {A}
    assert set(fp.points["id"]) == {"F1", "F3"}
    assert "乙" not in "".join(fp.points["name"]) + "".join(fp.underground["name"]) + "".join(fp.supplies["name"])


def test_the_maps_flood_preset_names_existing_layer_toggles():
    from dashboard.components.mapfig import TOGGLES
    from dashboard.pages.map import FLOOD_PRESET

    assert {"flood_points", "resources", "tunnels"} <= set(FLOOD_PRESET) <= set(TOGGLES)
