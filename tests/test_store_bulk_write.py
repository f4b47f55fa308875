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
from layers.schema import LAYERS
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


def test_indexes_after_a_big_write_are_sorted_in_small_runs_and_the_connection_is_left_as_it_was(tmp_path,
                                                                                                 monkeypatch):
    """SQLite's sorter kept in memory in one run of the write cache's size sorts far slower than in small runs
    spilled to a temporary file (bench_demo: the audit log's index 11.7 s against 2.5 s): every index built
    after the rows is built inside ``_sorting``, and the connection's own settings come back after it."""
    path = tmp_path / "s.gpkg"
    store = open_store(path)
    seen: list[str] = []
    connect = gpkg_store.GeoPackageStore._connect

    def traced(self, **kw):
        con = connect(self, **kw)
        con.set_trace_callback(seen.append)
        return con

    monkeypatch.setattr(gpkg_store.GeoPackageStore, "_connect", traced)
    with store.transaction() as tx:
        tx.replace("hazards", _hazards(N))
        settings = [tx.con.execute(f"PRAGMA {p}").fetchone()[0] for p in ("cache_size", "temp_store", "threads")]
    assert settings == [-gpkg_store._WRITE_CACHE_KIB, 0, 0]
    built = [i for i, sql in enumerate(seen) if sql.startswith("CREATE INDEX") and '"hazards"' in sql]
    assert len(built) == len(_indexes(path, "hazards")) >= 2
    sort_on = max(i for i, sql in enumerate(seen[:built[0]]) if sql == "PRAGMA temp_store = FILE")
    assert f"PRAGMA cache_size = -{gpkg_store._SORT_CACHE_KIB}" in seen[sort_on - 1:sort_on + 2]
    assert all(not sql.startswith("PRAGMA") for sql in seen[built[0]:built[-1]])  # all of them in one setting
    assert seen[built[-1] + 1:built[-1] + 4] == [f"PRAGMA cache_size = {-gpkg_store._WRITE_CACHE_KIB}",
                                                 "PRAGMA temp_store = 0", "PRAGMA threads = 0"]
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT count(*) FROM hazards INDEXED BY idx_hazards_target_id "
                           "WHERE target_id = 'E00001'").fetchone()[0] == len(range(1, N, 977))


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


def _raw(path, table: str) -> list[tuple]:
    """Every stored value of ``table`` with SQLite's type of it, in fid order (what a reader of the file sees)."""
    with sqlite3.connect(path) as con:
        cols = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
        sel = ", ".join(f'"{c}", typeof("{c}")' for c in cols)
        return con.execute(f'SELECT {sel} FROM "{table}" ORDER BY fid').fetchall()  # noqa: S608 - fixed names


