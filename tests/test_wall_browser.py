"""The wall in real headless Chromium: loads clean and offline, fits the screen, refreshes, goes stale and
recovers, tours, switches language, and shows a district user only their district.

Destructive tests run their own app on a private copy of the hand-made city (``tests/test_wall_units.py``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from conftest import _ServerThread
from test_wall_units import D_A, D_B, build_city

pytestmark = pytest.mark.browser

READY = "() => window.__wallReady === true"
DECK_READY = """() => { const f = document.getElementById('wall-deck');
  return !!(f && f.contentDocument && f.contentDocument.body &&
            f.contentDocument.body.getAttribute('data-deck-state') === 'ready'); }"""


@pytest.fixture(scope="module")
def city_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("wallb") / "city.gpkg"
    build_city(path)
    return path


def _serve(path: Path, **settings):
    from dashboard.app import create_app
    from layers.settings import Settings

    app = create_app(Settings(store=str(path), secret_key="k", **settings))
    srv = _ServerThread(app)
    srv.start()
    return srv, f"http://127.0.0.1:{srv.port}"


@pytest.fixture(scope="module")
def shared_wall(city_path):
    """Read-only app on the hand-made city (tests that do not write)."""
    srv, url = _serve(city_path, wall_refresh_s=2)
    yield url
    srv.stop()


@pytest.fixture
def private_wall(city_path, tmp_path):
    """Factory: an app on a private copy of the city, for tests that write to or break its store."""
    servers = []

    def make(**settings):
        path = tmp_path / "city.gpkg"
        shutil.copyfile(city_path, path)
        srv, url = _serve(path, **settings)
        servers.append(srv)
        return url, path

    yield make
    for s in servers:
        s.stop()


def _open_wall(new_watched_page, url: str, query: str = "", viewport=(1920, 1080), user: str = "admin"):
    """Log in (the conftest form) and wait for the wall's ready marker. Not ``login()``'s "network idle": a
    wall that refreshes itself is rarely idle while the first picture of a big city is being made."""
    w = new_watched_page(viewport=viewport)
    page = w.page
    page.goto(f"{url}/login?next=/wall{query.replace('?', '%3F').replace('&', '%26')}")
    page.fill("#login-username", user)
    page.fill("#login-password", "demo")
    page.click("#login-submit")
    page.wait_for_function(READY, timeout=120_000)
    return w


def _text(page, selector: str) -> str:
    return page.inner_text(selector).strip()


def test_wall_loads_clean_offline_with_3d_view(new_watched_page, shared_wall):
    w = _open_wall(new_watched_page, shared_wall)
    page = w.page
    page.wait_for_function(DECK_READY, timeout=60_000)
    assert page.locator("#wall-map .js-plotly-plot").count() == 1
    assert _text(page, ".wall-title") == "城市安全生产风险指挥大屏"
    assert _text(page, "#wall-kpi-major .wall-tile-value") == "2"
    assert _text(page, "#wall-kpi-overdue .wall-tile-value") == "2"
    assert _text(page, "#wall-kpi-enterprises .wall-tile-value") == "5"
    assert _text(page, "#wall-kpi-grade-major") == "2"
    assert [page.get_attribute(f"#wall-rank .wall-rank-row >> nth={i}", "data-code") for i in range(2)] == [D_A, D_B]
    assert page.locator(".wall-ticker-run >> nth=0").locator(".wall-ticker-item").count() == 3
    assert page.locator(".wall-status.ok").count() == 1
    # deck.gl came from our own route; the whole page asked nothing of another host
    assert any("/wall/deck/deckgl.js?v=" in u for u in w.requests)
    assert w.foreign_requests(shared_wall.split("//")[1]) == []
    assert w.errors == []


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160), (5760, 1080)])
def test_wall_fills_the_screen_without_scrollbars(new_watched_page, shared_wall, size):
    w = _open_wall(new_watched_page, shared_wall, viewport=size)
    page = w.page
    dims = page.evaluate("""() => ({sh: document.documentElement.scrollHeight, ih: innerHeight,
        sw: document.documentElement.scrollWidth, iw: innerWidth,
        bsh: document.body.scrollHeight, bsw: document.body.scrollWidth})""")
    assert dims["sh"] <= dims["ih"] and dims["bsh"] <= dims["ih"], dims
    assert dims["sw"] <= dims["iw"] and dims["bsw"] <= dims["iw"], dims
    # every panel is on screen and the map is the largest
    boxes = {s: page.locator(s).bounding_box() for s in
             (".wall-kpis", ".wall-map-box", ".wall-rank-box", ".wall-deck-box", ".wall-ticker-box")}
    for sel, b in boxes.items():
        assert b and b["width"] > 0 and b["height"] > 0, sel
        assert b["x"] >= 0 and b["y"] >= 0 and b["x"] + b["width"] <= size[0] + 1 and \
            b["y"] + b["height"] <= size[1] + 1, (sel, b)
    area = {s: b["width"] * b["height"] for s, b in boxes.items()}
    assert max(area, key=area.get) == ".wall-map-box"
    # type grows with the screen: the big figures are at least 4% of the screen height
    px = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.wall-tile-value')).fontSize)")
    assert px >= 0.04 * size[1]
    assert w.errors == []


def test_refresh_shows_a_new_major_hazard_without_reload(new_watched_page, private_wall):
    from layers.store import open_store

    url, path = private_wall(wall_refresh_s=1)
    w = _open_wall(new_watched_page, url)
    page = w.page
    page.evaluate("() => { window.__sameDocument = true; }")
    assert _text(page, "#wall-kpi-major .wall-tile-value") == "2"
    store = open_store(path, create=False)
    with store.transaction() as tx:
        tx.append("hazards", gpd.GeoDataFrame({
            "id": ["H9"], "target_layer": ["enterprises"], "target_id": ["E3"], "level": ["major"],
            "found_date": pd.to_datetime(["2026-11-19"]), "deadline": pd.to_datetime(["2026-12-19"]),
            "status": ["open"]}, geometry=[None], crs=4326))
    page.wait_for_function("""() => document.querySelector('#wall-kpi-major .wall-tile-value').innerText.trim()
                              === '3'""", timeout=60_000)
    page.wait_for_selector('.wall-ticker-item[data-hazard="H9"]', state="attached", timeout=10_000)
    assert page.evaluate("() => window.__sameDocument === true")   # no reload happened
    # the deck was told the new version and reloaded its data
    version = store.data_version()
    page.wait_for_function(f"""() => document.getElementById('wall-deck').contentDocument.body
                               .getAttribute('data-deck-version') === '{version}'""", timeout=30_000)
    assert w.errors == []


def test_stale_when_store_unreadable_then_recovers(new_watched_page, private_wall):
    url, path = private_wall(wall_refresh_s=1)
    w = _open_wall(new_watched_page, url)
    page = w.page
    page.wait_for_function(DECK_READY, timeout=60_000)
    before = {k: _text(page, f"#wall-kpi-{k} .wall-tile-value") for k in ("enterprises", "major", "overdue")}
    away = path.with_name("away.gpkg")
    path.rename(away)
    path.write_bytes(b"this is not a GeoPackage \x00\x01\x02" * 100)   # garbage where the store was
    page.wait_for_selector(".wall-status.stale", timeout=60_000)
    assert "不可读" in _text(page, "#wall-status")
    after = {k: _text(page, f"#wall-kpi-{k} .wall-tile-value") for k in ("enterprises", "major", "overdue")}
    assert after == before                                  # the last good picture stays
    assert page.locator("#wall-map .js-plotly-plot").count() == 1
    assert page.locator(".wall-ticker-item").count() > 0
    path.unlink()
    away.rename(path)
    page.wait_for_selector(".wall-status.ok", timeout=60_000)
    assert _text(page, "#wall-kpi-major .wall-tile-value") == before["major"]
    # server-side failures were logged, never shown: the browser saw no error
    assert w.errors == []


def test_tour_visits_each_district_and_the_figures_follow(new_watched_page, shared_wall):
    w = _open_wall(new_watched_page, shared_wall, query="?tour=2")
    page = w.page
    page.wait_for_function(DECK_READY, timeout=60_000)
    for name, code, total in (("甲区", D_A, "3"), ("乙区", D_B, "2"), ("全市", "", "5")):
        # one moment where the label, the figures, the ranking and the 3D view all show the same stop
        page.wait_for_function(f"""() => {{
            const label = document.getElementById('wall-focus').innerText.trim();
            const total = document.querySelector('#wall-kpi-enterprises .wall-tile-value').innerText.trim();
            const cur = [...document.querySelectorAll('.wall-rank-row.current')].map(r => r.dataset.code);
            const deck = document.getElementById('wall-deck').contentDocument.body.getAttribute('data-deck-focus');
            return label === '{name}' && total === '{total}' && cur.join() === '{code}' && deck === '{code}';
        }}""", timeout=30_000)
    assert w.errors == []


def test_language_switch(new_watched_page, shared_wall):
    w = _open_wall(new_watched_page, shared_wall, query="?lang=en")
    page = w.page
    assert _text(page, ".wall-title") == "City work-safety command centre"
    assert _text(page, "#wall-focus") == "Whole city"
    assert _text(page, "#wall-kpi-major .wall-tile-label") == "Open major hazards"
    assert "Data as of 2026-11-20" in _text(page, "#wall-updated")
    assert _text(page, "#wall-rank .wall-rank-row >> nth=0 >> .wall-rank-name") == "Jia"
    page.wait_for_function(DECK_READY, timeout=60_000)
    assert page.frame_locator("#wall-deck").locator("html").get_attribute("lang") == "en"
    page.click("#wall-lang-switch")
    page.wait_for_function("() => document.querySelector('.wall-title') && "
                           "document.querySelector('.wall-title').innerText.trim() === '城市安全生产风险指挥大屏'",
                           timeout=30_000)
    assert _text(page, "#wall-focus") == "全市"
    assert w.errors == []


def test_district_user_sees_only_their_district(new_watched_page, shared_wall):
    w = _open_wall(new_watched_page, shared_wall, user="d" + D_A)
    page = w.page
    assert _text(page, "#wall-focus") == "甲区"
    assert _text(page, "#wall-kpi-enterprises .wall-tile-value") == "3"
    codes = page.eval_on_selector_all("#wall-rank .wall-rank-row", "rows => rows.map(r => r.dataset.code)")
    assert sorted(codes) == [D_A + "001", D_A + "002"]
    assert _text(page, "#wall-rank-title") == "镇街风险指数排名"
    assert "乙区" not in page.inner_text("#wall-ticker")
    # the 3D data route answers for the session's user only
    data = page.evaluate("() => fetch('/wall/deck/data.json').then(r => r.json())")
    assert set(data["areas"]) == {D_A + "001", D_A + "002"}
    assert w.errors == []


def test_demo_city_wall_at_4k_is_clean(new_watched_page, live_app):
    """The session's demo city on a 4K wall: no console error, nothing fetched from another host, no
    scrollbar, Chinese text, the 3D view drawn."""
    w = _open_wall(new_watched_page, live_app.url, viewport=(3840, 2160))
    page = w.page
    page.wait_for_function(DECK_READY, timeout=90_000)
    dims = page.evaluate("""() => [document.documentElement.scrollHeight, innerHeight,
                                   document.documentElement.scrollWidth, innerWidth]""")
    assert dims[0] <= dims[1] and dims[2] <= dims[3], dims
    assert _text(page, ".wall-title") == "城市安全生产风险指挥大屏"
    assert page.locator("#wall-rank .wall-rank-row").count() == 8           # the demo city's districts
    assert int(_text(page, "#wall-kpi-enterprises .wall-tile-value").replace(",", "")) > 0
    assert w.foreign_requests(live_app.host) == []
    assert w.errors == []
