"""Bad inputs: each asserts the outcome, the message in both languages, and (when rejected) an unchanged store."""

from __future__ import annotations

import datetime as dt
import json
import struct
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon

from layers import credit_code
from layers.errors import ImportRejected
from layers.ingest.importer import import_file
from layers.store import open_store

TODAY = dt.date(2026, 6, 1)
CODES = credit_code.make_many(10, seed=5)


def build_city(tmp_path: Path):
    """Two districts (lon 114.2-114.4, lat 30.5-30.7) and one enterprise E0 in the west one (420102)."""
    store = open_store(tmp_path / "city.gpkg")
    west = MultiPolygon([Polygon([(114.2, 30.5), (114.3, 30.5), (114.3, 30.7), (114.2, 30.7)])])
    east = MultiPolygon([Polygon([(114.3, 30.5), (114.4, 30.5), (114.4, 30.7), (114.3, 30.7)])])
    with store.transaction() as tx:
        tx.append("districts", gpd.GeoDataFrame({"code": ["420102", "420103"], "name": ["江岸区", "江汉区"]},
                                                geometry=[west, east], crs=4326))
        tx.append("enterprises", gpd.GeoDataFrame(
            {"id": ["E0"], "name": ["老企业"], "industry": ["hazchem"], "grade": ["major"], "district_code": ["420102"]},
            geometry=[Point(114.25, 30.6)], crs=4326))
    return store


@pytest.fixture
def city(tmp_path):
    return build_city(tmp_path)


def _state(store):
    return store.data_version(), store.counts(), len(store.quarantined()), len(store.imports())


def _rows(**over) -> pd.DataFrame:
    base = {"编号": ["A1", "A2", "A3"], "名称": ["甲", "乙", "丙"], "统一社会信用代码": CODES[:3],
            "行业": ["工贸", "工贸", "危险化学品"], "风险等级": ["低", "一般", "重大"],
            "经度": [114.25, 114.26, 114.35], "纬度": [30.6, 30.61, 30.62]}
    base.update(over)
    return pd.DataFrame(base)


def _csv(tmp_path: Path, df: pd.DataFrame, name: str = "e.csv", encoding: str = "utf-8") -> Path:
    f = tmp_path / name
    df.to_csv(f, index=False, encoding=encoding)
    return f


def _rejected(store, fn, zh: str, en: str):
    """Run ``fn``; it must raise ImportRejected naming ``zh`` and ``en``; the store must be unchanged."""
    before = _state(store)
    with pytest.raises(ImportRejected) as err:
        fn()
    msg = str(err.value)
    assert zh in msg, msg
    assert en in msg, msg
    rep = err.value.report
    assert rep is not None and rep.status == "rejected" and rep.written == 0 and rep.rejected >= 1
    rej = [i for i in rep.issues if i.outcome == "rejected"]
    assert rej and all(i.reason_zh and i.reason_en for i in rej)
    assert any(zh in i.reason_zh for i in rej) and any(en in i.reason_en for i in rej)
    assert _state(store) == before
    return rep


def _quarantined(store, rep, row: int, zh: str, en: str):
    hits = [i for i in rep.issues if i.outcome == "quarantined" and i.row == row]
    assert hits, rep.issues
    assert any(zh in i.reason_zh and en in i.reason_en for i in hits), hits
    q = store.quarantined("enterprises" if rep.layer == "enterprises" else rep.layer)
    assert row in set(q["row"])
    assert any(zh in z for z in q["reason_zh"]) and any(en in e for e in q["reason_en"])


# ---------------------------------------------------------------------------------------------------
# Rejected batches (nothing written)
# ---------------------------------------------------------------------------------------------------

def test_unknown_layer(city, tmp_path):
    f = _csv(tmp_path, _rows())
    _rejected(city, lambda: import_file(city, "spaceships", f, crs="wgs84"), "没有可导入的图层", "no layer spaceships")
    # users are never imported from a file (password hashes, roles)
    _rejected(city, lambda: import_file(city, "users", f, crs="wgs84"), "没有可导入的图层", "no layer users")


