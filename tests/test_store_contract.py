"""The store contract (:mod:`layers.store.base`), run against both stores: the GeoPackage file and PostGIS.

Each test gets a new empty store of each kind (``store``); the PostGIS one is a new database in a real
PostgreSQL server (``tests/pg_fixtures.py``). What only one store has (GDAL's validator of the GeoPackage,
row-level security of PostGIS) is tested in its own file.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
from pg_fixtures import pg_server, pg_url  # noqa: F401  (fixtures)
from shapely.geometry import Point
from store_sample import IMPORT_RECORD, QUARANTINE_ROWS, every_layer, sample

from layers.errors import EditConflict, StoreError
from layers.schema import LAYERS
from layers.store import GeoPackageStore, Store, StoreBusy, open_store, store_exists
from layers.store import gpkg as gpkg_module
from layers.store import postgis as postgis_module


@dataclass
class Backend:
    """Where a store is, and a way to change it behind the store's back (as an old program or a DBA would)."""

    kind: str
    url: str

    def open(self, **kw) -> Store:
        return open_store(self.url, **kw)

    def execute(self, statement: str, params: tuple = ()) -> None:
        if self.kind == "gpkg":
            with sqlite3.connect(self.url) as con:
                con.execute(statement, params)
            con.close()
        else:
            with psycopg.connect(self.url, autocommit=True) as con:
                con.execute(statement.replace("?", "%s"), params)
            postgis_module.forget_verified()

    @property
    def schema_version(self) -> int:
        return gpkg_module.SCHEMA_VERSION if self.kind == "gpkg" else postgis_module.SCHEMA_VERSION


@pytest.fixture(params=["gpkg", "postgis"])
def backend(request, tmp_path) -> Backend:
    if request.param == "gpkg":
        return Backend("gpkg", str(tmp_path / "s.gpkg"))
    return Backend("postgis", request.getfixturevalue("pg_url"))


@pytest.fixture
def store(backend: Backend) -> Store:
    return backend.open()


def _enterprises(ids: list[str], district: str = "420102") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "id": ids, "name": [f"企业{i}" for i in ids], "industry": "hazchem", "grade": "major",
        "district_code": district, "employees": list(range(len(ids))),
    }, geometry=[Point(114.3 + i * 0.001, 30.6) for i in range(len(ids))], crs=4326)


# --------------------------------------------------------------------------------------------------
# creation, types, round trips
# --------------------------------------------------------------------------------------------------

def test_new_store_has_every_layer_empty(store: Store, backend: Backend):
    assert store.schema_version() == backend.schema_version
    assert store.counts() == {name: 0 for name in LAYERS}
    assert store.data_version() == 0
    assert store.last_import() is None
    assert len(store.quarantined()) == 0 and len(store.imports()) == 0
    health = store.health()
    assert health["schema_version"] == backend.schema_version and health["quarantined"] == 0


@pytest.mark.parametrize("name", list(LAYERS))
def test_every_layer_round_trips_every_column_type_and_geometry(store: Store, name: str):
    schema = LAYERS[name]
    frame = sample(schema)
    with store.transaction() as tx:
        assert tx.append(name, frame) == 3
    back = store.read(name)
    assert list(back.columns) == schema.names + (["geometry"] if schema.spatial else [])
    assert len(back) == 3 and store.count(name) == 3
    for c in schema.columns:
        got = back[c.name]
        kind = c.type.name
        if kind in ("DATE", "DATETIME"):
            assert pd.api.types.is_datetime64_dtype(got.dtype), (name, c.name, got.dtype)
        elif kind == "BOOL":
            assert str(got.dtype) == "boolean"
        elif kind == "INT":
            assert str(got.dtype) == "Int64"
        elif kind == "REAL":
            assert str(got.dtype) == "float64"
        else:
            assert got.dtype == object
        assert got.isna().tolist()[1] == (c.name != schema.id_column and not c.unique)
    if "name" in schema.names and not schema.column("name").unique:
        assert back["name"].iloc[0] == frame["name"].iloc[0]   # quotes, backslash, tab, newline kept
        assert back["name"].iloc[2] == ""                        # empty text is not NULL
    if schema.spatial:
        assert isinstance(back, gpd.GeoDataFrame) and back.crs.to_epsg() == 4326
        for want, got in zip(frame.geometry, back.geometry, strict=True):
            assert (got is None) if want is None else got.equals_exact(want, 0)
    dates = [c.name for c in schema.columns if c.type.name == "DATETIME"]
    for c in dates:
        assert back[c].iloc[0] == pd.Timestamp("2026-01-02 03:04:05.123")


