"""Layer reads through GDAL's Arrow stream (``pyogrio.read_arrow``), run in helper processes.

Why helper processes: pyogrio's GDAL carries its own copy of SQLite (3.53 in pyogrio 0.13's wheel; Python's
``sqlite3`` uses the system's). Two copies of SQLite in one process do not see each other's POSIX locks: a
process never conflicts with its own ``fcntl`` locks, and closing any descriptor of a file drops all of them
(https://www.sqlite.org/howtocorrupt.html, 2.2.1). Measured here: a ``pyogrio.read_arrow`` of the store while a
``sqlite3`` write transaction was open took itself for the last user on closing, checkpointed and deleted the
WAL under the writer; the commit was lost and the next open failed with "disk I/O error". Across processes
the locks work as SQLite means them to (WAL readers and one writer at a time), so GDAL reads the file in
``WORKERS`` reader processes (:mod:`layers.store._gdal_reader`: a plain script that imports pyogrio and pyarrow
only, started at the first read and kept). A reader writes the Arrow table as an Arrow IPC file on ``/dev/shm``
and this process memory-maps it: nothing is pickled or copied through a pipe. A big table is read in
``WORKERS`` fid ranges at once, one per reader process, and the parts are joined in fid order.

Read types are the store's (see :mod:`layers.store.base`), identical to what the ``sqlite3`` path gives:
DATE/DATETIME -> ``datetime64[us]`` (``datetime64[s]`` when a column has no value at all, as pandas'
``to_datetime`` gives for text; GDAL reads DATETIME as UTC and the naive wall-clock value is kept), BOOLEAN ->
``boolean``, INTEGER -> ``Int64``, REAL -> ``float64``, geometries -> shapely in EPSG:4326.

Text: object columns of Python ``str`` with ``None`` for missing, as the ``sqlite3`` path has always given.
pandas 3 would turn Arrow strings into its ``str`` dtype (Arrow-backed, NaN for missing, no Python objects);
that is several times cheaper, but callers compare with ``None``, hand values to sqlite3/JSON and build key
indexes from object arrays, so the dtype stays as it was; making text ``str`` is a separate, store-wide change.
A column of few distinct values (a grade, a layer name, a team) is made from one ``str`` per value (Arrow's
dictionary encoding), which costs a fraction of one ``str`` per cell; the values are the same.
"""

from __future__ import annotations

import atexit
import json
import logging
import math
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from layers.schema import Layer, T

log = logging.getLogger(__name__)

#: reader processes (this machine class has two cores); a big read is split into this many fid ranges
WORKERS = 2
#: a table with at least this many rows (by its largest fid) is read in WORKERS fid ranges at once
SPLIT_MIN_ROWS = 200_000
#: longest WHERE clause (characters) sent to GDAL; longer id lists are read through sqlite3, in chunks
MAX_WHERE_CHARS = 500_000
#: until a reader process is ready (it starts in about a second), a table below this many rows is read
#: through sqlite3 in this process instead of waiting for it; the first such read starts the readers
COLD_SQLITE_MAX_ROWS = 200_000
_SCRIPT = Path(__file__).with_name("_gdal_reader.py")


class ArrowUnavailable(Exception):
    """GDAL cannot read this table (not registered as a layer, reader gone): read it through sqlite3."""


class GdalReadError(Exception):
    """GDAL failed on the file itself (its message, e.g. "database is locked")."""


