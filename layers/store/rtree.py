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

Into an empty index (a replaced layer, a first import) the boxes are not inserted one by one either: SQLite's
R*Tree module inserts about 100,000 boxes a second (it chooses a leaf and splits nodes for every box), a third
of a million-enterprise demo city's write. :func:`bulk_load` packs the tree in numpy instead (Sort-Tile-Recursive:
full nodes of boxes sorted into tiles, level by level) and writes the module's own three tables (``_node``
blobs, ``_parent``, ``_rowid``), as GDAL's GeoPackage driver does for a new layer (its
``sqlite_rtree_bulk_load``). The boxes are the module's own: float32 rounded outwards exactly as its insert rounds
them, so the index holds the same entries either way; only the shape of the tree differs, and
``rtreecheck()`` passes it.
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


def boxes(fids: np.ndarray, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fids, boxes) of the geometries an index holds: missing and empty ones are left out; a box is
    ``minx, maxx, miny, maxy`` (the index's column order), float64."""
    geoms = np.asarray(geoms, dtype=object)
    keep = ~shapely.is_missing(geoms)
    keep[keep] = ~shapely.is_empty(geoms[keep])
    b = shapely.bounds(geoms[keep])
    return np.asarray(fids, dtype=np.int64)[keep], b[:, [0, 2, 1, 3]]


def add(con: Any, table: str, fids: np.ndarray, geoms: np.ndarray) -> int:
    """Index the boxes of ``geoms`` (shapely) under ``fids``; missing and empty geometries are not indexed."""
    ids, b = boxes(fids, geoms)
    return insert_boxes(con, table, ids, b)


def insert_boxes(con: Any, table: str, ids: np.ndarray, b: np.ndarray) -> int:
    """Insert boxes (``minx, maxx, miny, maxy`` rows) through the R*Tree module, one by one."""
    if len(ids) == 0:
        return 0
    rows = zip(ids.tolist(), b[:, 0].tolist(), b[:, 1].tolist(), b[:, 2].tolist(), b[:, 3].tolist(), strict=True)
    con.executemany(f"INSERT INTO {_ident(rtree_name(table))} VALUES (?, ?, ?, ?, ?)", rows)
    return len(ids)


def is_empty(con: Any, table: str) -> bool:
    """True when the index of ``table`` holds no box."""
    return con.execute(f"SELECT 1 FROM {_ident(rtree_name(table) + '_rowid')} LIMIT 1").fetchone() is None


# SQLite's rtree.c: a double is stored as the float32 next to it on the outside of the box (RNDTOWARDS, RNDAWAY
# and rtreeValueDown / rtreeValueUp there); the same arithmetic here gives the same float32 bit for bit
_RNDTOWARDS = 1.0 - 1.0 / 8388608.0
_RNDAWAY = 1.0 + 1.0 / 8388608.0
#: bytes of one cell of a 2D R*Tree node: the rowid (or child node number) and four float32, big-endian
_CELL = np.dtype([("id", ">i8"), ("box", ">f4", (4,))])


def _down(d: np.ndarray) -> np.ndarray:
    f = d.astype(np.float32)
    over = f > d
    f[over] = (d[over] * np.where(d[over] < 0, _RNDAWAY, _RNDTOWARDS)).astype(np.float32)
    return f


def _up(d: np.ndarray) -> np.ndarray:
    f = d.astype(np.float32)
    under = f < d
    f[under] = (d[under] * np.where(d[under] < 0, _RNDTOWARDS, _RNDAWAY)).astype(np.float32)
    return f


def _tile_order(b: np.ndarray, capacity: int) -> np.ndarray:
    """Sort-Tile-Recursive order of boxes: vertical slices of about sqrt(nodes) nodes by centre x, each sorted by
    centre y, so that consecutive runs of ``capacity`` boxes are compact nodes."""
    n = len(b)
    nodes = -(-n // capacity)
    per_slice = int(np.ceil(np.sqrt(nodes))) * capacity
    cx = b[:, 0].astype(np.float64) + b[:, 1]
    cy = b[:, 2].astype(np.float64) + b[:, 3]
    slice_of = np.empty(n, dtype=np.int64)
    slice_of[np.argsort(cx, kind="stable")] = np.arange(n) // per_slice
    return np.lexsort((cy, slice_of))


def _node_blobs(ids: np.ndarray, b: np.ndarray, capacity: int, node_size: int) -> np.ndarray:
    """(nodes, node_size) bytes: runs of ``capacity`` cells, each node's header its cell count (big-endian)."""
    n = len(ids)
    nodes = -(-n // capacity)
    cells = np.zeros(nodes * capacity, dtype=_CELL)
    cells["id"][:n] = ids
    cells["box"][:n] = b
    out = np.zeros((nodes, node_size), dtype=np.uint8)
    out[:, 4:4 + capacity * _CELL.itemsize] = cells.view(np.uint8).reshape(nodes, capacity * _CELL.itemsize)
    counts = np.full(nodes, capacity, dtype=np.int64)
    counts[-1] = n - (nodes - 1) * capacity
    out[:, 2] = counts >> 8
    out[:, 3] = counts & 0xFF
    return out


def bulk_load(con: Any, table: str, ids: np.ndarray, b: np.ndarray) -> int:
    """Fill the empty index of ``table`` with these boxes at once (module doc); ``b`` as :func:`boxes` gives it.

    Writes the R*Tree module's tables directly, inside the caller's transaction. Boxes the module would refuse
    (not finite, min above max) or an index that is not empty go through :func:`insert_boxes` instead, which
    refuses or takes them as the module does."""
    ids = np.asarray(ids, dtype=np.int64)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    if len(ids) == 0:
        return 0
    ascending = bool((ids[1:] > ids[:-1]).all())  # a store's fids are: no sort needed for the rowid table
    sorted_ids = ids if ascending else np.sort(ids)
    if not (np.isfinite(b).all() and (b[:, 0] <= b[:, 1]).all() and (b[:, 2] <= b[:, 3]).all()) or \
            (not ascending and (sorted_ids[1:] == sorted_ids[:-1]).any()) or not is_empty(con, table):
        return insert_boxes(con, table, ids, b)
    clear(con, table)  # a new virtual table: nothing of the module's is cached over the tables written below
    r = rtree_name(table)
    node_size = int(con.execute(f"SELECT length(data) FROM {_ident(r + '_node')} WHERE nodeno = 1").fetchone()[0])
    capacity = (node_size - 4) // _CELL.itemsize
    f = np.column_stack([_down(b[:, 0]), _up(b[:, 1]), _down(b[:, 2]), _up(b[:, 3])])
    # levels from the leaves up: each level's entries in tile order, packed into full nodes of ``capacity``
    levels: list[tuple[np.ndarray, np.ndarray]] = []  # (entry ids or child node numbers, boxes) per level
    entry_ids, entry_boxes = ids, f
    next_no = 2  # node 1 is the root
    while True:
        if len(entry_ids) <= capacity:  # the root's cells
            levels.append((entry_ids, entry_boxes))
            break
        order = _tile_order(entry_boxes, capacity)
        entry_ids, entry_boxes = entry_ids[order], entry_boxes[order]
        levels.append((entry_ids, entry_boxes))
        starts = np.arange(0, len(entry_ids), capacity)
        entry_boxes = np.column_stack([np.minimum.reduceat(entry_boxes[:, 0], starts),
                                       np.maximum.reduceat(entry_boxes[:, 1], starts),
                                       np.minimum.reduceat(entry_boxes[:, 2], starts),
                                       np.maximum.reduceat(entry_boxes[:, 3], starts)])
        entry_ids = np.arange(next_no, next_no + len(starts), dtype=np.int64)
        next_no += len(starts)
    depth = len(levels) - 1
    node_rows: list[tuple[int, bytes]] = []
    parent_rows: list[tuple[int, int]] = []
    first_no = 2
    leaf_of: np.ndarray | None = None  # node number of each leaf entry, in the leaf level's order
    for level, (cell_ids, cell_boxes) in enumerate(levels):
        blobs = _node_blobs(cell_ids, cell_boxes, capacity, node_size)
        root = level == depth
        numbers = np.array([1]) if root else np.arange(first_no, first_no + len(blobs), dtype=np.int64)
        if root:
            blobs[0, 0], blobs[0, 1] = depth >> 8, depth & 0xFF
        node_rows.extend(zip(numbers.tolist(), (bytes(row) for row in blobs), strict=True))
        holder = np.repeat(numbers, capacity)[:len(cell_ids)]  # the node each cell of this level is in
        if level == 0:
            leaf_of = holder
        else:  # these cells are the nodes of the level below: their parent is the node holding them
            parent_rows.extend(zip(cell_ids.tolist(), holder.tolist(), strict=True))
        first_no += 0 if root else len(blobs)
    con.execute(f"DELETE FROM {_ident(r + '_node')}")  # the new table's empty root
    con.executemany(f"INSERT INTO {_ident(r + '_node')} (nodeno, data) VALUES (?, ?)", node_rows)
    con.executemany(f"INSERT INTO {_ident(r + '_parent')} (nodeno, parentnode) VALUES (?, ?)", parent_rows)
    leaf_ids = levels[0][0]
    by_id = np.argsort(leaf_ids)  # the rowid table's key order: appended, not inserted
    con.executemany(f"INSERT INTO {_ident(r + '_rowid')} (rowid, nodeno) VALUES (?, ?)",
                    zip(leaf_ids[by_id].tolist(), leaf_of[by_id].tolist(), strict=True))
    return len(ids)


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


__all__ = ["EXTENSION", "rtree_name", "create_index", "has_index", "add", "boxes", "insert_boxes", "bulk_load",
           "is_empty", "triggers_off", "clear", "ensure_extensions_table", "register_functions"]
