"""The store's interface and its contract: what every implementation (GeoPackage, PostGIS) must provide.

Everything reads and writes through :class:`Store`; ``dashboard/`` never touches SQL. Read types: DATE/DATETIME
columns come back as ``datetime64``, BOOLEAN as nullable ``boolean``, INTEGER as nullable ``Int64``;
geometries are EPSG:4326. Every write happens inside :meth:`Store.transaction`: all or nothing.

A read never waits long for a lock: when another process holds the store longer than a read may wait (a second
or so), the read raises :class:`StoreBusy` at once instead of tying up the caller's thread; callers treat it as
"no fresh data yet" (the wall keeps its last picture) and try again later.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import pandas as pd

from layers.errors import StoreError
from layers.schema import LAYERS

#: how often the default :meth:`Store.wait_for_change` looks at the data version (seconds)
CHANGE_POLL_S = 0.5
BUSY_MESSAGE = "数据正在写入，请稍候重试 (the store is busy with a write; retrying)"


class StoreBusy(StoreError):
    """Another process holds the store's lock longer than a read may wait for it; try again shortly."""

    def __init__(self, message: str = BUSY_MESSAGE):
        super().__init__(message)


def ids_since(rows: Mapping[str, str], table: str, since: int) -> tuple[int, set[str] | None]:
    """:meth:`Store.changed_ids` from a store's bookkeeping rows ``stamp:<table>`` (the table's stamp) and
    ``changes:<table>`` (JSON: ``floor``, the oldest stamp the log reaches back to, and ``log``, pairs of stamp
    and ids, None for "some rows"), as both stores keep them."""
    stamp = int(rows.get(f"stamp:{table}", 0))
    if stamp == since:
        return stamp, set()
    if stamp < since or f"changes:{table}" not in rows:
        return stamp, None
    doc = json.loads(rows[f"changes:{table}"])
    if since < int(doc["floor"]):
        return stamp, None
    out: set[str] = set()
    for seq, ids in doc["log"]:
        if seq > since:
            if ids is None:
                return stamp, None
            out.update(ids)
    return stamp, out


QUARANTINE_COLUMNS = ["layer", "source", "row", "field", "reason_zh", "reason_en", "raw", "imported_at"]
IMPORT_LOG_COLUMNS = ["layer", "source", "mode", "rows_read", "written", "quarantined", "fixed", "at", "report"]


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v)


def quarantine_records(rows: pd.DataFrame, at: str) -> list[tuple]:
    """The rows :meth:`Transaction.quarantine` writes, in :data:`QUARANTINE_COLUMNS` order, as both stores keep
    them: missing text and row numbers as NULL, ``raw`` as JSON text."""
    out = []
    for r in rows.to_dict("records"):
        raw = r.get("raw")
        out.append((r["layer"], None if _missing(r.get("source")) else str(r["source"]),
                    None if _missing(r.get("row")) else int(r["row"]),
                    None if _missing(r.get("field")) else str(r["field"]), r["reason_zh"], r["reason_en"],
                    raw if isinstance(raw, str) or raw is None else json.dumps(raw, ensure_ascii=False, default=str),
                    at))
    return out


def import_log_row(record: Mapping[str, Any], at: str) -> tuple:
    """The row :meth:`Transaction.log_import` writes, in :data:`IMPORT_LOG_COLUMNS` order (``report`` as JSON)."""
    report = record.get("report")
    return (record.get("layer"), record.get("source"), record.get("mode"), record.get("rows_read"),
            record.get("written"), record.get("quarantined"), record.get("fixed"), at,
            json.dumps(report, ensure_ascii=False, default=str) if report else None)


# --------------------------------------------------------------------------------------------------
# The interface
# --------------------------------------------------------------------------------------------------

