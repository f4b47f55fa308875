"""Forged requests: a user replays the app's own callbacks with edited payloads (other districts' keys, plan
ids, team ids, town codes). No reply may carry a row of another district, and no write may land."""

from __future__ import annotations

import json

import pytest

from layers.errors import AccessDenied
from layers.store import open_store

OWN, OTHER = "420102", "420103"
LEADER = {"id": "d" + OWN}
PLANNER = {"id": "p" + OWN, "role": "planner", "district_code": OWN}
ADMIN = {"id": "admin"}


def _args(**kw):
    base = {"day": "2026-11-28", "days": 1, "districts": None, "team_data": [], "cand_data": [],
            "state": {"locks": {}}, "plan_data": None, "save_name": None, "open_id": None, "stop_data": [],
            "selected": [], "done_date": "2026-11-28", "done_result": "pass", "done_hazards": 0,
            "done_action": "none", "lang": "zh"}
    base.update(kw)
    return base


def _rows(frame_json: dict) -> list[dict]:
    """A plan's frame as the browser holds it ({columns, data}) -> table rows."""
    return [dict(zip(frame_json["columns"], r, strict=True)) for r in frame_json["data"]]


def _edit_args(**kw):
    base = {"click": None, "day": "2026-11-28", "districts": None, "limit": 40, "team_data": [], "cand_data": [],
            "state": {"locks": {}, "random": None}, "stop_data": [], "selected": [], "move_team": None,
            "add_key": None, "seed": 1, "fraction": 0.5, "rgrades": ["low"], "open_id": None, "lang": "zh"}
    base.update(kw)
    return base


@pytest.fixture(scope="module")
def other_plan(live_app):
    """A plan of the other district, planned and saved by the admin: (unsaved JSON, saved JSON)."""
    import flask

    from dashboard.planner import actions
    from dashboard.planner.ids import Ids
    from layers import access
    from layers.access.users import principal_of

    store = open_store(live_app.store_path, create=False)
    with live_app.app.server.test_request_context("/plan"):
        row = store.read("users", where={"id": "admin"}).iloc[0]
        flask.session["sid"] = access.start_session(store, principal_of(row))
        teams = actions.team_table(["T03", "T04"], [])
        cands, state, _ = actions.edit_candidates(Ids.LOAD, **_edit_args(districts=[OTHER], team_data=teams))
        cands = [{k: v for k, v in r.items() if k not in ("locked_to",)} for r in cands]
        unsaved, _, _ = actions.plan_action(Ids.RUN, **_args(districts=[OTHER], team_data=teams, cand_data=cands,
                                                            state=state))
        saved, _, _ = actions.plan_action(Ids.SAVE, **_args(plan_data=unsaved, save_name="other"))
    assert len(unsaved["stops"]["data"]) > 0
    return unsaved, saved


def _other_names(store) -> set[str]:
    names = set()
    for layer in ("enterprises", "venues"):
        f = store.read(layer, columns=["name", "district_code"])
        names |= set(f.loc[f["district_code"] != OWN, "name"].astype(str)) - \
            set(f.loc[f["district_code"] == OWN, "name"].astype(str))
    return names


def _leaks(reply, store) -> list[str]:
    text = json.dumps(reply, ensure_ascii=False, default=str)
    return [n for n in _other_names(store) if len(n) > 4 and n in text]


def test_saving_a_forged_plan_is_refused_and_writes_nothing(request_ctx, live_app, other_plan):
    from dashboard.planner import actions
    from dashboard.planner.ids import Ids

    unsaved, _ = other_plan
    store = open_store(live_app.store_path, create=False)
    before = store.count("plans")
    forged = json.loads(json.dumps(unsaved))
    forged["params"]["districts"] = [OWN]            # the claim; the stops still name the other district
    for user in (PLANNER, LEADER):
        with request_ctx(user=user, path="/plan"):
            with pytest.raises(AccessDenied):
                actions.plan_action(Ids.SAVE, **_args(plan_data=forged, save_name="x"))
    assert store.count("plans") == before


