"""One small cache for what is computed from a store's data: single-flight, keyed by the store's identity and
data version, newest version only.

Every per-data-version cache in ``layers/`` is a :class:`StoreCache` (``cached_read``, ``load_city``, coverage,
the ledger, the basemap's fingerprint, the planner's road graph):

- **single-flight**: concurrent callers of a cold key wait for one computation and get the same object; an
  exception reaches every waiter and is not cached (the next call computes again);
- **identity**: a key holds :meth:`layers.store.Store.identity` (for a GeoPackage the resolved path, ``st_dev``
  and ``st_ino``) and a version (the data version, or the table stamps a caller passes), so a store file
  swapped for another one with the same data version (a restored backup) is a miss;
- **eviction**: per store location (the identity's first part) only the newest (identity, version) is kept:
  when a call brings a new one, the older entries are dropped at once, before the new value is computed, so
  two cities are never held together; beyond that a small LRU bound per cache (``maxsize``).

A cache is per process (each worker has its own); what makes it correct across workers and app instances is
the key: a write anywhere is a new data version, a swapped file a new identity.

Callers must not modify a value they get (copy it first): it is shared.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from layers.store.base import Store

V = TypeVar("V")

_REGISTRY: list[StoreCache] = []
_REGISTRY_LOCK = threading.Lock()


def file_identity(path: str | os.PathLike[str]) -> tuple[str, int, int]:
    """(resolved path, ``st_dev``, ``st_ino``) of the file at ``path``: what changes when the file is replaced
    by another one (``os.replace``, a restore, a copy moved in), even with the same name and contents."""
    p = Path(path).resolve()
    st = p.stat()
    return (str(p), int(st.st_dev), int(st.st_ino))


@dataclass(frozen=True)
class CacheStats:
    """What a cache holds and has done since it was created (or last cleared)."""

    name: str
    entries: int
    maxsize: int
    hits: int           # calls answered from the cache
    misses: int         # computations started
    waits: int          # calls that waited for another caller's computation of the same key
    errors: int         # computations that raised (not cached)
    evictions: int      # entries dropped: an older version of a store, or beyond ``maxsize``
    in_flight: int      # computations running now


class StoreCache(Generic[V]):
    """A keyed, single-flight cache of values computed from one store's data (see the module docstring).

    Parameters
    ----------
    name:
        Shown by :meth:`stats` and :func:`cache_stats`.
    maxsize:
        Entries kept in all (over every store, version and key), least recently used dropped first.
    """

    def __init__(self, name: str, *, maxsize: int = 4):
        if maxsize < 1:
            raise ValueError(f"maxsize should be at least 1, got {maxsize}")
        self.name = name
        self.maxsize = maxsize
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, Any] = OrderedDict()
        self._flights: dict[tuple, tuple[Future, int]] = {}
        self._newest: dict[Hashable, tuple] = {}   # store location -> (identity, version) last asked for
        self._counts = dict.fromkeys(("hits", "misses", "waits", "errors", "evictions"), 0)
        with _REGISTRY_LOCK:
            _REGISTRY.append(self)

    # -- use ----------------------------------------------------------------------------------------
    def get(self, store: Store, compute: Callable[[], V], *, key: Hashable = (),
            version: Hashable | None = None) -> V:
        """The value for (``store``'s identity, ``version``, ``key``), computed by ``compute()`` on a miss.

        ``version`` defaults to ``store.data_version()``; pass the table stamps read from the store when the
        value depends on some tables only. Read the version *before* ``compute`` reads the data (as this does),
        so what is cached is at least as new as its key."""
        identity = tuple(store.identity())
        if version is None:
            version = store.data_version()
        return self.get_at(identity, version, compute, key=key)

    def get_at(self, identity: tuple, version: Hashable, compute: Callable[[], V], *, key: Hashable = ()) -> V:
        """:meth:`get` for an identity given by the caller (e.g. :func:`file_identity` of a file that is no
        store); ``identity[0]`` names the location whose older versions are dropped."""
        full = (identity, version, key)
        state = (identity, version)
        me = threading.get_ident()
        with self._lock:
            if full in self._entries:
                self._entries.move_to_end(full)
                self._counts["hits"] += 1
                return self._entries[full]
            where = identity[0]
            if self._newest.get(where) != state:
                self._newest[where] = state
                for old in [k for k in self._entries if k[0][0] == where and (k[0], k[1]) != state]:
                    del self._entries[old]
                    self._counts["evictions"] += 1
            flight = self._flights.get(full)
            if flight is None:
                future: Future = Future()
                self._flights[full] = (future, me)
                self._counts["misses"] += 1
                leader = True
            else:
                future, owner = flight
                if owner == me:
                    raise RuntimeError(f"cache {self.name!r}: computing {key!r} asked for itself (a cycle)")
                self._counts["waits"] += 1
                leader = False
        if not leader:
            return future.result()
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                del self._flights[full]
                self._counts["errors"] += 1
            future.set_exception(exc)
            raise
        with self._lock:
            del self._flights[full]
            if self._newest.get(identity[0]) == state:  # not overtaken by a newer version meanwhile
                self._entries[full] = value
                while len(self._entries) > self.maxsize:
                    self._entries.popitem(last=False)
                    self._counts["evictions"] += 1
        future.set_result(value)
        return value

    # -- look ---------------------------------------------------------------------------------------
    def clear(self) -> None:
        """Forget every entry and reset the counts (running computations finish and are not cached)."""
        with self._lock:
            self._entries.clear()
            self._newest.clear()
            self._counts = dict.fromkeys(self._counts, 0)

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[tuple]:
        """(identity, version, key) of every entry, least recently used first."""
        with self._lock:
            return list(self._entries)

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(name=self.name, entries=len(self._entries), maxsize=self.maxsize,
                              in_flight=len(self._flights), **self._counts)


def cache_stats() -> list[CacheStats]:
    """:meth:`StoreCache.stats` of every cache of this process."""
    with _REGISTRY_LOCK:
        caches = list(_REGISTRY)
    return [c.stats() for c in caches]


def clear_all() -> None:
    """Empty every cache of this process (tests, benchmarks)."""
    with _REGISTRY_LOCK:
        caches = list(_REGISTRY)
    for c in caches:
        c.clear()


__all__ = ["CacheStats", "StoreCache", "cache_stats", "clear_all", "file_identity"]
