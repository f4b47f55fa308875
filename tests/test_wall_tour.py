"""Issue 13, the wall: the tour keeps the focused area inside the map and clear of the key; the key grows with the
screen, outlines swatches too dark for the dark map and lists rail stations; the ranking says how many it leaves
out. Units on the hand-made city (``tests/test_wall_units.py``), then real headless Chromium."""

from __future__ import annotations

import math
import shutil

import geopandas as gpd
import pytest
import test_wall_units
from shapely.geometry import Point
from test_wall_units import CITY_USER, D_A, D_B, _in_request, build_city

city_app = test_wall_units.city_app   # the hand-made city's app (a module fixture)

# ---------------------------------------------------------------------------------------------------
# fitBounds with the key as padding
# ---------------------------------------------------------------------------------------------------


def _px(wall, center, zoom, box, lon, lat):
    world = 512 * 2 ** zoom
    fx, fy = lon / 360 + 0.5, 0.5 - wall._merc(lat) / (2 * math.pi)
    cx, cy = center["lon"] / 360 + 0.5, 0.5 - wall._merc(center["lat"]) / (2 * math.pi)
    return (fx - cx) * world + box["mw"] / 2, (fy - cy) * world + box["mh"] / 2


@pytest.mark.parametrize("bounds", [(114.0, 30.0, 114.1, 30.1), (114.10, 30.49, 114.28, 30.66),
                                    (114.0, 30.0, 114.4, 30.05), (114.0, 30.0, 114.02, 30.3)])
@pytest.mark.parametrize("box", [{"mw": 997, "mh": 892, "lw": 230, "lh": 390},
                                 {"mw": 1994, "mh": 1784, "lw": 460, "lh": 780},
                                 {"mw": 1600, "mh": 500, "lw": 300, "lh": 480}])
def test_fit_view_keeps_the_area_inside_the_map_and_clear_of_the_key(city_app, bounds, box):
    _app, wall, _path = city_app
    center, zoom = wall.fit_view(bounds, box)
    (x0, y0), (x1, y1) = (_px(wall, center, zoom, box, bounds[0], bounds[3]),
                          _px(wall, center, zoom, box, bounds[2], bounds[1]))
    assert 0 <= x0 < x1 <= box["mw"] and 0 <= y0 < y1 <= box["mh"], (x0, y0, x1, y1)
    clear_left = x1 <= box["mw"] - box["lw"]
    clear_below = y0 >= box["lh"]
    assert clear_left or clear_below, (x0, y0, x1, y1)
    # and it is fitted, not merely small: one side touches its free space (within the padding)
    pad = wall.WALL_FIT_PAD_PX * box["mh"] / wall.WALL_MAP_PX[1]
    free_w = (box["mw"] - box["lw"]) if clear_left else box["mw"]
    free_h = box["mh"] if clear_left else box["mh"] - box["lh"]
    assert max((x1 - x0) / (free_w - 2 * pad), (y1 - y0) / (free_h - 2 * pad)) > 0.98


def test_map_box_takes_the_browsers_sizes_and_falls_back_to_the_screen(city_app):
    _app, wall, _path = city_app
    assert wall.map_box({"h": 1080, "w": 1920, "mw": 997, "mh": 892, "lw": 230, "lh": 390}) == \
        {"mw": 997, "mh": 892, "lw": 230, "lh": 390}
    big = wall.map_box({"h": 2160, "w": 3840})
    assert big["mw"] == 2 * wall.WALL_MAP_PX[0] and big["lw"] == 2 * wall.WALL_LEGEND_PX[0]
    assert wall.map_box({"mw": "x"}) == wall.map_box(None)   # junk from the browser: the defaults


# ---------------------------------------------------------------------------------------------------
# the key
# ---------------------------------------------------------------------------------------------------

def _dots(div):
    out = []
    for group in div.children:
        for item in group.children[1:]:
            out.append((item.children[1], item.children[0].style))
    return out


def test_dark_key_outlines_the_lowest_risk_swatch_and_sizes_dots_in_em():
    from dashboard.components.mapfig.legend import legend_box
    from dashboard.components.theme import MAP_COLOURS

    scale = MAP_COLOURS["dark"]["risk_scale"].split(",")
    entries = [{"key": "risk", "title": "风险指数" if i == 0 else None, "name": f"{i * 20}–{(i + 1) * 20}",
                "color": c, "size": 12} for i, c in enumerate(scale)]
    dots = dict(_dots(legend_box(entries, theme="dark", relative=True)))
    assert "boxShadow" in dots["0–20"]               # nearly black on the dark map: outlined
    assert "boxShadow" not in dots["80–100"]         # bright: as it is
    assert dots["0–20"]["width"].endswith("em")      # follows the key's font size (vh on the wall)
    light = dict(_dots(legend_box(entries, theme="light")))
    assert "boxShadow" not in light["0–20"] and light["0–20"]["width"].endswith("px")   # the map page: unchanged


