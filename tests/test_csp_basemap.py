"""The page's Content-Security-Policy lets the browser reach exactly the basemap's hosts: none but the app for
the built-in basemap, the intranet tile server's origin for a preset that names one."""

from __future__ import annotations

import re
import shutil

import pytest


def _csp(demo_store_path, tmp_path, **settings) -> str:
    from dashboard.app import create_app
    from layers.settings import Settings

    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_store_path, path)
    app = create_app(Settings(store=str(path), secret_key="k", **settings))
    c = app.server.test_client()
    return c.get("/login").headers["Content-Security-Policy"]


def _directive(csp: str, name: str) -> str:
    return re.search(rf"{name} ([^;]*)", csp).group(1)


def test_the_builtin_basemap_allows_no_other_host(demo_store_path, tmp_path):
    csp = _csp(demo_store_path, tmp_path)
    assert _directive(csp, "img-src") == "'self' data: blob:"
    assert _directive(csp, "connect-src") == "'self'"


@pytest.mark.parametrize(("settings", "origin"), [
    ({"basemap": "xyz", "basemap_url": "http://10.1.2.3:8080/tiles/{z}/{x}/{y}.png"}, "http://10.1.2.3:8080"),
    ({"basemap": "tianditu", "tianditu_token": "t0k3n"}, "https://t0.tianditu.gov.cn"),
])
def test_an_intranet_preset_allows_its_own_origin_only(demo_store_path, tmp_path, settings, origin):
    csp = _csp(demo_store_path, tmp_path, **settings)
    for name in ("img-src", "connect-src"):
        hosts = _directive(csp, name).split()
        assert origin in hosts
        assert all(h.startswith(("'", "data:", "blob:")) or h.startswith(origin.split("://")[0] + "://")
                   for h in hosts)
    assert "default-src 'self'" in csp
