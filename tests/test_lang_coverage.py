"""The coverage export speaks the user's language: every sheet's column headers are Chinese in zh and English in
en, in the page's Excel (``/coverage`` export) and in the CLI's (``python -m layers coverage --lang``) (issue 13)."""

from __future__ import annotations

import base64
import io
import re
import sys

import openpyxl
import pytest
from conftest import CITY_USER

from layers.cli import main

CJK = re.compile(r"[\u4e00-\u9fff]")
SHEETS_ZH = {"死角", "盲区", "监管空白", "分区县", "分镇街", "未计入的检查", "建议驻地"}
SHEETS_EN = {"dead_corners", "blind_spots", "supervision_gaps", "by_district", "by_town", "ignored_inspections",
             "suggested_bases"}


def _headers(wb: openpyxl.Workbook) -> dict[str, list[str]]:
    return {ws.title: [c.value for c in ws[1] if c.value is not None] for ws in wb.worksheets}


def _check(headers: dict[str, list[str]], lang: str) -> None:
    assert set(headers) == (SHEETS_ZH if lang == "zh" else SHEETS_EN)
    for sheet, cols in headers.items():
        assert cols, sheet
        if lang == "zh":
            english = [c for c in cols if not CJK.search(str(c))]
            assert english == [], f"{sheet}: headers without Chinese {english}"
        else:
            chinese = [c for c in cols if CJK.search(str(c)) or "_" in str(c)]
            assert chinese == [], f"{sheet}: headers in Chinese or code words {chinese}"


def test_every_column_of_every_sheet_has_words_in_both_languages(demo_store_path):
    from layers.analysis import coverage
    from layers.analysis.coverage.result import COLUMNS
    from layers.settings import Settings
    from layers.store import open_store

    store = open_store(demo_store_path, create=False)
    result = coverage.compute(store, settings=Settings.from_env(store=str(demo_store_path)))
    bases = coverage.suggest_bases(result, 2, roads=store.read("roads", columns=["name", "geometry"]))
    raw = {"bases": bases, **{n: getattr(result, n) for n in ("dead_corners", "blind_spots", "supervision_gaps",
                                                               "by_district", "by_town", "ignored_inspections")}}
    geometry = {"geometry"}
    missing = {n: [c for c in f.columns if c not in COLUMNS and c not in geometry] for n, f in raw.items()}
    assert all(v == [] for v in missing.values()), missing
    zh = result.sheets("zh", bases=bases)
    en = result.sheets("en", bases=bases)
    _check({k: list(v.columns) for k, v in zh.items()}, "zh")
    _check({k: list(v.columns) for k, v in en.items()}, "en")
    # the GeoPackage form keeps its identifiers and geometry column (a layer QGIS draws)
    gis = result.sheets("zh", gis=True)["死角"]
    assert gis.geometry.name == "geometry" and "id" in gis.columns


def _page():
    return sys.modules.get("dashboard.pages.coverage") or sys.modules["pages.coverage"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_export_is_headed_in_the_users_language(live_app, request_ctx, lang):
    with request_ctx(user=CITY_USER, path="/coverage"):
        data = _page().export(1, None, None, lang, 2, "greedy")
    raw = data["content"]
    wb = openpyxl.load_workbook(io.BytesIO(base64.b64decode(raw) if data.get("base64") else raw))
    headers = _headers(wb)
    _check(headers, lang)
    assert ("名称" if lang == "zh" else "Name") in headers["死角" if lang == "zh" else "dead_corners"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_cli_export_is_headed_in_its_lang(demo_store_path, tmp_path, lang):
    out = tmp_path / "gaps.xlsx"
    assert main(["coverage", "--store", str(demo_store_path), "--out", str(out), "--suggest", "1",
                 "--lang", lang]) == 0
    headers = _headers(openpyxl.load_workbook(out))
    _check(headers, lang)
    assert ("检查覆盖率" if lang == "zh" else "Inspection coverage") in headers["分区县" if lang == "zh" else
                                                                          "by_district"]
