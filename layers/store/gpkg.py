"""The embedded store: one GeoPackage file (the default implementation of :class:`layers.store.Store`).

The GeoPackage is written with the standard library's ``sqlite3`` so that every write is one real SQLite
transaction across all tables (a rejected or failed import leaves the file exactly as it was). The file
follows OGC GeoPackage 1.4 (application id, ``gpkg_spatial_ref_sys``, ``gpkg_contents``,
``gpkg_geometry_columns``, standard geometry blobs), so QGIS, GDAL and ``pyogrio`` open it, and GDAL's own
validator (``validate_gpkg.py -k --extra``) passes it. Every geometry table has an R-tree spatial index
(extension ``gpkg_rtree_index``, :mod:`layers.store.rtree`) that QGIS and GDAL use for bounding-box queries.

Everything goes through :class:`Store`; ``dashboard/`` never touches SQL, so a PostGIS store can be added
behind the same interface.

Read types: DATE/DATETIME columns come back as ``datetime64``, BOOLEAN as nullable ``boolean``, INTEGER as
nullable ``Int64``, text as object columns of ``str`` with ``None`` for missing (pandas 3's ``str`` dtype is not
used: see :mod:`layers.store.arrow`). Geometries are EPSG:4326.

Reads: a table of ``ARROW_MIN_ROWS`` rows or more is read through GDAL's Arrow stream (``pyogrio.read_arrow``)
in helper processes, a big one in fid ranges at once (:mod:`layers.store.arrow` says why not in this one); a
smaller table (and, while the reader processes start, a table below ``arrow.COLD_SQLITE_MAX_ROWS``), a filter
with a value that has no plain SQL literal, or a table GDAL cannot open is read here through ``sqlite3`` (the last
one with a logged warning). Both paths give the same frame, type for type.

Concurrency: the file is in SQLite's WAL mode (set when the store is created or opened, and kept in the file)
with ``synchronous=NORMAL``: readers read the last committed state and never wait for a writer, a writer never
waits for readers, and a commit is durable once the WAL is checkpointed (a power cut may lose the last
commits, never corrupt the file). WAL needs the shared memory of one host, so a store on a network filesystem
(NFS, SMB/CIFS, sshfs, 9p …, see :mod:`layers.store.mounts`) is refused.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sqlite3
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.cache import file_identity
from layers.errors import EditConflict, StoreError
from layers.schema import LAYERS, Layer, T
from layers.schema import layer as layer_schema
from layers.store import arrow, rtree
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
from layers.store.mounts import filesystem_type, is_network_filesystem

SCHEMA_VERSION = 3
#: a table with at least this many rows (by its largest fid) is read through GDAL's Arrow stream in a helper
#: process; below it an in-process sqlite3 read costs less than the round trip
ARROW_MIN_ROWS = 20_000
#: a read of at most this many ids goes through sqlite3's index on the id (the Arrow stream's helper process
#: costs more than the look-up itself: a ledger step reads one hazard)
ID_READ_MAX = 2_000
#: the change log keeps, per table, the ids of at most this many of its last writes and this many ids in all (a
#: write of more rows is logged as "some rows": a reader of the changes reads the whole table again)
CHANGE_LOG_WRITES = 64
CHANGE_LOG_IDS = 5_000
log = logging.getLogger(__name__)
GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
#: GeoPackage 1.3.0: the R-tree triggers are 1.3's, which every GDAL validator accepts in a 1.3 file (layers/store/rtree.py)
GPKG_USER_VERSION = 10300
SRS_ID = 4326
QUARANTINE = "riskmap_quarantine"
IMPORTS = "riskmap_imports"
META = "riskmap_meta"
VERSIONS = "riskmap_schema_version"

_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],'
    'AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,'
    'AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


# --------------------------------------------------------------------------------------------------
# GeoPackage geometry blobs
# --------------------------------------------------------------------------------------------------

def to_gpkg_blobs(geoms: Sequence[Any] | np.ndarray) -> list[bytes | None]:
    """Encode shapely geometries (EPSG:4326, 2D) as GeoPackage geometry blobs; ``None`` stays NULL."""
    arr = np.asarray(geoms, dtype=object)
    out: list[bytes | None] = [None] * len(arr)
    if len(arr) == 0:
        return out
    present = ~shapely.is_missing(arr)
    idx = np.flatnonzero(present)
    if len(idx) == 0:
        return out
    g = arr[idx]
    wkb = shapely.to_wkb(g, byte_order=1, output_dimension=2, flavor="iso")
    is_point = shapely.get_type_id(g) == 0
    empty = shapely.is_empty(g)
    bounds = shapely.bounds(g)
    point_header = b"GP\x00\x01" + struct.pack("<i", SRS_ID)
    empty_header = b"GP\x00\x11" + struct.pack("<i", SRS_ID)
    env_prefix = b"GP\x00\x03" + struct.pack("<i", SRS_ID)
    for j, i in enumerate(idx):
        if empty[j]:
            out[i] = empty_header + wkb[j]
        elif is_point[j]:
            out[i] = point_header + wkb[j]
        else:
            minx, miny, maxx, maxy = bounds[j]
            out[i] = env_prefix + struct.pack("<4d", minx, maxx, miny, maxy) + wkb[j]
    return out


def from_gpkg_blobs(blobs: Sequence[bytes | None]) -> np.ndarray:
    """Decode GeoPackage geometry blobs into a numpy array of shapely geometries."""
    # fast path: all 2D little-endian points without envelope (29 bytes: 8 header + 21 WKB)
    if blobs and all(b is not None and len(b) == 29 for b in blobs):
        raw = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(blobs), 29)
        if (raw[:, 0] == 0x47).all() and (raw[:, 3] == 1).all() and (raw[:, 8] == 1).all() and \
                (raw[:, 9] == 1).all() and (raw[:, 10:13] == 0).all():
            xy = raw[:, 13:29].copy().view("<f8").reshape(len(blobs), 2)
            return shapely.points(xy)
    wkbs: list[bytes | None] = []
    for b in blobs:
        if b is None:
            wkbs.append(None)
            continue
        if b[:2] != b"GP":
            raise StoreError(f"不是 GeoPackage 几何 (not a GeoPackage geometry blob: {bytes(b[:8])!r})")
        wkbs.append(b[8 + _ENVELOPE_BYTES[(b[3] >> 1) & 7]:])
    return shapely.from_wkb(np.array(wkbs, dtype=object))


# --------------------------------------------------------------------------------------------------
# GeoPackage implementation
# --------------------------------------------------------------------------------------------------

def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _gpkg_now() -> str:
    """Now in UTC as a GeoPackage DATETIME (``YYYY-MM-DDTHH:MM:SS.sssZ``, GPKG Req 15)."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


#: gpkg_contents.last_change as GeoPackage DATETIME (a GLOB pattern)
_GPKG_DATETIME_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z"


