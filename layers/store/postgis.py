"""The shared store: PostgreSQL with PostGIS (:class:`PostGISStore`), chosen by a ``postgresql://`` URL.

For a command centre with many users, several app workers and several hosts: they share nothing but the
database. Same semantics as the GeoPackage store (:mod:`layers.store.gpkg`), frame for frame:

- **Tables:** one per layer of :data:`layers.schema.LAYERS`, named as the layer, with ``fid`` (identity, the
  row order of reads), ``geom geometry(Point|Geometry, 4326)`` for spatial layers (a GiST index; non-point
  layers are ``Geometry`` with a CHECK on the geometry kinds the layer accepts, as the importer accepts them:
  a road may be a LineString or a MultiLineString) and the columns as TEXT -> ``text``, INTEGER -> ``bigint``,
  REAL -> ``double precision``, BOOLEAN -> ``boolean``, DATE -> ``date``, DATETIME -> ``timestamp(3)`` (UTC,
  milliseconds, as the GeoPackage keeps them), BLOB -> ``bytea``. ``riskmap_quarantine``, ``riskmap_imports``,
  ``riskmap_meta`` (data version, table stamps, change log) and ``riskmap_schema_version`` as in the GeoPackage.
- **Writes:** every :meth:`PostGISStore.transaction` is one PostgreSQL transaction; writers take one advisory
  lock (one writer at a time, as SQLite's ``BEGIN IMMEDIATE``: a write never interleaves with another's
  upsert); rows go in with binary ``COPY`` (geometry as EWKB); each write call runs in a savepoint, so a
  failed call (a duplicate id) undoes itself and the caller may go on or give up, as with SQLite. The data
  version is bumped in the same transaction and announced with ``NOTIFY riskmap_data_version`` at commit
  (:meth:`PostGISStore.wait_for_change`). Append-only layers refuse UPDATE, DELETE and TRUNCATE in the database
  itself (triggers), whoever writes.
- **Reads:** through ADBC's PostgreSQL driver (``adbc-driver-postgresql``: libpq's binary ``COPY`` decoded
  straight into Arrow, in C), typed by :func:`layers.store.arrow.to_frame` exactly as the GeoPackage's reads
  are (a layer with a BLOB column, and an empty result, go through psycopg's fetched tuples typed by
  :func:`layers.store.gpkg._typed`); rows in ``fid`` order; filter values are literals quoted by psycopg. They
  never wait long: ``lock_timeout`` (``READ_LOCK_TIMEOUT_S``) and ``statement_timeout`` on every read
  connection, a short wait for a pooled connection; past them a read raises :class:`StoreBusy`. Readers never
  wait for writers (MVCC); only DDL (a migration, ``LOCK TABLE``) can make them wait.
- **Connections:** small pools per process and URL, safe across threads (``psycopg_pool`` for writes and small
  reads, and the ADBC connections of the Arrow reads); a process forked from another makes its own pools
  (connections are never shared across processes).
- **Row-level security (defence in depth):** the role ``riskmap_district`` (NOLOGIN; made when the store is
  created, if the connecting user may create roles) sees, through policies, only the rows of the district in
  ``current_setting('riskmap.district')``: layers with a ``district_code``, districts by ``code``, rows naming a
  target (inspections, plan stops …) by their target's district, hazard files by their hazard's. It may read the
  shared geography (roads, water, rail lines) and the data version, nothing else (users, sessions, audit log
  are not granted). The store's own user owns the tables and is not subject to the policies;
  :meth:`PostGISStore.for_district` gives a store whose reads run as that role. The app's access checks
  (:mod:`layers.access`) stay the primary control.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import psycopg.errors
import pyarrow as pa
import shapely
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from layers.errors import EditConflict, StoreError
from layers.schema import LAYERS, OBJECT_LAYERS, Geom, Layer, T
from layers.schema import layer as layer_schema
from layers.store import arrow
from layers.store.base import (
    IMPORT_LOG_COLUMNS,
    QUARANTINE_COLUMNS,
    Store,
    StoreBusy,
    Transaction,
    ids_since,
    import_log_row,
    quarantine_records,
)
from layers.store.gpkg import (
    CHANGE_LOG_IDS,
    CHANGE_LOG_WRITES,
    IMPORTS,
    META,
    QUARANTINE,
    SRS_ID,
    VERSIONS,
    _gpkg_datetimes,
    _now,
    _to_sql_values,
    _typed,
)

log = logging.getLogger(__name__)

#: the PostGIS store's own schema version (its migrations are :data:`MIGRATIONS`)
SCHEMA_VERSION = 1
CHANNEL = "riskmap_data_version"
DISTRICT_ROLE = "riskmap_district"
DISTRICT_SETTING = "riskmap.district"
#: how long a read waits for a lock (DDL) before it answers StoreBusy; for a pooled connection as long
READ_LOCK_TIMEOUT_S = 1.0
READ_POOL_TIMEOUT_S = 2.0
#: the longest a read statement may run (a read that long is stuck, not slow)
READ_STATEMENT_TIMEOUT_S = 300
#: a write waits longer for another writer
WRITE_LOCK_TIMEOUT_S = 30.0
#: connections per process and URL (threads of one app worker share them)
POOL_MAX = 8
#: pg_advisory_xact_lock keys: one writer at a time; one migration at a time
_WRITE_LOCK = 0x52534B57  # "RSKW"
_MIGRATE_LOCK = 0x52534B4D  # "RSKM"

_PG_TYPES = {T.TEXT: "text", T.INT: "bigint", T.REAL: "double precision", T.BOOL: "boolean", T.DATE: "date",
             T.DATETIME: "timestamp(3)", T.BLOB: "bytea"}
#: the types binary COPY sends per column type
_COPY_TYPES = {T.TEXT: "text", T.INT: "int8", T.REAL: "float8", T.BOOL: "bool", T.DATE: "date",
               T.DATETIME: "timestamp", T.BLOB: "bytea"}
#: geometry kinds (ST_GeometryType) each layer accepts, as the importer accepts them
_ACCEPT = {Geom.LINESTRING: ("ST_LineString", "ST_MultiLineString"),
           Geom.MULTILINESTRING: ("ST_LineString", "ST_MultiLineString"),
           Geom.POLYGON: ("ST_Polygon", "ST_MultiPolygon"), Geom.MULTIPOLYGON: ("ST_Polygon", "ST_MultiPolygon")}
#: tables the district role may read without a policy: the shared geography
_SHARED_GEOGRAPHY = ("roads", "water", "rail_lines")


def _ident(name: str) -> sql.Identifier:
    if not name.replace("_", "").isalnum():
        raise StoreError(f"invalid identifier {name!r}")
    return sql.Identifier(name)


def _safe_url(url: str) -> str:
    """The URL without its password (for identity, messages and logs)."""
    from layers.store import shown_url

    return shown_url(url)


def _connect_error(url: str, exc: BaseException) -> StoreError:
    return StoreError(f"无法连接 PostGIS 存储 {_safe_url(url)}：{exc} (cannot connect to the PostGIS store "
                      f"{_safe_url(url)}: {exc})")


# --------------------------------------------------------------------------------------------------
# connection pools: one per (process, URL)
# --------------------------------------------------------------------------------------------------

_pools: dict[tuple[int, str], ConnectionPool] = {}
_pools_lock = threading.Lock()


#: the settings of every read connection (psycopg's pool and ADBC's)
_READ_SETTINGS = (f"SET lock_timeout = '{int(READ_LOCK_TIMEOUT_S * 1000)}ms'",
                  f"SET statement_timeout = '{READ_STATEMENT_TIMEOUT_S}s'",
                  "SET application_name = 'riskmap'",
                  "SET DateStyle = 'ISO, YMD'")


def _configure(con: psycopg.Connection) -> None:
    for setting in _READ_SETTINGS:
        con.execute(setting)


def _pool(url: str) -> ConnectionPool:
    key = (os.getpid(), url)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = ConnectionPool(url, min_size=1, max_size=POOL_MAX, kwargs={"autocommit": True},
                                  configure=_configure, open=True, name=f"riskmap:{_safe_url(url)}")
            _pools[key] = pool
        return pool


class _ArrowPool:
    """ADBC PostgreSQL connections of one process and URL, for the reads that return rows as Arrow (see
    :meth:`PostGISStore._read_arrow`): at most ``POOL_MAX`` at once, made when needed and kept. Each has the read
    connection's settings (``lock_timeout``, ``statement_timeout``); a district's read runs in a transaction as
    the district role, rolled back after. A connection that failed is closed, not kept."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.idle: queue.LifoQueue = queue.LifoQueue()
        self.slots = threading.BoundedSemaphore(POOL_MAX)
        self.closed = False

    def _connect(self):
        import adbc_driver_postgresql.dbapi as adbc_pg

        con = adbc_pg.connect(self.url, autocommit=True)
        with con.cursor() as cur:
            for setting in _READ_SETTINGS:
                cur.execute(setting)
        return con

    def read(self, stmt: str, district: str | None) -> pa.Table:
        import adbc_driver_manager

        if not self.slots.acquire(timeout=READ_POOL_TIMEOUT_S):
            raise StoreBusy()
        con = None
        try:
            try:
                con = self.idle.get_nowait()
            except queue.Empty:
                con = self._connect()
            with con.cursor() as cur:
                if district is not None:   # as the district role, for this transaction only
                    cur.execute("BEGIN")
                    cur.execute(f"SET LOCAL ROLE {DISTRICT_ROLE}")
                    cur.execute(sql.SQL("SET LOCAL {} = {}").format(
                        sql.Identifier(DISTRICT_SETTING), sql.Literal(district)).as_string(None))
                try:
                    cur.execute(stmt)
                    table = cur.fetch_arrow_table()
                finally:
                    if district is not None:
                        cur.execute("ROLLBACK")
        except BaseException as exc:   # the connection is dropped, not given back
            if con is not None:
                _close_quietly(con)
                con = None
            if not isinstance(exc, adbc_driver_manager.Error):
                raise
            if getattr(exc, "sqlstate", None) in ("55P03", "57014"):   # lock_not_available, query_canceled
                raise StoreBusy() from exc
            if isinstance(exc, adbc_driver_manager.OperationalError):
                raise _connect_error(self.url, exc) from exc
            raise StoreError(f"读取失败 (a read failed): {exc}") from exc
        finally:
            if con is not None:
                if self.closed:
                    _close_quietly(con)
                else:
                    self.idle.put(con)
            self.slots.release()
        return table

    def close(self) -> None:
        self.closed = True
        while True:
            try:
                _close_quietly(self.idle.get_nowait())
            except queue.Empty:
                return


