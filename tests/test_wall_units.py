"""The wall's figures, tour, ticker, 3D data and refresh logic, on a hand-made city whose answers are known.

The city: two square districts (甲区 420102 west, 乙区 420103 east), two towns each, five enterprises,
four hazards, three inspections and two gas pipelines. "As of" is the latest inspection, 2026-11-20.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from layers.access.users import add_user
from layers.store import open_store

D_A, D_B = "420102", "420103"


def _sq(x0: float, y0: float, x1: float, y1: float) -> MultiPolygon:
    return MultiPolygon([Polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])])


def build_city(path: Path):
    """Write the hand-made city (with users admin/d420102/d420103, password demo) and return its store."""
    store = open_store(path)
    districts = gpd.GeoDataFrame({"code": [D_A, D_B], "name": ["甲区", "乙区"], "name_en": ["Jia", "Yi"]},
                                 geometry=[_sq(114.0, 30.0, 114.1, 30.1), _sq(114.1, 30.0, 114.2, 30.1)], crs=4326)
    towns = gpd.GeoDataFrame({
        "code": [D_A + "001", D_A + "002", D_B + "001", D_B + "002"],
        "name": ["甲一街道", "甲二街道", "乙一街道", "乙二街道"], "name_en": ["Jia-1", "Jia-2", "Yi-1", "Yi-2"],
        "district_code": [D_A, D_A, D_B, D_B]},
        geometry=[_sq(114.0, 30.0, 114.05, 30.1), _sq(114.05, 30.0, 114.1, 30.1),
                  _sq(114.1, 30.0, 114.15, 30.1), _sq(114.15, 30.0, 114.2, 30.1)], crs=4326)
    ent = gpd.GeoDataFrame({
        "id": ["E1", "E2", "E3", "E4", "E5"],
        "name": ["甲化工有限公司", "甲冶金厂", "甲商贸", "乙建筑公司", "乙燃气站"],
        "industry": ["hazchem", "metallurgy", "industry_trade", "construction", "gas"],
        "grade": ["major", "high", "low", "moderate", "major"],
        "district_code": [D_A, D_A, D_A, D_B, D_B], "status": ["operating"] * 5},
        geometry=[Point(114.02, 30.05), Point(114.03, 30.06), Point(114.07, 30.02), Point(114.12, 30.05),
                  Point(114.18, 30.08)], crs=4326)
    hz = gpd.GeoDataFrame({
        "id": ["H1", "H2", "H3", "H4"], "target_layer": ["enterprises"] * 4, "target_id": ["E1", "E2", "E5", "E4"],
        "level": ["major", "general", "major", "major"],
        "found_date": pd.to_datetime(["2026-11-01", "2026-09-15", "2026-10-01", "2026-10-20"]),
        "deadline": pd.to_datetime(["2026-12-31", "2026-10-01", "2026-10-30", "2026-11-01"]),
        "status": ["open", "rectifying", "closed", "open"],
        "description": ["储罐区未设置防火堤", "除尘系统故障", "调压阀泄漏", "深基坑无支护"]},
        geometry=[None, None, None, None], crs=4326)
    insp = pd.DataFrame({"id": ["I1", "I2", "I3"], "target_layer": ["enterprises"] * 3,
                         "target_id": ["E1", "E4", "E5"],
                         "date": pd.to_datetime(["2026-11-10", "2026-09-01", "2026-11-20"]),
                         "result": ["hazards_found", "pass", "pass"]})
    pipes = gpd.GeoDataFrame({"id": ["P1", "P2"], "pressure": ["high", "low"], "district_code": [D_A, D_B]},
                             geometry=[LineString([(114.01, 30.01), (114.09, 30.09)]),
                                       LineString([(114.11, 30.02), (114.19, 30.02)])], crs=4326)
    with store.transaction() as tx:
        tx.append("districts", districts)
        tx.append("towns", towns)
        tx.append("enterprises", ent)
        tx.append("hazards", hz)
        tx.append("inspections", insp)
        tx.append("gas_pipelines", pipes)
    add_user(store, "admin", "demo", role="admin", demo=True)
    add_user(store, "d" + D_A, "demo", role="district", district_code=D_A, demo=True)
    add_user(store, "d" + D_B, "demo", role="district", district_code=D_B, demo=True)
    return store


CITY_USER = {"id": "admin", "role": "city", "district_code": None, "display_name": "admin"}
A_USER = {"id": "d" + D_A, "role": "district", "district_code": D_A, "display_name": "d" + D_A}


@pytest.fixture(scope="module")
def city_app(tmp_path_factory):
    """An app on the hand-made city and the wall page module it imported."""
    from dashboard.app import create_app
    from layers.settings import Settings

    path = tmp_path_factory.mktemp("wallcity") / "city.gpkg"
    build_city(path)
    app = create_app(Settings(store=str(path), secret_key="k", wall_refresh_s=2))
    wall = next(m for name, m in sys.modules.items() if name.endswith("wall") and hasattr(m, "picture"))
    return app, wall, path


def _in_request(app, user):

    ctx = app.server.test_request_context("/wall")
    ctx.push()
    _sign_in(app, user)
    from dashboard import context

    context.authorize("wall.read")   # what the wall's callbacks do first
    return ctx


def _sign_in(app, user) -> None:
    """A real server-side session of the store user ``user["id"]`` in the current request."""
    import flask

    from layers.access.users import principal_of, start_session

    store = open_store(app.server.config["RISKMAP_SETTINGS"].store, create=False)
    row = store.read("users", where={"id": user["id"]}).iloc[0]
    flask.session["sid"] = start_session(store, principal_of(row))


def test_city_figures_ranking_and_ticker(city_app):
    from dashboard import context

    app, wall, _ = city_app
    ctx = _in_request(app, CITY_USER)
    try:
        pic = wall.picture(context.store(), context.settings(), context.scope(), None, "zh")
    finally:
        ctx.pop()
    f = pic["figures"]
    assert f["as_of"] == "2026-11-20"
    assert f["enterprises"] == {"major": 2, "high": 1, "moderate": 1, "low": 1, "total": 5}
    assert f["hazards"]["major"] == 2          # H1, H4 (H3 is closed)
    assert f["hazards"]["overdue"] == 2        # H2 (deadline 10-01), H4 (11-01)
    assert f["inspections_30d"] == 2           # 11-10 and 11-20; 09-01 is older
    assert pic["area"] == "全市"
    assert [r["code"] for r in pic["rank"]][:2] and {r["code"] for r in pic["rank"]} == {D_A, D_B}
    assert max(r["index"] for r in pic["rank"]) == 100.0
    # ticker: open and (major or overdue), newest found first: H1 (11-01), H4 (10-20), H2 (09-15)
    assert pic["ticker"]["id"].tolist() == ["H1", "H4", "H2"]
    assert pic["ticker"]["district_name"].tolist() == ["甲区", "乙区", "甲区"]


def test_focus_narrows_figures_and_language(city_app):
    from dashboard import context

    app, wall, _ = city_app
    ctx = _in_request(app, CITY_USER)
    try:
        pic = wall.picture(context.store(), context.settings(), context.scope(), {"district": D_A}, "en")
    finally:
        ctx.pop()
    f = pic["figures"]
    assert pic["area"] == "Jia"
    assert f["enterprises"]["total"] == 3 and f["hazards"]["major"] == 1 and f["hazards"]["overdue"] == 1
    assert f["inspections_30d"] == 1
    assert pic["ticker"]["id"].tolist() == ["H1", "H2"]
    # coverage = risk weight inspected in time / all risk weight (layers.coverage): E1 (major, 30-day
    # interval) inspected 10 days before as-of, weight 10 + open major hazard H1 8 = 18 in time; E2 (high,
    # never inspected) 5 + open general hazard H2 1 = 6 and E3 (low, never) 1 are not -> 18 / 25
    assert pic["coverage"] == pytest.approx(18 / 25)


def test_district_user_sees_only_their_district(city_app):
    from dashboard import context
    from layers.analysis.summary import load_city
    from layers.errors import AccessDenied

    app, wall, _ = city_app
    ctx = _in_request(app, A_USER)
    try:
        scope = context.scope()
        city = load_city(context.store())
        stops = wall.tour_stops(city, scope)
        pic = wall.picture(context.store(), context.settings(), scope, stops[0], "zh")
        with pytest.raises(AccessDenied):
            wall.filters_for(scope, {"district": D_B})
        payload = wall.deck_payload("zh")
    finally:
        ctx.pop()
    assert stops[0] == {"district": D_A, "town": None}
    assert [s["town"] for s in stops[1:]] == [D_A + "001", D_A + "002"]   # a district user tours its towns
    assert pic["figures"]["enterprises"]["total"] == 3
    assert pic["rank_level"] == "town" and {r["code"] for r in pic["rank"]} == {D_A + "001", D_A + "002"}
    assert set(pic["ticker"]["district_code"]) == {D_A}
    assert set(payload["areas"]) == {D_A + "001", D_A + "002"}
    hexes = next(layer for layer in payload["deck"]["layers"] if layer["@@type"] == "H3HexagonLayer")["data"]
    assert sum(h["objects"] for h in hexes) == 3                            # E4, E5 are in the other district
    pipes = next(layer for layer in payload["deck"]["layers"] if layer["@@type"] == "PathLayer")["data"]
    assert len(pipes) == 1 and pipes[0]["label"] == "高压"


def test_city_tour_stops_and_advance(city_app):
    from layers.analysis.summary import load_city

    app, wall, path = city_app
    city = load_city(open_store(path, create=False))
    stops = wall.tour_stops(city, None)
    assert stops == [{"district": None, "town": None}, {"district": D_A, "town": None},
                     {"district": D_B, "town": None}]
    conf = {"stops": stops, "lang": "zh"}
    focus = {**stops[0], "i": 0}
    seen = []
    ctx = _in_request(app, CITY_USER)
    try:
        for _ in range(4):
            focus = wall.advance_tour(1, focus, conf)
            seen.append(focus["district"])
    finally:
        ctx.pop()
    assert seen == [D_A, D_B, None, D_A]


def test_risk_cells_weights(city_app):
    from dashboard import context

    app, wall, _ = city_app
    ctx = _in_request(app, CITY_USER)
    try:
        from layers.analysis.summary import Filters, load_city, select

        sel = select(load_city(context.store()), Filters.make())
        cells = wall.risk_cells(sel, context.settings().risk_index_weights, 8)
        w = context.settings().risk_index_weights
    finally:
        ctx.pop()
    # enterprises: 2 major, 1 high, 1 moderate, 1 low; open hazards: H1 major, H2 general+overdue, H4 major+overdue
    expected = (2 * w["major_enterprise"] + w["high_enterprise"] + w["moderate_enterprise"] + w["low_enterprise"]
                + 2 * w["open_major_hazard"] + w["open_general_hazard"] + 2 * w["overdue_hazard"])
    assert cells["risk"].sum() == pytest.approx(expected)
    assert cells["objects"].sum() == 5 and cells["hazards"].sum() == 3 and cells["major"].sum() == 2


def test_deck_spec_has_no_basemap_and_fixed_ids():
    import geopandas as gpd

    from dashboard.components import deck

    cells = pd.DataFrame({"cell": ["8840a68049fffff"], "risk": [12.0], "objects": [2], "major": [1],
                          "hazards": [0]})
    pipes = gpd.GeoDataFrame({"pressure": ["sub_high"]}, geometry=[LineString([(114, 30), (114.1, 30.1)])],
                             crs=4326)
    spec = deck.deck_spec(cells=cells, pipelines=pipes, view=deck.fit_view((114, 30, 114.2, 30.1)), lang="en")
    assert "mapStyle" not in spec or spec["mapStyle"] in (None, "")
    assert "mapProvider" not in spec or spec["mapProvider"] is None
    ids = [layer["id"] for layer in spec["layers"]]
    assert ids == ["gas", "risk-hex"]
    gas = spec["layers"][0]
    assert gas["widthUnits"] == "pixels" and gas["data"][0]["label"] == "Sub-high pressure"
    assert spec["layers"][1]["data"][0]["color"] == [229, 20, 27, 215]     # the top cell is red
    assert spec["layers"][1]["elevationScale"] == pytest.approx(4000 / 12.0)


def test_deck_page_references_only_our_urls():
    import re

    from dashboard.components import deck

    page = deck.page_html("zh")
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", page) + re.findall(r"https?://[^\s\"'<>]+", page)
    assert urls and set(urls) == {deck.bundle_url()} and deck.bundle_url().startswith(deck.BUNDLE_ROUTE + "?v=")
    assert len(deck.bundle_bytes()) > 1_000_000 and b"H3HexagonLayer" in deck.bundle_bytes()


def test_ramp_and_fit_view():
    import numpy as np

    from dashboard.components import deck

    colors = deck.ramp_colors(np.array([0.0, 1.0, 100.0]))
    assert colors[-1][:3].tolist() == [229, 20, 27] and colors[0][:3].tolist() == [30, 111, 224]
    v = deck.fit_view((114.0, 30.0, 114.4, 30.4), width_px=512, height_px=512)
    assert v["longitude"] == pytest.approx(114.2) and 9.0 < v["zoom"] < 10.5


def test_refresh_keeps_picture_when_store_unreadable(city_app, tmp_path):
    """The refresh callback as a plain function: unchanged -> no_update; unreadable -> no_update + stale;
    restored and changed -> a new picture."""
    import shutil

    from dash import Patch, no_update

    from dashboard.app import create_app
    from layers.settings import Settings

    _, _, src = city_app
    path = tmp_path / "city.gpkg"
    shutil.copyfile(src, path)
    app = create_app(Settings(store=str(path), secret_key="k"))
    wall = next(m for name, m in sys.modules.items() if name.endswith("wall") and hasattr(m, "picture"))
    version = open_store(path, create=False).data_version()
    state = {"version": version, "stale": False, "good_at": "2026-11-29T09:00:00+00:00", "drawn": "/",
             "scale": 1.5, "focus_trace": None}
    conf = {"lang": "zh", "stops": []}
    with app.server.test_request_context("/wall"):
        _sign_in(app, CITY_USER)
        out = wall.refresh(1, None, None, state, conf)
        assert out[:6] == (no_update,) * 6 and out[-1]["stale"] is False
        path.rename(tmp_path / "away.gpkg")
        out = wall.refresh(2, None, None, state, conf)
        assert out[:6] == (no_update,) * 6 and out[-1]["stale"] is True
        assert "stale" in out[7] and "不可读" in str(out[6])
        (tmp_path / "away.gpkg").rename(path)
        with open_store(path, create=False).transaction() as tx:
            tx.update("hazards", ["H1"], {"status": "closed"})
        out = wall.refresh(3, None, None, out[-1], conf)
        assert out[-1]["stale"] is False and out[-1]["version"] == version + 1
        assert out[0] is not no_update
        # a new focus with the same data redraws too (the tour and the refresh may fire in one round)
        out = wall.refresh(4, {"district": D_B, "town": None}, None, out[-1], conf)
        assert out[5] == "乙区" and out[-1]["drawn"] == D_B + "/"
        assert isinstance(out[0], Patch)          # the map is moved, not sent again
        # a 4K screen redraws the map with larger text
        out = wall.refresh(5, {"district": D_B, "town": None}, {"h": 2160, "w": 3840}, out[-1], conf)
        assert isinstance(out[0], dict) and out[-1]["scale"] == 3.0


def test_deck_routes_need_login_and_never_fail_loudly(city_app, tmp_path):
    import shutil

    from dashboard.app import create_app
    from layers.settings import Settings

    _, _, src = city_app
    path = tmp_path / "city.gpkg"
    shutil.copyfile(src, path)
    app = create_app(Settings(store=str(path), secret_key="k"))
    c = app.server.test_client()
    assert c.get("/wall/deck").status_code == 302                     # to the login form
    assert c.get("/wall/deck/data.json").status_code == 302
    c.post("/login", data={"username": "d" + D_B, "password": "demo"})
    page = c.get("/wall/deck?lang=en")
    assert page.status_code == 200 and '<html lang="en">' in page.get_data(as_text=True)
    bundle = c.get("/wall/deck/deckgl.js")
    assert bundle.status_code == 200 and b"createDeck" in bundle.data
    assert bundle.headers["Cache-Control"] == "public, max-age=3600"   # not fingerprinted: an hour
    bundle.close()
    from dashboard.components import deck

    packed = c.get(deck.bundle_url(), headers={"Accept-Encoding": "br"})   # as the page asks for it
    assert packed.status_code == 200 and packed.headers["Content-Encoding"] == "br"
    assert packed.headers["Cache-Control"] == "public, max-age=31536000"
    assert len(packed.data) < len(deck.bundle_bytes()) // 3           # 2.3 MB sent as about 0.6 MB
    packed.close()
    data = c.get("/wall/deck/data.json").get_json()
    assert data["ok"] and set(data["areas"]) == {D_B + "001", D_B + "002"}
    path.rename(tmp_path / "away.gpkg")
    broken = c.get("/wall/deck/data.json")
    assert broken.status_code == 200 and broken.get_json() == {
        "ok": False, "error": "暂时无法显示，请稍后再试；详情已记录在日志中"}


def test_first_load_without_a_readable_store_draws_the_frame(city_app, tmp_path):
    """Opening the wall while the store is garbage: the frame, a stale status and empty figures; no error."""

    from dashboard.app import create_app
    from layers.settings import Settings

    path = tmp_path / "city.gpkg"
    path.write_bytes(b"not a geopackage" * 64)
    # a kiosk without login (RISKMAP_AUTH=0): nobody's session can be checked against an unreadable store
    app = create_app(Settings(store=str(path), secret_key="k", auth=False))
    wall = next(m for name, m in sys.modules.items() if name.endswith("wall") and hasattr(m, "picture"))
    with app.server.test_request_context("/wall"):
        page = wall.layout(lang="en")
    text = str(page)
    assert "wall-status stale" in text and "Data cannot be read yet; retrying" in text
    assert "wall-map" in text and "wall-refresh" in text            # the frame and the retry are there


def test_deck_bundle_names_no_other_host():
    """The served deck.gl bundle holds no address it could fetch from another host (loaders.gl's CDN defaults
    were rewritten to a same-origin path: dashboard/components/deckgl/README.md); what remains of http(s):// is
    namespaces, licences and links in warning texts."""
    import re

    from dashboard.components import deck

    text = deck.bundle_bytes().decode("utf-8")
    hosts = set(re.findall(r"https?://([A-Za-z0-9.-]+)", text))
    allowed = {"www.w3.org", "www.apache.org", "www.movable-type.co.uk", "archive.org", "deck.gl", "en.wikipedia.org",
               "feross.org", "github.com"}
    assert hosts <= allowed, hosts - allowed
    assert "/wall/deck/offline/loaders-workers" in text    # the workers' default, now same-origin
    # and no file of the vendored bundle names one of those hosts, not even inside a same-origin path
    folder = Path(deck.__file__).parent / "deckgl"
    named = ("unpkg.com", "gstatic.com", "githubusercontent.com", "googleapis.com", "opencagedata.com", "mapbox.com",
             "jsdelivr", "cdnjs")
    for f in sorted(folder.glob("*.js")):
        body = f.read_text(encoding="utf-8")
        assert not [h for h in named if h in body], f.name
