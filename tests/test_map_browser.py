"""The map page in real headless Chromium: clean load, offline, layer switch, drill-down, URL, language,
escaped names, and a district user's refusals."""

from __future__ import annotations

import json
import shutil
from urllib.parse import parse_qsl, urlparse

import pytest
from conftest import _ServerThread, login

from dashboard.i18n import t
from layers.store import open_store

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"
MAP_READY = """() => { const g = document.querySelector('#map-graph .js-plotly-plot');
  const m = g && g._fullLayout && g._fullLayout.map && g._fullLayout.map._subplot;
  return !!(m && m.map && m.viewInitial && Object.keys(m.traceHash).length && m.map.isStyleLoaded() && g.calcdata && g.querySelector('.maplibregl-canvas')); }"""
GD = "document.querySelector('#map-graph .js-plotly-plot')"


def _open(page, url: str) -> None:
    page.set_default_timeout(120_000)   # shared CI machines: waits are for events, never timed assertions
    page.goto(url)
    page.wait_for_function(MAP_READY, timeout=90_000)
    page.wait_for_load_state("networkidle")


def _query(page) -> dict:
    return dict(parse_qsl(urlparse(page.url).query))


def _screen_xy(page, lon: float, lat: float) -> tuple[float, float]:
    """Screen position of ``lon``, ``lat`` on the MapLibre map."""
    return tuple(page.evaluate(f"""([lon, lat]) => {{
        const sp = {GD}._fullLayout.map._subplot; const box = sp.div.getBoundingClientRect();
        const p = sp.map.project([lon, lat]); return [box.left + p.x, box.top + p.y]; }}""", [lon, lat]))


def _click(page, x: float, y: float) -> None:
    """Hover, then click: on a MapLibre map plotly.js clicks what the last mousemove hovered."""
    page.mouse.move(x - 8, y - 8)
    page.mouse.move(x, y)
    page.wait_for_function(f"() => ({GD})._hoverdata?.length > 0", timeout=30_000)
    page.mouse.click(x, y)


def _point_xy(page, custom: str) -> tuple[float, float]:
    """Screen position of the map point whose customdata is ``custom``."""
    lonlat = page.evaluate(f"""(custom) => {{
        const gd = {GD};
        for (let c = gd._fullData.length - 1; c >= 0; c--) {{
            const tr = gd._fullData[c]; if (!tr.customdata || tr.visible !== true || !tr.lon) continue;
            const i = Array.from(tr.customdata).indexOf(custom);
            if (i >= 0) return [tr.lon[i], tr.lat[i]];
        }}
        return null; }}""", custom)
    return _screen_xy(page, *lonlat)


def _area_xy(page, store_path, code: str) -> tuple[float, float]:
    """Screen position of the spot inside district ``code`` farthest from every point object and line (an
    area takes the click where no point is)."""
    import numpy as np
    import shapely

    from layers.analysis.summary import load_city

    city = load_city(open_store(store_path, create=False))
    area = city.districts.loc[city.districts["code"] == code].geometry.iloc[0]
    pts = np.concatenate([f.loc[f["x"].notna(), ["x", "y"]].to_numpy(float) for f in city.objects.values()
                          if "x" in f and len(f)])
    minx, miny, maxx, maxy = area.bounds
    gx, gy = np.meshgrid(np.linspace(minx, maxx, 60), np.linspace(miny, maxy, 60))
    cand = shapely.points(gx.ravel(), gy.ravel())
    cand = cand[shapely.contains(area.buffer(-0.002), cand)]
    _, dist = shapely.STRtree(shapely.points(pts)).query_nearest(cand, return_distance=True, all_matches=False)
    best = cand[int(np.argmax(dist))]
    return _screen_xy(page, best.x, best.y)


@pytest.fixture(scope="module")
def city(live_app):
    store = open_store(live_app.store_path, create=False)
    d = store.read("districts", columns=["code", "name", "name_en"]).sort_values("code").reset_index(drop=True)
    e = store.read("enterprises", columns=["id", "district_code", "grade"])
    return {"districts": d, "enterprises": e}