def _close_quietly(con) -> None:
    try:
        con.close()
    except Exception:   # a connection that already failed may fail to close; it is dropped either way
        pass


_arrow_pools: dict[tuple[int, str], _ArrowPool] = {}


def _arrow_pool(url: str) -> _ArrowPool:
    key = (os.getpid(), url)
    with _pools_lock:
        pool = _arrow_pools.get(key)
        if pool is None:
            pool = _arrow_pools[key] = _ArrowPool(url)
        return pool


def close_pools(url: str | None = None) -> None:
    """Close this process's pools (of ``url``, or all): before dropping a database, at exit."""
    with _pools_lock:
        keys = [k for k in _pools if k[0] == os.getpid() and (url is None or k[1] == url)]
        pools = [_pools.pop(k) for k in keys]
        keys = [k for k in _arrow_pools if k[0] == os.getpid() and (url is None or k[1] == url)]
        pools += [_arrow_pools.pop(k) for k in keys]
    for p in pools:
        p.close()


atexit.register(close_pools)


# --------------------------------------------------------------------------------------------------
# values in and out
# --------------------------------------------------------------------------------------------------

def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v))


def _text(v: Any) -> str | None:
    return None if _missing(v) else str(v)


def _copy_values(series: pd.Series, t: T) -> list[Any]:
    """Python values for binary COPY from a column (what the GeoPackage store would keep, read back the same)."""
    if t is T.DATE:
        if pd.api.types.is_datetime64_any_dtype(series):
            d = series.dt.tz_convert(None) if getattr(series.dt, "tz", None) is not None else series
        else:
            d = pd.to_datetime(pd.Series(_to_sql_values(series, T.DATE), dtype=object), errors="coerce",
                               format="ISO8601")
        return [None if _missing(v) else v for v in d.dt.date.astype(object).where(d.notna(), None).tolist()]
    if t is T.DATETIME:
        text = pd.Series(_gpkg_datetimes(series), dtype=object)
        d = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True).dt.tz_convert(None)
        return [None if _missing(v) else v.to_pydatetime() for v in d.astype(object).tolist()]
    if t is T.BOOL:
        return [None if v is None else bool(v) for v in _to_sql_values(series, t)]
    return _to_sql_values(series, t)


def _ewkb(geoms: np.ndarray) -> list[bytes | None]:
    out: list[bytes | None] = [None] * len(geoms)
    present = np.flatnonzero(~shapely.is_missing(geoms)) if len(geoms) else np.array([], dtype=int)
    if len(present):
        g = shapely.set_srid(geoms[present], SRS_ID)
        for i, b in zip(present, shapely.to_wkb(g, byte_order=1, output_dimension=2, include_srid=True),
                        strict=True):
            out[i] = b
    return out


