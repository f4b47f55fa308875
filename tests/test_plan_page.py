"""The planner page: its actions as plain functions on the hand-made city, then the page in real Chromium."""

from __future__ import annotations

import contextlib
import sys
from datetime import date

import flask
import pytest
from conftest import _ServerThread, _watch, login
from test_plan_helpers import AS_OF, build_plan_city

from dashboard.planner import actions, figures, tables
from dashboard.planner.ids import Ids
from layers.planning import saved as plan_store

CITY = {"id": "admin", "role": "admin", "district_code": None, "display_name": "admin"}
D103 = {"id": "d420103", "role": "district", "district_code": "420103", "display_name": "d420103"}


@pytest.fixture(scope="module")
def app_and_path(tmp_path_factory):
    from dashboard.app import create_app
    from layers.settings import Settings

    path = tmp_path_factory.mktemp("planpage") / "city.gpkg"
    build_plan_city(path, users=True)
    return create_app(Settings(store=str(path), secret_key="k")), path


@pytest.fixture
def as_user(app_and_path):
    app, path = app_and_path

    @contextlib.contextmanager
    def make(user: dict):
        from layers.access.users import principal_of, start_session
        from layers.store import open_store

        with app.server.test_request_context("/plan"):
            store = open_store(path, create=False)
            row = store.read("users", where={"id": user["id"]}).iloc[0]
            flask.session["sid"] = start_session(store, principal_of(row))
            yield

    return make


def _edit(trig, **kw):
    args = {"click": None, "day": AS_OF.isoformat(), "districts": None, "limit": 60, "team_data": [],
            "cand_data": [], "state": {"locks": {}, "random": None}, "stop_data": [], "selected": [],
            "move_team": None, "add_key": None, "seed": 1, "fraction": 0.5, "rgrades": ["low"], "open_id": None,
            "lang": "en"}
    args.update(kw)
    return actions.edit_candidates(trig, **args)


def _run(trig, **kw):
    args = {"day": AS_OF.isoformat(), "days": 1, "districts": None, "team_data": [], "cand_data": [],
            "state": {"locks": {}}, "plan_data": None, "save_name": None, "open_id": None, "stop_data": [],
            "selected": [], "done_date": date.today().isoformat(), "done_result": "pass", "done_hazards": 0,
            "done_action": "none", "lang": "en"}
    args.update(kw)
    return actions.plan_action(trig, **args)


def test_district_user_sees_only_their_teams_and_objects(as_user):
    with as_user(D103):
        opts, value, add = actions.district_choices(None, "zh")
    assert value == ["T2"]  # the only team whose scope includes 420103
    assert {o["value"] for o in add} == {"enterprises:E3"}
    with as_user(CITY):
        _, value, add = actions.district_choices(None, "zh")
        # the page's callback (the module the app loaded) is an adapter over the same function
        assert sys.modules["dashboard.pages.plan"]._on_districts(None, "zh")[1] == value
    assert value == ["T1", "T2", "T3"]


def test_district_user_cannot_load_another_district(as_user):
    from layers.errors import AccessDenied

    with as_user(D103), pytest.raises(AccessDenied):
        _edit(Ids.LOAD, districts=["420102"])