def test_exporting_or_drawing_a_forged_plan_is_refused(request_ctx, other_plan):
    from dashboard.planner import actions
    from dashboard.planner.ids import Ids

    unsaved, saved = other_plan
    forged = json.loads(json.dumps(unsaved))
    forged["params"]["districts"] = [OWN]
    with request_ctx(user=PLANNER, path="/plan"):
        for data in (forged, saved):
            with pytest.raises(AccessDenied):
                actions.export_plan(Ids.CSV, data, "T03", "zh")
            with pytest.raises(AccessDenied):
                actions.render_plan(Ids.PLAN, data, [], None, "zh")


def test_recording_a_completion_on_another_districts_plan_is_refused(request_ctx, live_app, other_plan):
    from dashboard.planner import actions
    from dashboard.planner.ids import Ids

    _, saved = other_plan
    store = open_store(live_app.store_path, create=False)
    before = store.count("inspections")
    stops = _rows(saved["stops"])
    forged = json.loads(json.dumps(saved))
    forged["params"]["districts"] = [OWN]
    with request_ctx(user=LEADER, path="/plan"):
        with pytest.raises(AccessDenied):
            actions.plan_action(Ids.DONE, **_args(plan_data=forged, stop_data=stops, selected=[0]))
    assert store.count("inspections") == before


def test_a_completion_names_only_the_saved_plans_own_stops(request_ctx, live_app, other_plan):
    from dashboard.planner import actions
    from dashboard.planner.ids import Ids

    _, saved = other_plan
    store = open_store(live_app.store_path, create=False)
    before = store.count("inspections")
    ent = store.read("enterprises", columns=["id", "district_code"])
    outsider = ent[ent["district_code"] == "420104"]["id"].iloc[0]
    fake_stops = [{"key": f"enterprises:{outsider}", "team_id": "T03"}]
    with request_ctx(user=ADMIN, path="/plan"):
        with pytest.raises(AccessDenied, match="not stops of plan"):
            actions.plan_action(Ids.DONE, **_args(plan_data=saved, stop_data=fake_stops, selected=[0]))
    assert store.count("inspections") == before


def test_a_district_leader_may_not_plan_and_a_planner_only_in_its_area(request_ctx, other_plan):
    from dashboard.planner import actions
    from dashboard.planner.ids import Ids

    unsaved, _ = other_plan
    with request_ctx(user=LEADER, path="/plan"):
        with pytest.raises(AccessDenied):
            actions.plan_action(Ids.RUN, **_args(cand_data=_rows(unsaved["stops"]), team_data=[]))
    with request_ctx(user=PLANNER, path="/plan"):
        with pytest.raises(AccessDenied):   # the other district's candidates, sent back as if they were ours
            actions.plan_action(Ids.RUN, **_args(districts=[OWN], cand_data=_rows(unsaved["stops"]), team_data=[]))
        with pytest.raises(AccessDenied):
            actions.edit_candidates(Ids.LOAD, **_edit_args(districts=[OTHER]))


def test_team_settings_of_another_district_are_refused(request_ctx):
    from dashboard.planner import actions

    with request_ctx(user=PLANNER, path="/plan"):
        assert [r["id"] for r in actions.team_table(["T01", "T17"], [])] == ["T01", "T17"]  # own and city-wide
        with pytest.raises(AccessDenied):
            actions.team_table(["T03"], [])
    with request_ctx(user=ADMIN, path="/plan"):
        assert [r["id"] for r in actions.team_table(["T03"], [])] == ["T03"]


def test_object_surroundings_hold_only_the_readers_district(request_ctx, live_app):
    from dashboard.pages.object import detail_page
    from layers.analysis.summary import load_city, nearby

    store = open_store(live_app.store_path, create=False)
    city = load_city(store)
    ent = city.objects["enterprises"]
    own = ent[ent["district_code"] == OWN]
    # an enterprise of ours with neighbours of another district within 1 km
    for _, row in own.iterrows():
        near = nearby(city, float(row["x"]), float(row["y"]), radius_m=1000.0)
        codes = [city.objects[r["layer"]].loc[r["row"], "district_code"] for _, r in near.iterrows()]
        if any(c != OWN for c in codes):
            break
    else:
        pytest.skip("no enterprise near a district border in the small city")
    with request_ctx(user=LEADER, path="/object"):
        body = detail_page("enterprises", str(row["id"]), "zh")
    text = str(body)
    others = near[[c != OWN for c in codes]]
    assert others["name"].astype(str).tolist()
    for name in others["name"].astype(str):
        assert name not in text or name in set(own["name"].astype(str))