def _select_expr(name: str, t: T) -> sql.Composable:
    """A column as read: dates and times as the GeoPackage's text, so both stores type them alike."""
    col = _ident(name)
    if t is T.DATE:   # days since 1970-01-01: an integer, cheaper to fetch and to type than text (see _dates)
        return sql.SQL("({} - DATE '1970-01-01')").format(col)
    if t is T.DATETIME:
        return sql.SQL("""to_char({}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')""").format(col)
    return col


def _frame(schema: Layer, cols: list[str], want_geom: bool, rows: list[tuple]) -> pd.DataFrame | gpd.GeoDataFrame:
    """The frame of fetched rows, typed by :func:`layers.store.gpkg._typed` as the GeoPackage store types them
    (column by column from object arrays: no dtype inference, which costs more than the fetch)."""
    names = cols + (["geometry"] if want_geom else [])
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    data = {}
    for name, values in zip(names, columns, strict=True):
        data[name] = pd.Series(np.fromiter(values, dtype=object, count=len(values)), dtype=object, copy=False)
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(rows))) if names else pd.DataFrame(index=pd.RangeIndex(len(rows)))
    for c in cols:
        t = schema.column(c).type
        if t is T.DATE:
            frame[c] = _dates(frame[c])
        elif t is not T.TEXT and t is not T.BLOB:   # text and bytes are already object columns with None
            frame[c] = _typed(frame[c], t)
    if want_geom:
        wkb = frame["geometry"].to_numpy(dtype=object)
        geoms = shapely.from_wkb(wkb) if len(wkb) else np.array([], dtype=object)
        frame = gpd.GeoDataFrame(frame.drop(columns="geometry"),
                                 geometry=gpd.GeoSeries(geoms, crs=SRS_ID, index=frame.index), crs=SRS_ID)
    return frame


def _dates(days: pd.Series) -> pd.Series:
    """Days since 1970-01-01 (None for NULL) as the GeoPackage store types a DATE column: ``datetime64[us]``,
    or what :func:`layers.store.gpkg._typed` gives when the column has no value at all."""
    present = days.notna().to_numpy()
    if not present.any():
        return _typed(pd.Series([None] * len(days), dtype=object, index=days.index), T.DATE)
    out = np.full(len(days), np.datetime64("NaT", "us"))
    out[present] = days.to_numpy()[present].astype(np.int64).astype("datetime64[D]").astype("datetime64[us]")
    return pd.Series(out, index=days.index)


def _records_frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    """What ``pandas.read_sql_query`` gives for these rows (the GeoPackage store's bookkeeping reads)."""
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.DataFrame.from_records(rows, columns=columns, coerce_float=True)


# --------------------------------------------------------------------------------------------------
# the transaction
# --------------------------------------------------------------------------------------------------

