"""The coverage page: callbacks as plain functions (city user, district user, nobody), then real Chromium."""

from __future__ import annotations

import io
import sys

import openpyxl
import pytest
from conftest import CITY_USER, login

D102 = {"id": "d420102", "role": "district", "district_code": "420102", "display_name": "d420102"}


def _page():
    """The page module as the app imported it (``dashboard.pages.coverage``; ``pages.coverage`` in older
    app factories)."""
    return sys.modules.get("dashboard.pages.coverage") or sys.modules["pages.coverage"]


def _update(**kw):
    args = {"as_of": None, "districts": None, "k": 2, "method": "greedy", "lang": "en"}
    args.update(kw)
    return _page().update(**args)


def test_city_user_sees_every_district_and_suggested_bases(live_app, request_ctx):
    with request_ctx(user=CITY_USER, path="/coverage"):
        summary, note, fig, by_d, by_t, dead, blind, gaps, bases = _update()
    codes = {r["code"] for r in by_d}
    assert len(codes - {""}) == 8
    assert dead and all(r["reason"] for r in dead)
    assert any("days" in r["reason"] or "never inspected" in r["reason"] for r in dead)
    names = {tr.get("name") for tr in fig["data"]}
    assert "Team bases" in names
    assert any(str(n).startswith("Dead corners") for n in names)
    assert len(bases) <= 2
    assert by_t and gaps is not None and blind is not None
    assert len(summary) == 7


def test_district_user_sees_only_their_district(live_app, request_ctx):
    with request_ctx(user=D102, path="/coverage"):
        summary, note, fig, by_d, by_t, dead, blind, gaps, bases = _update(lang="zh")
        assert {r["code"] for r in by_d} == {"420102"}
        assert {r["district"] for r in dead} <= {"420102"}
        assert {r["district"] for r in blind} <= {"420102"}
        # asking for another district is refused with a calm message, nothing else is sent
        out = _update(districts=["420103"], lang="zh")
    assert "无权" in str(out[0]) and out[3] == [] and out[5] == []


def test_nobody_logged_in_gets_a_calm_message(live_app, request_ctx):
    with request_ctx(user=None, path="/coverage"):
        out = _update()
    assert "alert" in str(out[0]) and out[3] == []


def test_an_earlier_date_shows_coverage_as_it_stood(live_app, request_ctx):
    with request_ctx(user=CITY_USER, path="/coverage"):
        now = _update(k=0)
        then = _update(as_of="2000-01-01", k=0)
    # in 2000 nothing had been inspected: every object is a dead corner, never inspected
    assert then[5] and all("never inspected" in r["reason"] for r in then[5])
    assert sum(r["dead"] for r in then[3]) >= sum(r["dead"] for r in now[3])


def test_export_is_an_xlsx_of_the_users_area(live_app, request_ctx):
    with request_ctx(user=D102, path="/coverage"):
        data = _page().export(1, None, None, "en")
    raw = data["content"]
    import base64

    wb = openpyxl.load_workbook(io.BytesIO(base64.b64decode(raw) if data.get("base64") else raw))
    ws = wb["by_district"]
    codes = {ws.cell(row=r, column=1).value for r in range(2, ws.max_row + 1)}
    assert codes == {"420102"}


@pytest.mark.browser
def test_coverage_page_in_chromium_loads_clean_and_offline(watched_page, live_app):
    page = watched_page.page
    page.goto(f"{live_app.url}/coverage?lang=en")
    page.wait_for_selector("#cov-map .maplibregl-canvas", timeout=120_000)
    page.wait_for_function("() => { const g = document.querySelector('#cov-map .js-plotly-plot');"
                           " return !!(g && g.data && g.data.length > 1); }", timeout=120_000)
    page.wait_for_function("() => document.querySelectorAll('#cov-summary > div').length === 7", timeout=120_000)
    assert "Dead corners" in page.inner_text("#cov-summary")
    assert not watched_page.errors, watched_page.errors
    assert not watched_page.foreign_requests(live_app.host)


@pytest.mark.browser
def test_district_leader_in_chromium_sees_one_district(new_watched_page, live_app):
    w = new_watched_page()
    login(w.page, live_app.url, "d420102", "demo", "/coverage?lang=en")
    w.page.wait_for_selector("#cov-map .maplibregl-canvas", timeout=120_000)
    w.page.click("text=By district")
    w.page.wait_for_selector("#cov-by-district .ag-cell", timeout=60_000)
    cells = w.page.locator("#cov-by-district .ag-cell[col-id=code]").all_inner_texts()
    assert [c.strip() for c in cells] == ["420102"]
    assert not w.errors, w.errors


