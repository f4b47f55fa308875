"""Enforcement orders and the blacklist on a real GeoPackage: suspend, resume only after a passed check, close."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from layers.access.policy import Principal
from layers.errors import AccessDenied, ActionDenied, EditConflict, StepRefused
from layers.ledger import (
    blacklist_active,
    blacklist_add,
    blacklist_export_rows,
    blacklist_remove,
    enterprise_state,
    history,
    issue_order,
)
from layers.ledger.enforcement import state_label

ADMIN = Principal(id="admin", role="admin")
COMMAND = Principal(id="cmd", role="command")


@pytest.fixture
def store(writable_store):
    return writable_store


def _free_enterprises(store) -> pd.DataFrame:
    """Operating enterprises without any order yet."""
    e = store.read("enterprises", columns=["id", "district_code", "town_code", "status", "name"])
    taken = set(store.read("orders", columns=["target_id"])["target_id"])
    e = e[(e["status"].fillna("operating") == "operating") & ~e["id"].isin(taken)]
    return e.dropna(subset=["district_code"]).reset_index(drop=True)


def _inspection(store, ent_id: str, day: str, result: str) -> str:
    iid = f"T-{ent_id}-{day}-{result}"
    with store.transaction() as tx:
        tx.append("inspections", pd.DataFrame([{"id": iid, "target_layer": "enterprises", "target_id": ent_id,
                                                "date": day, "result": result}]))
    return iid


def _status(store, ent_id: str) -> str:
    return store.read("enterprises", columns=["status"], ids=[ent_id])["status"].iloc[0]


def _suspend(store, ent_id: str, doc: str = "停字〔2025〕1号", day: str = "2025-03-01", who=ADMIN) -> str:
    return issue_order(store, who, "enterprises", ent_id, "suspend", doc_no=doc, date=day,
                       reason="重大事故隐患逾期未整改")


def test_suspension_sets_the_status_and_is_audited(store):
    ent = _free_enterprises(store).iloc[0]
    hz = store.read("hazards", columns=["id"], where={"target_id": ent["id"]})["id"].tolist()[:2]
    before = store.count("audit_log")
    oid = issue_order(store, ADMIN, "enterprises", ent["id"], "suspend", doc_no=" 停字〔2025〕7号 ", date="2025-03-01",
                      reason="重大事故隐患逾期未整改", hazard_ids=hz)
    assert _status(store, ent["id"]) == "suspended"
    order = store.read("orders", ids=[oid]).iloc[0]
    assert order["doc_no"] == "停字〔2025〕7号" and order["issued_by"] == "admin" and order["kind"] == "suspend"
    assert (order["hazard_ids"] or "") == ",".join(hz)
    status_rows = history(store, "enterprises", ent["id"])
    assert status_rows[["field", "old_value", "new_value"]].values.tolist() == [["status", "operating", "suspended"]]
    order_rows = history(store, "orders", oid)
    assert {"kind", "doc_no", "date", "reason"} <= set(order_rows["field"])
    assert store.count("audit_log") == before + len(status_rows) + len(order_rows)
    state = enterprise_state(store, date(2025, 3, 1))
    row = state[state["target_id"] == ent["id"]].iloc[0]
    assert row["state"] == "suspended" and row["order_id"] == oid and row["since"] == pd.Timestamp("2025-03-01")
    assert ent["id"] not in set(enterprise_state(store, date(2025, 2, 28))["target_id"])
    assert state_label("suspended") == "停产整顿中" and state_label("suspended", "en") == "suspended"


def test_resumption_is_refused_without_a_passed_check_after_the_suspension(store):
    ent = _free_enterprises(store).iloc[1]["id"]
    _suspend(store, ent)
    early = _inspection(store, ent, "2025-02-20", "pass")      # before the suspension
    failed = _inspection(store, ent, "2025-03-10", "hazards_found")
    other = _inspection(store, _free_enterprises(store).iloc[5]["id"], "2025-03-12", "pass")
    audit = store.count("audit_log")
    cases = [(None, "needs a passed check"), (early, "before the suspension"), (failed, "did not pass"),
             (other, "not of this target"), ("NO-SUCH", "does not exist")]
    for check, text in cases:
        with pytest.raises(StepRefused, match=text):
            issue_order(store, ADMIN, "enterprises", ent, "resume", doc_no="复字〔2025〕1号", date="2025-03-20",
                        reason="整改完成", check_id=check)
    passed = _inspection(store, ent, "2025-03-15", "pass")
    with pytest.raises(StepRefused, match="before the check"):
        issue_order(store, ADMIN, "enterprises", ent, "resume", doc_no="复字〔2025〕1号", date="2025-03-14",
                    reason="整改完成", check_id=passed)
    assert _status(store, ent) == "suspended" and store.count("audit_log") == audit
    assert len(store.read("orders", where={"target_id": ent, "kind": "resume"})) == 0

    oid = issue_order(store, ADMIN, "enterprises", ent, "resume", doc_no="复字〔2025〕1号", date="2025-03-20",
                      reason="整改完成，验收合格", check_id=passed)
    assert _status(store, ent) == "operating"
    assert store.read("orders", ids=[oid])["check_id"].iloc[0] == passed
    assert ent not in set(enterprise_state(store, date(2025, 4, 1))["target_id"])
    assert ent in set(enterprise_state(store, date(2025, 3, 19))["target_id"])  # as of before the resumption
    with pytest.raises(StepRefused, match="not suspended"):
        issue_order(store, ADMIN, "enterprises", ent, "resume", doc_no="复字〔2025〕2号", date="2025-04-01",
                    reason="x", check_id=passed)


def test_a_closed_enterprise_is_neither_suspended_nor_resumed(store):
    ent = _free_enterprises(store).iloc[2]["id"]
    _suspend(store, ent)
    with pytest.raises(StepRefused, match="ground"):
        issue_order(store, ADMIN, "enterprises", ent, "close", doc_no="关字〔2025〕1号", date="2025-04-01",
                    reason="复查仍不合格")
    oid = issue_order(store, ADMIN, "enterprises", ent, "close", doc_no="关字〔2025〕1号", date="2025-04-01",
                      reason="复查仍不合格", ground="failed_recheck")
    assert _status(store, ent) == "closed"
    passed = _inspection(store, ent, "2025-04-05", "pass")
    audit = store.count("audit_log")
    with pytest.raises(StepRefused, match="is closed"):
        issue_order(store, ADMIN, "enterprises", ent, "resume", doc_no="复字〔2025〕9号", date="2025-04-10",
                    reason="x", check_id=passed)
    with pytest.raises(StepRefused, match="is closed"):
        _suspend(store, ent, doc="停字〔2025〕9号", day="2025-04-10")
    with pytest.raises(StepRefused, match="is closed"):
        issue_order(store, ADMIN, "enterprises", ent, "close", doc_no="关字〔2025〕2号", date="2025-04-10",
                    reason="x", ground="illegal")
    assert store.count("audit_log") == audit and _status(store, ent) == "closed"
    row = enterprise_state(store, date(2025, 5, 1)).set_index("target_id").loc[ent]
    assert row["state"] == "closed" and row["order_id"] == oid and row["doc_no"] == "关字〔2025〕1号"


def test_orders_need_a_unique_document_number_a_date_in_sequence_and_a_reason(store):
    free = _free_enterprises(store)
    a, b = free.iloc[3]["id"], free.iloc[4]["id"]
    _suspend(store, a, doc="停字〔2025〕3号", day="2025-03-01")
    audit = store.count("audit_log")
    with pytest.raises(StepRefused, match="already used"):
        _suspend(store, b, doc="停字〔2025〕3号")
    with pytest.raises(StepRefused, match="already suspended"):
        _suspend(store, a, doc="停字〔2025〕4号", day="2025-03-05")
    with pytest.raises(StepRefused, match="doc_no"):
        _suspend(store, b, doc="  ")
    with pytest.raises(StepRefused, match="not a valid date"):
        _suspend(store, b, doc="停字〔2025〕5号", day="2025-13-01")
    with pytest.raises(StepRefused, match="reason"):
        issue_order(store, ADMIN, "enterprises", b, "suspend", doc_no="停字〔2025〕6号", date="2025-03-01", reason="")
    with pytest.raises(StepRefused, match="no order kind"):
        issue_order(store, ADMIN, "enterprises", b, "fine", doc_no="罚1", date="2025-03-01", reason="x")
    with pytest.raises(StepRefused, match="enterprises or venues"):
        issue_order(store, ADMIN, "bridges", b, "suspend", doc_no="停字〔2025〕6号", date="2025-03-01", reason="x")
    with pytest.raises(StepRefused, match="not of enterprises"):
        issue_order(store, ADMIN, "enterprises", b, "suspend", doc_no="停字〔2025〕6号", date="2025-03-01", reason="x",
                    hazard_ids="NO-SUCH-HAZARD")
    passed = _inspection(store, a, "2025-03-10", "pass")
    with pytest.raises(StepRefused, match="before the target's latest order"):
        issue_order(store, ADMIN, "enterprises", a, "resume", doc_no="复字〔2025〕3号", date="2025-02-01",
                    reason="x", check_id=passed)
    assert store.count("audit_log") == audit and _status(store, b) == "operating"
    # the same number for another kind of order is fine
    issue_order(store, ADMIN, "enterprises", a, "resume", doc_no="停字〔2025〕3号", date="2025-03-11", reason="x",
                check_id=passed)


def test_orders_are_given_only_in_the_users_own_district(store):
    free = _free_enterprises(store)
    a = free.iloc[0]
    b = free[free["district_code"] != a["district_code"]].iloc[0]
    lead_a = Principal(id="lead-a", role="district", district=a["district_code"])
    audit = store.count("audit_log")
    with pytest.raises(AccessDenied):
        _suspend(store, b["id"], who=lead_a)
    with pytest.raises(ActionDenied):  # a town leader gives no orders
        _suspend(store, a["id"], who=Principal(id="t", role="town", district=a["district_code"],
                                                town=a["town_code"]))
    with pytest.raises(ActionDenied):  # nor does the command centre (orders are the district's)
        _suspend(store, a["id"], who=COMMAND)
    with pytest.raises(AccessDenied):
        _suspend(store, "NO-SUCH", who=lead_a)
    assert store.count("audit_log") == audit and _status(store, b["id"]) == "operating"
    _suspend(store, a["id"], who=lead_a)
    assert _status(store, a["id"]) == "suspended"


def test_the_blacklist_adds_versioned_entries_and_removes_them_on_record(store):
    ent = _free_enterprises(store).iloc[6]
    oid = _suspend(store, ent["id"])
    other = _free_enterprises(store).iloc[7]["id"]
    audit = store.count("audit_log")
    with pytest.raises(ActionDenied):
        blacklist_add(store, Principal(id="d", role="district", district=ent["district_code"]), "enterprises",
                      ent["id"], reason="拒不整改", basis="order", basis_id=oid, start_date="2025-03-02")
    with pytest.raises(StepRefused, match="is not of"):
        blacklist_add(store, COMMAND, "enterprises", other, reason="拒不整改", basis="order", basis_id=oid,
                      start_date="2025-03-02")
    with pytest.raises(StepRefused, match="basis must be"):
        blacklist_add(store, COMMAND, "enterprises", ent["id"], reason="x", basis="rumour", basis_id=oid,
                      start_date="2025-03-02")
    with pytest.raises(StepRefused, match="before the start date"):
        blacklist_add(store, COMMAND, "enterprises", ent["id"], reason="x", basis="order", basis_id=oid,
                      start_date="2025-03-02", end_date="2025-03-01")
    assert store.count("audit_log") == audit
    assert len(store.read("blacklist", where={"target_id": ent["id"]})) == 0

    bid = blacklist_add(store, COMMAND, "enterprises", ent["id"], reason="重大隐患拒不整改", basis="order",
                        basis_id=oid, start_date="2025-03-02", end_date="2026-03-01")
    entry = store.read("blacklist", ids=[bid]).iloc[0]
    assert entry["version"] == 0 and not entry["removed"] and entry["added_by"] == "cmd"
    assert {"reason", "basis", "basis_id", "start_date", "end_date"} <= set(history(store, "blacklist", bid)["field"])
    with pytest.raises(StepRefused, match="already on the blacklist"):
        blacklist_add(store, COMMAND, "enterprises", ent["id"], reason="x", basis="order", basis_id=oid,
                      start_date="2025-03-05")
    assert bid in set(blacklist_active(store, date(2025, 6, 1))["id"])
    assert bid not in set(blacklist_active(store, date(2025, 3, 1))["id"])   # not yet
    assert bid not in set(blacklist_active(store, date(2026, 3, 2))["id"])   # over
    rows = blacklist_export_rows(store, COMMAND, as_of=date(2025, 6, 1))
    mine = rows[rows["对象编号"] == ent["id"]].iloc[0]
    assert mine["名称"] == ent["name"] and mine["列入依据"] == "执法指令" and mine["对象类型"] == "企业"
    assert "Unified social credit code" in blacklist_export_rows(store, ADMIN, as_of=date(2025, 6, 1), lang="en")
    with pytest.raises(ActionDenied):
        blacklist_export_rows(store, Principal(id="d", role="district", district="x"), as_of=date(2025, 6, 1))

    with pytest.raises(EditConflict):
        blacklist_remove(store, COMMAND, bid, 3, reason="整改到位")
    with pytest.raises(StepRefused, match="reason"):
        blacklist_remove(store, COMMAND, bid, 0, reason=" ")
    assert blacklist_remove(store, COMMAND, bid, 0, reason="整改到位，信用修复") == 1
    entry = store.read("blacklist", ids=[bid]).iloc[0]
    assert entry["removed"] and entry["version"] == 1  # kept on record
    assert bid not in set(blacklist_active(store, date(2025, 6, 1))["id"])
    removal = history(store, "blacklist", bid)
    removal = removal[removal["action"] == "blacklist.remove"].iloc[0]
    assert (removal["field"], removal["old_value"], removal["new_value"], removal["note"]) == \
        ("removed", "false", "true", "整改到位，信用修复")
    with pytest.raises(StepRefused, match="already removed"):
        blacklist_remove(store, COMMAND, bid, 1, reason="再移一次")


def test_the_blacklist_rests_on_an_accident_or_a_hazard_of_the_same_enterprise(store):
    listed = set(store.read("blacklist", columns=["basis_id"])["basis_id"])
    acc = store.read("accidents", columns=["id", "enterprise_id"]).dropna()
    acc = acc[~acc["id"].isin(listed)].iloc[0]
    bid = blacklist_add(store, ADMIN, "enterprises", acc["enterprise_id"], reason="发生较大事故", basis="accident",
                        basis_id=acc["id"], start_date="2025-01-01")
    assert store.read("blacklist", ids=[bid])["basis"].iloc[0] == "accident"
    hz = store.read("hazards", columns=["id", "target_layer", "target_id"], where={"target_layer": "enterprises"})
    h = hz[(hz["target_id"] != acc["enterprise_id"]) & ~hz["id"].isin(listed)].iloc[0]
    with pytest.raises(StepRefused, match="is not of"):
        blacklist_add(store, ADMIN, "enterprises", acc["enterprise_id"], reason="x", basis="hazard",
                      basis_id=h["id"], start_date="2025-01-01")
    blacklist_add(store, ADMIN, "enterprises", h["target_id"], reason="重大隐患拒不整改", basis="hazard",
                  basis_id=h["id"], start_date="2025-01-01")