def test_wall_key_lists_rail_stations_and_only_what_the_map_shows(city_app, tmp_path):
    from dashboard.app import create_app
    from layers.settings import Settings
    from layers.store import open_store

    _app, wall, path = city_app
    copy = tmp_path / "rail.gpkg"
    shutil.copyfile(path, copy)
    store = open_store(copy, create=False)
    with store.transaction() as tx:
        tx.append("rail_stations", gpd.GeoDataFrame(
            {"id": ["R1"], "name": ["甲站"], "lines": ["1号线"], "daily_passengers": [1000], "district_code": [D_A]},
            geometry=[Point(114.05, 30.05)], crs=4326))
    app = create_app(Settings(store=str(copy), secret_key="k"))
    ctx = _in_request(app, CITY_USER)
    try:
        from dashboard import context

        pic = wall.picture(context.store(), context.settings(), context.scope(), {"district": D_A}, "zh")
    finally:
        ctx.pop()
    names = [e["name"] for e in pic["legend"]]
    keys = [e["key"] for e in pic["legend"]]
    assert "轨道站点" in names
    assert set(keys) <= set(wall.WALL_LAYERS)
    # a layer's entries stay together (the station is not listed under another layer's heading)
    firsts = [k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]
    assert len(firsts) == len(set(firsts)), keys
    # the map carries no legend traces (each would be MapLibre sources and layers)
    assert pic["map"]["layout"]["showlegend"] is False
    assert not any(list(tr.get("lon") or []) == [None] for tr in pic["map"]["data"])
    assert "_legend" not in pic["map"]


# ---------------------------------------------------------------------------------------------------
# the ranking
# ---------------------------------------------------------------------------------------------------

def _rows(n):
    return [{"code": f"T{i:02d}", "name": f"镇{i}", "index": 100 - i} for i in range(n)]


def test_ranking_says_how_many_more_and_keeps_the_focus_in_view(city_app):
    _app, wall, _path = city_app
    pic = {"rank": _rows(13), "rank_level": "town"}
    out = wall.ranking(pic, {"district": D_A, "town": "T01"}, "zh")
    assert len(out) == wall.RANK_ROWS
    assert out[-1].children == "另有 2 个"
    assert [r.children[0].children for r in out[:-1]] == [str(i) for i in range(1, 12)]
    en = wall.ranking(pic, {}, "en")
    assert en[-1].children == "+2 more"
    # the focused town ranked 13th: shown in place of the 11th, with its own rank
    focus = wall.ranking(pic, {"district": D_A, "town": "T12"}, "zh")
    assert focus[-2].children[0].children == "13" and "current" in focus[-2].className
    assert focus[-1].children == "另有 2 个"
    # all fit: no "more"
    assert len(wall.ranking({"rank": _rows(12), "rank_level": "town"}, {}, "zh")) == 12
    assert all("wall-rank-more" not in r.className for r in wall.ranking({"rank": _rows(12)}, {}, "zh"))


# ---------------------------------------------------------------------------------------------------
# in the browser
# ---------------------------------------------------------------------------------------------------

PROJECT = """([b, code]) => { const g = document.querySelector('#wall-map .js-plotly-plot');
  const m = g._fullLayout.map._subplot.map; const mr = m.getCanvas().getBoundingClientRect();
  const k = document.getElementById('wall-legend-box').getBoundingClientRect();
  const a = m.project([b[0], b[3]]), z = m.project([b[2], b[1]]);
  return {x0: a.x, y0: a.y, x1: z.x, y1: z.y, w: mr.width, h: mr.height,
          kl: k.left - mr.left, kb: k.bottom - mr.top, kw: k.width,
          lay: [g.layout.map.center.lon, g.layout.map.center.lat, g.layout.map.zoom],
          now: [m.getCenter().lng, m.getCenter().lat, m.getZoom()]}; }"""
SETTLED = """([lon, lat, zoom]) => { const g = document.querySelector('#wall-map .js-plotly-plot');
  const m = g && g._fullLayout.map && g._fullLayout.map._subplot.map;
  return !!(m && Math.abs(m.getCenter().lng - lon) < 1e-4 && Math.abs(m.getZoom() - zoom) < 1e-3); }"""


@pytest.fixture(scope="module")
def tour_wall(tmp_path_factory):
    from test_wall_browser import _serve

    path = tmp_path_factory.mktemp("walltour") / "city.gpkg"
    build_city(path)
    srv, url = _serve(path, wall_refresh_s=3600, wall_tour_s=3)
    yield url, path
    srv.stop()