def _every_kind_of_value(n: int) -> dict[str, pd.DataFrame]:
    """Frames whose columns hold each dtype a caller hands the store: pandas' str (NA), object text (None, NaN),
    nullable and plain integers, floats with NaN, booleans plain and nullable, naive, zone-aware and pre-1970
    datetimes, dates as text and as ``date`` objects, bytes, points missing and empty."""
    from datetime import date as d

    rng = np.random.default_rng(5)
    at = pd.Timestamp("1969-12-31 23:59:59.9995") + pd.to_timedelta(rng.integers(0, 10**12, n), unit="ms")
    hz = _hazards(n)
    hz["found_date"] = at.where(rng.uniform(size=n) < 0.95)                       # datetime64, some NaT, pre-1970
    hz["updated_at"] = at.tz_localize("UTC").tz_convert("Asia/Shanghai")          # zone-aware instants
    hz["description"] = pd.array([None if i % 7 == 0 else f"隐患 {i}" for i in range(n)], dtype="str")
    hz["funds"] = np.where(rng.uniform(size=n) < 0.2, np.nan, rng.uniform(0, 99, n))
    hz["listed"] = rng.uniform(size=n) < 0.5
    hz["category"] = pd.Series([None if i % 5 == 0 else ("" if i % 11 == 0 else "一般") for i in range(n)],
                               dtype=object)
    hz.loc[3, "geometry"] = None
    hz.loc[4, "geometry"] = shapely.Point()
    roads = gpd.GeoDataFrame({
        "id": [f"R{i}" for i in range(n)], "road_class": "primary",
        "speed_kmh": rng.uniform(5, 90, n).astype(np.float32),
        "oneway": pd.array([None if i % 4 == 0 else bool(i % 2) for i in range(n)], dtype="boolean"),
    }, geometry=shapely.linestrings([[(114 + i * 1e-5, 30.5), (114.001 + i * 1e-5, 30.501)] for i in range(n)]),
        crs=4326)
    drills = pd.DataFrame({"id": [f"D{i}" for i in range(n)], "target_layer": "enterprises",
                           "target_id": [f"E{i % 50}" for i in range(n)],
                           "date": [d(2020, 1, 1 + i % 28) if i % 3 else f"2021-02-{1 + i % 28:02d}"
                                    for i in range(n)],
                           "participants": pd.array([None if i % 6 == 0 else i for i in range(n)], dtype="Int64")})
    files = pd.DataFrame({"id": [f"A{i}" for i in range(n)], "hazard_id": "HZ0000001", "filename": "a.jpg",
                          "mime": "image/jpeg", "size": np.arange(n, dtype=np.int32),
                          "data": [None if i % 9 == 0 else bytes([i % 256]) * (i % 13) for i in range(n)],
                          "uploaded_at": [None if i % 8 == 0 else f"2026-0{1 + i % 9}-01T08:00:00+08:00"
                                          for i in range(n)]})
    return {"hazards": hz, "roads": roads, "drills": drills, "hazard_files": files}


def test_a_staged_bulk_write_stores_what_binding_row_by_row_stores(tmp_path, monkeypatch):
    """The bulk path (Arrow arrays written by ADBC's SQLite driver into a scratch file, then one INSERT … SELECT)
    leaves every table value for value, type for type, as ``executemany`` does; the scratch files are gone."""
    from layers.schema import LAYERS

    n = 2_500
    frames = {k: v for k, v in _every_kind_of_value(n).items() if k in LAYERS}
    for k, f in frames.items():  # only the columns the layer has (the frames above name a few per type)
        frames[k] = f[[c for c in f.columns if c in LAYERS[k].names or c == "geometry"]]
    files = {}
    for way, threshold in (("rows", 10**12), ("staged", 1)):
        monkeypatch.setattr(gpkg_store, "STAGE_MIN_ROWS", threshold)
        monkeypatch.setattr(gpkg_store, "_INSERT_CHUNK", 1_000)  # several chunks
        path = tmp_path / way / "s.gpkg"
        path.parent.mkdir()
        store = open_store(path)
        with store.transaction() as tx:
            for name, f in frames.items():
                tx.replace(name, f)
        files[way] = path
        assert sorted(p.name for p in path.parent.iterdir() if "bulk" in p.name) == []
    for name in frames:
        assert _raw(files["staged"], name) == _raw(files["rows"], name), name
        assert len(_raw(files["staged"], name)) == n
    assert assert_index_matches(files["staged"], "hazards") == n - 2
    for name in frames:
        a, b = open_store(files["staged"]).read(name), open_store(files["rows"]).read(name)
        pd.testing.assert_frame_equal(a, b)


def test_a_rejected_staged_write_changes_nothing_and_leaves_no_scratch_file(tmp_path, monkeypatch):
    monkeypatch.setattr(gpkg_store, "STAGE_MIN_ROWS", 1)
    path = tmp_path / "s.gpkg"
    store = open_store(path)
    with store.transaction() as tx:
        tx.replace("hazards", _hazards(100))
    bad = _hazards(3_000)
    bad.loc[2_999, "id"] = bad.loc[0, "id"]
    with pytest.raises(StoreError, match="duplicate id"):
        with store.transaction() as tx:
            tx.replace("hazards", bad)
    assert store.counts()["hazards"] == 100
    assert [p.name for p in tmp_path.iterdir() if "bulk" in p.name] == []


