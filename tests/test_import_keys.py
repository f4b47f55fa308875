"""Keys: an enterprise file keyed by its credit codes, ids that look alike but are not, ids that lost digits."""

from __future__ import annotations

import pytest
from test_import_bad import CODES, _csv, _quarantined, _rejected, _rows, build_city

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
