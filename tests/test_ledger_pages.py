"""The ledger pages' callbacks as plain functions, on a private copy of the small demo city: the grid's server-side
paging, sorting and filters (from the URL), the user's area narrowing every answer, a hazard walked through the
workflow, and forged requests (another district's hazard, step or file; a stale or made-up version) refused
without a write."""

from __future__ import annotations

import base64
import contextlib
import io
import shutil
import sys

import flask
import openpyxl
import pytest

from dashboard import context
from dashboard.ledger import actions
from dashboard.ledger.ids import HazardIds
from layers.errors import AccessDenied
from layers.ledger import files as ledger_files
from layers.store import open_store

OWN, OTHER = "420102", "420103"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")


@pytest.fixture(scope="module")
def app_and_path(demo_store_path, tmp_path_factory):
    from dashboard.app import create_app
    from layers.settings import Settings

    path = tmp_path_factory.mktemp("ledgerpages") / "city.gpkg"
    shutil.copyfile(demo_store_path, path)
    return create_app(Settings(store=str(path), secret_key="k")), path


@pytest.fixture
def as_user(app_and_path):
    app, path = app_and_path

    @contextlib.contextmanager
    def make(user: str | None, url: str = "/hazards"):
        from layers import access
        from layers.access.users import principal_of

        with app.server.test_request_context(url):
            store = open_store(path, create=False)
            if user is not None:
                rows = store.read("users", where={"id": user})
                if len(rows) == 0:
                    access.add_user(store, user, "demo", role="district", district_code=user[1:], demo=True)
                    rows = store.read("users", where={"id": user})
                flask.session["sid"] = access.start_session(store, principal_of(rows.iloc[0]))
            yield store

    return make


def _page(name: str):
    return sys.modules[f"dashboard.pages.{name}"]


def _hazards_of(store, district: str, status: str | None = None) -> list[str]:
    """Ids of hazards whose *target* lies in ``district`` (and have ``status``)."""
    from layers import access

    h = store.read("hazards", columns=["id", "target_layer", "target_id", "status"])
    if status:
        h = h[h["status"] == status]
    places = access.object_places(store, (h["target_layer"] + ":" + h["target_id"]).tolist())
    return sorted(h["id"][places["district_code"].to_numpy() == district].astype(str))


def _request(start=0, end=50, sort=None):
    return {"startRow": start, "endRow": end, "sortModel": [{"colId": sort[0], "sort": sort[1]}] if sort else [],
            "filterModel": {}}


def _step_args(step: str, values: dict):
    fields = [(k, v) for k, v in values.items() if not k.endswith("_date") and k != "deadline"]
    dates = [(k, v) for k, v in values.items() if k.endswith("_date") or k == "deadline"]
    return ([{"type": HazardIds.FIELD, "step": step, "field": k} for k, _ in fields], [v for _, v in fields],
            [{"type": HazardIds.DATE, "step": step, "field": k} for k, _ in dates], [v for _, v in dates])


def test_the_grid_pages_and_sorts_on_the_server(as_user):
    with as_user("admin") as store:
        total = store.count("hazards")
        first = _page("hazards").rows(_request(0, 50), "", "zh")
        second = actions.page_rows(_request(50, 100), "", "zh")
        assert first["rowCount"] == second["rowCount"] == total
        assert len(first["rowData"]) == 50
        assert not {r["hazard_id"] for r in first["rowData"]} & {r["hazard_id"] for r in second["rowData"]}
        by_found = actions.page_rows(_request(0, 100, ("found_date", "desc")), "", "en")
        found = [r["found_date"] for r in by_found["rowData"]]
        assert found == sorted(found, reverse=True)
        days = [r["days_left"] for r in first["rowData"] if r["days_left"] is not None]
        assert days == sorted(days)                      # the default: most overdue first
        bogus = actions.page_rows({"startRow": "x", "sortModel": [{"colId": "password_hash"}]}, "", "zh")
        assert bogus["rowCount"] == total                # a forged request is read as the default