def test_plan_lock_move_remove_save_complete(as_user, app_and_path):
    with as_user(CITY):
        teams = actions.team_table(["T1", "T2", "T3"], [])
        rows, state, _ = _edit(Ids.LOAD, team_data=teams)
        assert {r["key"] for r in rows} >= {"enterprises:E1", "enterprises:F1", "venues:V1"}
        plan_json, _, _ = _run(Ids.RUN, team_data=teams, cand_data=rows, state=state)
        stops = tables.stop_rows(plan_store.plan_from_json(plan_json), "en")
        i = next(i for i, r in enumerate(stops) if r["key"] == "enterprises:F1")
        other = "T1" if stops[i]["team_id"] == "T2" else "T2"

        # move F1 to the other team, plan again: it is there and locked
        rows, state, _ = _edit(Ids.MOVE, team_data=teams, cand_data=rows, state=state, stop_data=stops,
                               selected=[i], move_team=other)
        assert state["locks"] == {"enterprises:F1": other}
        plan_json, _, _ = _run(Ids.RUN, team_data=teams, cand_data=rows, state=state)
        plan = plan_store.plan_from_json(plan_json)
        f1 = plan.stops.set_index("key").loc["enterprises:F1"]
        assert f1["team_id"] == other and bool(f1["locked"])

        # moving the gas station to T3 (fire only) is refused
        stops = tables.stop_rows(plan, "en")
        g = next(i for i, r in enumerate(stops) if r["key"] == "gas_stations:G1")
        _, _, msg = _edit(Ids.MOVE, team_data=teams, cand_data=rows, state=state, stop_data=stops,
                          selected=[g], move_team="T3")
        assert "lacks the skill" in msg.children

        # remove G1: gone from the candidates
        rows2, state2, _ = _edit(Ids.REMOVE, team_data=teams, cand_data=rows, state=state,
                                 stop_data=stops, selected=[g])
        assert "gas_stations:G1" not in {r["key"] for r in rows2}

        # save, then record a completion of the first stop
        saved, msg, opts = _run(Ids.SAVE, plan_data=plan_json, save_name="test plan")
        assert saved["id"] and saved["created_by"] == "admin" and saved["version"] == 1
        assert any(o["value"] == saved["id"] for o in opts)
        stops = tables.stop_rows(plan_store.plan_from_json(saved), "en")
        done, msg, _ = _run(Ids.DONE, plan_data=saved, stop_data=stops, selected=[0])
        after = tables.stop_rows(plan_store.plan_from_json(done), "en")
        assert after[0]["status"] == "Done" and all(r["status"] == "Planned" for r in after[1:])

        # open it again: candidates (with the venues' own opening hours) and locks come back
        opened, _, _ = _run(Ids.OPEN, open_id=saved["id"])
        assert opened["id"] == saved["id"]
        rows3, state3, _ = _edit(Ids.OPEN, open_id=saved["id"])
        by_key = {r["key"]: r for r in rows3}
        assert by_key["venues:V2"]["open_hours"] == "10:00-21:00"
        assert set(by_key) == {r["key"] for r in rows}
        assert state3["locks"] == {"enterprises:F1": other}


def test_figures(as_user, app_and_path):
    with as_user(CITY):
        teams = actions.team_table(["T1", "T2", "T3"], [])
        rows, state, _ = _edit(Ids.LOAD, team_data=teams)
        plan_json, _, _ = _run(Ids.RUN, team_data=teams, cand_data=rows, state=state)
        plan = plan_store.plan_from_json(plan_json)
        from dashboard import context

        fig = figures.plan_map(context.store(), plan, tables.cands_frame(rows), None, lang="en", districts=None)
    routes = [tr for tr in fig["data"] if tr.get("legendgroup") and tr["mode"] == "lines"]
    assert {tr["name"] for tr in routes} == set(plan.stops["team_id"])
    assert len({tr["line"]["color"] for tr in routes}) == len(routes)  # each route its own colour
    numbered = [tr for tr in fig["data"] if tr.get("mode") == "markers+text" and tr.get("legendgroup")]
    assert sorted(int(s) for tr in numbered for s in tr["text"]) == sorted(plan.stops["seq"])
    g = figures.gantt(plan, "en")
    kinds = {tr["name"] for tr in g["data"]}
    assert {"Travel", "Service"} <= kinds


