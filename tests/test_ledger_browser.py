"""The ledger in real Chromium: a district leader finds an open hazard in the ledger, opens it, starts the
rectification with the five elements, submits it, closes it with the checker, date and evidence, and sees its
map marker turn from open to closed; nothing is asked of any host but the app's."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import _ServerThread, _watch, login

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def ledger_server(demo_store_path, tmp_path_factory):
    """The app on its own copy of the small city (this test writes), on a free port."""
    from dashboard.app import create_app
    from layers.settings import Settings

    path = tmp_path_factory.mktemp("ledgerbrowser") / "city.gpkg"
    shutil.copyfile(demo_store_path, path)
    srv = _ServerThread(create_app(Settings(store=str(path), secret_key="k")))
    srv.start()
    try:
        yield f"http://127.0.0.1:{srv.port}", path
    finally:
        srv.stop()


def _sel(**pattern) -> str:
    """The CSS selector of a Dash pattern-matching id (Dash writes it as JSON with sorted keys)."""
    return "[id='" + json.dumps(pattern, sort_keys=True, separators=(",", ":")) + "']"


def _marker(page, hid: str) -> str | None:
    """The ``meta`` (general, major, closed) of the ledger map trace drawing hazard ``hid``."""
    return page.evaluate("""(hid) => { const g = document.querySelector('#hz-map .js-plotly-plot');
        if (!g || !g.data) return null;
        const tr = g.data.find(t => ['general', 'major', 'closed'].includes(t.meta) && (t.customdata || []).includes(hid));
        return tr ? tr.meta : null; }""", hid)


def test_a_hazard_walked_from_open_to_closed_in_chromium(browser, ledger_server):
    url, path = ledger_server
    host = url.split("//", 1)[1]
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    try:
        w = _watch(ctx.new_page())
        page = w.page
        page.set_default_timeout(60_000)
        login(page, url, user="d420102", next_path="/hazards?status=open")
        page.wait_for_selector("#hz-grid .ag-center-cols-container .ag-row[row-id]")
        page.wait_for_function("() => { const g = document.querySelector('#hz-map .js-plotly-plot');"
                               " return !!(g && g.data && g.data.length > 1); }")
        first = page.locator("#hz-grid .ag-center-cols-container .ag-row[row-id]").first
        hid = first.get_attribute("row-id")
        assert hid and _marker(page, hid) in ("general", "major")
        before = _marker(page, hid)

        first.locator(".ag-cell[col-id='type']").click()            # a row opens its hazard
        page.wait_for_url(f"**/hazard?id={hid}*")
        page.wait_for_selector("#hzd-form-start")

        def fill(step: str, field: str, value: str) -> None:
            sid = _sel(type="hzd-field", step=step, field=field)
            page.locator(f"input{sid}, {sid} input").first.fill(value)

        for field, value in (("responsible_person", "王五"), ("measures", "加装可燃气体报警器"), ("funds", "2.5"),
                             ("plan_ref", "应急预案 YA-01")):
            fill("start", field, value)
        assert page.locator("#hzd-version").get_attribute("data-status") == "open"
        page.click(_sel(type="hzd-step", step="start"))
        page.wait_for_selector("#hzd-version[data-status='rectifying']")
        assert page.locator("#hzd-five [data-present='1']").count() == 5
        page.click(_sel(type="hzd-step", step="submit"))
        page.wait_for_selector("#hzd-version[data-status='awaiting_check']")
        # closing without the evidence is refused calmly; with it, the hazard closes
        fill("close", "checker", "李四")
        page.click(_sel(type="hzd-step", step="close"))
        page.wait_for_selector("#hzd-msg .calm-error")
        assert page.locator("#hzd-version").get_attribute("data-status") == "awaiting_check"
        fill("close", "evidence", "现场复核：报警器已安装并联动")
        page.click(_sel(type="hzd-step", step="close"))
        page.wait_for_selector("#hzd-version[data-status='closed']")
        history = page.inner_text("#hzd-history")
        assert "开始整改" in history and "提交验收" in history and "验收销号" in history

        page.goto(f"{url}/hazards")                                   # every status: the closed one too
        page.wait_for_function("() => { const g = document.querySelector('#hz-map .js-plotly-plot');"
                               " return !!(g && g.data && g.data.length > 1); }")
        assert _marker(page, hid) == "closed" != before
        page.wait_for_selector("#hz-grid .ag-center-cols-container .ag-row[row-id]")
        assert not w.errors, w.errors
        assert not w.foreign_requests(host), w.foreign_requests(host)
    finally:
        ctx.close()


def test_ledger_pages_load_clean_and_offline(browser, ledger_server):
    url, _ = ledger_server
    host = url.split("//", 1)[1]
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    try:
        w = _watch(ctx.new_page())
        page = w.page
        page.set_default_timeout(60_000)
        login(page, url, user="admin", next_path="/briefing")
        page.wait_for_selector("#br-title")
        page.wait_for_selector("#br-chart-by_month .main-svg")
        assert page.locator("#br-xlsx").get_attribute("href").startswith("/briefing/export.xlsx")
        for path, sel in (("/public", "#pub-naming"), ("/accountability", "#acc-league-grid .ag-row"),
                          ("/hazards?lang=en", "#hz-grid .ag-row[row-id]")):
            page.goto(url + path)
            page.wait_for_selector(sel)
        assert "Hazard ledger" in page.inner_text(".ledger-head")
        page.click("text=District escalation")
        page.wait_for_selector("#hz-esc-district .ag-row")
        assert not w.errors, w.errors
        assert not w.foreign_requests(host), w.foreign_requests(host)
    finally:
        ctx.close()