def test_a_transaction_of_many_bulk_inserts_keeps_its_last_scratch_files_for_the_big_ones(tmp_path, monkeypatch):
    """A scratch file stays attached until its transaction ends and a connection attaches at most 10: the last two
    are kept for big inserts, so a transaction that writes many tables (the demo city) stages its biggest ones
    however many small ones came first; past the limit rows are bound one by one, and every row lands."""
    monkeypatch.setattr(gpkg_store, "STAGE_MIN_ROWS", 10)
    monkeypatch.setattr(gpkg_store, "_STAGE_RESERVED_MIN_ROWS", 1_000)
    sizes = [20] * 10 + [1_500] * 3
    rows = _hazards(sum(sizes))
    path = tmp_path / "s.gpkg"
    store = open_store(path)
    staged = []
    with store.transaction() as tx:
        start = 0
        for n in sizes:
            before = len(tx.stages)
            tx.append("hazards", rows.iloc[start:start + n])
            staged.append(len(tx.stages) > before)
            start += n
        limit = tx.con.getlimit(sqlite3.SQLITE_LIMIT_ATTACHED)
    assert limit == 10, "the expectation below is for SQLite's default SQLITE_MAX_ATTACHED (Debian's build)"
    assert staged == [True] * 8 + [False] * 2 + [True, True, False]
    assert store.read("hazards", columns=["id"])["id"].tolist() == rows["id"].tolist()
    assert [p.name for p in tmp_path.iterdir() if "bulk" in p.name] == []


@pytest.mark.parametrize(("unit", "suffix"), [("ms", "Z"), ("D", ""), ("s", ""), ("ms", "")])
def test_iso_text_written_digit_by_digit_is_numpys_text(unit, suffix, monkeypatch):
    """The staged write's datetime text (digits written by integer arithmetic, a slice of rows at a time) is
    exactly numpy's ``datetime_as_string`` with the suffix: before 1970 (floored), leap days, the ends of a day and
    of years 1 and 9999, NaT as NULL; years outside 1-9999 go numpy's way with the same answer."""
    import pyarrow as pa

    monkeypatch.setattr(gpkg_store, "_ISO_ROWS", 1_000)  # several slices
    rng = np.random.default_rng(5)
    v = np.datetime64("1800-01-01", "ms") + rng.integers(0, 300 * 365 * 86_400_000, 5_000).astype("timedelta64[ms]")
    v[::9] = np.datetime64("NaT")
    v[:6] = np.array(["1969-12-31T23:59:59.999", "1970-01-01T00:00:00.000", "2024-02-29T12:00:00.001",
                      "0001-01-01T00:00:00.000", "9999-12-31T23:59:59.999", "1900-03-01T00:00:00.500"],
                     dtype="datetime64[ms]")
    series = pd.Series(v)   # (milliseconds: years 1 and 9999 fit, which nanoseconds do not)
    got = gpkg_store._iso_arrow(series, unit, suffix)
    text, missing = gpkg_store._iso_array(series, unit, suffix)
    assert got.equals(pa.array(text, type=pa.string(), mask=missing))
    assert got.null_count == int(missing.sum()) > 0
    odd = pd.Series(np.array(["-0001-06-01", "10000-01-01", "2020-01-01"], dtype="datetime64[s]"))
    text, missing = gpkg_store._iso_array(odd, unit, suffix)
    assert gpkg_store._iso_arrow(odd, unit, suffix).to_pylist() == text.tolist()


