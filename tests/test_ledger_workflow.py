"""The hazard workflow on a real GeoPackage: allowed and refused steps, audit rows, versions, access."""

from __future__ import annotations

import sqlite3
from datetime import date

import pandas as pd
import pytest

from layers.access.policy import Principal
from layers.errors import AccessDenied, ActionDenied, EditConflict, StepRefused, StoreError
from layers.ledger import (
    STEPS,
    allowed_steps,
    apply_step,
    five_elements,
    history,
    missing_elements,
    register_hazards,
)
from layers.store import open_store

TODAY = date(2025, 6, 30)
ADMIN = Principal(id="admin", role="admin")
COMMAND = Principal(id="cmd", role="command")
FULL = {"responsible_person": "张伟", "measures": "更换老化电缆", "funds": 2.5, "deadline": "2025-07-30",
        "plan_ref": "YA-2025-017"}


def _enterprises(store) -> pd.DataFrame:
    e = store.read("enterprises", columns=["id", "district_code", "town_code"])
    return e.dropna(subset=["district_code", "town_code"]).reset_index(drop=True)


def _two_districts(store) -> tuple[pd.Series, pd.Series]:
    e = _enterprises(store)
    a = e.iloc[0]
    b = e[e["district_code"] != a["district_code"]].iloc[0]
    return a, b


def _register(store, ent: pd.Series, **extra) -> str:
    row = {"target_layer": "enterprises", "target_id": ent["id"], "type": "电气线路老化", "level": "general",
           "description": "配电箱电缆老化", "found_date": "2025-06-01", "deadline": "2025-07-01", **extra}
    return register_hazards(store, ADMIN, pd.DataFrame([row]), today=TODAY)[0]


def _hazard(store, hid: str) -> dict:
    return store.read("hazards", ids=[hid]).iloc[0].to_dict()


def _audit_count(store) -> int:
    return store.count("audit_log")


@pytest.fixture
def store(writable_store):
    return writable_store


def test_register_creates_open_hazards_at_version_0_with_their_audit(store):
    ent = _enterprises(store).iloc[3]
    before = _audit_count(store)
    hid = _register(store, ent, responsible_person="李娜", funds="3.5")
    h = _hazard(store, hid)
    assert hid.startswith("H") and h["status"] == "open" and h["version"] == 0
    assert h["district_code"] == ent["district_code"]  # from the target, not from the caller
    assert h["resp_in_place"] and h["funds_in_place"] and not h["plan_in_place"]  # flags follow the details
    assert h["funds"] == 3.5 and h["geometry"] is not None
    rows = history(store, "hazards", hid)
    assert set(rows["action"]) == {"register"} and len(rows) == _audit_count(store) - before
    assert {"status", "target_id", "responsible_person", "funds"} <= set(rows["field"])
    assert rows.loc[rows["field"] == "funds", "new_value"].item() == "3.5"


def test_register_refuses_bad_rows_and_writes_nothing(store):
    a, b = _two_districts(store)
    n, audit = store.count("hazards"), _audit_count(store)
    base = {"target_layer": "enterprises", "target_id": a["id"], "level": "general", "found_date": "2025-06-01"}
    district_a = Principal(id="lead-a", role="district", district=a["district_code"])
    cases = [
        ({**base, "found_date": "2025-07-05"}, StepRefused, "today"),           # found in the future
        ({**base, "deadline": "2025-05-01"}, StepRefused, "before the found date"),
        ({**base, "level": "huge"}, StepRefused, "level"),
        ({**base, "funds": -1}, StepRefused, "not below 0"),
        ({**base, "found_date": "2025-02-30"}, StepRefused, "not a valid date"),
        ({**base, "description": "x" * 2001}, StepRefused, "too long"),
        ({**base, "target_id": "NO-SUCH"}, AccessDenied, "unknown"),
        ({**base, "status": "closed"}, StepRefused, "cannot set"),
    ]
    for row, exc, text in cases:
        with pytest.raises(exc, match=text):
            register_hazards(store, ADMIN, pd.DataFrame([row]), today=TODAY)
    # a district leader cannot register a hazard on another district's enterprise (whatever the row says)
    with pytest.raises(AccessDenied):
        register_hazards(store, district_a, pd.DataFrame([{**base, "target_id": b["id"]}]), today=TODAY)
    # one bad row: none of the rows is written
    with pytest.raises(StepRefused, match="row 2"):
        register_hazards(store, ADMIN, pd.DataFrame([base, {**base, "level": None}]), today=TODAY)
    assert store.count("hazards") == n and _audit_count(store) == audit
    assert register_hazards(store, district_a, pd.DataFrame([base]), today=TODAY)[0].startswith("H")


