"""Keys: an enterprise file keyed by its credit codes, ids that look alike but are not, ids that lost digits."""

from __future__ import annotations

import pandas as pd
import pytest
from test_import_bad import CODES, TODAY, _csv, _quarantined, _rejected, _rows, build_city

from layers.ingest.importer import import_file


@pytest.fixture
def city(tmp_path):
    return build_city(tmp_path)


# ---------------------------------------------------------------------------------------------------
# The market-regulation export: no id column, the 统一社会信用代码 is the key
# ---------------------------------------------------------------------------------------------------

def test_enterprise_file_without_ids_is_keyed_by_credit_code(city, tmp_path):
    df = _rows().drop(columns="编号")
    df["统一社会信用代码"] = [CODES[0].lower(), CODES[1], CODES[2]]  # lower case is the same code
    f = _csv(tmp_path, df)
    rep = import_file(city, "enterprises", f, crs="wgs84")
    assert (rep.written, rep.quarantined) == (3, 0)
    e = city.read("enterprises").set_index("name")
    assert e.loc["甲", "id"] == CODES[0] and e.loc["甲", "credit_code"] == CODES[0]
    assert e.loc["丙", "id"] == CODES[2]
    assert any("统一社会信用代码作为编号" in n["zh"] and "credit code is used as the id" in n["en"] for n in rep.notes)


def test_duplicate_credit_code_is_then_a_duplicate_id(city, tmp_path):
    df = _rows(统一社会信用代码=[CODES[0], CODES[1], CODES[0]]).drop(columns="编号")
    f = _csv(tmp_path, df)
    rep = _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "在文件中重复",
                    "duplicated in the file")
    rej = [i for i in rep.issues if i.outcome == "rejected"]
    assert sorted(i.row for i in rej) == [2, 4]
    assert all(i.field == "统一社会信用代码" and "统一社会信用代码" in i.reason_zh and "credit code" in i.reason_en
               for i in rej)


def test_credit_code_already_in_the_store_is_a_clash(city, tmp_path):
    f = _csv(tmp_path, _rows().drop(columns="编号"))
    assert import_file(city, "enterprises", f, crs="wgs84").written == 3
    _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "已在图层 企业 中存在",
              "already exists in layer enterprises")


def test_row_without_credit_code_is_quarantined_when_it_is_the_id(city, tmp_path):
    f = _csv(tmp_path, _rows(统一社会信用代码=[CODES[0], "", CODES[2]]).drop(columns="编号"))
    rep = import_file(city, "enterprises", f, crs="wgs84")
    assert (rep.written, rep.quarantined) == (2, 1)
    _quarantined(city, rep, 3, "统一社会信用代码为空", "credit code is empty")


def test_without_ids_or_credit_codes_the_message_names_both(city, tmp_path):
    f = _csv(tmp_path, _rows().drop(columns=["编号", "统一社会信用代码"]))
    _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "或统一社会信用代码列",
              "or a unified social credit code column")


# ---------------------------------------------------------------------------------------------------
# Ids that look alike but are not: invisible characters
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ch", ["\u200b", "\ufeff", "\u200d", "\u2060", "\u00ad"])
def test_invisible_character_in_an_id_is_removed_and_reported(city, tmp_path, ch):
    f = _csv(tmp_path, _rows(编号=["A1", f"A{ch}2", "A3"]))
    rep = import_file(city, "enterprises", f, crs="wgs84")
    assert (rep.written, rep.fixed) == (3, 1)
    assert set(city.read("enterprises")["id"]) == {"E0", "A1", "A2", "A3"}
    fixed = [i for i in rep.issues if i.outcome == "fixed"]
    assert [(i.row, i.field) for i in fixed] == [(3, "编号")]
    assert f"U+{ord(ch):04X}" in fixed[0].reason_zh and "不可见字符" in fixed[0].reason_zh
    assert f"U+{ord(ch):04X}" in fixed[0].reason_en and "invisible" in fixed[0].reason_en


def test_ids_equal_but_for_an_invisible_character_are_duplicates(city, tmp_path):
    f = _csv(tmp_path, _rows(编号=["A1", "A1\u200b", "\ufeffA1"]))
    rep = _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "在文件中重复",
                    "duplicated in the file")
    assert sorted(i.row for i in rep.issues if i.outcome == "rejected") == [2, 3, 4]


def test_invisible_character_in_a_target_id_is_removed(city, tmp_path):
    f = _csv(tmp_path, pd.DataFrame({"编号": ["I1"], "对象类型": ["enterprises"], "对象编号": ["E0\u200b"],
                                     "检查日期": ["2024-03-15"]}), name="i.csv")
    rep = import_file(city, "inspections", f, today=TODAY)
    assert rep.fixed == 1 and city.read("inspections")["target_id"].tolist() == ["E0"]


# ---------------------------------------------------------------------------------------------------
# Ids that lost digits: numbers past 2**53
# ---------------------------------------------------------------------------------------------------

def test_twenty_digit_numeric_id_in_excel_is_quarantined(city, tmp_path):
    import openpyxl

    f = tmp_path / "e.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["编号", "名称", "行业", "风险等级", "经度", "纬度"])
    ws.append([1001, "甲", "工贸", "低", 114.25, 30.6])  # a small number is an exact id: "1001"
    ws.append([12345678901234567890, "乙", "工贸", "低", 114.26, 30.6])  # Excel keeps 1.23456789012346E+19
    wb.save(f)
    rep = import_file(city, "enterprises", f, crs="wgs84")
    assert (rep.written, rep.quarantined) == (1, 1)
    _quarantined(city, rep, 3, "存成了数字", "stored as a number")
    assert set(city.read("enterprises")["id"]) == {"E0", "1001"}


def test_twenty_digit_numeric_id_in_geojson_is_quarantined(city, tmp_path):
    f = tmp_path / "v.geojson"
    f.write_text('{"type": "FeatureCollection", "features": ['
                 '{"type": "Feature", "properties": {"id": 12345678901234567890, "name": "商场", "kind": "mall"},'
                 ' "geometry": {"type": "Point", "coordinates": [114.25, 30.6]}},'
                 '{"type": "Feature", "properties": {"id": 7, "name": "学校", "kind": "school"},'
                 ' "geometry": {"type": "Point", "coordinates": [114.26, 30.6]}}]}', encoding="utf-8")
    rep = import_file(city, "venues", f)
    assert (rep.written, rep.quarantined) == (1, 1)
    _quarantined(city, rep, 1, "位数已丢失", "lost digits")
    assert city.read("venues")["id"].tolist() == ["7"]
