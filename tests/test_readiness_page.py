"""The readiness page (/readiness): callbacks as plain functions inside a real request with a real server-side
session (city user, district user, a refused district, nobody), the export, the suggested places, then Chromium."""

from __future__ import annotations

import base64
import io
import json
import re
import sys

import openpyxl
import pytest
from conftest import CITY_USER

D102 = {"id": "d420102", "role": "district", "district_code": "420102", "display_name": "d420102"}
OUT = ("summary", "note", "fig", "by_d", "by_t", "reach", "plan", "supply", "stock", "suggested")


def _page():
    return sys.modules.get("dashboard.pages.readiness") or sys.modules["pages.readiness"]


def _update(**kw) -> dict:
    args = {"as_of": None, "districts": None, "kind": "fire_station", "k": 3, "method": "greedy", "lang": "en"}
    args.update(kw)
    return dict(zip(OUT, _page().update(**args), strict=True))


def _workbook(data: dict) -> openpyxl.Workbook:
    raw = data["content"]
    return openpyxl.load_workbook(io.BytesIO(base64.b64decode(raw) if data.get("base64") else raw))


def _result(store_path, district: str | None = None):
    from layers.analysis import readiness
    from layers.settings import Settings
    from layers.store import open_store

    store = open_store(store_path, create=False)
    day = store.latest("inspections", "date")
    r = readiness.compute_cached(store, as_of=__import__("pandas").Timestamp(day).date(),
                                 settings=Settings(store=str(store_path), secret_key="test-secret",
                                                   wall_refresh_s=5))
    return r if district is None else r.for_districts([district])


def test_city_user_sees_every_district_the_gaps_and_the_map(live_app, request_ctx):
    with request_ctx(user=CITY_USER, path="/readiness"):
        out = _update()
    codes = {r["code"] for r in out["by_d"]} - {""}
    assert len(codes) == 8
    city = _result(live_app.store_path)
    assert sum(r["reach_gaps"] for r in out["by_d"]) == city.summary["reach_gaps"] > 0
    assert out["reach"] and all(r["reason"] and r["kind"] and r["target"] for r in out["reach"])
    assert any(r["minutes"] is not None and r["minutes"] > r["target"] for r in out["reach"])
    assert out["plan"] and {r["gap"] for r in out["plan"]} <= {"No contingency plan on file", "Never drilled",
                                                               "Drill overdue"}
    overdue = [r for r in out["plan"] if r["gap"] == "Drill overdue"]
    assert all(r["overdue"] > 0 and re.match(r"\d{4}-\d\d-\d\d", r["last_drill"]) for r in overdue)
    assert out["stock"] and {r["district"] for r in out["stock"]}
    assert len(out["summary"]) == 6
    names = {tr.get("name") for tr in out["fig"]["data"]}
    assert {"Out of reach", "No plan", "Drill overdue or never held", "Fire station"} <= names
    assert all(tr["type"] in ("scattermap", "choroplethmap") for tr in out["fig"]["data"])
    for tr in out["fig"]["data"]:
        assert "symbol" not in tr.get("marker", {})       # circles only: another symbol fetches icons from a CDN
    assert 1 <= len(out["suggested"]) <= 3 and any(n.startswith("Suggested") for n in names)


def test_district_user_sees_only_their_district_and_is_refused_another(live_app, request_ctx):
    from layers.store import open_store

    store = open_store(live_app.store_path, create=False)
    ent = store.read("enterprises", columns=["name", "district_code"])
    others = set(ent.loc[ent["district_code"] != "420102", "name"]) - set(ent.loc[ent["district_code"] == "420102",
                                                                                    "name"])
    with request_ctx(user=D102, path="/readiness"):
        mine = _update(lang="zh")
        assert {r["code"] for r in mine["by_d"]} == {"420102"}
        assert {r["district"] for r in mine["reach"] + mine["plan"] + mine["stock"]} <= {"临江区"}
        text = json.dumps(mine, ensure_ascii=False, default=str)
        assert [n for n in others if n in text] == []
        refused = _update(districts=["420103"], lang="zh")
        # the district dropdown offers only their own district
        layout = str(_page().layout(lang="zh"))
    assert "无权" in str(refused["summary"]) and refused["by_d"] == [] and refused["reach"] == []
    assert refused["fig"] is __import__("dash").no_update and refused["suggested"] == []
    assert "420102" in layout and "420103" not in layout
    district = _result(live_app.store_path, "420102")
    assert sum(r["reach_gaps"] for r in mine["by_d"]) == district.summary["reach_gaps"]


