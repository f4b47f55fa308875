"""The app factory: ``create_app(settings) -> Dash``. Tests start the app on their own store with it."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from pathlib import Path

import dash
import flask
from dash import Dash, dcc, html

from dashboard import auth
from dashboard.i18n import t
from layers.errors import RiskMapError
from layers.settings import Settings
from layers.store import open_store

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


def _bind_page_modules() -> None:
    """Make ``import dashboard.pages.X`` return the very module Dash loaded (not a second copy that would
    register its page twice)."""
    import sys

    import dashboard.pages as pages_pkg

    for name, module in list(sys.modules.items()):
        if name.startswith("dashboard.pages.") and name.count(".") == 2:
            setattr(pages_pkg, name.rsplit(".", 1)[1], module)


def _install_wall_deck(server: flask.Flask) -> None:
    """The wall's 3D view routes (page, deck.gl bundle from the pydeck package, data) on this app's server."""
    import sys

    from dashboard.components import deck

    wall = sys.modules.get("dashboard.pages.wall")
    if wall is not None:
        deck.install(server, wall.deck_payload)


def create_app(settings: Settings | None = None) -> Dash:
    """A Dash app serving the store named in ``settings``; nothing is loaded until a page asks."""
    settings = settings or Settings.from_env()
    app = Dash(
        "dashboard",  # pages import as dashboard.pages.<name>, the same module a test or tool imports
        use_pages=True,
        pages_folder=str(Path(__file__).parent / "pages"),
        assets_folder=str(ROOT / "assets"),
        serve_locally=True,
        suppress_callback_exceptions=True,
        title=t("app.title", settings.lang),
        update_title=None,
        compress=False,
    )
    _bind_page_modules()
    server: flask.Flask = app.server
    server.config["RISKMAP_SETTINGS"] = settings
    server.secret_key = settings.secret_key or secrets.token_hex(32)
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                         PERMANENT_SESSION_LIFETIME=timedelta(hours=12))
    app.layout = html.Div([dcc.Location(id="url", refresh="callback-nav"), dash.page_container])
    auth.install(server)
    _install_wall_deck(server)

    @server.route("/healthz")
    def healthz():  # noqa: ANN202
        try:
            health = open_store(settings.store, create=False).health()
        except RiskMapError as exc:
            log.exception("health check failed")
            return flask.jsonify({"status": "error", "store": settings.store, "error": str(exc)}), 503
        return flask.jsonify({"status": "ok", **health})

    @server.after_request
    def _headers(resp: flask.Response) -> flask.Response:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        return resp

    return app
