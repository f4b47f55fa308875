"""Zooming where WebGL runs in software (issue 13: "zoom and pan must stay smooth"): assets/map-motion.js draws a
moving map at half resolution and the map at rest at full resolution, only on a software renderer, and without
the move events MapLibre's own resize() would fire (plotly would send the view to the server twice)."""

from __future__ import annotations

import pytest
from conftest import login

HOOKED = """() => { const g = document.querySelector('#map-graph .js-plotly-plot');
  const m = g && g._fullLayout && g._fullLayout.map && g._fullLayout.map._subplot && g._fullLayout.map._subplot.map;
  return !!(m && m.__riskmapMotion && m.isStyleLoaded()); }"""
#: one wheel gesture; the canvas widths drawn while the map moved and once it settled, and plotly's relayout events
WHEEL = """() => new Promise(done => { const gd = document.querySelector('#map-graph .js-plotly-plot');
  const m = gd._fullLayout.map._subplot.map, canvas = m.getCanvas(), moving = [], relayouts = [];
  gd.on('plotly_relayout', e => relayouts.push(Object.keys(e)));
  m.on('render', () => { if (m.isMoving()) moving.push(canvas.width); });
  m.once('moveend', () => setTimeout(() => done({moving, rest: canvas.width, css: canvas.clientWidth,
    dpr: window.devicePixelRatio, relayouts, state: m.__riskmapMotion}), 900));
  const r = m.getCanvasContainer().getBoundingClientRect();
  m.getCanvasContainer().dispatchEvent(new WheelEvent('wheel', {deltaY: -300, deltaMode: 0, bubbles: true,
    cancelable: true, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2})); })"""


@pytest.mark.browser
def test_a_moving_map_is_drawn_at_half_resolution_on_software_webgl_and_sharp_at_rest(new_watched_page, live_app):
    w = new_watched_page()
    login(w.page, live_app.url)
    w.page.goto(f"{live_app.url}/")
    w.page.wait_for_function(HOOKED, timeout=120_000)
    w.page.wait_for_timeout(500)
    got = w.page.evaluate(WHEEL)
    assert got["state"]["software"], got["state"]          # headless Chromium: SwiftShader
    full = round(got["css"] * got["dpr"])
    assert got["rest"] == full, got                         # at rest: every pixel
    assert got["moving"] and min(got["moving"]) == round(got["css"] * 0.5), got   # moving: half
    views = [keys for keys in got["relayouts"] if any(k.startswith("map.") for k in keys)]
    assert len(views) == 1, got          # the view reaches the server once, not again when the resolution comes back
    assert not w.errors, w.errors


@pytest.mark.browser
def test_only_software_renderers_are_drawn_at_half_resolution(new_watched_page, live_app):
    w = new_watched_page()
    login(w.page, live_app.url)
    w.page.goto(f"{live_app.url}/")
    w.page.wait_for_function("() => !!window.riskmapMotion", timeout=60_000)
    names = {
        "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)": True,
        "llvmpipe (LLVM 15.0.6, 256 bits)": True,
        "ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11 vs_5_0 ps_5_0, D3D11)": True,
        "ANGLE (Intel, Intel(R) UHD Graphics 620 Direct3D11 vs_5_0 ps_5_0, D3D11)": False,
        "ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0, D3D11)": False,
        "Mali-G78": False,
        "Apple M1": False,
    }
    got = w.page.evaluate("(names) => names.map(n => window.riskmapMotion.isSoftware(n))", list(names))
    assert got == list(names.values())


STATE = """() => { const g = document.querySelector('#map-graph .js-plotly-plot');
  const m = g && g._fullLayout && g._fullLayout.map && g._fullLayout.map._subplot && g._fullLayout.map._subplot.map;
  return m && m.__riskmapMotion && m.__riskmapMotion.paintedAt !== null ? m.__riskmapMotion : null; }"""


#: the number of distinct colours in a frame MapLibre draws now (read back in its render event, before the page
#: composites it), sampled every 97th pixel
COLOURS = """() => new Promise(done => { const m = document.querySelector('#map-graph .js-plotly-plot')
  ._fullLayout.map._subplot.map, gl = m.painter.context.gl;
  m.once('render', () => { const w = gl.drawingBufferWidth, h = gl.drawingBufferHeight, px = new Uint8Array(w * h * 4);
    m.painter.context.bindFramebuffer.set(null);
    gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px); const seen = new Set();
    for (let i = 0; i < px.length; i += 4 * 97) seen.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
    done(seen.size); });
  m.triggerRepaint(); })"""


def _map_pixels_vary(page) -> bool:
    """The map draws a picture (many colours: basemap, areas, points), not a blank frame."""
    return page.evaluate(COLOURS) > 50


@pytest.mark.browser
def test_a_new_map_is_painted_once_complete_not_tile_by_tile_on_software_webgl(new_watched_page, live_app):
    w = new_watched_page()
    login(w.page, live_app.url)
    w.page.goto(f"{live_app.url}/")
    state = w.page.wait_for_function(STATE, timeout=120_000).json_value()
    assert state["software"], state
    assert state["skipped"] > 0, state          # the frames MapLibre asked for while tiles and traces came in
    assert state["paintedComplete"] is True, state   # the first frame drawn had the style, every tile, the traces
    assert state["held"] is False
    done = w.page.evaluate("""() => { const m = document.querySelector('#map-graph .js-plotly-plot')
      ._fullLayout.map._subplot.map; return m.isStyleLoaded() && m.areTilesLoaded(); }""")
    assert done
    w.page.wait_for_timeout(300)
    assert _map_pixels_vary(w.page)
    assert not w.errors, w.errors


@pytest.mark.browser
def test_a_tile_that_never_comes_does_not_keep_the_map_blank(new_watched_page, live_app):
    w = new_watched_page()
    login(w.page, live_app.url)
    hung: list[str] = []

    def hang(route):   # one basemap tile never answers
        if not hung:
            hung.append(route.request.url)
            return      # neither fulfilled nor continued: the request stays open
        route.continue_()

    w.page.route("**/tiles/**", hang)
    w.page.goto(f"{live_app.url}/")
    state = w.page.wait_for_function(STATE, timeout=120_000).json_value()
    assert hung, "no tile was requested"
    assert state["paintedComplete"] is False, state    # painted without the missing tile
    assert state["paintedAt"] - state["hookedAt"] >= 2900, state   # after the hold's limit (3 s), not before
    w.page.wait_for_timeout(300)
    assert _map_pixels_vary(w.page)