class _PgTransaction(Transaction):
    def __init__(self, store: PostGISStore, con: psycopg.Connection):
        self.store = store
        self.con = con
        self.touched: set[str] = set()
        self.changed: dict[str, set[str] | None] = {}
        self.version_at_least: int | None = None

    def _mark(self, table: str, ids: Iterable[Any] | None) -> None:
        self.touched.add(table)
        if table in self.changed and self.changed[table] is None:
            return
        if ids is not None and not isinstance(ids, (list, tuple, set)):
            ids = list(ids)
        if ids is None or len(ids) > CHANGE_LOG_IDS:   # too many to log: "some rows", without making the set
            self.changed[table] = None
            return
        have = self.changed.setdefault(table, set())
        have.update(str(i) for i in ids)
        if len(have) > CHANGE_LOG_IDS:
            self.changed[table] = None

    @contextmanager
    def _step(self, schema: Layer | None = None) -> Iterator[psycopg.Cursor]:
        """One write call in a savepoint: a failed call undoes only itself; errors in both languages."""
        try:
            with self.con.transaction(), self.con.cursor() as cur:
                yield cur
        except psycopg.errors.UniqueViolation as exc:
            name = schema.name if schema else "?"
            raise StoreError(
                f"写入图层 {name} 违反唯一约束（编号重复）：{exc} "
                f"(writing layer {name} violates a unique constraint, a duplicate id: {exc})") from exc
        except psycopg.errors.LockNotAvailable as exc:
            raise StoreBusy() from exc

    def _insert(self, schema: Layer, frame: pd.DataFrame) -> int:
        if len(frame) == 0:
            return 0
        unknown = [c for c in frame.columns if c not in schema.names and c != "geometry"]
        if unknown:
            raise StoreError(f"图层 {schema.name} 没有列 {unknown} (layer {schema.name} has no columns {unknown})")
        cols = [c for c in schema.names if c in frame.columns]
        data = [_copy_values(frame[c], schema.column(c).type) for c in cols]
        types = [_COPY_TYPES[schema.column(c).type] for c in cols]
        names = list(cols)
        if schema.spatial and "geometry" in frame.columns:
            g = frame.geometry.values if isinstance(frame, gpd.GeoDataFrame) else frame["geometry"].values
            data.append(_ewkb(np.asarray(g, dtype=object)))
            types.append("bytea")  # binary COPY hands the bytes to geometry_recv: EWKB
            names.append("geom")
        stmt = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            _ident(schema.name), sql.SQL(", ").join(_ident(n) for n in names))
        with self._step(schema) as cur:
            try:
                with cur.copy(stmt) as copy:
                    copy.set_types(types)
                    for row in zip(*data, strict=True):
                        copy.write_row(row)
            except (psycopg.errors.CheckViolation, psycopg.errors.InvalidParameterValue) as exc:
                raise StoreError(f"图层 {schema.name} 的几何类型不符 (a geometry of layer {schema.name} is not of "
                                 f"a kind it holds): {exc}") from exc
            except psycopg.errors.CharacterNotInRepertoire as exc:
                raise StoreError(f"图层 {schema.name} 的文字含有 NUL 字符，PostgreSQL 无法保存 (a text of layer "
                                 f"{schema.name} holds a NUL character, which PostgreSQL cannot keep): {exc}"
                                 ) from exc
        idc = schema.id_column
        self._mark(schema.name, frame[idc].tolist() if idc is not None and idc in frame.columns else None)
        return len(frame)

    def append(self, layer: str, frame: pd.DataFrame) -> int:
        return self._insert(layer_schema(layer), frame)

    def replace(self, layer: str, frame: pd.DataFrame) -> int:
        schema = layer_schema(layer)
        with self._step(schema) as cur:   # DELETE, not TRUNCATE: readers keep reading the old rows meanwhile
            cur.execute(sql.SQL("DELETE FROM {}").format(_ident(schema.name)))
        self._mark(schema.name, None)
        return self._insert(schema, frame)

    def upsert(self, layer: str, frame: pd.DataFrame) -> int:
        schema = layer_schema(layer)
        if schema.id_column is None:
            raise StoreError(f"layer {layer} has no id column to upsert on")
        if len(frame):
            self.delete(layer, frame[schema.id_column].astype(str).tolist())
        return self._insert(schema, frame)

    def _sets(self, schema: Layer, values: Mapping[str, Any], skip: str | None = None
              ) -> tuple[list[sql.Composable], list[Any]]:
        sets, params = [], []
        for k, v in values.items():
            if k == skip:
                continue
            col = schema.column(k)
            sets.append(sql.SQL("{} = %s::{}").format(_ident(k), sql.SQL(_PG_TYPES[col.type])))
            params.append(_copy_values(pd.Series([v], dtype=object), col.type)[0])
        return sets, params

    def update(self, layer: str, ids: Iterable[str], values: Mapping[str, Any]) -> int:
        schema = layer_schema(layer)
        ids = [str(i) for i in ids]
        if not ids or not values:
            return 0
        sets, params = self._sets(schema, values)
        with self._step(schema) as cur:
            cur.execute(sql.SQL("UPDATE {} SET {} WHERE {} = ANY(%s::text[])").format(
                _ident(schema.name), sql.SQL(", ").join(sets), _ident(schema.id_column)), [*params, ids])
            n = cur.rowcount
        self._mark(schema.name, ids)
        return n

    def update_versioned(self, layer: str, record_id: str, expected_version: int | None,
                         values: Mapping[str, Any]) -> int:
        schema = layer_schema(layer)
        if not schema.versioned:
            raise StoreError(f"layer {layer} has no version column")
        sets, params = self._sets(schema, values, skip="version")
        sets.append(sql.SQL('"version" = COALESCE("version", 0) + 1'))
        expected = int(expected_version or 0)
        table, idc = _ident(schema.name), _ident(schema.id_column)
        with self._step(schema) as cur:
            cur.execute(sql.SQL('UPDATE {} SET {} WHERE {} = %s AND COALESCE("version", 0) = %s').format(
                table, sql.SQL(", ").join(sets), idc), [*params, str(record_id), expected])
            done = cur.rowcount
            now = None
            if done != 1:
                row = cur.execute(sql.SQL('SELECT COALESCE("version", 0) FROM {} WHERE {} = %s').format(table, idc),
                                  (str(record_id),)).fetchone()
                now = row[0] if row else None
                if row is None:
                    raise StoreError(f"{schema.zh} {record_id} 不存在 ({schema.en} {record_id} does not exist)")
        if done != 1:
            raise EditConflict(
                f"{schema.zh} {record_id} 已被他人修改（您打开的是第 {expected} 版，现在是第 {now} 版），"
                f"您的修改未保存；请重新打开后再改 ({schema.en} {record_id} was changed by someone else (you opened "
                f"version {expected}, it is now version {now}); your change was not saved: reopen it and try "
                "again)")
        self._mark(schema.name, [record_id])
        return expected + 1

    def delete(self, layer: str, ids: Iterable[str]) -> int:
        schema = layer_schema(layer)
        ids = [str(i) for i in ids]
        with self._step(schema) as cur:
            cur.execute(sql.SQL("DELETE FROM {} WHERE {} = ANY(%s::text[])").format(
                _ident(schema.name), _ident(schema.id_column)), (ids,))
            n = cur.rowcount
        self._mark(schema.name, ids)
        return n

    def quarantine(self, rows: pd.DataFrame) -> int:
        """Rows with columns layer, source, row, field, reason_zh, reason_en, raw (dict or JSON)."""
        if len(rows) == 0:
            return 0
        recs = quarantine_records(rows, _now())
        self._copy_rows(QUARANTINE, QUARANTINE_COLUMNS,
                        ["text", "text", "int8", "text", "text", "text", "text", "text"], recs)
        self.touched.add(QUARANTINE)
        return len(recs)

    def _copy_rows(self, table: str, names: list[str], types: list[str], rows: Iterable[tuple]) -> None:
        stmt = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            _ident(table), sql.SQL(", ").join(_ident(n) for n in names))
        with self._step() as cur, cur.copy(stmt) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)

    def log_import(self, record: Mapping[str, Any]) -> None:
        with self._step() as cur:
            cur.execute(
                f"INSERT INTO {IMPORTS} ({', '.join(IMPORT_LOG_COLUMNS)}) "
                f"VALUES ({', '.join('%s' for _ in IMPORT_LOG_COLUMNS)})", import_log_row(record, _now()))
            _set_meta(cur, "last_import", _now())

    # -- what copy-store needs (both stores have these; not part of the interface) --------------------
    def restore_bookkeeping(self, quarantined: pd.DataFrame, imports: pd.DataFrame,
                            meta: Mapping[str, str | None]) -> None:
        """Replace the quarantine and the import log with these rows as they are (their times kept), and set
        ``last_import`` from ``meta``: a copy of another store's bookkeeping (``layers.store.copy``)."""
        with self._step() as cur:
            cur.execute(f"DELETE FROM {QUARANTINE}")
            cur.execute(f"DELETE FROM {IMPORTS}")
        q_cols = ["layer", "source", "row", "field", "reason_zh", "reason_en", "raw", "imported_at"]
        self._copy_rows(QUARANTINE, q_cols, ["text", "text", "int8", "text", "text", "text", "text", "text"],
                        ([None if _missing(v) else (int(v) if c == "row" else v) for c, v in zip(q_cols, r,
                                                                                                  strict=True)]
                         for r in quarantined[q_cols].itertuples(index=False)))
        i_cols = ["layer", "source", "mode", "rows_read", "written", "quarantined", "fixed", "at", "report"]
        ints = {"rows_read", "written", "quarantined", "fixed"}
        self._copy_rows(IMPORTS, i_cols, ["int8" if c in ints else "text" for c in i_cols],
                        ([None if _missing(v) else (int(v) if c in ints else v) for c, v in zip(i_cols, r,
                                                                                                 strict=True)]
                         for r in imports[i_cols].itertuples(index=False)))
        if meta.get("last_import"):
            with self._step() as cur:
                _set_meta(cur, "last_import", meta["last_import"])
        self.touched.update({QUARANTINE, IMPORTS})

    def advance_data_version(self, at_least: int) -> None:
        """Make the data version after this transaction greater than ``at_least`` (a copied store moves on)."""
        self.version_at_least = max(int(at_least), self.version_at_least or 0)
        self.touched.add(META)