def test_filters_live_in_the_url_and_are_validated(as_user):
    with as_user("admin"):
        search = actions.filters_search((None, None, None, None, ["major"], ["open", "bogus"], ["overdue"], None,
                                         None, None, None, " 公司 "), "?lang=en")
        assert search is not None and "lang=en" in search and "bogus" not in search
        q = actions.query_from(search)
        assert q.level == ("major",) and q.status == ("open",) and q.bucket == ("overdue",) and q.text == "公司"
        assert actions.filters_search((None, None, None, None, ["major"], ["open"], ["overdue"], None, None, None,
                                       None, "公司"), search) is None     # nothing changed: no new URL
        rows = actions.page_rows(_request(0, 200), search, "en")
        assert rows["rowCount"] >= 0
        assert all(r["raw_level"] == "major" and r["raw_status"] == "open" and r["bucket"].startswith("overdue")
                   for r in rows["rowData"])
        open_ = actions.page_rows(_request(0, 200), "?status=open&missing=any", "zh")
        assert all(r["raw_status"] == "open" and r["n_missing"] != "—" for r in open_["rowData"])
        assert actions.reset_search("?status=open&lang=en") == "?lang=en"


def test_a_district_user_gets_only_its_district(as_user):
    with as_user("d" + OWN) as store:
        own = set(_hazards_of(store, OWN))
        rows = actions.page_rows(_request(0, 200), "", "zh")
        assert rows["rowCount"] == len(own) and {r["hazard_id"] for r in rows["rowData"]} <= own
        # asking for another district in the URL narrows to nothing, never widens
        assert actions.page_rows(_request(0, 200), f"?district={OTHER}", "zh")["rowCount"] == 0
        view = actions.hazards_view({"district": OTHER}, "zh")
        assert view["count"] == 0 and set(view["districts"]["code"]) == {OWN}
        ids = {i for tr in view["figure"]["data"] for i in tr.get("customdata") or []}
        assert not ids - own
        layout = str(_page("hazards").layout())
        assert "hz-grid" in layout and OTHER not in layout.replace(f"({OTHER})", "")


def test_a_forged_hazard_step_file_or_version_is_refused_and_writes_nothing(as_user):
    with as_user("admin") as store:
        other = _hazards_of(store, OTHER, "open")[0]
        fid = ledger_files.attach(store, context.principal(), other, "a.png", PNG, settings=context.settings())
    before = (store.count("audit_log"), store.count("hazard_files"),
              int(store.read("hazards", ids=[other])["version"].iloc[0]))
    with as_user("d" + OWN, f"/hazard?id={other}"):
        with pytest.raises(AccessDenied):
            actions.hazard_view(other, "zh")
        assert "calm-error" in str(_page("hazard").layout(id=other))
        record = {"id": other, "version": before[2]}
        msg, body, rec = actions.take_step("submit", *_step_args("submit", {"note": "x"}), record, "zh")
        assert "calm-error" in str(msg) and body is actions.no_update
        msg, body, rec = actions.take_step("start", *_step_args("start", {
            "responsible_person": "王", "measures": "m", "funds": 1, "deadline": "2030-01-01", "plan_ref": "p"}),
            record, "zh")
        assert "calm-error" in str(msg)
        msg, _ = actions.upload("data:image/png;base64," + base64.b64encode(PNG).decode(), "b.png", record, "zh")
        assert "calm-error" in str(msg)
        c = flask.current_app.test_client()
        assert c.post("/login", data={"username": "d" + OWN, "password": "demo", "next": "/"}).status_code == 302
        assert c.get(f"/hazard/file/{fid}").status_code == 403
    after = (store.count("audit_log"), store.count("hazard_files"),
             int(store.read("hazards", ids=[other])["version"].iloc[0]))
    assert after == before

    # a version the page was not opened at (someone saved first, or a forged number) is refused calmly
    with as_user("admin", f"/hazard?id={other}"):
        body, record = actions.hazard_view(other, "zh")
        for forged in (record["version"] + 1, record["version"] - 1, "x"):
            msg, body2, rec = actions.take_step("submit", *_step_args("submit", {}),
                                                {"id": other, "version": forged}, "zh")
            assert "calm-error" in str(msg) and rec is actions.no_update
    assert int(store.read("hazards", ids=[other])["version"].iloc[0]) == before[2]
    assert store.count("audit_log") == after[0]