class _Reader:
    """One reader process and its pipes; used by one thread at a time (taken from the pool's queue)."""

    def __init__(self, ready_file: Path) -> None:
        # -I: no PYTHON* variables, no user site, nothing prepended to sys.path (this folder has a copy.py)
        self.proc = subprocess.Popen([sys.executable, "-I", str(_SCRIPT), str(ready_file)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, close_fds=True)

    def ask(self, request: dict) -> dict:
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except (BrokenPipeError, OSError) as exc:
            raise ArrowUnavailable(f"the GDAL reader process ended: {exc}") from exc
        if not line:
            raise ArrowUnavailable(f"the GDAL reader process ended (exit code {self.proc.poll()})")
        return json.loads(line)

    def close(self) -> None:
        try:
            self.proc.stdin.close()   # the reader's loop ends
        except OSError:
            pass
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class _Pool:
    """At most WORKERS reader processes of this process, started at the first read and kept."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.idle: queue.LifoQueue[_Reader] = queue.LifoQueue()
        self.started = 0
        shm = Path("/dev/shm")
        base = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
        self.folder = Path(tempfile.mkdtemp(prefix="riskmap-arrow-", dir=base))

    def warm(self) -> None:
        """Start the reader processes now (they import pyogrio while this process goes on)."""
        with self.lock:
            while self.started < WORKERS:
                self.idle.put(self._new())
                self.started += 1

    def _new(self) -> _Reader:
        return _Reader(self.folder / f"ready-{uuid.uuid4().hex}")

    def ready(self) -> bool:
        """Whether a reader process has started and imported GDAL."""
        return any(self.folder.glob("ready-*"))

    def take(self) -> _Reader:
        try:
            return self.idle.get_nowait()
        except queue.Empty:
            pass
        with self.lock:
            if self.started < WORKERS:
                self.started += 1
                try:
                    return self._new()
                except OSError:
                    self.started -= 1
                    raise
        return self.idle.get()

    def give_back(self, reader: _Reader, *, broken: bool = False) -> None:
        if broken:
            reader.close()
            with self.lock:
                self.started -= 1
        else:
            self.idle.put(reader)

    def close(self) -> None:
        while True:
            try:
                self.idle.get_nowait().close()
            except queue.Empty:
                break
        shutil.rmtree(self.folder, ignore_errors=True)


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def _the_pool() -> _Pool:
    global _pool
    with _pool_lock:
        if _pool is None or _pool.pid != os.getpid():   # a forked child makes its own (never the parent's pipes)
            _pool = _Pool()
            if _pool.pid == os.getpid():
                atexit.register(_pool.close)
        return _pool


def warm() -> None:
    """Start the reader processes in the background (a first big read then does not wait for their start)."""
    _the_pool().warm()


def ready() -> bool:
    """Whether a reader process of this process is ready to read (else :func:`warm` starts them)."""
    return _the_pool().ready()


def _read_part(path: str, layer: str, columns: list[str], read_geometry: bool,
               where: str | None) -> tuple[dict, pa.Table]:
    pool = _the_pool()
    out = pool.folder / f"{uuid.uuid4().hex}.arrow"
    reader = pool.take()
    broken = False
    try:
        reply = reader.ask({"path": path, "layer": layer, "columns": columns, "read_geometry": read_geometry,
                            "where": where, "out": str(out)})
        if not reply["ok"]:
            if reply["gdal"] and "locked" not in reply["message"].lower():
                raise ArrowUnavailable(reply["message"])
            raise GdalReadError(reply["message"])
        with pa.memory_map(str(out)) as source:   # no copy: the table's buffers are the mapped file's pages
            table = pa.ipc.open_file(source).read_all()
        return {"geometry_name": reply["geometry_name"], "fid_column": reply["fid_column"]}, table
    except ArrowUnavailable:
        broken = reader.proc.poll() is not None
        raise
    except BaseException:
        broken = True   # a reply half read (an interrupt) leaves the pipe out of step
        raise
    finally:
        pool.give_back(reader, broken=broken)
        out.unlink(missing_ok=True)   # the mapping keeps the pages until the table is gone


def read_table(path: str, layer: str, columns: list[str], read_geometry: bool,
               where: str | None, *, largest_fid: int = 0) -> tuple[dict, pa.Table]:
    """The layer as an Arrow table with its fids, read by the reader processes; a table of ``SPLIT_MIN_ROWS``
    rows or more (``largest_fid``) in ``WORKERS`` fid ranges at once. GDAL's failure on the file comes back as
    :class:`GdalReadError` with GDAL's message; :class:`ArrowUnavailable` when GDAL cannot read the table."""
    if largest_fid < SPLIT_MIN_ROWS or WORKERS < 2:
        return _read_part(path, layer, columns, read_geometry, where)
    edges = [largest_fid * k // WORKERS for k in range(WORKERS + 1)]
    wheres = [(f"({where}) AND " if where else "") + f"fid > {lo} AND fid <= {hi}"
              for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    wheres[-1] = (f"({where}) AND " if where else "") + f"fid > {edges[-2]}"   # rows written since the look
    results: list[Any] = [None] * len(wheres)

    def run(i: int) -> None:
        try:
            results[i] = _read_part(path, layer, columns, read_geometry, wheres[i])
        except BaseException as exc:  # noqa: BLE001 - raised on the calling thread below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(1, len(wheres))]
    for t in threads:
        t.start()
    run(0)
    for t in threads:
        t.join()
    for r in results:
        if isinstance(r, BaseException):
            raise r
    meta = results[0][0]
    tables = [r[1] for r in results]
    if any(t.schema != tables[0].schema for t in tables[1:]):   # e.g. a part without rows typed otherwise
        tables = [t for t in tables if t.num_rows] or tables[:1]
        if any(t.schema != tables[0].schema for t in tables[1:]):
            return _read_part(path, layer, columns, read_geometry, where)
    return meta, pa.concat_tables(tables)


# --------------------------------------------------------------------------------------------------
# WHERE clauses as SQL text (GDAL takes no bound parameters)
# --------------------------------------------------------------------------------------------------

def _literal(v: Any) -> str | None:
    """``v`` as an SQLite literal that compares as the bound parameter would; None when not sure."""
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)) and math.isfinite(v):
        return repr(float(v))
    if isinstance(v, str) and "\x00" not in v:
        return "'" + v.replace("'", "''") + "'"
    return None


def where_sql(where: Mapping[str, Any] | None, id_column: str | None, ids: Sequence[str] | None) -> str | None:
    """The filter as SQL text ("" for none), or None when a value has no safe literal form or it is too long."""
    clauses = []
    items = list((where or {}).items()) + ([(id_column, list(ids))] if ids is not None else [])
    for k, v in items:
        name = f'"{k}"'
        if isinstance(v, (list, tuple, set, np.ndarray, pd.Index, pd.Series)):
            lits = [_literal(x) for x in v]
            if any(x is None for x in lits):
                return None
            clauses.append(f"{name} IN ({', '.join(lits)})" if lits else "0")
        elif v is None:
            clauses.append(f"{name} IS NULL")
        else:
            lit = _literal(v)
            if lit is None:
                return None
            clauses.append(f"{name} = {lit}")
    text = " AND ".join(clauses)
    return None if len(text) > MAX_WHERE_CHARS else text


# --------------------------------------------------------------------------------------------------
# Arrow -> the store's read types
# --------------------------------------------------------------------------------------------------

def _datetimes(arr: pa.ChunkedArray) -> np.ndarray:
    if arr.null_count == len(arr):  # what pandas' to_datetime gives for text without a value
        return np.full(len(arr), np.datetime64("NaT"), dtype="datetime64[s]")
    if pa.types.is_timestamp(arr.type) and arr.type.tz is not None:
        arr = pc.cast(arr, pa.timestamp(arr.type.unit))  # UTC instants -> the same naive wall clock
    return pc.cast(arr, pa.timestamp("us")).to_numpy(zero_copy_only=False)


#: rows looked at to guess whether a text column has few distinct values, and what "few" is there
_SAMPLE_ROWS = 20_000
_FEW_DISTINCT = 2_000
#: ... and the whole column is made from its dictionary when it has at most one value per this many rows
_ROWS_PER_VALUE = 8


def _texts(arr: pa.ChunkedArray) -> np.ndarray:
    """A text column as an object array of ``str`` and ``None``. A column with few distinct values in its first
    rows is dictionary-encoded and each value made once (a fifth of the cost at two million rows); otherwise one
    ``str`` per cell."""
    n = len(arr)
    if n >= 4 * _SAMPLE_ROWS and arr.null_count < n and \
            pc.count_distinct(arr.slice(0, _SAMPLE_ROWS)).as_py() <= _FEW_DISTINCT:
        enc = pc.dictionary_encode(arr).combine_chunks()
        if len(enc.dictionary) * _ROWS_PER_VALUE <= n:
            values = np.empty(len(enc.dictionary) + 1, dtype=object)   # the last one: None for missing
            values[:-1] = enc.dictionary.to_numpy(zero_copy_only=False)
            codes = enc.indices.fill_null(len(enc.dictionary)).to_numpy()
            return values[codes]
    if arr.null_count == n:
        return np.full(n, None, dtype=object)
    return arr.to_numpy(zero_copy_only=False)


def _column(arr: pa.ChunkedArray, t: T, fallback) -> Any:
    kind = arr.type
    if t is T.TEXT and (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return pd.Series(_texts(arr), dtype=object, copy=False)
    if t is T.INT and pa.types.is_integer(kind):
        return pd.Series(arr.to_pandas(types_mapper=lambda _: pd.Int64Dtype()), dtype="Int64")
    if t is T.BOOL and pa.types.is_boolean(kind):
        return pd.Series(arr.to_pandas(types_mapper=lambda _: pd.BooleanDtype()), dtype="boolean")
    if t is T.REAL and pa.types.is_floating(kind):
        return pd.Series(arr.to_numpy(zero_copy_only=False), dtype=float)
    if t in (T.DATE, T.DATETIME) and (pa.types.is_date(kind) or pa.types.is_timestamp(kind)):
        return pd.Series(_datetimes(arr))
    # GDAL saw another type than the schema's (a hand-edited file): convert the Python values as sqlite3's would be
    return fallback(pd.Series(arr.to_pylist(), dtype=object), t)


_HEX = np.full(256, 255, dtype=np.uint8)
_HEX[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)
_HEX[np.frombuffer(b"ABCDEF", dtype=np.uint8)] = np.arange(10, 16, dtype=np.uint8)


def _unhex(arr: pa.Array) -> pa.Array | None:
    """Hex text (PostGIS's CSV reads) as the binary it spells, decoded at once in numpy; None if it is not hex."""
    if not pa.types.is_string(arr.type) or arr.offset != 0 or len(arr) == 0:
        return None
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[:n + 1]
    rel = offsets - offsets[0]
    if rel[-1] == 0 or (rel % 2).any():
        return None
    nibbles = _HEX[np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]]
    if (nibbles == 255).any():
        return None
    raw = (nibbles[0::2] << 4) | nibbles[1::2]
    return pa.Array.from_buffers(pa.binary(), n, [arr.buffers()[0], pa.py_buffer((rel // 2).astype(np.int32)),
                                                   pa.py_buffer(raw)], null_count=arr.null_count)


def _geometries(column: pa.ChunkedArray) -> np.ndarray:
    """WKB (binary, or hex text) as shapely geometries. A column of 2D points only (GDAL's and PostGIS's little
    endian WKB of 21 bytes) is made with ``shapely.points`` from the coordinates read straight off the buffer,
    without a ``bytes`` object and a WKB parse per row; anything else goes through ``shapely.from_wkb``."""
    arr = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if pa.types.is_string(arr.type):
        arr = _unhex(arr) or arr
    n = len(arr)
    if n and pa.types.is_binary(arr.type) and arr.offset == 0:
        offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[:n + 1]
        valid = arr.is_valid().to_numpy(zero_copy_only=False) if arr.null_count else None
        starts = offsets[:-1] if valid is None else offsets[:-1][valid]
        widths = np.diff(offsets) if valid is None else np.diff(offsets)[valid]
        if len(starts) and (widths == 21).all():
            raw = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[starts[:, None] + np.arange(21)]
            if (raw[:, 0] == 1).all() and (raw[:, 1:5] == [1, 0, 0, 0]).all():
                xy = np.ascontiguousarray(raw[:, 5:21]).view("<f8").reshape(len(starts), 2)
                if not np.isnan(xy).any():   # POINT EMPTY is NaN NaN in WKB: from_wkb makes it empty
                    if valid is None:
                        return shapely.points(xy)
                    out = np.full(n, None, dtype=object)
                    out[valid] = shapely.points(xy)
                    return out
    return shapely.from_wkb(np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object))


def to_frame(meta: dict, table: pa.Table, schema: Layer, cols: list[str], want_geom: bool, *, srs: int,
             fallback) -> pd.DataFrame | gpd.GeoDataFrame:
    """The Arrow table as the store's frame: ``cols`` in that order, then ``geometry``; rows in fid order."""
    fid_name = meta.get("fid_column") or "fid"
    if fid_name in table.column_names:
        fids = table.column(fid_name).to_numpy()
        if len(fids) > 1 and not (np.diff(fids) > 0).all():  # an index scan gives another order
            table = table.take(pa.array(np.argsort(fids, kind="stable")))
    frame = pd.DataFrame({c: _column(table.column(c), schema.column(c).type, fallback) for c in cols},
                         columns=cols, index=pd.RangeIndex(table.num_rows))
    if not want_geom:
        return frame
    geoms = _geometries(table.column(meta["geometry_name"]))
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=srs, index=frame.index), crs=srs)


__all__ = ["read_table", "where_sql", "to_frame", "warm", "ready", "ArrowUnavailable", "GdalReadError", "WORKERS"]