def _set_meta(cur: psycopg.Cursor, key: str, value: str) -> None:
    cur.execute(f"INSERT INTO {META} (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = "
                "EXCLUDED.value", (key, value))


def _touch(cur: psycopg.Cursor, tx: _PgTransaction) -> None:
    """Bump the data version (NOTIFY at commit), stamp the written tables and log their ids (as gpkg does)."""
    tables = tx.touched - {META}
    if tx.version_at_least is not None or any(t not in LAYERS or LAYERS[t].counts_as_data for t in tables):
        floor = tx.version_at_least or 0
        version = cur.execute(
            f"UPDATE {META} SET value = (GREATEST(value::bigint, %s) + 1)::text WHERE key = 'data_version' "
            "RETURNING value", (floor,)).fetchone()[0]
        _set_meta(cur, "last_write", _now())
        cur.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(version)))
    if not tables:
        return
    seq = int(cur.execute(f"UPDATE {META} SET value = (value::bigint + 1)::text WHERE key = 'write_seq' "
                          "RETURNING value").fetchone()[0])
    docs = dict(cur.execute(f"SELECT key, value FROM {META} WHERE key = ANY(%s)",
                            ([f"changes:{t}" for t in tables],)).fetchall())
    for t in sorted(tables):
        raw = docs.get(f"changes:{t}")
        doc = json.loads(raw) if raw else {"floor": 0, "log": []}
        written = tx.changed.get(t)
        doc["log"].append([seq, sorted(written) if written is not None else None])
        total = sum(len(e[1]) for e in doc["log"] if e[1] is not None)
        while len(doc["log"]) > 1 and (len(doc["log"]) > CHANGE_LOG_WRITES or total > CHANGE_LOG_IDS):
            gone = doc["log"].pop(0)
            total -= len(gone[1]) if gone[1] is not None else 0
            doc["floor"] = gone[0]
        _set_meta(cur, f"changes:{t}", json.dumps(doc, separators=(",", ":"), ensure_ascii=False))
        _set_meta(cur, f"stamp:{t}", str(seq))


# --------------------------------------------------------------------------------------------------
# the store
# --------------------------------------------------------------------------------------------------

#: (URL, database oid) of databases whose schema was checked in this process (opening a store is on every
#: request's path); a database dropped and made again has another oid and is checked again
_VERIFIED: set[tuple[str, int]] = set()


def forget_verified() -> None:
    """Check every store's schema again on its next open (tests that change a schema behind the store's back)."""
    _VERIFIED.clear()


