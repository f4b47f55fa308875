"""The offline basemap: built from the small demo city, read back tile by tile, its style, its routes, the presets."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import mapbox_vector_tile
import numpy as np
import pytest
from pmtiles.reader import MmapSource, Reader
from pmtiles.tile import Compression

from layers.basemap import (
    MAXZOOM,
    MINZOOM,
    BasemapError,
    basemap_path,
    basemap_status,
    basemap_style,
    build_basemap,
    draw_crs,
    map_style,
    read_info,
    to_draw_crs,
)
from layers.settings import Settings, SettingsInvalid
from layers.store import open_store

CENTRE = (114.30, 30.60)  # the demo city's centre (lon, lat)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    r = np.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - np.arcsinh(np.tan(r)) / np.pi) / 2 * n)


def decode(data: bytes) -> dict:
    return mapbox_vector_tile.decode(gzip.decompress(data))


@pytest.fixture(scope="module")
def built(demo_store_path: Path, tmp_path_factory: pytest.TempPathFactory):
    """The small city's basemap, built once for the module (store read-only)."""
    store = open_store(demo_store_path, create=False)
    out = tmp_path_factory.mktemp("basemap") / "city.basemap.pmtiles"
    steps: list[tuple[float, str]] = []
    info = build_basemap(store, out, progress=lambda f, m: steps.append((f, m)))
    return store, out, info, steps


# --------------------------------------------------------------------------------------------------
# the file
# --------------------------------------------------------------------------------------------------

def test_the_file_holds_the_layers_and_zooms(built):
    store, out, info, steps = built
    assert out.exists() and info.path == out
    assert {"water", "districts", "towns", "roads", "roads_minor", "rail", "rail_stations", "places"} <= set(info.layers)
    assert (info.minzoom, info.maxzoom) == (MINZOOM, MAXZOOM) == (8, 15)
    assert steps[0][0] == 0.0 and steps[-1][0] == 1.0
    assert [f for f, _ in steps] == sorted(f for f, _ in steps)
    assert not [p for p in out.parent.iterdir() if p != out], "no temporary file is left beside the basemap"
    with open(out, "rb") as fh:
        reader = Reader(MmapSource(fh))
        header, meta = reader.header(), reader.metadata()
    assert header["tile_compression"] == Compression.GZIP
    assert (header["min_zoom"], header["max_zoom"]) == (8, 15)
    assert meta["riskmap"]["data_version"] == store.data_version() == info.data_version
    assert {v["id"] for v in meta["vector_layers"]} == set(info.layers)
    west, south, east, north = info.bounds
    assert west < CENTRE[0] < east and south < CENTRE[1] < north
    assert read_info(out) == read_info(out) and read_info(out).fingerprint == info.fingerprint


def test_tiles_hold_what_their_zoom_should_show(built):
    store, out, _info, _ = built
    with open(out, "rb") as fh:
        reader = Reader(MmapSource(fh))
        low = decode(reader.get(8, *tile_of(*CENTRE, 8)))
        high = decode(reader.get(14, *tile_of(*CENTRE, 14)))
    # z8: the whole city, main roads and the district names; local roads and town borders not yet
    assert {"water", "districts", "roads", "places"} <= set(low)
    assert "roads_minor" not in low and "towns" not in low
    places = {f["properties"]["name"]: f["properties"] for f in low["places"]["features"]}
    districts = store.read("districts")
    assert set(districts["name"]) <= set(places)
    one = districts.iloc[0]
    assert places[one["name"]]["kind"] == "district" and places[one["name"]]["name_en"] == one["name_en"]
    assert {f["properties"]["road_class"] for f in low["roads"]["features"]} <= {"motorway", "primary", "secondary"}
    # z14 in the centre: local roads with their names, town borders
    assert {"roads", "roads_minor", "towns"} <= set(high)
    names = [f["properties"].get("name") for f in high["roads_minor"]["features"]]
    assert any(n and n.endswith(("路", "街", "巷", "道")) for n in names)
    assert {f["properties"]["road_class"] for f in high["roads_minor"]["features"]} == {"tertiary"}


