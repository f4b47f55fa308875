"""A big write into an empty table: the R-tree packed at once, secondary indexes built after the rows, and the
file the same as a row-by-row write would leave it (indexes, R-tree entries, all or nothing)."""

from __future__ import annotations

import sqlite3

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from test_store_rtree import assert_index_matches

from layers.errors import StoreError
from layers.store import gpkg as gpkg_store
from layers.store import open_store, rtree

N = gpkg_store._INDEX_AFTER_ROWS + 1_000  # over the threshold: indexes dropped and built again after the rows


def _hazards(n: int, *, seed: int = 3) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(114.0, 114.6, n), rng.uniform(30.3, 30.9, n)
    found = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 400 * 86_400, n), unit="s")
    return gpd.GeoDataFrame({
        "id": [f"HZ{i:07d}" for i in range(n)], "target_id": [f"E{i % 977:05d}" for i in range(n)],
        "district_code": rng.choice(["420102", "420103", "420104"], n), "found_date": found,
        "updated_at": found.where(rng.uniform(size=n) < 0.9),
    }, geometry=shapely.points(x, y), crs=4326)


def _indexes(path, table: str) -> dict[str, str]:
    with sqlite3.connect(path) as con:
        return dict(con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                                "AND sql IS NOT NULL", (table,)).fetchall())


def test_a_big_replace_keeps_every_index_and_a_full_rtree(tmp_path):
    path = tmp_path / "s.gpkg"
    store = open_store(path)
    before = _indexes(path, "hazards")
    frame = _hazards(N)
    frame.loc[5, "geometry"] = None
    frame.loc[6, "geometry"] = shapely.Point()  # empty: not indexed
    with store.transaction() as tx:
        assert tx.replace("hazards", frame) == N
    assert _indexes(path, "hazards") == before and before  # built again, the same definitions
    assert assert_index_matches(path, "hazards") == N - 2
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        plan = " ".join(r[3] for r in con.execute("EXPLAIN QUERY PLAN SELECT id FROM hazards WHERE target_id = 'E1'"))
        assert "idx_hazards_target_id" in plan
    back = store.read("hazards")
    assert back["updated_at"].isna().sum() == frame["updated_at"].isna().sum()
    assert (back["found_date"].dt.floor("D") == frame["found_date"].dt.floor("D")).all()
    # row by row afterwards (QGIS, a small append): the packed tree takes it as the module's own
    with store.transaction() as tx:
        tx.append("hazards", _hazards(10, seed=4).assign(id=[f"X{i}" for i in range(10)]))
        tx.delete("hazards", [f"HZ{i:07d}" for i in range(0, N, 3)])
    assert assert_index_matches(path, "hazards") == N - 2 + 10 - len(range(0, N, 3)) + 1  # HZ…6 was empty


def test_a_failing_big_write_leaves_the_file_as_it_was(tmp_path):
    path = tmp_path / "s.gpkg"
    store = open_store(path)
    with store.transaction() as tx:
        tx.replace("hazards", _hazards(100))
    before = _indexes(path, "hazards")
    bad = _hazards(N)
    bad.loc[N - 1, "id"] = bad.loc[0, "id"]  # a duplicate id in the last chunk
    with pytest.raises(StoreError):
        with store.transaction() as tx:
            tx.replace("hazards", bad)
    assert store.counts()["hazards"] == 100
    assert _indexes(path, "hazards") == before
    assert assert_index_matches(path, "hazards") == 100


def test_the_packed_tree_holds_what_the_module_would(tmp_path):
    """The same boxes as SQLite's own insert gives them (float32 rounded outwards), and its check passes."""
    rng = np.random.default_rng(9)
    n = 20_000
    x, y = rng.uniform(-180, 180, n), rng.uniform(-90, 90, n)
    w = rng.uniform(0, 0.5, n)
    b = np.column_stack([x - w, x + w, y - w, y + w])
    ids = rng.permutation(n) + 1
    con = sqlite3.connect(":memory:", isolation_level=None)
    for t in ("a", "b"):
        con.execute(f'CREATE VIRTUAL TABLE "{rtree.rtree_name(t)}" USING rtree(id, minx, maxx, miny, maxy)')
    con.execute("BEGIN")
    assert rtree.bulk_load(con, "a", ids, b) == n
    rtree.insert_boxes(con, "b", ids, b)
    con.execute("COMMIT")
    assert con.execute(f"SELECT rtreecheck('{rtree.rtree_name('a')}')").fetchone()[0] == "ok"
    def rows(table: str, where: str = "1") -> list[tuple]:
        return con.execute(f'SELECT * FROM "{rtree.rtree_name(table)}" WHERE {where} ORDER BY id').fetchall()  # noqa: S608 - fixed names

    assert rows("a") == rows("b")
    box = "maxx >= 10 AND minx <= 20 AND maxy >= 5 AND miny <= 15"
    assert rows("a", box) == rows("b", box) != []