def test_register_from_an_inspection_links_it_and_takes_its_target(store):
    ins = store.read("inspections", columns=["id", "target_layer", "target_id", "date"]).iloc[5]
    ids = register_hazards(store, ADMIN, pd.DataFrame([{"level": "major", "type": "消防通道堵塞"},
                                                      {"level": "general", "type": "灭火器过期"}]),
                           today=date(2027, 1, 1), inspection_id=ins["id"])
    assert len(ids) == 2 and len(set(ids)) == 2
    hz = store.read("hazards", ids=ids)
    assert (hz["inspection_id"] == ins["id"]).all() and (hz["target_id"] == ins["target_id"]).all()
    assert (hz["found_date"] == ins["date"]).all()
    other = store.read("enterprises", columns=["id"]).iloc[-1]["id"]
    with pytest.raises(StepRefused, match="not the target of inspection"):
        register_hazards(store, ADMIN, pd.DataFrame([{"level": "general", "target_layer": "enterprises",
                                                      "target_id": other}]),
                         today=date(2027, 1, 1), inspection_id=ins["id"])
    with pytest.raises(StepRefused, match="does not exist"):
        register_hazards(store, ADMIN, pd.DataFrame([{"level": "general"}]), today=TODAY, inspection_id="NOPE")


def test_a_hazard_walks_from_open_to_closed_with_an_audit_row_per_change(store):
    ent = _enterprises(store).iloc[0]
    hid = _register(store, ent)
    v = apply_step(store, ADMIN, hid, "start", FULL, 0, today=TODAY)
    assert v == 1 and _hazard(store, hid)["status"] == "rectifying"
    assert missing_elements(_hazard(store, hid)) == []
    v = apply_step(store, ADMIN, hid, "submit", {}, v, today=TODAY)
    v = apply_step(store, ADMIN, hid, "reject", {"reject_reason": "电缆未穿管"}, v, today=TODAY)
    assert _hazard(store, hid)["status"] == "rejected"
    v = apply_step(store, ADMIN, hid, "submit", {"note": "已穿管"}, v, today=TODAY)
    v = apply_step(store, ADMIN, hid, "close", {"checker": "王强", "check_date": "2025-06-28",
                                                "evidence": "现场复核合格"}, v, today=TODAY)
    h = _hazard(store, hid)
    assert v == 5 and h["version"] == 5 and h["status"] == "closed"
    assert h["closed_date"] == pd.Timestamp("2025-06-28") and h["checker"] == "王强"
    assert h["updated_by"] == "admin" and not pd.isna(h["updated_at"])

    rows = history(store, "hazards", hid)
    steps = rows[rows["action"] != "register"]
    assert list(dict.fromkeys(steps["action"])) == ["start", "submit", "reject", "close"]
    status = steps[steps["field"] == "status"]
    assert list(zip(status["old_value"], status["new_value"], strict=True)) == [
        ("open", "rectifying"), ("rectifying", "awaiting_check"), ("awaiting_check", "rejected"),
        ("rejected", "awaiting_check"), ("awaiting_check", "closed")]
    close = steps[steps["action"] == "close"].set_index("field")
    assert set(close.index) == {"status", "checker", "check_date", "evidence", "closed_date"}
    assert close.loc["check_date", "new_value"] == "2025-06-28" and close.loc["checker", "old_value"] is None
    assert set(steps["user_id"]) == {"admin"}
    assert (steps.loc[steps["action"] == "submit", "note"].dropna() == "已穿管").any()
    start = steps[steps["action"] == "start"].set_index("field")
    assert start.loc["funds", "new_value"] == "2.5" and start.loc["measures", "new_value"] == "更换老化电缆"