def test_unsupported_extension(city, tmp_path):
    f = tmp_path / "e.docx"
    f.write_bytes(b"PK\x03\x04 not really")
    _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "不支持的文件类型", "unsupported file type")


def test_xlsx_that_is_csv_text(city, tmp_path):
    f = tmp_path / "e.xlsx"
    _rows().to_csv(f, index=False)
    _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "内容不是 Excel 工作簿", "is not Excel workbook")


def test_csv_that_is_a_workbook(city, tmp_path):
    f = tmp_path / "e.csv"
    _rows().to_excel(tmp_path / "real.xlsx", index=False)
    f.write_bytes((tmp_path / "real.xlsx").read_bytes())
    _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "ZIP/XLSX", "is not CSV text")


def test_gpkg_that_is_text(city, tmp_path):
    f = tmp_path / "e.gpkg"
    f.write_text("id,name\n1,a\n", encoding="utf-8")
    _rejected(city, lambda: import_file(city, "enterprises", f), "内容不是 GeoPackage", "is not GeoPackage")


def test_geojson_that_is_not_json(city, tmp_path):
    f = tmp_path / "e.geojson"
    f.write_text("编号,名称\n1,甲\n", encoding="utf-8")
    _rejected(city, lambda: import_file(city, "enterprises", f), "内容不是 GeoJSON", "is not GeoJSON")


def test_broken_geojson(city, tmp_path):
    f = tmp_path / "e.geojson"
    f.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    _rejected(city, lambda: import_file(city, "enterprises", f), "无法读取 geojson", "cannot read geojson")


def test_zip_that_is_not_a_zip(city, tmp_path):
    f = tmp_path / "b.zip"
    f.write_text("just text", encoding="utf-8")
    _rejected(city, lambda: import_file(city, "bridges", f), "内容不是 ZIP 压缩包", "is not a ZIP archive")


def _zip(tmp_path: Path, members: dict[str, bytes], name: str = "b.zip") -> Path:
    z = tmp_path / name
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    return z


def test_zip_with_parent_path(city, tmp_path):
    z = _zip(tmp_path, {"../../etc/evil.shp": b"x", "a.dbf": b"x"})
    _rejected(city, lambda: import_file(city, "bridges", z), "不安全的路径", "unsafe member path")


def test_zip_with_absolute_path(city, tmp_path):
    z = _zip(tmp_path, {"/tmp/evil.shp": b"x"})
    _rejected(city, lambda: import_file(city, "bridges", z), "不安全的路径", "unsafe member path")


def test_zip_bomb_by_declared_size(city, tmp_path):
    z = _zip(tmp_path, {"b.shp": b"\0" * 200_000, "b.shx": b"\0" * 10, "b.dbf": b"\0" * 10})
    assert z.stat().st_size < 5_000  # it compresses 200 KB of zeros into a few hundred bytes
    _rejected(city, lambda: import_file(city, "bridges", z, max_unpacked_bytes=100_000), "疑似压缩炸弹", "zip bomb")


def test_zip_whose_member_lies_about_its_size(city, tmp_path):
    z = _zip(tmp_path, {"b.shp": b"\0" * 50_000, "b.shx": b"\0" * 10, "b.dbf": b"\0" * 10})
    data = bytearray(z.read_bytes())
    # shrink the declared uncompressed size of b.shp in the local header and the central directory to 100 bytes
    local = data.find(b"PK\x03\x04")
    struct.pack_into("<I", data, local + 22, 100)
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 100)
    z.write_bytes(bytes(data))
    rep = _rejected(city, lambda: import_file(city, "bridges", z), "压缩包", "zip")
    assert any(("压缩炸弹" in i.reason_zh or "损坏" in i.reason_zh) for i in rep.issues)


def test_zip_without_shapefile(city, tmp_path):
    z = _zip(tmp_path, {"readme.txt": b"hello"})
    _rejected(city, lambda: import_file(city, "bridges", z), "没有 .shp", "no .shp")


def test_zip_with_two_shapefiles(city, tmp_path):
    z = _zip(tmp_path, {"a.shp": b"x", "b.shp": b"x"})
    _rejected(city, lambda: import_file(city, "bridges", z), "多个 .shp", "several .shp")


