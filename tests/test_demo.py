"""The generated demo city: deterministic, valid against the schema, a real road graph, real gaps, scalable."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from werkzeug.security import check_password_hash

from layers.cli import main as cli_main
from layers.credit_code import valid_mask
from layers.demo.city import AS_OF, build_demo_store, generate_city
from layers.schema import LAYERS, T

SMALL = 500


@pytest.fixture(scope="module")
def city() -> dict:
    return generate_city(enterprises=SMALL, seed=7)


@pytest.fixture(scope="module")
def bigger_city() -> dict:
    """Three times the enterprises and another seed."""
    return generate_city(enterprises=3 * SMALL, seed=8)


_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _uscc_ok(code: str) -> bool:
    """GB 32100-2015 check, written out independently of the generator."""
    if len(code) != 18 or any(c not in _USCC for c in code):
        return False
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    s = sum(_USCC.index(c) * w for c, w in zip(code[:17], weights, strict=True))
    return code[17] == _USCC[(31 - s % 31) % 31]


def test_known_credit_codes_pass_our_independent_check():
    assert _uscc_ok("91350100M000100Y43")
    assert not _uscc_ok("91350100M000100Y44")


def _wkb(frame) -> list | None:
    if isinstance(frame, gpd.GeoDataFrame):
        return shapely.to_wkb(frame.geometry.to_numpy()).tolist()
    return None


def test_same_seed_gives_the_same_city_byte_for_byte(city):
    again = generate_city(enterprises=SMALL, seed=7)
    assert list(again) == list(city)
    for name, frame in city.items():
        other = again[name]
        pd.testing.assert_frame_equal(pd.DataFrame(frame.drop(columns="geometry", errors="ignore")),
                                      pd.DataFrame(other.drop(columns="geometry", errors="ignore")),
                                      check_exact=True, obj=name)
        assert _wkb(frame) == _wkb(other), name


def test_another_seed_gives_another_city(city, bigger_city):
    a = shapely.get_coordinates(city["enterprises"].geometry.to_numpy())[:100]
    b = shapely.get_coordinates(bigger_city["enterprises"].geometry.to_numpy())[:100]
    assert not np.array_equal(a, b)
    assert _wkb(city["districts"]) != _wkb(bigger_city["districts"])
    assert city["users"]["password_hash"].iloc[0] != bigger_city["users"]["password_hash"].iloc[0]


def test_every_layer_and_row_satisfies_the_schema(city):
    assert set(city) == set(LAYERS)
    for name, frame in city.items():
        schema = LAYERS[name]
        assert set(schema.names) <= set(frame.columns) | {"geometry"}, name
        assert set(frame.columns) - {"geometry"} <= set(schema.names), name
        for col in schema.columns:
            if col.name not in frame.columns:
                continue
            s = frame[col.name]
            if col.required:
                assert s.notna().all(), f"{name}.{col.name} has missing values"
            if col.unique:
                assert s.is_unique, f"{name}.{col.name} is not unique"
            if col.allowed:
                bad = set(s.dropna()) - set(col.allowed)
                assert not bad, f"{name}.{col.name}: {bad}"
            if col.type is T.DATE:
                assert pd.api.types.is_datetime64_any_dtype(s), f"{name}.{col.name}"
        if schema.spatial:
            assert isinstance(frame, gpd.GeoDataFrame) and frame.crs.to_epsg() == 4326, name
            geoms = frame.geometry.to_numpy()
            if len(frame) and schema.geometry_required:
                assert not shapely.is_missing(geoms).any() and not shapely.is_empty(geoms).any(), name
            assert shapely.is_valid(geoms).all(), name
            kinds = set(shapely.get_type_id(geoms).tolist())
            expect = {"POINT": {0}, "LINESTRING": {1}, "MULTIPOLYGON": {6}, "GEOMETRY": {0, 1, 2, 3, 4, 5, 6}}
            assert kinds <= expect[schema.geometry.value], (name, kinds)
            if len(frame):
                minx, miny, maxx, maxy = frame.total_bounds
                assert 113.9 < minx and maxx < 114.7 and 30.3 < miny and maxy < 30.9, name


def test_codes_are_well_formed_and_consistent(city):
    d = city["districts"]
    t = city["towns"]
    assert len(d) == 8 and d["code"].str.fullmatch(r"4201\d\d").all()
    assert 55 <= len(t) <= 65 and t["code"].str.fullmatch(r"\d{9}").all()
    assert (t["code"].str[:6] == t["district_code"]).all()
    assert t["name"].str.endswith(("街道", "镇")).all()
    for layer in ("enterprises", "venues"):
        f = city[layer]
        codes = f["credit_code"].dropna()
        assert len(codes) > 0.5 * len(f)
        assert all(_uscc_ok(c) for c in codes), layer
        assert valid_mask(codes).all(), layer  # the importer's own check agrees
        assert (f["town_code"].str[:6] == f["district_code"]).all()
        assert set(f["town_code"]) <= set(t["code"])
    # the credit code's registration area is the registered district
    e = city["enterprises"]
    assert (e["credit_code"].str[2:8] == e["district_code"]).all()


def test_districts_partition_the_city_and_towns_nest(city):
    d = city["districts"].to_crs(32650)
    t = city["towns"].to_crs(32650)
    union = shapely.union_all(d.geometry.to_numpy())
    assert abs(union.area - d.area.sum()) < 1e-6 * union.area  # no overlaps
    assert 1_000e6 < union.area < 1_600e6
    assert abs(t.area.sum() - d.area.sum()) < 1e-6 * union.area
    for code, poly in zip(d["code"], d.geometry, strict=True):
        towns = t[t["district_code"] == code]
        assert 3 <= len(towns) <= 14
        assert abs(shapely.union_all(towns.geometry.to_numpy()).area - poly.area) < 1e-6 * poly.area


def test_points_lie_in_their_district_except_the_deliberately_misregistered(city):
    towns = city["towns"][["code", "district_code", "geometry"]]
    for layer, max_wrong in (("enterprises", 0.02), ("venues", 0.0), ("gas_stations", 0.0),
                             ("resources", 0.0), ("teams", 0.0)):
        pts = city[layer]
        j = gpd.sjoin(pts[["id", "district_code", "geometry"]], towns, predicate="within", how="left")
        assert j.index.is_unique, layer  # a point is in exactly one town
        assert j["code"].notna().all(), layer
        wrong = (j["district_code_left"] != j["district_code_right"]).mean()
        assert wrong <= max_wrong, (layer, wrong)
    e = city["enterprises"]
    j = gpd.sjoin(e[["town_code", "geometry"]], towns, predicate="within")
    assert (j["town_code"] == j["code"]).mean() > 0.97


def test_misregistration_is_rare_but_present_at_scale(bigger_city):
    towns = bigger_city["towns"][["district_code", "geometry"]]
    e = bigger_city["enterprises"]
    j = gpd.sjoin(e[["district_code", "geometry"]], towns, predicate="within")
    wrong = int((j["district_code_left"] != j["district_code_right"]).sum())
    assert 1 <= wrong <= 0.015 * len(e)


def _graph(roads: gpd.GeoDataFrame):
    g = roads.geometry.to_numpy()
    ends = np.vstack([shapely.get_coordinates(shapely.get_point(g, 0)),
                      shapely.get_coordinates(shapely.get_point(g, -1))])
    nodes, inv = np.unique(ends, axis=0, return_inverse=True)
    inv = inv.ravel()
    a, b = inv[: len(g)], inv[len(g):]
    return a, b, len(nodes)


def test_roads_form_a_connected_graph(city):
    roads = city["roads"]
    assert 10_000 <= len(roads) <= 30_000
    assert set(roads["road_class"]) == {"motorway", "primary", "secondary", "tertiary"}
    a, b, n = _graph(roads)
    deg = np.bincount(np.concatenate([a, b]), minlength=n)
    assert (deg >= 3).sum() > 0.4 * n  # segment ends meet exactly at intersections
    _, lab = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)), directed=False)
    assert np.bincount(lab).max() > 0.95 * n
    assert (roads["speed_kmh"] > 0).all()


def test_networks_and_structures(city):
    water = shapely.union_all(city["water"].geometry.to_numpy())
    bridges = city["bridges"]
    assert len(bridges) >= 10
    assert shapely.intersects(bridges.geometry.to_numpy(), water).sum() >= 5
    assert bridges["condition_class"].isin(["4", "5"]).sum() >= 2
    assert 2 <= len(city["tunnels"]) <= 8
    assert 3 <= len(city["rail_lines"]) <= 4
    st = city["rail_stations"]
    assert len(st) >= 40 and st["lines"].str.contains(",").any()  # interchanges
    gas = city["gas_pipelines"]
    assert set(gas["pressure"]) == {"high", "sub_high", "medium", "low"}
    assert gas["year_laid"].between(1970, AS_OF.year).all()
    assert {"gate", "regulator", "filling", "fuel"} <= set(city["gas_stations"]["kind"])
    assert set(city["resources"]["kind"]) == {"fire_station", "rescue_team", "shelter", "supply_depot",
                                              "hazchem_team", "medical", "drainage_pump", "sandbags", "boat",
                                              "generator"}
    assert set(city["resources"]["status"]) == {"ready", "out_of_service"}
    assert set(city["flood_points"]["kind"]) == {"waterlogging", "underpass", "riverside_works"}
    assert set(city["water"]["kind"]) >= {"river", "lake"}


def test_grades_and_industries_are_realistic(bigger_city):
    e = bigger_city["enterprises"]
    share = e["grade"].value_counts(normalize=True)
    assert 0.02 <= share["major"] <= 0.04 and 0.4 <= share["low"] <= 0.6
    assert e["industry"].nunique() >= 8
    risky = e[e["industry"].isin(["hazchem", "fireworks", "mining"])]
    assert (risky["grade"].isin(["major", "high"])).mean() > 3 * share[["major", "high"]].sum() / 2


def test_teams_departments_users(city):
    teams = city["teams"]
    assert 15 <= len(teams) <= 25
    assert set(teams["shift_start"]) == {"08:30", "18:00"}
    day = teams[teams["shift_start"] == "08:30"]
    assert (day["break_start"] == "12:00").all() and (day["break_minutes"] == 60).all()
    assert (teams[teams["shift_start"] == "18:00"]["shift_end"] == "23:30").all()
    deps = city["departments"]
    assert {"示范市应急管理局", "示范市消防救援支队", "示范市教育局"} <= set(deps["name"])
    assert deps["name_en"].notna().all()
    users = city["users"]
    districts = set(city["districts"]["code"])
    towns = city["towns"]["code"]
    assert {"admin", "command", "planner"} | {f"d{c}" for c in districts} | {f"t{c}" for c in towns} == \
        set(users["id"])
    assert users.set_index("id").loc["admin", "role"] == "admin"
    assert users.set_index("id").loc["command", "role"] == "command"
    assert users["demo"].all() and not users["disabled"].any()
    town_users = users[users["role"] == "town"]
    assert all(t.startswith(d) for t, d in zip(town_users["town_code"], town_users["district_code"], strict=True))
    assert users.set_index("id").loc["planner", "role"] == "planner"
    lead = users[users["role"] == "district"]
    assert set(lead["district_code"]) == districts
    h = users["password_hash"].iloc[0]
    assert h.startswith("pbkdf2:sha256:600000$")
    assert check_password_hash(h, "demo") and not check_password_hash(h, "Demo")


def test_two_years_of_inspections_with_real_gaps(bigger_city):
    c = bigger_city
    ins = c["inspections"]
    as_of = pd.Timestamp(AS_OF)
    assert ins["date"].max() <= as_of and ins["date"].min() >= as_of - pd.Timedelta(days=731)
    assert (ins["date"].dt.day_of_week < 5).all()
    objects = sum(len(c[k]) for k in ("enterprises", "venues", "gas_stations", "bridges", "tunnels"))
    assert 1.3 <= len(ins) / objects <= 3.0
    assert set(ins["team_id"]) <= set(c["teams"]["id"])
    e = c["enterprises"]
    seen = set(ins.loc[ins["target_layer"] == "enterprises", "target_id"])
    never = ~e["id"].isin(seen)
    assert 0.03 < never.mean() < 0.25
    last = ins[ins["target_layer"] == "enterprises"].groupby("target_id")["date"].max()
    major = e[e["grade"] == "major"]
    overdue = (as_of - last.reindex(major["id"])).dt.days > 60
    assert overdue.any()
    # under-inspected towns: the least inspected towns get far fewer visits per enterprise than the median
    per_town = e.assign(n=e["id"].map(ins.groupby("target_id").size()).fillna(0)).groupby("town_code")["n"].mean()
    assert per_town.min() < 0.35 * per_town.median()


def test_a_remote_area_where_nobody_inspects(bigger_city):
    from scipy.spatial import cKDTree

    c = bigger_city
    ins = c["inspections"]
    objs = pd.concat([c[k][["id", "geometry"]] for k in ("enterprises", "venues", "gas_stations")],
                     ignore_index=True)
    xy = shapely.get_coordinates(gpd.GeoSeries(objs.geometry, crs=4326).to_crs(32650).to_numpy())
    seen = objs["id"].isin(set(ins["target_id"])).to_numpy()
    tree = cKDTree(xy)
    # some object has at least 4 others within 1.5 km and none of them was ever inspected
    found = False
    for i in np.flatnonzero(~seen):
        near = tree.query_ball_point(xy[i], 1_500.0)
        if len(near) >= 5 and not seen[near].any():
            found = True
            break
    assert found


def test_hazards_accidents_and_supervision_gaps(bigger_city):
    c = bigger_city
    hz = c["hazards"]
    as_of = pd.Timestamp(AS_OF)
    assert set(hz["status"]) == {"open", "rectifying", "awaiting_check", "closed", "rejected"}
    assert set(hz["level"]) == {"general", "major"}
    overdue = (hz["status"] != "closed") & (hz["deadline"] < as_of)
    assert overdue.any()
    assert (hz.loc[hz["status"] == "closed", "closed_date"].notna()).all()
    assert (hz["closed_date"].dropna() <= as_of).all()
    assert not hz[["resp_in_place", "funds_in_place", "plan_in_place"]].all().all()  # some elements missing
    repeated = hz.groupby(["target_id", "type"]).size()
    assert (repeated >= 2).any()
    ins_found = c["inspections"]["hazards_found"].sum()
    assert len(hz) == ins_found
    # hazard points sit on their target
    e = c["enterprises"].set_index("id")
    he = hz[hz["target_layer"] == "enterprises"].head(50)
    assert shapely.equals(he.geometry.to_numpy(), e.loc[he["target_id"]].geometry.to_numpy()).all()

    acc = c["accidents"]
    assert len(acc) >= 12 and acc["enterprise_id"].isin(e.index).all()
    again = acc.groupby(["enterprise_id", "kind"]).size()
    assert (again >= 2).any()

    r = c["responsibilities"]
    assert set(r["department_id"]) <= set(c["departments"]["id"])
    targets = pd.concat([c[k]["id"] for k in ("enterprises", "venues", "gas_stations", "bridges", "tunnels")])
    linked = set(r["target_id"])
    assert 0 < (~targets.isin(linked)).sum() < 0.05 * len(targets)  # some have no department
    per = r.groupby("target_id").agg(n=("lead", "size"), leads=("lead", "sum"))
    assert ((per["n"] >= 2) & (per["leads"] == 0)).any()  # several, no lead
    assert (per["leads"] <= 1).all()
    assert r["officer"].isna().any() and r["officer"].notna().mean() > 0.9


def test_counts_scale_with_the_parameter(city, bigger_city):
    for layer in ("enterprises", "venues"):
        assert len(bigger_city[layer]) == 3 * len(city[layer])
    for layer in ("inspections", "hazards", "responsibilities"):
        def n(c, layer=layer):  # rows about enterprises and venues (fixed networks do not scale)
            return int(c[layer]["target_layer"].isin(["enterprises", "venues"]).sum())
        ratio = n(bigger_city) / n(city)
        assert 2.2 < ratio < 3.8, (layer, ratio)
    assert len(city["districts"]) == len(bigger_city["districts"]) == 8
    assert abs(len(city["roads"]) - len(bigger_city["roads"])) < 0.3 * len(city["roads"])


def test_the_store_is_a_valid_geopackage_holding_the_generated_city(tmp_path, city):
    path = tmp_path / "city.gpkg"
    store = build_demo_store(path, enterprises=SMALL, seed=7)
    layers = dict(pyogrio.list_layers(path).tolist())
    assert layers["enterprises"] == "Point" and layers["roads"] == "LineString"
    assert layers["districts"] == "MultiPolygon"
    ent = pyogrio.read_dataframe(path, layer="enterprises")
    assert len(ent) == SMALL == store.count("enterprises")
    assert ent.crs.to_epsg() == 4326
    for name, frame in city.items():
        assert store.count(name) == len(frame), name
    back = store.read("enterprises")
    ref = city["enterprises"]
    assert back["id"].tolist() == ref["id"].tolist()
    assert back["credit_code"].tolist() == ref["credit_code"].tolist()
    assert shapely.equals(back.geometry.to_numpy(), ref.geometry.to_numpy()).all()
    hz = store.read("hazards", columns=["found_date", "deadline"])
    assert (hz["found_date"] == city["hazards"]["found_date"]).all()
    assert pd.api.types.is_datetime64_any_dtype(hz["deadline"])
    from layers.access.users import authenticate

    who = authenticate(store, "d420102", "demo")
    assert who is not None and who.district == "420102" and who.role == "district"
    assert authenticate(store, "admin", "demo").role == "admin"
    assert authenticate(store, "admin", "wrong") is None


def test_cli_refuses_to_overwrite_without_force(tmp_path, capsys):
    out = tmp_path / "c.gpkg"
    out.write_bytes(b"keep me")
    assert cli_main(["demo", "--out", str(out), "--enterprises", "50"]) == 1
    assert out.read_bytes() == b"keep me"
    assert "--force" in capsys.readouterr().out
    assert cli_main(["demo", "--out", str(out), "--enterprises", "50", "--seed", "3", "--force"]) == 0
    assert pyogrio.read_dataframe(out, layer="enterprises").shape[0] == 50