def test_a_hazard_belongs_to_the_district_of_its_object(request_ctx, live_app, tmp_path):
    """A hazard row that carries another district's code is shown to the object's district, not the code's."""
    import shutil

    from dashboard.app import create_app
    from layers.analysis.summary import Filters, load_city, select
    from layers.settings import Settings

    path = tmp_path / "city.gpkg"
    shutil.copyfile(live_app.store_path, path)
    store = open_store(path, create=False)
    h = store.read("hazards", columns=["id", "target_layer", "target_id", "district_code"])
    ent = store.read("enterprises", columns=["id", "district_code"]).set_index("id")["district_code"]
    h = h[h["target_layer"] == "enterprises"]
    h = h[h["target_id"].map(ent) == OWN]
    hid = h["id"].iloc[0]
    with store.transaction() as tx:
        tx.update("hazards", [hid], {"district_code": OTHER})       # a mismatched row, as an import might bring
    city = load_city(store)
    own = select(city, Filters.make(districts=[OWN], hazard_status=["open", "rectifying", "awaiting_check",
                                                                    "closed"]))
    other = select(city, Filters.make(districts=[OTHER], hazard_status=["open", "rectifying", "awaiting_check",
                                                                        "closed"]))
    assert hid in set(own.hazards["id"]) and hid not in set(other.hazards["id"])
    assert create_app(Settings(store=str(path), secret_key="k")) is not None


def test_replayed_callbacks_over_http_with_other_districts_ids(live_app, other_plan):
    """The real endpoint, as an attacker drives it: logged in as a district leader, post the app's callbacks
    with another district's ids and the other district's plan."""
    c = live_app.app.server.test_client()
    assert c.post("/login", data={"username": LEADER["id"], "password": "demo", "next": "/"}).status_code == 302
    deps = c.get("/_dash-dependencies").get_json()
    store = open_store(live_app.store_path, create=False)
    before = (store.count("plans"), store.count("inspections"))

    def post(match: str, inputs: list, state: list, changed: str):
        dep = next(d for d in deps if match in d["output"])
        outs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in dep["output"].strip(".").split("...")]
        return c.post("/_dash-update-component", json={"output": dep["output"], "outputs": outs, "inputs": inputs,
                                                       "state": state, "changedPropIds": [changed]})

    unsaved, saved = other_plan
    # the coverage page for another district
    r = post("cov-summary.children", [{"id": "cov-as-of", "property": "date", "value": "2026-11-28"},
                                           {"id": "cov-districts", "property": "value", "value": [OTHER]},
                                           {"id": "cov-k", "property": "value", "value": 0},
                                           {"id": "cov-method", "property": "value", "value": "greedy"}],
             [{"id": "cov-lang", "property": "data", "value": "zh"}], "coverage-districts.value")
    assert r.status_code in (200, 204, 403) and not _leaks(r.get_json(silent=True) or {}, store)
    # the team settings of another district's teams
    r = post("plan-team-table.rowData", [{"id": "plan-teams", "property": "value", "value": ["T03", "T04"]}],
             [{"id": "plan-team-table", "property": "rowData", "value": []}], "plan-teams.value")
    body = r.get_json(silent=True) or {}
    assert "T03" not in json.dumps(body)
    # save and complete the other district's plan
    for trig in ("plan-save", "plan-done"):
        dep_inputs = [{"id": i, "property": "n_clicks", "value": 1 if i == trig else None}
                      for i in ("plan-run", "plan-open", "plan-save", "plan-done")]
        r = post("plan-store.data", dep_inputs, [
            {"id": "plan-date", "property": "date", "value": "2026-11-28"},
            {"id": "plan-days", "property": "value", "value": 1},
            {"id": "plan-districts", "property": "value", "value": [OWN]},
            {"id": "plan-team-table", "property": "rowData", "value": []},
            {"id": "plan-cands", "property": "rowData", "value": []},
            {"id": "plan-state", "property": "data", "value": {}},
            {"id": "plan-store", "property": "data", "value": unsaved if trig == "plan-save" else saved},
            {"id": "plan-save-name", "property": "value", "value": "forged"},
            {"id": "plan-open-pick", "property": "value", "value": None},
            {"id": "plan-stops", "property": "rowData", "value": _rows(saved["stops"])},
            {"id": "plan-stops", "property": "selectedRows", "value": _rows(saved["stops"])[:1]},
            {"id": "plan-done-date", "property": "date", "value": "2026-11-28"},
            {"id": "plan-done-result", "property": "value", "value": "pass"},
            {"id": "plan-done-hazards", "property": "value", "value": 0},
            {"id": "plan-done-action", "property": "value", "value": "none"},
            {"id": "plan-lang", "property": "data", "value": "zh"}], f"{trig}.n_clicks")
        assert not _leaks(r.get_json(silent=True) or {}, store), trig
    assert (store.count("plans"), store.count("inspections")) == before


