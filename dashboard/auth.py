"""Login, logout, wall tokens, the guard that keeps pages and callbacks behind a session, and the headers.

* The login form is a plain server-rendered page (works without JavaScript). The cookie (signed with the
  settings' secret key) carries only a random session token; the session itself lives in the store, so logout,
  disabling a user or changing its password, role or district take effect on the next request.
* Failed logins are throttled per user name and per client address, with a temporary lock-out, and an unknown
  user costs the same time as a wrong password.
* A wall kiosk opens ``/wall?token=…`` (a long random token made by ``python -m layers user token new``): no
  login screen, and nothing but the wall and its data is reachable with it.
* The guard lets through only an exact list of open paths without a session; Dash callback requests without a
  session get 401, pages redirect to ``/login``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import re
from urllib.parse import urlsplit

import flask

from dashboard import context
from dashboard.components import deck
from dashboard.i18n import norm_lang, t
from layers import access

log = logging.getLogger(__name__)

#: paths served without a session (exact) and static prefixes (no data)
OPEN_PATHS = frozenset({"/login", "/logout", "/healthz", "/_favicon.ico", "/favicon.ico"})
STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
#: what a wall kiosk may reach besides the static files
WALL_PATHS = frozenset({"/wall", "/_dash-layout", "/_dash-dependencies", "/_dash-update-component",
                        deck.PAGE_ROUTE, deck.BUNDLE_ROUTE, deck.DATA_ROUTE})
#: path prefixes a wall kiosk may reach too: the basemap's tiles and style (checked with ``wall.read``)
WALL_PREFIXES = ("/tiles/", "/basemap/")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


def _login_page(lang: str, error: str = "", next_url: str = "/", *, demo: bool = False) -> str:
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
{f'<p class="login-demo" id="login-demo">{e(t("login.demo", lang))}</p>' if demo else ''}
<a class="login-lang" href="/login?lang={other}&amp;next={e(next_url)}">{e(t('nav.lang', lang))}</a>
</form></body></html>"""


