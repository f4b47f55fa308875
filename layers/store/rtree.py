"""R-tree spatial indexes in the GeoPackage, as the spec's extension ``gpkg_rtree_index`` (Annex F.3) says.

For a geometry table ``t`` (geometry column ``geom``, key ``fid``): the virtual table ``rtree_t_geom`` (SQLite's
R*Tree module, columns ``id, minx, maxx, miny, maxy``), a ``gpkg_extensions`` row (scope ``write-only``), and
the triggers that keep the index in step with the table on every insert, update and delete, whoever writes
(QGIS, GDAL or this store). GDAL and QGIS find it there and use it for every bounding-box query.

Which triggers: GeoPackage 1.2/1.3's set (``insert``, ``update1`` … ``update4``, ``delete``), and the file says
it is GeoPackage 1.3 (``user_version`` 10300). GeoPackage 1.4 replaced ``update1``/``update3`` by
``update5``-``update7`` so that SQLite UPSERT statements work on the table (this store never runs one). GDAL's
validator up to 3.6 (Debian 12's ``python3-gdal``, the one CI runs) asks for ``update1``-``update4`` whatever
the version; later validators ask for them in a 1.3 file and refuse them in a 1.4 one. A 1.3 file with the 1.3
set passes both.

The triggers call ``ST_IsEmpty`` and ``ST_MinX`` … ``ST_MaxY``, which SQLite does not have: every connection of
the store registers them (:func:`register_functions`); GDAL and QGIS bring their own.

Bulk writes do not go through the triggers (five Python calls a row): the store drops the insert trigger inside
its write transaction, inserts the rows with explicit fids and their boxes (shapely, one call a chunk), and
creates the trigger again before the transaction ends, so no other connection ever sees the table without it.
"""

# ruff: noqa: S608 - SQL names here are table names that pass _ident (letters, digits, underscore); values are bound

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import numpy as np
import shapely

EXTENSION = "gpkg_rtree_index"
DEFINITION = "http://www.geopackage.org/spec120/#extension_rtree"
SCOPE = "write-only"
GEOMETRY_COLUMN = "geom"
KEY_COLUMN = "fid"
#: rows of existing geometries read at a time while an index is built for a table that has some
_FILL_CHUNK = 100_000


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"invalid identifier {name!r}")
    return f'"{name}"'


def rtree_name(table: str) -> str:
    return f"rtree_{table}_{GEOMETRY_COLUMN}"


def _trigger_sql(table: str) -> dict[str, str]:
    """The spec's trigger definitions for ``table`` (GeoPackage 1.2/1.3, Annex F.3), by trigger suffix."""
    t, r, c, i = _ident(table), _ident(rtree_name(table)), _ident(GEOMETRY_COLUMN), _ident(KEY_COLUMN)
    box = f"NEW.{i}, ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c})"
    has_geom = f"(NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))"
    no_geom = f"(NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))"
    bodies = {
        "insert": f"AFTER INSERT ON {t} WHEN {has_geom} BEGIN INSERT OR REPLACE INTO {r} VALUES ({box}); END",
        "update1": f"AFTER UPDATE OF {c} ON {t} WHEN OLD.{i} = NEW.{i} AND {has_geom} "
                   f"BEGIN INSERT OR REPLACE INTO {r} VALUES ({box}); END",
        "update2": f"AFTER UPDATE OF {c} ON {t} WHEN OLD.{i} = NEW.{i} AND {no_geom} "
                   f"BEGIN DELETE FROM {r} WHERE id = OLD.{i}; END",
        "update3": f"AFTER UPDATE ON {t} WHEN OLD.{i} != NEW.{i} AND {has_geom} "
                   f"BEGIN DELETE FROM {r} WHERE id = OLD.{i}; INSERT OR REPLACE INTO {r} VALUES ({box}); END",
        "update4": f"AFTER UPDATE ON {t} WHEN OLD.{i} != NEW.{i} AND {no_geom} "
                   f"BEGIN DELETE FROM {r} WHERE id IN (OLD.{i}, NEW.{i}); END",
        "delete": f"AFTER DELETE ON {t} WHEN OLD.{c} NOT NULL BEGIN DELETE FROM {r} WHERE id = OLD.{i}; END",
    }
    return {k: f"CREATE TRIGGER {_ident(rtree_name(table) + '_' + k)} {v}" for k, v in bodies.items()}


def ensure_extensions_table(con: Any) -> None:
    con.execute("""CREATE TABLE IF NOT EXISTS gpkg_extensions (
        table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
        scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))""")


def has_index(con: Any, table: str) -> bool:
    return con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                       (rtree_name(table),)).fetchone() is not None


