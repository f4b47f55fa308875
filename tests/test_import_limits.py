"""Values and files past what the importer can hold: far dates, huge sheets, endless text, NUL bytes late in a CSV.

Each would once wrap around, abort the process or be written as it came; now each is quarantined or rejected
with the file, row, field and reason in both languages.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pytest
from test_import_bad import TODAY, _csv, _quarantined, _rejected, _rows, build_city

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


# ---------------------------------------------------------------------------------------------------
# Sheets whose used range is far larger than their data
# ---------------------------------------------------------------------------------------------------

def _workbook_with_far_cell(path, far: str, *, value: object = "x"):
    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["编号", "名称", "行业", "风险等级", "经度", "纬度"])
    ws.append(["A1", "甲", "工贸", "低", 114.25, 30.6])
    if value is None:
        ws[far].font = Font(bold=True)  # formatting only: <c r="…" s="1"/>
    else:
        ws[far] = value
    wb.save(path)
    return path


def test_cell_at_xfd1048576_is_rejected_not_an_abort(tmp_path):
    """One stray cell at the last cell of a sheet made calamine ask for 549 GB; the process died (exit 134)."""
    import subprocess
    import sys
    from pathlib import Path

    f = _workbook_with_far_cell(tmp_path / "e.xlsx", "XFD1048576")
    assert f.stat().st_size < 10_000
    build_city(tmp_path)
    res = subprocess.run([sys.executable, "-m", "layers", "import", "enterprises", str(f), "--store",
                          str(tmp_path / "city.gpkg"), "--crs", "wgs84"], capture_output=True, text=True,
                         cwd=Path(__file__).parents[1], timeout=120)
    assert res.returncode == 1, (res.returncode, res.stdout, res.stderr[-2000:])
    assert "XFD1048576" in res.stdout and "超过上限" in res.stdout and "more than the limit" in res.stdout


def test_cell_at_az400000_is_rejected_before_reading(city, tmp_path):
    f = _workbook_with_far_cell(tmp_path / "e.xlsx", "AZ400000")
    rep = _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "AZ400000",
                    "reaches AZ400000")
    issue = rep.issues[0]
    assert "400000 行 × 52 列" in issue.reason_zh and "400000 rows x 52 columns" in issue.reason_en
    assert "另存为 CSV" in issue.reason_zh and "save it as CSV" in issue.reason_en


def test_far_cell_with_formatting_only_is_no_problem(city, tmp_path):
    f = _workbook_with_far_cell(tmp_path / "e.xlsx", "AZ400000", value=None)
    rep = import_file(city, "enterprises", f, crs="wgs84")
    assert rep.written == 1


def test_scan_counts_cells_without_a_reference(tmp_path):
    """Some writers leave out r="A1": the cells then follow one another, and still count."""
    import zipfile

    from layers.ingest.xlsx import scan_sheet

    f = _workbook_with_far_cell(tmp_path / "e.xlsx", "C3")
    g = tmp_path / "noref.xlsx"
    with zipfile.ZipFile(f) as zi, zipfile.ZipFile(g, "w") as zo:
        for info in zi.infolist():
            data = zi.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<c r="[A-Z]+[0-9]+"', b"<c", data)
                data = data.replace(b"</sheetData>", b'<row r="5000">' + b"<c><v>1</v></c>" * 300 + b"</row></sheetData>")
            zo.writestr(info, data)
    scan = scan_sheet(g, 0, limit=1 << 30)
    assert scan is not None and scan.rows >= 5000 and scan.cols >= 300
    assert scan_sheet(f, 0, limit=1 << 30).far_cell == "F3"


# ---------------------------------------------------------------------------------------------------
# Text longer than any real value (a 10 MB name once went into every coverage reply of its district)
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("column,limit", [("名称", 2_000), ("地址", 2_000), ("编号", 200)])
def test_text_past_its_limit_rejects_the_batch(city, tmp_path, column, limit):
    values = {"名称": ["甲", "乙", "丙"], "地址": ["一路", "二路", "三路"], "编号": ["A1", "A2", "A3"]}[column]
    values[1] = "长" * (limit + 1)
    f = _csv(tmp_path, _rows(**{column: values}))
    rep = _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), f"上限 {limit:,}",
                    f"limit of {limit:,}")
    issue = next(i for i in rep.issues if i.outcome == "rejected")
    assert (issue.row, issue.field) == (3, column)
    assert f"{limit + 1:,}" in issue.reason_zh and "引号" in issue.reason_zh and "quote" in issue.reason_en


def test_text_at_its_limit_is_fine(city, tmp_path):
    f = _csv(tmp_path, _rows(名称=["甲", "长" * 2_000, "丙"]))
    assert import_file(city, "enterprises", f, crs="wgs84").written == 3


def test_a_description_may_be_long_but_not_endless(city, tmp_path):
    def hazards(text: str):
        return _csv(tmp_path, pd.DataFrame({"编号": ["H1"], "对象类型": ["enterprises"], "对象编号": ["E0"],
                                            "隐患级别": ["一般"], "发现日期": ["2024-01-02"], "整改状态": ["待整改"],
                                            "隐患描述": [text]}), name="h.csv")

    assert import_file(city, "hazards", hazards("述" * 20_000), today=TODAY).written == 1
    _rejected(city, lambda: import_file(city, "hazards", hazards("述" * 20_001), today=TODAY, replace=True),
              "上限 20,000", "limit of 20,000")


def test_an_unclosed_quote_that_swallows_the_file_is_caught(city, tmp_path):
    lines = ["编号,名称,行业,风险等级,经度,纬度", 'A0,"甲,工贸,低,114.25,30.6']
    lines += [f"A{i},企业{i},工贸,低,114.25,30.6" for i in range(1, 200)]
    f = tmp_path / "e.csv"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rep = _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "引号", "quote")
    assert rep.issues[0].row == 2