def test_the_page_counts_from_the_data_date_and_says_when_asked_past_it(live_app, request_ctx):
    from layers.analysis.summary import load_city

    with request_ctx(user=CITY_USER, path="/coverage"):
        from dashboard import context

        context.authorize("read")
        data_day = load_city(context.store()).as_of.date()
        assert _page().data_as_of() == data_day            # the map's and the wall's date, not today
        default = _update(k=0)
        same = _update(as_of=data_day.isoformat(), k=0)
        assert str(default[0]) == str(same[0]) and default[3] == same[3]
        assert "cov-after-data" not in str(default[1])
        later = _update(as_of="2099-01-01", k=0)
    assert "cov-after-data" in str(later[1]) and data_day.isoformat() in str(later[1])


def test_the_export_has_the_suggested_bases_as_shown(live_app, request_ctx):
    import base64

    with request_ctx(user=CITY_USER, path="/coverage"):
        shown = _update(k=3, lang="zh")[-1]
        data = _page().export(1, None, None, "zh", 3, "greedy")
    raw = data["content"]
    wb = openpyxl.load_workbook(io.BytesIO(base64.b64decode(raw) if data.get("base64") else raw))
    ws = wb["建议驻地"]
    header = [c.value for c in ws[1]]
    assert "新增覆盖风险" in header and "经度" in header
    assert ws.max_row - 1 == len(shown)


@pytest.mark.parametrize("district", ["420102", "420104"])
def test_bases_for_one_district_are_inside_it_as_many_as_asked_or_says_why_and_named_in_words(
        live_app, request_ctx, district):
    import h3

    from layers.store import cached_read, open_store

    store = open_store(live_app.store_path, create=False)
    d = cached_read(store, "districts")
    area = d[d["code"] == district].geometry.iloc[0]
    towns = cached_read(store, "towns")
    town_names = set(towns.loc[towns["district_code"] == district, "name"])
    with request_ctx(user=CITY_USER, path="/coverage"):
        out = _update(districts=[district], k=3, lang="zh")
        raw = _page()._suggest(_page().result_for_user(None, [district]), 3, "greedy")
    note, bases = str(out[1]), out[-1]
    assert len(bases) == 3 or "要求 3 个驻地" in note, (len(bases), note)
    assert len(raw) == len(bases) and set(raw["district_code"]) <= {district}
    dname = d.loc[d["code"] == district, "name"].iloc[0]
    for row, r in zip(bases, raw.to_dict("records"), strict=True):
        cell_centre = h3.cell_to_latlng(r["cell"])
        assert area.buffer(0.01).contains(__import__("shapely").Point(cell_centre[1], cell_centre[0]))
        assert row["district"] == dname and row["town"] in town_names
        assert row["road"] and not row["road"].startswith(r["cell"])      # named in words, not by an H3 code


def test_dead_corners_lying_outside_the_selected_district_are_drawn_apart_and_named(live_app, request_ctx):
    import shapely

    from layers.store import cached_read, open_store

    store = open_store(live_app.store_path, create=False)
    d = cached_read(store, "districts")
    seen_outside = 0
    for code in sorted(d["code"]):
        area = d[d["code"] == code].geometry.iloc[0]
        with request_ctx(user=CITY_USER, path="/coverage"):
            fig = _update(districts=[code], k=0, lang="zh")[2]
        for tr in fig["data"]:
            name = str(tr.get("name", ""))
            if not (name.startswith("死角") or name == "登记在所选区县、位于区外的死角"):
                continue
            lon = tr.get("lon") if "lon" in tr else tr.get("x")
            lat = tr.get("lat") if "lat" in tr else tr.get("y")
            pts = shapely.points(_values(lon), _values(lat))
            inside = shapely.covers(area, pts)
            if name.startswith("死角"):
                assert inside.all(), (code, name)
            else:
                assert not inside.any(), code
                seen_outside += len(pts)
    assert seen_outside > 0          # the demo city registers some objects to the wrong district


def _values(arr):
    """A figure's coordinates as floats, whether plain lists or Plotly typed arrays (base64)."""
    import base64

    import numpy as np

    if isinstance(arr, dict) and "bdata" in arr:
        return np.frombuffer(base64.b64decode(arr["bdata"]), dtype="<" + arr["dtype"]).astype(float)
    return np.asarray(arr, dtype=float)
