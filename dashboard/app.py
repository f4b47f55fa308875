"""The app factory: ``create_app(settings) -> Dash``. Tests start the app on their own store with it."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

import dash
import flask
from dash import Dash, dcc, html

from dashboard import auth, basemap_routes, compression, context
from dashboard.i18n import t
from dashboard.ledger import routes as ledger_routes
from dashboard.secret import session_secret
from layers.access.users import SESSION_HOURS
from layers.errors import AccessDenied, RiskMapError
from layers.settings import Settings

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
    if settings.sso_header and not settings.behind_proxy:
        raise RiskMapError("RISKMAP_SSO_HEADER 需要 RISKMAP_BEHIND_PROXY=1：否则任何人都能伪造这个头 (RISKMAP_SSO_HEADER "
                           "needs RISKMAP_BEHIND_PROXY=1: without a proxy in front, anyone could send that header)")
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
    compression.install(server)  # first: its after_request hook then runs last, on what the others wrote
    server.config["RISKMAP_SETTINGS"] = settings
    server.config["RISKMAP_DASH"] = app
    server.secret_key = session_secret(settings)
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                         PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS))
    if settings.behind_proxy:
        from werkzeug.middleware.proxy_fix import ProxyFix

        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    auth.secure_cookies(server, setting=settings.secure_cookies)
    app.layout = html.Div([dcc.Location(id="url", refresh="callback-nav"), dash.page_container])
    auth.install(server)
    _install_wall_deck(server)
    basemap_routes.install(server)  # /tiles/… and /basemap/style.json; builds the basemap in the background
    ledger_routes.install(server)
    _install_html_lang(server)
    if settings.worker_header:
        _install_worker_header(server)

    @server.errorhandler(AccessDenied)
    def _denied(exc: AccessDenied):  # noqa: ANN202 - a forged request to a callback it may not run
        log.warning("refused %s: %s", flask.request.path, exc)
        return flask.jsonify({"error": "forbidden"}), 403

    @server.route("/healthz")
    def healthz():  # noqa: ANN202
        """A health probe: status, schema and data version for anyone; the rest for a logged-in admin."""
        try:
            store = context.open_unchecked()
            body = {"status": "ok", "schema_version": store.schema_version(), "data_version": store.data_version()}
            who = context.principal() if settings.auth else None
            if who is not None and who.role == "admin":
                body.update(store.health())
        except RiskMapError:
            log.exception("health check failed")
            return flask.jsonify({"status": "error"}), 503
        return flask.jsonify(body)

    return app


def _install_worker_header(server: flask.Flask) -> None:
    """``X-RiskMap-Worker: <process id>`` on every response (``RISKMAP_WORKER_HEADER=1``): which worker answered."""

    @server.after_request
    def _worker(resp: flask.Response) -> flask.Response:
        resp.headers["X-RiskMap-Worker"] = str(os.getpid())
        return resp


def _install_html_lang(server: flask.Flask) -> None:
    """``<html lang="zh-CN">`` (or ``en``, from ``?lang=`` or the setting) on every HTML page, so that the browser
    and MapLibre pick Chinese glyph forms; a client-side language switch updates it (assets/wall.js). Only the
    ``<html>`` tag changes: the CSP's script hashes stay valid."""
    from dashboard.i18n import norm_lang

    @server.after_request
    def _html_lang(resp: flask.Response) -> flask.Response:
        if resp.mimetype != "text/html" or resp.direct_passthrough or resp.status_code >= 300:
            return resp
        body = resp.get_data(as_text=True)
        if "<html>" not in body[:400]:
            return resp
        default = "en" if norm_lang(server.config["RISKMAP_SETTINGS"].lang) == "en" else "zh-CN"
        lang = "en" if norm_lang(flask.request.args.get("lang") or default[:2]) == "en" else "zh-CN"
        resp.set_data(body.replace("<html>", f'<html lang="{lang}" data-default-lang="{default}">', 1))
        return resp