class PostGISStore(Store):
    """The shared store: PostgreSQL with PostGIS at a ``postgresql://`` URL (see the module's docstring)."""

    def __init__(self, url: str, *, create: bool = True, district: str | None = None):
        self.url = str(url)
        self.district = district
        if district is None:
            self._migrate(create=create)

    # -- connection -----------------------------------------------------------------------------
    @contextmanager
    def _read(self) -> Iterator[psycopg.Cursor]:
        """A pooled connection for one read; a lock or a pool wait too long is :class:`StoreBusy`."""
        try:
            with _pool(self.url).connection(timeout=READ_POOL_TIMEOUT_S) as con:
                if self.district is None:
                    with con.cursor(binary=True) as cur:
                        yield cur
                else:
                    with con.transaction(), con.cursor(binary=True) as cur:
                        cur.execute(f"SET LOCAL ROLE {DISTRICT_ROLE}")
                        cur.execute("SELECT set_config(%s, %s, true)", (DISTRICT_SETTING, self.district))
                        yield cur
        except (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled) as exc:
            raise StoreBusy() from exc
        except PoolTimeout as exc:
            raise self._pool_timeout(exc) from exc
        except psycopg.OperationalError as exc:
            raise _connect_error(self.url, exc) from exc

    def _pool_timeout(self, exc: PoolTimeout) -> StoreError:
        """No pooled connection in time: busy when the server answers a new connection, else unreachable."""
        try:
            psycopg.connect(self.url, connect_timeout=2).close()
        except psycopg.Error as down:
            close_pools(self.url)   # its background reconnecting ends; the next open makes a new pool
            return _connect_error(self.url, down)
        return StoreBusy()

    def for_district(self, district: str) -> PostGISStore:
        """This store read as the role ``riskmap_district`` for one district: the database's row-level security
        shows only that district's rows (defence in depth under :mod:`layers.access`). Read-only."""
        return PostGISStore(self.url, district=str(district))

    @staticmethod
    def exists(url: str) -> bool:
        """Whether the database at ``url`` holds a store (our schema-version table). False when the database
        itself does not exist; a server that cannot be reached is a :class:`StoreError`."""
        try:
            with psycopg.connect(url, connect_timeout=10, autocommit=True) as con:
                row = con.execute(f"SELECT to_regclass('{VERSIONS}') IS NOT NULL").fetchone()
        except psycopg.OperationalError as exc:
            if "does not exist" in str(exc):
                return False
            raise _connect_error(url, exc) from exc
        return bool(row[0])

    # -- schema -----------------------------------------------------------------------------------
    def _migrate(self, *, create: bool) -> None:
        try:
            with self._read() as cur:
                oid, have = cur.execute(
                    f"SELECT oid, to_regclass('{VERSIONS}') IS NOT NULL FROM pg_database "
                    "WHERE datname = current_database()").fetchone()
                key = (self.url, int(oid))
                if key in _VERIFIED:
                    return
                if have and _up_to_date(cur):
                    _VERIFIED.add(key)
                    return
        except StoreBusy:
            raise
        if not have and not create:
            raise StoreError(f"数据库中没有存储：{_safe_url(self.url)} (no store in the database {_safe_url(self.url)})")
        try:
            with psycopg.connect(self.url, connect_timeout=10, autocommit=True) as con, con.transaction(), \
                    con.cursor() as cur:
                cur.execute(f"SET LOCAL lock_timeout = '{int(WRITE_LOCK_TIMEOUT_S * 1000)}ms'")
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATE_LOCK,))
                current = 0
                if cur.execute(f"SELECT to_regclass('{VERSIONS}') IS NOT NULL").fetchone()[0]:
                    current = cur.execute(f"SELECT COALESCE(MAX(version), 0) FROM {VERSIONS}").fetchone()[0]
                if current > SCHEMA_VERSION:
                    raise StoreError(
                        f"存储的结构版本 {current} 比程序新 ({SCHEMA_VERSION})，请升级程序 "
                        f"(the store's schema version {current} is newer than this program's {SCHEMA_VERSION})")
                for version, step in MIGRATIONS:
                    if version > current:
                        step(cur)
                        cur.execute(f"INSERT INTO {VERSIONS} (version, applied_at) VALUES (%s, %s)", (version, _now()))
                _ensure_layers(cur)
                _row_security(cur)
        except psycopg.errors.LockNotAvailable as exc:
            raise StoreBusy() from exc
        except psycopg.errors.FeatureNotSupported as exc:
            raise StoreError(f"数据库 {_safe_url(self.url)} 缺少 PostGIS 扩展 (the database lacks PostGIS): {exc}"
                             ) from exc
        except psycopg.OperationalError as exc:
            raise _connect_error(self.url, exc) from exc
        except psycopg.Error as exc:
            raise StoreError(f"无法建立或升级存储结构 {_safe_url(self.url)}：{exc} (cannot create or migrate the "
                             f"store's tables in {_safe_url(self.url)}: {exc})") from exc

    # -- reads ------------------------------------------------------------------------------------
    def read(self, layer: str, *, columns: Sequence[str] | None = None, where: Mapping[str, Any] | None = None,
             ids: Iterable[str] | None = None) -> pd.DataFrame | gpd.GeoDataFrame:
        schema = layer_schema(layer)
        cols = list(columns) if columns is not None else schema.names
        want_geom = schema.spatial and (columns is None or "geometry" in cols)
        cols = [c for c in cols if c != "geometry"]
        for c in cols:
            schema.column(c)
        clauses: list[sql.Composable] = []
        for k, v in (where or {}).items():
            t = schema.column(k).type
            pg_type = sql.SQL(_PG_TYPES[t])
            if isinstance(v, (list, tuple, set, np.ndarray, pd.Index, pd.Series)):
                v = list(v)
                values = _copy_values(pd.Series(v, dtype=object), t) if v else []
                clauses.append(sql.SQL("{} = ANY({}::{}[])").format(_ident(k), sql.Literal(values), pg_type))
            elif v is None:
                clauses.append(sql.SQL("{} IS NULL").format(_ident(k)))
            else:
                value = _copy_values(pd.Series([v], dtype=object), t)[0]
                clauses.append(sql.SQL("{} = {}::{}").format(_ident(k), sql.Literal(value), pg_type))
        if ids is not None:
            clauses.append(sql.SQL("{} = ANY({}::text[])").format(_ident(schema.id_column),
                                                                 sql.Literal([str(i) for i in ids])))
        # values are literals quoted by psycopg (client-side, as COPY's parameters always were): one statement
        # text serves the Arrow read and the tuple read alike
        where_sql = (sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses)) if clauses else sql.SQL("")
        if (cols or want_geom) and not any(schema.column(c).type is T.BLOB for c in cols):
            frame = self._read_arrow(schema, cols, want_geom, where_sql)
            if frame is not None:
                return frame
        select = [_select_expr(c, schema.column(c).type) for c in cols] + \
            ([sql.SQL("ST_AsBinary(geom)")] if want_geom else [])
        stmt = sql.SQL("SELECT {} FROM {}{} ORDER BY fid").format(
            sql.SQL(", ").join(select) if select else sql.SQL("fid"), _ident(schema.name), where_sql)
        with self._read() as cur:
            rows = cur.execute(stmt).fetchall()
        return _frame(schema, cols, want_geom, rows)

    def _read_arrow(self, schema: Layer, cols: list[str], want_geom: bool, where_sql: sql.Composable
                    ) -> pd.DataFrame | gpd.GeoDataFrame | None:
        """The rows through ADBC's PostgreSQL driver (libpq, ``COPY … TO STDOUT (FORMAT binary)`` decoded into
        Arrow in C), typed by :func:`layers.store.arrow.to_frame` as the GeoPackage's Arrow reads are: several
        times cheaper than fetching Python tuples; a big table 35-45 % cheaper than the CSV COPY read it replaced.
        Geometry is WKB. None when there are no rows (the tuple path types an empty frame)."""
        select = [sql.SQL("fid AS __fid")] + [_ident(c) for c in cols] + \
            ([sql.SQL("ST_AsBinary(geom) AS __geom")] if want_geom else [])
        stmt = sql.SQL("SELECT {} FROM {}{} ORDER BY fid").format(
            sql.SQL(", ").join(select), _ident(schema.name), where_sql).as_string(None)
        table = _arrow_pool(self.url).read(stmt, self.district)
        if table.num_rows == 0:
            return None
        return arrow.to_frame({"fid_column": "__fid", "geometry_name": "__geom"}, table, schema, cols, want_geom,
                              srs=SRS_ID, fallback=_typed)

    def count(self, layer: str) -> int:
        schema = layer_schema(layer)
        with self._read() as cur:
            return int(cur.execute(sql.SQL("SELECT count(*) FROM {}").format(_ident(schema.name))).fetchone()[0])

    def counts(self) -> dict[str, int]:
        stmt = sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT {}, count(*) FROM {}").format(sql.Literal(n), _ident(n)) for n in LAYERS)
        with self._read() as cur:
            got = dict(cur.execute(stmt).fetchall())
        return {n: int(got[n]) for n in LAYERS}

    def latest(self, layer: str, column: str) -> Any:
        schema = layer_schema(layer)
        col = schema.column(column)
        with self._read() as cur:
            value = cur.execute(sql.SQL("SELECT {} FROM {} ORDER BY {} DESC NULLS LAST LIMIT 1").format(
                _select_expr(col.name, col.type), _ident(schema.name), _ident(col.name))).fetchone()
        if value is None or value[0] is None:
            return None
        one = pd.Series([value[0]], dtype=object)
        typed = (_dates(one) if col.type is T.DATE else _typed(one, col.type)).iloc[0]
        return None if pd.isna(typed) else typed

    def data_version(self) -> int:
        with self._read() as cur:
            row = cur.execute(f"SELECT value FROM {META} WHERE key = 'data_version'").fetchone()
        return int(row[0]) if row else 0

    def identity(self) -> tuple[str, int, str]:
        """(URL without password, the database's oid, the store's id made when it was created): a database
        dropped and restored under the same name is another store, whatever its data version."""
        with self._read() as cur:
            oid, store_id = cur.execute(
                f"SELECT (SELECT oid FROM pg_database WHERE datname = current_database()), "
                f"(SELECT value FROM {META} WHERE key = 'store_id')").fetchone()
        return (_safe_url(self.url), int(oid), str(store_id))

    def table_stamps(self, tables: Sequence[str]) -> dict[str, int]:
        tables = list(dict.fromkeys(tables))
        if not tables:
            return {}
        with self._read() as cur:
            rows = cur.execute(f"SELECT key, value FROM {META} WHERE key = ANY(%s)",
                               ([f"stamp:{t}" for t in tables],)).fetchall()
        got = {k[len("stamp:"):]: int(v) for k, v in rows}
        return {t: got.get(t, 0) for t in tables}

    def changed_ids(self, table: str, since: int) -> tuple[int, set[str] | None]:
        with self._read() as cur:
            rows = dict(cur.execute(f"SELECT key, value FROM {META} WHERE key = ANY(%s)",
                                    ([f"stamp:{table}", f"changes:{table}"],)).fetchall())
        return ids_since(rows, table, since)

    def schema_version(self) -> int:
        with self._read() as cur:
            return int(cur.execute(f"SELECT COALESCE(MAX(version), 0) FROM {VERSIONS}").fetchone()[0])

    def _meta(self, key: str) -> str | None:
        with self._read() as cur:
            row = cur.execute(f"SELECT value FROM {META} WHERE key = %s", (key,)).fetchone()
        return row[0] if row else None

    def last_import(self) -> str | None:
        return self._meta("last_import")

    def last_write(self) -> str | None:
        return self._meta("last_write")

    def quarantined(self, layer: str | None = None) -> pd.DataFrame:
        cols = ["layer", "source", "row", "field", "reason_zh", "reason_en", "raw", "imported_at"]
        stmt = f"SELECT {', '.join(cols)} FROM {QUARANTINE}"
        with self._read() as cur:
            if layer:
                rows = cur.execute(stmt + " WHERE layer = %s ORDER BY fid", (layer,)).fetchall()
            else:
                rows = cur.execute(stmt + " ORDER BY fid").fetchall()
        return _records_frame(rows, cols)

    def imports(self) -> pd.DataFrame:
        cols = ["fid", "layer", "source", "mode", "rows_read", "written", "quarantined", "fixed", "at", "report"]
        with self._read() as cur:
            rows = cur.execute(f"SELECT {', '.join(cols)} FROM {IMPORTS} ORDER BY fid").fetchall()
        return _records_frame(rows, cols)

    # -- changes ----------------------------------------------------------------------------------
    def wait_for_change(self, since: int, timeout: float) -> int | None:
        """Wait at most ``timeout`` seconds for the data version to grow past ``since`` (LISTEN on
        ``riskmap_data_version``, no polling); the new data version, or None when nothing changed in time.

        Listens before it looks, so a commit between the caller's last :meth:`data_version` and this call is
        not missed. Holds one connection of its own (not the pool's) while it waits."""
        try:
            with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as con:
                con.execute(f"LISTEN {CHANNEL}")
                row = con.execute(f"SELECT value FROM {META} WHERE key = 'data_version'").fetchone()
                now = int(row[0]) if row else 0
                if now > since:
                    return now
                for note in con.notifies(timeout=timeout):
                    if int(note.payload) > since:
                        return int(note.payload)
        except psycopg.OperationalError as exc:
            raise _connect_error(self.url, exc) from exc
        return None

    # -- writes -----------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """All writes inside the ``with`` block commit together or not at all (one PostgreSQL transaction)."""
        if self.district is not None:
            raise StoreError("区县只读视图不能写入 (a district's read-only view of the store cannot write)")
        try:
            with _pool(self.url).connection(timeout=WRITE_LOCK_TIMEOUT_S) as con, con.transaction():
                with con.cursor() as cur:
                    cur.execute(f"SET LOCAL lock_timeout = '{int(WRITE_LOCK_TIMEOUT_S * 1000)}ms'")
                    cur.execute("SET LOCAL statement_timeout = 0")
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK,))
                tx = _PgTransaction(self, con)
                yield tx
                if tx.touched:
                    with con.cursor() as cur:
                        _touch(cur, tx)
        except psycopg.errors.LockNotAvailable as exc:
            raise StoreBusy() from exc
        except PoolTimeout as exc:
            raise self._pool_timeout(exc) from exc
        except psycopg.OperationalError as exc:
            raise _connect_error(self.url, exc) from exc
        except psycopg.Error as exc:
            raise StoreError(f"写入存储失败，未做任何更改：{exc} (writing the store failed, nothing was changed: {exc})"
                             ) from exc

    def health(self) -> dict[str, Any]:
        return {**super().health(), "store": _safe_url(self.url)}

    def close(self) -> None:
        """Close this process's connections to the store (before dropping its database)."""
        close_pools(self.url)