def test_nobody_logged_in_gets_a_calm_message(live_app, request_ctx):
    with request_ctx(user=None, path="/readiness"):
        out = _update()
    assert "alert" in str(out["summary"]) and out["reach"] == [] and out["by_d"] == []


def test_export_is_an_xlsx_of_the_users_area_with_the_suggestions_as_shown(live_app, request_ctx):
    with request_ctx(user=D102, path="/readiness"):
        shown = _update(lang="zh", kind="medical", k=2)["suggested"]
        data = _page().export(1, None, None, "zh", "medical", 2, "greedy")
        refused = _page().export(1, None, ["420103"], "zh", "medical", 2, "greedy")
    assert refused is __import__("dash").no_update
    wb = _workbook(data)
    assert {"到达缺口", "预案演练缺口", "防汛物资缺口", "分区县", "分镇街", "区县物资", "建议新增位置"} <= set(wb.sheetnames)
    for name in wb.sheetnames:
        ws = wb[name]
        head = [c.value for c in ws[1]]
        assert all(re.search(r"[\u4e00-\u9fff]", str(h)) for h in head), (name, head)   # headers in Chinese
        codes = head.index("区县代码") if "区县代码" in head else None
        if codes is not None:
            assert {ws.cell(row=r, column=codes + 1).value for r in range(2, ws.max_row + 1)} <= {"420102"}, name
    ws = wb["建议新增位置"]
    head = [c.value for c in ws[1]]
    rows = [dict(zip(head, [c.value for c in r], strict=True)) for r in ws.iter_rows(min_row=2)]
    assert [(r["序号"], r["区县"], r["最近道路"], r["可消除缺口"]) for r in rows] == \
        [(s["rank"], s["district"], s["road"], s["closed"]) for s in shown]
    with request_ctx(user=CITY_USER, path="/readiness"):
        en = _workbook(_page().export(1, None, ["420104"], "en", "fire_station", 3, "greedy"))
    assert "suggested_places" in en.sheetnames and "reach_gaps" in en.sheetnames
    assert "Reason" in [c.value for c in en["reach_gaps"][1]]


@pytest.mark.parametrize("district", ["420104", "420106"])
def test_suggested_places_lie_in_the_selected_area_named_in_words_or_say_why_fewer(live_app, request_ctx,
                                                                                   district):
    import shapely

    from layers.store import cached_read, open_store

    store = open_store(live_app.store_path, create=False)
    d = cached_read(store, "districts")
    area = d[d["code"] == district].geometry.iloc[0]
    dname = d.loc[d["code"] == district, "name"].iloc[0]
    towns = cached_read(store, "towns")
    town_names = set(towns.loc[towns["district_code"] == district, "name"])
    for kind in ("fire_station", "medical"):
        with request_ctx(user=CITY_USER, path="/readiness"):
            out = _update(districts=[district], kind=kind, k=5, lang="zh")
        rows, note = out["suggested"], str(out["note"])
        assert len(rows) == 5 or "要求 5 处" in note, (kind, len(rows), note)
        for r in rows:
            assert area.buffer(1e-6).contains(shapely.Point(r["lon"], r["lat"])), r
            assert r["district"] == dname and r["town"] in town_names and r["road"] and r["closed"] > 0
        assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
        fig_pts = [tr for tr in out["fig"]["data"] if str(tr.get("name", "")).startswith("建议新增")]
        assert (len(fig_pts[0]["lon"]["bdata"]) > 0 if fig_pts else not rows)