def test_a_district_user_walks_its_hazard_from_open_to_closed(as_user):
    with as_user("d" + OWN) as store:
        hid = _hazards_of(store, OWN, "open")[0]
        body, record = actions.hazard_view(hid, "zh")
        assert "hzd-form-start" in str(body)
        # skipping a step is refused with its reason
        msg, _, _ = actions.take_step("close", *_step_args("close", {"checker": "李", "check_date": "2026-01-01",
                                                                      "evidence": "ok"}), record, "zh")
        assert "calm-error" in str(msg)
        msg, body, record = actions.take_step("start", *_step_args("start", {
            "responsible_person": "王五", "measures": "加装报警器", "funds": 2.5, "deadline": "2030-06-30",
            "plan_ref": "预案-1"}), record, "zh")
        assert "ok-message" in str(msg), msg
        assert str(body).count("已到位") == 5
        msg, body, record = actions.take_step("submit", *_step_args("submit", {"note": "整改完成"}), record, "zh")
        assert "ok-message" in str(msg), msg
        # closing needs the checker, the date and the evidence
        msg, _, _ = actions.take_step("close", *_step_args("close", {"checker": "李四"}), record, "zh")
        assert "calm-error" in str(msg)
        today = actions.as_of().isoformat()
        msg, body, record = actions.take_step("close", *_step_args("close", {
            "checker": "李四", "check_date": today, "evidence": "现场复核合格"}), record, "zh")
        assert "ok-message" in str(msg), msg
        row = store.read("hazards", ids=[hid]).iloc[0]
        assert row["status"] == "closed" and row["checker"] == "李四"
        from layers.ledger import audit

        hist = audit.history(store, "hazards", hid)
        assert {"start", "submit", "close"} <= set(hist["action"])
        assert "hzd-history" in str(body) and "验收销号" in str(body)
        # a file: type checked by content
        msg, body = actions.upload("data:image/png;base64," + base64.b64encode(PNG).decode(), "现场.png", record,
                                   "zh")
        assert "ok-message" in str(msg) and "现场.png" in str(body)
        msg, _ = actions.upload("data:text/plain;base64," + base64.b64encode(b"not an image").decode(), "x.png",
                                record, "zh")
        assert "calm-error" in str(msg)
        fid = store.read("hazard_files", where={"hazard_id": hid})["id"].iloc[0]
        c = flask.current_app.test_client()
        assert c.post("/login", data={"username": "d" + OWN, "password": "demo", "next": "/"}).status_code == 302
        r = c.get(f"/hazard/file/{fid}")
        assert r.status_code == 200 and r.data == PNG and r.mimetype == "image/png"


def test_pages_render_for_each_role_and_exports_are_checked(as_user):
    for user in ("admin", "d" + OWN, "command"):
        with as_user(user, "/briefing"):
            for name in ("hazards", "briefing", "accountability", "public"):
                text = str(_page(name).layout(lang="en"))
                assert "calm-error" not in text or (name == "public" and user.startswith("d")), (user, name)
            body, href = _page("briefing").briefing_body(None, "2026-01-01", "2026-11-30", "zh")
            assert "br-title" in str(body) and href.startswith("/briefing/export.xlsx")
            league, charged, duties, links = _page("accountability").accountability_view("district", "en")
            assert "acc-league-grid" in str(league)
    with as_user("d" + OWN, "/briefing"):
        text = str(_page("public").layout(lang="en"))
        assert "command centre" in text                       # the city's page: said calmly
        with pytest.raises(AccessDenied):
            _page("briefing").briefing_body(OTHER, None, None, "zh")
        c = flask.current_app.test_client()
        assert c.post("/login", data={"username": "d" + OWN, "password": "demo", "next": "/"}).status_code == 302
        assert c.get("/public/export.csv").status_code == 403
        assert c.get(f"/briefing/export.xlsx?district={OTHER}").status_code == 403
        r = c.get("/hazards/export.xlsx?status=open")
        assert r.status_code == 200
        ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
        headers = [c.value for c in ws[1]]
        col = headers.index("区县") + 1
        assert {ws.cell(row=i, column=col).value for i in range(2, ws.max_row + 1)} <= {OWN}
        r = c.get("/accountability/export.xlsx?by=district")
        assert r.status_code == 200


