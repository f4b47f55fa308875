"""The per-request session look-up is memoised (dashboard.context._PRINCIPALS), and stays exactly as strict:
logout, a disabled user, a new district, a revoked wall token and an expired session take effect on the next
request, and one token's answer is never another token's."""

from __future__ import annotations

from datetime import timedelta

import flask
import pytest
from test_auth import tiny_store  # noqa: F401 - the two-district store with an admin and a district lead

from dashboard import context
from layers import access
from layers.access.users import (
    SESSION_HOURS,
    authenticate,
    end_session,
    set_disabled,
    set_role,
    start_session,
)
from layers.cache import clear_all


@pytest.fixture
def app_store(tiny_store):  # noqa: F811 - the fixture imported from test_auth
    from dashboard.app import create_app
    from layers.settings import Settings

    clear_all()
    app = create_app(Settings(store=tiny_store.url, secret_key="k"))
    yield app, tiny_store
    clear_all()


def _who(app, *, sid: str | None = None, wall: str | None = None):
    """The principal of one fresh request carrying this session (or wall) token."""
    with app.server.test_request_context("/"):
        if sid:
            flask.session[context.SESSION_KEY] = sid
        if wall:
            flask.session[context.WALL_KEY] = wall
        return context.principal()


def _login(store, user: str, password: str) -> str:
    return start_session(store, authenticate(store, user, password))


def test_each_token_gets_its_own_answer(app_store):
    app, store = app_store
    lead, boss = _login(store, "lead", "secret-two-2"), _login(store, "boss", "secret-one-1")
    for _ in range(3):   # hits of the cache, interleaved: never another token's principal
        assert _who(app, sid=lead).district == "420103" and _who(app, sid=lead).role == "district"
        assert _who(app, sid=boss).role == "admin" and _who(app, sid=boss).district is None
    assert _who(app, sid=lead + "x") is None and _who(app, sid="forged-token-" * 3) is None
    assert _who(app) is None
    assert context._PRINCIPALS._cache.stats().hits >= 8   # the look-ups above were answered from the cache


def test_logout_disable_and_new_district_take_effect_on_the_next_request(app_store):
    app, store = app_store
    lead = _login(store, "lead", "secret-two-2")
    assert _who(app, sid=lead).district == "420103"
    end_session(store, lead)                      # logout (in any worker: a write to the store)
    assert _who(app, sid=lead) is None
    lead = _login(store, "lead", "secret-two-2")
    assert _who(app, sid=lead).district == "420103"
    set_role(store, "lead", role="district", district_code="420102")
    assert _who(app, sid=lead) is None            # moved: the old session ends at once
    lead = _login(store, "lead", "secret-two-2")
    assert _who(app, sid=lead).district == "420102"
    set_disabled(store, "lead")
    assert _who(app, sid=lead) is None


def test_an_expired_session_is_refused_though_it_was_kept(app_store, monkeypatch):
    app, store = app_store
    lead = _login(store, "lead", "secret-two-2")
    assert _who(app, sid=lead).district == "420103"
    later = context._utcnow() + timedelta(hours=SESSION_HOURS, minutes=1)
    monkeypatch.setattr(context, "_utcnow", lambda: later)
    assert _who(app, sid=lead) is None
    # and the guard says so to a callback request
    c = app.server.test_client()
    with c.session_transaction() as s:
        s[context.SESSION_KEY] = lead
    assert c.post("/_dash-update-component", json={}).status_code == 401


def test_a_revoked_wall_token_is_refused_on_the_next_request(app_store):
    app, store = app_store
    token = access.issue_wall_token(store, label="wall", district_code="420102")
    assert _who(app, wall=token).role == "wall" and _who(app, wall=token).district == "420102"
    assert access.revoke_wall_token(store, token) == 1
    assert _who(app, wall=token) is None


def test_the_guard_follows_a_logout_through_the_cache(app_store):
    app, store = app_store
    c = app.server.test_client()
    assert c.post("/login", data={"username": "lead", "password": "secret-two-2"}).status_code == 302
    assert c.get("/_dash-layout").status_code == 200
    assert c.get("/_dash-layout").status_code == 200   # the kept answer
    sid = _sid_of(c)
    end_session(store, sid)                             # another worker's logout
    assert c.get("/_dash-layout").status_code == 401


def _sid_of(client) -> str:
    with client.session_transaction() as s:
        return s[context.SESSION_KEY]