def _hidden(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_new_store_written_whole_holds_what_a_transaction_writes(tmp_path, monkeypatch):
    """write_new (no journal while the hidden file is written, then WAL, synced, linked into place) leaves the
    same rows, types, indexes and R-tree as a transaction into an open store, in WAL mode, with nothing hidden
    left beside it; the staged bulk path is used in both."""
    monkeypatch.setattr(gpkg_store, "STAGE_MIN_ROWS", 1)
    monkeypatch.setattr(gpkg_store, "_INSERT_CHUNK", 1_000)
    frames = _every_kind_of_value(2_500)
    frames = {k: v for k, v in frames.items() if k in ("hazards", "roads", "drills")}
    for k, f in frames.items():
        frames[k] = f[[c for c in f.columns if c in LAYERS[k].names or c == "geometry"]]

    def write(store) -> None:
        with store.transaction() as tx:
            for name, f in frames.items():
                tx.replace(name, f)

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    made = []   # the stages each write made (watched, not replaced): straight into the file, or scratch files
    stage = gpkg_store._GpkgTransaction._stage

    def watch(self, *args, **kwargs):
        made.append(stage(self, *args, **kwargs))
        return made[-1]

    monkeypatch.setattr(gpkg_store._GpkgTransaction, "_stage", watch)
    new = gpkg_store.write_new(tmp_path / "a" / "city.gpkg", write)
    assert len(made) == 3 and all(st.direct and st.table in frames and st.path.parent == new.path.parent and
                                  st.path.name.startswith(".city.gpkg.new-") for st in made)
    made.clear()
    old = open_store(tmp_path / "b" / "city.gpkg")
    write(old)
    assert len(made) == 3 and not any(st.direct for st in made)
    for name in frames:
        assert _raw(new.path, name) == _raw(old.path, name), name
        assert _indexes(new.path, name) == _indexes(old.path, name)
    assert assert_index_matches(new.path, "hazards") == 2_500 - 2
    with sqlite3.connect(new.path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert _hidden(tmp_path / "a") == []
    pd.testing.assert_frame_equal(new.read("hazards"), old.read("hazards"))


def test_a_failed_new_store_leaves_no_file_and_an_existing_one_is_never_replaced(tmp_path):
    target = tmp_path / "city.gpkg"

    def fail(store) -> None:
        with store.transaction() as tx:
            tx.replace("hazards", _hazards(100))
        raise RuntimeError("the generator failed")

    with pytest.raises(RuntimeError):
        gpkg_store.write_new(target, fail)
    assert list(tmp_path.iterdir()) == []

    def duplicate(store) -> None:   # a bulk insert (written by ADBC straight into the file) with a repeated id
        hz = _hazards(gpkg_store.STAGE_MIN_ROWS + 10)
        hz.loc[hz.index[-1], "id"] = hz["id"].iloc[0]
        with store.transaction() as tx:
            tx.replace("hazards", hz)

    with pytest.raises(StoreError, match="duplicate id"):
        gpkg_store.write_new(target, duplicate)
    assert list(tmp_path.iterdir()) == []

    def someone_else_makes_it(store) -> None:   # a file appears at the path while the new one is written
        with store.transaction() as tx:
            tx.replace("hazards", _hazards(100))
        target.write_bytes(b"theirs")

    with pytest.raises(StoreError, match="already exists"):
        gpkg_store.write_new(target, someone_else_makes_it)
    assert target.read_bytes() == b"theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["city.gpkg"]
    with pytest.raises(StoreError, match="already exists"):
        gpkg_store.write_new(target, lambda store: None)


def test_the_demo_city_is_written_whole_into_a_new_file_and_by_a_transaction_into_an_existing_one(tmp_path):
    from layers.demo.city import build_demo_store

    new = build_demo_store(tmp_path / "new.gpkg", enterprises=300)
    existing = open_store(tmp_path / "old.gpkg")   # (created empty: the demo replaces every layer in it)
    build_demo_store(existing.path, enterprises=300)
    for name in ("enterprises", "hazards", "audit_log", "inspections"):
        assert _raw(new.path, name) == _raw(existing.path, name)
    with sqlite3.connect(new.path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert _hidden(tmp_path) == []