def _q(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise StoreError(f"invalid identifier {name!r}")
    return f'"{name}"'


def _sql_type(t: T) -> str:
    return {T.TEXT: "TEXT", T.INT: "INTEGER", T.REAL: "REAL", T.BOOL: "BOOLEAN", T.DATE: "DATE",
            T.DATETIME: "DATETIME", T.BLOB: "BLOB"}[t]


#: the Arrow type of the values :func:`_to_sql_values` gives for a column type
_ARROW_SQL_TYPES = {T.TEXT: "string", T.INT: "int64", T.REAL: "float64", T.BOOL: "int64", T.DATE: "string",
                    T.DATETIME: "string", T.BLOB: "binary"}


def _fast_sql_values(s: pd.Series, t: T) -> list[Any] | None:
    """Vectorised conversion for the common column types; None when the slow path must decide."""
    kind = s.dtype.kind if isinstance(s.dtype, np.dtype) else None
    if t is T.TEXT and isinstance(s.dtype, pd.StringDtype):  # only text, missing as NA or NaN
        return s.to_numpy(dtype=object, na_value=None).tolist()
    if t is T.TEXT and (kind == "O" or pd.api.types.is_string_dtype(s.dtype)):
        if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
            return s.astype(object).where(s.notna(), None).tolist()
        return None
    if t is T.INT and kind in ("i", "u"):
        return s.tolist()
    if t is T.REAL and kind == "f":
        return s.astype(object).where(s.notna(), None).tolist()
    if t is T.BOOL and kind == "b":
        return s.to_numpy().astype(np.int64).tolist()
    return None


def _gpkg_datetimes(s: pd.Series) -> list[Any]:
    """DATETIME values as the GeoPackage writes them (Req 5: ``YYYY-MM-DDTHH:MM:SS.SSSZ``, UTC); a naive value
    is taken as UTC. Text that is no time at all is kept as it is (nothing is lost; the validator would say)."""
    if len(s) == 0:
        return []
    if pd.api.types.is_datetime64_any_dtype(s):
        d = s.dt.tz_convert(None) if getattr(s.dt, "tz", None) is not None else s
        return _iso_texts(d, "ms", "Z")
    else:
        raw = pd.Series(s, dtype=object).map(lambda v: v.isoformat() if isinstance(v, (datetime, date)) else v)
        d = pd.to_datetime(raw, errors="coerce", utc=True, format="ISO8601").dt.tz_convert(None)
    text = d.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str.slice(0, 23) + "Z"
    out = text.astype(object).where(d.notna(), None).tolist()
    if not pd.api.types.is_datetime64_any_dtype(s):
        orig = s.tolist()
        out = [o if o is not None else (None if v is None or v is pd.NA or v is pd.NaT or
                                        (isinstance(v, float) and np.isnan(v)) else str(v))
               for o, v in zip(out, orig, strict=True)]
    return out


def _iso_array(d: pd.Series, unit: str, suffix: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Naive datetimes as ISO 8601 text cut to ``unit`` (numpy, not a strftime a value: the same text, floored
    as strftime floors), ``suffix`` appended, and where they are NaT."""
    v = d.to_numpy(dtype=f"datetime64[{unit}]")
    text = np.datetime_as_string(v, unit=unit)
    if suffix:
        text = np.strings.add(text, suffix)
    return text, np.isnat(v)


#: the ISO 8601 layout of each unit :func:`_iso_arrow` writes: (field, first byte, digits) after the date
_ISO_TIME = {"D": (), "s": (("h", 11, 2), ("m", 14, 2), ("s", 17, 2)),
             "ms": (("h", 11, 2), ("m", 14, 2), ("s", 17, 2), ("f", 20, 3))}
_ISO_WIDTH = {"D": 10, "s": 19, "ms": 23}
#: the instants :func:`_iso_arrow` writes itself (four-digit years); others go through numpy's text
_ISO_LO = np.datetime64("0001-01-01", "D")
_ISO_HI = np.datetime64("10000-01-01", "D")
#: rows of the byte matrix :func:`_iso_arrow` writes at a time (a slice stays in the processor's cache)
_ISO_ROWS = 1 << 15


def _iso_arrow(d: pd.Series, unit: str, suffix: str = "") -> Any:
    """:func:`_iso_array` as an Arrow string array, NULL where NaT: the same text, its digits written by integer
    arithmetic into one byte matrix that becomes the array's data. (``np.datetime_as_string`` makes 42 UTF-32
    characters a value, and appending the suffix to those took 3 µs a value: 20 s for the demo city's audit
    log of 6.3 M rows; this takes about 0.25 µs.) Years outside 1-9999 and other units go numpy's way."""
    import pyarrow as pa

    v = d.to_numpy(dtype=f"datetime64[{unit}]")
    missing = np.isnat(v)
    n = len(v)
    days = v.astype("datetime64[D]")
    present = days[~missing]
    if unit not in _ISO_WIDTH or not suffix.isascii() or \
            (len(present) and (present.min() < _ISO_LO or present.max() >= _ISO_HI)):
        text, missing = _iso_array(d, unit, suffix)
        return pa.array(text, type=pa.string(), mask=missing)
    if missing.any():
        days = np.where(missing, np.datetime64("1970-01-01", "D"), days)
        v = np.where(missing, np.datetime64(0, unit), v)
    width = _ISO_WIDTH[unit] + len(suffix)
    out = np.empty((n, width), dtype=np.uint8)
    for start in range(0, n, _ISO_ROWS):  # a slice of rows at a time: each column written while it is in cache
        _iso_digits(out[start:start + _ISO_ROWS], v[start:start + _ISO_ROWS], days[start:start + _ISO_ROWS],
                    unit, suffix)
    offsets = np.arange(0, width * (n + 1), width, dtype=np.int64)
    valid = pa.py_buffer(np.packbits(~missing, bitorder="little")) if missing.any() else None
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(out), valid,
                                            int(missing.sum())).cast(pa.string())


