"""Zooming where WebGL runs in software (issue 13: "zoom and pan must stay smooth"): assets/map-motion.js moves
and scales MapLibre's last picture with the camera while the map moves, draws it anew at half resolution only when
that picture no longer covers the view, and at full resolution at rest; only on a software renderer, and without
the move events MapLibre's own resize() would fire (plotly would send the view to the server twice)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import login
from PIL import Image

HOOKED = """() => { const g = document.querySelector('#map-graph .js-plotly-plot');
  const m = g && g._fullLayout && g._fullLayout.map && g._fullLayout.map._subplot && g._fullLayout.map._subplot.map;
  return !!(m && m.__riskmapMotion && m.isStyleLoaded()); }"""
#: a 2 s zoom, 2.5 levels in: in each frame while the map moves, whether MapLibre drew it (and at what canvas width)
#: or moved its last picture (a CSS transform on the canvas); the canvas once it settled; plotly's relayout events
ZOOM = """() => new Promise(done => { const gd = document.querySelector('#map-graph .js-plotly-plot');
  const m = gd._fullLayout.map._subplot.map, canvas = m.getCanvas(), drawn = [], relayouts = [];
  let followed = 0;
  gd.on('plotly_relayout', e => relayouts.push(Object.keys(e)));
  m.on('render', () => { if (!m.isMoving()) return; if (canvas.style.transform) followed++; else drawn.push(canvas.width); });
  m.once('moveend', () => setTimeout(() => done({drawn, followed, rest: canvas.width, css: canvas.clientWidth,
    transform: canvas.style.transform, dpr: window.devicePixelRatio, relayouts, state: m.__riskmapMotion}), 900));
  m.zoomTo(m.getZoom() + 2.5, {duration: 2000}); })"""


@pytest.mark.browser
def test_a_moving_map_follows_with_its_last_picture_and_is_redrawn_at_half_resolution(new_watched_page, live_app):
    w = new_watched_page()
    login(w.page, live_app.url)
    w.page.goto(f"{live_app.url}/")
    w.page.wait_for_function(HOOKED, timeout=120_000)
    w.page.wait_for_timeout(500)
    got = w.page.evaluate(ZOOM)
    assert got["state"]["software"], got["state"]          # headless Chromium: SwiftShader
    # most frames of the move show the last picture moved and scaled to the camera, not a new software render
    assert got["followed"] >= 3 * len(got["drawn"]), got
    # a 5.7x zoom outgrows any one picture: the map is drawn anew on the way, at half resolution
    assert got["drawn"] and set(got["drawn"]) == {round(got["css"] * 0.5)}, got
    full = round(got["css"] * got["dpr"])
    assert got["rest"] == full and got["transform"] == "", got     # at rest: drawn itself, every pixel
    assert not w.errors, w.errors


#: one wheel gesture (a user's: plotly sends the view to the server only for those); the canvas once it settled and
#: plotly's relayout events
WHEEL = """() => new Promise(done => { const gd = document.querySelector('#map-graph .js-plotly-plot');
  const m = gd._fullLayout.map._subplot.map, canvas = m.getCanvas(), relayouts = [];
  gd.on('plotly_relayout', e => relayouts.push(Object.keys(e)));
  m.once('moveend', () => setTimeout(() => done({rest: canvas.width, css: canvas.clientWidth, dpr: window.devicePixelRatio,
    transform: canvas.style.transform, relayouts, state: m.__riskmapMotion}), 900));
  const r = m.getCanvasContainer().getBoundingClientRect();
  m.getCanvasContainer().dispatchEvent(new WheelEvent('wheel', {deltaY: -300, deltaMode: 0, bubbles: true,
    cancelable: true, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2})); })"""


@pytest.mark.browser
def test_after_a_wheel_gesture_the_view_reaches_the_server_once_and_the_map_is_drawn_sharp(new_watched_page, live_app):
    w = new_watched_page()
    login(w.page, live_app.url)
    w.page.goto(f"{live_app.url}/")
    w.page.wait_for_function(HOOKED, timeout=120_000)
    w.page.wait_for_timeout(500)
    got = w.page.evaluate(WHEEL)
    assert got["state"]["followed"] > 0, got        # the gesture's frames moved the last picture
    assert got["rest"] == round(got["css"] * got["dpr"]) and got["transform"] == "", got
    views = [keys for keys in got["relayouts"] if any(k.startswith("map.") for k in keys)]
    assert len(views) == 1, got          # the view reaches the server once, not again when the resolution comes back
    assert not w.errors, w.errors


def _grey(page, clip) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(page.screenshot(clip=clip))).convert("L"), dtype=float)


def _difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute grey difference of two screenshots, in 4x4 blocks (a moved picture is blurred a little)."""
    h, w = a.shape[0] // 4 * 4, a.shape[1] // 4 * 4
    block = lambda x: x[:h, :w].reshape(h // 4, 4, w // 4, 4).mean(axis=(1, 3))   # noqa: E731
    return float(np.abs(block(a) - block(b)).mean())


MAP = "document.querySelector('#map-graph .js-plotly-plot')._fullLayout.map._subplot.map"


@pytest.mark.browser
def test_the_moved_picture_is_where_maplibre_draws_the_same_view(new_watched_page, live_app):
    """A frame that moves the last picture shows the map where a real drawing of the camera of that frame shows
    it: screenshots of the two agree, and differ from the picture before the move."""
    w = new_watched_page()
    login(w.page, live_app.url)
    w.page.goto(f"{live_app.url}/")
    w.page.wait_for_function(HOOKED, timeout=120_000)
    w.page.wait_for_function(STATE, timeout=120_000)
    w.page.wait_for_timeout(800)
    r = w.page.evaluate(f"() => {{ const r = {MAP}.getCanvas().getBoundingClientRect();"
                        " return [r.left, r.top, r.width, r.height]; }")
    clip = {"x": r[0] + 20, "y": r[1] + 40, "width": r[2] - 40, "height": r[3] - 160}   # clear of legend and scale
    before = _grey(w.page, clip)
    # a move that reaches its camera (a quarter level in, 60 px east, 30 px south) within a second and then stays
    # "moving" there: its frames keep moving the last picture
    w.page.evaluate(f"""() => {{ const m = {MAP}, c = m.getCanvas();
      const to = m.unproject([c.clientWidth / 2 + 60, c.clientHeight / 2 + 30]);
      m.easeTo({{center: to, zoom: m.getZoom() + 0.25, duration: 60000, easing: t => Math.min(1, t * 60)}}); }}""")
    w.page.wait_for_timeout(2000)
    assert w.page.evaluate(f"() => {MAP}.getCanvas().style.transform").startswith("translate("), "not followed"
    moved = _grey(w.page, clip)
    assert w.page.evaluate(f"() => {MAP}.isMoving() && {MAP}.getCanvas().style.transform !== ''")
    w.page.evaluate(f"() => {MAP}.stop()")      # the move ends where it is: MapLibre draws that view itself
    w.page.wait_for_function(f"() => {MAP}.getCanvas().style.transform === '' && !{MAP}.isMoving()")
    w.page.wait_for_timeout(1200)
    drawn = _grey(w.page, clip)
    assert _difference(before, drawn) > 10, "the move did not change the picture"
    assert _difference(moved, drawn) < 0.35 * _difference(before, drawn), (
        _difference(moved, drawn), _difference(before, drawn))
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
