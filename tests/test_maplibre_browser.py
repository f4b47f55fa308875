"""Every map page draws on MapLibre over the app's own basemap, in real headless Chromium, and asks no other host
for anything: not the style, not a tile, not a glyph, not an icon (issue 12).

For each page: the map's ``.maplibregl-canvas`` exists, MapLibre's style is loaded, vector tiles were requested
from the app and answered 200 or 204, every request went to the app's own host, and nothing was logged as an error.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from layers.store import open_store

pytestmark = pytest.mark.browser


def _ready(graph: str) -> str:
    return f"""() => {{ const g = document.querySelector('{graph} .js-plotly-plot');
      const m = g && g._fullLayout && g._fullLayout.map && g._fullLayout.map._subplot;
      return !!(m && m.map && m.viewInitial && Object.keys(m.traceHash).length && m.map.isStyleLoaded() && g.querySelector('.maplibregl-canvas')); }}"""


def _object_path(store_path) -> str:
    e = open_store(store_path, create=False).read("enterprises", columns=["id"])
    return f"/object?layer=enterprises&id={e['id'].iloc[0]}"


PAGES = [("/", "#map-graph"), ("/wall", "#wall-map"), ("object", "#object-map"), ("/coverage", "#cov-map"),
         ("/plan", "#plan-map"), ("/hazards", "#hz-map")]


@pytest.mark.parametrize(("path", "graph"), PAGES, ids=[p for p, _ in PAGES])
def test_map_page_draws_on_maplibre_offline(watched_page, live_app, path, graph):
    page = watched_page.page
    page.set_default_timeout(120_000)
    tiles: list[tuple[str, int]] = []
    page.on("response", lambda r: tiles.append((r.url, r.status)) if "/tiles/" in r.url else None)
    url = live_app.url + (_object_path(live_app.store_path) if path == "object" else path)
    page.goto(url)
    page.wait_for_function(_ready(graph), timeout=90_000)
    for _ in range(600):                       # MapLibre asks for tiles from a web worker: watch the responses
        if tiles:
            break
        page.wait_for_timeout(100)
    page.wait_for_load_state("networkidle")
    assert tiles, f"{path}: no tile requested"
    assert all(s in (200, 204, 304) for _, s in tiles), [t for t in tiles if t[1] not in (200, 204, 304)][:5]
    foreign = watched_page.foreign_requests(live_app.host)
    assert foreign == [], foreign[:10]
    hosts = {urlparse(u).netloc for u in watched_page.requests if u.startswith("http")}
    assert hosts == {live_app.host}
    # the style is ours: no glyph or sprite URL, no built-in style name, circles only
    spec = page.evaluate("""() => { const g = [...document.querySelectorAll('.js-plotly-plot')]
        .find(g => g._fullLayout && g._fullLayout.map); const st = g._fullLayout.map.style;
        return {glyphs: st && st.glyphs || null, sprite: st && st.sprite || null, kind: typeof st,
                symbols: [...new Set(g._fullData.filter(t => t.marker && t.type === 'scattermap')
                    .flatMap(t => [].concat(t.marker.symbol || 'circle')))]}; }""")
    assert spec["kind"] == "object" and spec["glyphs"] is None and spec["sprite"] is None
    assert spec["symbols"] in ([], ["circle"])
    assert watched_page.errors == []
