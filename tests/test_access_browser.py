"""Access in a real browser (headless Chromium): the wall token, logout, lock-out and a district leader's pages."""

from __future__ import annotations

import pytest
from conftest import login

from layers import access
from layers.store import open_store

pytestmark = pytest.mark.browser

READY = "() => window.__wallReady === true"


def test_the_wall_token_opens_the_wall_and_nothing_else(new_watched_page, live_app):
    token = access.issue_wall_token(open_store(live_app.store_path, create=False), label="browser wall")
    w = new_watched_page((1920, 1080))
    page = w.page
    page.goto(f"{live_app.url}/wall?token={token}")
    page.wait_for_function(READY, timeout=120_000)
    assert "token" not in page.url                      # the token leaves the address bar (and the history)
    assert page.locator("#wall-map").count() == 1
    assert w.foreign_requests(live_app.host) == []
    assert [e for e in w.errors if "403" not in e] == []
    for path in ("/", "/coverage", "/plan"):
        resp = page.goto(f"{live_app.url}{path}")
        assert resp.status == 403, path


def test_logout_is_a_button_and_the_old_cookie_is_refused_afterwards(new_watched_page, live_app):
    w = new_watched_page()
    page = w.page
    login(page, live_app.url, user="d420102")
    page.wait_for_selector("#nav-logout")
    cookie = next(c for c in page.context.cookies() if c["name"] == "session")
    page.click("#nav-logout")
    page.wait_for_url(lambda url: "/login" in url)
    replay = page.context.browser.new_context()
    try:
        replay.add_cookies([cookie])
        resp = replay.request.get(f"{live_app.url}/_dash-layout")
        assert resp.status == 401
    finally:
        replay.close()


def test_five_wrong_passwords_lock_the_login_for_a_while(new_watched_page, live_app):
    page = new_watched_page().page
    user = "d420106"
    try:
        for _ in range(5):
            page.goto(f"{live_app.url}/login")
            page.fill("#login-username", user)
            page.fill("#login-password", "wrong-password")
            page.click("#login-submit")
            page.wait_for_selector(".login-error")
        page.fill("#login-username", user)
        page.fill("#login-password", "demo")
        page.click("#login-submit")
        page.wait_for_selector(".login-error")
        assert "分钟后再试" in page.inner_text(".login-error")
        assert "/login" in page.url
    finally:
        live_app.app.server.config["RISKMAP_THROTTLE"]._locked.clear()


def test_a_district_leader_sees_only_their_district_on_every_page(new_watched_page, live_app):
    store = open_store(live_app.store_path, create=False)
    d = store.read("districts", columns=["code", "name"])
    own = d[d["code"] == "420102"]["name"].iloc[0]
    others = [n for n in d[d["code"] != "420102"]["name"] if n not in own]
    w = new_watched_page()
    page = w.page
    login(page, live_app.url, user="d420102")
    for path in ("/", "/coverage", "/plan"):
        page.goto(f"{live_app.url}{path}")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)
        text = page.inner_text("body")
        assert [n for n in others if n in text] == [], path
    page.goto(f"{live_app.url}/coverage?district=420103")
    page.wait_for_load_state("networkidle")
    assert not [n for n in others if n in page.inner_text("body")]
    assert w.foreign_requests(live_app.host) == []
