"""PostgreSQL/PostGIS for the store tests: import the fixtures into a test module (``from pg_fixtures import ...``).

``pg_server``: the session's server. ``RISKMAP_TEST_PG`` names one (a ``postgresql://`` URL of a database with
PostGIS available, as a user who may create databases); otherwise a throw-away cluster is started
(:mod:`layers.store.pgcluster`: ``initdb`` in a temporary folder, 127.0.0.1 on a free port) and stopped with
``pg_ctl stop -m fast`` at the end. No PostgreSQL is a failure that says which Debian packages to install, not a
skip: CI installs them.

``pg_url``: a new empty database (from a template with PostGIS) per test, dropped after it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

TEMPLATE = "riskmap_test_template"


@dataclass
class PgServer:
    admin_url: str

    def url_for(self, database: str) -> str:
        return self.admin_url.rsplit("/", 1)[0] + "/" + database

    def create_database(self) -> str:
        name = f"riskmap_t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
        return self.url_for(name)

    def drop_database(self, url: str) -> None:
        from layers.store.postgis import close_pools

        close_pools(url)
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.admin_url, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    from layers.store import pgcluster

    given = os.environ.get("RISKMAP_TEST_PG")
    cluster = None
    if given:
        admin = given
    else:
        try:
            cluster = pgcluster.start()
        except pgcluster.ClusterUnavailable as exc:
            pytest.fail(str(exc), pytrace=False)
        admin = cluster.url
    server = PgServer(admin)
    try:
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
            con.execute(f'CREATE DATABASE "{TEMPLATE}"')
        with psycopg.connect(server.url_for(TEMPLATE), autocommit=True) as con:
            con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        yield server
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
    finally:
        from layers.store.postgis import close_pools

        close_pools()
        if cluster is not None:
            cluster.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """The URL of a new empty database with PostGIS (no store in it yet), dropped after the test."""
    url = pg_server.create_database()
    try:
        yield url
    finally:
        pg_server.drop_database(url)


__all__ = ["PgServer", "pg_server", "pg_url"]
