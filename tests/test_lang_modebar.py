"""The plotly toolbar (modebar) speaks the page's language, from the app's own locale file (issue 13).

The config every graph gets (``graph_config``) names the locale; the zh-CN dictionary is plotly.js's own, served
from assets/ — the browser asks no other host for it. Checked in real headless Chromium on the map page.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from dashboard.components.mapfig import graph_config

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_graph_config_names_the_locale_of_the_language(live_app):
    assert graph_config(lang="zh")["locale"] == "zh-CN"
    assert graph_config(lang="en")["locale"] == "en"
    with live_app.app.server.test_request_context("/?lang=en"):
        assert graph_config(scrollZoom=True)["locale"] == "en"       # the page's language when not told
    with live_app.app.server.test_request_context("/_dash-update-component", method="POST",
                                                  headers={"Referer": f"{live_app.url}/coverage?lang=en"}):
        assert graph_config()["locale"] == "en"                      # a callback: the page it came from
    with live_app.app.server.test_request_context("/"):
        assert graph_config()["locale"] == "zh-CN"


def _titles(page) -> list[str]:
    page.wait_for_function("() => document.querySelectorAll('#map-graph .modebar-btn[data-title]').length > 0",
                           timeout=120_000)
    return page.eval_on_selector_all("#map-graph .modebar-btn[data-title]",
                                     "els => els.map(e => e.getAttribute('data-title'))")


@pytest.mark.browser
def test_the_chinese_map_page_has_a_chinese_toolbar_served_by_the_app(watched_page, live_app):
    page = watched_page.page
    page.set_default_timeout(120_000)
    page.goto(live_app.url + "/")
    titles = _titles(page)
    assert "重置视图" in titles and "放大" in titles, titles
    assert all(CJK.search(t) for t in titles), titles
    page.wait_for_load_state("networkidle")
    assert any(urlparse(u).path.endswith("/assets/plotly-locale-zh-cn.js") for u in watched_page.requests)
    assert watched_page.foreign_requests(live_app.host) == []
    assert {urlparse(u).netloc for u in watched_page.requests if u.startswith("http")} == {live_app.host}
    assert watched_page.errors == []


@pytest.mark.browser
def test_the_english_map_page_keeps_an_english_toolbar(watched_page, live_app):
    page = watched_page.page
    page.set_default_timeout(120_000)
    page.goto(live_app.url + "/?lang=en")
    titles = _titles(page)
    assert "Reset view" in titles and "Zoom in" in titles, titles
    assert not any(CJK.search(t) for t in titles), titles
    assert watched_page.errors == []