def test_both_stores_read_the_same_frames(pg_url, tmp_path):  # noqa: F811
    g = open_store(tmp_path / "s.gpkg")
    p = open_store(pg_url)
    frames = every_layer()
    for s in (g, p):
        with s.transaction() as tx:
            for name, frame in frames.items():
                tx.append(name, frame)
            tx.quarantine(QUARANTINE_ROWS)
            tx.log_import(IMPORT_RECORD)
    for name in LAYERS:
        pd.testing.assert_frame_equal(g.read(name), p.read(name), obj=name)
        pd.testing.assert_frame_equal(g.read(name, columns=LAYERS[name].names[:2]),
                                      p.read(name, columns=LAYERS[name].names[:2]), obj=name)
        for c in LAYERS[name].names:
            a, b = g.latest(name, c), p.latest(name, c)
            assert (a is None and b is None) or a == b, (name, c, a, b)
    drop = ["imported_at"]
    pd.testing.assert_frame_equal(g.quarantined().drop(columns=drop), p.quarantined().drop(columns=drop))
    pd.testing.assert_frame_equal(g.imports().drop(columns=["at"]), p.imports().drop(columns=["at"]))
    assert g.counts() == p.counts()


# --------------------------------------------------------------------------------------------------
# transactions
# --------------------------------------------------------------------------------------------------

def test_a_failed_transaction_leaves_the_store_unchanged(store: Store):
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises(["E1", "E2"]))
    before = (store.data_version(), store.counts(), store.table_stamps(["enterprises"]))
    with pytest.raises(StoreError, match="duplicate id"):
        with store.transaction() as tx:
            tx.append("enterprises", _enterprises(["E3"]))
            tx.append("enterprises", _enterprises(["E2"]))  # collides
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.replace("enterprises", _enterprises(["E9"]))
            tx.quarantine(QUARANTINE_ROWS)
            raise RuntimeError("boom")
    assert (store.data_version(), store.counts(), store.table_stamps(["enterprises"])) == before
    assert set(store.read("enterprises")["id"]) == {"E1", "E2"}
    assert len(store.quarantined()) == 0


def test_a_failed_call_may_be_caught_and_the_transaction_goes_on(store: Store):
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises(["E1"]))
        with pytest.raises(StoreError, match="duplicate id"):
            tx.append("enterprises", _enterprises(["E1"]))
        tx.append("enterprises", _enterprises(["E2"]))
    assert sorted(store.read("enterprises")["id"]) == ["E1", "E2"]


def test_replace_upsert_update_delete(store: Store):
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises(["E1", "E2", "E3"]))
    v0 = store.data_version()
    with store.transaction() as tx:
        assert tx.update("enterprises", ["E1"], {"grade": "low", "employees": 7}) == 1
        assert tx.delete("enterprises", ["E3", "nope"]) == 1
        up = _enterprises(["E2", "E4"])
        up["name"] = "改名"
        assert tx.upsert("enterprises", up) == 2
        assert tx.update("enterprises", [], {"grade": "low"}) == 0
    e = store.read("enterprises").set_index("id")
    assert e.loc["E1", "grade"] == "low" and e.loc["E1", "employees"] == 7
    assert e.loc["E2", "name"] == "改名" and "E3" not in e.index and "E4" in e.index
    assert store.data_version() == v0 + 1
    with store.transaction() as tx:
        assert tx.replace("enterprises", _enterprises(["X"])) == 1
    assert list(store.read("enterprises")["id"]) == ["X"]
    assert store.data_version() == v0 + 2
    with store.transaction() as tx:
        tx.update("hazards", ["H"], {"found_date": "2026-02-03", "listed": True})   # no such row: nothing


