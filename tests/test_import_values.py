"""Values as people type them: full-width digits, a decimal comma, short labels, cells Excel left empty."""

from __future__ import annotations

import pandas as pd
import pytest
from test_import_bad import _csv, _quarantined, _rows, build_city

from layers.ingest.importer import import_file


@pytest.fixture
def city(tmp_path):
    return build_city(tmp_path)


# ---------------------------------------------------------------------------------------------------
# Numbers: full-width forms are numbers; a decimal comma is not a thousands separator
# ---------------------------------------------------------------------------------------------------

def test_full_width_digits_and_point_are_numbers(city, tmp_path):
    f = _csv(tmp_path, _rows(经度=["１１４．２５", "１１４.２６", "114.35"], 纬度=["３０．６０", "30.61", "30.62"],
                             从业人数=["１２", "１，２００", "－0"]))
    rep = import_file(city, "enterprises", f, crs="wgs84")
    assert (rep.written, rep.quarantined, rep.fixed) == (3, 0, 0)
    e = city.read("enterprises").set_index("id")
    assert e.loc["A1"].geometry.x == pytest.approx(114.25) and e.loc["A1"].geometry.y == pytest.approx(30.6)
    assert e.loc["A2", "employees"] == 1200 and e.loc["A1", "employees"] == 12


def test_decimal_comma_in_a_coordinate_is_not_read_as_thousands(city, tmp_path):
    f = _csv(tmp_path, _rows(经度=["114,25", "114.26", "114.35"]))
    rep = import_file(city, "enterprises", f, crs="wgs84")
    assert (rep.written, rep.quarantined) == (2, 1)
    _quarantined(city, rep, 2, "小数点", "decimal comma")
    _quarantined(city, rep, 2, "114.25", "114.25")


def test_decimal_comma_in_an_optional_number_is_cleared_with_the_hint(city, tmp_path):
    f = _csv(tmp_path, _rows(从业人数=["12", "12,5", "1,200"]))
    rep = import_file(city, "enterprises", f, crs="wgs84")
    assert (rep.written, rep.fixed) == (3, 1)
    issue = next(i for i in rep.issues if i.outcome == "fixed")
    assert issue.row == 3 and "小数点" in issue.reason_zh and "decimal comma" in issue.reason_en
    e = city.read("enterprises").set_index("id")
    assert e.loc["A3", "employees"] == 1200 and e.loc["A1", "employees"] == 12 and e.loc["A2", "employees"] is pd.NA


@pytest.mark.parametrize("text", ["1,20", "12,34,567", ",5"])
def test_commas_that_are_not_thousands_groups_are_not_numbers(city, tmp_path, text):
    f = _csv(tmp_path, _rows(从业人数=["12", text, "3"]))
    rep = import_file(city, "enterprises", f, crs="wgs84")
    assert rep.fixed == 1 and city.read("enterprises").set_index("id").loc["A2", "employees"] is pd.NA


# ---------------------------------------------------------------------------------------------------
# Short labels people use
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("label", ["危化", "危化品"])
def test_short_labels_of_hazchem(city, tmp_path, label):
    f = _csv(tmp_path, _rows(行业=[label, "工贸", "工贸"]))
    rep = import_file(city, "enterprises", f, crs="wgs84")
    assert (rep.written, rep.quarantined) == (3, 0)
    assert city.read("enterprises").set_index("id").loc["A1", "industry"] == "hazchem"


# ---------------------------------------------------------------------------------------------------
# Cells Excel shows but the file does not hold: merged cells, formulas never calculated
# ---------------------------------------------------------------------------------------------------

def _sheet(path, edit):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["编号", "名称", "行业", "风险等级", "经度", "纬度", "地址"])
    for i in range(3):
        ws.append([f"A{i + 1}", f"企业{i + 1}", "工贸", "低", 114.25 + i * 0.01, 30.6, f"{i + 1}号"])
    edit(ws)
    wb.save(path)
    return path


def test_empty_field_inside_merged_cells_says_why(city, tmp_path):
    def merge(ws):
        ws["C3"] = None
        ws.merge_cells("C2:C3")  # 行业 given once for two rows, as printed registers do

    f = _sheet(tmp_path / "e.xlsx", merge)
    rep = import_file(city, "enterprises", f, crs="wgs84")
    assert (rep.written, rep.quarantined) == (2, 1)
    _quarantined(city, rep, 3, "合并单元格 C2:C3", "merged cells C2:C3")
    assert any("合并单元格" in n["zh"] and "merged" in n["en"] for n in rep.notes)


def test_empty_field_from_a_formula_without_saved_value_says_why(city, tmp_path):
    def formulas(ws):
        ws["D4"] = "=D3"  # openpyxl writes the formula and no result, as any program that never runs Excel
        ws["G4"] = '=CONCAT(G3,"附")'  # an optional field: only the note tells

    f = _sheet(tmp_path / "e.xlsx", formulas)
    rep = import_file(city, "enterprises", f, crs="wgs84")
    assert (rep.written, rep.quarantined) == (2, 1)
    _quarantined(city, rep, 4, "公式 =D3", "formula =D3")
    _quarantined(city, rep, 4, "没有保存计算结果", "no saved result")
    note = next(n for n in rep.notes if "公式" in n["zh"])
    assert "2 个" in note["zh"] and "2 cells" in note["en"] and 'CONCAT(G3,"附")' in note["en"]