@pytest.mark.browser
def test_planner_page_in_chromium(browser, app_and_path):
    app, _ = app_and_path
    srv = _ServerThread(app)
    srv.start()
    url = f"http://127.0.0.1:{srv.port}"
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    try:
        w = _watch(ctx.new_page())
        page = w.page
        login(page, url, user="planner", next_path="/plan")
        page.goto(f"{url}/plan?lang=en")
        page.wait_for_selector("#plan-load")
        page.wait_for_function("document.querySelectorAll('#plan-teams .Select-value, #plan-teams "
                               "[class*=multi-value]').length > 0 || document.querySelector('#plan-teams') !== null")
        page.click("#plan-load")
        page.wait_for_function("document.querySelectorAll('#plan-cands .ag-center-cols-container .ag-row').length > 3", timeout=30000)
        page.click("#plan-run")
        page.wait_for_function("document.querySelectorAll('#plan-stops .ag-center-cols-container .ag-row').length > 3", timeout=60000)
        summary = page.inner_text("#plan-summary")
        assert "priority served" in summary and "road network" in summary
        page.wait_for_selector("#plan-map .maplibregl-canvas")
        assert page.evaluate("() => document.querySelector('#plan-map .js-plotly-plot').data.length") > 3
        assert page.locator("#plan-gantt .barlayer .trace").count() >= 2
        page.fill("#plan-save-name", "browser plan")
        page.click("#plan-save")
        page.wait_for_function("document.querySelector('#plan-summary').innerText.includes(' v1 ')",
                               timeout=30000)
        pid = page.inner_text("#plan-summary").split(" · ")[1]
        team = page.locator("#plan-stops .ag-center-cols-container .ag-cell[col-id='team_id']").first.inner_text().strip()
        page.goto(f"{url}/plan/sheet?plan={pid}&team={team}&lang=en")
        page.wait_for_selector(".route-sheet table")
        text = page.inner_text(".route-sheet")
        assert "Inspection route sheet" in text and "signatures" in text and "What to check" in text
        assert page.locator(".route-sheet tbody tr").count() >= 1
        assert not w.errors, w.errors
        assert not w.foreign_requests(f"127.0.0.1:{srv.port}")
    finally:
        ctx.close()
        srv.stop()


def test_the_summary_is_a_table_per_team_with_totals(as_user):
    from dashboard.planner.layout import plan_summary

    with as_user(CITY):
        teams = actions.team_table(["T1", "T2", "T3"], [])
        rows, state, _ = _edit(Ids.LOAD, team_data=teams)
        plan_json, _, _ = _run(Ids.RUN, team_data=teams, cand_data=rows, state=state)
        plan = plan_store.plan_from_json(plan_json)
    text = str(plan_summary(plan, "en"))
    assert "plan-summary-table" in text and "Total" in text and "priority served" in text
    table = next(c for c in plan_summary(plan, "en") if getattr(c, "id", None) == "plan-summary-table")
    body = table.children[1].children
    assert len(body) == len(plan.summary["teams"]) + 1        # one row per team and the totals
    total_stops = body[-1].children[1].children
    assert int(total_stops.replace(",", "")) == plan.summary["stops"] == len(plan.stops)


def test_opening_a_saved_plan_puts_its_form_back(as_user):
    from dashboard.planner.ids import Ids as PIds

    with as_user(CITY):
        offered = actions.district_choices(["420103"], "zh")[1]
        pick = offered[:2]
        teams = actions.team_table(pick, [])
        teams[0]["shift_end"] = "16:00"          # an edit made before planning is part of the plan
        rows, state, _ = _edit(Ids.LOAD, team_data=teams, districts=["420103"])
        week = _run(PIds.RUN, team_data=teams, cand_data=rows, state=state, days=5, districts=["420103"],
                    day="2026-12-07")[0]
        saved, _, _ = _run(PIds.SAVE, plan_data=week, save_name="一周计划", districts=["420103"])
        pid = plan_store.plan_from_json(saved).id
        day, days, districts, team_ids, team_rows_, restore = actions.form_of_plan(pid)
    assert (day, days, districts) == ("2026-12-07", 5, ["420103"])
    assert team_ids == pick and restore == {"teams": pick}
    assert {r["id"]: r["shift_end"] for r in team_rows_}[pick[0]] == "16:00"
    with as_user(CITY):
        # the district list is rebuilt for the plan's districts: its teams stay chosen, not every team offered
        _, chosen, _ = actions.district_choices(["420103"], "zh", restore)
        assert chosen == pick
        _, chosen_forged, _ = actions.district_choices(["420103"], "zh", {"teams": [pick[0], "NOPE"]})
        assert chosen_forged == [pick[0]]        # a forged team id in the browser's store is ignored
    with as_user(D103):
        assert actions.form_of_plan(pid)[0] == "2026-12-07"   # its own district's plan