def test_missing_required_column(city, tmp_path):
    f = _csv(tmp_path, _rows().drop(columns="风险等级"))
    rep = _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "缺少必填列“风险等级”",
                    "required column 'Risk grade' (grade) is missing")
    assert rep.issues[0].row is None and rep.issues[0].field == "风险等级"


def test_missing_coordinate_columns(city, tmp_path):
    f = _csv(tmp_path, _rows().drop(columns=["经度", "纬度"]))
    _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "缺少坐标列", "coordinate columns are missing")


def test_csv_without_crs(city, tmp_path):
    f = _csv(tmp_path, _rows())
    _rejected(city, lambda: import_file(city, "enterprises", f), "没有声明坐标系", "declares no coordinate system")


def test_shapefile_without_prj_and_no_crs(city, tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    gdf = gpd.GeoDataFrame({"id": ["B1"], "name": ["桥"], "condition": ["2"]},
                           geometry=[shapely.LineString([(114.25, 30.6), (114.26, 30.6)])], crs=4326)
    pyogrio.write_dataframe(gdf, folder / "b.shp")
    (folder / "b.prj").unlink()
    z = tmp_path / "b.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in folder.iterdir():
            zf.write(p, p.name)
    _rejected(city, lambda: import_file(city, "bridges", z), "没有声明坐标系", "declares no coordinate system")


def test_bad_crs_text(city, tmp_path):
    f = _csv(tmp_path, _rows())
    _rejected(city, lambda: import_file(city, "enterprises", f, crs="mars-2000"), "无法识别的坐标系",
              "unknown coordinate system")


def test_duplicate_ids_in_file(city, tmp_path):
    f = _csv(tmp_path, _rows(编号=["A1", "A2", "A1"]))
    rep = _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "在文件中重复", "duplicated in the file")
    assert sorted(i.row for i in rep.issues if i.outcome == "rejected") == [2, 4]


def test_id_already_in_store(city, tmp_path):
    f = _csv(tmp_path, _rows(编号=["A1", "E0", "A3"]))
    rep = _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "已在图层 企业 中存在",
                    "already exists in layer enterprises")
    assert [i.row for i in rep.issues if i.outcome == "rejected"] == [3]
    # with --replace the same file is fine
    assert import_file(city, "enterprises", f, crs="wgs84", replace=True).written == 3


def test_projected_metres_claimed_as_degrees(city, tmp_path):
    f = _csv(tmp_path, _rows(经度=[529000.0, 530000.0, 531000.0], 纬度=[3386000.0, 3387000.0, 3388000.0]))
    _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "像是投影坐标（米）",
              "look like projected metres")


def test_swapped_longitude_and_latitude(city, tmp_path):
    f = _csv(tmp_path, _rows(经度=[30.6, 30.61, 30.62], 纬度=[114.25, 114.26, 114.35]))
    _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "填反了", "may be swapped")


def test_degrees_claimed_as_projected(city, tmp_path):
    f = _csv(tmp_path, _rows())
    _rejected(city, lambda: import_file(city, "enterprises", f, crs="EPSG:32650"), "都像经纬度", "looks like degrees")


def test_required_date_column_that_never_parses(city, tmp_path):
    f = _csv(tmp_path, pd.DataFrame({"编号": ["I1", "I2"], "对象类型": ["企业", "企业"], "对象编号": ["E0", "E0"],
                                     "检查日期": ["03/15/2024", "03/16/2024"]}))
    _rejected(city, lambda: import_file(city, "inspections", f, today=TODAY), "没有一个值能识别为日期",
              "no value in the required date column")


def test_undecodable_csv(city, tmp_path):
    f = tmp_path / "e.csv"
    f.write_bytes("编号,名称\n".encode() + b"A1,\x80\xff\n")
    rep = _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "请用 --encoding 指定",
                    "give it with --encoding")
    assert rep.issues[0].row == 2