@pytest.mark.parametrize(("status_steps", "step", "values", "match"), [
    ([], "close", {"checker": "王强", "check_date": "2025-06-28", "evidence": "合格"}, "skips a step"),
    ([], "submit", {}, "skips a step"),
    ([], "reject", {"reject_reason": "x"}, "skips a step"),
    (["start"], "close", {"checker": "王强", "check_date": "2025-06-28", "evidence": "合格"}, "skips a step"),
    (["start"], "start", {}, "cannot start"),
    (["start", "submit"], "submit", {}, "cannot submit"),
    (["start", "submit"], "close", {"checker": "王强", "evidence": "合格"}, "needs the field \"check_date\""),
    (["start", "submit"], "close", {"checker": "王强", "check_date": "2025-07-01", "evidence": "合格"},
     "after today"),
    (["start", "submit"], "close", {"checker": "王强", "check_date": "2025-05-01", "evidence": "合格"},
     "before the found date"),
    (["start", "submit"], "close", {"checker": "王强", "check_date": "2025-06-20", "evidence": " "},
     "needs the field \"evidence\""),
    (["start", "submit"], "reject", {}, "needs the field \"reject_reason\""),
    (["start", "submit", "close"], "edit", {"measures": "再改"}, "cannot edit"),
    (["start", "submit", "close"], "submit", {}, "cannot submit"),
    ([], "edit", {"status": "closed"}, "cannot set"),
    ([], "edit", {"funds": "many"}, "not a number"),
    ([], "edit", {"deadline": "2025-05-01"}, "before the found date"),
    ([], "edit", {"measures": "m" * 2001}, "too long"),
    ([], "edit", {}, "nothing to change"),
    ([], "fly", {}, "no step"),
    ([], "register", {}, "no step"),
])
def test_refused_steps_write_nothing(store, status_steps, step, values, match):
    hid = _register(store, _enterprises(store).iloc[1])
    v = 0
    walk = {"start": FULL, "submit": {}, "close": {"checker": "王强", "check_date": "2025-06-20", "evidence": "合格"}}
    for s in status_steps:
        v = apply_step(store, ADMIN, hid, s, walk[s], v, today=TODAY)
    before, audit = _hazard(store, hid), _audit_count(store)
    with pytest.raises(StepRefused, match=match) as err:
        apply_step(store, ADMIN, hid, step, values, v, today=TODAY)
    text = str(err.value)
    assert "(" in text and any("\u4e00" <= ch <= "\u9fff" for ch in text.split("(")[0])  # 中文 (English)
    after = _hazard(store, hid)
    assert after["version"] == before["version"] == v and after["status"] == before["status"]
    assert _audit_count(store) == audit


def test_open_to_closed_says_it_skips_a_step_in_both_languages(store):
    hid = _register(store, _enterprises(store).iloc[1])
    with pytest.raises(StepRefused) as err:
        apply_step(store, ADMIN, hid, "close", {"checker": "a", "check_date": "2025-06-01", "evidence": "b"}, 0,
                   today=TODAY)
    assert "跳过了步骤" in str(err.value) and "skips a step" in str(err.value)


def test_start_needs_the_five_elements_or_a_note_naming_the_missing_ones(store):
    hid = _register(store, _enterprises(store).iloc[2], responsible_person="赵敏", deadline="2025-07-15")
    assert missing_elements(_hazard(store, hid)) == ["measures_in_place", "funds_in_place", "plan_in_place"]
    audit = _audit_count(store)
    with pytest.raises(StepRefused, match="missing: Measures, Funds, Contingency plan"):
        apply_step(store, ADMIN, hid, "start", {}, 0, today=TODAY)
    with pytest.raises(StepRefused, match="missing: Funds, Contingency plan"):
        apply_step(store, ADMIN, hid, "start", {"measures": "加装护栏"}, 0, today=TODAY)
    assert _audit_count(store) == audit and _hazard(store, hid)["version"] == 0
    v = apply_step(store, ADMIN, hid, "start", {"measures": "加装护栏", "missing_note": "资金待区财政审批，预案编制中"},
                   0, today=TODAY)
    rows = history(store, "hazards", hid)
    note = rows.loc[rows["action"] == "start", "note"].iloc[0]
    assert "资金到位" in note and "预案到位" in note and "资金待区财政审批" in note and "Funds" in note
    assert v == 1 and missing_elements(_hazard(store, hid)) == ["funds_in_place", "plan_in_place"]


