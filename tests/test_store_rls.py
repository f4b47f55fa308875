"""PostGIS row-level security by district (defence in depth under ``layers.access``): the ``riskmap_district``
role sees only the rows of ``current_setting('riskmap.district')``, whatever SQL it sends."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import psycopg
import pytest
from pg_fixtures import pg_server, pg_url  # noqa: F401  (fixtures)
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from layers.errors import StoreError
from layers.store import open_store
from layers.store.postgis import DISTRICT_ROLE, DISTRICT_SETTING


def _city(url: str):
    store = open_store(url)
    box = MultiPolygon([Polygon([(114, 30), (115, 30), (115, 31), (114, 31)])])
    with store.transaction() as tx:
        tx.append("districts", pd.DataFrame({"code": ["A", "B"], "name": ["甲区", "乙区"], "geometry": [box, box]}))
        tx.append("enterprises", pd.DataFrame({
            "id": ["EA", "EB"], "name": ["甲企业", "乙企业"], "district_code": ["A", "B"],
            "geometry": [Point(114.1, 30.1), Point(114.2, 30.2)]}))
        tx.append("inspections", pd.DataFrame({"id": ["IA", "IB"], "target_layer": "enterprises",
                                               "target_id": ["EA", "EB"], "date": "2026-01-02"}))
        tx.append("hazards", pd.DataFrame({"id": ["HA", "HB"], "target_layer": "enterprises",
                                           "target_id": ["EA", "EB"], "level": "major", "found_date": "2026-01-02",
                                           "status": "open", "district_code": ["A", "B"]}))
        tx.append("hazard_files", pd.DataFrame({"id": ["FA", "FB"], "hazard_id": ["HA", "HB"], "filename": "x.jpg",
                                                "mime": "image/jpeg", "data": [b"a", b"b"]}))
        tx.append("roads", pd.DataFrame({"id": ["R1"], "name": ["大道"],
                                         "geometry": [LineString([(114, 30), (115, 31)])]}))
        tx.append("users", pd.DataFrame({"id": ["admin"], "password_hash": "secret", "role": "admin"}))
    return store


def _as_district(url: str, district: str | None):
    con = psycopg.connect(url, autocommit=True)
    con.execute(f"SET ROLE {DISTRICT_ROLE}")
    if district is not None:
        con.execute("SELECT set_config(%s, %s, false)", (DISTRICT_SETTING, district))
    return con


def test_a_district_connection_reads_only_its_districts_rows(pg_url):  # noqa: F811
    _city(pg_url)
    with _as_district(pg_url, "A") as con:
        one = lambda q: sorted(r[0] for r in con.execute(q).fetchall())  # noqa: E731
        assert one("SELECT id FROM enterprises") == ["EA"]
        assert one("SELECT id FROM enterprises WHERE district_code = 'B'") == []   # asking for B finds nothing
        assert one("SELECT code FROM districts") == ["A"]
        assert one("SELECT id FROM inspections") == ["IA"]                          # by the target's district
        assert one("SELECT id FROM hazards") == ["HA"]
        assert one("SELECT id FROM hazard_files") == ["FA"]                         # by the hazard's district
        assert one("SELECT id FROM roads") == ["R1"]                                # shared geography
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            con.execute("SELECT * FROM users")
    with _as_district(pg_url, "A") as con, pytest.raises(psycopg.errors.InsufficientPrivilege):
        con.execute("UPDATE enterprises SET name = 'x'")                            # and never writes
    with _as_district(pg_url, None) as con:                                         # no district said: nothing
        assert con.execute("SELECT count(*) FROM enterprises").fetchone()[0] == 0


def test_for_district_store_reads_through_the_policies(pg_url):  # noqa: F811
    store = _city(pg_url)
    b = store.for_district("B")
    assert b.read("enterprises")["id"].tolist() == ["EB"]
    assert b.read("inspections", where={"target_id": ["EA", "EB"]})["id"].tolist() == ["IB"]
    assert b.data_version() == store.data_version()
    assert store.read("enterprises")["id"].tolist() == ["EA", "EB"]                # the app's own user: all
    with pytest.raises(StoreError, match="cannot write"):
        with b.transaction():
            pass


def test_a_district_read_leaves_nothing_behind_on_the_pooled_connection(pg_url):  # noqa: F811
    """The Arrow reads share pooled connections: a district's role and setting end with its read (rolled back),
    also when the read failed, so the next read on that connection, the owner's or another district's, sees its
    own rows only."""
    from concurrent.futures import ThreadPoolExecutor

    store = _city(pg_url)
    a, b = store.for_district("A"), store.for_district("B")
    for _ in range(3):   # one after another: the same pooled connection each time
        assert a.read("enterprises")["id"].tolist() == ["EA"]
        assert store.read("enterprises")["id"].tolist() == ["EA", "EB"]
        assert b.read("enterprises")["id"].tolist() == ["EB"]
    with pytest.raises(StoreError):
        a.read("users")                               # not granted to the district role: the read fails
    assert store.read("users")["id"].tolist() == ["admin"]
    assert a.read("enterprises", where={"name": "乙企业' OR 'x' = 'x"}).empty   # a value is a value
    assert store.read("enterprises", where={"name": ["甲企业", "it's"]})["id"].tolist() == ["EA"]
    who = {"A": a, "B": b, None: store}
    want = {"A": ["EA"], "B": ["EB"], None: ["EA", "EB"]}
    with ThreadPoolExecutor(6) as pool:                # at once, on several connections
        got = list(pool.map(lambda k: (k, who[k].read("enterprises")["id"].tolist()), ["A", "B", None] * 20))
    assert all(ids == want[k] for k, ids in got)


def test_the_store_as_a_non_superuser_owner_sets_up_and_uses_the_district_role(pg_server):  # noqa: F811
    """The deployment the README describes: the app's own user (LOGIN CREATEROLE, owner of its database)."""
    user = f"app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.admin_url, autocommit=True) as con:
        con.execute(f"CREATE ROLE {user} LOGIN CREATEROLE")
    url = pg_server.create_database()
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(pg_server.admin_url, autocommit=True) as con:
        con.execute(f'ALTER DATABASE "{name}" OWNER TO {user}')
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f"ALTER SCHEMA public OWNER TO {user}")
    parts = urlsplit(url)
    app_url = urlunsplit(parts._replace(netloc=f"{user}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")))
    try:
        store = _city(app_url)
        assert store.read("enterprises")["id"].tolist() == ["EA", "EB"]        # the owner is not filtered
        assert store.for_district("A").read("enterprises")["id"].tolist() == ["EA"]
    finally:
        pg_server.drop_database(app_url)
        with psycopg.connect(pg_server.admin_url, autocommit=True) as con:
            con.execute(f"DROP OWNED BY {user} CASCADE")
            con.execute(f"DROP ROLE {user}")


def test_policies_missing_are_made_on_the_next_open(pg_url):  # noqa: F811
    """A store made while the district role could not be made (no CREATEROLE): once a superuser makes the
    role, the next open adds the grants and policies (the README's promise)."""
    from layers.store.postgis import forget_verified

    _city(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as con:   # as if they had never been made
        con.execute("DROP POLICY riskmap_district_rows ON enterprises")
    forget_verified()
    open_store(pg_url)
    with _as_district(pg_url, "A") as con:
        assert [r[0] for r in con.execute("SELECT id FROM enterprises").fetchall()] == ["EA"]
