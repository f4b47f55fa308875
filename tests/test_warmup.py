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


def test_the_warm_up_makes_the_walls_3d_data_so_the_first_wall_finds_it(demo_store_path, tmp_path):
    """The wall registers its 3D view's city-wide data with the warm-up (both languages): after a warm-up the
    admin's first /wall/deck/data.json is answered from the job already done, not made on request."""
    import sys

    from dashboard import warmup
    from dashboard.app import create_app

    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_store_path, path)
    settings = Settings(store=str(path), secret_key="k")
    app = create_app(settings)
    wall = next(m for n, m in sys.modules.items() if n.endswith("pages.wall"))
    assert "wall-3d" in warmup._EXTRA
    version = open_store(path, create=False).data_version()
    mine = [k for k in wall._DECK_JOBS if k[0] == open_store(path, create=False).url and k[1] == version]
    assert mine == []                                   # nothing made for this store yet
    assert warmup.warm_once(settings) == version
    jobs = {k[3]: j for k, j in wall._DECK_JOBS.items()
            if k[0] == open_store(path, create=False).url and k[1] == version and k[2] is None}
    assert set(jobs) == {"zh", "en"} and all(j.done() and j.exception() is None for j in jobs.values())
    c = app.server.test_client()
    c.post("/login", data={"username": "admin", "password": "demo"})
    data = c.get("/wall/deck/data.json?lang=zh").get_json()
    assert data["ok"] and data["version"] == version
    assert data == {"ok": True, **jobs["zh"].result()}   # the warmed payload itself


def test_the_warm_up_draws_the_map_city_view_inputs_in_both_languages(demo_store_path, tmp_path):
    """The map page registers its city view with the warm-up: after it, the city's risk index, the area names of
    both languages, the area shapes and the chained lines are on the city (what the first visit to / would
    otherwise compute)."""
    from dashboard import warmup
    from dashboard.app import create_app

    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_store_path, path)
    settings = Settings(store=str(path), secret_key="k")
    create_app(settings)
    assert "map-city" in warmup._EXTRA
    city = load_city(open_store(path, create=False))
    drawn = {"risk_index", "names", "areas_gj", "lines"}
    assert not any(isinstance(k, tuple) and k[0] in drawn for k in city.extra)
    warmup.warm_once(settings)
    keys = [k for k in city.extra if isinstance(k, tuple)]
    assert {k[0] for k in keys} >= drawn
    assert {k[1] for k in keys if k[0] == "names"} == {"zh", "en"}
