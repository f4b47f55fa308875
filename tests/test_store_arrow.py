"""Reads through GDAL's Arrow stream: the same frames as the sqlite3 path, type for type, safe beside a writer."""

from __future__ import annotations

import logging
import sqlite3
import threading

import geopandas as gpd
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from test_store_concurrency import PATIENCE_S, _hold_exclusive_lock

from layers.store import StoreBusy, arrow, gpkg, open_store


@pytest.fixture
def arrow_calls(monkeypatch) -> list:
    """Every read goes through GDAL's Arrow stream (the size threshold set to 0); the list counts the reads."""
    calls: list = []
    real = arrow.read_table

    def counted(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(gpkg, "ARROW_MIN_ROWS", 0)
    monkeypatch.setattr(arrow, "COLD_SQLITE_MAX_ROWS", 0)   # never read here while the readers start
    monkeypatch.setattr(arrow, "read_table", counted)
    return calls


@pytest.fixture(scope="module")
def typed_store(tmp_path_factory):
    """Every column type, missing values in each, empty and missing geometries, ids out of fid order."""
    store = open_store(tmp_path_factory.mktemp("arrow") / "s.gpkg")
    square = MultiPolygon([Polygon([(114, 30), (115, 30), (115, 31), (114, 31)])])
    with store.transaction() as tx:
        tx.append("districts", gpd.GeoDataFrame({"code": ["420102", "420103"], "name": ["江岸区", "O'Brien 区"],
                                                 "name_en": ["Jiang'an", None]}, geometry=[square, None], crs=4326))
        tx.append("enterprises", gpd.GeoDataFrame({
            "id": [f"E{i}" for i in range(9, -1, -1)], "name": [f"企业{i}" for i in range(10)],
            "district_code": ["420102", "420103"] * 5, "employees": [None, 1, 2, None, 4, 5, 6, 7, 8, 2 ** 40],
            "contact": [None] * 10}, geometry=[Point(114.3 + i / 100, 30.6) for i in range(10)], crs=4326))
        tx.append("hazards", gpd.GeoDataFrame({
            "id": ["H0", "H1", "H2", "H3"], "target_layer": "enterprises", "target_id": ["E1", "E2", None, "E4"],
            "level": ["major", "general", "major", None],
            "found_date": pd.to_datetime(["2026-01-02", None, "2025-12-31", "2024-02-29"]),
            "closed_date": [None, None, None, None], "status": "open",
            "resp_in_place": [True, False, None, True]},
            geometry=[Point(114.5, 30.5), None, Point(), Point(114.6, 30.4)], crs=4326))
        tx.append("bridges", gpd.GeoDataFrame({"id": ["B1", "B2"], "name": ["一桥", "二桥"],
                                               "length_m": [1670.4, None], "year_built": [1957, None]},
                                              geometry=[LineString([(114.28, 30.55), (114.29, 30.56)]), None],
                                              crs=4326))
        tx.append("inspections", pd.DataFrame({
            "id": [f"I{i}" for i in range(6)], "target_layer": "enterprises", "target_id": [f"E{i}" for i in range(6)],
            "date": pd.to_datetime(["2026-03-01"] * 5 + [None]), "hazards_found": [0, 2, None, 2, 1, 0],
            "result": ["ok", "hazards", None, "hazards", "ok", "ok"]}))
        tx.append("plans", pd.DataFrame({
            "id": ["P1", "P2"], "name": ["周一", "周二"], "plan_date": pd.to_datetime(["2026-12-01", "2026-12-02"]),
            "version": [1, 2], "created_at": pd.to_datetime(["2026-11-30T08:15:00", None])}))
    return store


CASES = [
    ("districts", {}),
    ("enterprises", {}),
    ("enterprises", {"columns": ["geometry"]}),
    ("enterprises", {"columns": ["employees", "id"]}),
    ("enterprises", {"where": {"district_code": ["420103", "420102"]}}),  # an index scan: not in fid order
    ("enterprises", {"ids": ["E3", "E0", "E7"]}),
    ("enterprises", {"where": {"employees": 2}}),
    ("districts", {"where": {"name": "O'Brien 区"}}),
    ("hazards", {}),
    ("hazards", {"columns": ["id", "found_date", "closed_date", "resp_in_place"]}),
    ("hazards", {"where": {"level": None}}),
    ("hazards", {"where": {"level": "nothing"}}),  # no rows
    ("hazards", {"where": {"level": []}}),
    ("bridges", {}),
    ("inspections", {}),
    ("inspections", {"where": {"hazards_found": 2, "result": "hazards"}}),
    ("plans", {}),
    ("users", {}),  # an empty table
]


@pytest.mark.parametrize(("layer", "kw"), CASES, ids=[f"{lay}-{'-'.join(kw) or 'all'}" for lay, kw in CASES])
def test_an_arrow_read_is_the_sqlite_read(typed_store, arrow_calls, monkeypatch, layer, kw):
    monkeypatch.setattr(gpkg, "ID_READ_MAX", 0)   # (a few ids are read through sqlite3: see the next test)
    via_arrow = typed_store.read(layer, **kw)
    assert arrow_calls == [layer]
    monkeypatch.setattr(gpkg, "ARROW_MIN_ROWS", 10 ** 12)
    via_sqlite = typed_store.read(layer, **kw)
    assert arrow_calls == [layer]
    assert list(via_arrow.columns) == list(via_sqlite.columns)
    assert via_arrow.dtypes.to_dict() == via_sqlite.dtypes.to_dict()
    if isinstance(via_sqlite, gpd.GeoDataFrame):
        assert_geodataframe_equal(via_arrow, via_sqlite, check_dtype=True, normalize=False)
    else:
        pd.testing.assert_frame_equal(via_arrow, via_sqlite, check_dtype=True)


def test_a_read_of_a_few_ids_is_an_index_look_up_not_an_arrow_stream(typed_store, arrow_calls):
    few = typed_store.read("enterprises", ids=["E3", "E0"])
    assert arrow_calls == [] and sorted(few["id"]) == ["E0", "E3"]


def test_read_types_through_arrow(typed_store, arrow_calls):
    h = typed_store.read("hazards")
    assert str(h["found_date"].dtype) == "datetime64[us]" and str(h["resp_in_place"].dtype) == "boolean"
    assert h["target_id"].dtype == object and h.loc[2, "target_id"] is None
    assert h.geometry.iloc[1] is None and h.geometry.iloc[2].is_empty
    e = typed_store.read("enterprises")
    assert str(e["employees"].dtype) == "Int64" and e["employees"].iloc[-1] == 2 ** 40
    p = typed_store.read("plans")
    assert p.loc[0, "created_at"] == pd.Timestamp("2026-11-30T08:15:00") and p["created_at"].dt.tz is None
    assert arrow_calls == ["hazards", "enterprises", "plans"]


def test_an_arrow_read_beside_an_open_write_transaction_loses_nothing(tmp_path, arrow_calls):
    """In this process GDAL's own SQLite would delete the WAL under the open transaction (the commit lost,
    then "disk I/O error"); read from the helper process, the read sees the committed rows and the write stays."""
    store = open_store(tmp_path / "s.gpkg")
    with store.transaction() as tx:
        tx.append("departments", pd.DataFrame({"id": ["D0"], "name": ["应急管理局"]}))
    with store.transaction() as tx:
        tx.append("departments", pd.DataFrame({"id": ["D1"], "name": ["住建局"]}))
        assert list(store.read("departments")["id"]) == ["D0"]
    assert list(store.read("departments")["id"]) == ["D0", "D1"]
    with sqlite3.connect(store.url) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT COUNT(*) FROM departments").fetchone()[0] == 2
    assert arrow_calls == ["departments", "departments"]


def test_an_arrow_read_says_busy_and_never_reads_stale_while_another_process_holds_the_lock(tmp_path, arrow_calls):
    """``read`` answers at once (its sqlite3 look at the table size waits 1 s); GDAL itself, reached while the
    lock is held, must fail rather than fall back to IMMUTABLE=YES, which would read the file past the lock."""
    path = tmp_path / "s.gpkg"
    store = open_store(path)
    with store.transaction() as tx:
        tx.append("departments", pd.DataFrame({"id": ["D0"], "name": ["应急管理局"]}))
    locked, release, outcome = threading.Event(), threading.Event(), {}
    holder = threading.Thread(target=_hold_exclusive_lock, args=(path, locked, release, outcome))
    holder.start()
    try:
        assert locked.wait(PATIENCE_S)
        with pytest.raises(StoreBusy):
            store.read("departments")
        with pytest.raises(StoreBusy):
            store._read_arrow(gpkg.layer_schema("departments"), ["id"], False, "")
    finally:
        release.set()
        holder.join(3 * PATIENCE_S)
    assert outcome["holder_gave_up_waiting"] is False


def test_a_table_gdal_cannot_open_is_read_through_sqlite_with_a_warning(tmp_path, arrow_calls, caplog):
    store = open_store(tmp_path / "s.gpkg")
    with store.transaction() as tx:
        tx.append("departments", pd.DataFrame({"id": ["D0"], "name": ["应急管理局"]}))
    with sqlite3.connect(store.url) as con:  # GDAL lists only tables registered in gpkg_contents
        con.execute("DELETE FROM gpkg_contents WHERE table_name = 'departments'")
    with caplog.at_level(logging.WARNING, logger="layers.store.gpkg"):
        got = store.read("departments")
    assert list(got["id"]) == ["D0"]
    assert arrow_calls == ["departments"]
    assert "reading it with sqlite3" in caplog.text and "departments" in caplog.text


@pytest.mark.parametrize(("layer", "kw"), CASES, ids=[f"{lay}-{'-'.join(kw) or 'all'}" for lay, kw in CASES])
def test_a_read_in_fid_ranges_with_dictionary_text_is_the_sqlite_read(typed_store, arrow_calls, monkeypatch, layer,
                                                                        kw):
    """What a big table's read does (several reader processes, each a fid range; text columns of few values
    made from their dictionary), on the small tables: the same frames as the sqlite3 path."""
    monkeypatch.setattr(gpkg, "ID_READ_MAX", 0)
    monkeypatch.setattr(arrow, "SPLIT_MIN_ROWS", 0)
    monkeypatch.setattr(arrow, "_SAMPLE_ROWS", 1)
    monkeypatch.setattr(arrow, "_ROWS_PER_VALUE", 1)
    via_arrow = typed_store.read(layer, **kw)
    assert arrow_calls == [layer]
    monkeypatch.setattr(gpkg, "ARROW_MIN_ROWS", 10 ** 12)
    via_sqlite = typed_store.read(layer, **kw)
    assert via_arrow.dtypes.to_dict() == via_sqlite.dtypes.to_dict()
    if isinstance(via_sqlite, gpd.GeoDataFrame):
        assert_geodataframe_equal(via_arrow, via_sqlite, check_dtype=True, normalize=False)
    else:
        pd.testing.assert_frame_equal(via_arrow, via_sqlite, check_dtype=True)


def test_a_write_between_the_fid_ranges_is_read_again_in_one_piece(tmp_path, arrow_calls, monkeypatch):
    """The ranges are read in separate read transactions: when the table's write stamp moved meanwhile, the
    read is done again in one piece (one snapshot), so an upsert is never seen half."""
    store = open_store(tmp_path / "s.gpkg")
    with store.transaction() as tx:
        tx.append("departments", pd.DataFrame({"id": [f"D{i}" for i in range(6)], "name": "局"}))
    monkeypatch.setattr(arrow, "SPLIT_MIN_ROWS", 0)
    real = arrow.read_table
    pieces: list = []

    def write_in_between(*args, **kwargs):
        pieces.append(kwargs.get("largest_fid", 0))
        got = real(*args, **kwargs)
        if len(pieces) == 1:
            with store.transaction() as tx:
                tx.upsert("departments", pd.DataFrame({"id": ["D0"], "name": ["应急管理局"]}))
        return got

    monkeypatch.setattr(arrow, "read_table", write_in_between)
    got = store.read("departments")
    assert pieces == [6, 0]
    assert sorted(got["id"]) == [f"D{i}" for i in range(6)] and got["id"].iloc[-1] == "D0"


def test_a_first_read_does_not_wait_for_the_readers_to_start(tmp_path, arrow_calls, monkeypatch):
    """In a process whose reader processes are not ready yet, a table below COLD_SQLITE_MAX_ROWS is read here
    through sqlite3 (the same frame) and the readers are started; once one is ready, reads go to it."""
    import time

    store = open_store(tmp_path / "s.gpkg")
    with store.transaction() as tx:
        tx.append("departments", pd.DataFrame({"id": ["D0", "D1"], "name": ["应急管理局", None]}))
    monkeypatch.setattr(arrow, "COLD_SQLITE_MAX_ROWS", 10 ** 9)
    monkeypatch.setattr(arrow, "_pool", None)   # a process that has not read through GDAL yet
    first = store.read("departments")
    assert arrow_calls == []
    deadline = time.monotonic() + 60
    while not arrow.ready() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert arrow.ready()
    pd.testing.assert_frame_equal(store.read("departments"), first, check_dtype=True)
    assert arrow_calls == ["departments"]