def safe_next(target: str | None) -> str:
    """A same-site path to go to after login: no control characters, backslashes, scheme or host."""
    if not target or _CONTROL.search(target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _has_demo_users(store) -> bool:  # noqa: ANN001
    users = store.read("users", columns=["demo"])
    return bool(len(users)) and bool(users["demo"].fillna(False).astype(bool).any())


def _client() -> str:
    return flask.request.remote_addr or "?"


def _start(p: access.Principal, *, store) -> None:  # noqa: ANN001
    token = access.start_session(store, p)
    flask.session.clear()
    flask.session[context.SESSION_KEY] = token
    flask.session.permanent = True


def _csp(extra_script_hashes: list[str] | None = None, *, frame_ancestors: str = "'none'") -> str:
    app = flask.current_app.config["RISKMAP_DASH"]
    hashes = flask.current_app.config.get("RISKMAP_CSP_HASHES")
    if hashes is None:  # once, after every page and callback registered its inline scripts
        hashes = app.csp_hashes()
        flask.current_app.config["RISKMAP_CSP_HASHES"] = hashes
    scripts = " ".join(["'self'", *hashes, *(extra_script_hashes or []),
                        "'unsafe-eval'"])  # plotly.js's WebGL (regl) compiles its shaders with Function()
    tiles = flask.current_app.config.get("RISKMAP_CSP_TILES")
    if tiles is None:  # an intranet basemap preset's hosts (none for the built-in basemap)
        from layers.basemap.style import external_origins

        tiles = " ".join(external_origins(context.settings()))
        flask.current_app.config["RISKMAP_CSP_TILES"] = tiles
    more = f" {tiles}" if tiles else ""
    return ("default-src 'self'; "
            f"script-src {scripts}; "
            "style-src 'self' 'unsafe-inline'; "  # Dash components set style attributes
            f"img-src 'self' data: blob:{more}; font-src 'self' data:; connect-src 'self'{more}; "
            "worker-src 'self' blob:; child-src 'self' blob:; frame-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; "
            f"frame-ancestors {frame_ancestors}")


def inline_script_hashes(page: str) -> list[str]:
    """CSP hashes of the inline ``<script>`` blocks of a page of ours."""
    out = []
    for body in re.findall(r"<script>(.*?)</script>", page, flags=re.S):
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii")
        out.append(f"'sha256-{digest}'")
    return out


def install(server: flask.Flask) -> None:
    throttle = access.LoginThrottle()
    server.config["RISKMAP_THROTTLE"] = throttle

    @server.before_request
    def _guard():  # noqa: ANN202
        path = flask.request.path
        if path in OPEN_PATHS or path.startswith(STATIC_PREFIXES):
            return None
        if not context.settings().auth:
            return None
        if path == "/wall" and flask.request.args.get("token"):
            return _open_wall()
        who = context.principal()
        if who is None:
            if path.startswith("/_dash"):
                return flask.jsonify({"error": "login required"}), 401
            nxt = flask.request.full_path.rstrip("?")
            return flask.redirect(f"/login?next={flask.request.environ.get('SCRIPT_NAME', '')}{nxt}")
        if who.role == "wall" and path not in WALL_PATHS and not path.startswith(WALL_PREFIXES):
            return flask.jsonify({"error": "the wall token opens only the wall"}), 403
        return None

    def _open_wall():  # noqa: ANN202
        token = flask.request.args.get("token", "")
        kiosk = access.wall_principal(context.open_unchecked(), token)
        if kiosk is None:
            log.warning("wall token refused from %s", _client())
            lang = norm_lang(flask.request.args.get("lang"))
            return flask.make_response(f"<!doctype html><meta charset=utf-8><p>{html.escape(t('wall.bad_token', lang))}",
                                       403)
        flask.session.clear()
        flask.session[context.WALL_KEY] = token
        flask.session.permanent = True
        rest = [(k, v) for k, v in flask.request.args.items(multi=True) if k != "token"]
        query = "&".join(f"{k}={v}" for k, v in rest if re.fullmatch(r"[\w.-]+", k) and re.fullmatch(r"[\w.-]*", v))
        return flask.redirect("/wall" + (f"?{query}" if query else ""))

    @server.route("/login", methods=["GET", "POST"])
    def login():  # noqa: ANN202
        lang = norm_lang(flask.request.args.get("lang"))
        nxt = safe_next(flask.request.values.get("next"))
        store = context.open_unchecked()
        demo = _has_demo_users(store)
        if flask.request.method == "GET":
            return _login_page(lang, next_url=nxt, demo=demo)
        username = flask.request.form.get("username", "").strip()
        password = flask.request.form.get("password", "")
        wait = throttle.locked_for(username, _client())
        if wait > 0:
            log.warning("login locked for %r from %s", username, _client())
            msg = t("login.locked", lang).format(minutes=max(1, round(wait / 60)))
            return _login_page(lang, msg, nxt, demo=demo), 429
        who = access.authenticate(store, username, password)
        if who is None:
            throttle.failed(username, _client())
            if store.count("users") == 0:
                return _login_page(lang, t("login.no_users", lang), nxt), 401
            log.info("failed login for %r from %s", username, _client())
            return _login_page(lang, t("login.failed", lang), nxt, demo=demo), 401
        throttle.succeeded(username, _client())
        _start(who, store=store)
        return flask.redirect(nxt)

    @server.route("/logout", methods=["GET", "POST"])
    def logout():  # noqa: ANN202
        if flask.request.method == "GET":  # a link or an image must not log anyone out
            return flask.redirect("/")
        access.end_session(context.open_unchecked(), flask.session.get(context.SESSION_KEY))
        flask.session.clear()
        return flask.redirect("/login")

    @server.after_request
    def _headers(resp: flask.Response) -> flask.Response:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        path = flask.request.path
        if not path.startswith(STATIC_PREFIXES):
            resp.headers.setdefault("Cache-Control", "no-store")
        if resp.mimetype == "text/html" and "Content-Security-Policy" not in resp.headers:
            ancestors = "'self'" if path.startswith("/wall/deck") else _wall_ancestors(path)
            extra = inline_script_hashes(resp.get_data(as_text=True)) if path.startswith("/wall/deck") else None
            resp.headers["Content-Security-Policy"] = _csp(extra, frame_ancestors=ancestors)
            resp.headers["X-Frame-Options"] = "SAMEORIGIN" if ancestors != "'none'" else "DENY"
        return resp


def _wall_ancestors(path: str) -> str:
    origin = context.settings().wall_frame_origin
    return f"'self' {origin}" if path == "/wall" and origin else "'none'"


def secure_cookies(server: flask.Flask, *, setting: str) -> None:
    """``Secure`` session cookies: always (``setting="1"``), never (``"0"``), or when the request came over TLS
    (``"auto"``: the scheme, or ``X-Forwarded-Proto`` from a proxy that the WSGI server trusts)."""
    if setting == "1":
        server.config["SESSION_COOKIE_SECURE"] = True
        return
    if setting == "0":
        return

    from flask.sessions import SecureCookieSessionInterface

    class _Auto(SecureCookieSessionInterface):
        def get_cookie_secure(self, app: flask.Flask) -> bool:  # noqa: ARG002
            return flask.request.is_secure

    server.session_interface = _Auto()