def test_roads_are_joined_into_long_lines(built):
    store, _out, _info, _ = built
    from layers.basemap.build import source_parts

    parts = {p.name: p for p in source_parts(store)}
    segments = store.count("roads")
    assert len(parts["roads"].frame) + len(parts["roads_minor"].frame) < segments / 5


def test_nothing_to_draw_is_refused_and_the_old_file_stays(tmp_path, built):
    _store, out, _info, _ = built
    old = tmp_path / "empty.basemap.pmtiles"
    shutil.copyfile(out, old)
    before = old.read_bytes()
    empty = open_store(tmp_path / "empty.gpkg")
    with pytest.raises(BasemapError, match="nothing to draw"):
        build_basemap(empty, old)
    assert old.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if "basemap" in p.name) == ["empty.basemap.pmtiles"]


def test_stale_after_an_import_not_after_an_inspection(writable_store, tmp_path):
    from layers.ingest import import_file

    store = writable_store
    out = basemap_path(store.url)
    assert out.name == "city.basemap.pmtiles" and basemap_status(store, out) == "missing"
    build_basemap(store, out)
    assert basemap_status(store, out) == "fresh"
    insp = store.read("inspections").head(1).copy()
    insp["id"] = "INSP-BASEMAP-TEST"
    with store.transaction() as tx:   # data that is not drawn: the version moves, the basemap is still fresh
        tx.append("inspections", insp)
    assert read_info(out).data_version < store.data_version()
    assert basemap_status(store, out) == "fresh"
    road = tmp_path / "road.geojson"
    road.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"id": "R-NEW-1", "name": "新开路", "road_class": "primary"},
        "geometry": {"type": "LineString", "coordinates": [[114.29, 30.59], [114.31, 30.61]]}}]}), encoding="utf-8")
    import_file(store, "roads", road)
    assert basemap_status(store, out) == "stale"
    build_basemap(store, out)
    assert basemap_status(store, out) == "fresh"
    with open(out, "rb") as fh:
        tile = decode(Reader(MmapSource(fh)).get(12, *tile_of(114.30, 30.60, 12)))
    assert "新开路" in {f["properties"].get("name") for f in tile["roads"]["features"]}


def test_a_foreign_or_truncated_file_is_missing(tmp_path, built):
    _store, out, _info, _ = built
    bad = tmp_path / "bad.pmtiles"
    bad.write_bytes(out.read_bytes()[:100])
    assert read_info(bad) is None and read_info(tmp_path / "none.pmtiles") is None


# --------------------------------------------------------------------------------------------------
# the style
# --------------------------------------------------------------------------------------------------

def _keys(obj) -> set[str]:
    if isinstance(obj, dict):
        return set(obj) | set().union(*(_keys(v) for v in obj.values()))
    if isinstance(obj, list):
        return set().union(*(_keys(v) for v in obj)) if obj else set()
    return set()


def _urls(obj) -> list[str]:
    if isinstance(obj, dict):
        return [u for v in obj.values() for u in _urls(v)]
    if isinstance(obj, list):
        return [u for v in obj for u in _urls(v)]
    return [obj] if isinstance(obj, str) and ("://" in obj or obj.startswith("/")) else []


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_style_has_no_glyphs_or_sprite_and_only_our_urls(theme, lang):
    origin = "http://127.0.0.1:8050"
    style = basemap_style(theme, tiles_url=f"{origin}/tiles/base/{{z}}/{{x}}/{{y}}.pbf?v=abc", lang=lang)
    assert style["version"] == 8
    assert "glyphs" not in _keys(style) and "sprite" not in _keys(style)
    urls = _urls(style)
    assert urls and all(u.startswith(f"{origin}/tiles/") for u in urls)
    symbols = [ly for ly in style["layers"] if ly["type"] == "symbol"]
    assert any(ly["layout"]["symbol-placement"] == "line" and ly["source-layer"].startswith("roads") for ly in symbols)
    assert all("text-allow-overlap" not in ly["layout"] for ly in symbols), "labels keep MapLibre's collision"
    assert any(ly.get("minzoom", 0) >= 12 for ly in style["layers"]), "detail grows with the zoom"
    field = next(ly for ly in symbols if ly["id"] == "districts-label")["layout"]["text-field"]
    assert field == (["coalesce", ["get", "name_en"], ["get", "name"]] if lang == "en" else ["get", "name"])
    layers = {ly["source-layer"] for ly in style["layers"] if "source-layer" in ly}
    assert layers <= {"water", "districts", "towns", "roads", "roads_minor", "rail", "rail_stations", "places"}