class Transaction(ABC):
    """Writes inside one all-or-nothing transaction (see :meth:`Store.transaction`)."""

    @abstractmethod
    def append(self, layer: str, frame: pd.DataFrame) -> int: ...

    @abstractmethod
    def replace(self, layer: str, frame: pd.DataFrame) -> int: ...

    @abstractmethod
    def upsert(self, layer: str, frame: pd.DataFrame) -> int: ...

    @abstractmethod
    def update(self, layer: str, ids: Iterable[str], values: Mapping[str, Any]) -> int: ...

    @abstractmethod
    def update_versioned(self, layer: str, record_id: str, expected_version: int | None,
                         values: Mapping[str, Any]) -> int:
        """Set ``values`` on one record of a versioned layer if its version is still ``expected_version``, and
        bump the version; returns the new version. Raises :class:`layers.errors.EditConflict` (nothing written)
        when someone else saved first."""

    @abstractmethod
    def delete(self, layer: str, ids: Iterable[str]) -> int: ...

    @abstractmethod
    def quarantine(self, rows: pd.DataFrame) -> int: ...

    @abstractmethod
    def log_import(self, record: Mapping[str, Any]) -> None: ...


class Store(ABC):
    """Access to every layer. Implementations: ``layers.store.gpkg.GeoPackageStore`` (embedded default) and
    ``layers.store.postgis.PostGISStore`` (a ``postgresql://`` URL)."""

    url: str

    @abstractmethod
    def read(self, layer: str, *, columns: Sequence[str] | None = None, where: Mapping[str, Any] | None = None,
             ids: Iterable[str] | None = None) -> pd.DataFrame | gpd.GeoDataFrame:
        """Rows of ``layer``; ``where`` maps column -> value or list of values (AND-ed)."""

    @abstractmethod
    def count(self, layer: str) -> int: ...

    @abstractmethod
    def latest(self, layer: str, column: str) -> Any:
        """The largest value of ``column`` in ``layer`` (None when it has none), typed as :meth:`read` types it:
        e.g. the data's as-of date is ``latest("inspections", "date")``, without reading the table."""

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[Transaction]: ...

    @abstractmethod
    def data_version(self) -> int:
        """A number that grows with every committed write (cache key)."""

    def wait_for_change(self, since: int, timeout: float) -> int | None:
        """Wait at most ``timeout`` seconds for the data version to grow past ``since``: the new data version, or
        None when nothing changed in time. This default looks at :meth:`data_version` every
        ``CHANGE_POLL_S``; the PostGIS store is told by the database (LISTEN/NOTIFY) and does not poll."""
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            now = self.data_version()
            if now > since:
                return now
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            time.sleep(min(CHANGE_POLL_S, left))

    @abstractmethod
    def identity(self) -> tuple:
        """Which store this is, for cache keys (:mod:`layers.cache`): a tuple whose first part names the store's
        location (a resolved file path, a database URL) and whose rest tells apart two stores that were there
        (for a file: ``st_dev`` and ``st_ino``), so a store swapped for another one with the same data version
        (a restored backup) is not taken for the one cached."""

    def table_stamps(self, tables: Sequence[str]) -> dict[str, int]:
        """Per table a number that changes with every committed write to that table and never goes back (a cache
        key of what was read from it). This default says the data version for every table: always safe (every
        write changes every stamp), never finer; an implementation that knows better stamps each table."""
        version = self.data_version()
        return {t: version for t in tables}

    def changed_ids(self, table: str, since: int) -> tuple[int, set[str] | None]:
        """(the table's stamp now, the ids of its rows added, changed or deleted after stamp ``since``).

        The ids are a superset of what changed; None means "cannot tell" (too many rows, the log does not
        reach back so far, a whole-table write): the caller reads the table again. An empty set means nothing
        changed. The stamp is read before the ids, so rows read afterwards are at least that new. This default
        only knows "nothing" (stamp unchanged) or "cannot tell"."""
        stamp = self.table_stamps([table])[table]
        return stamp, (set() if stamp == since else None)

    @abstractmethod
    def schema_version(self) -> int: ...

    @abstractmethod
    def last_import(self) -> str | None: ...

    @abstractmethod
    def quarantined(self, layer: str | None = None) -> pd.DataFrame: ...

    @abstractmethod
    def imports(self) -> pd.DataFrame: ...

    def counts(self) -> dict[str, int]:
        return {name: self.count(name) for name in LAYERS}

    def health(self) -> dict[str, Any]:
        return {"store": self.url, "schema_version": self.schema_version(), "data_version": self.data_version(),
                "counts": self.counts(), "last_import": self.last_import(),
                "quarantined": int(len(self.quarantined()))}


__all__ = ["Store", "Transaction", "StoreBusy", "BUSY_MESSAGE", "ids_since"]
