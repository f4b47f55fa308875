"""The GeoPackage store: a real file, transactions, migrations, round trips."""

from __future__ import annotations

import sqlite3

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from layers.errors import StoreError
from layers.schema import LAYERS
from layers.store import SCHEMA_VERSION, from_gpkg_blobs, open_store, to_gpkg_blobs


def _enterprises(ids: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "id": ids, "name": [f"企业{i}" for i in ids], "industry": "hazchem", "grade": "major",
        "district_code": "420102", "employees": list(range(len(ids))),
    }, geometry=[Point(114.3 + i * 0.001, 30.6) for i in range(len(ids))], crs=4326)


def test_new_store_is_a_geopackage_with_every_layer(tmp_path):
    path = tmp_path / "s.gpkg"
    store = open_store(path)
    assert store.schema_version() == SCHEMA_VERSION
    assert set(store.counts()) == set(LAYERS)
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
    listed = {name for name, _ in pyogrio.list_layers(path)}
    assert {"districts", "enterprises", "roads", "inspections"} <= listed


def test_round_trip_types_and_geometry(tmp_path):
    store = open_store(tmp_path / "s.gpkg")
    polys = gpd.GeoDataFrame({"code": ["420102"], "name": ["江岸区"], "name_en": ["Jiang'an"]},
                             geometry=[MultiPolygon([Polygon([(114, 30), (115, 30), (115, 31), (114, 31)])])], crs=4326)
    hazards = gpd.GeoDataFrame({
        "id": ["H1", "H2"], "target_layer": "enterprises", "target_id": ["E1", "E2"], "level": ["major", "general"],
        "found_date": pd.to_datetime(["2026-01-02", "2026-03-04"]), "status": "open",
        "resp_in_place": [True, False]}, geometry=[Point(114.5, 30.5), None], crs=4326)
    with store.transaction() as tx:
        tx.append("districts", polys)
        tx.append("hazards", hazards)
    d = store.read("districts")
    assert d.crs.to_epsg() == 4326
    assert d.geometry.iloc[0].equals(polys.geometry.iloc[0])
    h = store.read("hazards")
    assert list(h["found_date"].dt.strftime("%Y-%m-%d")) == ["2026-01-02", "2026-03-04"]
    assert list(h["resp_in_place"]) == [True, False]
    assert h.geometry.iloc[1] is None
    # GDAL reads the same data from our file
    g = pyogrio.read_dataframe(store.url, layer="districts")
    assert g.geometry.iloc[0].equals(polys.geometry.iloc[0])


def test_blob_codec_round_trip():
    geoms = [Point(1, 2), LineString([(0, 0), (1, 1)]), None, Polygon(), Point(3, 4)]
    back = from_gpkg_blobs(to_gpkg_blobs(geoms))
    assert back[0].equals(geoms[0]) and back[1].equals(geoms[1]) and back[2] is None
    assert shapely.is_empty(back[3])


def test_failed_transaction_leaves_store_unchanged(tmp_path):
    store = open_store(tmp_path / "s.gpkg")
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises(["E1", "E2"]))
    before = (store.data_version(), store.counts())
    with pytest.raises(StoreError, match="duplicate id"):
        with store.transaction() as tx:
            tx.append("enterprises", _enterprises(["E3"]))
            tx.append("enterprises", _enterprises(["E2"]))  # collides
    assert (store.data_version(), store.counts()) == before
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.replace("enterprises", _enterprises(["E9"]))
            raise RuntimeError("boom")
    assert set(store.read("enterprises")["id"]) == {"E1", "E2"}


def test_replace_upsert_update_delete(tmp_path):
    store = open_store(tmp_path / "s.gpkg")
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises(["E1", "E2", "E3"]))
    v0 = store.data_version()
    with store.transaction() as tx:
        tx.update("enterprises", ["E1"], {"grade": "low"})
        tx.delete("enterprises", ["E3"])
        up = _enterprises(["E2"])
        up["name"] = "改名"
        tx.upsert("enterprises", up)
    e = store.read("enterprises").set_index("id")
    assert e.loc["E1", "grade"] == "low" and e.loc["E2", "name"] == "改名" and "E3" not in e.index
    assert store.data_version() == v0 + 1
    with store.transaction() as tx:
        tx.replace("enterprises", _enterprises(["X"]))
    assert list(store.read("enterprises")["id"]) == ["X"]


def test_read_filters(tmp_path):
    store = open_store(tmp_path / "s.gpkg")
    e = _enterprises([f"E{i}" for i in range(1200)])
    e.loc[e.index[:10], "district_code"] = "420103"
    with store.transaction() as tx:
        tx.append("enterprises", e)
    assert len(store.read("enterprises", where={"district_code": "420103"})) == 10
    assert len(store.read("enterprises", where={"district_code": ["420103", "420102"]})) == 1200
    assert len(store.read("enterprises", ids=[f"E{i}" for i in range(0, 1200, 2)])) == 600
    only = store.read("enterprises", columns=["id", "grade"])
    assert list(only.columns) == ["id", "grade"]


def test_not_a_geopackage_is_refused(tmp_path):
    bad = tmp_path / "x.gpkg"
    bad.write_text("hello, not sqlite")
    with pytest.raises(StoreError, match="GeoPackage"):
        open_store(bad)
    with pytest.raises(StoreError, match="not found"):
        open_store(tmp_path / "missing.gpkg", create=False)


def test_newer_schema_version_is_refused(tmp_path):
    path = tmp_path / "s.gpkg"
    open_store(path)
    with sqlite3.connect(path) as con:
        con.execute("INSERT INTO riskmap_schema_version (version, applied_at) VALUES (?, 'x')",
                    (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="newer"):
        open_store(path)


def test_migration_adds_a_missing_column(tmp_path):
    path = tmp_path / "s.gpkg"
    open_store(path)
    with sqlite3.connect(path) as con:  # simulate a store written before a column existed
        con.execute('ALTER TABLE enterprises DROP COLUMN "contact"')
    store = open_store(path)
    assert "contact" in store.read("enterprises").columns


def test_latest_is_the_largest_value_typed_as_read_types_it(tmp_path):
    import datetime as _dt

    import pandas as pd

    from layers.store import open_store

    store = open_store(tmp_path / "latest.gpkg")
    assert store.latest("inspections", "date") is None
    with store.transaction() as tx:
        tx.append("inspections", pd.DataFrame({"id": ["a", "b", "c"], "target_layer": "enterprises",
                                               "target_id": "E1", "date": ["2026-03-01", "2026-11-27", None],
                                               "hazards_found": [1, 7, 3]}))
    assert store.latest("inspections", "date") == pd.Timestamp(_dt.date(2026, 11, 27))
    assert store.latest("inspections", "hazards_found") == 7
