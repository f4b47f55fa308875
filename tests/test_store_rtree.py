"""An R-tree spatial index per geometry table, registered as the GeoPackage spec says and kept in step."""

from __future__ import annotations

import sqlite3

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from shapely.geometry import LineString, Point, Polygon

from layers.schema import LAYERS
from layers.store import open_store, to_gpkg_blobs
from layers.store.gpkg import from_gpkg_blobs

SPATIAL = [name for name, layer in LAYERS.items() if layer.spatial]
TRIGGERS = ("insert", "update1", "update2", "update3", "update4", "delete")


def _enterprises(ids: list[str], x0: float = 114.3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": ids, "name": ids, "industry": "hazchem", "grade": "major",
                             "district_code": "420102"},
                            geometry=[Point(x0 + i * 1e-3, 30.6 + i * 1e-3) for i in range(len(ids))], crs=4326)


def assert_index_matches(path, table: str) -> int:
    """The R-tree of ``table`` holds exactly the non-empty geometries, each in a box that contains it (SQLite
    stores float32 boxes rounded outwards), and SQLite's own check of the tree's structure passes."""
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT rtreecheck(?)", (f"rtree_{table}_geom",)).fetchone()[0] == "ok"
        rows = con.execute(f'SELECT fid, geom FROM "{table}"').fetchall()  # noqa: S608 - a layer name
        boxes = {r[0]: r[1:] for r in con.execute(f'SELECT id, minx, maxx, miny, maxy FROM "rtree_{table}_geom"')}  # noqa: S608
    geoms = from_gpkg_blobs([r[1] for r in rows]) if rows else np.array([])
    indexed = {fid: g for (fid, _), g in zip(rows, geoms, strict=True) if g is not None and not g.is_empty}
    assert set(boxes) == set(indexed)
    for fid, g in indexed.items():
        minx, maxx, miny, maxy = boxes[fid]
        x0, y0, x1, y1 = g.bounds
        assert minx <= x0 and x1 <= maxx and miny <= y0 and y1 <= maxy
        assert np.allclose([minx, maxx, miny, maxy], [x0, x1, y0, y1], atol=1e-5)
    return len(boxes)


def test_every_geometry_table_has_an_rtree_registered_as_the_spec_says(tmp_path):
    path = tmp_path / "s.gpkg"
    open_store(path)
    with sqlite3.connect(path) as con:
        ext = {r[0]: r[1:] for r in con.execute(
            "SELECT table_name, column_name, definition, scope FROM gpkg_extensions "
            "WHERE extension_name = 'gpkg_rtree_index'")}
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
        sql = dict(con.execute("SELECT name, sql FROM sqlite_master WHERE name = 'rtree_enterprises_geom'"))
        version = con.execute("PRAGMA user_version").fetchone()[0]
    assert set(ext) == set(SPATIAL)
    assert all(v[0] == "geom" and v[2] == "write-only" and "extension_rtree" in v[1] for v in ext.values())
    for table in SPATIAL:
        assert f"rtree_{table}_geom" in names
        assert {f"rtree_{table}_geom_{t}" for t in TRIGGERS} <= names
    assert "USING rtree(id, minx, maxx, miny, maxy)" in sql["rtree_enterprises_geom"]
    assert version == 10300  # GeoPackage 1.3: the trigger set above is 1.3's (see layers/store/rtree.py)
    assert not {n for n in names if n.endswith(("_update5", "_update6", "_update7"))}


def test_the_index_follows_every_kind_of_write(tmp_path):
    path = tmp_path / "s.gpkg"
    store = open_store(path)
    e = _enterprises([f"E{i}" for i in range(500)])
    e.loc[3, "geometry"] = None
    e.loc[4, "geometry"] = Point()  # empty: not indexed
    with store.transaction() as tx:
        tx.append("enterprises", e)
    assert assert_index_matches(path, "enterprises") == 498
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises(["X1", "X2"], x0=120.0))  # a second append
        tx.delete("enterprises", ["E0", "E1"])
        tx.update("enterprises", ["E5"], {"grade": "low"})
        moved = _enterprises(["E6"], x0=100.0)
        tx.upsert("enterprises", moved)
    assert assert_index_matches(path, "enterprises") == 498
    with store.transaction() as tx:
        tx.replace("enterprises", _enterprises(["R1", "R2", "R3"], x0=110.0))
    assert assert_index_matches(path, "enterprises") == 3
    lines = gpd.GeoDataFrame({"id": ["B1", "B2"], "name": ["长江大桥", "二桥"]},
                             geometry=[LineString([(114.28, 30.55), (114.31, 30.57)]), None], crs=4326)
    with store.transaction() as tx:
        tx.append("bridges", lines)
    assert assert_index_matches(path, "bridges") == 1


def test_the_triggers_keep_the_index_for_writers_that_do_not_know_it(tmp_path):
    """QGIS or GDAL editing the file row by row: the spec's triggers (and our ST_ functions) do the work."""
    path = tmp_path / "s.gpkg"
    store = open_store(path)
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises(["E0", "E1"]))
    square = Polygon([(1, 1), (2, 1), (2, 2), (1, 2)])
    with store._con() as con:  # a connection with the store's SQL functions, writing plain SQL
        con.execute("INSERT INTO enterprises (id, name, geom) VALUES ('P', 'p', ?)", to_gpkg_blobs([Point(5, 6)]))
        con.execute("UPDATE enterprises SET geom = ? WHERE id = 'E0'", to_gpkg_blobs([square]))
        con.execute("UPDATE enterprises SET geom = NULL WHERE id = 'E1'")
        con.execute("UPDATE enterprises SET fid = 1000 WHERE id = 'P'")
    assert assert_index_matches(path, "enterprises") == 2
    with sqlite3.connect(path) as con:
        box = con.execute("SELECT minx, maxx, miny, maxy FROM rtree_enterprises_geom "
                          "WHERE id = (SELECT fid FROM enterprises WHERE id = 'E0')").fetchone()
    assert np.allclose(box, [1, 2, 1, 2])


def test_gdal_sees_and_uses_the_index(tmp_path):
    path = tmp_path / "s.gpkg"
    store = open_store(path)
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises([f"E{i}" for i in range(100)]))
    assert pyogrio.read_info(path, layer="enterprises")["capabilities"]["fast_spatial_filter"] is True
    got = pyogrio.read_dataframe(path, layer="enterprises", bbox=(114.3095, 30.6095, 114.3205, 30.6205))
    assert sorted(got["id"]) == [f"E{i}" for i in range(10, 21)]
    assert shapely.get_num_geometries(got.geometry.values).sum() == 11