def test_update_sets_typed_values(store: Store):
    h = sample(LAYERS["hazards"])
    with store.transaction() as tx:
        tx.append("hazards", h)
        tx.update("hazards", [h["id"].iloc[1]], {"found_date": pd.Timestamp("2026-05-06"), "listed": True,
                                                 "funds": 2.5, "version": 3,
                                                 "updated_at": "2026-05-06T07:08:09.010Z"})
    row = store.read("hazards", ids=[h["id"].iloc[1]]).iloc[0]
    assert row["found_date"] == pd.Timestamp("2026-05-06") and bool(row["listed"]) is True
    assert row["funds"] == 2.5 and row["version"] == 3
    assert row["updated_at"] == pd.Timestamp("2026-05-06 07:08:09.010")


def test_update_versioned_refuses_a_stale_edit(store: Store):
    with store.transaction() as tx:
        tx.append("hazards", pd.DataFrame({"id": ["H1"], "target_layer": "enterprises", "target_id": "E1",
                                           "level": "major", "found_date": "2026-01-02", "status": "open"}))
    with store.transaction() as tx:
        assert tx.update_versioned("hazards", "H1", None, {"status": "rectifying"}) == 1
    v = store.data_version()
    with pytest.raises(EditConflict, match="version 0, it is now version 1"):
        with store.transaction() as tx:
            tx.update_versioned("hazards", "H1", 0, {"status": "closed"})
    assert store.data_version() == v
    row = store.read("hazards").iloc[0]
    assert row["status"] == "rectifying" and row["version"] == 1
    with store.transaction() as tx:
        assert tx.update_versioned("hazards", "H1", 1, {"status": "closed", "version": 99}) == 2
    assert store.read("hazards").iloc[0]["version"] == 2
    with pytest.raises(StoreError, match="does not exist"):
        with store.transaction() as tx:
            tx.update_versioned("hazards", "nope", 0, {"status": "closed"})
    with pytest.raises(StoreError, match="no version column"):
        with store.transaction() as tx:
            tx.update_versioned("enterprises", "E1", 0, {"grade": "low"})


def test_append_only_layers_refuse_update_and_delete(store: Store):
    log = sample(LAYERS["audit_log"])
    with store.transaction() as tx:
        tx.append("audit_log", log)
    for change in (lambda tx: tx.update("audit_log", [log["id"].iloc[0]], {"note": "改"}),
                   lambda tx: tx.delete("audit_log", [log["id"].iloc[0]]),
                   lambda tx: tx.replace("audit_log", log.iloc[:1])):
        with pytest.raises(StoreError, match="append-only"):
            with store.transaction() as tx:
                change(tx)
    assert store.count("audit_log") == 3
    assert store.read("audit_log")["note"].tolist() == [v if isinstance(v, str) else None for v in log["note"]]


# --------------------------------------------------------------------------------------------------
# bookkeeping: quarantine, import log, data version, stamps
# --------------------------------------------------------------------------------------------------

def test_quarantine_and_import_log(store: Store):
    with store.transaction() as tx:
        assert tx.quarantine(QUARANTINE_ROWS) == 2
        assert tx.quarantine(QUARANTINE_ROWS.iloc[:0]) == 0
        tx.log_import(IMPORT_RECORD)
    q = store.quarantined()
    assert list(q.columns) == ["layer", "source", "row", "field", "reason_zh", "reason_en", "raw", "imported_at"]
    assert q["layer"].tolist() == ["enterprises", "hazards"]
    assert q["raw"].iloc[0] == '{"经度": 1210.5}' and pd.isna(q["raw"].iloc[1])
    assert q["row"].iloc[0] == 17 and pd.isna(q["row"].iloc[1])
    assert store.quarantined("hazards")["reason_en"].tolist() == ["no id"]
    assert len(store.quarantined("roads")) == 0
    imp = store.imports()
    assert imp[["layer", "rows_read", "written", "quarantined"]].iloc[0].tolist() == ["enterprises", 3, 2, 1]
    assert '"说明": "ok"' in imp["report"].iloc[0]
    assert store.last_import() is not None
    assert store.health()["quarantined"] == 2


