"""The basemap in real headless Chromium: a ``scattermap`` figure drawn on our style, served by the test's own
server (the basemap routes on a small Dash app), asks nothing of any other host and gets its tiles."""

from __future__ import annotations

import shutil
import socketserver
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "docs" / "screenshots"


@pytest.fixture(scope="module")
def map_server(demo_store_path: Path, tmp_path_factory: pytest.TempPathFactory):
    """A Dash app with the basemap routes (login off: a kiosk) whose page is one map; yields its base URL."""
    import flask
    import plotly.graph_objects as go
    from dash import Dash, Input, Output, dcc, html
    from werkzeug.serving import make_server

    from dashboard import basemap_routes
    from layers.basemap import basemap_style
    from layers.settings import Settings

    path = tmp_path_factory.mktemp("browser-basemap") / "city.gpkg"
    shutil.copyfile(demo_store_path, path)
    server = flask.Flask("basemap-test")
    server.config["RISKMAP_SETTINGS"] = Settings(store=str(path), auth=False, secret_key="k")
    basemap_routes.install(server)          # builds the missing basemap in the background
    server.config["RISKMAP_BASEMAP"]._building.join(timeout=120)
    answered: list[tuple[int, str]] = []   # what the server answered to the tile requests (made in a web worker)

    @server.after_request
    def _record(resp):  # noqa: ANN001, ANN202
        if flask.request.path.startswith("/tiles/"):
            answered.append((resp.status_code, flask.request.full_path))
        return resp

    srv = make_server("127.0.0.1", 0, server, threaded=True)
    base = f"http://127.0.0.1:{srv.server_port}"
    figures = {}
    for theme in ("light", "dark"):
        fig = go.Figure(go.Scattermap(lon=[114.300, 114.318, 114.285], lat=[30.600, 30.612, 30.590], mode="markers",
                                      marker={"size": 14, "color": ["#E5141B", "#FF8A00", "#1E6FE0"]}))
        fig.update_layout(map={"style": basemap_style(theme, tiles_url=f"{base}/tiles/base/{{z}}/{{x}}/{{y}}.pbf",
                                                      lang="zh"),
                               "center": {"lon": 114.30, "lat": 30.60}, "zoom": 13.2},
                          margin={"l": 0, "r": 0, "t": 0, "b": 0}, showlegend=False)
        figures[theme] = fig
    app = Dash("basemap_test", server=server, serve_locally=True, assets_folder=str(path.parent / "no-assets"),
               url_base_pathname="/")
    app.index_string = app.index_string.replace("<html>", '<html lang="zh-CN">')
    app.layout = html.Div([dcc.Location(id="url"), html.Div(id="page")])

    @app.callback(Output("page", "children"), Input("url", "search"))
    def _page(search):  # noqa: ANN001, ANN202 - a test page: ?theme=dark
        theme = "dark" if "dark" in (search or "") else "light"
        return dcc.Graph(id="map", figure=figures[theme], style={"height": "900px"}, config={"displayModeBar": False})

    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield base, answered
    srv.shutdown()


class _Elsewhere(socketserver.ThreadingTCPServer):
    """A proxy for every host but the app's (the app on 127.0.0.1 is bypassed): it records what reached it,
    including requests from MapLibre's web workers that the page's events do not show, and answers 502."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.seen: list[str] = []
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                line = self.rfile.readline(4096).decode("latin-1").strip()
                if line:
                    outer.seen.append(line)
                self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture(scope="module")
def elsewhere():
    proxy = _Elsewhere()
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    yield proxy
    proxy.shutdown()


def _open(browser, proxy: _Elsewhere, url: str, tiles: list):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN",
                              proxy={"server": f"http://127.0.0.1:{proxy.server_address[1]}", "bypass": "127.0.0.1"})
    page = ctx.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    del tiles[:], proxy.seen[:]
    page.goto(url)
    page.wait_for_selector(".maplibregl-canvas", timeout=30_000)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # until the tiles stop coming
        n = len(tiles)
        time.sleep(1.5)
        if n and len(tiles) == n:
            break
    return ctx, page, requests, errors, list(tiles)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_scattermap_on_our_style_stays_on_our_host(map_server, browser, elsewhere, theme):
    base, answered = map_server
    ctx, page, requests, errors, tiles = _open(browser, elsewhere, f"{base}/?theme={theme}", answered)
    try:
        host = urlparse(base).netloc
        assert elsewhere.seen == [], "the map asked another host"
        assert [u for u in requests if not u.startswith(("data:", "blob:")) and urlparse(u).netloc != host] == []
        assert tiles, "no tile was fetched"
        assert {s for s, _ in tiles} <= {200, 204}, tiles
        assert any(s == 200 for s, _ in tiles)
        assert all(urlparse(u).path.endswith(".pbf") for _, u in tiles)
        assert errors == []
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / ("basemap-zh.png" if theme == "light" else "basemap-dark-zh.png")))
    finally:
        ctx.close()


def test_the_proxy_would_see_a_foreign_request(browser, elsewhere, map_server):
    """The check above can fail: a fetch to another host from the page reaches the recording proxy."""
    base, answered = map_server
    ctx, page, _requests, _errors, _tiles = _open(browser, elsewhere, f"{base}/?theme=light", answered)
    try:
        page.evaluate("fetch('http://tiles.example.invalid/0/0/0.png').catch(() => null)")
        deadline = time.monotonic() + 10
        while not elsewhere.seen and time.monotonic() < deadline:
            time.sleep(0.2)
        assert any("tiles.example.invalid" in line for line in elsewhere.seen)
    finally:
        ctx.close()