def test_an_edit_moves_the_five_flags_with_their_details(store):
    hid = _register(store, _enterprises(store).iloc[2])
    v = apply_step(store, ADMIN, hid, "edit", {"funds": "12.5", "plan_ref": "  YA-9  "}, 0, today=TODAY)
    h = _hazard(store, hid)
    assert h["funds"] == 12.5 and h["funds_in_place"] and h["plan_ref"] == "YA-9" and h["plan_in_place"]
    rows = history(store, "hazards", hid)
    edit = rows[rows["action"] == "edit"]
    assert set(edit["field"]) == {"funds", "funds_in_place", "plan_ref", "plan_in_place"}
    assert edit.set_index("field").loc["funds_in_place", "old_value"] == "false"
    v = apply_step(store, ADMIN, hid, "edit", {"plan_ref": ""}, v, today=TODAY)  # cleared: out of place again
    assert not _hazard(store, hid)["plan_in_place"] and v == 2
    five = five_elements(_hazard(store, hid))
    assert five["funds_in_place"] == {"present": True, "detail": "12.5"}
    assert five["plan_in_place"] == {"present": False, "detail": None}
    # a flag given as true counts even without its detail (an imported 是)
    apply_step(store, ADMIN, hid, "edit", {"plan_in_place": "是"}, v, today=TODAY)
    assert five_elements(_hazard(store, hid))["plan_in_place"]["present"]


def test_listed_supervision_is_for_major_hazards_and_city_users(store):
    ent = _enterprises(store).iloc[4]
    major = _register(store, ent, level="major")
    general = _register(store, ent)
    listing = {"listed_office": "市安委办", "listed_deadline": "2025-09-30", "listed_condition": "完成整改并验收"}
    district = Principal(id="lead", role="district", district=ent["district_code"])
    with pytest.raises(ActionDenied):
        apply_step(store, district, major, "list", listing, 0, today=TODAY)
    with pytest.raises(StepRefused, match="only major hazards"):
        apply_step(store, COMMAND, general, "list", listing, 0, today=TODAY)
    with pytest.raises(StepRefused, match="listed_condition"):
        apply_step(store, COMMAND, major, "list", {**listing, "listed_condition": None}, 0, today=TODAY)
    with pytest.raises(StepRefused, match="not under listed supervision"):
        apply_step(store, COMMAND, major, "unlist", {}, 0, today=TODAY)
    v = apply_step(store, COMMAND, major, "list", listing, 0, today=TODAY)
    h = _hazard(store, major)
    assert h["listed"] and h["listed_office"] == "市安委办" and h["listed_deadline"] == pd.Timestamp("2025-09-30")
    with pytest.raises(StepRefused, match="lift it before"):
        apply_step(store, ADMIN, major, "edit", {"level": "general"}, v, today=TODAY)
    assert allowed_steps({**h, "version": v}, COMMAND) == ["unlist"]
    v = apply_step(store, COMMAND, major, "unlist", {"note": "已摘牌"}, v, today=TODAY)
    assert not _hazard(store, major)["listed"] and v == 2
    assert list(history(store, "hazards", major)["action"].drop_duplicates()) == ["register", "list", "unlist"]


def test_a_stale_version_is_refused_and_keeps_the_first_save(store):
    hid = _register(store, _enterprises(store).iloc[0])
    apply_step(store, ADMIN, hid, "edit", {"measures": "第一人的措施"}, 0, today=TODAY)
    audit = _audit_count(store)
    with pytest.raises(EditConflict, match="version 0.*version 1"):
        apply_step(store, ADMIN, hid, "edit", {"measures": "第二人的措施"}, 0, today=TODAY)
    assert _hazard(store, hid)["measures"] == "第一人的措施" and _audit_count(store) == audit