def test_wrong_encoding_given(city, tmp_path):
    f = _csv(tmp_path, _rows(), encoding="gbk")
    rep = _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84", encoding="utf-8"),
                    "不是有效的 utf-8 编码", "is not valid utf-8")
    assert rep.issues[0].row == 1  # the header already holds GBK bytes


def test_unknown_encoding_name(city, tmp_path):
    f = _csv(tmp_path, _rows())
    _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84", encoding="klingon"), "未知的编码",
              "unknown encoding")


def zipped_bridge_without_cpg(tmp_path: Path, name: str, encoding: str) -> Path:
    """A zipped shapefile of one bridge ``name`` whose DBF is in ``encoding``, with no .cpg to say so."""
    folder = tmp_path / "s"
    folder.mkdir()
    gdf = gpd.GeoDataFrame({"id": ["B1"], "name": [name], "condition": ["2"]},
                           geometry=[shapely.LineString([(114.25, 30.6), (114.26, 30.6)])], crs=4326)
    pyogrio.write_dataframe(gdf, folder / "b.shp", encoding=encoding)
    (folder / "b.cpg").unlink(missing_ok=True)
    z = tmp_path / "b.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in folder.iterdir():
            zf.write(p, p.name)
    return z


@pytest.mark.parametrize("name,written_as,given,zh,en", [
    ("Café", "ISO-8859-1", "latin-1", "请用 --encoding 指定编码", "give the encoding with --encoding"),
    # Big5 decodes as GB18030 without an error, into private-use characters and kana: refused all the same
    ("忠孝東路高架橋", "BIG5", "big5", "请用 --encoding big5 指定", "give --encoding big5"),
], ids=["latin-1", "big5-taken-for-gb18030"])
def test_shapefile_dbf_in_neither_utf8_nor_gb18030(city, tmp_path, name, written_as, given, zh, en):
    z = zipped_bridge_without_cpg(tmp_path, name, written_as)
    _rejected(city, lambda: import_file(city, "bridges", z), zh, en)
    # naming the encoding makes it import
    rep = import_file(city, "bridges", z, encoding=given)
    assert rep.written == 1 and city.read("bridges")["name"].iloc[0] == name


def test_empty_file_and_header_only(city, tmp_path):
    f = tmp_path / "e.csv"
    f.write_bytes(b"")
    _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "是空的", "is empty")
    g = tmp_path / "h.csv"
    g.write_text("编号,名称,行业,风险等级,经度,纬度\n", encoding="utf-8")
    _rejected(city, lambda: import_file(city, "enterprises", g, crs="wgs84"), "没有数据行", "has no data rows")


def test_polygons_into_a_point_layer(city, tmp_path):
    f = tmp_path / "e.geojson"
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "A", "name": "甲", "industry": "mining", "grade": "low"},
         "geometry": {"type": "Polygon", "coordinates": [[[114.25, 30.6], [114.26, 30.6], [114.26, 30.61],
                                                          [114.25, 30.6]]]}}]}
    f.write_text(json.dumps(fc), encoding="utf-8")
    _rejected(city, lambda: import_file(city, "enterprises", f), "需要 POINT", "needs POINT")


def test_row_with_too_many_fields(city, tmp_path):
    f = tmp_path / "e.csv"
    f.write_text("编号,名称,行业,风险等级,经度,纬度\nA,甲,工贸,低,114.25,30.6\nB,乙,工贸,低,114.25,30.6,extra,more\n",
                 encoding="utf-8")
    rep = _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "列数与表头不一致",
                    "different number of fields")
    assert rep.issues[0].row == 3


def test_geopackage_with_several_layers_none_matching(city, tmp_path):
    f = tmp_path / "multi.gpkg"
    g = gpd.GeoDataFrame({"id": ["A"]}, geometry=[Point(114.25, 30.6)], crs=4326)
    pyogrio.write_dataframe(g, f, layer="one")
    pyogrio.write_dataframe(g, f, layer="two")
    _rejected(city, lambda: import_file(city, "enterprises", f), "有多个图层", "has several layers")