def test_page_loads_clean_and_offline(watched_page, live_app):
    page = watched_page.page
    _open(page, live_app.url + "/")
    assert watched_page.errors == []
    assert watched_page.foreign_requests(live_app.host) == []
    assert page.inner_text("#panel-area") == "全市"
    kinds = page.evaluate(f"""() => Array.from(new Set({GD}._fullData.flatMap(t =>
        t.customdata ? Array.from(t.customdata).map(c => String(c).split(':')[0]) : [])))""")
    assert {"enterprises", "venues", "bridges", "district"} <= set(kinds)
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN"
    # figures follow the visible extent: a drag narrows the panel to what is on screen (scoped on the server)
    box = page.locator("#map-graph").bounding_box()
    x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.5
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 250, y - 150, steps=6)
    page.mouse.up()
    page.wait_for_function("() => document.querySelector('#panel-area')?.innerText.endsWith('视野内')")
    shown = int(page.inner_text("#kpi-enterprises .kpi-value").replace(",", ""))
    assert 0 < shown < int(page.evaluate(f"() => {GD}._fullData.filter(t => t.name === '企业')"
                                         ".reduce((n, t) => n + t.customdata.length, 0)"))
    assert watched_page.foreign_requests(live_app.host) == [] and watched_page.errors == []


def test_layer_switch_hides_its_layer_with_a_patch(watched_page, live_app):
    page = watched_page.page
    _open(page, live_app.url + "/")
    ent_visible = f"""() => [...new Set({GD}._fullData.filter(t => t.type === 'scattermap' && t.name === '企业')
        .map(t => t.visible))]"""
    assert page.evaluate(ent_visible) == [True]        # one trace for the four grades
    def the_switch(r) -> bool:   # the layer switch's own callback (the map's viewport may answer first)
        return "_dash-update-component" in r.url and '"map-layers"' in (r.request.post_data or "")

    with page.expect_response(the_switch) as resp:
        page.locator("#map-layers input[value='enterprises']").uncheck()
    body = resp.value.text()
    assert '"operation"' in body and len(body) < 20_000     # a Patch, not a new figure
    page.wait_for_function(f"() => ({ent_visible})()[0] === false")
    page.locator("#map-layers input[value='enterprises']").check()
    page.wait_for_function(f"() => ({ent_visible})()[0] === true")
    assert watched_page.errors == []


def test_district_click_narrows_the_figures(watched_page, live_app, city):
    page = watched_page.page
    _open(page, live_app.url + "/")
    row = city["districts"].iloc[2]
    x, y = _area_xy(page, live_app.store_path, row["code"])
    _click(page, x, y)
    page.wait_for_function(f"() => document.querySelector('#panel-area')?.innerText === {json.dumps(row['name'])}",
                           timeout=60_000)
    page.wait_for_function(MAP_READY)
    assert _query(page).get("district") == row["code"]
    n = int((city["enterprises"]["district_code"] == row["code"]).sum())
    assert page.inner_text("#kpi-enterprises .kpi-value") == f"{n:,}"
    # every enterprise on the map lies in that district
    ids = page.evaluate(f"""() => {GD}._fullData.filter(t => t.type === 'scattermap' && t.name === '企业')
        .flatMap(t => Array.from(t.customdata))""")
    in_d = set(city["enterprises"].loc[city["enterprises"]["district_code"] == row["code"], "id"])
    assert ids and {i.split(":", 1)[1] for i in ids} <= in_d
    assert watched_page.errors == []


