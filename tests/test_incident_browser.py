"""The incident page in real headless Chromium: a click on the MapLibre map sets the place and the nearest
resources show with their minutes and routes drawn; the incident is recorded and listed, its sheet opens; no
request goes to any host but the app's and the console stays clean."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import _ServerThread, _watch, login

from layers.store import open_store

pytestmark = pytest.mark.browser

GD = "document.querySelector('#incident-map .js-plotly-plot')"
READY = f"""() => {{ const g = {GD};
  const m = g && g._fullLayout && g._fullLayout.map && g._fullLayout.map._subplot;
  return !!(m && m.map && m.map.isStyleLoaded() && g.querySelector('.maplibregl-canvas') &&
            g.getAttribute('data-click-ready') === '1'); }}"""


@pytest.fixture(scope="module")
def incident_server(demo_store_path, tmp_path_factory):
    """The app on its own copy of the small city (this test writes incidents), on a free port."""
    from dashboard.app import create_app
    from layers.settings import Settings

    path = tmp_path_factory.mktemp("incidentbrowser") / "city.gpkg"
    shutil.copyfile(demo_store_path, path)
    srv = _ServerThread(create_app(Settings(store=str(path), secret_key="k")))
    srv.start()
    try:
        yield f"http://127.0.0.1:{srv.port}", path
    finally:
        srv.stop()


def _screen_xy(page, lon: float, lat: float) -> tuple[float, float]:
    return tuple(page.evaluate(f"""([lon, lat]) => {{
        const sp = {GD}._fullLayout.map._subplot; const box = sp.div.getBoundingClientRect();
        const p = sp.map.project([lon, lat]); return [box.left + p.x, box.top + p.y]; }}""", [lon, lat]))


def test_a_click_on_the_map_opens_an_incident_with_the_nearest_resources(browser, incident_server):
    url, path = incident_server
    host = url.split("//", 1)[1]
    store = open_store(path, create=False)
    ent = store.read("enterprises", columns=["id", "name", "district_code", "industry", "geometry"])
    e = ent[ent["district_code"] == "420102"].iloc[0]
    lon, lat = float(e.geometry.x) + 0.0004, float(e.geometry.y) + 0.0003   # a place beside it, not on it
    before = store.count("incidents")
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    try:
        w = _watch(ctx.new_page())
        page = w.page
        page.set_default_timeout(90_000)
        login(page, url, user="d420102", next_path="/incident")
        page.wait_for_selector("#incident-map")
        page.wait_for_function(READY)
        page.locator("#incident-kind input[value='fire']").check()
        x, y = _screen_xy(page, lon, lat)
        page.mouse.move(x - 5, y - 5)
        page.mouse.move(x, y)
        page.mouse.click(x, y)
        page.wait_for_selector("#inc-res-fire_station tbody tr")
        first = page.locator("#inc-res-fire_station tbody tr").first
        cells = first.locator("td").all_inner_texts()
        assert cells[0] == "1" and cells[2].endswith("分钟") and float(cells[2].split()[0]) > 0
        assert page.locator("#inc-where").inner_text().count("420102") == 1
        # the routes are drawn: a line trace per resource listed, from the resource to the place
        n_routes = page.evaluate(f"() => {GD}.data.filter(t => (t.name || '').startsWith('route-')).length")
        assert n_routes >= 1
        # the place the server used is where the click was (a few metres: the map's own projection)
        place = page.evaluate(f"() => {GD}.data.find(t => t.name === 'place' && t.mode === 'markers' && t.text)")
        assert place is not None
        if os.environ.get("RISKMAP_SCREENSHOTS"):
            out = Path(os.environ["RISKMAP_SCREENSHOTS"]) / "incident-zh.png"
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out), full_page=False)

        page.click("#incident-open")
        page.wait_for_selector(".inc-ok")
        assert "已登记事件" in page.locator("#incident-msg").inner_text()
        page.wait_for_selector("#inc-list-table tbody tr")
        assert store.count("incidents") == before + 1
        row = store.read("incidents").sort_values("opened_at").iloc[-1]
        assert row["opened_by"] == "d420102" and row["district_code"] == "420102" and row["status"] == "open"
        assert page.locator(f"#inc-list-table tr[data-id='{row['id']}']").count() == 1

        page.goto(f"{url}/incident/sheet?id={row['id']}")
        page.wait_for_selector("#inc-sheet-title")
        assert row["id"] in page.locator("#inc-sheet-title").inner_text()
        assert page.locator("#inc-sheet-resources tbody tr").count() >= 1

        assert w.foreign_requests(host) == []
        assert [e for e in w.errors if "favicon" not in e] == []
    finally:
        ctx.close()