def create_index(con: Any, table: str, *, decode: Callable[[Sequence[bytes | None]], np.ndarray]) -> None:
    """The R-tree, its triggers and its ``gpkg_extensions`` row for ``table``, filled from the rows it has.

    ``decode`` turns GeoPackage geometry blobs into shapely geometries. Runs inside the caller's transaction.
    """
    ensure_extensions_table(con)
    con.execute(f"CREATE VIRTUAL TABLE {_ident(rtree_name(table))} USING rtree(id, minx, maxx, miny, maxy)")
    cur = con.execute(f"SELECT {_ident(KEY_COLUMN)}, {_ident(GEOMETRY_COLUMN)} FROM {_ident(table)} "
                      f"WHERE {_ident(GEOMETRY_COLUMN)} IS NOT NULL")
    while rows := cur.fetchmany(_FILL_CHUNK):
        fids, blobs = zip(*rows, strict=True)
        add(con, table, np.asarray(fids, dtype=np.int64), decode(list(blobs)))
    for sql in _trigger_sql(table).values():
        con.execute(sql)
    con.execute("INSERT OR IGNORE INTO gpkg_extensions VALUES (?, ?, ?, ?, ?)",
                (table, GEOMETRY_COLUMN, EXTENSION, DEFINITION, SCOPE))


def add(con: Any, table: str, fids: np.ndarray, geoms: np.ndarray) -> int:
    """Index the boxes of ``geoms`` (shapely) under ``fids``; missing and empty geometries are not indexed."""
    geoms = np.asarray(geoms, dtype=object)
    keep = ~shapely.is_missing(geoms)
    keep[keep] = ~shapely.is_empty(geoms[keep])
    if not keep.any():
        return 0
    b = shapely.bounds(geoms[keep])
    rows = zip(fids[keep].tolist(), b[:, 0].tolist(), b[:, 2].tolist(), b[:, 1].tolist(), b[:, 3].tolist(),
               strict=True)
    con.executemany(f"INSERT INTO {_ident(rtree_name(table))} VALUES (?, ?, ?, ?, ?)", rows)
    return int(keep.sum())


@contextmanager
def triggers_off(con: Any, table: str, *which: str) -> Iterator[None]:
    """Inside a write transaction: drop these triggers of ``table`` and create them again afterwards."""
    sql = _trigger_sql(table)
    for name in which:
        con.execute(f"DROP TRIGGER IF EXISTS {_ident(rtree_name(table) + '_' + name)}")
    try:
        yield
    finally:
        for name in which:
            con.execute(sql[name])


def clear(con: Any, table: str) -> None:
    """Empty the index of ``table`` (a new virtual table: far faster than deleting every entry)."""
    con.execute(f"DROP TABLE {_ident(rtree_name(table))}")
    con.execute(f"CREATE VIRTUAL TABLE {_ident(rtree_name(table))} USING rtree(id, minx, maxx, miny, maxy)")


# --------------------------------------------------------------------------------------------------
# The SQL functions the triggers call (GeoPackage Annex D "minimal runtime SQL functions", the subset used)
# --------------------------------------------------------------------------------------------------

@lru_cache(maxsize=16)  # each trigger asks for the four bounds of the same blob in a row
def _box(blob: bytes) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a GeoPackage geometry blob; None when empty."""
    flags = blob[3]
    if flags & 0x10:
        return None
    envelope = (flags >> 1) & 7
    if envelope:
        minx, maxx, miny, maxy = struct.unpack_from("<4d" if flags & 1 else ">4d", blob, 8)
        return minx, maxx, miny, maxy
    g = shapely.from_wkb(blob[8:])
    if g.is_empty:
        return None
    x0, y0, x1, y1 = g.bounds
    return x0, x1, y0, y1


def _bound(k: int) -> Callable[[bytes | None], float | None]:
    def f(blob: bytes | None) -> float | None:
        box = None if blob is None else _box(bytes(blob))
        return None if box is None else box[k]
    return f


def _is_empty(blob: bytes | None) -> int | None:
    return None if blob is None else int(_box(bytes(blob)) is None)


def register_functions(con: Any) -> None:
    """ST_IsEmpty, ST_MinX, ST_MaxX, ST_MinY, ST_MaxY on a sqlite3 connection, for the R-tree triggers."""
    con.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)
    for k, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        con.create_function(name, 1, _bound(k), deterministic=True)


__all__ = ["EXTENSION", "rtree_name", "create_index", "has_index", "add", "triggers_off", "clear",
           "ensure_extensions_table", "register_functions"]
