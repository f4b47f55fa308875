"""Good paths of the importer: every format and encoding, real files written in tmp_path."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon

from geo.crs import gcj02_to_wgs84, haversine_m, wgs84_to_bd09, wgs84_to_gcj02
from layers import credit_code
from layers.ingest.importer import import_file
from layers.store import open_store

TODAY = dt.date(2026, 6, 1)
CODES = credit_code.make_many(10, seed=11)


def _city(path: Path):
    """A store with two districts side by side: 420102 (west) and 420103 (east), lon 114.2-114.4, lat 30.5-30.7."""
    store = open_store(path)
    west = MultiPolygon([Polygon([(114.2, 30.5), (114.3, 30.5), (114.3, 30.7), (114.2, 30.7)])])
    east = MultiPolygon([Polygon([(114.3, 30.5), (114.4, 30.5), (114.4, 30.7), (114.3, 30.7)])])
    with store.transaction() as tx:
        tx.append("districts", gpd.GeoDataFrame({"code": ["420102", "420103"], "name": ["江岸区", "江汉区"]},
                                                geometry=[west, east], crs=4326))
    return store


def _enterprise_frame(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({
        "编号": [f"E{i}" for i in range(1, n + 1)],
        "企业名称": [f"武汉化工{i}号" for i in range(1, n + 1)],
        "统一社会信用代码": CODES[:n],
        "行业": (["危险化学品", "工贸", "mining"] * n)[:n],
        "风险等级": (["重大", "橙色", "low"] * n)[:n],
        "经度": [114.25 + 0.045 * i for i in range(n)],
        "纬度": [30.6] * n,
        "从业人数": [10 * (i + 1) for i in range(n)],
    })


@pytest.fixture
def city(tmp_path):
    return _city(tmp_path / "city.gpkg")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_each_encoding(city, tmp_path, encoding):
    f = tmp_path / "企业.csv"
    _enterprise_frame().to_csv(f, index=False, encoding=encoding)
    rep = import_file(city, "enterprises", f, crs="wgs84", today=TODAY)
    assert rep.status == "written"
    assert (rep.read, rep.written, rep.quarantined, rep.rejected) == (3, 3, 0, 0)
    assert rep.encoding in {"utf-8": ("utf-8",), "utf-8-sig": ("utf-8-sig",), "gbk": ("gbk",),
                            "gb18030": ("gbk", "gb18030")}[encoding]
    e = city.read("enterprises")
    assert list(e["name"]) == ["武汉化工1号", "武汉化工2号", "武汉化工3号"]
    assert list(e["grade"]) == ["major", "high", "low"]  # Chinese labels and colour words mapped to keys
    assert list(e["industry"]) == ["hazchem", "industry_trade", "mining"]
    assert list(e["credit_code"]) == CODES[:3]
    assert list(e["employees"]) == [10, 20, 30]
    # district filled from the location (the file has none)
    assert list(e["district_code"]) == ["420102", "420102", "420103"]
    assert e.geometry.iloc[0].equals(Point(114.25, 30.6))


def test_gb18030_only_characters_and_encoding_override(city, tmp_path):
    f = tmp_path / "e.csv"
    df = _enterprise_frame(1)
    df["企业名称"] = ["䶮化工"]  # U+4DAE: in GB18030, not in GBK
    df.to_csv(f, index=False, encoding="gb18030")
    rep = import_file(city, "enterprises", f, crs="wgs84", today=TODAY)
    assert rep.encoding == "gb18030"
    assert city.read("enterprises")["name"].iloc[0] == "䶮化工"
    g = tmp_path / "g.csv"
    df2 = _enterprise_frame(1)
    df2["编号"] = ["E9"]
    df2.to_csv(g, index=False, encoding="gbk")
    rep2 = import_file(city, "enterprises", g, crs="wgs84", encoding="gb18030", today=TODAY)
    assert rep2.encoding == "gb18030" and rep2.written == 1


def test_english_headers_and_lng_lat(city, tmp_path):
    f = tmp_path / "e.csv"
    pd.DataFrame({"id": ["A"], "name": ["Acme"], "industry": ["Hazardous chemicals"], "grade": ["Major"],
                  "lng": [114.21], "lat": [30.51]}).to_csv(f, index=False)
    rep = import_file(city, "enterprises", f, crs="wgs84")
    assert rep.written == 1
    row = city.read("enterprises").iloc[0]
    assert (row["industry"], row["grade"]) == ("hazchem", "major")


def test_xlsx_keeps_credit_codes_as_text_and_reads_real_and_text_dates(city, tmp_path):
    import xlsxwriter

    f = tmp_path / "检查.xlsx"
    wb = xlsxwriter.Workbook(str(f))
    ws = wb.add_worksheet("检查记录")
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, ["编号", "对象类型", "企业编号", "检查日期", "检查结果", "隐患数"])
    dates = [dt.date(2024, 3, 15), "2024-03-16", "2024/3/17", "2024年3月18日", dt.datetime(2024, 3, 19, 9, 30)]
    for i, d in enumerate(dates, start=1):
        ws.write_string(i, 0, f"I{i}")
        ws.write_string(i, 1, "企业")
        ws.write_string(i, 2, "E1")
        if isinstance(d, (dt.date, dt.datetime)):
            ws.write_datetime(i, 3, d if isinstance(d, dt.datetime) else dt.datetime(d.year, d.month, d.day),
                              date_fmt)
        else:
            ws.write_string(i, 3, d)
        ws.write_string(i, 4, "合格")
        ws.write_number(i, 5, 2)
    wb.close()
    rep = import_file(city, "inspections", f, today=TODAY)
    assert (rep.read, rep.written, rep.quarantined) == (5, 5, 0)
    got = city.read("inspections")
    assert [d.strftime("%Y-%m-%d") for d in got["date"]] == ["2024-03-15", "2024-03-16", "2024-03-17",
                                                              "2024-03-18", "2024-03-19"]
    assert set(got["target_layer"]) == {"enterprises"} and set(got["result"]) == {"pass"}
    assert list(got["hazards_found"]) == [2] * 5

    g = tmp_path / "企业.xlsx"
    wb = xlsxwriter.Workbook(str(g), {"strings_to_numbers": False})
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["编号", "名称", "统一社会信用代码", "行业", "风险等级", "经度", "纬度"])
    for i in range(3):
        ws.write_string(i + 1, 0, f"X{i}")
        ws.write_string(i + 1, 1, f"企业{i}")
        ws.write_string(i + 1, 2, CODES[i])  # a text cell: must stay text
        ws.write_string(i + 1, 3, "冶金")
        ws.write_string(i + 1, 4, "一般")
        ws.write_number(i + 1, 5, 114.31 + i * 0.01)
        ws.write_number(i + 1, 6, 30.6)
    wb.close()
    rep = import_file(city, "enterprises", g, crs="cgcs2000")
    assert rep.written == 3 and rep.quarantined == 0
    assert list(city.read("enterprises")["credit_code"]) == CODES[:3]


def test_xlsx_row_numbers_count_from_the_sheet_header(city, tmp_path):
    import openpyxl

    f = tmp_path / "e.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([])  # an empty first row: the header is row 2
    ws.append(["编号", "名称", "行业", "风险等级", "经度", "纬度"])
    ws.append(["A", "甲", "工贸", "低", 114.25, 30.6])
    ws.append(["B", "乙", "工贸", "紫色", 114.25, 30.6])
    wb.save(f)
    rep = import_file(city, "enterprises", f, crs="wgs84")
    assert [i.row for i in rep.issues] == [4]


def _shapefile_zip(tmp_path: Path, *, cpg: bool, prj: bool = True, encoding: str = "GB18030") -> Path:
    folder = tmp_path / f"shp_{cpg}_{prj}_{encoding}"
    folder.mkdir()
    # DBF field names hold 10 bytes: 4 Chinese characters in GB18030, only 3 in UTF-8
    cond = "状况等级" if encoding == "GB18030" else "condition"
    gdf = gpd.GeoDataFrame({"编号": ["B1", "B2"], "名称": ["长江大桥", "汉江桥"], cond: ["2类", "4"],
                            "长度": [1670.4, 300.0]},
                           geometry=[shapely.LineString([(114.28, 30.55), (114.32, 30.56)]),
                                     shapely.LineString([(114.25, 30.6), (114.26, 30.61)])], crs=4326)
    pyogrio.write_dataframe(gdf, folder / "桥梁.shp", encoding=encoding)
    if not cpg:
        (folder / "桥梁.cpg").unlink()
    if not prj:
        (folder / "桥梁.prj").unlink()
    z = tmp_path / f"bridges_{cpg}_{prj}_{encoding}.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in sorted(folder.iterdir()):
            zf.write(p, f"桥梁数据/{p.name}")
    return z


@pytest.mark.parametrize("cpg", [True, False])
def test_zipped_shapefile_with_and_without_cpg(city, tmp_path, cpg):
    z = _shapefile_zip(tmp_path, cpg=cpg)
    rep = import_file(city, "bridges", z)
    assert rep.format == "shapefile" and rep.source_crs == "EPSG:4326"
    assert (rep.written, rep.quarantined) == (2, 0)
    b = city.read("bridges")
    assert list(b["name"]) == ["长江大桥", "汉江桥"]  # Chinese text decoded right, with or without .cpg
    assert list(b["condition_class"]) == ["2", "4"]
    assert b["length_m"].iloc[0] == pytest.approx(1670.4)
    if not cpg:
        assert any("GB18030" in n["en"] for n in rep.notes)


def test_utf8_shapefile_without_cpg(city, tmp_path):
    z = _shapefile_zip(tmp_path, cpg=False, encoding="UTF-8")
    rep = import_file(city, "bridges", z)
    assert rep.encoding == "UTF-8"
    assert list(city.read("bridges")["name"]) == ["长江大桥", "汉江桥"]


def test_geojson_points_and_z_dropped(city, tmp_path):
    f = tmp_path / "venues.geojson"
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"编号": "V1", "名称": "江汉路商场", "场所类型": "商场", "容纳人数": 3000},
         "geometry": {"type": "Point", "coordinates": [114.28, 30.58, 21.5]}},
        {"type": "Feature", "properties": {"编号": "V2", "名称": "一中", "场所类型": "school", "容纳人数": None},
         "geometry": {"type": "Point", "coordinates": [114.35, 30.62]}},
    ]}
    f.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    rep = import_file(city, "venues", f)
    assert rep.source_crs in ("EPSG:4326", "EPSG:4979") and rep.written == 2 and rep.fixed == 1
    fixed = [i for i in rep.issues if i.outcome == "fixed"]
    assert fixed[0].row == 1 and "Z/M" in fixed[0].reason_en and "Z/M" in fixed[0].reason_zh
    v = city.read("venues")
    assert list(v["kind"]) == ["mall", "school"]
    assert not v.geometry.has_z.any()
    assert list(v["district_code"]) == ["420102", "420103"]


def test_gpkg_in_a_projected_crs_is_transformed(city, tmp_path):
    f = tmp_path / "stations.gpkg"
    pts = gpd.GeoSeries([Point(114.25, 30.55), Point(114.35, 30.65)], crs=4326).to_crs(32650)
    gdf = gpd.GeoDataFrame({"id": ["S1", "S2"], "name": ["门站", "调压站"], "kind": ["门站", "regulator"]},
                           geometry=pts, crs=32650)
    pyogrio.write_dataframe(gdf, f, layer="stations")
    rep = import_file(city, "gas_stations", f)
    assert rep.source_crs == "EPSG:32650" and rep.written == 2
    got = city.read("gas_stations")
    assert got.geometry.iloc[0].distance(Point(114.25, 30.55)) < 1e-7
    assert list(got["kind"]) == ["gate", "regulator"]


def test_gcj02_and_bd09_are_converted_to_wgs84(city, tmp_path):
    true_lon, true_lat = np.array([114.25, 114.35]), np.array([30.6, 30.62])
    for system, fwd in (("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)):
        lon, lat = fwd(true_lon, true_lat)
        f = tmp_path / f"{system}.csv"
        pd.DataFrame({"编号": [f"{system}1", f"{system}2"], "名称": ["甲", "乙"], "行业": "工贸", "风险等级": "低",
                      "经度": lon, "纬度": lat}).to_csv(f, index=False)
        rep = import_file(city, "enterprises", f, crs=system)
        assert rep.source_crs == system and rep.written == 2
    e = city.read("enterprises")
    for system in ("gcj02", "bd09"):
        sub = e[e["id"].str.startswith(system)]
        err = haversine_m(sub.geometry.x.to_numpy(), sub.geometry.y.to_numpy(), true_lon, true_lat)
        assert err.max() < 2.0
    # a single GCJ point stored at its WGS position, not the raw numbers
    raw = e[e["id"] == "gcj021"].geometry.iloc[0]
    assert haversine_m(raw.x, raw.y, *gcj02_to_wgs84(*wgs84_to_gcj02(114.25, 30.6))) < 0.01


def test_projected_csv_with_epsg(city, tmp_path):
    pts = gpd.GeoSeries([Point(114.31, 30.6)], crs=4326).to_crs(4547)
    f = tmp_path / "e.csv"
    pd.DataFrame({"编号": ["P"], "名称": ["甲"], "行业": "工贸", "风险等级": "低",
                  "X": [pts.x.iloc[0]], "Y": [pts.y.iloc[0]]}).to_csv(f, index=False)
    rep = import_file(city, "enterprises", f, crs="EPSG:4547")
    assert rep.written == 1
    g = city.read("enterprises").geometry.iloc[0]
    assert haversine_m(g.x, g.y, 114.31, 30.6) < 0.01


def test_replace_swaps_the_rows_in_one_transaction(city, tmp_path):
    f = tmp_path / "e.csv"
    _enterprise_frame(3).to_csv(f, index=False)
    import_file(city, "enterprises", f, crs="wgs84")
    g = tmp_path / "e2.csv"
    df = _enterprise_frame(2)
    df["企业名称"] = ["新甲", "新乙"]
    df.to_csv(g, index=False)
    v = city.data_version()
    rep = import_file(city, "enterprises", g, crs="wgs84", replace=True)
    assert rep.mode == "replace" and rep.written == 2
    assert list(city.read("enterprises")["name"]) == ["新甲", "新乙"]
    assert city.data_version() == v + 1
    assert city.imports()["mode"].tolist()[-1] == "replace"


def test_store_that_does_not_exist_is_created(tmp_path):
    path = tmp_path / "new" / "city.gpkg"
    f = tmp_path / "e.csv"
    _enterprise_frame(2).to_csv(f, index=False)
    rep = import_file(path, "enterprises", f, crs="wgs84")
    assert path.exists() and rep.written == 2
    assert open_store(path, create=False).count("enterprises") == 2


def test_hazards_without_coordinates_are_fine(city, tmp_path):
    f = tmp_path / "h.csv"
    pd.DataFrame({"编号": ["H1"], "对象类型": ["enterprises"], "对象编号": ["E1"], "隐患级别": ["重大隐患"],
                  "发现日期": ["2024-05-01"], "整改状态": ["整改中"], "责任到位": ["是"], "资金到位": ["否"]}
                 ).to_csv(f, index=False)
    rep = import_file(city, "hazards", f, today=TODAY)
    assert rep.written == 1
    h = city.read("hazards").iloc[0]
    assert (h["level"], h["status"], bool(h["resp_in_place"]), bool(h["funds_in_place"])) == \
        ("major", "rectifying", True, False)


def test_report_json_and_text(city, tmp_path):
    f = tmp_path / "e.csv"
    df = _enterprise_frame(3)
    df["从业人数"] = df["从业人数"].astype(object)
    df.loc[1, "从业人数"] = "很多"
    df.to_csv(f, index=False)
    rep = import_file(city, "enterprises", f, crs="wgs84")
    data = json.loads(rep.to_json())
    assert data["written"] == 3 and data["fixed"] == 1
    issue = data["issues"][0]
    assert issue == {"file": "e.csv", "row": 3, "field": "从业人数", "outcome": "fixed",
                     "reason_zh": issue["reason_zh"], "reason_en": issue["reason_en"]}
    assert "很多" in issue["reason_zh"] and "whole number" in issue["reason_en"]
    text = rep.render()
    assert "行 3" in text and "row 3" not in text.split("(")[0]
    assert "written 3" in text and "写入 3" in text


def test_our_own_csv_export_imports_back(city, tmp_path):
    """write_csv (layers/export.py) puts geometries in a ``wkt`` column: the importer reads it back."""
    from layers.export import write_csv

    lines = gpd.GeoDataFrame({"id": ["P1", "P2"], "pressure": ["high", "low"], "diameter_mm": [300, 100]},
                             geometry=[shapely.LineString([(114.25, 30.6), (114.26, 30.61)]),
                                       shapely.LineString([(114.35, 30.6), (114.36, 30.6), (114.36, 30.62)])],
                             crs=4326)
    f = write_csv(lines, tmp_path / "pipes.csv")
    rep = import_file(city, "gas_pipelines", f, crs="wgs84")
    assert rep.written == 2 and rep.quarantined == 0
    got = city.read("gas_pipelines")
    assert got.geometry.iloc[1].equals(lines.geometry.iloc[1])
    assert list(got["pressure"]) == ["high", "low"] and list(got["district_code"]) == ["420102", "420103"]


def test_into_the_demo_city(writable_store, tmp_path):
    """Enterprises exported from the demo city, with new ids, import back into it with their districts."""
    from layers.export import write_csv

    store = writable_store
    src = store.read("enterprises").head(20).copy()
    src["id"] = [f"NEW{i}" for i in range(len(src))]
    src["district_code"] = None  # filled back from the location
    f = write_csv(src, tmp_path / "new.csv")
    n0 = store.count("enterprises")
    rep = import_file(store, "enterprises", f, crs="wgs84")
    assert (rep.written, rep.quarantined) == (20, 0)
    got = store.read("enterprises", ids=list(src["id"]))
    assert store.count("enterprises") == n0 + 20
    orig = store.read("enterprises").head(20)
    assert list(got["district_code"]) == list(orig["district_code"])
    assert list(got["credit_code"]) == list(orig["credit_code"])


def test_geojson_declared_wgs84_but_given_as_gcj02(city, tmp_path):
    """Amap exports GeoJSON in GCJ-02 although GeoJSON means WGS-84: --crs overrides, with a note."""
    g_lon, g_lat = wgs84_to_gcj02(114.25, 30.6)
    f = tmp_path / "amap.geojson"
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "R1", "name": "消防站", "kind": "fire_station"},
         "geometry": {"type": "Point", "coordinates": [float(g_lon), float(g_lat)]}}]}
    f.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    rep = import_file(city, "resources", f, crs="gcj02")
    assert rep.source_crs == "gcj02"
    assert any("gcj02" in n["en"] and "--crs" in n["en"] and "坐标系" in n["zh"] for n in rep.notes)
    p = city.read("resources").geometry.iloc[0]
    assert haversine_m(p.x, p.y, 114.25, 30.6) < 2.0


def test_districts_from_geojson_polygons(tmp_path):
    """Polygons become MultiPolygons; a division code stored as a number comes back as text."""
    store = open_store(tmp_path / "empty.gpkg")
    f = tmp_path / "districts.geojson"
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"行政区划代码": 420102, "区县名称": "江岸区"},
         "geometry": {"type": "Polygon", "coordinates": [[[114.2, 30.5], [114.3, 30.5], [114.3, 30.7],
                                                          [114.2, 30.7], [114.2, 30.5]]]}}]}
    f.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    rep = import_file(store, "districts", f)
    assert rep.written == 1
    d = store.read("districts")
    assert list(d["code"]) == ["420102"] and list(d["name"]) == ["江岸区"]
    assert d.geometry.iloc[0].geom_type == "MultiPolygon"


def test_text_loses_nul_padding_at_both_ends_as_it_loses_spaces():
    from layers.ingest.validate import to_text

    got = to_text(pd.Series(["E1\x00\x00", " \x00E2 ", "\x00", "a\x00b", None, 12.0]))
    assert got.tolist() == ["E1", "E2", None, "a\x00b", None, "12"]