@pytest.mark.browser
@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)])
def test_tour_fits_each_district_inside_the_map_and_clear_of_the_key(new_watched_page, tour_wall, size):
    from test_wall_browser import _open_wall

    from layers.analysis import summary
    from layers.store import open_store

    url, path = tour_wall
    city = summary.load_city(open_store(path, create=False))
    bounds = {str(c): list(g.bounds) for c, g in zip(city.districts["code"], city.districts.geometry, strict=True)}
    w = _open_wall(new_watched_page, url, viewport=size)
    page = w.page
    seen = set()
    for _ in range(8):
        if seen >= {D_A, D_B}:
            break
        page.wait_for_function("() => !!document.querySelector('.wall-rank-row.current')", timeout=60_000)
        code = page.get_attribute(".wall-rank-row.current", "data-code")
        if code in seen:
            page.wait_for_timeout(1000)
            continue
        lay = page.evaluate(PROJECT, [bounds[code], code])["lay"]
        page.wait_for_function(SETTLED, arg=lay, timeout=30_000)
        r = page.evaluate(PROJECT, [bounds[code], code])
        if page.get_attribute(".wall-rank-row.current", "data-code") != code:
            continue   # the tour moved on while we looked
        assert -1 <= r["x0"] < r["x1"] <= r["w"] + 1 and -1 <= r["y0"] < r["y1"] <= r["h"] + 1, r
        assert r["x1"] <= r["kl"] + 1 or r["y0"] >= r["kb"] - 1, r   # left of the key or below it
        seen.add(code)
    assert seen == {D_A, D_B}
    assert w.errors == []


@pytest.mark.browser
def test_key_grows_with_the_screen_and_the_ranking_fits(new_watched_page, tour_wall):
    from test_wall_browser import _open_wall

    url, _path = tour_wall
    sizes = {}
    for size in [(1920, 1080), (3840, 2160)]:
        w = _open_wall(new_watched_page, url, viewport=size)
        page = w.page
        page.wait_for_selector("#wall-legend-box .legend-dot")
        dot = page.locator("#wall-legend-box .legend-dot >> nth=0").bounding_box()
        text = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector("
                             "'#wall-legend-box .legend-item')).fontSize)")
        names = page.locator("#wall-legend-box .legend-item").all_inner_texts()
        sizes[size[1]] = (dot["width"], text)
        assert dot["width"] >= 0.009 * size[1], dot   # about 1.3 % of the screen's height
        assert "0–20" in names
        # every ranking row inside its box (none cut off)
        # one snapshot in the page: on tour the ranking is redrawn, and a row read between two calls may be gone
        snap = page.evaluate("""() => { const b = document.querySelector('.wall-rank').getBoundingClientRect();
            return {box: {y: b.y, height: b.height}, rows: [...document.querySelectorAll('.wall-rank > *')]
                .map(e => { const r = e.getBoundingClientRect(); return {y: r.y, height: r.height}; })}; }""")
        box = snap["box"]
        assert snap["rows"], snap
        for b in snap["rows"]:
            assert b["y"] >= box["y"] - 1 and b["y"] + b["height"] <= box["y"] + box["height"] + 1, (b, box)
        assert w.errors == []
    assert sizes[2160][0] >= 1.8 * sizes[1080][0] and sizes[2160][1] >= 1.8 * sizes[1080][1], sizes


# ---------------------------------------------------------------------------------------------------
# the 3D panel: its 2D picture at once, deck.gl after it
# ---------------------------------------------------------------------------------------------------

def test_deck_payload_carries_the_2d_pictures_dots(city_app):
    _app, wall, _path = city_app
    ctx = _in_request(city_app[0], CITY_USER)
    try:
        p = wall.deck_payload("zh")
    finally:
        ctx.pop()
    assert p["preview"] and all(len(d) == 5 for d in p["preview"])
    lon, lat = zip(*[(d[0], d[1]) for d in p["preview"]], strict=True)
    b = p["bounds"]
    assert b[0] - 0.05 <= min(lon) and max(lon) <= b[2] + 0.05 and b[1] - 0.05 <= min(lat) <= max(lat) <= b[3] + 0.05


@pytest.mark.browser
def test_3d_panel_shows_its_2d_picture_then_the_deck(new_watched_page, tour_wall):
    from test_wall_browser import _open_wall

    url, _path = tour_wall
    w = _open_wall(new_watched_page, url)
    page = w.page
    frame = "document.getElementById('wall-deck').contentDocument.body"
    page.wait_for_function(f"() => {{ try {{ return {frame}.getAttribute('data-deck-preview') === '1'; }}"
                           " catch (e) { return false; } }", timeout=60_000)
    page.wait_for_function(f"() => {frame}.getAttribute('data-deck-drawn') === '1'", timeout=60_000)
    assert w.errors == []
