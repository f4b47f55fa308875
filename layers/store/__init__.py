"""The store wing: one interface (:mod:`.base`), one implementation per backend (:mod:`.gpkg`; PostGIS next).

``open_store(url)`` picks the implementation from the URL; ``cached_read`` caches a read per store and data
version, so a new import is seen by every worker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from layers.errors import StoreError
from layers.store.base import Store, StoreBusy, Transaction
from layers.store.gpkg import SCHEMA_VERSION, GeoPackageStore, from_gpkg_blobs, to_gpkg_blobs


def open_store(url: str | Path, *, create: bool = True) -> Store:
    """Open the store at ``url`` (a GeoPackage path); create an empty one when missing and ``create``."""
    text = str(url)
    if text.startswith(("postgresql://", "postgres://")):
        raise StoreError("PostGIS 存储尚未实现 (a PostGIS store is not implemented yet; use a .gpkg path)")
    return GeoPackageStore(Path(text), create=create)



@lru_cache(maxsize=64)
def _cached_read(url: str, version: int, layer: str, columns: tuple[str, ...] | None,
                 where: tuple | None) -> pd.DataFrame:
    store = open_store(url, create=False)
    return store.read(layer, columns=list(columns) if columns else None, where=dict(where) if where else None)


def cached_read(store: Store, layer: str, *, columns: Sequence[str] | None = None,
                where: Mapping[str, Any] | None = None) -> pd.DataFrame | gpd.GeoDataFrame:
    """``store.read`` cached per (store, data version, query): a new import is seen at once by every worker.

    Callers must not modify the returned frame (copy it first).
    """
    key_where = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in (where or {}).items())) or None
    return _cached_read(store.url, store.data_version(), layer, tuple(columns) if columns else None, key_where)


__all__ = ["Store", "Transaction", "StoreBusy", "GeoPackageStore", "open_store", "cached_read", "SCHEMA_VERSION",
           "to_gpkg_blobs", "from_gpkg_blobs"]