def test_district_click_drills_down_with_the_risk_colours_off(watched_page, live_app, city):
    """The clickable areas are never painted (fill opacity 0: MapLibre skips the pass) yet still take the hover
    and the click when the risk colours, the other area layer, are switched off."""
    page = watched_page.page
    _open(page, live_app.url + "/")
    paint = f"""() => {{ const g = {GD}; const m = g._fullLayout.map._subplot.map;
        const i = g._fullData.findIndex(t => t.type === 'choroplethmap' && t.name === 'district');
        const id = m.getStyle().layers.find(l => l.type === 'fill' && l.id.includes(g._fullData[i].uid.slice(0, 6))).id;
        return m.getPaintProperty(id, 'fill-opacity'); }}"""
    assert page.evaluate(paint) == 0
    risk_visible = f"""() => {GD}._fullData.filter(t => t.type === 'choroplethmap' && t.name !== 'district')
        .map(t => t.visible)"""
    page.locator("#map-layers input[value='risk']").uncheck()
    page.wait_for_function(f"() => ({risk_visible})().every(v => v === false)")
    row = city["districts"].iloc[1]
    x, y = _area_xy(page, live_app.store_path, row["code"])
    _click(page, x, y)
    page.wait_for_function(f"() => document.querySelector('#panel-area')?.innerText === {json.dumps(row['name'])}",
                           timeout=60_000)
    assert _query(page).get("district") == row["code"]
    assert watched_page.errors == []


def test_url_round_trips_reload_and_back(watched_page, live_app, city):
    page = watched_page.page
    _open(page, live_app.url + "/")
    row = city["districts"].iloc[0]
    at_district = f"() => document.querySelector('#panel-area')?.innerText === {json.dumps(row['name'])}"
    at_city = "() => document.querySelector('#panel-area')?.innerText === '全市'"
    page.locator("#panel-risk-table a", has_text=row["name"]).first.click()
    page.wait_for_function(at_district)
    assert _query(page).get("district") == row["code"]
    page.go_back()
    try:
        page.wait_for_function(at_city, timeout=20_000)
    except Exception:
        print("DEBUG", page.url, page.evaluate("() => document.querySelector('#panel-area')?.innerText"),
              page.evaluate("() => history.length"))
        raise
    assert "district" not in _query(page)
    page.go_forward()
    page.wait_for_function(at_district, timeout=60_000)
    assert _query(page).get("district") == row["code"]
    page.reload()
    page.wait_for_function(MAP_READY, timeout=90_000)
    assert page.inner_text("#panel-area") == row["name"]
    # a filter goes into the URL too, and the breadcrumb goes back up
    page.locator("#map-f-grade input[value='major']").check()
    page.wait_for_function("() => location.search.includes('grade=major')")
    page.wait_for_function(MAP_READY)
    n_major = int(((city["enterprises"]["district_code"] == row["code"]) &
                   (city["enterprises"]["grade"] == "major")).sum())
    page.wait_for_function(f"() => document.querySelector('#kpi-enterprises .kpi-value')?.innerText === '{n_major:,}'")
    page.locator("#map-crumb a", has_text="全市").click()
    page.wait_for_function("() => document.querySelector('#panel-area')?.innerText === '全市'")
    assert _query(page).get("grade") == "major" and "district" not in _query(page)
    assert watched_page.errors == []


def test_language_switch_keeps_the_view(watched_page, live_app, city):
    page = watched_page.page
    row = city["districts"].iloc[1]
    _open(page, f"{live_app.url}/?district={row['code']}")
    assert page.inner_text("#kpi-enterprises .kpi-caption") == "企业"
    page.click("#lang-switch")
    page.wait_for_function(MAP_READY, timeout=90_000)
    page.wait_for_load_state("networkidle")
    q = _query(page)
    assert q.get("lang") == "en" and q.get("district") == row["code"]
    assert page.inner_text("#kpi-enterprises .kpi-caption") == "Enterprises"
    assert page.inner_text("#panel-area") == (row["name_en"] or row["name"])
    assert page.inner_text("#lang-switch") == "中文"
    assert watched_page.errors == []