def test_lines_layer_from_coordinate_columns(city, tmp_path):
    f = _csv(tmp_path, pd.DataFrame({"编号": ["P1"], "压力级制": ["中压"], "经度": [114.25], "纬度": [30.6]}))
    _rejected(city, lambda: import_file(city, "gas_pipelines", f, crs="wgs84"), "需要线或面几何",
              "needs line or polygon geometries")


# ---------------------------------------------------------------------------------------------------
# Quarantined rows (the batch is written, the row kept aside with its reason)
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("over,row,zh,en", [
    ({"经度": ["", 114.26, 114.35], "纬度": ["", 30.61, 30.62]}, 2, "没有坐标", "no coordinates"),
    ({"经度": ["nan", 114.26, 114.35]}, 2, "NaN", "NaN"),
    ({"经度": [114.25, "inf", 114.35]}, 3, "无穷大", "infinity"),
    ({"经度": [0, 114.26, 114.35], "纬度": [0, 30.61, 30.62]}, 2, "(0, 0)", "(0, 0)"),
    ({"经度": [114.25, 114.26, 114.9]}, 4, "不在本市任何区县范围内", "outside every district"),
    ({"经度": [114.25, 114.26, 1210.5]}, 4, "超出经纬度范围", "outside -180..180"),
    ({"经度": [114.25, "东经114度", 114.35]}, 3, "不是数字", "are not numbers"),
    ({"统一社会信用代码": [CODES[0], CODES[1][:17] + ("0" if CODES[1][17] != "0" else "1"), CODES[2]]}, 3,
     "无效（GB 32100-2015", "is invalid (GB 32100-2015"),
    ({"风险等级": ["低", "紫色", "重大"]}, 3, "不是允许的风险等级", "is not an allowed Risk grade"),
    ({"行业": ["工贸", "工贸", "造船"]}, 4, "不是允许的行业", "is not an allowed Industry"),
    ({"名称": ["甲", "", "丙"]}, 3, "必填字段“名称”为空", "required field 'Name' is empty"),
])
def test_quarantined_rows(city, tmp_path, over, row, zh, en):
    df = _rows()
    for k, v in over.items():
        df[k] = pd.Series(v, dtype=object)
    f = _csv(tmp_path, df)
    v0 = city.data_version()
    rep = import_file(city, "enterprises", f, crs="wgs84")
    assert rep.status == "written" and rep.quarantined == 1 and rep.written == 2
    _quarantined(city, rep, row, zh, en)
    ids = set(city.read("enterprises")["id"])
    assert df["编号"].iloc[row - 2] not in ids
    assert city.data_version() == v0 + 1


def test_credit_code_stored_as_a_number_in_excel(city, tmp_path):
    import openpyxl

    f = tmp_path / "e.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["编号", "名称", "统一社会信用代码", "行业", "风险等级", "经度", "纬度"])
    ws.append(["A1", "甲", CODES[0], "工贸", "低", 114.25, 30.6])
    ws.append(["A2", "乙", 913501000000000000, "工贸", "低", 114.26, 30.6])  # what Excel keeps of 91350100M...
    wb.save(f)
    rep = import_file(city, "enterprises", f, crs="wgs84")
    assert rep.written == 1 and rep.quarantined == 1
    _quarantined(city, rep, 3, "存成了数字", "stored as a number in Excel")


def test_future_inspection_is_quarantined(city, tmp_path):
    f = _csv(tmp_path, pd.DataFrame({"编号": ["I1", "I2"], "对象类型": ["enterprises"] * 2, "对象编号": ["E0"] * 2,
                                     "检查日期": ["2026-05-31", "2026-06-02"]}))
    rep = import_file(city, "inspections", f, today=TODAY)
    assert rep.written == 1 and rep.quarantined == 1
    _quarantined(city, rep, 3, "不能是未来日期", "cannot be in the future")


def test_some_unparseable_required_dates_are_quarantined(city, tmp_path):
    f = _csv(tmp_path, pd.DataFrame({"编号": ["I1", "I2", "I3"], "对象类型": ["enterprises"] * 3,
                                     "对象编号": ["E0"] * 3, "检查日期": ["2024-02-29", "2023-02-29", "2024/3/1"]}))
    rep = import_file(city, "inspections", f, today=TODAY)
    assert rep.written == 2 and rep.quarantined == 1
    _quarantined(city, rep, 3, "不是日期", "is not a date")