def _iso_digits(out: np.ndarray, v: np.ndarray, days: np.ndarray, unit: str, suffix: str) -> None:
    """Write the ISO text of the instants ``v`` (their days ``days``) into the byte matrix ``out``, a row each."""
    def put(first: int, value: np.ndarray, digits: int) -> None:
        for j in range(digits - 1, -1, -1):
            out[:, first + j] = 48 + value % 10
            value = value // 10

    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    put(0, years.astype(np.int64) + 1970, 4)
    put(5, (months - years.astype("datetime64[M]")).astype(np.int64) + 1, 2)
    put(8, (days - months.astype("datetime64[D]")).astype(np.int64) + 1, 2)
    out[:, 4] = out[:, 7] = ord("-")
    if unit != "D":
        per_s = 1000 if unit == "ms" else 1
        within = (v - days.astype(v.dtype)).astype(np.int64)  # units since the day began (the day is floored)
        seconds = within // per_s
        fields = {"h": seconds // 3600, "m": seconds // 60 % 60, "s": seconds % 60, "f": within % per_s}
        for name, first, digits in _ISO_TIME[unit]:
            put(first, fields[name], digits)
        out[:, 10] = ord("T")
        out[:, 13] = out[:, 16] = ord(":")
        if unit == "ms":
            out[:, 19] = ord(".")
    for k, ch in enumerate(suffix.encode()):
        out[:, _ISO_WIDTH[unit] + k] = ch


def _iso_texts(d: pd.Series, unit: str, suffix: str = "") -> list[str | None]:
    """:func:`_iso_array` as a list, NaT as None."""
    text, missing = _iso_array(d, unit, suffix)
    out = text.tolist()
    for i in np.flatnonzero(missing).tolist():
        out[i] = None
    return out


def _to_sql_values(series: pd.Series, t: T) -> list[Any]:
    """Python values for sqlite from a column, NULL for missing."""
    s = series
    if t is T.DATETIME:
        return _gpkg_datetimes(s)
    if t in (T.DATE, T.DATETIME):
        if pd.api.types.is_datetime64_any_dtype(s):
            d = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
            return _iso_texts(d, "D")
        vals = []
        for v in s.tolist():
            if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT or v is pd.NA:
                vals.append(None)
            elif isinstance(v, datetime):
                vals.append(v.strftime("%Y-%m-%d") if t is T.DATE else v.replace(microsecond=0).isoformat())
            elif isinstance(v, date):
                vals.append(v.isoformat())
            else:
                vals.append(str(v))
        return vals
    if t is T.BLOB:
        return [None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else bytes(v)
                for v in s.tolist()]
    fast = _fast_sql_values(s, t)
    if fast is not None:
        return fast
    vals = s.tolist()
    out: list[Any] = []
    for v in vals:
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
            out.append(None)
        elif t is T.BOOL:
            out.append(1 if bool(v) else 0)
        elif t is T.INT:
            out.append(int(v))
        elif t is T.REAL:
            out.append(float(v))
        else:
            out.append(str(v))
    return out


def _to_arrow(series: pd.Series, t: T) -> Any:
    """The column as an Arrow array holding exactly what :func:`_to_sql_values` gives (the staged bulk insert,
    :class:`_Stage`): straight from the column's buffers for the common types, else through those values."""
    import pyarrow as pa

    s = series
    kind = s.dtype.kind if isinstance(s.dtype, np.dtype) else None
    if t is T.TEXT and isinstance(s.dtype, pd.StringDtype):
        return pa.array(s.array, from_pandas=True).cast(pa.string())
    if t is T.TEXT and kind == "O" and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        return pa.array(s.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    if t is T.INT and kind in ("i", "u"):
        return pa.array(s.to_numpy(), type=pa.int64())
    if t is T.REAL and kind == "f":
        return pa.array(s.to_numpy(dtype=np.float64), type=pa.float64(), from_pandas=True)
    if t is T.BOOL and kind == "b":
        return pa.array(s.to_numpy().astype(np.int64), type=pa.int64())
    if t in (T.DATE, T.DATETIME) and pd.api.types.is_datetime64_any_dtype(s) and len(s):
        d = s
        if getattr(s.dt, "tz", None) is not None:  # as _to_sql_values: an instant in UTC, a date on its own clock
            d = s.dt.tz_convert(None) if t is T.DATETIME else s.dt.tz_localize(None)
        return _iso_arrow(d, "ms", "Z") if t is T.DATETIME else _iso_arrow(d, "D")
    return pa.array(_to_sql_values(s, t), type=getattr(pa, _ARROW_SQL_TYPES[t])())


#: how long a read waits for a lock another process holds before it answers StoreBusy. In WAL mode a reader
#: waits only for a program that took the whole file (exclusive locking mode, VACUUM, a rollback-journal
#: writer), so a short wait keeps every worker thread free instead of queueing them all behind that program.
READ_BUSY_TIMEOUT_S = 1.0
#: a write waits longer for another writer to finish
WRITE_BUSY_TIMEOUT_S = 30.0


def _is_busy(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" (SQLITE_BUSY / SQLITE_LOCKED), from sqlite3 or from GDAL."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(exc).lower()
    return "database is locked" in text or "database table is locked" in text


_INSERT_CHUNK = 100_000
#: an insert of at least this many rows into an empty table builds the table's secondary indexes after its rows
_INDEX_AFTER_ROWS = 50_000
#: page cache of a writing connection (KiB, negative = size): big imports insert into several indexes
_WRITE_CACHE_KIB = 256 * 1024
#: page cache while an index is built after a bulk load (KiB): SQLite's sorter sorts runs of this size in memory,
#: writes them to temporary files and merges them. Small runs stay in the CPU's caches: the demo audit log's
#: record_id index (6.3 M rows) took 3.0 s with 2 MB runs, 5.6 s with 32 MB and 11.7 s with the write cache's
#: 256 MB kept in memory (temp_store = MEMORY, one run), 2.5 s with 8 MB runs sorted by two helper threads
_SORT_CACHE_KIB = 8 * 1024


@contextmanager
def _sorting(con: sqlite3.Connection) -> Iterator[None]:
    """Around ``CREATE INDEX`` of a big table on ``con``: SQLite's sorter in small runs spilled to temporary files
    (``temp_store = FILE``, the cache at ``_SORT_CACHE_KIB``; SQLite's temporary directory, ``SQLITE_TMPDIR``,
    needs room for about the index's size) sorted by helper threads (``PRAGMA threads``, one per core up to 4).
    The connection's cache, temp store and threads as they were afterwards."""
    before = [(name, con.execute(f"PRAGMA {name}").fetchone()[0]) for name in ("cache_size", "temp_store", "threads")]
    con.execute(f"PRAGMA cache_size = -{_SORT_CACHE_KIB}")
    con.execute("PRAGMA temp_store = FILE")
    con.execute(f"PRAGMA threads = {min(4, os.cpu_count() or 1)}")
    try:
        yield
    finally:
        for name, value in before:
            con.execute(f"PRAGMA {name} = {int(value)}")


@contextmanager
def _no_cycle_collection(active: bool = True) -> Iterator[None]:
    """Python's cycle collector paused (``gc.disable``) during a big insert: its million parameter tuples would
    set it off again and again, each time walking every object of the process (a city in memory is tens of
    millions), a tenth of the write; nothing here makes cycles. Enabled again afterwards if it was."""
    was = active and gc.isenabled()
    if was:
        gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


#: an insert of at least this many rows goes through a scratch file (:class:`_Stage`) when the ADBC SQLite
#: driver is there; below it ``executemany`` costs less than making the file
STAGE_MIN_ROWS = 50_000
#: the last scratch files of a transaction are kept for big inserts (at least ``_STAGE_RESERVED_MIN_ROWS`` rows):
#: a file stays attached until the transaction ends (SQLite refuses to detach a file a transaction has read), and
#: a connection attaches at most ``SQLITE_LIMIT_ATTACHED`` files (10 in Debian's and Python's builds), so one
#: transaction that writes many tables (the demo city writes 9 of 50,000 rows or more) must not spend them all on
#: its first, smaller tables
_STAGE_RESERVED = 2
_STAGE_RESERVED_MIN_ROWS = 500_000


def _adbc_sqlite() -> Any:
    """``adbc_driver_sqlite.dbapi`` (a requirement), or None where it cannot be imported (then every insert
    binds its rows through ``executemany``: slower, the same rows)."""
    try:
        import adbc_driver_sqlite.dbapi as adbc
    except ImportError:  # pragma: no cover - installed with requirements.txt
        return None
    return adbc


def _duplicate(schema: Layer, exc: Exception) -> StoreError:
    return StoreError(f"写入图层 {schema.name} 违反唯一约束（编号重复）：{exc} "
                      f"(writing layer {schema.name} violates a unique constraint, a duplicate id: {exc})")


class _Stage:
    """A bulk insert staged in a scratch SQLite file, then copied in by one ``INSERT … SELECT``.

    ``executemany`` hands sqlite3 every value of every row from Python, one C call per value: most of a bulk
    insert's time. Here each chunk's columns (the very values ``executemany`` would bind, from
    ``_to_sql_values``) become Arrow arrays that ADBC's SQLite driver writes into a table of the scratch file in C,
    on a helper thread while the next chunk is converted. At the end the file is attached to the transaction's
    connection and its rows go into the layer's table in one statement, in their order, inside the transaction:
    the table's types, constraints, triggers and the transaction's all-or-nothing are SQLite's as before (a
    failed or rejected write leaves the store as it was; the scratch file is removed when the transaction ends).
    The file lies beside the store (the same filesystem, which the write needs room on anyway), hidden."""

    #: the rows go straight into the layer's table (:class:`_DirectStage`), not into a scratch file
    direct = False

    def __init__(self, con: sqlite3.Connection, path: Path, number: int = 0):
        from concurrent.futures import ThreadPoolExecutor

        self.path = path
        self.con = con
        self.alias = f"riskmap_bulk_{number}"
        self.names: list[str] | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="riskmap-bulk")
        self._pending: Any = None
        self._adbc: Any = None
        self._done = False
        #: the fid the next staged chunk starts at (0: ask the table), where the insert gives fids itself
        self.next_fid = 0

    @classmethod
    def beside(cls, con: sqlite3.Connection, store: Path, number: int) -> _Stage:
        """A stage in a new hidden scratch file beside the store (OSError when none can be made)."""
        import tempfile

        fd, name = tempfile.mkstemp(prefix=f".{store.name}.bulk-", suffix=".sqlite", dir=store.parent)
        os.close(fd)
        return cls(con, Path(name), number)

    def __enter__(self) -> _Stage:
        return self

    def __exit__(self, *exc: object) -> None:
        self._finish(wait=exc[0] is None)

    # -- what a direct stage does otherwise ------------------------------------------------------
    def _open(self) -> Any:  # on the helper thread
        return _adbc_sqlite().connect(str(self.path))  # one transaction: one fsync at the end

    def _columns(self, names: list[str]) -> list[str]:
        return [f"c{i}" for i in range(len(names))]

    def _write(self, cur: Any, table: Any) -> None:  # on the helper thread
        cur.adbc_ingest("rows", table, mode="create_append")

    def _commit(self, con: Any) -> None:  # on the helper thread
        con.commit()

    # --------------------------------------------------------------------------------------------------
    def _ingest(self, table: Any) -> None:  # on the helper thread
        if self._adbc is None:
            self._adbc = self._open()
        with self._adbc.cursor() as cur:
            self._write(cur, table)

    def add(self, names: list[str], arrays: list[Any]) -> None:
        """Stage one chunk: an Arrow array per column of ``names``."""
        import pyarrow as pa

        if self.names is None:
            self.names = names
        elif names != self.names:
            raise StoreError(f"bulk insert: the chunks' columns differ ({names} / {self.names})")
        table = pa.table(arrays, names=self._columns(names))
        if self._pending is not None:
            self._pending.result()  # one chunk written while the next is converted: bounded memory
        self._pending = self._pool.submit(self._ingest, table)

    def _finish(self, *, wait: bool) -> None:
        """The last chunk written and the scratch file's connection closed (committed when ``wait``: the rows
        are about to be copied; else only closed, after an error). Once."""
        if self._done:
            return
        self._done = True
        pending, self._pending = self._pending, None
        try:
            if pending is not None:
                try:
                    pending.result()
                except BaseException:
                    if wait:
                        raise
            self._pool.submit(self._close, wait).result()
        finally:
            self._pool.shutdown()

    def _close(self, commit: bool) -> None:  # on the helper thread
        if self._adbc is not None:
            con, self._adbc = self._adbc, None
            try:
                if commit:
                    self._commit(con)
            finally:
                con.close()

    def copy_into(self, schema: Layer, verb: str) -> None:
        """The staged rows into ``schema``'s table (in the transaction of ``self.con``)."""
        self._finish(wait=True)
        if self.names is None:
            return
        self.con.execute("ATTACH DATABASE ? AS " + self.alias, (str(self.path),))
        cols = ", ".join(_q(n) for n in self.names)
        staged = ", ".join(f"c{i}" for i in range(len(self.names)))
        try:
            self.con.execute(f"{verb} INTO main.{_q(schema.name)} ({cols}) "
                             f"SELECT {staged} FROM {self.alias}.rows ORDER BY rowid")
        except sqlite3.IntegrityError as exc:
            raise _duplicate(schema, exc) from exc

    def remove(self) -> None:
        """The scratch file gone (after the transaction's connection, which attached it, is closed)."""
        for p in (self.path, self.path.with_name(self.path.name + "-journal")):
            p.unlink(missing_ok=True)


class _DirectStage(_Stage):
    """A bulk ``INSERT`` that ADBC's SQLite driver writes straight into ``table`` of the store's own file, a file
    nobody else can see yet (:func:`write_new`): no scratch file, no copy. The transaction's connection commits
    before and holds no lock while ADBC writes (see :meth:`_GpkgTransaction._insert`); ADBC writes as that
    connection does, with no journal, in one transaction of its own."""

    direct = True

    def __init__(self, con: sqlite3.Connection, path: Path, table: str):
        super().__init__(con, path)
        self.table = table

    def _open(self) -> Any:  # on the helper thread; (pragmas outside a transaction, then one transaction)
        con = _adbc_sqlite().connect(str(self.path), autocommit=True)
        with con.cursor() as cur:
            cur.execute("PRAGMA journal_mode = OFF")
            cur.fetchall()
            cur.execute("PRAGMA synchronous = OFF")
            cur.execute("BEGIN IMMEDIATE")   # committed by _commit
        return con

    def _columns(self, names: list[str]) -> list[str]:
        return names

    def _write(self, cur: Any, table: Any) -> None:
        cur.adbc_ingest(self.table, table, mode="append")

    def _commit(self, con: Any) -> None:
        with con.cursor() as cur:
            cur.execute("COMMIT")

    def copy_into(self, schema: Layer, verb: str) -> None:
        """Nothing to copy: the rows are in the table once ADBC has committed them."""
        try:
            self._finish(wait=True)
        except Exception as exc:
            if "UNIQUE" in str(exc).upper():
                raise _duplicate(schema, exc) from exc
            raise StoreError(f"写入图层 {schema.name} 失败：{exc} (writing layer {schema.name} failed: {exc})"
                             ) from exc

    def remove(self) -> None:
        """Nothing to remove (the rows are in the store's own file)."""


class _GpkgTransaction(Transaction):
    def __init__(self, store: GeoPackageStore, con: sqlite3.Connection):
        self.store = store
        self.con = con
        self.touched: set[str] = set()
        #: the scratch files of this transaction's bulk inserts (removed when it ends)
        self.stages: list[_Stage] = []
        #: per table the ids this transaction wrote (added, changed, deleted); None = unknown or too many
        self.changed: dict[str, set[str] | None] = {}

    def _mark(self, table: str, ids: Iterable[Any] | None) -> None:
        """Note that ``ids`` of ``table`` were written (None: some rows, which ones is not said)."""
        self.touched.add(table)
        if table in self.changed and self.changed[table] is None:
            return
        if ids is None:
            self.changed[table] = None
            return
        have = self.changed.setdefault(table, set())
        have.update(str(i) for i in ids)
        if len(have) > CHANGE_LOG_IDS:
            self.changed[table] = None

    def _rows(self, schema: Layer, frame: pd.DataFrame, geoms: np.ndarray | None = None,
              fids: np.ndarray | None = None) -> tuple[list[str], Iterator[tuple]]:
        names, data = self._columns(schema, frame, geoms, fids)
        return names, zip(*data, strict=True) if data else iter([])

    def _written(self, schema: Layer, frame: pd.DataFrame) -> list[str]:
        """The frame's columns in the layer's order (an unknown one is refused)."""
        unknown = [c for c in frame.columns if c not in schema.names and c != "geometry"]
        if unknown:
            raise StoreError(f"图层 {schema.name} 没有列 {unknown} (layer {schema.name} has no columns {unknown})")
        return [c for c in schema.names if c in frame.columns]

    def _columns(self, schema: Layer, frame: pd.DataFrame, geoms: np.ndarray | None = None,
                 fids: np.ndarray | None = None, *, arrow: bool = False) -> tuple[list[str], list[Any]]:
        """The column names written and, per column, its values as sqlite takes them (``_to_sql_values``), or
        with ``arrow`` the same values as Arrow arrays (:func:`_to_arrow`, for :class:`_Stage`)."""
        import pyarrow as pa

        cols = self._written(schema, frame)
        try:
            data: list[Any] = [(_to_arrow if arrow else _to_sql_values)(frame[c], schema.column(c).type)
                               for c in cols]
        except (pa.ArrowException, OverflowError) as exc:  # an integer beyond 64 bits: sqlite refuses it too
            raise StoreError(f"图层 {schema.name} 有值无法存入：{exc} (layer {schema.name} has a value that "
                             f"cannot be stored: {exc})") from exc
        names = list(cols)
        if geoms is not None:
            blobs = to_gpkg_blobs(geoms)
            data.append(pa.array(blobs, type=pa.binary()) if arrow else blobs)
            names.append("geom")
        if fids is not None:
            data.append(pa.array(fids, type=pa.int64()) if arrow else fids.tolist())
            names.append("fid")
        return names, data

    def _insert(self, schema: Layer, frame: pd.DataFrame, verb: str = "INSERT") -> int:
        if len(frame) == 0:
            return 0
        indexed = schema.spatial and "geometry" in frame.columns and rtree.has_index(self.con, schema.name)
        # an empty R-tree is packed once at the end from every chunk's boxes (rtree.bulk_load), not box by box
        packed: list[tuple[np.ndarray, np.ndarray]] | None = \
            [] if indexed and rtree.is_empty(self.con, schema.name) else None
        n = 0
        stage = self._stage(len(frame), schema.name if verb == "INSERT" else None)
        with rtree.triggers_off(self.con, schema.name, "insert") if indexed else nullcontext(), \
                self._indexes_after(schema, len(frame)), _no_cycle_collection(len(frame) >= _INDEX_AFTER_ROWS), \
                stage if stage is not None else nullcontext():
            if stage is not None and stage.direct:
                # (the file's own connection lets go of it: the table, its R-tree triggers and indexes dropped,
                # as it is; ADBC's connection writes the rows into it and commits; then this one goes on)
                self.con.execute("COMMIT")
            for start in range(0, len(frame), _INSERT_CHUNK):  # bounded memory for a million rows
                n += self._insert_chunk(schema, frame.iloc[start:start + _INSERT_CHUNK], verb, indexed=indexed,
                                        packed=packed, stage=stage)
            if stage is not None:
                stage.copy_into(schema, verb)
                if stage.direct:
                    self.con.execute("PRAGMA shrink_memory")  # (no page cached from before ADBC's write is read)
                    self.con.execute("BEGIN IMMEDIATE")
            if packed:
                rtree.bulk_load(self.con, schema.name, np.concatenate([p[0] for p in packed]),
                                np.concatenate([p[1] for p in packed]))
        return n

    @contextmanager
    def _indexes_after(self, schema: Layer, rows: int) -> Iterator[None]:
        """Around a big insert into an empty table: its secondary indexes dropped first and built again after the
        rows are in (one sort each instead of a B-tree insert a row), inside this transaction, so no other
        connection ever sees the table without them. A smaller insert, or one into a table with rows, keeps them.
        The UNIQUE indexes stay (they are part of the table and check every row)."""
        if rows < _INDEX_AFTER_ROWS or self.con.execute(f"SELECT 1 FROM {_q(schema.name)} LIMIT 1").fetchone():
            yield
            return
        indexes = self.con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                                   "AND sql IS NOT NULL", (schema.name,)).fetchall()
        for name, _ in indexes:
            self.con.execute(f"DROP INDEX {_q(name)}")
        try:
            yield
        finally:
            if self.con.in_transaction:  # (SQLite's own rollback of a failed transaction brought them back)
                with _sorting(self.con):
                    for _, sql in indexes:
                        self.con.execute(sql)

    def _next_fid(self, table: str) -> int:
        """The fid SQLite's AUTOINCREMENT would give the next row of ``table``."""
        return int(self.con.execute(
            f"SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?), 0), "
            f"COALESCE((SELECT MAX(fid) FROM {_q(table)}), 0)) + 1", (table,)).fetchone()[0])

    def _stage(self, rows: int, table: str | None = None) -> _Stage | None:
        """A scratch file for a bulk insert of ``rows`` rows (see :class:`_Stage`), or None for the plain
        ``executemany`` (a small insert, no ADBC SQLite driver, SQLite's limit of attached files reached, or no
        scratch file can be made beside the store). Into a file :func:`write_new` writes, a plain ``INSERT`` into
        ``table`` is written by ADBC straight into the file (no scratch file, no limit)."""
        if rows < STAGE_MIN_ROWS or _adbc_sqlite() is None:
            return None
        if self.store._unjournaled and table is not None:
            stage: _Stage = _DirectStage(self.con, self.store.path, table)
            self.stages.append(stage)
            return stage
        free = self.con.getlimit(sqlite3.SQLITE_LIMIT_ATTACHED) - sum(not st.direct for st in self.stages)
        if free <= 0 or (free <= _STAGE_RESERVED and rows < _STAGE_RESERVED_MIN_ROWS):
            return None
        try:
            stage = _Stage.beside(self.con, self.store.path, len(self.stages))
        except OSError as exc:
            log.info("bulk insert without a scratch file (%s): rows bound one by one", exc)
            return None
        self.stages.append(stage)
        return stage

    def _insert_chunk(self, schema: Layer, frame: pd.DataFrame, verb: str, *, indexed: bool = False,
                      packed: list[tuple[np.ndarray, np.ndarray]] | None = None, stage: _Stage | None = None) -> int:
        geoms = fids = None
        if schema.spatial and "geometry" in frame.columns:
            g = frame.geometry.values if isinstance(frame, gpd.GeoDataFrame) else frame["geometry"].values
            geoms = np.asarray(g, dtype=object)
        if indexed:  # the R-tree's insert trigger is off: the rows get known fids and their boxes go in below
            # (staged rows are not in the table yet: the stage counts on from its first chunk's fid)
            start = stage.next_fid if stage is not None and stage.next_fid else self._next_fid(schema.name)
            fids = np.arange(start, start + len(frame), dtype=np.int64)
            if stage is not None:
                stage.next_fid = start + len(frame)
        if stage is not None:
            stage.add(*self._columns(schema, frame, geoms, fids, arrow=True))
        else:
            names, rows = self._rows(schema, frame, geoms, fids)
            sql = (f"{verb} INTO {_q(schema.name)} ({', '.join(_q(n) for n in names)}) "
                   f"VALUES ({', '.join('?' for _ in names)})")
            try:
                self.con.executemany(sql, rows)
            except sqlite3.IntegrityError as exc:
                raise _duplicate(schema, exc) from exc
        if indexed and packed is not None:
            packed.append(rtree.boxes(fids, geoms))
        elif indexed:
            rtree.add(self.con, schema.name, fids, geoms)
        idc = schema.id_column
        if not (schema.name in self.changed and self.changed[schema.name] is None):  # (a replace: all rows)
            self._mark(schema.name, frame[idc].tolist() if idc is not None and idc in frame.columns else None)
        return len(frame)

    def append(self, layer: str, frame: pd.DataFrame) -> int:
        return self._insert(layer_schema(layer), frame)

    def replace(self, layer: str, frame: pd.DataFrame) -> int:
        schema = layer_schema(layer)
        if schema.spatial and rtree.has_index(self.con, schema.name):
            with rtree.triggers_off(self.con, schema.name, "delete"):  # one emptied index, not a delete a row
                self.con.execute(f"DELETE FROM {_q(schema.name)}")
                rtree.clear(self.con, schema.name)
        else:
            self.con.execute(f"DELETE FROM {_q(schema.name)}")
        self._mark(schema.name, None)
        return self._insert(schema, frame)

    def upsert(self, layer: str, frame: pd.DataFrame) -> int:
        schema = layer_schema(layer)
        if schema.id_column is None:
            raise StoreError(f"layer {layer} has no id column to upsert on")
        if len(frame):
            self.delete(layer, frame[schema.id_column].astype(str).tolist())
        return self._insert(schema, frame)

    def update(self, layer: str, ids: Iterable[str], values: Mapping[str, Any]) -> int:
        schema = layer_schema(layer)
        ids = [str(i) for i in ids]
        if not ids or not values:
            return 0
        sets, params = [], []
        for k, v in values.items():
            col = schema.column(k)
            sets.append(f"{_q(k)} = ?")
            params.append(_to_sql_values(pd.Series([v], dtype=object), col.type)[0])
        n = 0
        for chunk in _chunks(ids, 500):
            cur = self.con.execute(
                f"UPDATE {_q(schema.name)} SET {', '.join(sets)} WHERE {_q(schema.id_column)} IN "
                f"({', '.join('?' for _ in chunk)})", [*params, *chunk])
            n += cur.rowcount
        self._mark(schema.name, ids)
        return n

    def update_versioned(self, layer: str, record_id: str, expected_version: int | None,
                         values: Mapping[str, Any]) -> int:
        schema = layer_schema(layer)
        if not schema.versioned:
            raise StoreError(f"layer {layer} has no version column")
        sets, params = [], []
        for k, v in values.items():
            if k == "version":
                continue
            sets.append(f"{_q(k)} = ?")
            params.append(_to_sql_values(pd.Series([v], dtype=object), schema.column(k).type)[0])
        sets.append('"version" = COALESCE("version", 0) + 1')
        expected = int(expected_version or 0)
        cur = self.con.execute(
            f"UPDATE {_q(schema.name)} SET {', '.join(sets)} WHERE {_q(schema.id_column)} = ? "
            'AND COALESCE("version", 0) = ?', [*params, str(record_id), expected])
        if cur.rowcount != 1:
            row = self.con.execute(f'SELECT COALESCE("version", 0) FROM {_q(schema.name)} '
                                   f"WHERE {_q(schema.id_column)} = ?", (str(record_id),)).fetchone()
            if row is None:
                raise StoreError(f"{schema.zh} {record_id} 不存在 ({schema.en} {record_id} does not exist)")
            raise EditConflict(
                f"{schema.zh} {record_id} 已被他人修改（您打开的是第 {expected} 版，现在是第 {row[0]} 版），"
                f"您的修改未保存；请重新打开后再改 ({schema.en} {record_id} was changed by someone else (you opened "
                f"version {expected}, it is now version {row[0]}); your change was not saved: reopen it and try "
                "again)")
        self._mark(schema.name, [record_id])
        return expected + 1

    def delete(self, layer: str, ids: Iterable[str]) -> int:
        schema = layer_schema(layer)
        n = 0
        ids = [str(i) for i in ids]
        for chunk in _chunks(ids, 500):
            cur = self.con.execute(
                f"DELETE FROM {_q(schema.name)} WHERE {_q(schema.id_column)} IN ({', '.join('?' for _ in chunk)})",
                chunk)
            n += cur.rowcount
        self._mark(schema.name, ids)
        return n

    def quarantine(self, rows: pd.DataFrame) -> int:
        """Rows with columns layer, source, row, field, reason_zh, reason_en, raw (dict or JSON)."""
        if len(rows) == 0:
            return 0
        recs = quarantine_records(rows, _now())
        self.con.executemany(
            f"INSERT INTO {QUARANTINE} ({', '.join(QUARANTINE_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in QUARANTINE_COLUMNS)})", recs)
        self.touched.add(QUARANTINE)
        return len(recs)

    def log_import(self, record: Mapping[str, Any]) -> None:
        self.con.execute(
            f"INSERT INTO {IMPORTS} ({', '.join(IMPORT_LOG_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in IMPORT_LOG_COLUMNS)})", import_log_row(record, _now()))
        self.con.execute(f"INSERT OR REPLACE INTO {META} (key, value) VALUES ('last_import', ?)", (_now(),))

    # -- what copy-store needs (both stores have these; not part of the interface) --------------------
    def restore_bookkeeping(self, quarantined: pd.DataFrame, imports: pd.DataFrame,
                            meta: Mapping[str, str | None]) -> None:
        """Replace the quarantine and the import log with these rows as they are (their times kept), and set
        ``last_import`` from ``meta``: a copy of another store's bookkeeping (``layers.store.copy``)."""
        def plain(v: Any, integer: bool = False) -> Any:
            if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
                return None
            return int(v) if integer else v

        q_cols = ["layer", "source", "row", "field", "reason_zh", "reason_en", "raw", "imported_at"]
        i_cols = ["layer", "source", "mode", "rows_read", "written", "quarantined", "fixed", "at", "report"]
        ints = {"row", "rows_read", "written", "quarantined", "fixed"}
        self.con.execute(f"DELETE FROM {QUARANTINE}")
        self.con.execute(f"DELETE FROM {IMPORTS}")
        for table, cols, frame in ((QUARANTINE, q_cols, quarantined), (IMPORTS, i_cols, imports)):
            rows = [tuple(plain(v, c in ints) for c, v in zip(cols, r, strict=True))
                    for r in frame[cols].itertuples(index=False)]
            self.con.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                                 rows)
        if meta.get("last_import"):
            self.con.execute(f"INSERT OR REPLACE INTO {META} (key, value) VALUES ('last_import', ?)",
                             (meta["last_import"],))
        self.touched.update({QUARANTINE, IMPORTS})

    def advance_data_version(self, at_least: int) -> None:
        """Make the data version after this transaction greater than ``at_least`` (a copied store moves on)."""
        self.con.execute(f"INSERT OR IGNORE INTO {META} (key, value) VALUES ('data_version', '0')")
        self.con.execute(f"UPDATE {META} SET value = MAX(CAST(value AS INTEGER), ?) WHERE key = 'data_version'",
                         (int(at_least),))
        self.touched.add(META)