def test_a_town_leader_sees_only_its_town(request_ctx, live_app):
    from dashboard.pages import coverage as coverage_page
    from dashboard.pages.map import map_click, view
    from dashboard.planner import actions

    store = open_store(live_app.store_path, create=False)
    towns = store.read("towns", columns=["code", "district_code"])
    mine, other_town = towns[towns["district_code"] == OWN]["code"].iloc[:2].tolist()
    ent = store.read("enterprises", columns=["id", "district_code", "town_code"])
    neighbour = ent[ent["town_code"] == other_town]["id"].iloc[0]
    with request_ctx(user={"id": f"t{mine}"}, path="/coverage"):
        result = coverage_page.result_for_user("2026-11-28", None)
        for frame in (result.dead_corners, result.blind_spots, result.supervision_gaps, result.by_town, result.cells):
            assert set(frame["town_code"].dropna()) <= {mine}
        assert set(result.by_district["district_code"]) <= {OWN}
        with pytest.raises(AccessDenied):
            coverage_page.result_for_user("2026-11-28", [OTHER])
    with request_ctx(user={"id": f"t{mine}"}, path="/"):
        state = {"district": None, "town": other_town, "industry": [], "grade": [], "hazard": []}
        with pytest.raises(AccessDenied):
            view(state, "zh")
        with pytest.raises(AccessDenied):
            map_click({"points": [{"customdata": f"enterprises:{neighbour}"}]}, "", "zh")
        with pytest.raises(AccessDenied):
            map_click({"points": [{"customdata": f"town:{other_town}"}]}, "", "zh")
        own_view = view({"district": None, "town": None, "industry": [], "grade": [], "hazard": []}, "zh")
        assert own_view is not None
    with request_ctx(user={"id": f"t{mine}"}, path="/object"):
        from dashboard.pages.object import detail_page
        from layers.analysis.summary import load_city

        city = load_city(store)
        own = city.objects["enterprises"]
        own = own[own["town_code"] == mine]
        others = set()
        for f in city.objects.values():
            if "town_code" in f:
                others |= set(f.loc[f["town_code"].notna() & (f["town_code"] != mine), "name"].astype(str))
        others -= set(own["name"].astype(str))
        for oid in own["id"].astype(str).head(15):
            text = str(detail_page("enterprises", oid, "zh"))
            assert [n for n in others if len(n) > 4 and n in text] == [], oid
    with request_ctx(user={"id": f"t{mine}"}, path="/plan"):
        _, _, add = actions.district_choices(None, "zh")
        keys = [o["value"] for o in add]
        assert keys and f"enterprises:{neighbour}" not in keys
        from layers import access as acc
        places = acc.object_places(store, keys)
        assert set(places["town_code"]) == {mine}


