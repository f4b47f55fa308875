"""Login and server-side access: who a user is comes from the session, never from a request's inputs."""

from __future__ import annotations

import flask
import geopandas as gpd
import pytest
from shapely.geometry import MultiPolygon, Polygon

from dashboard import context
from layers.access.users import add_user, authenticate, start_session
from layers.errors import AccessDenied, RiskMapError
from layers.store import open_store


@pytest.fixture
def tiny_store(tmp_path):
    store = open_store(tmp_path / "s.gpkg")
    sq = lambda x: MultiPolygon([Polygon([(x, 30), (x + .1, 30), (x + .1, 30.1), (x, 30.1)])])  # noqa: E731
    with store.transaction() as tx:
        tx.append("districts", gpd.GeoDataFrame({"code": ["420102", "420103"], "name": ["甲区", "乙区"]},
                                                geometry=[sq(114), sq(114.1)], crs=4326))
    add_user(store, "boss", "secret-one-1", role="admin")
    add_user(store, "lead", "secret-two-2", role="district", district_code="420103")
    return store


def _session(store, username: str, password: str) -> None:
    flask.session.clear()
    flask.g.pop("riskmap_principal", None)
    flask.session["sid"] = start_session(store, authenticate(store, username, password))


def test_users_and_passwords(tiny_store):
    assert authenticate(tiny_store, "boss", "secret-one-1").role == "admin"
    assert authenticate(tiny_store, "boss", "wrong") is None
    assert authenticate(tiny_store, "nobody", "secret-one-1") is None
    assert authenticate(tiny_store, "lead", "secret-two-2").district == "420103"
    stored = tiny_store.read("users", where={"id": "boss"})["password_hash"].iloc[0]
    assert "secret-one-1" not in stored
    with pytest.raises(RiskMapError, match="district code"):
        add_user(tiny_store, "x", "secret-three", role="district", district_code="999999")


def test_login_flow_and_guard(tiny_store):
    from dashboard.app import create_app
    from layers.settings import Settings

    app = create_app(Settings(store=tiny_store.url, secret_key="k"))
    c = app.server.test_client()
    assert c.get("/healthz").status_code == 200
    r = c.get("/coverage?district=420102")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=/coverage")
    assert c.post("/_dash-update-component", json={}).status_code == 401
    bad = c.post("/login", data={"username": "boss", "password": "nope"})
    assert bad.status_code == 401 and "用户名或密码错误" in bad.get_data(as_text=True)
    # an open redirect is refused
    ok = c.post("/login", data={"username": "boss", "password": "secret-one-1", "next": "//evil.example/"})
    assert ok.status_code == 302 and ok.headers["Location"] == "/"
    assert c.get("/_dash-layout").status_code == 200
    c.post("/logout")
    assert c.get("/_dash-layout").status_code == 401


def test_scope_narrows_to_the_session_district(tiny_store):
    from dashboard.app import create_app
    from layers.settings import Settings

    app = create_app(Settings(store=tiny_store.url, secret_key="k"))
    with app.server.test_request_context("/"):
        with pytest.raises(AccessDenied):
            context.scope(None)  # nobody logged in
        _session(tiny_store, "lead", "secret-two-2")
        assert context.scope(None) == ["420103"]
        assert context.scope("420103") == ["420103"]
        with pytest.raises(AccessDenied):
            context.scope("420102")  # a district leader asking for another district
        _session(tiny_store, "boss", "secret-one-1")
        assert context.scope(None) is None and context.scope("420102") == ["420102"]
