"""Values and files past what the importer can hold: far dates, huge sheets, endless text, NUL bytes late in a CSV.

Each would once wrap around, abort the process or be written as it came; now each is quarantined or rejected
with the file, row, field and reason in both languages.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from test_import_bad import TODAY, _csv, _quarantined, build_city

from layers.ingest.importer import import_file


@pytest.fixture
def city(tmp_path):
    return build_city(tmp_path)


def _inspections(dates: list[object]) -> pd.DataFrame:
    n = len(dates)
    return pd.DataFrame({"编号": [f"I{i}" for i in range(1, n + 1)], "对象类型": ["enterprises"] * n,
                         "对象编号": ["E0"] * n, "检查日期": dates})


# ---------------------------------------------------------------------------------------------------
# Dates past 2262 (datetime64[ns] ends at 2262-04-11)
# ---------------------------------------------------------------------------------------------------

def test_date_past_2262_in_csv_is_quarantined_not_wrapped(city, tmp_path):
    f = _csv(tmp_path, _inspections(["2024-03-15", "2924-03-15"]), name="i.csv")
    rep = import_file(city, "inspections", f, today=TODAY)
    assert (rep.written, rep.quarantined) == (1, 1)
    _quarantined(city, rep, 3, "2924-03-15", "2924-03-15")
    _quarantined(city, rep, 3, "超出可用范围", "outside the usable range")
    assert [i.field for i in rep.issues if i.row == 3] == ["检查日期"]
    assert city.read("inspections")["date"].dt.year.tolist() == [2024]  # nothing stored as 1755


def test_excel_date_9999_12_31_is_quarantined(city, tmp_path):
    import openpyxl

    f = tmp_path / "i.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["编号", "对象类型", "对象编号", "检查日期"])
    ws.append(["I1", "enterprises", "E0", dt.date(2024, 3, 15)])
    ws.append(["I2", "enterprises", "E0", dt.date(9999, 12, 31)])  # a real date cell, not text
    wb.save(f)
    rep = import_file(city, "inspections", f, today=TODAY)
    assert (rep.written, rep.quarantined) == (1, 1)
    _quarantined(city, rep, 3, "9999-12-31", "9999-12-31")
    assert city.read("inspections")["date"].dt.year.tolist() == [2024]


def test_far_date_in_an_optional_column_is_quarantined_too(city, tmp_path):
    """A deadline of 9999-12-31 ("no deadline") must not become 1816 nor be dropped silently."""
    f = _csv(tmp_path, pd.DataFrame({"编号": ["H1", "H2"], "对象类型": ["enterprises"] * 2, "对象编号": ["E0"] * 2,
                                     "隐患级别": ["一般"] * 2, "发现日期": ["2024-01-02"] * 2, "整改状态": ["待整改"] * 2,
                                     "整改期限": ["2024-02-01", "9999-12-31"]}), name="h.csv")
    rep = import_file(city, "hazards", f, today=TODAY)
    assert (rep.written, rep.quarantined) == (1, 1)
    _quarantined(city, rep, 3, "9999-12-31", "9999-12-31")
    assert [i.field for i in rep.issues if i.row == 3] == ["整改期限"]


def test_far_date_from_a_geojson_date_field(city, tmp_path):
    f = tmp_path / "a.geojson"
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": f"A{i}", "date": d, "kind": "fire"},
         "geometry": {"type": "Point", "coordinates": [114.25, 30.6]}}
        for i, d in enumerate(("2024-03-15", "2924-03-15"))]}
    f.write_text(json.dumps(fc), encoding="utf-8")
    rep = import_file(city, "accidents", f, today=TODAY)
    assert (rep.written, rep.quarantined) == (1, 1)
    _quarantined(city, rep, 2, "2924-03-15", "2924-03-15")


@pytest.mark.parametrize("value", ["1066-10-14", "0001-01-01"])
def test_date_before_1900_is_quarantined(city, tmp_path, value):
    f = _csv(tmp_path, _inspections(["2024-03-15", value]), name="i.csv")
    rep = import_file(city, "inspections", f, today=TODAY)
    assert (rep.written, rep.quarantined) == (1, 1)
    _quarantined(city, rep, 3, value, "outside the usable range")
