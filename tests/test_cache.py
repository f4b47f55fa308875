"""layers.cache: single-flight, keys with the store file's identity, older versions let go; and the caches built
on it (load_city, compute_cached, cached_read) computing once for N concurrent cold callers."""

from __future__ import annotations

import gc
import os
import shutil
import threading
import time
import weakref
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from layers.cache import StoreCache, cache_stats, file_identity
from layers.store import open_store

N = 8


class Value:
    """A cached thing a weak reference can follow."""

    def __init__(self, n: int):
        self.n = n


class FakeStore:
    """Just what StoreCache asks of a store."""

    def __init__(self, where: str = "/tmp/fake.gpkg", inode: int = 1, version: int = 1):
        self.where, self.inode, self.version = where, inode, version

    def identity(self) -> tuple:
        return (self.where, 0, self.inode)

    def data_version(self) -> int:
        return self.version


def together(fn, n: int = N) -> list:
    """``fn()`` on ``n`` threads released at once; their results (or exceptions), in thread order."""
    barrier = threading.Barrier(n)
    out: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = fn()
        except Exception as exc:  # noqa: BLE001 - the test looks at what each thread got
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


# --------------------------------------------------------------------------------------------------
# The helper
# --------------------------------------------------------------------------------------------------

def test_concurrent_cold_callers_wait_for_one_computation():
    cache: StoreCache[Value] = StoreCache("t-single", maxsize=4)
    store, calls = FakeStore(), []

    def compute() -> Value:
        calls.append(threading.get_ident())
        time.sleep(0.2)  # long enough that every thread arrives while it runs
        return Value(1)

    got = together(lambda: cache.get(store, compute))
    assert len(calls) == 1
    assert all(g is got[0] for g in got) and isinstance(got[0], Value)
    s = cache.stats()
    assert (s.misses, s.waits + s.hits, s.entries, s.in_flight, s.errors) == (1, N - 1, 1, 0, 0)
    assert cache.get(store, compute) is got[0] and len(calls) == 1


def test_an_exception_reaches_every_waiter_and_is_not_cached():
    cache: StoreCache[Value] = StoreCache("t-error", maxsize=4)
    store, calls = FakeStore(), []

    def fail() -> Value:
        calls.append(1)
        time.sleep(0.2)
        raise ValueError("broken layer")

    got = together(lambda: cache.get(store, fail))
    assert len(calls) == 1
    assert all(isinstance(g, ValueError) and str(g) == "broken layer" for g in got)
    assert len(cache) == 0 and cache.stats().errors == 1
    assert cache.get(store, lambda: Value(2)).n == 2  # the next call computes again


def test_a_new_data_version_frees_the_old_entry():
    cache: StoreCache[Value] = StoreCache("t-evict", maxsize=4)
    store = FakeStore(version=1)
    old = weakref.ref(cache.get(store, lambda: Value(1)))
    other = cache.get(FakeStore(where="/tmp/other.gpkg"), lambda: Value(9))  # another store is kept
    gc.collect()
    assert old() is not None
    store.version = 2
    seen: list = []
    new = cache.get(store, lambda: seen.append(old()) or Value(2))
    gc.collect()
    assert seen == [None]  # let go before the new version was computed: never both in memory
    assert old() is None and new.n == 2
    assert {k[1] for k in cache.keys()} == {2, 1} and len(cache) == 2  # 1: the other store's
    assert cache.get(FakeStore(where="/tmp/other.gpkg"), lambda: Value(0)) is other


def test_the_lru_bound_holds_over_stores_and_keys():
    cache: StoreCache[Value] = StoreCache("t-lru", maxsize=2)
    for i in range(5):
        cache.get(FakeStore(where=f"/tmp/s{i}.gpkg"), lambda i=i: Value(i))
    assert len(cache) == 2 and [k[0][0] for k in cache.keys()] == ["/tmp/s3.gpkg", "/tmp/s4.gpkg"]
    assert cache.stats().evictions == 3


def test_a_result_overtaken_by_a_newer_version_is_not_kept():
    cache: StoreCache[Value] = StoreCache("t-overtaken", maxsize=4)
    store = FakeStore(version=1)
    started, release = threading.Event(), threading.Event()

    def slow() -> Value:
        started.set()
        release.wait(10)
        return Value(1)

    t = threading.Thread(target=lambda: cache.get(store, slow))
    t.start()
    started.wait(10)
    newer = cache.get(FakeStore(version=2), lambda: Value(2))  # a write landed meanwhile
    release.set()
    t.join(10)
    assert [k[1] for k in cache.keys()] == [2] and cache.get(FakeStore(version=2), lambda: Value(0)) is newer


def test_a_computation_asking_for_itself_is_refused():
    cache: StoreCache[Value] = StoreCache("t-cycle", maxsize=4)
    store = FakeStore()
    with pytest.raises(RuntimeError, match="cycle"):
        cache.get(store, lambda: cache.get(store, lambda: Value(0)))
    assert len(cache) == 0 and cache.stats().in_flight == 0


def test_clear_and_stats():
    cache: StoreCache[Value] = StoreCache("t-clear", maxsize=3)
    cache.get(FakeStore(), lambda: Value(1), key="a")
    cache.get(FakeStore(), lambda: Value(2), key="b")
    assert len(cache) == 2 and any(s.name == "t-clear" and s.entries == 2 for s in cache_stats())
    cache.clear()
    assert len(cache) == 0 and cache.stats().misses == 0
    with pytest.raises(ValueError, match="maxsize"):
        StoreCache("t-bad", maxsize=0)


