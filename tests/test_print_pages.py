"""Printed sheets come out on the paper they are meant for (headless Chromium's PDF, the print dialog's page
size): the incident sheet on one A4 portrait page, the briefing on A4 portrait. A global ``@page`` rule of the
route sheet (landscape) used to win over every other sheet's, since all assets load on every page."""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import _ServerThread, _watch, login

A4_PORTRAIT = (595, 842)


@pytest.fixture(scope="module")
def server(demo_store_path, tmp_path_factory):
    from dashboard.app import create_app
    from layers.access.policy import Principal
    from layers.emergency.incident import open_incident
    from layers.settings import Settings
    from layers.store import open_store

    path = tmp_path_factory.mktemp("print") / "city.gpkg"
    shutil.copyfile(demo_store_path, path)
    store = open_store(path)
    e = store.read("enterprises", columns=["id", "industry"])
    target = e[e["industry"] == "hazchem"]["id"].iloc[0]
    settings = Settings(store=str(path), secret_key="print")
    iid = open_incident(store, Principal("admin", "admin"), kind="explosion", target=f"enterprises:{target}",
                        settings=settings)
    srv = _ServerThread(create_app(settings))
    srv.start()
    try:
        yield f"http://127.0.0.1:{srv.port}", iid
    finally:
        srv.stop()


def _pages(pdf: bytes) -> list[tuple[int, int]]:
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    return [(round(float(w)), round(float(h))) for w, h in boxes]


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_incident_sheet_prints_on_one_a4_portrait_page(browser, server, lang):
    url, iid = server
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        w = _watch(ctx.new_page())
        login(w.page, url, user="admin", next_path="/healthz")
        w.page.goto(f"{url}/incident/sheet?id={iid}" + ("&lang=en" if lang == "en" else ""))
        w.page.wait_for_selector(".incident-sheet table")
        pages = _pages(w.page.pdf(print_background=True, prefer_css_page_size=True))
        assert pages == [A4_PORTRAIT], pages
        assert not w.errors, w.errors
    finally:
        ctx.close()


@pytest.mark.browser
def test_the_briefing_prints_portrait(browser, server):
    url, _ = server
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        w = _watch(ctx.new_page())
        login(w.page, url, user="admin", next_path="/healthz")
        w.page.goto(f"{url}/briefing")
        w.page.wait_for_selector(".briefing-body")
        pages = _pages(w.page.pdf(print_background=True, prefer_css_page_size=True))
        assert pages and all(p == A4_PORTRAIT for p in pages), pages
    finally:
        ctx.close()
