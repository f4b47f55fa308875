"""Repeat offenders exactly at N−1/N and at the window's edge; deadline buckets; escalation lists; the league
tables and the officers overdue hazards are charged to."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from layers.ledger.accountability import charged_officers, department_of, league
from layers.ledger.deadlines import bucket_of, days_left, escalation
from layers.ledger.repeat import repeat_keys, repeat_offenders
from layers.settings import Settings

AS_OF = date(2026, 6, 30)
S = Settings(repeat_hazard_count=3, repeat_accident_count=2, repeat_window_days=365)


def hazards(*found_days_ago: int, target: str = "E1", kind: str = "消防通道堵塞") -> pd.DataFrame:
    return pd.DataFrame({"target_layer": "enterprises", "target_id": target, "type": kind,
                         "found_date": [pd.Timestamp(AS_OF - timedelta(days=n)) for n in found_days_ago]})


def accidents(*days_ago: int, enterprise: str = "E1", kind: str = "fire") -> pd.DataFrame:
    return pd.DataFrame({"enterprise_id": enterprise, "kind": kind,
                         "date": [pd.Timestamp(AS_OF - timedelta(days=n)) for n in days_ago]})


def test_hazard_type_at_n_minus_1_and_n():
    assert len(repeat_offenders(hazards(1, 100), None, as_of=AS_OF, settings=S)) == 0
    r = repeat_offenders(hazards(1, 100, 200), None, as_of=AS_OF, settings=S)
    assert r[["target_layer", "target_id", "basis", "type", "count"]].values.tolist() == [
        ["enterprises", "E1", "hazard_type", "消防通道堵塞", 3]]
    assert r["first"].iloc[0] == pd.Timestamp(AS_OF - timedelta(days=200))
    assert r["last"].iloc[0] == pd.Timestamp(AS_OF - timedelta(days=1))


def test_window_edge():
    # exactly window_days before as-of is outside; one day later is inside; as-of itself is inside
    assert len(repeat_offenders(hazards(0, 10, 365), None, as_of=AS_OF, settings=S)) == 0
    assert repeat_offenders(hazards(0, 10, 364), None, as_of=AS_OF, settings=S)["count"].tolist() == [3]
    # after the as-of date: not yet happened
    assert len(repeat_offenders(hazards(-1, 10, 20), None, as_of=AS_OF, settings=S)) == 0


def test_types_and_targets_do_not_add_up():
    h = pd.concat([hazards(1, 2), hazards(3, kind="安全出口锁闭"), hazards(4, target="E2")])
    assert len(repeat_offenders(h, None, as_of=AS_OF, settings=S)) == 0
    h = pd.concat([h, pd.DataFrame({"target_layer": ["enterprises"], "target_id": ["E1"], "type": [None],
                                    "found_date": [pd.Timestamp(AS_OF)]})])
    assert len(repeat_offenders(h, None, as_of=AS_OF, settings=S)) == 0      # no type: not counted


def test_accident_kind_at_n_and_edge():
    assert len(repeat_offenders(hazards(), accidents(5), as_of=AS_OF, settings=S)) == 0
    r = repeat_offenders(hazards(), accidents(5, 364), as_of=AS_OF, settings=S)
    assert r[["target_layer", "target_id", "basis", "type", "count"]].values.tolist() == [
        ["enterprises", "E1", "accident_kind", "fire", 2]]
    assert len(repeat_offenders(hazards(), accidents(5, 365), as_of=AS_OF, settings=S)) == 0
    both = pd.concat([accidents(5), accidents(6, kind="explosion")])
    assert len(repeat_offenders(hazards(), both, as_of=AS_OF, settings=S)) == 0


def test_settings_change_n_and_window():
    s = Settings(repeat_hazard_count=2, repeat_window_days=30)
    assert len(repeat_offenders(hazards(1, 29), None, as_of=AS_OF, settings=s)) == 1
    assert len(repeat_offenders(hazards(1, 30), None, as_of=AS_OF, settings=s)) == 0


def test_repeat_keys():
    h = pd.concat([hazards(1, 2, 3), hazards(1, 2, target="E2")])
    keys = repeat_keys(h, accidents(1, 2, enterprise="E9"), as_of=AS_OF, settings=S)
    assert keys == {"enterprises:E1", "enterprises:E9"}


# -- deadlines -------------------------------------------------------------------------------------

def test_buckets_exactly():
    days = np.array([8, 7, 0, -1, -30, -31, -90, -91, np.nan, -5])
    status = ["open", "open", "rectifying", "open", "rejected", "awaiting_check", "open", "open", "open", "closed"]
    assert bucket_of(days, status).tolist() == [None, "due_7", "due_7", "overdue_1_30", "overdue_1_30",
                                                "overdue_30_90", "overdue_30_90", "overdue_90", None, None]


def test_days_left():
    d = days_left(pd.Series([pd.Timestamp("2026-07-07"), pd.Timestamp("2026-06-01"), pd.NaT]), AS_OF)
    assert d[:2].tolist() == [7.0, -29.0] and np.isnan(d[2])


def _ledger_like() -> pd.DataFrame:
    """Rows shaped like the ledger frame (only the columns league and escalation read)."""
    def row(i, dept, district, status, deadline, closed=None, level="general", repeat=False, officer="张三",
            target=None):
        dl = pd.Timestamp(AS_OF + timedelta(days=deadline)) if deadline is not None else pd.NaT
        return {"id": f"H{i:02d}", "target_layer": "enterprises", "target_id": target or f"E{i}",
                "target_name": f"企业{i}", "type": "t", "level": level, "status": status, "deadline": dl,
                "closed_date": pd.Timestamp(AS_OF + timedelta(days=closed)) if closed is not None else pd.NaT,
                "days_left": (None if status == "closed" or deadline is None else deadline),
                "department": dept, "department_name": {"A": "甲局", "B": "乙局", None: None}[dept],
                "district_code": district, "district_name": district, "officer": officer,
                "responsible_person": f"人{i}", "repeat": repeat, "bucket": None, "listed": False}

    rows = [row(1, "A", "D1", "open", -40), row(2, "A", "D1", "rectifying", -5, officer="李四"),
            row(3, "A", "D2", "open", -100, level="major"), row(4, "A", "D1", "closed", -10, closed=-12),
            row(5, "B", "D2", "open", -1, repeat=True, target="E5"), row(6, "B", "D2", "rejected", 10, repeat=True,
                                                                         target="E5"),
            row(7, "B", "D2", "closed", -10, closed=-5), row(8, "B", "D1", "closed", -10, closed=-10),
            row(9, None, "D1", "open", None), row(10, "B", "D2", "awaiting_check", 5)]
    f = pd.DataFrame(rows)
    f["days_left"] = pd.array(f["days_left"], dtype="Int64")
    return f


def test_escalation_lists():
    f = _ledger_like()
    city = escalation(f, "city")
    assert city["id"].tolist() == ["H03", "H01", "H02", "H05"]        # most overdue first
    assert city["days_overdue"].tolist() == [100, 40, 5, 1]
    assert {"responsible_person", "department_name", "officer"} <= set(city.columns)
    dist = escalation(f, "district")
    assert dist[["district_code", "id"]].values.tolist() == [["D1", "H01"], ["D1", "H02"], ["D2", "H03"],
                                                              ["D2", "H05"]]
    assert escalation(f, "district", district="D2")["id"].tolist() == ["H03", "H05"]
    with pytest.raises(ValueError):
        escalation(f, "province")


def test_league_by_department_ranks_worst_first():
    f = _ledger_like()
    orders = pd.DataFrame({"department_id": ["B", "B", "C"], "district_code": ["D2", "D2", "D1"]})
    g = league(f, by="department", as_of=AS_OF, orders=orders).set_index("key")
    assert g.loc["A", ["rank", "open", "overdue", "overdue_90", "closed", "closed_in_time", "closed_late"]
                 ].tolist() == [1, 3, 3, 1, 1, 1, 0]
    assert g.loc["B", ["open", "overdue", "closed", "closed_in_time", "repeat_offenders", "orders"]].tolist() == \
        [3, 1, 2, 1, 1, 2]
    assert g.loc["B", "in_time_share"] == 0.5
    assert g.loc["", "name"] == "未明确监管部门" and g.loc["", "open"] == 1
    assert g.loc["C", "orders"] == 1 and g.loc["C", "open"] == 0       # orders only
    assert g["rank"].tolist() == sorted(g["rank"]) and g.index.tolist()[:2] == ["A", "B"]


def test_league_by_district():
    g = league(_ledger_like(), by="district", as_of=AS_OF).set_index("key")
    assert g.loc["D1", ["open", "overdue", "closed", "closed_in_time"]].tolist() == [3, 2, 2, 2]
    assert g.loc["D2", ["open", "overdue", "repeat_offenders"]].tolist() == [4, 2, 1]
    # D1 and D2 both have 2 overdue; D2 has one beyond 90 days: D2 is worse
    assert g.loc["D2", "rank"] == 1 and g.loc["D1", "rank"] == 2


def test_charged_officers():
    c = charged_officers(_ledger_like(), AS_OF)
    assert c[["department", "officer", "overdue", "max_days_overdue", "major"]].values.tolist() == [
        ["A", "张三", 2, 100, 1], ["A", "李四", 1, 5, 0], ["B", "张三", 1, 1, 0]]
    assert c["hazard_ids"].iloc[0] == "H01,H03"


def test_department_of_by_the_lists():
    objects = pd.DataFrame({"target_layer": ["enterprises", "enterprises", "venues"], "target_id": ["E1", "E2", "V1"],
                            "industry": ["hazchem", "gas", None]})
    duties = pd.DataFrame({"department_id": ["EM", "GAS", "FIRE"], "target_layer": ["enterprises", "enterprises",
                                                                                   "venues"],
                           "industry": ["hazchem", "gas", None], "duty": ["危化品", "燃气", "人员密集场所"]})
    got = department_of(objects, duties)
    assert sorted(zip(got["target_id"], got["department_id"], strict=True)) == [("E1", "EM"), ("E2", "GAS"),
                                                                                 ("V1", "FIRE")]