# --------------------------------------------------------------------------------------------------
# Identity: a file swapped for another with the same data version is another store
# --------------------------------------------------------------------------------------------------

@pytest.fixture
def two_stores(demo_store_path: Path, tmp_path: Path):
    """Two real GeoPackage stores with the same data version and different contents."""
    a, b = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    shutil.copyfile(demo_store_path, a)
    shutil.copyfile(demo_store_path, b)
    sa, sb = open_store(a), open_store(b)
    with sb.transaction() as tx:
        tx.update("districts", [sb.read("districts")["code"].iloc[0]], {"name": "换过的区"})
    with sa.transaction() as tx:  # the same number of writes: the same data version
        tx.update("districts", [sa.read("districts")["code"].iloc[0]], {"name_en": "same"})
    assert sa.data_version() == sb.data_version()
    return sa, sb


def test_store_identity_is_the_file_path_device_and_inode(two_stores):
    sa, sb = two_stores
    st = os.stat(sa.path)
    assert sa.identity() == (str(Path(sa.path).resolve()), st.st_dev, st.st_ino) == file_identity(sa.path)
    assert sa.identity() != sb.identity()


def test_a_store_file_replaced_by_another_with_the_same_data_version_is_a_miss(two_stores, tmp_path):
    from layers.store import cached_read

    sa, sb = two_stores
    first = cached_read(sa, "districts")["name"].iloc[0]
    assert first != "换过的区"
    # a restored backup: another store's file copied in beside and moved over this one
    staged = tmp_path / "staged.gpkg"
    shutil.copyfile(sb.path, staged)
    os.replace(staged, sa.path)
    again = open_store(sa.path, create=False)  # another app instance, or the same one
    assert again.data_version() == sb.data_version() and again.url == sa.url
    assert cached_read(again, "districts")["name"].iloc[0] == "换过的区"
    assert cached_read(sa, "districts")["name"].iloc[0] == "换过的区"


# --------------------------------------------------------------------------------------------------
# The caches built on it
# --------------------------------------------------------------------------------------------------

def test_cached_read_reads_once_for_concurrent_cold_callers(writable_store, monkeypatch):
    from layers.store import cached_read
    from layers.store.gpkg import GeoPackageStore

    reads: list = []
    real = GeoPackageStore.read

    def counting(self, layer, **kw):
        if layer == "towns":
            reads.append(layer)
            time.sleep(0.1)
        return real(self, layer, **kw)

    monkeypatch.setattr(GeoPackageStore, "read", counting)
    got = together(lambda: cached_read(open_store(writable_store.url, create=False), "towns"))
    assert len(reads) == 1 and all(g is got[0] for g in got) and len(got[0]) > 0


def test_load_city_builds_once_for_concurrent_cold_callers_and_drops_the_old_city(writable_store, monkeypatch):
    from layers.analysis import summary

    store = writable_store
    builds: list = []
    real = summary._load_city

    def counting(*args, **kw):
        builds.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(summary, "_load_city", counting)
    got = together(lambda: summary.load_city(open_store(store.url, create=False)))
    assert len(builds) == 1 and all(g is got[0] for g in got)
    old = weakref.ref(got[0])
    del got
    with store.transaction() as tx:  # an import: a new data version
        tx.update("districts", [store.read("districts")["code"].iloc[0]], {"name_en": "after"})
    got = together(lambda: summary.load_city(open_store(store.url, create=False)))
    assert len(builds) == 2 and all(g is got[0] for g in got) and got[0].version == store.data_version()
    gc.collect()
    assert old() is None  # the older city is let go
    assert [k[1] for k in summary._CITIES.keys() if k[0] == store.identity()] == [store.data_version()]


def test_compute_cached_computes_once_for_concurrent_cold_callers(writable_store, monkeypatch):
    from layers.analysis.coverage import cache
    from layers.settings import Settings

    calls: list = []
    real = cache.compute

    def counting(*args, **kw):
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(cache, "compute", counting)
    s, day = Settings(), date(2026, 11, 1)
    got = together(lambda: cache.compute_cached(open_store(writable_store.url, create=False), as_of=day,
                                                settings=s, today=day))
    assert len(calls) == 1 and all(g is got[0] for g in got)
    assert isinstance(got[0].summary, dict)
    # another date: computed again, from the layers already read
    cache.compute_cached(writable_store, as_of=date(2026, 6, 1), settings=s, today=day)
    assert len(calls) == 2 and len(cache._FRAMES) == 1


def test_every_per_version_cache_is_one_store_cache():
    import layers.analysis.coverage.cache  # noqa: F401 - registers its caches
    import layers.analysis.summary  # noqa: F401
    import layers.basemap.build  # noqa: F401
    import layers.ledger.query  # noqa: F401
    import layers.planning.routes  # noqa: F401
    import layers.store  # noqa: F401

    names = {s.name for s in cache_stats()}
    assert {"store reads", "city", "coverage frames", "coverage results", "ledger", "ledger targets",
            "ledger repeat flags", "basemap info", "basemap fingerprint", "road graph"} <= names


def test_a_frame_from_the_cache_is_the_store_read(writable_store):
    from layers.store import cached_read

    pd.testing.assert_frame_equal(pd.DataFrame(cached_read(writable_store, "districts")),
                                  pd.DataFrame(writable_store.read("districts")))