def test_data_version_grows_with_data_writes_only(store: Store):
    v0 = store.data_version()
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises(["E1"]))
    v1 = store.data_version()
    assert v1 == v0 + 1
    with store.transaction():
        pass                                   # nothing written: nothing changes
    assert store.data_version() == v1
    with store.transaction() as tx:          # users and sessions are bookkeeping: the data did not change
        tx.append("users", pd.DataFrame({"id": ["u"], "password_hash": "x", "role": "admin"}))
    assert store.data_version() == v1
    assert store.table_stamps(["users"])["users"] > 0


def test_table_stamps_and_changed_ids(store: Store):
    assert store.table_stamps(["enterprises", "roads"]) == {"enterprises": 0, "roads": 0}
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises(["E1", "E2"]))
    s1 = store.table_stamps(["enterprises", "roads"])
    assert s1["enterprises"] > 0 and s1["roads"] == 0
    assert store.changed_ids("enterprises", s1["enterprises"]) == (s1["enterprises"], set())
    with store.transaction() as tx:
        tx.update("enterprises", ["E2"], {"grade": "low"})
    s2 = store.table_stamps(["enterprises"])["enterprises"]
    assert s2 > s1["enterprises"]
    assert store.changed_ids("enterprises", s1["enterprises"]) == (s2, {"E2"})
    assert store.changed_ids("enterprises", 0) == (s2, {"E1", "E2"})
    assert store.table_stamps(["roads"])["roads"] == 0
    with store.transaction() as tx:
        tx.replace("enterprises", _enterprises(["E3"]))
    s3 = store.table_stamps(["enterprises"])["enterprises"]
    assert store.changed_ids("enterprises", s2) == (s3, None)   # a whole-table write: cannot tell


def test_identity_names_the_store_and_tells_two_apart(store: Store, backend: Backend, tmp_path):
    ident = store.identity()
    assert isinstance(ident, tuple) and len(ident) >= 2
    assert backend.open().identity() == ident          # the same store opened again
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises(["E1"]))
    assert store.identity() == ident                   # writes do not change which store it is
    other = open_store(tmp_path / "other.gpkg")
    assert other.identity() != ident


def test_wait_for_change_answers_the_new_data_version(store: Store):
    assert store.wait_for_change(0, timeout=0.1) is None       # nothing happened in time
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises(["E1"]))
    assert store.wait_for_change(0, timeout=0.1) == 1          # already newer: at once
    got: list[int | None] = []
    waiter = threading.Thread(target=lambda: got.append(store.wait_for_change(1, timeout=60)))
    waiter.start()
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises(["E2"]))
    waiter.join()
    assert got == [2]


# --------------------------------------------------------------------------------------------------
# reads
# --------------------------------------------------------------------------------------------------

def test_read_filters(store: Store):
    e = _enterprises([f"E{i}" for i in range(1200)])
    e.loc[e.index[:10], "district_code"] = "420103"
    e.loc[e.index[10:12], "district_code"] = None
    with store.transaction() as tx:
        tx.append("enterprises", e)
        tx.append("hazards", sample(LAYERS["hazards"]))
    assert len(store.read("enterprises", where={"district_code": "420103"})) == 10
    assert len(store.read("enterprises", where={"district_code": ["420103", "420102"]})) == 1198
    assert len(store.read("enterprises", where={"district_code": None})) == 2
    assert len(store.read("enterprises", where={"district_code": []})) == 0
    assert len(store.read("enterprises", where={"district_code": "420103", "grade": ["major"]})) == 10
    assert len(store.read("enterprises", ids=[f"E{i}" for i in range(0, 1200, 2)])) == 600
    assert len(store.read("enterprises", ids=[])) == 0
    got = store.read("enterprises", ids=["E5", "E3", "nope"], where={"district_code": "420103"})
    assert got["id"].tolist() == ["E3", "E5"]                          # in the store's order
    only = store.read("enterprises", columns=["grade", "id"])
    assert list(only.columns) == ["grade", "id"] and not isinstance(only, gpd.GeoDataFrame)
    geo = store.read("enterprises", columns=["id", "geometry"], ids=["E1"])
    assert list(geo.columns) == ["id", "geometry"] and geo.geometry.iloc[0].equals(Point(114.301, 30.6))
    assert len(store.read("hazards", where={"found_date": "2026-01-02"})) == 1
    assert len(store.read("hazards", where={"listed": True})) == 1
    assert len(store.read("hazards", where={"version": [1, -(2 ** 40)]})) == 2
    with pytest.raises(KeyError):
        store.read("enterprises", columns=["no_such_column"])
    with pytest.raises(KeyError):
        store.read("enterprises", where={"no_such_column": 1})