def _chunks(seq: list, n: int) -> Iterator[list]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def _refuse_network_filesystem(path: Path) -> None:
    fstype = filesystem_type(path.parent)
    if is_network_filesystem(fstype):
        raise StoreError(
            f"存储文件 {path} 位于网络文件系统（{fstype}）上，SQLite 的 WAL 模式在网络文件系统上无法工作（会锁不住、"
            f"损坏文件）。请把存储放在本机磁盘上 (the store {path} is on a network filesystem ({fstype}), where "
            "SQLite's WAL mode cannot work: locks fail and the file can be corrupted. Put the store on a local disk)")


class GeoPackageStore(Store):
    """The embedded default store: one GeoPackage file."""

    def __init__(self, path: Path, *, create: bool = True, _unjournaled: bool = False):
        self.path = Path(path)
        self.url = str(self.path)
        #: a file nobody else can see yet, written whole by :func:`write_new`: no journal, no fsync
        self._unjournaled = _unjournaled
        if not self.path.exists() and not create:
            raise StoreError(f"存储文件不存在：{self.path} (store file not found: {self.path})")
        _refuse_network_filesystem(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._migrate()

    # -- connection -----------------------------------------------------------------------------
    def _connect(self, *, write: bool = False) -> sqlite3.Connection:
        """A connection that waits ``READ_BUSY_TIMEOUT_S`` for a lock (``WRITE_BUSY_TIMEOUT_S`` to write)."""
        timeout = WRITE_BUSY_TIMEOUT_S if write else READ_BUSY_TIMEOUT_S
        try:
            con = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"无法打开存储 {self.path}：{exc} (cannot open store {self.path}: {exc})") from exc
        try:
            con.execute("PRAGMA foreign_keys = OFF")
            if self._unjournaled:  # (write_new: a failed write deletes the file, so nothing is kept to undo)
                con.execute("PRAGMA journal_mode = OFF").fetchone()
                con.execute("PRAGMA synchronous = OFF")
            else:
                con.execute("PRAGMA synchronous = NORMAL")  # with WAL: durable at checkpoint, never corrupt
            rtree.register_functions(con)  # what the R-tree triggers call
        except sqlite3.DatabaseError as exc:
            con.close()
            if _is_busy(exc):
                raise StoreBusy() from exc
            raise StoreError(f"{self.path} 不是 GeoPackage/SQLite 文件 ({self.path} is not a GeoPackage: {exc})"
                             ) from exc
        return con

    def _ensure_wal(self, con: sqlite3.Connection) -> None:
        """Put the file in WAL mode (kept in the file; a no-op when it already is). Not while :func:`write_new`
        writes it, which puts it in WAL mode at the end."""
        if self._unjournaled:
            return
        if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal" and \
                con.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
            raise StoreError(f"无法把存储 {self.path} 切换到 WAL 模式 (cannot put the store {self.path} in WAL mode)")

    @contextmanager
    def _con(self) -> Iterator[sqlite3.Connection]:
        """A read connection; a lock held too long by another process comes out as :class:`StoreBusy`.

        (Each read opens and closes its own: a connection kept open would keep the last commits in the WAL
        file, so a copy of the .gpkg alone, the usual backup, would miss them.)"""
        con = self._connect()
        try:
            yield con
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise StoreBusy() from exc
            raise
        finally:
            con.close()

    # -- schema -----------------------------------------------------------------------------------
    def _migrate(self) -> None:
        try:   # this file (path and inode) found whole and up to date by this process before: nothing to ask
            if (str(self.path.resolve()), self.path.stat().st_ino) in _VERIFIED:
                return
        except OSError:
            pass
        with self._con() as con:
            try:
                app_id = con.execute("PRAGMA application_id").fetchone()[0]
                tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            except sqlite3.DatabaseError as exc:
                if _is_busy(exc):
                    raise StoreBusy() from exc
                raise StoreError(f"{self.path} 不是 GeoPackage/SQLite 文件 ({self.path} is not a GeoPackage: {exc})"
                                 ) from exc
            if tables and app_id != GPKG_APPLICATION_ID and "gpkg_contents" not in tables:
                raise StoreError(f"{self.path} 不是 GeoPackage 文件 ({self.path} is not a GeoPackage file)")
            self._ensure_wal(con)
            key = (str(self.path.resolve()), self.path.stat().st_ino)
            if key in _VERIFIED:
                return
            if VERSIONS in tables and _up_to_date(con, tables):
                _VERIFIED.add(key)
                return
            con.execute(f"PRAGMA busy_timeout = {int(WRITE_BUSY_TIMEOUT_S * 1000)}")  # migrating is writing
            con.execute("BEGIN IMMEDIATE")
            try:
                current = 0
                if VERSIONS in tables:
                    current = con.execute(f"SELECT COALESCE(MAX(version), 0) FROM {VERSIONS}").fetchone()[0]
                if current > SCHEMA_VERSION:
                    raise StoreError(
                        f"存储的结构版本 {current} 比程序新 ({SCHEMA_VERSION})，请升级程序 "
                        f"(the store's schema version {current} is newer than this program's {SCHEMA_VERSION})")
                if not tables or "gpkg_contents" not in tables:
                    self._create_gpkg_core(con)
                for version, step in MIGRATIONS:
                    if version > current:
                        step(con)
                        con.execute(f"INSERT INTO {VERSIONS} (version, applied_at) VALUES (?, ?)", (version, _now()))
                _ensure_layers(con)  # additive: new layers and columns from the schema in code
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    @staticmethod
    def _create_gpkg_core(con: sqlite3.Connection) -> None:
        con.execute(f"PRAGMA application_id = {GPKG_APPLICATION_ID}")
        con.execute(f"PRAGMA user_version = {GPKG_USER_VERSION}")
        con.execute("""CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
            srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
            organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)""")
        con.executemany("INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", [
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
            ("WGS 84 geodetic", 4326, "EPSG", 4326, _WGS84_WKT, "longitude/latitude coordinates in decimal degrees"),
        ])
        con.execute("""CREATE TABLE IF NOT EXISTS gpkg_contents (
            table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
            description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
            CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""")
        con.execute("""CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
            table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
            srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
            CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
            CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
            CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""")

    # -- reads ------------------------------------------------------------------------------------
    def _columns_of(self, con: sqlite3.Connection, table: str) -> list[str]:
        return [r[1] for r in con.execute(f"PRAGMA table_info({_q(table)})")]

    def read(self, layer: str, *, columns: Sequence[str] | None = None, where: Mapping[str, Any] | None = None,
             ids: Iterable[str] | None = None) -> pd.DataFrame | gpd.GeoDataFrame:
        schema = layer_schema(layer)
        cols = list(columns) if columns is not None else schema.names
        want_geom = schema.spatial and (columns is None or "geometry" in cols)
        cols = [c for c in cols if c != "geometry"]
        for c in cols:
            schema.column(c)
        for k in where or {}:
            schema.column(k)
        id_list = None if ids is None else [str(i) for i in ids]
        blobs = any(schema.column(c).type is T.BLOB for c in cols)
        few = id_list is not None and len(id_list) <= ID_READ_MAX   # an indexed look-up, not a table scan
        if not blobs and not few and (cols or want_geom) and (id_list is None or schema.id_column is not None):
            largest = self._largest_fid(schema.name)
            big = largest >= ARROW_MIN_ROWS
            if big and largest < arrow.COLD_SQLITE_MAX_ROWS and not arrow.ready():
                arrow.warm()   # read here this once rather than wait for the readers to start
                big = False
            sql = arrow.where_sql(where, schema.id_column, id_list) if big else None
            if sql is not None:
                frame = self._read_arrow(schema, cols, want_geom, sql, largest_fid=largest)
                if frame is not None:
                    return frame
        return self._read_sqlite(schema, cols, want_geom, where, id_list)

    def _largest_fid(self, table: str) -> int:
        """An upper bound of the rows of ``table``, at the cost of one b-tree descent."""
        with self._con() as con:
            return int(con.execute(f"SELECT COALESCE(MAX(fid), 0) FROM {_q(table)}").fetchone()[0])

    def _read_arrow(self, schema: Layer, cols: list[str], want_geom: bool, where: str, *,
                    largest_fid: int = 0) -> pd.DataFrame | gpd.GeoDataFrame | None:
        """The rows through GDAL's Arrow stream; None (and a warning in the log) when GDAL cannot read them.

        A big table (``largest_fid``) is read in fid ranges by several reader processes, each in its own read
        transaction; the table's write stamp, the same before and after, says no write came between them (else
        it is read again in one piece, one snapshot)."""
        path = str(self.path)
        try:
            if largest_fid >= arrow.SPLIT_MIN_ROWS:
                before = self.table_stamps([schema.name])
                meta, table = arrow.read_table(path, schema.name, cols, want_geom, where or None,
                                               largest_fid=largest_fid)
                if self.table_stamps([schema.name]) != before:
                    meta, table = arrow.read_table(path, schema.name, cols, want_geom, where or None)
            else:
                meta, table = arrow.read_table(path, schema.name, cols, want_geom, where or None)
        except arrow.ArrowUnavailable as exc:
            log.warning("图层 %s 无法经 GDAL/Arrow 读取，改用 sqlite3 读取 (layer %s cannot be read through GDAL's "
                        "Arrow stream; reading it with sqlite3): %s", schema.name, schema.name, exc)
            return None
        except Exception as exc:
            if _is_busy(exc):
                raise StoreBusy() from exc
            raise
        if table.num_rows == 0:
            return _frame_from_rows(schema, cols, want_geom, [])
        return arrow.to_frame(meta, table, schema, cols, want_geom, srs=SRS_ID, fallback=_typed)

    def _read_sqlite(self, schema: Layer, cols: list[str], want_geom: bool, where: Mapping[str, Any] | None,
                     id_list: list[str] | None) -> pd.DataFrame | gpd.GeoDataFrame:
        """The rows through sqlite3 (``fetchall`` and ``DataFrame.from_records``), with bound parameters."""
        clauses, params = [], []
        for k, v in (where or {}).items():
            if isinstance(v, (list, tuple, set, np.ndarray, pd.Index, pd.Series)):
                v = list(v)
                if not v:
                    clauses.append("0")
                    continue
                clauses.append(f"{_q(k)} IN ({', '.join('?' for _ in v)})")
                params.extend(v)
            elif v is None:
                clauses.append(f"{_q(k)} IS NULL")
            else:
                clauses.append(f"{_q(k)} = ?")
                params.append(v)
        select = [_q(c) for c in cols] + (["geom"] if want_geom else [])
        base = f"SELECT {', '.join(select) if select else 'fid'} FROM {_q(schema.name)}"
        with self._con() as con:
            rows: list[tuple] = []
            if id_list is not None:
                for chunk in _chunks(id_list, 500):
                    cl = [*clauses, f"{_q(schema.id_column)} IN ({', '.join('?' for _ in chunk)})"]
                    rows.extend(con.execute(f"{base} WHERE {' AND '.join(cl)} ORDER BY fid", [*params, *chunk]))
            else:
                sql = base + (f" WHERE {' AND '.join(clauses)}" if clauses else "") + " ORDER BY fid"
                rows = con.execute(sql, params).fetchall()
        return _frame_from_rows(schema, cols, want_geom, rows)

    def count(self, layer: str) -> int:
        schema = layer_schema(layer)
        with self._con() as con:
            return int(con.execute(f"SELECT COUNT(*) FROM {_q(schema.name)}").fetchone()[0])

    def latest(self, layer: str, column: str) -> Any:
        schema = layer_schema(layer)
        col = schema.column(column)
        with self._con() as con:
            value = con.execute(f"SELECT MAX({_q(col.name)}) FROM {_q(schema.name)}").fetchone()[0]
        if value is None:
            return None
        typed = _typed(pd.Series([value], dtype=object), col.type).iloc[0]
        return None if pd.isna(typed) else typed

    def counts(self) -> dict[str, int]:
        with self._con() as con:
            return {name: int(con.execute(f"SELECT COUNT(*) FROM {_q(name)}").fetchone()[0]) for name in LAYERS}

    def data_version(self) -> int:
        with self._con() as con:
            row = con.execute(f"SELECT value FROM {META} WHERE key = 'data_version'").fetchone()
        return int(row[0]) if row else 0

    def identity(self) -> tuple[str, int, int]:
        """(resolved path, ``st_dev``, ``st_ino``) of the file: another file moved in under the same name (a
        restored backup, a copy of another store) is another store, whatever its data version."""
        try:
            return file_identity(self.path)
        except OSError as exc:
            raise StoreError(f"存储文件不可读：{self.path}（{exc}）(store file not readable: {self.path}: {exc})"
                             ) from exc

    def table_stamps(self, tables: Sequence[str]) -> dict[str, int]:
        """Per table the write counter of its last write (0: not written since stamps began); one query."""
        tables = list(dict.fromkeys(tables))
        if not tables:
            return {}
        with self._con() as con:
            rows = con.execute(f"SELECT key, value FROM {META} WHERE key IN ({', '.join('?' for _ in tables)})",
                               [f"stamp:{t}" for t in tables]).fetchall()
        got = {k[len("stamp:"):]: int(v) for k, v in rows}
        return {t: got.get(t, 0) for t in tables}

    def changed_ids(self, table: str, since: int) -> tuple[int, set[str] | None]:
        with self._con() as con:
            rows = dict(con.execute(f"SELECT key, value FROM {META} WHERE key IN (?, ?)",
                                    (f"stamp:{table}", f"changes:{table}")).fetchall())
        return ids_since(rows, table, since)

    def schema_version(self) -> int:
        with self._con() as con:
            return int(con.execute(f"SELECT COALESCE(MAX(version), 0) FROM {VERSIONS}").fetchone()[0])

    def last_import(self) -> str | None:
        with self._con() as con:
            row = con.execute(f"SELECT value FROM {META} WHERE key = 'last_import'").fetchone()
        return row[0] if row else None

    def last_write(self) -> str | None:
        with self._con() as con:
            row = con.execute(f"SELECT value FROM {META} WHERE key = 'last_write'").fetchone()
        return row[0] if row else None

    def quarantined(self, layer: str | None = None) -> pd.DataFrame:
        sql = f"SELECT layer, source, row, field, reason_zh, reason_en, raw, imported_at FROM {QUARANTINE}"
        with self._con() as con:
            if layer:
                return pd.read_sql_query(sql + " WHERE layer = ? ORDER BY fid", con, params=(layer,))
            return pd.read_sql_query(sql + " ORDER BY fid", con)

    def imports(self) -> pd.DataFrame:
        with self._con() as con:
            return pd.read_sql_query(f"SELECT * FROM {IMPORTS} ORDER BY fid", con)

    # -- writes -----------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """All writes inside the ``with`` block commit together or not at all."""
        con = self._connect(write=True)
        tx: _GpkgTransaction | None = None
        try:
            con.execute(f"PRAGMA cache_size = -{_WRITE_CACHE_KIB}")
            con.execute("BEGIN IMMEDIATE")
            tx = _GpkgTransaction(self, con)
            try:
                yield tx
                if tx.touched:
                    _touch(con, tx.touched, tx.changed)
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:  # (not between a direct bulk write's two halves: write_new drops the file)
                    con.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            if _is_busy(exc):
                raise StoreBusy() from exc
            raise StoreError(f"写入存储失败，未做任何更改：{exc} (writing the store failed, nothing was changed: {exc})"
                             ) from exc
        finally:
            con.close()
            for stage in tx.stages if tx is not None else ():
                stage.remove()


