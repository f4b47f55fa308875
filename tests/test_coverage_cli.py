"""``python -m layers coverage`` writes XLSX, CSV and GeoPackage; a name starting with ``=`` stays text."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely

from layers.cli import main
from layers.store import open_store

EVIL = '=HYPERLINK("http://example.invalid","点我")'
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def small_store(tmp_path: Path) -> Path:
    path = tmp_path / "city.gpkg"
    store = open_store(path)
    today = date.today()
    with store.transaction() as tx:
        tx.append("districts", gpd.GeoDataFrame({"code": ["420101"], "name": ["甲区"]},
                                                geometry=[shapely.MultiPolygon([shapely.box(114.2, 30.5, 114.4, 30.7)])],
                                                crs=4326))
        tx.append("enterprises", gpd.GeoDataFrame(
            {"id": ["E1", "E2"], "name": [EVIL, "+SUM(A1)"], "industry": "hazchem", "grade": ["major", "low"],
             "district_code": ["420101", "420199"], "status": "operating"},
            geometry=[shapely.Point(114.3, 30.6), shapely.Point(114.31, 30.61)], crs=4326))
        tx.append("teams", gpd.GeoDataFrame({"id": ["T1"], "name": ["一组"]}, geometry=[shapely.Point(114.3, 30.6)],
                                            crs=4326))
        tx.append("inspections", pd.DataFrame({"id": ["I1", "I2"], "target_layer": "enterprises",
                                               "target_id": ["E2", "E1"],
                                               "date": [today - timedelta(days=10), today + timedelta(days=30)]}))
    return path


def test_xlsx_keeps_formula_like_names_as_text(small_store: Path, tmp_path: Path, capsys):
    out = tmp_path / "gaps.xlsx"
    assert main(["coverage", "--store", str(small_store), "--out", str(out), "--suggest", "1"]) == 0
    cap = capsys.readouterr()
    assert "100.0%" in cap.err and "#" in cap.err  # the progress bar
    assert "1 条检查记录日期晚于今天" in cap.err
    wb = openpyxl.load_workbook(out)
    assert {"死角", "盲区", "监管空白", "分区县", "分镇街", "未计入的检查", "建议驻地"} <= set(wb.sheetnames)
    ws = wb["死角"]
    header = [c.value for c in ws[1]]
    col = header.index("名称") + 1            # headers in the user's language (zh by default)
    cells = [ws.cell(row=r, column=col) for r in range(2, ws.max_row + 1)]
    evil = [c for c in cells if c.value == EVIL]
    assert evil and evil[0].data_type == "s"  # a string cell, not a formula
    reasons = [ws.cell(row=r, column=header.index("原因") + 1).value for r in range(2, ws.max_row + 1)]
    assert "从未检查；红色（重大）风险要求 30 天" in reasons


def test_csv_neutralises_formula_like_text(small_store: Path, tmp_path: Path):
    out = tmp_path / "gaps.csv"
    assert main(["coverage", "--store", str(small_store), "--out", str(out), "--lang", "en"]) == 0
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    names = {r["Name"] for r in rows if r.get("sheet") == "dead_corners"}     # --lang en: English headers
    assert "'" + EVIL in names and EVIL not in names
    gaps = [r for r in rows if r.get("sheet") == "supervision_gaps"]
    assert {"'+SUM(A1)"} <= {r["Name"] for r in gaps}
    assert any(r["Kind code"] == "district_mismatch" for r in gaps)


def test_gpkg_has_points_and_hexagons(small_store: Path, tmp_path: Path):
    out = tmp_path / "gaps.gpkg"
    assert main(["coverage", "--store", str(small_store), "--out", str(out), "--as-of",
                 (date.today() - timedelta(days=400)).isoformat()]) == 0
    layers = dict(pyogrio.list_layers(out))
    assert layers["死角"] == "Point"
    assert layers["监管空白"] == "Point"
    dead = gpd.read_file(out, layer="死角")
    assert set(dead["id"]) == {"E1", "E2"}  # as of 400 days ago neither had been inspected


def test_bad_date_and_bad_suffix_are_refused(small_store: Path, tmp_path: Path, capsys):
    with pytest.raises(SystemExit):
        main(["coverage", "--store", str(small_store), "--out", str(tmp_path / "x.xlsx"), "--as-of", "2025-13-01"])
    assert "YYYY-MM-DD" in capsys.readouterr().err
    assert main(["coverage", "--store", str(small_store), "--out", str(tmp_path / "x.txt")]) == 2
    assert main(["coverage", "--store", str(tmp_path / "missing.gpkg"), "--out", str(tmp_path / "x.csv")]) == 1


def test_runs_as_a_module(small_store: Path, tmp_path: Path):
    out = tmp_path / "gaps.xlsx"
    proc = subprocess.run([sys.executable, "-m", "layers", "coverage", "--store", str(small_store), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert out.exists() and "已写入" in proc.stdout