def test_light_and_dark_differ_and_a_wrong_theme_is_refused():
    light = basemap_style("light", tiles_url="http://h/t/{z}/{x}/{y}.pbf", lang="zh")
    dark = basemap_style("dark", tiles_url="http://h/t/{z}/{x}/{y}.pbf", lang="zh")
    assert light["layers"][0]["paint"] != dark["layers"][0]["paint"]
    with pytest.raises(ValueError, match="unknown theme"):
        basemap_style("sepia", tiles_url="http://h/t/{z}/{x}/{y}.pbf", lang="zh")
    assert basemap_style("light", tiles_url="http://h/tiles/base.json", lang="zh")["sources"]["basemap"]["url"] == \
        "http://h/tiles/base.json"


# --------------------------------------------------------------------------------------------------
# the presets
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("env, match", [
    ({"RISKMAP_BASEMAP": "google"}, "RISKMAP_BASEMAP='google' is not valid"),
    ({"RISKMAP_BASEMAP": "bd09"}, "BD-09"),
    ({"RISKMAP_BASEMAP": "baidu"}, "百度 BD-09"),
    ({"RISKMAP_TILE_CRS": "bd09"}, "BD-09"),
    ({"RISKMAP_TILE_URL": "http://online1.map.bdimg.com/tile/{z}/{x}/{y}"}, "百度瓦片"),
    ({"RISKMAP_BASEMAP": "xyz"}, "needs a URL"),
    ({"RISKMAP_BASEMAP": "xyz", "RISKMAP_BASEMAP_URL": "http://tiles.intra/{z}/{x}.png"}, "lacks {y}"),
    ({"RISKMAP_BASEMAP": "style_url"}, "needs a URL"),
    ({"RISKMAP_BASEMAP": "tianditu"}, "Tianditu needs its key"),
    ({"RISKMAP_BASEMAP_URL": "http://x/{z}/{x}/{y}"}, "built-in basemap takes no URL"),
    ({"RISKMAP_BASEMAP": "amap", "RISKMAP_TILE_URL": "http://a/{z}/{x}/{y}"}, "not RISKMAP_TILE_URL as well"),
    ({"RISKMAP_TIANDITU_LAYER": "ter"}, "RISKMAP_TIANDITU_LAYER"),
])
def test_presets_are_validated_at_start(env, match):
    with pytest.raises(SettingsInvalid, match=match):
        Settings.from_env(env)


def test_an_invalid_preset_stops_the_app(monkeypatch, tmp_path):
    from dashboard.__main__ import main

    monkeypatch.setenv("RISKMAP_BASEMAP", "bd09")
    assert main(["--store", str(tmp_path / "x.gpkg")]) == 2
    assert not (tmp_path / "x.gpkg").exists()


def test_presets_give_their_styles_and_drawing_crs():
    tiles = "http://app/tiles/base/{z}/{x}/{y}.pbf"
    s = Settings()
    assert draw_crs(s) == "wgs84" and isinstance(map_style(s, theme="light", lang="zh", tiles_url=tiles), dict)
    legacy = Settings(tile_url="http://intra/{z}/{x}/{y}.png", tile_crs="gcj02")
    style = map_style(legacy, theme="light", lang="zh", tiles_url=tiles)
    assert draw_crs(legacy) == "gcj02" and style["sources"]["tiles"]["tiles"] == ["http://intra/{z}/{x}/{y}.png"]
    td = Settings(basemap="tianditu", tianditu_token="abc123", tianditu_layer="img")
    style = map_style(td, theme="dark", lang="zh", tiles_url=tiles)
    assert draw_crs(td) == "wgs84" and [ly["id"] for ly in style["layers"]] == ["background", "tianditu",
                                                                                 "tianditu-labels"]
    assert "/img_w/" in style["sources"]["tianditu"]["tiles"][0] and "/cia_w/" in style["sources"]["tianditu-labels"][
        "tiles"][0] and "tk=abc123" in style["sources"]["tianditu"]["tiles"][0]
    assert len(style["sources"]["tianditu"]["tiles"]) == 8
    gov = Settings(basemap="tianditu", tianditu_token="k", basemap_url="http://tdt.gov.intra")
    assert map_style(gov, theme="light", lang="en", tiles_url=tiles)["sources"]["tianditu-labels"]["tiles"][0].startswith(
        "http://tdt.gov.intra/eva_w/wmts?")
    wmts = Settings(basemap="wmts", basemap_url="http://w/wmts?TILEMATRIX={TileMatrix}&TILEROW={TileRow}&TILECOL={TileCol}")
    assert map_style(wmts, theme="light", lang="zh", tiles_url=tiles)["sources"]["tiles"]["tiles"] == [
        "http://w/wmts?TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"]
    assert map_style(Settings(basemap="style_url", basemap_url="http://gis.intra/style.json"), theme="light",
                     lang="zh", tiles_url=tiles) == "http://gis.intra/style.json"
    amap = Settings(basemap="amap", basemap_url="http://amap.intra/{z}/{x}/{y}.png")
    assert draw_crs(amap) == "gcj02"
    for preset in (legacy, td, wmts, amap):
        assert "glyphs" not in _keys(map_style(preset, theme="light", lang="zh", tiles_url=tiles))