def test_latest_and_count(store: Store):
    assert store.latest("inspections", "date") is None
    assert store.count("inspections") == 0
    with store.transaction() as tx:
        tx.append("inspections", pd.DataFrame({"id": ["a", "b", "c"], "target_layer": "enterprises",
                                               "target_id": "E1", "date": ["2026-03-01", "2026-11-27", None],
                                               "hazards_found": [1, 7, 3]}))
    assert store.latest("inspections", "date") == pd.Timestamp("2026-11-27")
    assert store.latest("inspections", "hazards_found") == 7
    assert store.latest("inspections", "team_id") is None
    assert store.count("inspections") == 3


# --------------------------------------------------------------------------------------------------
# schema version, migrations
# --------------------------------------------------------------------------------------------------

def test_newer_schema_version_is_refused(store: Store, backend: Backend):
    backend.execute("INSERT INTO riskmap_schema_version (version, applied_at) VALUES (?, 'x')",
                    (backend.schema_version + 1,))
    with pytest.raises(StoreError, match="newer"):
        backend.open()


def test_migration_adds_a_missing_column(store: Store, backend: Backend):
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises(["E1"]))
    backend.execute('ALTER TABLE enterprises DROP COLUMN "contact"')   # a store written before the column existed
    again = backend.open()
    e = again.read("enterprises")
    assert "contact" in e.columns and e["id"].tolist() == ["E1"] and e["contact"].isna().all()
    assert again.schema_version() == backend.schema_version


def test_a_missing_store_is_not_created_when_told_not_to(backend: Backend, tmp_path):
    if backend.kind == "gpkg":
        with pytest.raises(StoreError, match="not found"):
            open_store(tmp_path / "missing.gpkg", create=False)
    else:
        with pytest.raises(StoreError, match="no store"):
            open_store(backend.url, create=False)
        assert not postgis_module.PostGISStore.exists(backend.url) and not store_exists(backend.url)
        open_store(backend.url)
        assert postgis_module.PostGISStore.exists(backend.url) and store_exists(backend.url)
        assert not store_exists(backend.url.rsplit("/", 1)[0] + "/no_such_database")


def test_postgis_server_that_cannot_be_reached_is_said_so(pg_server):  # noqa: F811
    import socket

    with socket.socket() as s:   # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://riskmap:secret@127.0.0.1:{port}/riskmap"
    with pytest.raises(StoreError, match="cannot connect to the PostGIS store") as err:
        open_store(url)
    assert "无法连接" in str(err.value) and "secret" not in str(err.value)
    with pytest.raises(StoreError, match="cannot connect"):
        store_exists(url)


# --------------------------------------------------------------------------------------------------
# PostGIS only: busy reads, change notices, pool across threads
# --------------------------------------------------------------------------------------------------

def test_postgis_read_behind_a_lock_answers_store_busy(pg_url):  # noqa: F811
    store = open_store(pg_url)
    with psycopg.connect(pg_url) as con:
        con.execute("LOCK TABLE enterprises IN ACCESS EXCLUSIVE MODE")   # a DBA's ALTER TABLE, held
        with pytest.raises(StoreBusy):
            store.read("enterprises")
        assert store.data_version() == 0          # other tables are not held
    assert len(store.read("enterprises")) == 0