@pytest.mark.browser
def test_opening_a_plan_in_chromium_restores_the_form(browser, app_and_path, as_user):
    from dashboard.planner.ids import Ids as PIds

    app, _ = app_and_path
    with as_user(CITY):
        offered = actions.district_choices(["420103"], "zh")[1]
        teams = actions.team_table(offered[:1], [])
        rows, state, _ = _edit(Ids.LOAD, team_data=teams, districts=["420103"])
        week = _run(PIds.RUN, team_data=teams, cand_data=rows, state=state, days=5, districts=["420103"],
                    day="2026-12-07")[0]
        pid = plan_store.plan_from_json(_run(PIds.SAVE, plan_data=week, save_name="恢复表单",
                                             districts=["420103"])[0]).id
    srv = _ServerThread(app)
    srv.start()
    url = f"http://127.0.0.1:{srv.port}"
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    try:
        w = _watch(ctx.new_page())
        page = w.page
        login(page, url, user="admin", next_path="/plan")
        page.wait_for_selector("#plan-open-pick")
        # Pick by clicking the option itself and wait until the dropdown shows the choice: typing into the
        # search box raced its focus on a loaded machine and the keys went nowhere.
        page.click("#plan-open-pick")
        page.locator(".dash-dropdown-option", has_text="恢复表单").first.click(timeout=60_000)
        page.wait_for_function("() => document.querySelector('#plan-open-pick').innerText.includes('恢复表单')",
                               timeout=60_000)
        page.keyboard.press("Escape")
        page.click("#plan-open")
        page.wait_for_function("() => document.querySelector('#plan-date').value === '2026-12-07'", timeout=60_000)
        assert page.locator("#plan-days input[value='5']").is_checked()
        page.wait_for_function(f"() => document.querySelector('#plan-teams').innerText.includes('{offered[0]}')",
                               timeout=60_000)
        teams_text = page.inner_text("#plan-teams")
        assert all(t not in teams_text for t in offered[1:]), teams_text    # only the plan's team
        page.wait_for_function(f"() => document.querySelector('#plan-summary').innerText.includes('{pid}')",
                               timeout=60_000)
        assert not w.errors, w.errors
    finally:
        ctx.close()
        srv.stop()


def test_lock_keeps_team_day_and_order_and_says_so(as_user):
    from dashboard.i18n import t
    from layers.planning import routes as P

    # what lock keeps, in both languages: on the column, its tooltip and beside the buttons
    for lang, words in (("zh", ("检查组", "日期", "顺序")), ("en", ("team", "day", "order"))):
        header = next(c for c in tables.stop_columns(lang) if c["field"] == "locked")
        assert all(w in header["headerName"] for w in words), header
        assert header["headerTooltip"] == t("plan.lock_hint", lang)
        assert all(w in t("plan.lock_hint", lang) for w in words)
    with as_user(CITY):
        teams = actions.team_table(["T1", "T2", "T3"], [])
        rows, state, _ = _edit(Ids.LOAD, team_data=teams)
        plan_json, _, _ = _run(Ids.RUN, team_data=teams, cand_data=rows, state=state)
        stops = tables.stop_rows(plan_store.plan_from_json(plan_json), "en")
        team = max({r["team_id"] for r in stops}, key=lambda tm: sum(r["team_id"] == tm for r in stops))
        mine = [i for i, r in enumerate(stops) if r["team_id"] == team]
        assert len(mine) >= 2
        rows, state, msg = _edit(Ids.LOCK, team_data=teams, cand_data=rows, state=state, stop_data=stops,
                                 selected=mine)
        assert "order" in msg.children
        again, _, _ = _run(Ids.RUN, team_data=teams, cand_data=rows, state=state, plan_data=plan_json)
    plan = plan_store.plan_from_json(again)
    locked = [stops[i]["key"] for i in mine]
    # the page planned again from where the stops were: each keeps its place among the locked ones
    assert set(plan.params["lock_order"]) == set(locked)
    s = plan.stops.set_index("key")
    assert all(s.loc[k, "team_id"] == team for k in locked)
    seqs = [int(s.loc[k, "seq"]) for k in locked]
    assert seqs == sorted(seqs)
    assert P.lock_anchors(plan, state["locks"]).keys() == set(locked)
    marks = {r["key"]: r["locked"] for r in tables.stop_rows(plan, "zh")}
    assert all(marks[k] == "已锁定" for k in locked)     # in words: a kiosk without an emoji font showed a box