def test_two_connections_editing_the_same_hazard_lose_nothing(store):
    """Two users, each with their own store object on the same file, open version 0 and both save."""
    hid = _register(store, _enterprises(store).iloc[0])
    first, second = open_store(store.url, create=False), open_store(store.url, create=False)
    v_first = int(first.read("hazards", columns=["version"], ids=[hid])["version"].iloc[0])
    v_second = int(second.read("hazards", columns=["version"], ids=[hid])["version"].iloc[0])
    assert v_first == v_second == 0
    assert apply_step(first, ADMIN, hid, "edit", {"measures": "甲：加装防护栏", "funds": 3}, v_first,
                      today=TODAY) == 1
    audit = _audit_count(second)
    with pytest.raises(EditConflict) as err:
        apply_step(second, Principal(id="other", role="admin"), hid, "edit", {"measures": "乙：拆除设备"}, v_second,
                   today=TODAY)
    assert "已被他人修改" in str(err.value) and "changed by someone else" in str(err.value)
    h = _hazard(store, hid)
    assert h["measures"] == "甲：加装防护栏" and h["funds"] == 3 and h["version"] == 1
    assert _audit_count(second) == audit
    edits = history(store, "hazards", hid)
    assert set(edits.loc[edits["action"] == "edit", "user_id"]) == {"admin"}
    # the second user reopens the hazard and saves on top of the first
    assert apply_step(second, Principal(id="other", role="admin"), hid, "edit", {"measures": "乙：拆除设备"}, 1,
                      today=TODAY) == 2
    edits = history(store, "hazards", hid)
    row = edits[(edits["user_id"] == "other") & (edits["field"] == "measures")].iloc[0]
    assert row["old_value"] == "甲：加装防护栏" and row["new_value"] == "乙：拆除设备"


def test_a_district_user_cannot_step_another_districts_hazard(store):
    a, b = _two_districts(store)
    hid = _register(store, b)
    lead_a = Principal(id="lead-a", role="district", district=a["district_code"])
    # even when the hazard's own district code is forged to the user's district, the target decides
    with store.transaction() as tx:
        tx.update("hazards", [hid], {"district_code": a["district_code"]})
    audit = _audit_count(store)
    for step, values in (("start", {**FULL, "district_code": a["district_code"]}), ("start", FULL),
                         ("edit", {"measures": "x"})):
        with pytest.raises(AccessDenied):
            apply_step(store, lead_a, hid, step, values, 0, today=TODAY)
    assert _hazard(store, hid)["status"] == "open" and _audit_count(store) == audit
    assert allowed_steps({"status": "open", "district_code": b["district_code"], "town_code": b["town_code"]},
                         lead_a) == []
    # their own district's hazard they may step; the district in values is not a field of any step
    mine = _register(store, a)
    with pytest.raises(StepRefused, match="cannot set"):
        apply_step(store, lead_a, mine, "start", {**FULL, "district_code": a["district_code"]}, 0, today=TODAY)
    assert apply_step(store, lead_a, mine, "start", FULL, 0, today=TODAY) == 1


def test_a_town_user_steps_only_their_towns_hazards(store):
    e = _enterprises(store)
    a = e.iloc[0]
    same_district_other_town = e[(e["district_code"] == a["district_code"]) & (e["town_code"] != a["town_code"])]
    town = Principal(id="town-a", role="town", district=a["district_code"], town=a["town_code"])
    assert apply_step(store, town, _register(store, a), "start", FULL, 0, today=TODAY) == 1
    if len(same_district_other_town):
        with pytest.raises(AccessDenied):
            apply_step(store, town, _register(store, same_district_other_town.iloc[0]), "start", FULL, 0,
                       today=TODAY)
    with pytest.raises(ActionDenied):  # listed supervision is the city's
        apply_step(store, town, _register(store, a, level="major"), "list",
                   {"listed_office": "x", "listed_deadline": "2025-08-01", "listed_condition": "y"}, 0, today=TODAY)
    with pytest.raises(AccessDenied):
        apply_step(store, None, _register(store, a), "start", FULL, 0, today=TODAY)
    with pytest.raises(ActionDenied):
        apply_step(store, Principal(id="p", role="planner"), _register(store, a), "start", FULL, 0, today=TODAY)