def _fsync(path: Path) -> None:
    """What the file or folder at ``path`` holds written to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_new(path: Path, write: Any) -> GeoPackageStore:
    """A new GeoPackage at ``path`` (which must not exist yet), written whole by ``write(store)``; the open store.

    A file nobody can see needs no journal: ``write`` works on a hidden file beside ``path`` with SQLite's
    journal off and no fsync, so a big first write (the demo city: 15 M rows, 2.8 GB) is written once, not once
    into the WAL and again by the checkpoint at its commit (about a third of that write). At the end the file is
    put in WAL mode, synced, and linked into place, which fails rather than replace a file that appeared at
    ``path`` meanwhile. If anything fails, the hidden file is deleted and ``path`` never existed: the write is
    all or nothing as a transaction is."""
    import tempfile

    path = Path(path)
    exists = StoreError(f"存储文件已存在：{path} (the store file already exists: {path})")
    if path.exists():
        raise exists
    _refuse_network_filesystem(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.new-", suffix=".gpkg", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # (SQLite makes the file: an empty one it would take for a database without a header)
    try:
        store = GeoPackageStore(tmp, _unjournaled=True)
        write(store)
        store._unjournaled = False   # written: from now on a store like any other, in WAL mode
        with store._con() as con:
            store._ensure_wal(con)
        _fsync(tmp)
        try:
            os.link(tmp, path)   # never replaces: a file that appeared at path meanwhile stays as it is
        except FileExistsError as exc:
            raise exists from exc
        except OSError:   # a filesystem without hard links: a rename, checked just before
            if path.exists():
                raise exists from None
            os.rename(tmp, path)
        _fsync(path.parent)   # the new name is on disk too
    finally:
        for p in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm"),
                  tmp.with_name(tmp.name + "-journal")):
            p.unlink(missing_ok=True)
    return GeoPackageStore(path, create=False)


def _frame_from_rows(schema: Layer, cols: list[str], want_geom: bool,
                     rows: list[tuple]) -> pd.DataFrame | gpd.GeoDataFrame:
    names = cols + (["geometry"] if want_geom else [])
    frame = pd.DataFrame.from_records(rows, columns=names or ["fid"]) if rows else \
        pd.DataFrame({n: pd.Series(dtype=object) for n in names})
    for c in cols:
        frame[c] = _typed(frame[c], schema.column(c).type)
    if want_geom:
        geoms = from_gpkg_blobs(frame["geometry"].tolist()) if len(frame) else np.array([], dtype=object)
        frame = gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=gpd.GeoSeries(geoms, crs=SRS_ID,
                                                                                          index=frame.index),
                                 crs=SRS_ID)
    return frame


def _typed(s: pd.Series, t: T) -> pd.Series:
    if t is T.BLOB:
        return s.astype(object).where(s.notna(), None)
    if t is T.DATETIME:   # UTC instants (…Z, or +00:00 from older files) -> the naive UTC wall clock
        return pd.to_datetime(s, errors="coerce", format="ISO8601", utc=True).dt.tz_convert(None)
    if t is T.DATE:
        return pd.to_datetime(s, errors="coerce", format="ISO8601")
    if t is T.BOOL:
        return s.astype("boolean")
    if t is T.INT:
        return pd.to_numeric(s, errors="coerce").astype("Int64")
    if t is T.REAL:
        return pd.to_numeric(s, errors="coerce").astype(float)
    return s.astype(object).where(s.notna(), None)


def _touch(con: sqlite3.Connection, tables: set[str], ids: Mapping[str, set[str] | None] | None = None) -> None:
    if any(t not in LAYERS or LAYERS[t].counts_as_data for t in tables):
        _bump_data_version(con, _now())
    changed = _gpkg_now()
    for t in tables:
        con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (changed, t))
    _log_changes(con, tables, ids or {})


def _log_changes(con: sqlite3.Connection, tables: set[str], ids: Mapping[str, set[str] | None]) -> None:
    """One more write: bump the write counter, stamp each written table with it and log the ids written.

    ``stamp:<table>`` is the counter of the table's last write (see :meth:`GeoPackageStore.table_stamps`);
    ``changes:<table>`` is ``{"floor": s, "log": [[stamp, ids or null], ...]}``: the last writes of the table
    (at most ``CHANGE_LOG_WRITES`` of them and ``CHANGE_LOG_IDS`` ids in all), ``floor`` the stamp below which the
    log no longer reaches (:meth:`GeoPackageStore.changed_ids`)."""
    con.execute(f"INSERT INTO {META} (key, value) VALUES ('write_seq', '1') ON CONFLICT(key) DO UPDATE SET "
                "value = CAST(value AS INTEGER) + 1")
    seq = int(con.execute(f"SELECT value FROM {META} WHERE key = 'write_seq'").fetchone()[0])
    for t in sorted(tables):
        row = con.execute(f"SELECT value FROM {META} WHERE key = ?", (f"changes:{t}",)).fetchone()
        doc = json.loads(row[0]) if row else {"floor": 0, "log": []}
        written = ids.get(t)
        doc["log"].append([seq, sorted(written) if written is not None else None])
        total = sum(len(e[1]) for e in doc["log"] if e[1] is not None)
        while len(doc["log"]) > 1 and (len(doc["log"]) > CHANGE_LOG_WRITES or total > CHANGE_LOG_IDS):
            gone = doc["log"].pop(0)
            total -= len(gone[1]) if gone[1] is not None else 0
            doc["floor"] = gone[0]
        con.execute(f"INSERT OR REPLACE INTO {META} (key, value) VALUES (?, ?)",
                    (f"changes:{t}", json.dumps(doc, separators=(",", ":"), ensure_ascii=False)))
        con.execute(f"INSERT OR REPLACE INTO {META} (key, value) VALUES (?, ?)", (f"stamp:{t}", str(seq)))


def _bump_data_version(con: sqlite3.Connection, now: str) -> None:
    con.execute(f"INSERT INTO {META} (key, value) VALUES ('data_version', '1') ON CONFLICT(key) DO UPDATE SET "
                "value = CAST(value AS INTEGER) + 1")
    con.execute(f"INSERT OR REPLACE INTO {META} (key, value) VALUES ('last_write', ?)", (now,))


# --------------------------------------------------------------------------------------------------
# Migrations
# --------------------------------------------------------------------------------------------------

def _create_layer_table(con: sqlite3.Connection, schema: Layer) -> None:
    cols = ["fid INTEGER PRIMARY KEY AUTOINCREMENT"]
    if schema.spatial:
        cols.append(f"geom {schema.geometry.value}")
    for c in schema.columns:
        cols.append(f"{_q(c.name)} {_sql_type(c.type)}{' UNIQUE' if c.unique else ''}")
    con.execute(f"CREATE TABLE {_q(schema.name)} ({', '.join(cols)})")
    if schema.spatial:
        con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id, "
                    "min_x, min_y, max_x, max_y) VALUES (?, 'features', ?, ?, ?, -180, -90, 180, 90)",
                    (schema.name, schema.name, f"{schema.zh} / {schema.en}", SRS_ID))
        con.execute("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)",
                    (schema.name, schema.geometry.value, SRS_ID))
        rtree.create_index(con, schema.name, decode=from_gpkg_blobs)
    else:
        con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description) "
                    "VALUES (?, 'attributes', ?, ?)", (schema.name, schema.name, f"{schema.zh} / {schema.en}"))
    for c in schema.columns:
        if c.name in {"district_code", "target_id", "plan_id", "enterprise_id", "hazard_id", "record_id"}:
            con.execute(f"CREATE INDEX IF NOT EXISTS {_q('idx_' + schema.name + '_' + c.name)} "
                        f"ON {_q(schema.name)} ({_q(c.name)})")
    _append_only_triggers(con, schema)


def _append_only_triggers(con: sqlite3.Connection, schema: Layer) -> None:
    """An append-only layer (the audit log) refuses UPDATE and DELETE in the file itself, whoever writes it."""
    if not schema.append_only:
        return
    for verb in ("UPDATE", "DELETE"):
        con.execute(
            f"CREATE TRIGGER IF NOT EXISTS {_q(schema.name + '_no_' + verb.lower())} BEFORE {verb} ON "
            f"{_q(schema.name)} BEGIN SELECT RAISE(ABORT, '{schema.name} is append-only'); END")


def _ensure_layers(con: sqlite3.Connection) -> None:
    existing = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for schema in LAYERS.values():
        if schema.name not in existing:
            _create_layer_table(con, schema)
            continue
        have = {r[1] for r in con.execute(f"PRAGMA table_info({_q(schema.name)})")}
        for c in schema.columns:
            if c.name not in have:
                con.execute(f"ALTER TABLE {_q(schema.name)} ADD COLUMN {_q(c.name)} {_sql_type(c.type)}")
        _append_only_triggers(con, schema)


#: (path, inode) of files whose schema was checked in this process: opening a store is on every request's
#: path, and the check costs a PRAGMA per table. A replaced file has a new inode and is checked again.
_VERIFIED: set[tuple[str, int]] = set()


def _up_to_date(con: sqlite3.Connection, tables: set[str]) -> bool:
    current = con.execute(f"SELECT COALESCE(MAX(version), 0) FROM {VERSIONS}").fetchone()[0]
    if current != SCHEMA_VERSION or not set(LAYERS) <= tables:
        return False
    for schema in LAYERS.values():
        have = {r[1] for r in con.execute(f"PRAGMA table_info({_q(schema.name)})")}
        if not set(schema.names) <= have:
            return False
    return True


def _migration_1(con: sqlite3.Connection) -> None:
    con.execute(f"CREATE TABLE IF NOT EXISTS {VERSIONS} (version INTEGER NOT NULL, applied_at TEXT NOT NULL)")
    con.execute(f"CREATE TABLE IF NOT EXISTS {META} (key TEXT PRIMARY KEY, value TEXT)")
    con.execute(f"""CREATE TABLE IF NOT EXISTS {QUARANTINE} (fid INTEGER PRIMARY KEY AUTOINCREMENT, layer TEXT NOT NULL,
        source TEXT, row INTEGER, field TEXT, reason_zh TEXT NOT NULL, reason_en TEXT NOT NULL, raw TEXT,
        imported_at TEXT NOT NULL)""")
    con.execute(f"""CREATE TABLE IF NOT EXISTS {IMPORTS} (fid INTEGER PRIMARY KEY AUTOINCREMENT, layer TEXT,
        source TEXT, mode TEXT, rows_read INTEGER, written INTEGER, quarantined INTEGER, fixed INTEGER, at TEXT,
        report TEXT)""")
    for t, desc in ((QUARANTINE, "隔离记录 / Quarantined rows"), (IMPORTS, "导入日志 / Import log"),
                    (META, "元数据 / Metadata"), (VERSIONS, "结构版本 / Schema versions")):
        con.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) "
                    "VALUES (?, 'attributes', ?, ?)", (t, t, desc))


def _rebuild_with_integer_key(con: sqlite3.Connection, table: str, columns: str, copied: str) -> None:
    """Re-create ``table`` as ``fid INTEGER PRIMARY KEY AUTOINCREMENT, <columns>``, keeping its rows."""
    if any(r[1] == "fid" and r[5] for r in con.execute(f"PRAGMA table_info({_q(table)})")):
        return
    new = _q(table + "_rebuilt")
    con.execute(f"CREATE TABLE {new} (fid INTEGER PRIMARY KEY AUTOINCREMENT, {columns})")
    con.execute(f"INSERT INTO {new} ({copied}) SELECT {copied} FROM {_q(table)} ORDER BY rowid")
    con.execute(f"DROP TABLE {_q(table)}")
    con.execute(f"ALTER TABLE {new} RENAME TO {_q(table)}")


def _migration_2(con: sqlite3.Connection) -> None:
    """What GDAL's validator asks: ``gpkg_contents.last_change`` as ``YYYY-MM-DDTHH:MM:SS.sssZ`` (Req 15; version
    1 wrote ``…+00:00``), and an INTEGER PRIMARY KEY on every attributes table (Req 119)."""
    con.execute("UPDATE gpkg_contents SET last_change = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', last_change), "
                "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) WHERE last_change NOT GLOB ?", (_GPKG_DATETIME_GLOB,))
    _rebuild_with_integer_key(con, META, "key TEXT NOT NULL UNIQUE, value TEXT", "key, value")
    _rebuild_with_integer_key(con, VERSIONS, "version INTEGER NOT NULL, applied_at TEXT NOT NULL",
                              "version, applied_at")


def _migration_3(con: sqlite3.Connection) -> None:
    """An R-tree spatial index per geometry table, filled from the rows it has (GeoPackage 1.3, see rtree.py)."""
    con.execute(f"PRAGMA user_version = {GPKG_USER_VERSION}")
    rtree.ensure_extensions_table(con)
    tables = {r[0] for r in con.execute("SELECT table_name FROM gpkg_geometry_columns WHERE column_name = 'geom'")}
    for schema in LAYERS.values():
        if schema.spatial and schema.name in tables and not rtree.has_index(con, schema.name):
            rtree.create_index(con, schema.name, decode=from_gpkg_blobs)


MIGRATIONS: list[tuple[int, Any]] = [(1, _migration_1), (2, _migration_2), (3, _migration_3)]


__all__ = ["GeoPackageStore", "SCHEMA_VERSION", "to_gpkg_blobs", "from_gpkg_blobs", "MIGRATIONS"]