def test_orders_from_the_object_page_are_checked_on_the_server(as_user):
    from dashboard.ledger import enforcement

    with as_user("d" + OWN, "/object") as store:
        ent = store.read("enterprises", columns=["id", "district_code", "town_code", "status"])
        mine = ent[(ent["district_code"] == OWN) & (ent["status"] == "operating")]["id"].astype(str)
        orders = store.read("orders", columns=["target_id"])
        eid = next(e for e in mine if e not in set(orders["target_id"].astype(str)))
        other = str(ent[ent["district_code"] == OTHER]["id"].iloc[0])
        section = str(enforcement.section("enterprises", eid, "zh"))
        assert "obj-order-issue" in section and "obj-state" in section
        before = store.count("orders")
        # a forged target (another district's enterprise) is refused by the layers, calmly, and writes nothing
        msg, body = enforcement.issue("suspend", "临停〔2026〕9号", "2026-11-30", "重大隐患", None, [], None,
                                      {"layer": "enterprises", "id": other}, "zh")
        assert "calm-error" in str(msg) and store.count("orders") == before
        # resuming what is not suspended is refused; suspending works and shows the new state
        msg, _ = enforcement.issue("resume", "复〔2026〕1号", "2026-11-30", None, None, [], None,
                                   {"layer": "enterprises", "id": eid}, "zh")
        assert "calm-error" in str(msg)
        msg, body = enforcement.issue("suspend", "临停〔2026〕9号", "2026-11-30", "重大隐患未整改", None, [], None,
                                      {"layer": "enterprises", "id": eid}, "zh")
        assert "ok-message" in str(msg), msg
        assert store.count("orders") == before + 1 and "停产整顿中" in str(body)
        town = str(ent.set_index("id").loc[eid, "town_code"])
    # a town leader (no enforce grant) sees the state but no form; another district's object is refused
    with as_user(f"t{town}", "/object"):
        text = str(enforcement.section("enterprises", eid, "zh"))
        assert "obj-state" in text and "obj-order-issue" not in text
        with pytest.raises(AccessDenied):
            enforcement.section("enterprises", other, "zh")


def test_the_ledger_export_keeps_formula_like_text_as_text(as_user, app_and_path):
    _, path = app_and_path
    store = open_store(path, create=False)
    ent = store.read("enterprises", columns=["id", "district_code"])
    h = store.read("hazards", columns=["id", "target_layer", "target_id"])
    h = h[h["target_layer"] == "enterprises"]
    eid = str(h["target_id"].iloc[0])
    with store.transaction() as tx:
        tx.update("enterprises", [eid], {"name": "=HYPERLINK(\"http://x\",\"点我\")"})
    with as_user("admin"):
        c = flask.current_app.test_client()
        assert c.post("/login", data={"username": "admin", "password": "demo", "next": "/"}).status_code == 302
        r = c.get("/hazards/export.xlsx?text=HYPERLINK")
        assert r.status_code == 200
        ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
        cells = [cell for row in ws.iter_rows(min_row=2) for cell in row if isinstance(cell.value, str)
                 and "HYPERLINK" in cell.value]
        assert cells and all(cell.data_type == "s" for cell in cells)
        rows = actions.page_rows(_request(0, 50), "?text=hyperlink", "zh")
        assert rows["rowCount"] >= 1 and all("\\(" in r["target_name"] or "HYPERLINK" not in r["target_name"]
                                             for r in rows["rowData"])
    assert len(ent)


