"""layers/summary.py on a hand-made city whose answers are known (two square districts, four towns)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from layers.analysis.summary import (
    Filters,
    area_figures,
    load_city,
    nearby,
    object_detail,
    risk_index,
    select,
    utm_epsg,
)
from layers.errors import RiskMapError
from layers.settings import Settings
from layers.store import open_store

XSS = "<img src=x onerror=alert(1)>"


def _box(x0: float, y0: float, x1: float, y1: float) -> MultiPolygon:
    return MultiPolygon([Polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])])


def build_tiny_city(path: Path):
    """District A = lon 114.0-114.1, B = 114.1-114.2, lat 30.0-30.1; each split at lat 30.05 into two towns.

    Latest inspection (as of) 2026-06-30.
    """
    store = open_store(path)
    A, B = "420101", "420102"
    gdf = gpd.GeoDataFrame
    with store.transaction() as tx:
        tx.append("districts", gdf({"code": [A, B], "name": ["甲区", "乙区"], "name_en": ["Jia", "Yi"]},
                                   geometry=[_box(114.0, 30.0, 114.1, 30.1), _box(114.1, 30.0, 114.2, 30.1)],
                                   crs=4326))
        tx.append("towns", gdf({"code": [A + "001", A + "002", B + "001", B + "002"],
                                "name": ["甲一街", "甲二街", "乙一街", "乙二街"],
                                "name_en": ["Jia-1", "Jia-2", "Yi-1", "Yi-2"], "district_code": [A, A, B, B]},
                               geometry=[_box(114.0, 30.0, 114.1, 30.05), _box(114.0, 30.05, 114.1, 30.1),
                                         _box(114.1, 30.0, 114.2, 30.05), _box(114.1, 30.05, 114.2, 30.1)],
                               crs=4326))
        tx.append("enterprises", gdf({
            "id": ["e1", "e2", "e3", "e4"], "name": ["一号化工", "二号矿山", "三号工地", XSS],
            "industry": ["hazchem", "mining", "construction", "hazchem"],
            "grade": ["major", "high", "low", "major"], "district_code": [A, A, B, B],
            "town_code": [A + "001", A + "002", B + "001", B + "002"], "status": ["operating"] * 4},
            geometry=[Point(114.02, 30.02), Point(114.02, 30.07), Point(114.12, 30.02), Point(114.15, 30.08)],
            crs=4326))
        tx.append("bridges", gdf({"id": ["b1", "b2"], "name": ["一号桥", "二号桥"], "condition_class": ["5", "2"],
                                  "district_code": [A, B], "town_code": [A + "001", B + "001"]},
                                 geometry=[LineString([(114.03, 30.01), (114.04, 30.01)]),
                                           LineString([(114.13, 30.01), (114.14, 30.01)])], crs=4326))
        tx.append("tunnels", gdf({"id": ["t1"], "name": ["一号隧道"], "condition_class": ["4"],
                                  "district_code": [B], "town_code": [B + "002"]},
                                 geometry=[LineString([(114.13, 30.08), (114.14, 30.08)])], crs=4326))
        tx.append("gas_pipelines", gdf({"id": ["p1", "p2"], "pressure": ["high", "medium"], "district_code": [A, B]},
                                       geometry=[LineString([(114.0, 30.02), (114.05, 30.02)]),
                                                 LineString([(114.11, 30.02), (114.12, 30.02)])], crs=4326))
        tx.append("venues", gdf({"id": ["v1", "v2"], "name": ["欢乐KTV", "大商场"], "kind": ["ktv", "mall"],
                                 "capacity": [500, 3000], "district_code": [A, B], "town_code": [A + "001", B + "002"]},
                                geometry=[Point(114.03, 30.03), Point(114.16, 30.09)], crs=4326))
        tx.append("hazards", gdf({
            "id": ["h1", "h2", "h3", "h4"], "target_layer": ["enterprises", "enterprises", "enterprises", "bridges"],
            "target_id": ["e1", "e1", "e3", "b1"], "level": ["major", "general", "general", "major"],
            "found_date": pd.to_datetime(["2026-05-01", "2026-04-01", "2026-06-01", "2026-06-10"]),
            "deadline": pd.to_datetime(["2026-06-01", "2026-05-01", "2026-08-01", None]),
            "status": ["open", "closed", "rectifying", "open"], "district_code": [A, A, B, A],
            "description": ["储罐区无防火堤", "通道堵塞", "脚手架松动", "支座开裂"]},
            geometry=[None, None, None, None], crs=4326))
        tx.append("inspections", pd.DataFrame({
            "id": ["i1", "i2", "i3", "i4"], "target_layer": ["enterprises", "enterprises", "enterprises", "bridges"],
            "target_id": ["e1", "e2", "e3", "b1"],
            "date": pd.to_datetime(["2026-06-30", "2026-05-01", "2026-06-01", "2026-06-15"]),
            "result": ["hazards_found", "pass", "pass", "pass"]}))
        tx.append("departments", pd.DataFrame({"id": ["d1", "d2"], "name": ["市应急管理局", "区住建局"],
                                               "name_en": ["Emergency Management Bureau", "Housing Bureau"]}))
        tx.append("responsibilities", pd.DataFrame({
            "id": ["r1", "r2"], "target_layer": ["enterprises", "enterprises"], "target_id": ["e1", "e1"],
            "department_id": ["d2", "d1"], "lead": [False, True], "officer": ["李四", "张三"]}))
        tx.append("accidents", gpd.GeoDataFrame({"id": ["a1"], "enterprise_id": ["e1"],
                                                 "date": pd.to_datetime(["2025-03-02"]), "kind": ["fire"],
                                                 "deaths": [0], "injuries": [2]},
                                                geometry=[Point(114.02, 30.02)], crs=4326))
    return store


@pytest.fixture
def tiny(tmp_path):
    return build_tiny_city(tmp_path / "tiny.gpkg")


W = Settings().risk_index_weights
#: geodesic length of pipeline p1 (0.05 degrees of longitude at lat 30.02) in km; UTM is within 0.1 % of it
KM_P1 = Geod(ellps="WGS84").line_length([114.0, 114.05], [30.02, 30.02]) / 1000.0


def test_utm_zone():
    assert utm_epsg(114.3, 30.6) == 32650
    assert utm_epsg(-0.1, 51.5) == 32630
    assert utm_epsg(151.2, -33.9) == 32756


def test_city_joins(tiny):
    city = load_city(tiny)
    assert city.as_of == pd.Timestamp("2026-06-30")
    e = city.objects["enterprises"].set_index("id")
    assert e.loc["e1", "last_inspection"] == pd.Timestamp("2026-06-30")
    assert pd.isna(e.loc["e4", "last_inspection"])
    assert e.loc["e1", "open_hazards"] == 1 and e.loc["e1", "open_major"] == 1   # h2 is closed
    assert e.loc["e3", "open_hazards"] == 1 and e.loc["e3", "open_major"] == 0
    # the lead department wins over the other one
    assert e.loc["e1", "department"] == "市应急管理局" and e.loc["e1", "officer"] == "张三"
    h = city.hazards.set_index("id")
    assert bool(h.loc["h1", "overdue"]) and not bool(h.loc["h3", "overdue"]) and not bool(h.loc["h4", "overdue"])
    # a hazard without its own point sits at its object (the bridge's midpoint)
    assert h.loc["h4", "x"] == pytest.approx(114.035) and h.loc["h4", "town_code"] == "420101001"
    # the cache is keyed by data version: a write is seen at once
    assert load_city(tiny) is city
    with tiny.transaction() as tx:
        tx.update("enterprises", ["e2"], {"grade": "low"})
    assert load_city(tiny).objects["enterprises"].set_index("id").loc["e2", "grade"] == "low"


def test_area_figures_city_and_district(tiny):
    city = load_city(tiny)
    f = area_figures(select(city, Filters()))
    assert f["as_of"] == "2026-06-30" and f["level"] == "city"
    assert f["enterprises"] == {"major": 2, "high": 1, "moderate": 0, "low": 1, "total": 4}
    assert f["hazards"] == {"open": 3, "major": 2, "overdue": 1, "shown": 3, "listed": 0}
    assert f["enforcement"] == {"suspended": 0, "closed": 0, "blacklisted": 0, "repeat": 0}
    km = KM_P1
    assert f["pipelines_km"]["high"] == pytest.approx(km, rel=0.002)
    assert f["pipelines_km"]["medium"] == pytest.approx(km / 5, rel=0.002)
    assert f["pipelines_km"]["low"] == 0.0
    assert f["structures_45"] == {"bridges": 1, "tunnels": 1}
    assert f["venues"] == {"ktv": {"n": 1, "capacity": 500}, "mall": {"n": 1, "capacity": 3000}}
    # window of 30 days ending 2026-06-30 starts 2026-06-01 (inclusive): i1, i3, i4
    assert f["inspections_30d"] == 3
    assert f["inspected_share_30d"] == pytest.approx(0.5)

    a = area_figures(select(city, Filters.make(districts=["420101"])))
    assert a["level"] == "district"
    assert a["enterprises"]["total"] == 2 and a["enterprises"]["low"] == 0
    assert a["hazards"] == {"open": 2, "major": 2, "overdue": 1, "shown": 2, "listed": 0}
    assert a["pipelines_km"]["medium"] == 0.0 and a["structures_45"] == {"bridges": 1, "tunnels": 0}
    assert a["inspections_30d"] == 2

    town = area_figures(select(city, Filters.make(districts=["420102"], town="420102002")))
    assert town["level"] == "town" and town["enterprises"]["total"] == 1
    assert town["structures_45"] == {"bridges": 0, "tunnels": 1} and list(town["venues"]) == ["mall"]


def test_filters_by_grade_industry_and_hazard_status(tiny):
    city = load_city(tiny)
    major = select(city, Filters.make(grades=["major"]))
    assert sorted(major.enterprises["id"]) == ["e1", "e4"]
    # only hazards of major enterprises remain (the bridge's hazard drops out with an attribute filter)
    assert sorted(major.hazards["id"]) == ["h1"]
    assert len(major.lines["bridges"]) == 0
    chem = select(city, Filters.make(industries=["hazchem"], districts=["420102"]))
    assert list(chem.enterprises["id"]) == ["e4"]
    closed = select(city, Filters.make(hazard_status=["closed"]))
    assert list(closed.hazards["id"]) == ["h2"]
    over = select(city, Filters.make(hazard_status=["overdue"]))
    assert list(over.hazards["id"]) == ["h1"]
    # hazard status does not narrow enterprises
    assert len(over.enterprises) == 4
    with pytest.raises(RiskMapError, match="999999"):
        select(city, Filters.make(districts=["999999"]))
    with pytest.raises(RiskMapError, match="420102001"):
        select(city, Filters.make(districts=["420101"], town="420102001"))


def test_risk_index_formula(tiny):
    city = load_city(tiny)
    r = risk_index(select(city, Filters()), weights=W).set_index("code")
    km = KM_P1
    a = 10 * 1 + 5 * 1 + 8 * 2 + 3 * 1 + 6 * 1 + 1 * 0.5 + 2 * km
    b = 10 * 1 + 1 * 1 + 1 * 1 + 6 * 1 + 1 * 3.0
    assert r.loc["420101", "score"] == pytest.approx(a, rel=2e-3)
    assert r.loc["420102", "score"] == pytest.approx(b, rel=1e-3)
    assert r.loc["420101", "index"] == 100.0
    assert r.loc["420102", "index"] == pytest.approx(round(100 * b / a, 1))
    # inside a district: towns
    t = risk_index(select(city, Filters.make(districts=["420102"])), weights=W).set_index("code")
    assert list(t.index) == ["420102001", "420102002"]
    assert t.loc["420102001", "score"] == pytest.approx(1 + 1)         # a low enterprise + a general hazard
    assert t.loc["420102002", "score"] == pytest.approx(10 + 6 + 3.0)  # major, tunnel class 4, mall 3000
    # weights are settings: changing one changes the score
    only_gas = risk_index(select(city, Filters()), weights={"gas_high_km": 1.0}).set_index("code")
    assert only_gas.loc["420101", "score"] == pytest.approx(km, rel=2e-3)
    assert only_gas.loc["420102", "index"] == 0.0
    with pytest.raises(RiskMapError, match="bogus"):
        risk_index(select(city, Filters()), weights={"bogus": 1.0})


def test_object_detail(tiny):
    city = load_city(tiny)
    d = object_detail(tiny, city, "enterprises", "e1")
    assert d["row"]["name"] == "一号化工"
    assert list(d["hazards"]["id"]) == ["h1", "h2"]         # newest first
    assert list(d["inspections"]["id"]) == ["i1"]
    assert list(d["accidents"]["id"]) == ["a1"]
    assert sorted(d["responsibilities"]["officer"]) == ["张三", "李四"]
    # the KTV is 0.96 km east and 1.11 km north of e1 (1.47 km), the bridge's middle 1.82 km away
    assert len(d["nearby"]) == 0
    near = nearby(city, 114.02, 30.02, radius_m=1600)
    assert list(near["id"]) == ["e1", "v1"]
    assert near["distance_m"].iloc[1] == pytest.approx(1467, abs=5)
    assert near["distance_m"].is_monotonic_increasing
    with pytest.raises(RiskMapError, match="nope"):
        object_detail(tiny, city, "enterprises", "nope")


def test_enforcement_marks_suspended_blacklisted_repeat_and_listed(tiny):
    """What the map and the wall mark: a suspended enterprise, a blacklist entry in force, a repeat offender
    (three hazards of one type within the window), a hazard under listed supervision."""
    with tiny.transaction() as tx:
        tx.update("enterprises", ["e2"], {"status": "suspended"})
        tx.append("blacklist", pd.DataFrame({"id": ["B1", "B2"], "target_layer": "enterprises",
                                             "target_id": ["e1", "e3"], "reason": "测试",
                                             "start_date": ["2026-01-01", "2026-01-01"],
                                             "end_date": [None, "2026-03-01"]}))   # B2 ended before as-of
        tx.append("hazards", pd.DataFrame({"id": ["r1", "r2", "r3"], "target_layer": "enterprises",
                                           "target_id": "e3", "type": "消防通道堵塞", "level": "general",
                                           "found_date": ["2026-01-10", "2026-03-10", "2026-06-10"],
                                           "status": "closed", "closed_date": "2026-06-20"}))
        tx.update("hazards", ["h1"], {"listed": True})
    city = load_city(tiny)
    e = city.objects["enterprises"].set_index("id")
    assert bool(e.loc["e1", "blacklisted"]) and not bool(e.loc["e3", "blacklisted"])
    assert bool(e.loc["e3", "repeat_offender"]) and not bool(e.loc["e1", "repeat_offender"])
    f = area_figures(select(city, Filters()))
    assert f["enforcement"] == {"suspended": 1, "closed": 0, "blacklisted": 1, "repeat": 1}
    assert f["hazards"]["listed"] == (1 if city.hazards.set_index("id").loc["h1", "unclosed"] else 0)