def test_every_server_callback_replayed_with_other_districts_values_leaks_nothing(live_app):
    """Each callback the app registers, posted by a district leader with every input and state set to the other
    district's code, list, area focus, object click or plan: no reply carries another district's object."""
    store = open_store(live_app.store_path, create=False)
    c = live_app.app.server.test_client()
    assert c.post("/login", data={"username": LEADER["id"], "password": "demo", "next": "/"}).status_code == 302
    deps = [d for d in c.get("/_dash-dependencies").get_json() if not d.get("clientside_function")]
    ent = store.read("enterprises", columns=["id", "district_code"])
    other_ent = ent[ent["district_code"] == OTHER]["id"].iloc[0]
    pt = store.read("enterprises", ids=[other_ent]).geometry.iloc[0]
    other_xy = [float(pt.x), float(pt.y)]
    click = {"points": [{"customdata": f"enterprises:{other_ent}", "bbox": {}},
                        {"customdata": f"district:{OTHER}"}]}
    hz = store.read("hazards", columns=["id", "target_layer", "target_id", "version", "status"])
    hz = hz[(hz["target_layer"] == "enterprises") & hz["target_id"].isin(ent[ent["district_code"] == OTHER]["id"])]
    other_hz = str(hz["id"].iloc[0])
    variants = [OTHER, [OTHER], {"district": OTHER, "town": None, "i": 0, "stops": [{"district": OTHER}], **click},
                f"?district={OTHER}", f"enterprises:{other_ent}", ["T03", "T04"],
                {"id": other_hz, "version": 0, "layer": "enterprises", "target": other_ent}, other_hz,
                # an incident, a warning or a readiness ask at the other district's enterprise
                {"lon": other_xy[0], "lat": other_xy[1], "kind": "fire", "target": f"enterprises:{other_ent}",
                 "points": [{"lon": other_xy[0], "lat": other_xy[1], "customdata": f"enterprises:{other_ent}"}]},
                {"level": "red", "kind": "rainstorm", "note": "forged", "district": OTHER},
                "fire_station",
                # the other district's enterprise by name (the map's search box)
                str(store.read("enterprises", ids=[other_ent])["name"].iloc[0])]
    pages = ["/", "/object", "/coverage", "/wall", "/plan/sheet", "/hazard", "/hazards", "/briefing", "/incident",
             "/duty", "/readiness"]
    searches = [f"?district={OTHER}", f"?layer=enterprises&id={other_ent}", f"?district={OTHER}",
                f"?district={OTHER}", "?plan=P1&team=T03", f"?id={other_hz}", f"?district={OTHER}",
                f"?district={OTHER}", f"?target=enterprises:{other_ent}", f"?district={OTHER}",
                f"?district={OTHER}"]
    counted = ("plans", "inspections", "users", "wall_tokens", "hazards", "orders", "blacklist", "audit_log",
               "hazard_files", "incidents", "warnings", "duty_roster")
    before = [store.count(name) for name in counted]
    assert len(deps) >= 15
    for dep in deps:
        outs = dep["output"].strip(".").split("...")
        outputs = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1].split("@")[0]} for o in outs]
        for n, value in enumerate(variants):
            def item(d: dict, v=value, n=n) -> dict:
                if d["property"] in ("n_clicks", "n_intervals"):
                    return {"id": d["id"], "property": d["property"], "value": 1}
                if d["property"] == "pathname":   # the page router: every page, with the other district's ids
                    return {"id": d["id"], "property": d["property"], "value": pages[n % len(pages)]}
                if d["id"] == "_pages_location" and d["property"] == "search":
                    return {"id": d["id"], "property": d["property"], "value": searches[n % len(searches)]}
                return {"id": d["id"], "property": d["property"], "value": v}
            inputs = [item(d) for d in dep["inputs"]]
            state = [item(d) for d in dep["state"]]
            first = dep["inputs"][0]
            r = c.post("/_dash-update-component", json={
                "output": dep["output"], "outputs": outputs if len(outputs) > 1 else outputs[0], "inputs": inputs,
                "state": state, "changedPropIds": [f"{first['id']}.{first['property']}"]})
            leaked = _leaks(r.get_json(silent=True) or {}, store) if r.status_code == 200 else []
            assert leaked == [], (dep["output"], value, leaked[:3])
    assert [store.count(name) for name in counted] == before   # no write landed: admin page, ledger steps, orders
    after = store.read("hazards", columns=["id", "version", "status"], ids=[other_hz]).iloc[0]
    was = hz.set_index("id").loc[other_hz]
    assert (after["version"], after["status"]) == (was["version"], was["status"])   # the other district's hazard