def test_the_blacklist_from_the_object_page_is_a_city_step_and_a_stale_removal_is_refused(as_user):
    from dashboard.ledger import enforcement

    with as_user("admin", "/object") as store:
        ent = store.read("enterprises", columns=["id", "district_code"])
        black = store.read("blacklist", columns=["target_id", "removed"])
        eid = next(e for e in ent["id"].astype(str) if e not in set(black["target_id"].astype(str)))
        section = str(enforcement.section("enterprises", eid, "zh"))
        assert "obj-bl-add" in section and "obj-bl-remove" not in section
        before = store.count("blacklist"), store.count("audit_log")
        # a basis that is not this enterprise's is refused and writes nothing
        other_order = store.read("orders", columns=["id", "target_id"])
        other_order = other_order[other_order["target_id"].astype(str) != eid]
        msg, _ = enforcement.blacklist(True, "拒不整改", f"order:{other_order['id'].iloc[0]}", "2026-11-30", None,
                                       None, None, {"layer": "enterprises", "id": eid}, "zh")
        assert "calm-error" in str(msg) and (store.count("blacklist"), store.count("audit_log")) == before
        with store.transaction() as tx:
            tx.append("accidents", __import__("pandas").DataFrame({
                "id": ["ACC-T1"], "enterprise_id": [eid], "date": ["2026-10-01"], "kind": ["fire"], "deaths": [1]}))
        msg, body = enforcement.blacklist(True, "发生亡人事故", "accident:ACC-T1", "2026-11-30", None, None, None,
                                          {"layer": "enterprises", "id": eid}, "zh")
        assert "ok-message" in str(msg), msg
        assert "obj-bl-remove" in str(body) and "发生亡人事故" in str(body)
        entry = store.read("blacklist", where={"target_id": eid}).iloc[0]
        # a removal made on an older version of the entry is refused; the right one works
        stale = {"id": str(entry["id"]), "version": int(entry["version"] or 0) + 5}
        msg, _ = enforcement.blacklist(False, None, None, None, None, "已整改", stale,
                                       {"layer": "enterprises", "id": eid}, "zh")
        assert "calm-error" in str(msg)
        fresh = {"id": str(entry["id"]), "version": int(entry["version"] or 0)}
        msg, body = enforcement.blacklist(False, None, None, None, None, "已整改到位", fresh,
                                          {"layer": "enterprises", "id": eid}, "zh")
        assert "ok-message" in str(msg) and "obj-bl-add" in str(body)
        district = str(ent.set_index("id").loc[eid, "district_code"])
    # a district leader sees the entry's state but no blacklist form, and a forged call is refused
    with as_user("d" + district, "/object"):
        assert "obj-bl-add" not in str(enforcement.section("enterprises", eid, "zh"))
        with pytest.raises(AccessDenied):
            enforcement.blacklist(True, "x", "accident:ACC-T1", "2026-11-30", None, None, None,
                                  {"layer": "enterprises", "id": eid}, "zh")


def test_the_object_page_names_a_repeat_offender_as_the_ledger_counts_it(as_user):
    from layers.analysis.summary import load_city

    with as_user("admin", "/object") as store:
        city = load_city(store)
        ent = city.objects["enterprises"]
        rep = ent[ent["repeat_offender"]]
        assert len(rep), "the demo city has repeat offenders"
        page = _page("object")
        body = str(page.detail_page("enterprises", str(rep["id"].iloc[0]), "zh"))
        assert 'id="object-repeat"' in body or "object-repeat" in body
        assert "屡查屡犯" in body
        calm = ent[~ent["repeat_offender"]]
        assert "object-repeat" not in str(page.detail_page("enterprises", str(calm["id"].iloc[0]), "zh"))


def test_the_ledger_counts_deadlines_from_the_same_date_as_the_map(as_user):
    from layers.analysis.summary import load_city

    with as_user("admin") as store:
        context.authorize("read")
        assert actions.as_of() == load_city(store).as_of.date()
