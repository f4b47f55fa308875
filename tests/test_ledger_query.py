"""The ledger table: its columns (from the target, not the hazard), every filter alone and combined, stable
sorts, paging, access narrowing, the URL round trip and the once-per-version cache."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from layers.access.policy import Principal, authorize, object_places
from layers.ledger import query as lq
from layers.ledger.query import SORTABLE, LedgerQuery, ledger, ledger_frame, query_ledger
from layers.settings import Settings
from layers.store import open_store

AS_OF = date(2026, 6, 30)
SETTINGS = Settings(repeat_hazard_count=2, repeat_accident_count=2, repeat_window_days=365)
CITY = authorize(Principal("admin", "admin"))
D02 = authorize(Principal("lead02", "district", district="420102"))
D03 = authorize(Principal("lead03", "district", district="420103"))
T031 = authorize(Principal("town031", "town", district="420103", town="420103001"))


def _pt(n: int) -> list:
    return [shapely.Point(114.2 + 0.01 * i, 30.5) for i in range(n)]


def d(days: int) -> pd.Timestamp:
    return pd.Timestamp(AS_OF + timedelta(days=days))


HAZARDS = [
    # id, layer, target, type, level, status, found (days from as-of), deadline (days), closed, five flags,
    # department_id, own district code, listed
    ("H01", "enterprises", "E1", "消防通道堵塞", "general", "open", -40, 3, None, (1, 1, 1, 1, 1), None, "420102", 0),
    ("H02", "enterprises", "E1", "消防通道堵塞", "major", "rectifying", -30, -10, None, (0, 1, 1, 1, 1), None,
     "420102", 1),
    ("H03", "enterprises", "E1", "电气线路私拉乱接", "general", "closed", -200, -150, -160, (1, 1, 1, 1, 1), None,
     "420102", 0),
    ("H04", "enterprises", "E2", "储罐区防火堤破损", "major", "open", -120, -95, None, (1, 0, 0, 1, 1), "DEPT-3",
     "420102", 0),   # its own district code says 420102; its target is in 420103
    ("H05", "enterprises", "E2", "管道腐蚀", "general", "awaiting_check", -60, -40, None, (1, 1, 1, 1, 0), None,
     "420103", 0),
    ("H06", "venues", "V1", "安全出口锁闭", "general", "rejected", -20, 7, None, (1, 1, 1, 1, 1), None, "420103", 0),
    ("H07", "venues", "V1", "应急照明失效", "general", "open", -10, 20, None, (1, 1, 1, 1, 1), None, "420103", 0),
    ("H08", "enterprises", "E3", "粉尘防爆措施缺失", "general", "open", -5, 0, None, (1, 1, 1, 0, 1), None, None, 0),
    ("H09", "enterprises", "NOPE", "管道腐蚀", "general", "open", -5, -1, None, (1, 1, 1, 1, 1), None, "420102", 0),
    ("H10", "enterprises", "E3", "粉尘防爆措施缺失", "general", "open", -400, -31, None, (1, 1, 1, 1, 1), None,
     None, 0),
    ("H11", "enterprises", "E1", "应急照明失效", "general", "closed", -100, -80, -85, (1, 1, 1, 1, 1), None, None, 0),
    ("H12", "gas_stations", "G1", "调压设备超期未检", "general", "open", -50, None, None, (1, 1, 1, 1, 1), None, None,
     0),
]


def write_city(path) -> object:
    """A hand-made city: 2 districts, 3 towns, 3 enterprises, a venue, a gas station and 12 hazards."""
    store = open_store(path)
    five = ("resp_in_place", "measures_in_place", "funds_in_place", "deadline_in_place", "plan_in_place")
    rows = []
    for hid, layer, tid, typ, lvl, st, f, dl, cl, flags, dept, dc, listed in HAZARDS:
        r = {"id": hid, "target_layer": layer, "target_id": tid, "type": typ, "level": lvl, "status": st,
             "found_date": d(f), "deadline": d(dl) if dl is not None else pd.NaT,
             "closed_date": d(cl) if cl is not None else pd.NaT, "department_id": dept, "district_code": dc,
             "listed": bool(listed), "responsible_person": f"责任人{hid}", "version": 1}
        r.update({k: bool(v) for k, v in zip(five, flags, strict=True)})
        rows.append(r)
    hz = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=[None] * len(rows), crs=4326)
    with store.transaction() as tx:
        tx.append("districts", gpd.GeoDataFrame({"code": ["420102", "420103"], "name": ["临江区", "望湖区"],
                                                 "name_en": ["Linjiang", "Wanghu"]},
                                                geometry=[shapely.box(114, 30, 114.5, 31).buffer(0)] * 2, crs=4326))
        tx.append("towns", gpd.GeoDataFrame({"code": ["420102001", "420103001", "420103002"],
                                             "name": ["一街", "二街", "三街"], "district_code": ["420102", "420103",
                                                                                            "420103"]},
                                            geometry=[shapely.box(114, 30, 114.5, 31)] * 3, crs=4326))
        tx.append("enterprises", gpd.GeoDataFrame({
            "id": ["E1", "E2", "E3"], "name": ["甲化工有限公司", "乙燃气ABC公司", "丙粉末冶金厂"],
            "credit_code": ["91420102MA4KXXXX1A", "91420103MA4KYYYY2B", None],
            "industry": ["hazchem", "gas", "metallurgy"], "grade": ["major", "high", "low"],
            "district_code": ["420102", "420103", "420103"], "town_code": ["420102001", "420103001", "420103002"],
            "status": ["operating", "suspended", "operating"]}, geometry=_pt(3), crs=4326))
        tx.append("venues", gpd.GeoDataFrame({"id": ["V1"], "name": ["丁KTV"], "kind": ["ktv"],
                                              "district_code": ["420103"], "town_code": ["420103001"]},
                                             geometry=_pt(1), crs=4326))
        tx.append("gas_stations", gpd.GeoDataFrame({"id": ["G1"], "name": ["戊调压站"], "kind": ["regulator"],
                                                    "district_code": ["420102"], "town_code": ["420102001"]},
                                                   geometry=_pt(1), crs=4326))
        tx.append("departments", pd.DataFrame({"id": ["DEPT-1", "DEPT-2", "DEPT-3"],
                                               "name": ["应急局", "燃气局", "消防支队"],
                                               "name_en": ["Emergency", "Gas", "Fire"]}))
        tx.append("responsibilities", pd.DataFrame({
            "id": ["R1", "R2", "R3", "R4", "R5", "R6"], "target_layer": ["enterprises"] * 4 + ["venues", "gas_stations"],
            "target_id": ["E1", "E2", "E2", "E3", "V1", "G1"],
            "department_id": ["DEPT-1", "DEPT-2", "DEPT-3", "DEPT-1", "DEPT-3", "DEPT-2"],
            "lead": [True, True, False, False, False, False],
            "officer": ["张三", "李四", "王五", "赵六", "钱七", None]}))
        tx.append("hazards", hz)
    return store


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return write_city(tmp_path_factory.mktemp("ledger") / "city.gpkg")


def ids(store, q: LedgerQuery, access=CITY) -> list[str]:
    page, total = query_ledger(store, access, q.with_(page_size=200, page=1), as_of=AS_OF, settings=SETTINGS)
    assert total == len(page)
    return page["id"].tolist()


def test_columns_come_from_the_target(city):
    f = ledger_frame(city, as_of=AS_OF, settings=SETTINGS).set_index("id")
    assert f.loc["H04", "district_code"] == "420103"          # not the hazard's own 420102
    assert f.loc["H04", "town_code"] == "420103001"
    assert f.loc["H04", "target_name"] == "乙燃气ABC公司"
    assert f.loc["H04", "credit_code"] == "91420103MA4KYYYY2B"
    assert f.loc["H04", "industry"] == "gas"
    assert f.loc["H06", "kind"] == "ktv"
    assert pd.isna(f.loc["H09", "district_code"])            # unknown target: no district
    # department: the hazard's own, else the lead, else the only link; several links and no lead = none
    assert f.loc["H04", "department"] == "DEPT-3" and f.loc["H04", "officer"] == "王五"
    assert f.loc["H05", "department"] == "DEPT-2" and f.loc["H05", "officer"] == "李四"
    assert f.loc["H01", "department_name"] == "应急局" and f.loc["H01", "officer"] == "张三"
    assert f.loc["H08", "department"] == "DEPT-1" and f.loc["H08", "officer"] == "赵六"  # only link
    assert pd.isna(f.loc["H12", "officer"])
    # deadlines
    assert f.loc["H01", "days_left"] == 3 and f.loc["H01", "bucket"] == "due_7"
    assert f.loc["H02", "days_left"] == -10 and f.loc["H02", "bucket"] == "overdue_1_30"
    assert f.loc["H04", "bucket"] == "overdue_90" and f.loc["H10", "bucket"] == "overdue_30_90"
    assert pd.isna(f.loc["H03", "days_left"]) and pd.isna(f.loc["H03", "bucket"])      # closed
    assert pd.isna(f.loc["H12", "days_left"]) and pd.isna(f.loc["H12", "bucket"])      # no deadline
    assert bool(f.loc["H02", "overdue"]) and not bool(f.loc["H03", "overdue"])
    # five elements: a flag false but its detail filled is in place (H02 names its responsible person)
    assert f.loc["H02", "missing"] == ()
    assert f.loc["H04", "missing"] == ("measures_in_place", "funds_in_place") and f.loc["H04", "n_missing"] == 2
    assert f.loc["H05", "missing"] == ("plan_in_place",)
    assert f.loc["H08", "missing"] == ()                      # deadline flag false, but it has a deadline
    # repeat (2 of one type within the window): E1 (消防通道堵塞 twice); E3 only once inside the window
    assert bool(f.loc["H01", "repeat"]) and bool(f.loc["H11", "repeat"])
    assert not bool(f.loc["H10", "repeat"]) and not bool(f.loc["H04", "repeat"])
    assert f.loc["H04", "enterprise_state"] == "suspended" and pd.isna(f.loc["H01", "enterprise_state"])


@pytest.mark.parametrize(("q", "expected"), [
    (LedgerQuery(district=("420102",)), ["H01", "H02", "H03", "H11", "H12"]),
    (LedgerQuery(district=("420103",)), ["H04", "H05", "H06", "H07", "H08", "H10"]),
    (LedgerQuery(town=("420103001",)), ["H04", "H05", "H06", "H07"]),
    (LedgerQuery(industry=("gas", "metallurgy")), ["H04", "H05", "H08", "H10"]),
    (LedgerQuery(layer=("venues",)), ["H06", "H07"]),
    (LedgerQuery(level=("major",)), ["H02", "H04"]),
    (LedgerQuery(status=("open", "rejected")), ["H01", "H04", "H06", "H07", "H08", "H09", "H10", "H12"]),
    (LedgerQuery(bucket=("due_7",)), ["H01", "H06", "H08"]),
    (LedgerQuery(bucket=("overdue_1_30",)), ["H02", "H09"]),
    (LedgerQuery(bucket=("overdue_30_90",)), ["H05", "H10"]),
    (LedgerQuery(bucket=("overdue_90",)), ["H04"]),
    (LedgerQuery(bucket=("overdue",)), ["H02", "H04", "H05", "H09", "H10"]),
    (LedgerQuery(missing=("funds_in_place",)), ["H04"]),
    (LedgerQuery(missing=("plan_in_place", "measures_in_place")), ["H04", "H05"]),
    (LedgerQuery(missing=("any",)), ["H04", "H05"]),
    (LedgerQuery(found_from=AS_OF - timedelta(days=30), found_to=AS_OF - timedelta(days=10)),
     ["H02", "H06", "H07"]),
    (LedgerQuery(department=("DEPT-1",)), ["H01", "H02", "H03", "H08", "H10", "H11"]),
    (LedgerQuery(text="甲化工"), ["H01", "H02", "H03", "H11"]),
    (LedgerQuery(text="ｍａ４ｋｙｙｙ"), ["H04", "H05"]),       # full-width, lower case: the credit code of E2
    (LedgerQuery(text="abc"), ["H04", "H05"]),
    (LedgerQuery(text="ktv"), ["H06", "H07"]),
    (LedgerQuery(listed=True), ["H02"]),
    (LedgerQuery(repeat=True), ["H01", "H02", "H03", "H11"]),
    (LedgerQuery(status=("bogus",)), []),
    (LedgerQuery(district=("999999",)), []),
])
def test_each_filter(city, q, expected):
    assert sorted(ids(city, q.with_(sort="id"))) == expected


def test_filters_combine_as_the_intersection(city):
    parts = [LedgerQuery(district=("420103",)), LedgerQuery(status=("open", "awaiting_check")),
             LedgerQuery(bucket=("overdue",)), LedgerQuery(industry=("gas",))]
    sets = [set(ids(city, p)) for p in parts]
    both = LedgerQuery(district=("420103",), status=("open", "awaiting_check"), bucket=("overdue",),
                       industry=("gas",))
    assert set(ids(city, both)) == set.intersection(*sets) == {"H04", "H05"}
    assert ids(city, both.with_(text="乙燃气", level=("major",))) == ["H04"]


@pytest.mark.parametrize("column", SORTABLE)
@pytest.mark.parametrize("desc", [False, True])
def test_sort_is_stable_with_missing_last(city, column, desc):
    got = ids(city, LedgerQuery(sort=column, desc=desc))
    f = ledger_frame(city, as_of=AS_OF, settings=SETTINGS).sort_values("id")
    have, missing = f[f[column].notna()], f[f[column].isna()]
    expected = have.sort_values(column, ascending=not desc, kind="stable")["id"].tolist() + missing["id"].tolist()
    assert got == expected


def test_paging_totals(city):
    q = LedgerQuery(sort="found_date", desc=True, page_size=5)
    pages = [query_ledger(city, CITY, q.with_(page=p), as_of=AS_OF, settings=SETTINGS) for p in (1, 2, 3, 4)]
    assert [t for _, t in pages] == [12, 12, 12, 12]
    assert [len(p) for p, _ in pages] == [5, 5, 2, 0]
    assert sum((p["id"].tolist() for p, _ in pages), []) == ids(city, q)


def test_access_narrows_by_the_target(city):
    assert set(ids(city, LedgerQuery(), D02)) == {"H01", "H02", "H03", "H11", "H12"}
    # H04 carries 420102 itself, but its target lies in 420103: the 420102 leader never sees it
    assert ids(city, LedgerQuery(district=("420103",)), D02) == []
    assert "H04" not in ids(city, LedgerQuery(text="乙燃气"), D02)
    assert set(ids(city, LedgerQuery(), D03)) == {"H04", "H05", "H06", "H07", "H08", "H10"}
    assert set(ids(city, LedgerQuery(), T031)) == {"H04", "H05", "H06", "H07"}
    assert ids(city, LedgerQuery(town=("420103002",)), T031) == []
    # a hazard naming no known object is for city-wide readers only
    assert "H09" in ids(city, LedgerQuery()) and all("H09" not in ids(city, LedgerQuery(), a) for a in (D02, D03))


def test_access_on_the_demo_city(demo_store_path):
    store = open_store(demo_store_path, create=False)
    lf = ledger(store, as_of=AS_OF, settings=SETTINGS)
    codes = sorted(store.read("districts")["code"])
    other = codes[1]
    for code in codes[:3]:
        access = authorize(Principal(f"u{code}", "district", district=code))
        page, total = query_ledger(store, access, LedgerQuery(district=(other,), page_size=200), as_of=AS_OF,
                                   settings=SETTINGS)
        if code != other:
            assert total == 0
        rows = lf.frame[lf.mask(LedgerQuery(), access)]
        keys = (rows["target_layer"] + ":" + rows["target_id"]).tolist()
        assert len(rows) and set(object_places(store, keys)["district_code"]) == {code}


def test_url_round_trip():
    q = LedgerQuery(district=("420102", "420103"), town=("420103001",), industry=("gas",), layer=("enterprises",),
                    level=("major",), status=("open", "rejected"), bucket=("overdue",), missing=("funds_in_place",),
                    found_from=date(2026, 1, 1), found_to=date(2026, 6, 30), department=("DEPT-EM",),
                    text="化工 & co", listed=True, repeat=False, sort="target_name", desc=True, page=3,
                    page_size=100)
    assert LedgerQuery.from_url(q.to_url()) == q
    assert LedgerQuery.from_url("?" + q.to_url()) == q
    assert LedgerQuery().to_url() == "" and LedgerQuery.from_url("") == LedgerQuery()


def test_url_values_are_checked():
    q = LedgerQuery.from_url(
        "status=open,bogus&level=huge&layer=users&industry=gas,../etc&district=<script>,420102"
        "&bucket=overdue_9000&missing=resp_in_place,x&found_from=2026-13-01&found_to=yesterday"
        "&sort=password_hash&dir=sideways&page=-3&page_size=7&listed=maybe&text=%00ab%1Fc&extra=1"
        "&department=DEPT%20EM")
    assert q.status == ("open",) and q.level == () and q.layer == () and q.industry == ("gas",)
    assert q.district == ("420102",) and q.bucket == () and q.missing == ("resp_in_place",)
    assert q.found_from is None and q.found_to is None and q.department == ()
    assert q.sort == LedgerQuery.sort and q.desc is False and q.page == 1 and q.page_size == LedgerQuery.page_size
    assert q.listed is None and q.text == "abc"
    assert LedgerQuery.from_url({"status": ["closed"], "page": "2"}) == LedgerQuery(status=("closed",), page=2)
    assert LedgerQuery.from_url("page=99999999999").page == 1
    assert len(LedgerQuery.from_url("text=" + "x" * 5000).text) == 100


def test_cache_builds_once_under_concurrent_calls(tmp_path, monkeypatch):
    store = write_city(tmp_path / "c.gpkg")
    calls = []
    real = lq._build

    def counting(*args, **kw):
        calls.append(threading.get_ident())
        return real(*args, **kw)

    monkeypatch.setattr(lq, "_build", counting)
    day = date(2026, 5, 1)   # a key no other test built
    got: list = []
    barrier = threading.Barrier(8)

    def run():
        barrier.wait()
        got.append(ledger(open_store(store.url, create=False), as_of=day, settings=SETTINGS))

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(got) == 8 and all(g is got[0] for g in got)
    # a write is a new data version: built again, and the old version is dropped
    with store.transaction() as tx:
        tx.update("hazards", ["H07"], {"status": "closed", "closed_date": pd.Timestamp(day)})
    new = ledger(store, as_of=day, settings=SETTINGS)
    assert len(calls) == 2 and new is not got[0]
    assert new.frame.set_index("id").loc["H07", "status"] == "closed"
    assert [k for k in lq._LEDGERS.keys() if k[0] == store.identity()] == [new.key]


def test_page_rows_are_the_frame_rows(city):
    lf = ledger(city, as_of=AS_OF, settings=SETTINGS)
    page, total = lf.query(LedgerQuery(sort="days_left", page_size=3), CITY)
    assert total == 12 and page["id"].tolist() == ["H04", "H05", "H10"]
    assert np.all(np.diff(page["days_left"].to_numpy(dtype=float)) >= 0)


def test_labels_zh_and_en(city):
    page, _ = query_ledger(city, CITY, LedgerQuery(sort="id", page_size=3), as_of=AS_OF, settings=SETTINGS)
    zh = lq.labelled(page)
    en = lq.labelled(page, "en")
    assert "整改状态" in zh.columns and "Status" in en.columns
    assert zh["整改状态"].tolist()[:2] == ["待整改", "整改中"] and en["Status"].tolist()[:2] == ["Open", "Rectifying"]
    assert zh["期限分档"].tolist()[0] == "7日内到期" and en["Deadline bucket"].tolist()[1] == "Overdue 1–30 days"


# --------------------------------------------------------------------------------------------------
# Incremental builds: after a write the next query equals a build from scratch
# --------------------------------------------------------------------------------------------------

ADMIN = Principal("admin", "admin")


def _fresh(store):
    """The ledger built from nothing (every cache and part forgotten)."""
    from layers.store import clear_read_cache
    lq.clear_cache()
    clear_read_cache()
    return ledger(store, as_of=AS_OF, settings=SETTINGS)


def assert_same(store):
    """The ledger the cache gives equals a from-scratch build: every column, code, rank and some pages."""
    inc = ledger(store, as_of=AS_OF, settings=SETTINGS)
    inc_pages = {(c, desc): query_ledger(store, CITY, LedgerQuery(sort=c, desc=desc, page_size=200), as_of=AS_OF,
                                         settings=SETTINGS)[0]["id"].tolist()
                 for c in ("status", "days_left", "target_name", "department_name", "officer") for desc in (0, 1)}
    scratch = _fresh(store)
    pd.testing.assert_frame_equal(inc.frame, scratch.frame)
    for c in scratch.codes:
        assert inc.vocab[c] == scratch.vocab[c] or set(inc.vocab[c]) >= set(scratch.vocab[c])
    for c in SORTABLE:
        assert np.array_equal(inc.order(c), scratch.order(c)), c
        assert np.array_equal(inc.order(c, True), scratch.order(c, True)), c
    for (c, desc), page in inc_pages.items():
        again = query_ledger(store, CITY, LedgerQuery(sort=c, desc=desc, page_size=200), as_of=AS_OF,
                             settings=SETTINGS)[0]["id"].tolist()
        assert page == again, (c, desc)
    return inc


@pytest.fixture
def fresh_city(tmp_path):
    store = write_city(tmp_path / "city.gpkg")
    lq.clear_cache()
    return store


def _version(store, hid):
    return int(store.read("hazards", columns=["version"], ids=[hid])["version"].iloc[0])


def test_a_step_shows_at_once_and_equals_a_fresh_build(fresh_city):
    from layers.ledger.workflow import apply_step
    store = fresh_city
    before = ledger(store, as_of=AS_OF, settings=SETTINGS)
    apply_step(store, ADMIN, "H02", "submit", {}, _version(store, "H02"), today=AS_OF)
    after = ledger(store, as_of=AS_OF, settings=SETTINGS)
    assert after is not before
    assert after.frame.set_index("id").loc["H02", "status"] == "awaiting_check"
    assert before.frame.set_index("id").loc["H02", "status"] == "rectifying"     # the old build is untouched
    page, total = query_ledger(store, CITY, LedgerQuery(status=("awaiting_check",)), as_of=AS_OF,
                               settings=SETTINGS)
    assert "H02" in page["id"].tolist()
    assert_same(store)


def test_a_step_rereads_only_the_hazard_it_wrote(fresh_city, monkeypatch):
    from layers.ledger.workflow import apply_step
    store = fresh_city
    ledger(store, as_of=AS_OF, settings=SETTINGS)
    apply_step(store, ADMIN, "H01", "edit", {"measures": "加装挡板"}, _version(store, "H01"), today=AS_OF)
    reads = []
    real = type(store).read

    def spy(self, layer, **kw):
        reads.append((layer, kw.get("ids")))
        return real(self, layer, **kw)
    monkeypatch.setattr(type(store), "read", spy)
    f = ledger(store, as_of=AS_OF, settings=SETTINGS).frame.set_index("id")
    monkeypatch.undo()
    assert reads == [("hazards", ["H01"])]          # one row read, no target table
    assert f.loc["H01", "measures"] == "加装挡板"
    assert_same(store)


def test_a_registered_hazard_appears_and_a_deleted_one_goes(fresh_city):
    from layers.ledger.workflow import register_hazards
    store = fresh_city
    ledger(store, as_of=AS_OF, settings=SETTINGS)
    new = register_hazards(store, ADMIN, pd.DataFrame([{"target_layer": "venues", "target_id": "V1",
                                                        "type": "消防设施损坏", "level": "major",
                                                        "found_date": AS_OF, "deadline": AS_OF}]), today=AS_OF)
    f = assert_same(store).frame.set_index("id")
    assert f.loc[new[0], "target_name"] == "丁KTV" and f.loc[new[0], "status"] == "open"
    with store.transaction() as tx:
        tx.delete("hazards", ["H05", new[0]])
    ids_now = assert_same(store).frame["id"].tolist()
    assert "H05" not in ids_now and new[0] not in ids_now


def test_an_enterprise_rename_and_a_new_lead_show(fresh_city):
    store = fresh_city
    ledger(store, as_of=AS_OF, settings=SETTINGS)
    with store.transaction() as tx:
        tx.update("enterprises", ["E1"], {"name": "甲化工集团"})
    f = assert_same(store).frame.set_index("id")
    assert f.loc["H01", "target_name"] == "甲化工集团"
    assert sorted(ids(store, LedgerQuery(text="集团"))) == ["H01", "H02", "H03", "H11"]
    with store.transaction() as tx:
        tx.update("responsibilities", ["R4"], {"lead": True, "officer": "孙八"})
    f = assert_same(store).frame.set_index("id")
    assert f.loc["H08", "department"] == "DEPT-1" and f.loc["H08", "officer"] == "孙八"


@pytest.mark.parametrize("seed", range(4))
def test_the_cache_never_returns_a_stale_row(fresh_city, seed):
    """Random steps, edits, registrations, imports and deletions; after each the cache equals a fresh build."""
    from layers.errors import AccessDenied, EditConflict, StepRefused
    from layers.ledger.workflow import apply_step, register_hazards
    store = fresh_city
    rng = np.random.default_rng(seed)
    ledger(store, as_of=AS_OF, settings=SETTINGS)
    steps = [("start", {"missing_note": "待定"}), ("submit", {}), ("close", {"checker": "验收员", "check_date": AS_OF,
                                                                        "evidence": "合格"}),
             ("reject", {"reject_reason": "未整改到位"}), ("edit", {"level": "major"}),
             ("edit", {"responsible_person": "新责任人"}), ("edit", {"funds": 3.5, "deadline": AS_OF})]
    for i in range(10):
        hz = store.read("hazards", columns=["id", "version"])
        op = rng.choice(["step", "step", "step", "register", "import", "delete", "accident"])
        if op == "step":
            hid = str(rng.choice(hz["id"]))
            name, values = steps[int(rng.integers(0, len(steps)))]
            try:
                apply_step(store, ADMIN, hid, name, values, _version(store, hid), today=AS_OF)
            except (StepRefused, EditConflict, AccessDenied):
                pass
        elif op == "register":
            register_hazards(store, ADMIN, pd.DataFrame([{"target_layer": "enterprises", "target_id": "E3",
                                                          "type": "粉尘防爆措施缺失", "level": "general",
                                                          "found_date": AS_OF - timedelta(days=int(i)),
                                                          "deadline": AS_OF + timedelta(days=3)}]), today=AS_OF)
        elif op == "import":    # an upsert of a few rows (new ids and existing ones), as an import writes
            rows = store.read("hazards", ids=hz["id"].sample(2, random_state=seed + i).tolist())
            rows["status"] = "open"
            extra = rows.iloc[:1].copy()
            extra["id"] = f"HIMP{seed}{i}"
            with store.transaction() as tx:
                tx.upsert("hazards", pd.concat([rows, extra], ignore_index=True))
        elif op == "delete":
            with store.transaction() as tx:
                tx.delete("hazards", [str(rng.choice(hz["id"]))])
        else:
            with store.transaction() as tx:
                tx.append("accidents", pd.DataFrame({"id": [f"A{seed}{i}", f"B{seed}{i}"],
                                                     "enterprise_id": ["E2", "E2"], "kind": ["fire", "fire"],
                                                     "date": [d(-3), d(-2)]}))
        assert_same(store)


def test_store_stamps_and_changed_ids(fresh_city):
    """The store's contract for caches: a write stamps only the tables it wrote and names the ids it wrote."""
    from layers.store.base import Store
    store = fresh_city
    s0 = store.table_stamps(["hazards", "enterprises"])
    with store.transaction() as tx:
        tx.update("hazards", ["H01"], {"measures": "x"})
    s1 = store.table_stamps(["hazards", "enterprises"])
    assert s1["hazards"] > s0["hazards"] and s1["enterprises"] == s0["enterprises"]
    assert store.changed_ids("hazards", s0["hazards"]) == (s1["hazards"], {"H01"})
    assert store.changed_ids("hazards", s1["hazards"]) == (s1["hazards"], set())
    with store.transaction() as tx:
        tx.delete("hazards", ["H02"])
        tx.update("enterprises", ["E1"], {"name": "y"})
    stamp, changed = store.changed_ids("hazards", s0["hazards"])
    assert changed == {"H01", "H02"} and stamp > s1["hazards"]
    assert store.table_stamps(["enterprises"])["enterprises"] > s1["enterprises"]
    with store.transaction() as tx:     # a whole-table write: "cannot tell", read it all again
        tx.replace("hazards", store.read("hazards"))
    assert store.changed_ids("hazards", s0["hazards"])[1] is None
    # the interface's defaults are safe for any store: every write changes every stamp, ids unknown
    assert Store.table_stamps(store, ["hazards"]) == {"hazards": store.data_version()}
    assert Store.changed_ids(store, "hazards", -1) == (store.data_version(), None)