def test_allowed_steps_follow_the_state_and_the_role():
    district = Principal(id="d", role="district", district="D1")
    assert allowed_steps({"status": "open", "level": "general"}, ADMIN) == ["start", "edit"]
    assert allowed_steps({"status": "awaiting_check", "level": "major"}, ADMIN) == ["close", "reject", "edit",
                                                                                    "list"]
    assert allowed_steps({"status": "awaiting_check", "level": "major"}, district) == ["close", "reject", "edit"]
    assert allowed_steps({"status": "rejected", "level": "general"}, district) == ["submit", "edit"]
    assert allowed_steps({"status": "closed", "level": "major", "listed": True}, COMMAND) == ["unlist"]
    assert allowed_steps({"status": "closed", "level": "general"}, ADMIN) == []
    assert allowed_steps({"status": "open", "district_code": "D2"}, district) == []
    assert allowed_steps({"status": "open", "district_code": "D1"}, district) == ["start", "edit"]
    assert allowed_steps({"status": "open"}, Principal(id="w", role="wall")) == []
    assert allowed_steps({"status": "open"}, None) == []
    assert set(STEPS) == {"register", "start", "submit", "close", "reject", "edit", "list", "unlist"}
    assert STEPS["close"].from_states == ("awaiting_check",) and STEPS["close"].to_state == "closed"


def test_the_audit_log_cannot_be_edited_or_deleted(store):
    hid = _register(store, _enterprises(store).iloc[0])
    rows = history(store, "hazards", hid)
    n = _audit_count(store)
    with pytest.raises(StoreError, match="append-only"):
        with store.transaction() as tx:
            tx.update("audit_log", [rows["id"].iloc[0]], {"new_value": "forged"})
    with pytest.raises(StoreError, match="append-only"):
        with store.transaction() as tx:
            tx.delete("audit_log", rows["id"].tolist())
    con = sqlite3.connect(store.url)  # not even through the file itself, past the store's code
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("UPDATE audit_log SET new_value = 'forged'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("DELETE FROM audit_log")
    finally:
        con.close()
    assert _audit_count(store) == n and history(store, "hazards", hid)["new_value"].tolist() == \
        rows["new_value"].tolist()


def test_hazards_found_by_a_visit_are_written_in_the_visits_own_transaction(store):
    ent = _enterprises(store).iloc[0]
    visit = {"id": "VISIT-1", "target_layer": "enterprises", "target_id": ent["id"], "date": date(2025, 6, 20)}
    planner = Principal(id="planner", role="planner")
    found = pd.DataFrame([{"level": "general", "type": "消防通道堵塞", "description": "堆放杂物"}])
    n, audit = store.count("hazards"), _audit_count(store)
    with pytest.raises(RuntimeError):  # the visit fails after the hazards were added: none of it is kept
        with store.transaction() as tx:
            tx.append("inspections", pd.DataFrame([{**visit, "date": "2025-06-20", "result": "hazards_found"}]))
            register_hazards(store, planner, found, today=TODAY, inspection=visit, tx=tx)
            raise RuntimeError("the completion failed")
    assert store.count("hazards") == n and _audit_count(store) == audit
    with store.transaction() as tx:
        tx.append("inspections", pd.DataFrame([{**visit, "date": "2025-06-20", "result": "hazards_found"}]))
        ids = register_hazards(store, planner, found, today=TODAY, inspection=visit, tx=tx)
    h = _hazard(store, ids[0])
    assert h["inspection_id"] == "VISIT-1" and h["found_date"] == pd.Timestamp("2025-06-20")
    assert h["status"] == "open" and len(history(store, "hazards", ids[0])) > 0
    with pytest.raises(ActionDenied):  # without a visit, registering is a hazard edit, not a planner's
        register_hazards(store, planner, found.assign(target_layer="enterprises", target_id=ent["id"],
                                                      found_date="2025-06-20"), today=TODAY)