# --------------------------------------------------------------------------------------------------
# Migrations
# --------------------------------------------------------------------------------------------------

def _geom_type(schema: Layer) -> str:
    return "Point" if schema.geometry == Geom.POINT else "Geometry"


def _create_layer_table(cur: psycopg.Cursor, schema: Layer) -> None:
    table = _ident(schema.name)
    cols = [sql.SQL("fid bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")]
    if schema.spatial:
        cols.append(sql.SQL(f"geom geometry({_geom_type(schema)}, {SRS_ID})"))
    for c in schema.columns:
        cols.append(sql.SQL("{} {}{}").format(_ident(c.name), sql.SQL(_PG_TYPES[c.type]),
                                              sql.SQL(" UNIQUE" if c.unique else "")))
    cur.execute(sql.SQL("CREATE TABLE {} ({})").format(table, sql.SQL(", ").join(cols)))
    cur.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(table, sql.Literal(f"{schema.zh} / {schema.en}")))
    if schema.spatial:
        kinds = _ACCEPT.get(schema.geometry)
        if kinds:
            cur.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} CHECK (geom IS NULL OR ST_GeometryType(geom) = "
                                "ANY({}))").format(table, _ident(f"{schema.name}_geom_kind"),
                                                   sql.Literal(list(kinds))))
        cur.execute(sql.SQL("CREATE INDEX {} ON {} USING GIST (geom)").format(
            _ident(f"sidx_{schema.name}_geom"), table))
    for c in schema.columns:
        if c.name in {"district_code", "target_id", "plan_id", "enterprise_id", "hazard_id", "record_id"}:
            cur.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                _ident(f"idx_{schema.name}_{c.name}"), table, _ident(c.name)))


def _append_only_triggers(cur: psycopg.Cursor, schema: Layer) -> None:
    """An append-only layer (the audit log) refuses UPDATE, DELETE and TRUNCATE in the database itself."""
    if not schema.append_only:
        return
    table = _ident(schema.name)
    cur.execute(sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(_ident(f"{schema.name}_append_only"), table))
    cur.execute(sql.SQL("CREATE TRIGGER {} BEFORE UPDATE OR DELETE ON {} FOR EACH ROW EXECUTE FUNCTION "
                        "riskmap_append_only()").format(_ident(f"{schema.name}_append_only"), table))
    cur.execute(sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(_ident(f"{schema.name}_no_truncate"), table))
    cur.execute(sql.SQL("CREATE TRIGGER {} BEFORE TRUNCATE ON {} FOR EACH STATEMENT EXECUTE FUNCTION "
                        "riskmap_append_only()").format(_ident(f"{schema.name}_no_truncate"), table))