def test_suggesting_a_kind_no_gap_needs_says_why_none(live_app, request_ctx):
    with request_ctx(user=CITY_USER, path="/readiness"):
        out = _update(kind="shelter", k=4, lang="en")
    assert out["suggested"] == [] and "no reach gap for a shelter" in str(out["note"])


def test_the_page_counts_from_the_data_date_and_says_when_asked_past_it(live_app, request_ctx):
    with request_ctx(user=CITY_USER, path="/readiness"):
        from dashboard import context

        context.authorize("read")
        day = _page().view.data_as_of()
        default = _update(k=1)
        same = _update(as_of=day.isoformat(), k=1)
        later = _update(as_of="2099-01-01", k=1)
    assert default["by_d"] == same["by_d"] and "rd-after-data" not in str(default["note"])
    assert "rd-after-data" in str(later["note"]) and day.isoformat() in str(later["note"])


@pytest.mark.browser
def test_readiness_page_in_chromium_loads_clean_offline_and_shows_the_reach_gaps(watched_page, live_app):
    page = watched_page.page
    page.goto(f"{live_app.url}/readiness?lang=en")
    page.wait_for_selector("#rd-map .maplibregl-canvas", timeout=120_000)
    page.wait_for_function("() => { const g = document.querySelector('#rd-map .js-plotly-plot');"
                           " return !!(g && g.data && g.data.length > 3); }", timeout=120_000)
    page.wait_for_function("() => document.querySelectorAll('#rd-summary > div').length === 6", timeout=120_000)
    page.wait_for_selector("#rd-reach .ag-cell[col-id=reason]", timeout=60_000)
    reasons = page.locator("#rd-reach .ag-cell[col-id=reason]").all_inner_texts()
    assert reasons and all("nearest" in r or "no ready" in r or "no location" in r for r in reasons)
    assert "Reach gaps" in page.inner_text("#rd-summary")
    assert page.locator("#nav-readiness.active").count() == 1
    assert not watched_page.errors, watched_page.errors
    assert not watched_page.foreign_requests(live_app.host)


def test_a_town_leader_sees_only_its_town_and_no_district_stock(live_app, request_ctx):
    from layers.store import open_store

    store = open_store(live_app.store_path, create=False)
    towns = store.read("towns", columns=["code", "name", "district_code"])
    mine = towns[towns["district_code"] == "420102"].iloc[0]
    with request_ctx(user={"id": f"t{mine['code']}"}, path="/readiness"):
        out = _update(lang="zh", kind="medical", k=3)
        result = _page().view.result_for_user(None, None)
    assert {r["code"] for r in out["by_t"]} == {mine["code"]} and out["by_d"] == [] and out["stock"] == []
    for frame in (result.reach_gaps, result.plan_gaps, result.supply_shortfalls, result.register):
        assert set(frame["town_code"].dropna()) <= {mine["code"]}
    assert {r["town"] for r in out["suggested"]} <= {mine["name"]}
    assert "镇街视图" in str(out["note"])


def test_suggested_places_lie_in_the_selected_district_for_every_district_and_kind(live_app, request_ctx):
    """Siting keeps its candidates in the districts of the gaps it is asked about (a narrowed result's own), so
    no suggested place lands across the border; fewer than asked says why."""
    from layers.analysis import readiness

    with request_ctx(user=CITY_USER, path="/readiness"):
        city = _page().view.result_for_user(None, None)
        codes = sorted(city.by_district["district_code"].dropna())
        seen = 0
        for district in codes:
            result = _page().view.result_for_user(None, [district])
            for kind in ("medical", "fire_station", "hazchem_team"):
                raw = readiness.suggest_resources(result, kind, 20)
                assert set(raw["district_code"]) <= {district}, (district, kind, raw["district_code"].tolist())
                assert len(raw) == 20 or "fewer" in raw.attrs, (district, kind, len(raw))
                seen += len(raw)
    assert seen > 0
