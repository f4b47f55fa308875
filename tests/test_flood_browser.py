"""Flood season in real headless Chromium: the duty officer sets an orange rainstorm warning on /duty and the
wall, already open, shows the orange banner and the flood panel without a reload (out of season: the warning
turns flood mode on), puts flood risk first, asks nothing of another host and logs no error. A district leader
sees the duty desk read-only."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import _ServerThread
from test_flood_season import A, build_flood_city

pytestmark = pytest.mark.browser

READY = "() => window.__wallReady === true"


@pytest.fixture(scope="module")
def flood_app(tmp_path_factory):
    import datetime as dt

    import pandas as pd

    from dashboard.app import create_app
    from layers.settings import Settings

    path: Path = tmp_path_factory.mktemp("floodb") / "city.gpkg"
    store = build_flood_city(path)
    today = pd.Timestamp(dt.datetime.now().astimezone().date())
    with store.transaction() as tx:   # who is on duty today: the city's room and district A's
        tx.append("duty_roster", pd.DataFrame({
            "id": ["TL", "TA"], "date": [today, today], "role": ["leader", "officer"], "name": ["今日带班", "甲今日员"],
            "phone": ["13911112222", "13933334444"], "start": ["00:00", "00:00"], "end": ["00:00", "00:00"],
            "district_code": [None, A]}))
    # outside the season (06-01..06-02) whatever day the test runs: only the warning can turn flood mode on
    app = create_app(Settings(store=str(path), secret_key="k", wall_refresh_s=1, flood_season="06-01..06-02"))
    srv = _ServerThread(app)
    srv.start()
    yield f"http://127.0.0.1:{srv.port}", path
    srv.stop()


def _login(w, url: str, user: str, next_path: str) -> None:
    page = w.page
    page.goto(f"{url}/login?next={next_path}")
    page.fill("#login-username", user)
    page.fill("#login-password", "demo")
    page.click("#login-submit")
    page.wait_for_url(lambda u: "/login" not in u)


def test_orange_warning_set_on_the_duty_desk_turns_the_wall_to_flood_risk(new_watched_page, flood_app):
    url, path = flood_app
    host = url.split("//")[1]
    wall = new_watched_page(viewport=(1920, 1080))
    _login(wall, url, "command", "/wall")
    wall.page.wait_for_function(READY, timeout=120_000)
    wall.page.evaluate("() => { window.__sameDocument = true; }")
    assert wall.page.locator("#wall-banner.off").count() == 1          # no warning yet: no banner
    assert not wall.page.locator(".wall-flood-box").is_visible()        # out of season: no flood panel
    assert "flood" not in wall.page.get_attribute("#wall", "class").split()
    assert "今日带班" in wall.page.inner_text("#wall-duty") and "13911112222" in wall.page.inner_text("#wall-duty")

    desk = new_watched_page(viewport=(1400, 1000))
    _login(desk, url, "command", "/duty")
    page = desk.page
    page.wait_for_selector("#duty-set", timeout=60_000)
    assert "关闭" in page.inner_text("#duty-mode-state")
    page.click("#duty-level input[value=orange]")
    page.fill("#duty-note", "预计6小时降雨50毫米以上")
    page.click("#duty-set")
    page.wait_for_selector("#duty-saved", timeout=30_000)
    assert "橙色预警 · 暴雨" in page.inner_text("#duty-warning")
    assert "command" in page.inner_text("#duty-history-table")
    page.wait_for_function("() => document.getElementById('duty-mode-state').dataset.reason === 'warning'",
                           timeout=10_000)

    wp = wall.page
    wp.wait_for_selector("#wall-banner.on.level-orange", timeout=30_000)
    assert wp.evaluate("() => window.__sameDocument === true")           # the refresh, not a reload
    assert wp.evaluate("() => getComputedStyle(document.getElementById('wall-banner')).backgroundColor") == \
        "rgb(255, 138, 0)"
    assert "橙色预警 · 暴雨" in wp.inner_text("#wall-banner")
    assert "预计6小时降雨50毫米以上" in wp.inner_text("#wall-banner")
    classes = wp.get_attribute("#wall", "class").split()
    assert {"flood", "warned", "alert"} <= set(classes)
    box = wp.locator(".wall-flood-box")
    assert box.is_visible()
    assert wp.inner_text("#wall-flood-title").strip() == "汛期 · 内涝风险（预警优先）"
    rows = wp.eval_on_selector_all("#flood-by-district .flood-row", "rs => rs.map(r => r.dataset.code)")
    assert sorted(rows) == sorted([A, "420103"])
    assert wp.get_attribute("#flood-severity .sev-severe", "data-n") == "2"
    assert wp.locator("#flood-worst .flood-worst-item").first.get_attribute("data-id") == "F1"
    # flood risk first: the flood panel sits left of the map, and the ticker starts with flood points
    fb, mb = box.bounding_box(), wp.locator(".wall-map-box").bounding_box()
    assert fb["x"] + fb["width"] <= mb["x"] + 1
    assert wp.locator(".wall-ticker-run >> nth=0").locator(".wall-ticker-item").first.get_attribute(
        "data-flood") == "F1"
    # the map drew the flood layers
    names = wp.evaluate("() => document.querySelector('#wall-map .js-plotly-plot').data.map(t => t.name)")
    assert "flood_points" in names and "flood_supplies" in names and "flood_underground" in names
    dims = wp.evaluate("""() => [document.documentElement.scrollHeight, innerHeight,
                                 document.documentElement.scrollWidth, innerWidth]""")
    assert dims[0] <= dims[1] and dims[2] <= dims[3], dims
    for w in (wall, desk):
        assert w.foreign_requests(host) == []
        assert w.errors == []


def test_a_district_leader_sees_the_duty_desk_read_only(new_watched_page, flood_app):
    url, _ = flood_app
    w = new_watched_page(viewport=(1400, 1000))
    _login(w, url, "d" + A, "/duty")
    page = w.page
    page.wait_for_selector("#duty-read-only", timeout=60_000)
    assert page.locator("#duty-set").count() == 0
    assert "甲今日员" in page.inner_text("#duty-roster")
    assert "今日带班" not in page.inner_text("#duty-roster")               # the city room's rows are not theirs
    assert "甲今日员" in page.inner_text("#duty-now") and "今日带班" not in page.inner_text("#duty-now")
    assert w.errors == []