def test_postgis_a_write_waits_for_no_reader_and_readers_see_the_last_commit(pg_url):  # noqa: F811
    store = open_store(pg_url)
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises(["E1"]))
        with psycopg.connect(pg_url) as con:      # not committed yet: another connection sees nothing
            assert con.execute("SELECT count(*) FROM enterprises").fetchone()[0] == 0
        assert store.count("enterprises") == 0 and store.data_version() == 0
    assert store.count("enterprises") == 1 and store.data_version() == 1


def test_postgis_wait_for_change_hears_a_commit(pg_url):  # noqa: F811
    store = open_store(pg_url)
    assert store.wait_for_change(0, timeout=0.2) is None        # nothing happened
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises(["E1"]))
    assert store.wait_for_change(0, timeout=0.2) == 1           # already newer: at once
    ready = threading.Event()
    got: list[int | None] = []

    def wait() -> None:
        ready.set()
        got.append(store.wait_for_change(1, timeout=60))

    waiter = threading.Thread(target=wait)
    waiter.start()
    ready.wait()
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises(["E2"]))
    waiter.join()
    assert got == [2]
    with psycopg.connect(pg_url, autocommit=True) as con:   # the notice says the new version
        con.execute(f"LISTEN {postgis_module.CHANNEL}")
        with store.transaction() as tx:
            tx.update("enterprises", ["E1"], {"grade": "low"})
        notes = list(con.notifies(timeout=30, stop_after=1))
    assert [n.payload for n in notes] == ["3"]


def test_postgis_store_is_used_from_many_threads(pg_url):  # noqa: F811
    store = open_store(pg_url)
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises([f"E{i}" for i in range(50)]))
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for _ in range(5):
                assert len(open_store(pg_url).read("enterprises")) >= 50
            with store.transaction() as tx:
                tx.append("enterprises", _enterprises([f"T{n}"]))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.count("enterprises") == 62 and store.data_version() == 13


def test_gpkg_store_is_still_the_default(tmp_path):
    assert isinstance(open_store(tmp_path / "x.gpkg"), GeoPackageStore)


def _write_in_another_process(url: str, n: int) -> int:
    store = open_store(url)
    for i in range(3):
        with store.transaction() as tx:
            tx.append("enterprises", _enterprises([f"P{n}-{i}"]))
    return len(store.read("enterprises"))


@pytest.mark.parametrize("start", ["spawn", "fork"])
def test_postgis_store_is_shared_by_processes(pg_url, start):  # noqa: F811
    """Several app workers on one database: new processes (spawn) and children forked from a process that had
    its pool open already (as a server forks its workers) write and read; the parent's pool still works."""
    import multiprocessing

    store = open_store(pg_url)
    assert store.data_version() == 0            # the parent's pool is open before the children start
    ctx = multiprocessing.get_context(start)
    with ctx.Pool(3) as pool:
        seen = pool.starmap(_write_in_another_process, [(pg_url, n) for n in range(3)])
    assert all(s >= 3 for s in seen)
    assert store.count("enterprises") == 9 and store.data_version() == 9
    assert sorted(store.read("enterprises")["id"]) == sorted(f"P{n}-{i}" for n in range(3) for i in range(3))


def test_postgis_a_new_database_opened_by_many_at_once_is_made_once(pg_url):  # noqa: F811
    errors: list[BaseException] = []

    def first_open() -> None:
        try:
            open_store(pg_url)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=first_open) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    store = open_store(pg_url)
    assert store.schema_version() == postgis_module.SCHEMA_VERSION and store.counts()["enterprises"] == 0
    with psycopg.connect(pg_url) as con:
        assert con.execute("SELECT count(*) FROM riskmap_schema_version").fetchone()[0] == len(postgis_module.MIGRATIONS)


def test_the_test_database_variable_is_no_setting_to_refuse():
    from layers.settings import Settings

    assert Settings.from_env({"RISKMAP_TEST_PG": "postgresql://x@127.0.0.1/db"}).store.endswith("city.gpkg")
