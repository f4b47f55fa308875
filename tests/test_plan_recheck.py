"""A suspended enterprise gets a re-check visit in the plan (resumption needs a passed check), not a routine one."""

from __future__ import annotations

from datetime import date

import pandas as pd

from layers.planning import routes as P
from layers.settings import Settings

AS_OF = date(2026, 11, 28)


def _suspend(store, eid: str, on: str, order_id: str = "O-T1") -> None:
    with store.transaction() as tx:
        tx.update("enterprises", [eid], {"status": "suspended"})
        tx.append("orders", pd.DataFrame({"id": [order_id], "target_layer": ["enterprises"], "target_id": [eid],
                                          "kind": ["suspend"], "doc_no": ["测试〔2026〕1号"], "date": [on]}))


def _operating_enterprise(store) -> str:
    ent = store.read("enterprises", columns=["id", "status"])
    return str(ent.loc[ent["status"].fillna("operating").eq("operating"), "id"].iloc[0])


def test_a_suspended_enterprise_is_a_recheck_at_the_top(writable_store):
    store, settings = writable_store, Settings()
    eid = _operating_enterprise(store)
    _suspend(store, eid, "2026-11-27")
    cands = P.candidates(store, as_of=AS_OF, settings=settings)
    key = f"enterprises:{eid}"
    row = cands[cands["key"] == key]
    assert len(row) == 1 and row["source"].iloc[0] == "recheck"
    assert cands["source"].iloc[0] == "recheck"
    assert cands["priority"].iloc[0] > cands.loc[cands["source"] != "recheck", "priority"].max()


def test_a_suspension_already_rechecked_is_not_asked_again(writable_store):
    store, settings = writable_store, Settings()
    eid = _operating_enterprise(store)
    _suspend(store, eid, "2026-10-01")
    with store.transaction() as tx:
        tx.append("inspections", pd.DataFrame({"id": ["I-RE1"], "target_layer": ["enterprises"], "target_id": [eid],
                                               "date": ["2026-10-20"], "result": ["hazards_found"]}))
    assert f"enterprises:{eid}" not in P.awaiting_recheck(store, as_of=AS_OF)
    cands = P.candidates(store, as_of=AS_OF, settings=settings)
    assert not (cands["key"].eq(f"enterprises:{eid}") & cands["source"].eq("recheck")).any()


def test_suspended_without_an_order_on_file_needs_a_recheck(writable_store):
    store = writable_store
    eid = _operating_enterprise(store)
    with store.transaction() as tx:
        tx.update("enterprises", [eid], {"status": "suspended"})
    assert f"enterprises:{eid}" in P.awaiting_recheck(store, as_of=AS_OF)


def test_an_inspection_after_as_of_does_not_count(writable_store):
    store = writable_store
    eid = _operating_enterprise(store)
    _suspend(store, eid, "2026-11-01")
    with store.transaction() as tx:
        tx.append("inspections", pd.DataFrame({"id": ["I-RE2"], "target_layer": ["enterprises"], "target_id": [eid],
                                               "date": ["2026-12-05"], "result": ["pass"]}))
    assert f"enterprises:{eid}" in P.awaiting_recheck(store, as_of=AS_OF)
    assert f"enterprises:{eid}" not in P.awaiting_recheck(store, as_of=date(2026, 12, 6))