def _week_plan(tmp_path):
    from test_plan_helpers import _gdf, random_enterprises

    from layers.planning import routes as P
    from layers.settings import Settings

    store = build_plan_city(tmp_path / "weekfig.gpkg")
    with store.transaction() as tx:
        tx.append("enterprises", _gdf(random_enterprises(25)))
    settings = Settings()
    teams = [tm for tm in P.teams_from_store(store) if tm.id in ("T1", "T2")]
    dates = P.week_dates(date(2026, 12, 4), 3)        # Friday, Monday, Tuesday
    cands = P.candidates(store, as_of=AS_OF, settings=settings)
    return P.plan_routes(store, cands, teams, dates=dates, settings=settings), teams, dates


def test_week_timeline_has_a_row_per_team_and_day_on_each_days_hours(tmp_path):
    import pandas as pd

    from layers.planning import routes as P

    plan, teams, dates = _week_plan(tmp_path)
    assert plan.stops["day"].nunique() >= 2
    g = figures.gantt(plan, "zh")
    rows = g["layout"]["yaxis"]["categoryarray"]
    assert g["layout"]["yaxis"]["categoryorder"] == "array"
    assert rows == [f"{d.isoformat()[5:]} {wd} {tm.id}" for d, wd in zip(dates, ("周五", "周一", "周二"), strict=True)
                    for tm in teams]
    assert g["layout"]["height"] >= 24 * len(rows)     # rows of their own height, not squeezed into the teams'
    assert g["layout"]["yaxis"]["range"] == [len(rows) - 0.5, -0.5]   # all drawn, the last day's empty rows too
    shift = {tm.id: (P.hhmm_to_s(tm.shift_start), P.hhmm_to_s(tm.shift_end)) for tm in teams}
    seen = set()
    for tr in g["data"]:
        for y, base, ms in zip(tr["y"], tr["base"], tr["x"], strict=True):
            assert y in rows
            seen.add(y)
            start = pd.Timestamp(base)
            assert start.date() == date(2000, 1, 1)    # every day on the same clock: the hours of its own day
            s0, s1 = shift[y.split()[-1]]
            secs = (start - pd.Timestamp("2000-01-01")).total_seconds()
            assert s0 <= secs and secs + ms / 1000 <= s1, (y, base, ms)
    # each day's bars are on that day's rows: the stops of a day and the bars of its rows agree
    for d in dates:
        label_day = d.isoformat()[5:]
        has_stops = {tid for tid in plan.stops.loc[plan.stops["day"] == d, "team_id"]}
        has_bars = {y.split()[-1] for y in seen if y.startswith(label_day)}
        assert has_stops <= has_bars
    lo, hi = (pd.Timestamp(x) for x in g["layout"]["xaxis"]["range"])
    assert lo.date() == hi.date() == date(2000, 1, 1)


def test_timeline_before_a_plan_has_no_bars_and_no_time_axis(as_user):
    from dashboard.i18n import t

    for lang in ("zh", "en"):
        g = figures.gantt(None, lang)
        assert g["data"] == []
        assert g["layout"]["xaxis"] == {"visible": False} and g["layout"]["yaxis"] == {"visible": False}
        assert [a["text"] for a in g["layout"]["annotations"]] == [t("plan.gantt.empty", lang)]
        assert "00:00" not in str(g)
    with as_user(CITY):
        shown = actions.render_plan(None, None, [], None, "zh")[2]   # the page before anything is planned
    assert shown["data"] == [] and shown["layout"]["xaxis"] == {"visible": False}