def test_gcj02_drawing_shifts_a_copy_by_a_few_hundred_metres():
    lon, lat = np.array([114.30, np.nan]), np.array([30.60, np.nan])
    glon, glat = to_draw_crs(lon, lat, "gcj02")
    assert lon[0] == 114.30  # the input stays as stored
    dx = (glon[0] - lon[0]) * 111_320 * np.cos(np.radians(30.6))
    dy = (glat[0] - lat[0]) * 110_540
    assert 200 < np.hypot(dx, dy) < 800 and np.isnan(glon[1])
    assert np.array_equal(to_draw_crs(lon, lat, "wgs84")[0], lon, equal_nan=True)
    with pytest.raises(ValueError):
        to_draw_crs(lon, lat, "bd09")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# the routes
# --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(demo_store_path: Path, tmp_path_factory: pytest.TempPathFactory, built):
    """The app on its own copy of the small city, with the module's basemap beside it (no build at start)."""
    from dashboard.app import create_app

    path = tmp_path_factory.mktemp("served") / "city.gpkg"
    shutil.copyfile(demo_store_path, path)
    shutil.copyfile(built[1], basemap_path(path))
    app = create_app(Settings(store=str(path), secret_key="test-secret"))
    bm = app.server.config["RISKMAP_BASEMAP"]
    if bm._building is not None:
        bm._building.join()
    return app, read_info(basemap_path(path))


def _client(app, user: str | None = "admin"):
    c = app.server.test_client()
    if user:
        r = c.post("/login", data={"username": user, "password": "demo"})
        assert r.status_code == 302
    return c


def test_routes_need_login(served):
    app, _info = served
    c = _client(app, None)
    for url in ("/tiles/base.json", "/tiles/base/8/0/0.pbf", "/basemap/style.json", "/tiles/../etc/passwd"):
        r = c.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"], url


def test_a_wall_kiosk_gets_the_tiles(served):
    from layers import access

    app, info = served
    token = access.issue_wall_token(open_store(app.server.config["RISKMAP_SETTINGS"].store), label="test wall")
    c = app.server.test_client()
    assert c.get(f"/wall?token={token}").status_code == 302
    z, (x, y) = 8, tile_of(*CENTRE, 8)
    assert c.get(f"/tiles/base/{z}/{x}/{y}.pbf").status_code == 200
    assert c.get("/basemap/style.json?theme=dark").status_code == 200
    assert c.get("/coverage").status_code == 403


