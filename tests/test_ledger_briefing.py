"""The district briefing (figures, area, charts, XLSX), public naming (only publishable fields) and the
responsibility lists, on a copy of the demo city with orders and formula-like text added."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pandas as pd
import plotly.graph_objects as go
import pytest

from layers.access.policy import Principal, authorize
from layers.errors import AccessDenied, ActionDenied
from layers.ledger.accountability import duties, league_for
from layers.ledger.briefing import briefing, briefing_sheets, briefing_xlsx
from layers.ledger.publication import PUBLIC_FIELDS, public_naming, public_naming_xlsx
from layers.ledger.query import ledger_rows
from layers.settings import Settings

EVIL_NAME = '=HYPERLINK("http://evil.example/x","点我")'
EVIL_TEXTS = (EVIL_NAME, "+86-138-0000-0000", "-2+3", "@SUM(A1:A9)")
SETTINGS = Settings()


@pytest.fixture
def city(writable_store):
    """The demo copy with: one enterprise renamed to a formula, a major hazard and a suspension on it, a
    closure elsewhere, a resumption (not published) and an old suspension (outside the period)."""
    store = writable_store
    as_of = pd.Timestamp(store.read("inspections", columns=["date"])["date"].max()).date()
    ent = store.read("enterprises", columns=["id", "district_code", "town_code"])
    districts = sorted(ent["district_code"].dropna().unique())
    x, y = districts[0], districts[1]
    ex = ent[ent["district_code"] == x]["id"].iloc[0]
    ey = ent[ent["district_code"] == y]["id"].iloc[0]
    day = pd.Timestamp(as_of - timedelta(days=20))
    with store.transaction() as tx:
        tx.update("enterprises", [ex], {"name": EVIL_NAME, "address": "@SUM(A1:A9)"})
        tx.append("hazards", pd.DataFrame([{
            "id": "HZ-EVIL", "target_layer": "enterprises", "target_id": ex, "type": "-2+3", "level": "major",
            "status": "open", "found_date": day, "deadline": pd.Timestamp(as_of - timedelta(days=5)),
            "responsible_person": "+86-138-0000-0000", "listed": True, "listed_office": "市安委办",
            "district_code": y, "version": 1}]))
        tx.append("orders", pd.DataFrame({
            "id": ["ORD-1", "ORD-2", "ORD-3", "ORD-4"], "target_layer": "enterprises", "target_id": [ex, ey, ey, ex],
            "kind": ["suspend", "close", "resume", "suspend"], "doc_no": ["@SUM(A1:A9)", "关字〔2026〕2号",
                                                                         "复字〔2026〕3号", "停字〔2020〕1号"],
            "date": [day, day + pd.Timedelta(days=1), day + pd.Timedelta(days=2), pd.Timestamp("2020-01-05")],
            "reason": ["-2+3", "非法违法生产经营", "验收合格", "旧"], "ground": [None, "illegal", None, None],
            "department_id": "DEPT-EM", "issued_by": "执法员王某"}))
        tx.append("department_duties", pd.DataFrame({
            "id": ["DD1", "DD2"], "department_id": ["DEPT-EM", "DEPT-FR"], "target_layer": ["enterprises", "venues"],
            "industry": ["hazchem", None], "duty": ["危险化学品安全监管", "人员密集场所消防监管"]}))
        tx.append("departments", pd.DataFrame({"id": ["DEPT-NONE"], "name": ["无清单局"], "name_en": ["No list"]}))
    return {"store": store, "as_of": as_of, "start": as_of - timedelta(days=180), "x": x, "y": y, "ex": ex,
            "ey": ey}


def test_city_briefing_figures(city):
    store, as_of, start = city["store"], city["as_of"], city["start"]
    admin = authorize(Principal("admin", "admin"))
    b = briefing(store, admin, start=start, end=as_of, as_of=as_of, settings=SETTINGS)
    rows = ledger_rows(store, admin, as_of=as_of, settings=SETTINGS)
    fd, cd = pd.to_datetime(rows["found_date"]), pd.to_datetime(rows["closed_date"])
    lo, hi = pd.Timestamp(start), pd.Timestamp(as_of)
    assert b.level == "city" and b.name == "全市"
    assert b.figures["found"] == int(((fd >= lo) & (fd <= hi)).sum()) > 0
    assert b.figures["closed"] == int((rows["status"].eq("closed") & (cd >= lo) & (cd <= hi)).sum())
    assert b.figures["overdue"] == int(rows["overdue"].sum())
    o = store.read("orders")
    o = o[(o["date"] >= lo) & (o["date"] <= hi)]
    assert b.figures["orders"] == len(o) >= 3
    assert b.figures["orders_close"] == int(o["kind"].eq("close").sum()) >= 1
    assert b.by_month["found"].sum() == b.figures["found"] and b.by_status["n"].sum() == b.figures["found"]
    assert "HZ-EVIL" in set(b.major["id"]) and "HZ-EVIL" in set(b.listed["id"])
    assert b.coverage["objects"] > 0 and len(b.coverage_by_area) == len(store.read("districts"))
    assert b.top_overdue["days_left"].is_monotonic_increasing
    assert b.worst_departments["rank"].tolist() == list(range(1, len(b.worst_departments) + 1))


def test_district_briefing_stays_in_its_district(city):
    store, as_of, start, x, y = city["store"], city["as_of"], city["start"], city["x"], city["y"]
    lead = authorize(Principal("lx", "district", district=x))
    b = briefing(store, lead, start=start, end=as_of, as_of=as_of, settings=SETTINGS)
    assert b.level == "district" and b.code == x
    for frame in (b.major, b.listed, b.top_overdue, b.orders):
        assert set(frame["district_code"].dropna()) <= {x}
    assert "ORD-1" in set(b.orders["id"]) and not {"ORD-2", "ORD-3", "ORD-4"} & set(b.orders["id"])
    assert set(b.repeat["district_code"].dropna()) <= {x}
    assert set(b.coverage_by_area["district_code"]) == {x}
    with pytest.raises(AccessDenied):
        briefing(store, lead, district=y, start=start, end=as_of, as_of=as_of, settings=SETTINGS)
    # the city asks for one district: the same district's briefing
    admin = authorize(Principal("admin", "admin"))
    b2 = briefing(store, admin, district=x, start=start, end=as_of, as_of=as_of, settings=SETTINGS)
    assert b2.figures == b.figures


def test_charts_are_offline_plotly_figures(city):
    store, as_of, start = city["store"], city["as_of"], city["start"]
    b = briefing(store, authorize(Principal("admin", "admin")), start=start, end=as_of, as_of=as_of,
                 settings=SETTINGS, lang="en")
    assert set(b.charts) == {"by_month", "status"}
    for fig in b.charts.values():
        assert isinstance(fig, go.Figure)
        text = fig.to_json()
        assert "http" not in text and "mapbox" not in text and "map_style" not in text
    assert "Found" in b.charts["by_month"].to_json()


def _cells(data: bytes) -> list:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data))
    return [(ws.title, c) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_briefing_xlsx_is_formula_safe(city, lang):
    store, as_of, start = city["store"], city["as_of"], city["start"]
    b = briefing(store, authorize(Principal("admin", "admin")), start=start, end=as_of, as_of=as_of,
                 settings=SETTINGS)
    data = briefing_xlsx(b, lang)
    cells = _cells(data)
    assert {t for t, _ in cells} == set(briefing_sheets(b, lang))
    assert not [c.coordinate for _, c in cells if c.data_type == "f"]
    texts = {c.value for _, c in cells if c.data_type == "s"}
    for evil in (EVIL_NAME, "-2+3", "@SUM(A1:A9)", "+86-138-0000-0000"):
        assert evil in texts          # kept as the text it is, never run
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    major = wb.get_sheet_by_name("重大隐患" if lang == "zh" else "Major hazards").to_python()
    assert any(EVIL_NAME in row for row in major)


def test_public_naming_only_publishable_fields(city):
    store, as_of, start, x, ex, ey = (city[k] for k in ("store", "as_of", "start", "x", "ex", "ey"))
    naming = authorize(Principal("cmd", "command"), "ledger.city")
    p = public_naming(store, naming, start=start, end=as_of)
    assert list(p.columns) == list(PUBLIC_FIELDS)
    assert not {"responsible_person", "officer", "contact", "phone", "checker", "issued_by", "reason",
                "description"} & set(p.columns)
    people = set(store.read("hazards")["responsible_person"].dropna()) | \
        set(store.read("responsibilities")["officer"].dropna()) | set(store.read("enterprises")["contact"].dropna()) | \
        {"执法员王某"}
    values = {str(v) for v in p.astype(str).to_numpy().ravel()}
    assert not people & values
    mine = p[p["credit_code"].isin(store.read("enterprises", ids=[ex, ey])["credit_code"])]
    got = sorted(zip(mine["basis"], mine["order_kind"].fillna(""), mine["doc_no"].fillna(""), strict=True))
    assert ("order", "close", "关字〔2026〕2号") in got and ("order", "suspend", "@SUM(A1:A9)") in got
    assert ("major_hazard", "", "") in got
    assert not p["doc_no"].isin(["复字〔2026〕3号", "停字〔2020〕1号"]).any()   # resumption; outside the period
    fd = pd.to_datetime(p["date"])
    assert ((fd >= pd.Timestamp(start)) & (fd <= pd.Timestamp(as_of))).all()
    major = p[p["basis"] == "major_hazard"]
    assert major["hazard_level"].eq("major").all() and len(major) >= 1
    # a command user narrowed to one district; a read-only access may not
    one = public_naming(store, authorize(Principal("cmd", "command"), "ledger.city", districts=x), start=start,
                        end=as_of)
    assert set(one["district_code"]) == {x} and len(one) < len(p)
    with pytest.raises(ActionDenied):
        public_naming(store, authorize(Principal("admin", "admin")), start=start, end=as_of)
    cells = _cells(public_naming_xlsx(p, "zh"))
    assert not [c for _, c in cells if c.data_type == "f"] and EVIL_NAME in {c.value for _, c in cells}


def test_duties_and_league(city):
    store, as_of = city["store"], city["as_of"]
    d = duties(store)
    em = d[(d["department_id"] == "DEPT-EM") & d["duty"].eq("危险化学品安全监管")]
    assert em[["target_layer", "industry"]].values.tolist() == [["enterprises", "hazchem"]]
    assert em["department_name"].iloc[0] and em["industry_zh"].iloc[0] == "危险化学品"
    none = d[d["department_id"] == "DEPT-NONE"]   # a department without any duty: listed once, empty
    assert len(none) == 1 and none["target_layer"].isna().all() and none["department_name"].iloc[0] == "无清单局"
    orders = store.read("orders")
    orders = orders[orders["date"] <= pd.Timestamp(as_of)]
    g = league_for(store, authorize(Principal("admin", "admin")), by="department", as_of=as_of)
    assert g.set_index("key").loc["DEPT-EM", "orders"] == int(orders["department_id"].eq("DEPT-EM").sum()) >= 4
    assert "DEPT-NONE" in set(g["key"])
    gd = league_for(store, authorize(Principal("lx", "district", district=city["x"])), by="district", as_of=as_of)
    ent = store.read("enterprises", columns=["id", "district_code"])
    in_x = set(ent.loc[ent["district_code"] == city["x"], "id"])
    assert gd["key"].tolist() == [city["x"]]
    assert gd["orders"].tolist() == [int((orders["target_layer"].eq("enterprises") &
                                          orders["target_id"].isin(in_x)).sum())]


def test_period_dates_in_order(city):
    store, as_of, start = city["store"], city["as_of"], city["start"]
    admin = authorize(Principal("admin", "admin"))
    a = briefing(store, admin, start=start, end=as_of, as_of=as_of, settings=SETTINGS)
    b = briefing(store, admin, start=as_of, end=start, as_of=as_of, settings=SETTINGS)
    assert a.figures == b.figures and (b.start, b.end) == (start, as_of)
    assert isinstance(date.fromisoformat(a.by_month["month"].iloc[0] + "-01"), date)
