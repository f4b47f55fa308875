"""Access: the one access function, roles, server-side sessions, login throttling, headers, and a registry test
that fails when a callback, page or route forgets the access check."""

from __future__ import annotations

import json
import re

import pytest

from layers import access
from layers.access import Principal, authorize
from layers.errors import AccessDenied, RiskMapError

D1, D2 = "420102", "420103"


# -- the one access function ---------------------------------------------------------------------

def test_roles_get_their_area_and_nothing_more():
    admin = Principal("a", "admin")
    assert authorize(admin).districts is None
    assert authorize(admin, "admin").action == "admin"
    district = Principal("d", "district", district=D1)
    assert authorize(district).districts == (D1,)
    assert authorize(district, districts=D1).districts == (D1,)
    with pytest.raises(AccessDenied):
        authorize(district, districts=D2)
    with pytest.raises(AccessDenied):
        authorize(district, districts=[D1, D2])
    with pytest.raises(AccessDenied):
        authorize(district, "plan")
    town = Principal("t", "town", district=D1, town="420102001")
    a = authorize(town)
    assert a.districts == (D1,) and a.towns == ("420102001",)
    assert a.allows(D1, "420102001") and not a.allows(D1, "420102002")
    with pytest.raises(AccessDenied):
        authorize(town, towns="420102002")
    assert authorize(Principal("c", "command")).districts is None
    with pytest.raises(AccessDenied):
        authorize(Principal("c", "command"), "plan")
    assert authorize(Principal("p", "planner"), "plan").districts is None
    assert authorize(Principal("p", "planner", district=D2), "plan").districts == (D2,)


def test_the_wall_kiosk_may_only_read_the_wall():
    wall = Principal("wall:x", "wall", district=D1)
    assert authorize(wall, "wall.read").districts == (D1,)
    for act in ("read", "plan", "complete", "hazard.edit", "admin"):
        with pytest.raises(AccessDenied):
            authorize(wall, act)


def test_nobody_and_unknown_roles_are_refused():
    with pytest.raises(AccessDenied):
        authorize(None)
    with pytest.raises(AccessDenied):
        authorize(Principal("x", "superuser"))
    with pytest.raises(ValueError, match="unknown action"):
        authorize(Principal("a", "admin"), "fly")
    # a district user without a district sees nothing, not everything
    assert authorize(Principal("d", "district")).districts == ()


def test_a_row_belongs_to_the_district_of_the_object_it_names(writable_store):
    store = writable_store
    ent = store.read("enterprises", columns=["id", "district_code", "town_code"])
    own = ent[ent["district_code"] == D1].iloc[0]
    other = ent[ent["district_code"] == D2].iloc[0]
    places = access.object_places(store, [f"enterprises:{own['id']}", f"enterprises:{other['id']}", "venues:nope"])
    assert places["district_code"].tolist()[:2] == [D1, D2]
    assert places["district_code"].isna().tolist()[2]
    a = authorize(Principal("d", "district", district=D1))
    access.require_objects(a, store, [f"enterprises:{own['id']}"])
    with pytest.raises(AccessDenied):
        access.require_objects(a, store, [f"enterprises:{own['id']}", f"enterprises:{other['id']}"])
    with pytest.raises(AccessDenied):
        access.require_objects(a, store, ["venues:nope"])


# -- users and sessions --------------------------------------------------------------------------

def test_sessions_end_on_logout_password_role_change_and_disable(writable_store):
    store = writable_store
    access.add_user(store, "zhang", "correct horse 1", role="district", district_code=D1)
    who = access.authenticate(store, "zhang", "correct horse 1")
    assert who is not None and who.district == D1
    token = access.start_session(store, who)
    assert access.session_principal(store, token).district == D1
    access.end_session(store, token)
    assert access.session_principal(store, token) is None           # logout: the old cookie is refused

    token = access.start_session(store, who)
    access.set_role(store, "zhang", role="district", district_code=D2)
    assert access.session_principal(store, token) is None           # moved: the old session ends
    token = access.start_session(store, access.authenticate(store, "zhang", "correct horse 1"))
    assert access.session_principal(store, token).district == D2
    access.set_password(store, "zhang", "another horse 2")
    assert access.session_principal(store, token) is None
    assert access.authenticate(store, "zhang", "correct horse 1") is None
    token = access.start_session(store, access.authenticate(store, "zhang", "another horse 2"))
    access.set_disabled(store, "zhang")
    assert access.session_principal(store, token) is None
    assert access.authenticate(store, "zhang", "another horse 2") is None


def test_sessions_do_not_change_the_data_version(writable_store):
    store = writable_store
    before = store.data_version()
    token = access.start_session(store, access.authenticate(store, "admin", "demo"))
    access.end_session(store, token)
    assert store.data_version() == before      # a login does not throw away the cached analyses


