"""Shared fixtures: a small demo city in a real GeoPackage, the app served on a free port, real Chromium."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = os.environ.get("RISKMAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"]
SMALL_CITY_ENTERPRISES = 800


@pytest.fixture(scope="session")
def demo_store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo city (read-only for tests: copy it with ``writable_store`` before writing)."""
    from layers.demo.city import build_demo_store

    path = tmp_path_factory.mktemp("demo") / "city.gpkg"
    build_demo_store(path, enterprises=SMALL_CITY_ENTERPRISES, seed=7)
    return path


@pytest.fixture
def writable_store(demo_store_path: Path, tmp_path: Path):
    """A private copy of the small demo city that a test may write to."""
    from layers.store import open_store

    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_store_path, path)
    return open_store(path)


class _ServerThread(threading.Thread):
    def __init__(self, app):
        super().__init__(daemon=True)
        from werkzeug.serving import make_server

        self.srv = make_server("127.0.0.1", 0, app.server, threaded=True)
        self.port = self.srv.server_port

    def run(self) -> None:
        self.srv.serve_forever()

    def stop(self) -> None:
        self.srv.shutdown()


@dataclass
class LiveApp:
    url: str
    app: object
    store_path: Path
    host: str = field(init=False)

    def __post_init__(self) -> None:
        self.host = urlparse(self.url).netloc


@pytest.fixture(scope="session")
def live_app(demo_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """The app on its own copy of the small city, served by a real HTTP server on a free port."""
    from dashboard.app import create_app
    from layers.settings import Settings

    path = tmp_path_factory.mktemp("live") / "city.gpkg"
    shutil.copyfile(demo_store_path, path)
    app = create_app(Settings(store=str(path), secret_key="test-secret", wall_refresh_s=5))
    server = _ServerThread(app)
    server.start()
    try:
        yield LiveApp(url=f"http://127.0.0.1:{server.port}", app=app, store_path=path)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@dataclass
class Watched:
    """A page plus every request it made and every console error it logged."""

    page: object
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def foreign_requests(self, host: str) -> list[str]:
        return [u for u in self.requests
                if not u.startswith(("data:", "blob:", "about:")) and urlparse(u).netloc != host]


def _watch(page) -> Watched:
    w = Watched(page)
    page.on("request", lambda r: w.requests.append(r.url))
    page.on("console", lambda m: w.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: w.errors.append(f"pageerror: {e}"))
    return w


def login(page, base_url: str, user: str = "admin", password: str = "demo", next_path: str = "/") -> None:
    page.goto(f"{base_url}/login?next={next_path}")
    page.fill("#login-username", user)
    page.fill("#login-password", password)
    page.click("#login-submit")
    page.wait_for_url(lambda url: "/login" not in url)  # not "networkidle": the wall refreshes itself
    page.wait_for_load_state("domcontentloaded")


@pytest.fixture
def watched_page(browser, live_app: LiveApp) -> Iterator[Watched]:
    """A fresh browser context (1600x1000), logged in as the city user ``admin``."""
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    page = ctx.new_page()
    w = _watch(page)
    login(page, live_app.url)
    yield w
    ctx.close()


@pytest.fixture
def new_watched_page(browser):
    """Factory: ``new_watched_page(viewport=(w, h))`` -> Watched (not logged in); closed at teardown."""
    contexts = []

    def make(viewport: tuple[int, int] = (1600, 1000)) -> Watched:
        ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="zh-CN")
        contexts.append(ctx)
        return _watch(ctx.new_page())

    yield make
    for c in contexts:
        c.close()


@pytest.fixture
def request_ctx(live_app: LiveApp):
    """Factory: ``with request_ctx(user={"id": …} or "username"):`` runs callbacks as plain functions inside a
    Flask request with a real server-side session of that store user (None = not logged in). A user id the store
    lacks is added first with the role and district given."""
    import contextlib

    import flask

    from layers import access
    from layers.access.users import principal_of
    from layers.store import open_store

    @contextlib.contextmanager
    def make(user: dict | str | None = None, path: str = "/"):
        with live_app.app.server.test_request_context(path):
            if user is not None:
                store = open_store(live_app.store_path, create=False)
                spec = {"id": user} if isinstance(user, str) else dict(user)
                rows = store.read("users", where={"id": spec["id"]})
                if len(rows) == 0:
                    access.add_user(store, spec["id"], "demo", role=spec.get("role", "district"),
                                    district_code=spec.get("district_code"), town_code=spec.get("town_code"),
                                    demo=True)
                    rows = store.read("users", where={"id": spec["id"]})
                flask.session["sid"] = access.start_session(store, principal_of(rows.iloc[0]))
            yield

    return make


CITY_USER = {"id": "admin", "role": "admin", "district_code": None, "display_name": "admin"}
