"""The demo city's hazard ledger: every state with its history, overdue buckets, listed supervision, orders,
blacklist, repeat offenders and responsibility lists, all consistent with each other and with AS_OF."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from layers.demo.city import AS_OF, generate_city
from layers.schema import FIVE_IN_PLACE, HAZARD_STATUS

ENTERPRISES = 800
A = pd.Timestamp(AS_OF)
DETAIL = {"resp_in_place": "responsible_person", "measures_in_place": "measures", "funds_in_place": "funds",
          "deadline_in_place": "deadline", "plan_in_place": "plan_ref"}


@pytest.fixture(scope="module")
def city() -> dict:
    return generate_city(enterprises=ENTERPRISES, seed=7)


def _days_left(hz: pd.DataFrame) -> pd.Series:
    return (hz["deadline"] - A).dt.days


def test_hazards_in_every_state_with_the_fields_each_needs(city):
    hz = city["hazards"]
    assert set(hz["status"]) == set(HAZARD_STATUS)
    for s in HAZARD_STATUS:
        assert (hz["status"] == s).sum() >= 5, s
    closed = hz[hz["status"] == "closed"]
    assert closed["checker"].notna().all() and closed["evidence"].notna().all()
    assert (closed["check_date"] == closed["closed_date"]).all() and closed["closed_date"].notna().all()
    assert (closed["closed_date"] >= closed["found_date"]).all() and (closed["closed_date"] <= A).all()
    not_closed = hz[hz["status"] != "closed"]
    assert not_closed[["checker", "check_date", "evidence", "closed_date"]].isna().all().all()
    assert hz.loc[hz["status"] == "rejected", "reject_reason"].notna().all()
    assert hz.loc[hz["status"].isin(["open", "rectifying"]), "reject_reason"].isna().all()


def test_the_five_elements_details_match_their_flags_and_some_are_missing(city):
    hz = city["hazards"]
    for flag, detail in DETAIL.items():
        present = hz[flag].to_numpy(dtype=bool)
        assert hz.loc[present, detail].notna().all(), flag
        assert hz.loc[~present, detail].isna().all(), flag
        assert (~present).any(), flag  # some hazard lacks it
    assert (hz["funds"].dropna() > 0).all() and hz["funds"].max() < 1000  # 10k yuan
    assert hz.loc[hz["level"] == "major", "funds"].median() > hz.loc[hz["level"] == "general", "funds"].median()
    # missing elements in every open state, and named when the hazard was started
    for s in ("open", "rectifying"):
        sub = hz[hz["status"] == s]
        assert (~sub[list(FIVE_IN_PLACE)].all(axis=1)).any(), s


def test_department_inspection_and_version(city):
    hz = city["hazards"]
    r = city["responsibilities"]
    lead = r[r["lead"]].set_index("target_id")["department_id"]
    expect = hz["target_id"].map(lead)
    assert (hz["department_id"].fillna("-") == expect.fillna("-")).all()
    assert hz["department_id"].notna().mean() > 0.9
    ins = city["inspections"].set_index("id")
    assert hz["inspection_id"].isin(ins.index).all()
    found_by = ins.loc[hz["inspection_id"]]
    assert (found_by["target_id"].to_numpy() == hz["target_id"].to_numpy()).all()
    assert (found_by["date"].to_numpy() == hz["found_date"].to_numpy()).all()
    assert (found_by["result"] == "hazards_found").all()
    assert (hz.loc[hz["status"] == "open", "version"] >= 0).all()
    assert hz["updated_at"].notna().all() and hz["updated_by"].notna().all()


def test_overdue_buckets_are_all_present(city):
    hz = city["hazards"]
    live = hz[hz["status"] != "closed"]
    left = _days_left(live)
    buckets = {"due_7": (left >= 0) & (left <= 7), "overdue_1_30": (left <= -1) & (left >= -30),
               "overdue_30_90": (left <= -31) & (left >= -90), "overdue_90": left < -90}
    for name, mask in buckets.items():
        assert mask.sum() >= 3, name
    assert (hz["deadline"].dropna() >= hz.loc[hz["deadline"].notna(), "found_date"]).all()


def test_major_hazards_some_under_listed_supervision(city):
    hz = city["hazards"]
    major = hz[hz["level"] == "major"]
    listed = hz[hz["listed"]]
    assert len(major) > 10 and 0 < len(listed) < len(major)
    assert (listed["level"] == "major").all()
    assert listed[["listed_office", "listed_deadline", "listed_condition"]].notna().all().all()
    assert (listed["listed_office"] == "市安委办").any() and listed["listed_office"].str.endswith("区安委办").any()
    assert (listed["status"] != "closed").any()
    rest = hz[~hz["listed"]]
    assert rest[["listed_office", "listed_deadline", "listed_condition"]].isna().all().all()


def test_every_hazard_history_is_in_the_audit_log_and_ends_in_its_state(city):
    hz = city["hazards"].set_index("id")
    log = city["audit_log"]
    assert log["id"].is_unique
    assert log["at"].is_monotonic_increasing  # ids in time order
    h = log[log["layer"] == "hazards"]
    assert set(h["record_id"]) == set(hz.index)
    users = set(city["users"]["id"])
    assert set(log["user_id"]) <= users
    assert set(h["user_id"]) >= {"admin"} and h["user_id"].str.match(r"^[dt]\d+$").any()
    status_rows = h[h["field"] == "status"]
    last = status_rows.groupby("record_id").last()
    assert (last["new_value"] == hz.loc[last.index, "status"]).all()
    first = status_rows.groupby("record_id").first()
    assert (first["action"] == "register").all() and (first["new_value"] == "open").all()
    # each status row starts where the previous one ended
    prev = status_rows.groupby("record_id")["new_value"].shift()
    chained = status_rows[prev.notna()]
    assert (chained["old_value"] == prev[prev.notna()]).all()
    # steps between the found date and AS_OF; version = steps after registering
    found = hz.loc[h["record_id"], "found_date"].to_numpy()
    assert (h["at"].to_numpy() >= found).all() and (h["at"] < A + pd.Timedelta(days=1)).all()
    steps = h.drop_duplicates(["record_id", "at", "action"]).groupby("record_id").size()
    assert (steps - 1 == hz.loc[steps.index, "version"]).all()
    latest = h.groupby("record_id")[["at", "user_id"]].last()
    assert (latest["at"] == hz.loc[latest.index, "updated_at"]).all()
    assert (latest["user_id"] == hz.loc[latest.index, "updated_by"]).all()
    # closing on the check date, by its checker; each failed check with its reason; listing by the city
    close = h[h["action"] == "close"].set_index("record_id")
    assert (close["at"].dt.normalize() == hz.loc[close.index, "check_date"]).all()
    assert (close["note"] == "验收人：" + hz.loc[close.index, "checker"]).all()
    reasons = h[(h["action"] == "reject") & (h["field"] == "reject_reason")]
    assert len(reasons) == (h["action"] == "reject").sum() / 2 and reasons["new_value"].notna().all()
    last_reason = reasons.groupby("record_id")["new_value"].last()
    assert (last_reason == hz.loc[last_reason.index, "reject_reason"]).all()
    lst = h[h["action"] == "list"].set_index("record_id")
    assert set(lst.index) == set(hz.index[hz["listed"]]) and (lst["new_value"] == "true").all()
    assert (lst["user_id"] == "admin").all()
    started = h[h["action"] == "start"].set_index("record_id")["note"]
    gaps = ~hz.loc[started.index, list(FIVE_IN_PLACE)].all(axis=1)
    assert started[gaps].str.startswith("未到位：").all() and started[~gaps].isna().all()
    # some failed a check before passing it
    cycles = h[h["action"] == "reject"].groupby("record_id").size()
    assert (hz.loc[cycles.index, "status"] == "closed").any()


def test_orders_suspend_resume_and_close_consistently(city):
    orders = city["orders"]
    ent = city["enterprises"].set_index("id")
    ins = city["inspections"]
    hz = city["hazards"].set_index("id")
    assert orders["id"].is_unique and orders["doc_no"].is_unique
    assert orders["doc_no"].str.fullmatch(r"（\w+区）应急\w{2}〔20\d\d〕\d+号").all()
    assert {"suspend", "resume", "close"} == set(orders["kind"])
    assert {"illegal", "failed_recheck"} == set(orders["ground"].dropna())
    assert orders.loc[orders["kind"] == "close", "ground"].notna().all()
    assert (orders["date"] <= A).all()
    # the state each enterprise is in is its last order's
    last = orders.assign(rank=orders["kind"].map({"suspend": 0, "resume": 1, "close": 2})).sort_values(
        ["date", "rank"]).groupby("target_id")["kind"].last()
    state = last.map({"suspend": "suspended", "resume": "operating", "close": "closed"})
    assert (ent.loc[state.index, "status"] == state).all()
    assert set(ent.index[ent["status"] != "operating"]) == set(state.index[state != "operating"])
    for s in ("suspended", "closed"):
        assert (ent["status"] == s).any(), s
    assert (state == "operating").any()  # some were resumed
    # a suspension names an unclosed major hazard (still suspended) of its enterprise, found by then
    susp = orders[orders["kind"] == "suspend"]
    h = hz.loc[susp["hazard_ids"]]
    assert (h["level"] == "major").all() and (h["target_id"].to_numpy() == susp["target_id"].to_numpy()).all()
    assert (h["found_date"].to_numpy() <= susp["date"].to_numpy()).all()
    now = susp[susp["target_id"].map(ent["status"]) == "suspended"]
    assert (hz.loc[now["hazard_ids"], "status"] != "closed").all()
    # every resumption has a passed inspection of the enterprise on or after its suspension
    by_id = ins.set_index("id")
    for _, r in orders[orders["kind"] == "resume"].iterrows():
        check = by_id.loc[r["check_id"]]
        suspended = susp[(susp["target_id"] == r["target_id"]) & (susp["date"] <= r["date"])]["date"].max()
        assert check["result"] == "pass" and check["target_id"] == r["target_id"]
        assert suspended <= check["date"] <= r["date"]
    # a closure for a failed re-check follows a suspension and a failed check of the hazard behind it
    for _, r in orders[orders["ground"] == "failed_recheck"].iterrows():
        assert (susp["target_id"] == r["target_id"]).any()
        assert hz.loc[r["hazard_ids"], "status"] == "rejected"
    assert (ins["date"].dt.day_of_week < 5).all()


def test_blacklist_of_closed_enterprises_and_fatal_accidents(city):
    bl = city["blacklist"]
    orders = city["orders"].set_index("id")
    acc = city["accidents"].set_index("id")
    assert bl["id"].is_unique and set(bl["basis"]) == {"order", "accident"}
    by_order = bl[bl["basis"] == "order"]
    assert (orders.loc[by_order["basis_id"], "kind"] == "close").all()
    assert (orders.loc[by_order["basis_id"], "target_id"].to_numpy() == by_order["target_id"].to_numpy()).all()
    closed = orders[orders["kind"] == "close"]
    assert set(closed["target_id"]) <= set(by_order["target_id"])
    by_acc = bl[bl["basis"] == "accident"]
    assert (acc.loc[by_acc["basis_id"], "deaths"] > 0).all()
    assert set(acc.index[acc["deaths"] > 0]) == set(by_acc["basis_id"])
    assert (bl["start_date"] <= A).all() and (bl["end_date"] > bl["start_date"]).all()
    ended = bl["end_date"] <= A
    assert ended.any() and (~ended).any()
    assert (bl.loc[bl["removed"], "end_date"] <= A).all()
    assert (bl["version"] == bl["removed"].astype(int)).all()
    log = city["audit_log"]
    assert set(log.loc[log["action"] == "blacklist_add", "record_id"]) == set(bl["id"])
    assert set(log.loc[log["action"] == "blacklist_remove", "record_id"]) == set(bl.loc[bl["removed"], "id"])


def test_repeat_offenders_by_hazard_type_and_accident_kind(city):
    since = A - pd.Timedelta(days=365)
    hz = city["hazards"]
    recent = hz[(hz["target_layer"] == "enterprises") & (hz["found_date"] > since)]
    assert (recent.groupby(["target_id", "type"]).size() >= 3).sum() >= 3
    acc = city["accidents"]
    recent_acc = acc[acc["date"] > since]
    assert (recent_acc.groupby(["enterprise_id", "kind"]).size() >= 2).any()


def test_department_duties_match_who_supervises_what(city):
    duties = city["department_duties"]
    r = city["responsibilities"]
    assert duties["id"].is_unique and set(duties["department_id"]) <= set(city["departments"]["id"])
    assert duties["duty"].notna().all()
    industry = city["enterprises"].set_index("id")["industry"]
    links = r.assign(industry=r["target_id"].map(industry))
    links.loc[links["target_layer"] != "enterprises", "industry"] = None
    key = ["department_id", "target_layer", "industry"]
    have = set(map(tuple, duties[key].astype(object).where(duties[key].notna(), None).to_numpy().tolist()))
    need = set(map(tuple, links[key].astype(object).where(links[key].notna(), None).to_numpy().tolist()))
    assert have == need  # every link is covered by a duty, and every duty by a link
    assert (duties["industry"].isna() == (duties["target_layer"] != "enterprises")).all()
    lead = links[links["lead"]].drop_duplicates(key)
    led = duties.merge(lead[key], on=key)
    assert led["duty"].str.contains("牵头").all()
    assert {"DEPT-EM", "DEPT-HC", "DEPT-ED"} <= set(duties["department_id"])


def test_ledger_layers_reach_the_store(demo_store_path):
    from layers.store import open_store

    store = open_store(demo_store_path, create=False)
    for layer in ("orders", "blacklist", "audit_log", "department_duties"):
        assert store.count(layer) > 0, layer
    hz = store.read("hazards", columns=["id", "status", "version", "listed"])
    assert set(hz["status"]) == set(HAZARD_STATUS) and hz["version"].notna().all()
    log = store.read("audit_log", where={"layer": "hazards"})
    assert len(log) > len(hz) and np.isin(hz["id"], log["record_id"]).all()