def test_passwords_of_real_users_need_ten_characters(writable_store):
    with pytest.raises(RiskMapError, match="10"):
        access.add_user(writable_store, "li", "short", role="command")
    with pytest.raises(RiskMapError):
        access.add_user(writable_store, "li", "long enough!", role="district", district_code="999999")
    with pytest.raises(RiskMapError):
        access.add_user(writable_store, "li", "long enough!", role="town")


def test_an_unknown_user_costs_a_password_check_too(writable_store, monkeypatch):
    from layers.access import users

    calls = []
    real = users.check_password_hash
    monkeypatch.setattr(users, "check_password_hash", lambda h, p: calls.append(h) or real(h, p))
    assert access.authenticate(writable_store, "nobody-here", "demo") is None
    assert access.authenticate(writable_store, "admin", "wrong") is None
    assert len(calls) == 2 and calls[0] == users._DUMMY_HASH


def test_wall_tokens_open_the_wall_until_revoked(writable_store):
    store = writable_store
    token = access.issue_wall_token(store, label="主屏", district_code=D1)
    kiosk = access.wall_principal(store, token)
    assert kiosk.role == "wall" and kiosk.district == D1
    assert access.wall_principal(store, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    ref = access.list_wall_tokens(store)["ref"].iloc[0]
    access.revoke_wall_token(store, ref)
    assert access.wall_principal(store, token) is None


def test_throttle_locks_after_repeated_failures_and_lets_go_later():
    now = [1000.0]
    th = access.LoginThrottle(limit=5, address_limit=20, window_s=900, lockout_s=600, clock=lambda: now[0])
    for _ in range(4):
        th.failed("zhang", "10.0.0.1")
    assert th.locked_for("zhang", "10.0.0.1") == 0
    th.failed("ZHANG ", "10.0.0.2")
    assert th.locked_for("zhang", "10.0.0.9") == pytest.approx(600)
    now[0] += 601
    assert th.locked_for("zhang", "10.0.0.1") == 0
    for i in range(20):   # one address spraying many user names
        th.failed(f"user{i}", "10.0.0.7")
    assert th.locked_for("someone-else", "10.0.0.7") > 0


# -- the web edge: guard, login, headers ----------------------------------------------------------

@pytest.fixture
def client(live_app):
    return live_app.app.server.test_client()


def _login(client, user="admin", password="demo", nxt="/"):
    return client.post(f"/login?next={nxt}", data={"username": user, "password": password, "next": nxt})


@pytest.mark.parametrize("target", ["/%09/evil.example/", "/\t/evil.example/", "//evil.example/", "https://evil.example/",
                                    "/\\evil.example", "javascript:alert(1)", "/%5Cevil.example"])
def test_next_after_login_never_leaves_the_site(target):
    from urllib.parse import unquote

    from dashboard.auth import safe_next
    assert safe_next(unquote(target)) in ("/", unquote(target))
    out = safe_next(unquote(target))
    assert not out.startswith("//") and "\t" not in out and "\\" not in out and ":" not in out.split("/")[0]


def test_login_redirect_refuses_a_control_character_in_next(live_app):
    c = live_app.app.server.test_client()
    resp = c.post("/login", data={"username": "admin", "password": "demo", "next": "/\t/evil.example/"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def test_the_guard_matches_exact_paths(client):
    for path in ("/loginx", "/healthz/", "/logoutx", "/wallx"):
        resp = client.get(path)
        assert resp.status_code in (302, 401, 404)
        assert b"_dash-config" not in resp.data, path


def test_logout_is_a_post_and_the_old_cookie_is_refused(live_app):
    c = live_app.app.server.test_client()
    assert _login(c).status_code == 302
    assert c.get("/_dash-layout").status_code == 200
    cookie = c.get_cookie("session").value
    assert c.get("/logout").status_code == 302 and c.get("/_dash-layout").status_code == 200  # GET does nothing
    c.post("/logout")
    assert c.get("/_dash-layout").status_code == 401
    replay = live_app.app.server.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/_dash-layout").status_code == 401


def test_five_wrong_passwords_lock_the_account(live_app):
    c = live_app.app.server.test_client()
    for _ in range(5):
        assert _login(c, "d420104", "wrong").status_code == 401
    resp = _login(c, "d420104", "demo")
    assert resp.status_code == 429
    assert "分钟后再试" in resp.get_data(as_text=True)
    live_app.app.server.config["RISKMAP_THROTTLE"]._locked.clear()
    assert _login(c, "d420104", "demo").status_code == 302


def test_headers_forbid_framing_and_caching_of_data(live_app):
    c = live_app.app.server.test_client()
    page = c.get("/login")
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    _login(c)
    home = c.get("/")
    assert "frame-ancestors 'none'" in home.headers["Content-Security-Policy"]
    hashes = re.findall(r"'sha256-[^']+'", home.headers["Content-Security-Policy"])
    assert hashes, "the inline scripts of Dash's index page are allowed by hash, not by 'unsafe-inline'"
    assert "'unsafe-inline'" not in home.headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    deps = c.get("/_dash-dependencies")
    assert deps.headers["Cache-Control"] == "no-store"
    static = c.get("/assets/style.css")
    assert static.headers.get("Cache-Control") != "no-store"


def test_secure_cookie_behind_tls(demo_store_path, tmp_path):
    import shutil

    from dashboard.app import create_app
    from layers.settings import Settings

    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_store_path, path)
    app = create_app(Settings(store=str(path), secret_key="k", behind_proxy=True))
    c = app.server.test_client()
    plain = c.post("/login", data={"username": "admin", "password": "demo", "next": "/"})
    assert "Secure" not in plain.headers["Set-Cookie"]
    tls = c.post("/login", data={"username": "admin", "password": "demo", "next": "/"},
                 headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in tls.headers["Set-Cookie"] and "HttpOnly" in tls.headers["Set-Cookie"]


def test_healthz_says_only_what_a_probe_needs(live_app):
    c = live_app.app.server.test_client()
    body = c.get("/healthz").get_json()
    assert set(body) == {"status", "schema_version", "data_version"}
    _login(c)
    assert "counts" in c.get("/healthz").get_json()
    d = live_app.app.server.test_client()
    _login(d, "d420102")
    assert "counts" not in d.get("/healthz").get_json()


def test_the_wall_token_opens_the_wall_and_nothing_else(live_app):
    from layers.store import open_store

    token = access.issue_wall_token(open_store(live_app.store_path, create=False), label="test wall")
    c = live_app.app.server.test_client()
    resp = c.get(f"/wall?token={token}")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/wall")
    assert token not in resp.headers["Location"]
    assert c.get("/wall").status_code == 200
    for path in ("/", "/coverage", "/plan", "/object", "/plan/sheet", "/healthz-not"):
        assert c.get(path).status_code == 403, path
    # a callback of another page, replayed with the wall's cookie
    deps = c.get("/_dash-dependencies").get_json()
    hover = next(d for d in deps if "map-tip.show" in d["output"])
    resp = c.post("/_dash-update-component", json={
        "output": hover["output"], "outputs": [{"id": "map-tip", "property": p} for p in ("show", "bbox", "children")],
        "inputs": [{"id": "map-graph", "property": "hoverData", "value": {"points": [{"customdata": "enterprises:x"}]}}],
        "state": [{"id": "url", "property": "search", "value": ""}], "changedPropIds": ["map-graph.hoverData"]})
    assert resp.status_code == 403
    assert c.get("/wall?token=not-a-real-token-but-long-enough").status_code == 403


# -- the registry: nothing reaches the store without the access check ----------------------------

def _unchecked(app) -> list[str]:
    """Every server callback, page layout and route of ``app`` that does not ask the access function."""
    import dash
    import dash._callback as dc

    from dashboard.auth import OPEN_PATHS

    missing = []
    callbacks = {**dc.GLOBAL_CALLBACK_MAP, **app.callback_map}
    for out, item in callbacks.items():
        fn = item.get("callback")
        if fn is None or "_pages_content" in out or "_pages_store" in out:
            continue  # clientside callbacks run in the browser; Dash's page router calls the layouts below
        if getattr(fn, "__riskmap_access__", None) not in access.ACTIONS:
            missing.append(out)
    for page in dash.page_registry.values():
        if getattr(page["layout"], "__riskmap_access__", None) not in access.ACTIONS:
            missing.append(f"page {page['path']}")
    server = app.server
    for rule in server.url_map.iter_rules():
        view = server.view_functions[rule.endpoint]
        path = rule.rule
        if path in OPEN_PATHS or rule.endpoint == "static" or path.startswith(("/_dash", "/_reload-hash",
                                                                               "/_favicon", "/assets")):
            continue
        if path.startswith("/<path:path>") or path == "/":     # Dash's index page: the shell, no data
            continue
        if getattr(view, "__riskmap_access__", None) not in access.ACTIONS:
            missing.append(f"route {path}")
    return missing


def test_every_callback_page_and_route_asks_the_access_function(live_app):
    assert _unchecked(live_app.app) == [], "without the access check"


def test_the_store_refuses_a_request_that_skipped_the_check(live_app):
    import flask

    from dashboard import context

    with live_app.app.server.test_request_context("/"):
        flask.g.riskmap_principal = Principal("admin", "admin")
        with pytest.raises(RuntimeError, match="access check"):
            context.store()
        context.authorize("read")
        assert context.store() is not None


def test_registry_test_fails_for_a_callback_without_the_check(live_app):
    import dash._callback as dc
    from dash import Input, Output, callback

    @callback(Output("nowhere-x", "children"), Input("nowhere-y", "value"))
    def forgot(_v):
        return json.dumps(_v)

    try:
        assert "nowhere-x.children" in _unchecked(live_app.app)
    finally:
        dc.GLOBAL_CALLBACK_MAP.pop("nowhere-x.children", None)
        dc.GLOBAL_CALLBACK_LIST[:] = [c for c in dc.GLOBAL_CALLBACK_LIST if c.get("output") != "nowhere-x.children"]


# -- the admin page ------------------------------------------------------------------------------

def test_admin_page_manages_users_and_tokens_and_refuses_everyone_else(request_ctx, live_app):
    from dashboard.pages import admin

    store = __import__("layers.store", fromlist=["open_store"]).open_store(live_app.store_path, create=False)
    with request_ctx(user={"id": "admin"}, path="/admin"):
        assert "admin-users" in str(admin.layout(lang="en"))
        msg, table = admin.user_action(admin.Ids.ADD, "wang", "district", D2, None, "王", "a-long-password", "zh")
        assert "wang" in str(table)
        token = access.start_session(store, access.authenticate(store, "wang", "a-long-password"))
        admin.user_action(admin.Ids.DISABLE, "wang", None, None, None, None, None, "zh")
        assert access.session_principal(store, token) is None
        with pytest.raises(RiskMapError, match="10"):
            admin.user_action(admin.Ids.SET_PASSWORD, "wang", None, None, None, None, "short", "zh")
        msg, tokens = admin.token_action(admin.Ids.NEW_TOKEN, "大厅", None, None, "zh")
        url = re.search(r"/wall\?token=([\w-]+)", str(msg)).group(1)
        assert access.wall_principal(store, url) is not None
    for user in ({"id": "command"}, {"id": "d" + D1}, {"id": "planner"}):
        with request_ctx(user=user, path="/admin"):
            assert "admin-users" not in str(admin.layout(lang="zh"))
            with pytest.raises(AccessDenied):
                admin.user_action(admin.Ids.ADD, "evil", "admin", None, None, None, "a-long-password", "zh")
            with pytest.raises(AccessDenied):
                admin.token_action(admin.Ids.NEW_TOKEN, "x", None, None, "zh")
    assert len(store.read("users", where={"id": "evil"})) == 0


def test_single_sign_on_header_from_a_trusted_proxy(demo_store_path, tmp_path):
    import shutil

    from dashboard.app import create_app
    from layers.settings import Settings
    from layers.store import open_store

    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_store_path, path)
    with pytest.raises(RiskMapError, match="BEHIND_PROXY"):
        create_app(Settings(store=str(path), secret_key="k", sso_header="X-Remote-User"))
    app = create_app(Settings(store=str(path), secret_key="k", sso_header="X-Remote-User", behind_proxy=True))
    c = app.server.test_client()
    assert c.get("/_dash-layout").status_code == 401
    assert c.get("/_dash-layout", headers={"X-Remote-User": "d" + D1}).status_code == 200
    assert c.get("/_dash-layout", headers={"X-Remote-User": "nobody"}).status_code == 401
    access.set_disabled(open_store(path, create=False), "d" + D1)
    assert c.get("/_dash-layout", headers={"X-Remote-User": "d" + D1}).status_code == 401


@pytest.mark.parametrize("layer", ["users", "sessions", "wall_tokens", "plans", "plan_stops"])
def test_no_file_can_make_a_login_a_session_a_wall_token_or_a_plan(writable_store, tmp_path, layer):
    from layers.errors import ImportRejected
    from layers.ingest import import_file

    f = tmp_path / "x.csv"
    f.write_text("id,user_id,label\nabc,admin,x\n", encoding="utf-8")
    before = writable_store.count(layer)
    with pytest.raises(ImportRejected):
        import_file(writable_store, layer, f)
    assert writable_store.count(layer) == before


def test_a_refused_role_says_so_not_that_the_area_is_off_limits():
    from dashboard.components.errors import calm_message
    from dashboard.i18n import t
    from layers.errors import ActionDenied

    with pytest.raises(ActionDenied) as role:
        authorize(Principal("d", "district", district=D1), "plan")
    with pytest.raises(AccessDenied) as area:
        authorize(Principal("d", "district", district=D1), districts=D2)
    assert not isinstance(area.value, ActionDenied)
    assert calm_message("zh", role.value).children == t("error.role", "zh")
    assert calm_message("en", area.value).children == t("error.denied", "en")
