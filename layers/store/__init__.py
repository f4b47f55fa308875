"""The store wing: one interface (:mod:`.base`), one implementation per backend (:mod:`.gpkg`, :mod:`.postgis`).

``open_store(url)`` picks the implementation from the URL; ``cached_read`` caches a read per store identity and
data version (:mod:`layers.cache`), so a new import is seen by every worker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from layers.cache import StoreCache
from layers.store.base import Store, StoreBusy, Transaction
from layers.store.gpkg import SCHEMA_VERSION, GeoPackageStore, from_gpkg_blobs, to_gpkg_blobs

DATABASE_SCHEMES = ("postgresql://", "postgres://")


def is_database_url(url: str | Path) -> bool:
    """True when ``url`` names a database (PostGIS) rather than a GeoPackage file."""
    return str(url).startswith(DATABASE_SCHEMES)


def shown_url(url: str | Path) -> str:
    """``url`` as it may be shown or logged: a database URL without its password."""
    from urllib.parse import urlsplit, urlunsplit

    text = str(url)
    if not is_database_url(text):
        return text
    parts = urlsplit(text)
    if parts.password is None:
        return text
    netloc = f"{parts.username}@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def store_exists(url: str | Path) -> bool:
    """Whether a store is already at ``url`` (a GeoPackage file there; a database holding our tables)."""
    if is_database_url(url):
        from layers.store.postgis import PostGISStore

        return PostGISStore.exists(str(url))
    return Path(url).exists()


def open_store(url: str | Path, *, create: bool = True) -> Store:
    """Open the store at ``url``: a GeoPackage path, or a ``postgresql://`` URL (:mod:`layers.store.postgis`,
    imported only then); create an empty one when missing and ``create``."""
    text = str(url)
    if is_database_url(text):
        from layers.store.postgis import PostGISStore

        return PostGISStore(text, create=create)
    return GeoPackageStore(Path(text), create=create)


def __getattr__(name: str) -> Any:
    """``PostGISStore`` on first use: psycopg is imported only by those who use a database store."""
    if name == "PostGISStore":
        from layers.store.postgis import PostGISStore

        return PostGISStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: one entry per (layer, columns, filter) read; the city, the ledger and the access checks read about 40
_READS: StoreCache[pd.DataFrame] = StoreCache("store reads", maxsize=64)


def cached_read(store: Store, layer: str, *, columns: Sequence[str] | None = None,
                where: Mapping[str, Any] | None = None) -> pd.DataFrame | gpd.GeoDataFrame:
    """``store.read`` cached per (store identity, data version, query) (:mod:`layers.cache`): a new import is
    seen at once by every worker, concurrent cold callers read once, an older data version is let go.

    Callers must not modify the returned frame (copy it first).
    """
    key_where = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in (where or {}).items())) or None
    cols = list(columns) if columns else None
    return _READS.get(store, lambda: store.read(layer, columns=cols, where=where),
                      key=(layer, tuple(cols) if cols else None, key_where))


def clear_read_cache() -> None:
    """Forget every cached read (tests, benchmarks)."""
    _READS.clear()


__all__ = ["is_database_url", "shown_url", "store_exists", "Store", "Transaction", "StoreBusy", "GeoPackageStore", "PostGISStore", "open_store", "cached_read", "clear_read_cache", "SCHEMA_VERSION",
           "to_gpkg_blobs", "from_gpkg_blobs"]
