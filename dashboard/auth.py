"""Login, logout and the guard that keeps pages and callbacks behind a session.

The login form is a plain server-rendered page (works without JavaScript); the session cookie is signed with
the settings' secret key. Dash callback requests without a session get 401, pages redirect to ``/login``.
"""

from __future__ import annotations

import html
import logging

import flask

from dashboard import context
from dashboard.i18n import norm_lang, t
from layers.access.users import authenticate

log = logging.getLogger(__name__)

OPEN_PREFIXES = ("/login", "/logout", "/healthz", "/assets/", "/_dash-component-suites/", "/_favicon.ico",
                 "/favicon.ico", "/static/")


def _login_page(lang: str, error: str = "", next_url: str = "/") -> str:
    other = "en" if lang == "zh" else "zh"
    e = html.escape
    return f"""<!doctype html><html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<title>{e(t('login.title', lang))} · {e(t('app.title', lang))}</title>
<link rel="stylesheet" href="/assets/style.css"></head>
<body class="login-body"><form class="login-card" method="post" action="/login?lang={lang}">
<h1>{e(t('app.title', lang))}</h1>
<label>{e(t('login.user', lang))}<input name="username" id="login-username" autocomplete="username" autofocus></label>
<label>{e(t('login.password', lang))}<input name="password" id="login-password" type="password"
 autocomplete="current-password"></label>
<input type="hidden" name="next" value="{e(next_url)}">
{f'<p class="login-error" role="alert">{e(error)}</p>' if error else ''}
<button type="submit" id="login-submit">{e(t('login.submit', lang))}</button>
<a class="login-lang" href="/login?lang={other}&next={e(next_url)}">{e(t('nav.lang', lang))}</a>
</form></body></html>"""


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def install(server: flask.Flask) -> None:
    @server.before_request
    def _guard():  # noqa: ANN202
        if not context.settings().auth:
            return None
        path = flask.request.path
        if path.startswith(OPEN_PREFIXES) or flask.session.get("user"):
            return None
        if path.startswith("/_dash"):
            return flask.jsonify({"error": "login required"}), 401
        nxt = flask.request.full_path.rstrip("?")
        return flask.redirect(f"/login?next={flask.request.environ.get('SCRIPT_NAME', '')}{nxt}")

    @server.route("/login", methods=["GET", "POST"])
    def login():  # noqa: ANN202
        lang = norm_lang(flask.request.args.get("lang"))
        nxt = _safe_next(flask.request.values.get("next"))
        if flask.request.method == "GET":
            return _login_page(lang, next_url=nxt)
        store = context.store()
        username = flask.request.form.get("username", "").strip()
        user = authenticate(store, username, flask.request.form.get("password", ""))
        if user is None:
            if store.count("users") == 0:
                return _login_page(lang, t("login.no_users", lang), nxt), 401
            log.info("failed login for %r", username)
            return _login_page(lang, t("login.failed", lang), nxt), 401
        flask.session.clear()
        flask.session["user"] = user
        flask.session.permanent = True
        return flask.redirect(nxt)

    @server.route("/logout")
    def logout():  # noqa: ANN202
        flask.session.clear()
        return flask.redirect("/login")