def test_tilejson_and_style_point_at_our_own_tiles(served):
    app, info = served
    c = _client(app)
    r = c.get("/tiles/base.json")
    assert r.status_code == 200 and r.headers["ETag"] == f'"{info.build_id}"'
    body = r.get_json()
    assert body["tiles"] == [f"http://localhost/tiles/base/{{z}}/{{x}}/{{y}}.pbf?v={info.build_id}"]
    assert (body["minzoom"], body["maxzoom"]) == (8, 15) and "roads" in {v["id"] for v in body["vector_layers"]}
    assert c.get("/tiles/base.json", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    assert c.get("/tiles/other.json").status_code == 404
    style = c.get("/basemap/style.json?theme=dark&lang=en").get_json()
    assert "glyphs" not in _keys(style) and "sprite" not in _keys(style)
    assert all(u.startswith("http://localhost/tiles/base/") for u in _urls(style))
    assert style["metadata"] == {"riskmap:theme": "dark", "riskmap:lang": "en"}
    assert c.get("/basemap/style.json?theme=neon").status_code == 400


def test_a_tile_is_gzipped_protobuf_with_the_builds_etag(served):
    app, info = served
    c = _client(app)
    z, (x, y) = 8, tile_of(*CENTRE, 8)
    r = c.get(f"/tiles/base/{z}/{x}/{y}.pbf?v={info.build_id}", headers={"Accept-Encoding": "gzip, deflate"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/x-protobuf" and r.headers["Content-Encoding"] == "gzip"
    assert r.headers["ETag"] == f'"{info.build_id}"' and "immutable" in r.headers["Cache-Control"]
    assert "districts" in decode(r.data)
    plain = c.get(f"/tiles/base/{z}/{x}/{y}.pbf")  # no Accept-Encoding: the same tile, decompressed
    assert "Content-Encoding" not in plain.headers and plain.data == gzip.decompress(r.data)
    assert plain.headers["Cache-Control"] == "private, no-cache"  # not the current build's URL: revalidate
    assert c.get(f"/tiles/base/{z}/{x}/{y}.pbf", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304


def test_empty_tiles_204_and_anything_outside_404(served):
    app, _info = served
    c = _client(app)
    x, y = tile_of(*CENTRE, 12)
    assert c.get("/tiles/base/12/0/0.pbf").status_code == 204            # in the grid, far from the city
    assert c.get(f"/tiles/base/15/{tile_of(100.0, 20.0, 15)[0]}/{tile_of(100.0, 20.0, 15)[1]}.pbf").status_code == 204
    for url in ("/tiles/base/7/0/0.pbf", "/tiles/base/16/0/0.pbf", "/tiles/base/0/0/0.pbf",   # zoom outside 8–15
                f"/tiles/base/12/{2 ** 12}/{y}.pbf", f"/tiles/base/12/{x}/{2 ** 12}.pbf",     # outside the grid
                "/tiles/other/12/0/0.pbf", f"/tiles/base/12/-1/{y}.pbf", f"/tiles/base/12/a/{y}.pbf",
                f"/tiles/base/012/{x}/{y}.pbf", f"/tiles/base/12/{x}/{y}.pbf.gz", f"/tiles/base/12/{x}/{y}",
                "/tiles/base/12/../../x.pbf", "/tiles/%2e%2e/%2e%2e/etc/passwd", "/tiles/base/1e3/0/0.pbf",
                f"/tiles/base/12/{x}/{'9' * 40}.pbf"):
        r = c.get(url)
        assert r.status_code == 404, url
        assert r.mimetype == "text/plain", url  # not Dash's page


def test_the_old_file_is_served_while_a_new_one_is_built(served, tmp_path):
    app, info = served
    bm = app.server.config["RISKMAP_BASEMAP"]
    old = bm.archive()
    z, (x, y) = 8, tile_of(*CENTRE, 8)
    before = bytes(old.tile(z, x, y))
    staged = tmp_path / "next.pmtiles"
    shutil.copyfile(bm.path, staged)
    os.utime(staged, ns=(1, 1))
    os.replace(staged, bm.path)                 # what build_basemap does at its end
    new = bm.archive()
    assert new is not old and bytes(old.tile(z, x, y)) == before == bytes(new.tile(z, x, y))


def test_the_cli_builds_with_a_progress_bar(demo_store_path, tmp_path, capsys):
    from layers.cli import main

    store = tmp_path / "city.gpkg"
    shutil.copyfile(demo_store_path, store)
    out = tmp_path / "out.pmtiles"
    assert main(["basemap", "--store", str(store), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert out.exists() and "100.0%" in captured.err and "wrote the basemap" in captured.out
    assert main(["basemap", "--store", str(store), "--out", str(out), "--if-stale"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["basemap", "--store", str(tmp_path / "missing.gpkg")]) == 1
