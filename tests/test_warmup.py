"""The served app warms the shared caches after a start and after an import (dashboard.warmup)."""

from __future__ import annotations

import shutil
import time

from layers.analysis.coverage import cache as cov_cache
from layers.analysis.summary import load_city
from layers.cache import StoreCache
from layers.settings import Settings
from layers.store import open_store


def _entries(cache: StoreCache, path) -> int:
    return sum(1 for k in cache.keys() if str(path) in str(k))


def test_warm_once_builds_the_city_and_its_coverage_then_a_visit_finds_them(demo_store_path, tmp_path):
    from dashboard import warmup
    from layers.analysis import summary

    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_store_path, path)
    settings = Settings(store=str(path))
    assert _entries(summary._CITIES, path.resolve()) == 0 and _entries(cov_cache._RESULTS, path.resolve()) == 0
    version = warmup.warm_once(settings)
    store = open_store(path, create=False)
    assert version == store.data_version()
    assert _entries(summary._CITIES, path.resolve()) == 1 and _entries(cov_cache._RESULTS, path.resolve()) == 1
    from layers.analysis.readiness import cache as rd_cache
    from layers.emergency import incident

    assert _entries(rd_cache._RESULTS, path.resolve()) == 1 and _entries(incident._INDEX, path.resolve()) == 1
    hits = summary._CITIES.stats().hits
    load_city(store)                                  # what the first visitor's page asks for
    assert summary._CITIES.stats().hits == hits + 1


def test_the_warm_up_thread_warms_again_after_an_import(demo_store_path, tmp_path, monkeypatch):
    from dashboard import warmup
    from layers.analysis import summary

    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_store_path, path)
    monkeypatch.setattr(warmup, "CHECK_EVERY_S", 0.2)
    running = warmup.start(Settings(store=str(path)))
    try:
        store = open_store(path)
        deadline = time.monotonic() + 120
        while _entries(cov_cache._RESULTS, path.resolve()) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        before = store.data_version()
        teams = store.read("teams")
        with store.transaction() as tx:               # an import of another process changes the data version
            tx.replace("teams", teams.head(len(teams) - 1))
        assert store.data_version() != before
        key_of_new = str(store.data_version())
        while not any(key_of_new in str(k) for k in summary._CITIES.keys()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert any(key_of_new in str(k) for k in summary._CITIES.keys()), summary._CITIES.keys()
    finally:
        running.stop()            # joined: no thread left computing when the test process ends
        assert not running.thread.is_alive()