def _columns(cur: psycopg.Cursor) -> dict[str, set[str]]:
    rows = cur.execute(
        "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON a.attrelid = c.oid "
        "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND c.relname = ANY(%s) "
        "AND a.attnum > 0 AND NOT a.attisdropped", (list(LAYERS),)).fetchall()
    out: dict[str, set[str]] = {}
    for t, c in rows:
        out.setdefault(t, set()).add(c)
    return out


def _up_to_date(cur: psycopg.Cursor) -> bool:
    current = cur.execute(f"SELECT COALESCE(MAX(version), 0) FROM {VERSIONS}").fetchone()[0]
    if current != SCHEMA_VERSION:
        return False
    have = _columns(cur)
    if not all(set(s.names) <= have.get(s.name, set()) for s in LAYERS.values()):
        return False
    # the district role made by a superuser after the tables (README): its grants and policies are still to do
    role, policy = cur.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s), EXISTS (SELECT 1 FROM pg_policy p JOIN pg_class c "
        "ON p.polrelid = c.oid WHERE p.polname = 'riskmap_district_rows' AND c.relname = 'enterprises' "
        "AND c.relnamespace = current_schema()::regnamespace)", (DISTRICT_ROLE,)).fetchone()
    return policy or not role


def _ensure_layers(cur: psycopg.Cursor) -> None:
    """Additive: new layers and new columns from the schema in code."""
    have = _columns(cur)
    for schema in LAYERS.values():
        if schema.name not in have:
            _create_layer_table(cur, schema)
        else:
            for c in schema.columns:
                if c.name not in have[schema.name]:
                    cur.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                        _ident(schema.name), _ident(c.name), sql.SQL(_PG_TYPES[c.type])))
        _append_only_triggers(cur, schema)


def _migration_1(cur: psycopg.Cursor) -> None:
    cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    cur.execute(f"CREATE TABLE IF NOT EXISTS {VERSIONS} (version integer NOT NULL, applied_at text NOT NULL)")
    cur.execute(f"CREATE TABLE IF NOT EXISTS {META} (key text PRIMARY KEY, value text)")
    cur.execute(f"""CREATE TABLE IF NOT EXISTS {QUARANTINE} (fid bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        layer text NOT NULL, source text, "row" bigint, field text, reason_zh text NOT NULL, reason_en text NOT NULL,
        raw text, imported_at text NOT NULL)""")
    cur.execute(f"""CREATE TABLE IF NOT EXISTS {IMPORTS} (fid bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        layer text, source text, mode text, rows_read bigint, written bigint, quarantined bigint, fixed bigint,
        at text, report text)""")
    cur.execute(f"INSERT INTO {META} (key, value) VALUES ('data_version', '0'), ('write_seq', '0'), "
                "('store_id', gen_random_uuid()::text) ON CONFLICT (key) DO NOTHING")
    cur.execute("""CREATE OR REPLACE FUNCTION riskmap_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation'; END $$""")


MIGRATIONS: list[tuple[int, Any]] = [(1, _migration_1)]


def _district_policy(schema: Layer) -> str | None:
    """The USING clause that shows a district's role only its rows of this layer (None: not readable)."""
    names = set(schema.names)
    mine = f"current_setting('{DISTRICT_SETTING}', true)"
    if schema.name == "districts":
        return f"code = {mine}"
    if not schema.counts_as_data:
        return None  # users, sessions, wall tokens: never
    if "district_code" in names:
        return f"district_code = {mine}"
    if {"target_layer", "target_id"} <= names:
        cases = " ".join(f"WHEN '{t}' THEN EXISTS (SELECT 1 FROM {t} o WHERE o.id = target_id)"
                         for t in OBJECT_LAYERS)
        return f"CASE target_layer {cases} ELSE false END"
    if "hazard_id" in names:
        return "EXISTS (SELECT 1 FROM hazards h WHERE h.id = hazard_id)"
    if "enterprise_id" in names:
        return "EXISTS (SELECT 1 FROM enterprises e WHERE e.id = enterprise_id)"
    return None


def _row_security(cur: psycopg.Cursor) -> None:
    """The district role, its grants and policies (see the module's docstring); idempotent."""
    cur.execute(f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{DISTRICT_ROLE}') THEN
            CREATE ROLE {DISTRICT_ROLE} NOLOGIN;
        END IF;
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'cannot create role {DISTRICT_ROLE}';
    END $$""")
    # the store's own user may take the role for a read (PostGISStore.for_district: SET LOCAL ROLE); as the
    # tables' owner it is not subject to the policies itself
    cur.execute(f"""DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{DISTRICT_ROLE}')
                AND NOT pg_has_role(current_user, '{DISTRICT_ROLE}', 'MEMBER') THEN
            EXECUTE format('GRANT %I TO %I', '{DISTRICT_ROLE}', current_user);
        END IF;
    EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN
        RAISE NOTICE 'cannot grant role {DISTRICT_ROLE} to %', current_user;
    END $$""")
    if not cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (DISTRICT_ROLE,)).fetchone():
        log.warning("角色 %s 不存在且无法创建，未启用行级安全 (the role %s does not exist and could not be created: "
                    "row-level security is not set up; create it as a superuser, see the README)",
                    DISTRICT_ROLE, DISTRICT_ROLE)
        return
    role = _ident(DISTRICT_ROLE)
    cur.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
        _ident(cur.execute("SELECT current_schema()").fetchone()[0]), role))
    cur.execute(sql.SQL(f"GRANT SELECT ON {META}, {VERSIONS} TO {{}}").format(role))
    for schema in LAYERS.values():
        table = _ident(schema.name)
        policy = _district_policy(schema)
        cur.execute(sql.SQL("DROP POLICY IF EXISTS riskmap_district_rows ON {}").format(table))
        if schema.name in _SHARED_GEOGRAPHY:
            cur.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(table, role))
        elif policy is None:
            cur.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(table, role))
        else:
            cur.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(table))
            cur.execute(sql.SQL("CREATE POLICY riskmap_district_rows ON {} FOR SELECT TO {} USING (" + policy + ")"
                                ).format(table, role))
            cur.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(table, role))


__all__ = ["PostGISStore", "SCHEMA_VERSION", "MIGRATIONS", "CHANNEL", "DISTRICT_ROLE", "DISTRICT_SETTING",
           "close_pools", "forget_verified"]
