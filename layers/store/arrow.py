"""Layer reads through GDAL's Arrow stream (``pyogrio.read_arrow``), run in a helper process.

Why a helper process: pyogrio's GDAL carries its own copy of SQLite (3.53 in pyogrio 0.13's wheel; Python's
``sqlite3`` uses the system's). Two copies of SQLite in one process do not see each other's POSIX locks: a
process never conflicts with its own ``fcntl`` locks, and closing any descriptor of a file drops all of them
(https://www.sqlite.org/howtocorrupt.html, 2.2.1). Measured here: a ``pyogrio.read_arrow`` of the store while a
``sqlite3`` write transaction was open took itself for the last user on closing, checkpointed and deleted the
WAL under the writer; the commit was lost and the next open failed with "disk I/O error". Across processes
the locks work as SQLite means them to (WAL readers and one writer at a time), so GDAL reads the file from a
small pool of spawned worker processes and sends the Arrow table back (pickled Arrow buffers).

Read types are the store's (see :mod:`layers.store.base`), identical to what the ``sqlite3`` path gives:
DATE/DATETIME -> ``datetime64[us]`` (``datetime64[s]`` when a column has no value at all, as pandas'
``to_datetime`` gives for text; GDAL reads DATETIME as UTC and the naive wall-clock value is kept), BOOLEAN ->
``boolean``, INTEGER -> ``Int64``, REAL -> ``float64``, geometries -> shapely in EPSG:4326.

Text: object columns of Python ``str`` with ``None`` for missing, as the ``sqlite3`` path has always given.
pandas 3 would turn Arrow strings into its ``str`` dtype (Arrow-backed, NaN for missing, no Python objects);
that is several times cheaper, but callers compare with ``None``, hand values to sqlite3/JSON and build key
indexes from object arrays, so the dtype stays as it was; making text ``str`` is a separate, store-wide change.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from layers.schema import Layer, T

log = logging.getLogger(__name__)

#: worker processes that read through GDAL (this machine class has two cores)
WORKERS = 2
#: longest WHERE clause (characters) sent to GDAL; longer id lists are read through sqlite3, in chunks
MAX_WHERE_CHARS = 500_000

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=WORKERS, mp_context=multiprocessing.get_context("spawn"))
        return _pool


def _drop_pool(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


class ArrowUnavailable(Exception):
    """GDAL cannot read this table (not registered as a layer, worker gone): read it through sqlite3."""


def _read_in_worker(path: str, layer: str, columns: list[str], read_geometry: bool,
                    where: str | None) -> tuple[dict, pa.Table]:
    """Runs in a worker process: the layer as an Arrow table with its fids.

    ``IMMUTABLE=NO``: when the file is locked, GDAL otherwise retries with IMMUTABLE=YES, i.e. reads the main
    file ignoring locks and the WAL (stale, possibly torn); with NO it fails with "database is locked".
    """
    import pyogrio

    meta, table = pyogrio.read_arrow(path, layer=layer, columns=columns, read_geometry=read_geometry, where=where,
                                     return_fids=True, IMMUTABLE="NO")
    return {"geometry_name": meta.get("geometry_name"), "fid_column": meta.get("fid_column")}, table


def read_table(path: str, layer: str, columns: list[str], read_geometry: bool,
               where: str | None) -> tuple[dict, pa.Table]:
    """Read in a worker; GDAL's errors come back as raised there. ``ArrowUnavailable`` when GDAL cannot."""
    from pyogrio.errors import DataLayerError, DataSourceError

    pool = _executor()
    try:
        return pool.submit(_read_in_worker, path, layer, columns, read_geometry, where).result()
    except BrokenProcessPool as exc:
        _drop_pool(pool)
        raise ArrowUnavailable(f"the GDAL reader process ended: {exc}") from exc
    except (DataLayerError, DataSourceError) as exc:
        if "locked" in str(exc).lower():
            raise
        raise ArrowUnavailable(str(exc)) from exc


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


def _column(arr: pa.ChunkedArray, t: T, fallback) -> Any:
    kind = arr.type
    if t is T.TEXT and (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return pd.Series(arr.to_numpy(zero_copy_only=False), dtype=object)
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
    wkb = table.column(meta["geometry_name"]).to_numpy(zero_copy_only=False)
    geoms = shapely.from_wkb(np.asarray(wkb, dtype=object))
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=srs, index=frame.index), crs=srs)


__all__ = ["read_table", "where_sql", "to_frame", "ArrowUnavailable", "WORKERS"]