def test_names_from_data_are_shown_as_text(browser, demo_store_path, tmp_path, new_watched_page):
    from dashboard.app import create_app
    from layers.settings import Settings

    path = tmp_path / "xss.gpkg"
    shutil.copyfile(demo_store_path, path)
    store = open_store(path)
    ent = store.read("enterprises", columns=["id", "district_code"])
    eid, district = ent["id"].iloc[0], ent["district_code"].iloc[0]
    with store.transaction() as tx:
        tx.update("enterprises", [eid], {"name": XSS, "grade": "major"})
    server = _ServerThread(create_app(Settings(store=str(path), secret_key="xss-test")))
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        w = new_watched_page()
        page = w.page
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        login(page, base)
        _open(page, f"{base}/?district={district}")
        # hover the point: the tooltip (built on the server) shows the name as text
        x, y = _point_xy(page, f"enterprises:{eid}")
        page.mouse.move(x - 30, y - 30)
        page.mouse.move(x, y)
        page.wait_for_function(f"() => document.querySelector('#map-tip')?.innerText.includes({json.dumps(XSS)})",
                               timeout=30_000)
        # a click shows the card with the name as text
        _click(page, x, y)
        page.wait_for_selector(".object-card h4", timeout=30_000)
        assert page.inner_text(".object-card h4") == XSS
        page.goto(f"{base}/object?layer=enterprises&id={eid}")
        page.wait_for_selector("#object-name")
        assert page.inner_text("#object-name") == XSS
        assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0
        assert dialogs == [] and w.errors == []
    finally:
        server.stop()


def test_district_user_cannot_see_another_district(new_watched_page, live_app, city):
    own, other = city["districts"].iloc[0], city["districts"].iloc[1]
    w = new_watched_page()
    page = w.page
    login(page, live_app.url, user=f"d{own['code']}", password="demo")
    _open(page, live_app.url + "/")
    assert page.inner_text("#panel-area") == own["name"]
    assert page.locator("#map-crumb a", has_text="全市").count() == 0
    # editing the URL
    page.goto(f"{live_app.url}/?district={other['code']}")
    page.wait_for_selector(".calm-error")
    assert page.inner_text(".calm-error") == t("error.denied", "zh")
    assert page.locator("#map-graph").count() == 0
    # calling the callbacks directly with the other district
    deps = page.request.get(f"{live_app.url}/_dash-dependencies").json()
    router = next(d for d in deps if "_pages_content.children" in d["output"])
    resp = page.request.post(f"{live_app.url}/_dash-update-component", data=json.dumps({
        "output": router["output"], "outputs": [{"id": "_pages_content", "property": "children"},
                                                {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/"},
                   {"id": "_pages_location", "property": "search", "value": f"?district={other['code']}"}],
        "changedPropIds": ["_pages_location.search"], "state": []}),
        headers={"Content-Type": "application/json"})
    body = json.dumps(resp.json(), ensure_ascii=False)   # Dash writes \uXXXX escapes unless orjson is installed
    assert resp.status == 200 and t("error.denied", "zh") in body
    assert other["name"] not in body and "map-graph" not in body
    click = next(d for d in deps if any(i["id"] == "map-graph" and i["property"] == "clickData"
                                        for i in d["inputs"]))
    resp = page.request.post(f"{live_app.url}/_dash-update-component", data=json.dumps({
        "output": click["output"],
        "outputs": [{"id": "url", "property": "search"}, {"id": "map-card", "property": "children"}],
        "inputs": [{"id": "map-graph", "property": "clickData",
                    "value": {"points": [{"customdata": f"district:{other['code']}"}]}}],
        "state": [{"id": "url", "property": "search", "value": ""}],
        "changedPropIds": ["map-graph.clickData"]}), headers={"Content-Type": "application/json"})
    body = json.dumps(resp.json(), ensure_ascii=False)
    assert t("error.denied", "zh") in body and f"district={other['code']}" not in body
    assert w.errors == [] or all("403" not in e for e in w.errors)


def test_town_link_opens_the_town(watched_page, live_app):
    from layers.analysis.summary import load_city

    city = load_city(open_store(live_app.store_path, create=False))
    town = city.towns.iloc[0]
    district = city.districts.set_index("code").loc[town["district_code"], "name"]
    page = watched_page.page
    _open(page, f"{live_app.url}/?district={town['district_code']}&town={town['code']}")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#panel-area") == f"{district} · {town['name']}"
    assert _query(page).get("town") == town["code"]
    assert page.locator("#map-crumb .crumb").count() == 3
    assert watched_page.errors == []
