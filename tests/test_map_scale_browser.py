"""A scale bar on the MapLibre map (issue 13: "no scale bar"): a round length in the page's language, whose pixel
width matches MapLibre's own metres per pixel, and that follows a zoom."""

from __future__ import annotations

import math

import pytest
from conftest import login

READY = """() => { const g = document.querySelector('#map-graph .js-plotly-plot');
  const m = g && g._fullLayout && g._fullLayout.map && g._fullLayout.map._subplot;
  return !!(m && m.map && document.querySelector('#map-graph .map-scale-bar[data-metres]')); }"""
STATE = """() => { const m = document.querySelector('#map-graph .js-plotly-plot')._fullLayout.map._subplot.map;
  const b = document.querySelector('#map-graph .map-scale-bar');
  return {zoom: m.getZoom(), lat: m.getCenter().lat, metres: +b.getAttribute('data-metres'),
          px: b.getBoundingClientRect().width, text: b.textContent}; }"""


def _check(s: dict) -> None:
    mpp = 40075016.686 * math.cos(math.radians(s["lat"])) / (512 * 2 ** s["zoom"])
    assert s["px"] == pytest.approx(s["metres"] / mpp, abs=2.5), s    # the bar is as long as it says
    assert 20 <= s["px"] <= 121, s
    first = f"{s['metres'] / 1000:g}" if s["metres"] >= 1000 else f"{s['metres']:g}"
    assert s["text"].startswith(first), s


@pytest.mark.browser
def test_the_map_has_a_true_scale_bar_in_the_pages_language_that_follows_a_zoom(new_watched_page, live_app):
    w = new_watched_page()
    login(w.page, live_app.url)
    w.page.goto(f"{live_app.url}/")
    w.page.wait_for_function(READY, timeout=120_000)
    before = w.page.evaluate(STATE)
    _check(before)
    assert before["text"].endswith(("公里", "米"))
    box = w.page.locator("#map-graph .maplibregl-canvas").bounding_box()
    w.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(8):                      # the user's own zoom: the wheel
        w.page.mouse.wheel(0, -400)
        w.page.wait_for_timeout(300)
    w.page.wait_for_function("() => +document.querySelector('#map-graph .map-scale-bar')"
                             ".getAttribute('data-metres') < 1000", timeout=30_000)
    after = w.page.evaluate(STATE)
    _check(after)
    assert after["metres"] < before["metres"] and after["text"].endswith("米")
    w.page.goto(f"{live_app.url}/?lang=en")
    w.page.wait_for_function(READY, timeout=120_000)
    assert w.page.evaluate(STATE)["text"].endswith(("km", " m"))
    assert not w.errors, w.errors
