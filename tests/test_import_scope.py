"""Scope follows the target: a hazard or accident belongs to the district of the object it names.

The importer sets the row's district code to its object's when they differ (flagged as fixed, both codes in
the reason) and fills it in when the row has none, before any fill from the row's own location.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point
from test_import_bad import TODAY, _csv, build_city

from layers.ingest.importer import import_file

WEST, EAST = "420102", "420103"


@pytest.fixture
def city(tmp_path):
    store = build_city(tmp_path)  # E0 is in the west district
    with store.transaction() as tx:
        tx.append("enterprises", gpd.GeoDataFrame(
            {"id": ["E1"], "name": ["东企业"], "industry": ["mining"], "grade": ["low"], "district_code": [EAST]},
            geometry=[Point(114.35, 30.6)], crs=4326))
        tx.append("venues", gpd.GeoDataFrame({"id": ["V1"], "name": ["商场"], "kind": ["mall"], "district_code": [EAST]},
                                             geometry=[Point(114.36, 30.6)], crs=4326))
    return store


def _hazards(targets: list[tuple[str, str]], districts: list[str | None]) -> pd.DataFrame:
    n = len(targets)
    return pd.DataFrame({"编号": [f"H{i}" for i in range(1, n + 1)], "对象类型": [t for t, _ in targets],
                         "对象编号": [i for _, i in targets], "隐患级别": ["一般"] * n, "发现日期": ["2024-01-02"] * n,
                         "整改状态": ["待整改"] * n, "区县代码": districts})


def test_hazard_district_follows_its_object(city, tmp_path):
    f = _csv(tmp_path, _hazards([("enterprises", "E0"), ("enterprises", "E0"), ("enterprises", "E1"),
                                 ("venues", "V1"), ("enterprises", "X9")], [EAST, None, EAST, WEST, EAST]), name="h.csv")
    rep = import_file(city, "hazards", f, today=TODAY)
    assert (rep.written, rep.quarantined, rep.fixed) == (5, 0, 2)
    h = city.read("hazards").set_index("id")["district_code"].to_dict()
    assert h == {"H1": WEST, "H2": WEST, "H3": EAST, "H4": EAST, "H5": EAST}  # X9 is unknown: left as given
    fixed = sorted((i.row, i.field) for i in rep.issues if i.outcome == "fixed")
    assert fixed == [(2, "区县代码"), (5, "区县代码")]
    issue = next(i for i in rep.issues if i.row == 2)
    assert f"{EAST}" in issue.reason_zh and f"{WEST}" in issue.reason_zh and "E0" in issue.reason_zh
    assert "belongs to the district of the object it names" in issue.reason_en and WEST in issue.reason_en
    assert any("按所属对象补全" in n["zh"] and "from the object" in n["en"] for n in rep.notes)


def test_hazard_without_district_column_gets_its_objects(city, tmp_path):
    f = _csv(tmp_path, _hazards([("enterprises", "E0"), ("venues", "V1")], [None, None]).drop(columns="区县代码"),
             name="h.csv")
    rep = import_file(city, "hazards", f, today=TODAY)
    assert rep.fixed == 0
    assert city.read("hazards").set_index("id")["district_code"].to_dict() == {"H1": WEST, "H2": EAST}


def test_accident_district_follows_its_enterprise_not_its_location(city, tmp_path):
    """The accident point lies in the east district; the enterprise it names is in the west one."""
    f = _csv(tmp_path, pd.DataFrame({"编号": ["A1", "A2"], "企业编号": ["E0", "E0"], "事故日期": ["2024-05-01"] * 2,
                                     "区县代码": [EAST, None], "经度": [114.35, 114.35], "纬度": [30.6, 30.6]}),
             name="a.csv")
    rep = import_file(city, "accidents", f, crs="wgs84", today=TODAY)
    assert (rep.written, rep.fixed) == (2, 1)
    assert city.read("accidents").set_index("id")["district_code"].to_dict() == {"A1": WEST, "A2": WEST}
    assert [i.row for i in rep.issues if i.outcome == "fixed"] == [2]