def test_null_geometry_feature_is_quarantined(city, tmp_path):
    f = tmp_path / "v.geojson"
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "V1", "name": "商场", "kind": "mall"}, "geometry": None},
        {"type": "Feature", "properties": {"id": "V2", "name": "学校", "kind": "school"},
         "geometry": {"type": "Point", "coordinates": [114.25, 30.6]}}]}
    f.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    rep = import_file(city, "venues", f)
    assert rep.written == 1 and rep.quarantined == 1
    _quarantined(city, rep, 1, "几何为空", "empty or null")


# ---------------------------------------------------------------------------------------------------
# Fixed and flagged
# ---------------------------------------------------------------------------------------------------

def test_invalid_polygon_is_repaired_and_flagged(city, tmp_path):
    f = tmp_path / "w.geojson"
    bowtie = [[[114.25, 30.55], [114.27, 30.57], [114.27, 30.55], [114.25, 30.57], [114.25, 30.55]]]
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "W1", "name": "湖"}, "geometry": {"type": "Polygon",
                                                                                "coordinates": bowtie}}]}
    f.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    rep = import_file(city, "water", f)
    assert rep.written == 1 and rep.fixed == 1
    issue = rep.issues[0]
    assert issue.outcome == "fixed" and "make_valid" in issue.reason_en and "修复" in issue.reason_zh
    assert "Self-intersection" in issue.reason_en
    g = city.read("water").geometry.iloc[0]
    assert g.is_valid and g.area == pytest.approx(0.0002, rel=1e-6)


def test_optional_values_that_do_not_fit_are_cleared_and_flagged(city, tmp_path):
    f = _csv(tmp_path, _rows(经营状态=["在营", "外星", "停产"], 从业人数=["12", "12.5", "1,200"]))
    rep = import_file(city, "enterprises", f, crs="wgs84")
    assert rep.written == 3 and rep.fixed == 1 and rep.quarantined == 0  # one row, two fields fixed
    e = city.read("enterprises").set_index("id")
    assert e.loc["A1", "status"] == "operating" and pd.isna(e.loc["A2", "status"]) and e.loc["A3", "status"] == "suspended"
    assert e.loc["A1", "employees"] == 12 and pd.isna(e.loc["A2", "employees"]) and e.loc["A3", "employees"] == 1200
    fixed = {(i.row, i.field) for i in rep.issues if i.outcome == "fixed"}
    assert fixed == {(3, "经营状态"), (3, "从业人数")}


def test_geopackage_without_srs_and_no_crs(city, tmp_path):
    f = tmp_path / "nosrs.gpkg"
    g = gpd.GeoDataFrame({"id": ["V1"], "name": ["商场"], "kind": ["mall"]}, geometry=[Point(114.25, 30.6)])
    with pytest.warns(UserWarning, match="crs"):  # pyogrio warns when writing a layer with no SRS
        pyogrio.write_dataframe(g, f, layer="venues")
    _rejected(city, lambda: import_file(city, "venues", f), "没有声明坐标系", "declares no coordinate system")
    assert import_file(city, "venues", f, crs="wgs84").written == 1


def test_surveying_xy_order_is_rejected_with_a_hint(city, tmp_path):
    """CGCS2000 Gauss-Kruger with X = northing, Y = easting (surveying order): rejected, never swapped silently."""
    pts = gpd.GeoSeries([Point(114.25, 30.6), Point(114.35, 30.65)], crs=4326).to_crs(4547)
    f = _csv(tmp_path, pd.DataFrame({"编号": ["S1", "S2"], "名称": ["甲", "乙"], "行业": "工贸", "风险等级": "低",
                                     "X": pts.y.to_numpy(), "Y": pts.x.to_numpy()}))
    _rejected(city, lambda: import_file(city, "enterprises", f, crs="EPSG:4547"), "X 是北坐标", "X is the northing")
