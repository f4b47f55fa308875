"""Saving and opening plans, completions, the double-random draw, exports and the CLI."""

from __future__ import annotations

import csv
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from test_plan_helpers import AS_OF, _gdf, build_plan_city, random_enterprises

from layers.cli import main as cli_main
from layers.errors import RiskMapError
from layers.planning import random_draw as plan_random
from layers.planning import routes as P
from layers.planning import saved as plan_store
from layers.planning.sheets import route_sheet, write_plan_csv, write_route_sheet_xlsx
from layers.settings import Settings


@pytest.fixture
def city(tmp_path):
    return build_plan_city(tmp_path / "plan.gpkg")


@pytest.fixture
def settings():
    return Settings()


def _plan(store, settings, **kw):
    cands = P.candidates(store, as_of=AS_OF, settings=settings)
    return P.plan_routes(store, cands, P.teams_from_store(store), dates=[AS_OF], settings=settings, **kw)


def test_save_open_and_versions(city, settings):
    plan = _plan(city, settings, locks={"enterprises:F1": "T1"})
    pid = plan_store.save_plan(city, plan, name="十二月检查", created_by="planner")
    again = plan_store.save_plan(city, plan, name="十二月检查", created_by="planner")
    assert plan_store.load_plan(city, pid).version == 1
    opened = plan_store.load_plan(city, again)
    assert opened.version == 2 and opened.created_by == "planner"
    assert list(opened.stops["key"]) == list(plan.stops.sort_values(["team_id", "day", "seq"])["key"])
    assert opened.stops.set_index("key").loc["enterprises:F1", "locked"]
    assert set(opened.unassigned["key"]) == set(plan.unassigned["key"])
    assert dict(zip(opened.unassigned["key"], opened.unassigned["reason"], strict=True))["enterprises:E4"] == "no_skill"
    assert len(opened.timeline) == len(plan.timeline)
    listed = plan_store.list_plans(city)
    assert set(listed["id"]) == {pid, again}


def test_recorded_completion_changes_dead_corner_status(city, settings):
    today = date.today()  # completions cannot be dated in the future
    plan = P.plan_routes(city, P.candidates(city, as_of=today, settings=settings), P.teams_from_store(city),
                         dates=[today], settings=settings)
    pid = plan_store.save_plan(city, plan, name="p", created_by="planner")
    key = "enterprises:E1"
    assert key in set(P.candidates(city, as_of=today, settings=settings)["key"])
    plan_store.record_completion(city, pid, key, on=today, result="hazards_found", hazards_found=2,
                                 action="order_rectify")
    # E1 (major, every 30 days) inspected today: no longer a dead corner, and again one 31 days later
    assert key not in set(P.candidates(city, as_of=today, settings=settings)["key"])
    assert key in set(P.candidates(city, as_of=today + timedelta(days=31), settings=settings)["key"])
    opened = plan_store.load_plan(city, pid)
    assert opened.stops.set_index("key").loc[key, "status"] == "done"
    assert (opened.stops["status"] == "done").sum() == 1
    ins = city.read("inspections", where={"plan_id": pid})
    assert list(ins["target_id"]) == ["E1"] and int(ins["hazards_found"].iloc[0]) == 2


def test_imported_inspection_with_plan_id_marks_stop_done(city, settings):
    import pandas as pd

    plan = _plan(city, settings)
    pid = plan_store.save_plan(city, plan, name="p", created_by="planner")
    with city.transaction() as tx:
        tx.append("inspections", pd.DataFrame([{"id": "X1", "target_layer": "enterprises", "target_id": "E3",
                                                "date": AS_OF.isoformat(), "result": "pass", "plan_id": pid}]))
    opened = plan_store.load_plan(city, pid)
    assert opened.stops.set_index("key").loc["enterprises:E3", "status"] == "done"


def test_completion_of_unknown_stop_or_in_future_is_refused(city, settings):
    pid = plan_store.save_plan(city, _plan(city, settings), name="p", created_by="planner")
    with pytest.raises(RiskMapError, match="no stop"):
        plan_store.record_completion(city, pid, "enterprises:E4", on=date.today())  # E4 is unassigned
    with pytest.raises(RiskMapError, match="future"):
        plan_store.record_completion(city, pid, "enterprises:E1", on=date.today() + timedelta(days=1))


def test_same_seed_same_double_random_draw(tmp_path):
    store = build_plan_city(tmp_path / "draw.gpkg")
    with store.transaction() as tx:
        tx.append("enterprises", _gdf(random_enterprises(200)))
    teams = P.teams_from_store(store)
    a, rec_a = plan_random.draw(store, teams, seed=20261201, fraction=0.05, grades=["low"])
    b, rec_b = plan_random.draw(store, teams, seed=20261201, fraction=0.05, grades=["low"])
    c, _ = plan_random.draw(store, teams, seed=7, fraction=0.05, grades=["low"])
    assert rec_a["population"] == 201  # 200 random ones + E2
    assert len(a) == 11  # ceil(5% of 201)
    assert rec_a["drawn"] == rec_b["drawn"] and rec_a["pairing"] == rec_b["pairing"]
    assert rec_a["drawn"] != c["key"].tolist()
    # hazchem in 420102: only T1 qualifies
    assert set(rec_a["pairing"].values()) == {"T1"}
    again, rec_again = plan_random.repeat(store, teams, rec_a)
    assert rec_again["drawn"] == rec_a["drawn"]


def test_draw_in_plan_is_recorded_and_served(tmp_path, settings):
    store = build_plan_city(tmp_path / "draw.gpkg")
    with store.transaction() as tx:
        tx.append("enterprises", _gdf(random_enterprises(60)))
    teams = P.teams_from_store(store)
    sample, rec = plan_random.draw(store, teams, seed=1, count=3)
    cands = P.candidates(store, as_of=AS_OF, settings=settings, limit=10)
    cands = P.add_candidates(cands[~cands["key"].isin(sample["key"])], store, sample["key"], as_of=AS_OF,
                             settings=settings, source="random")
    plan = P.plan_routes(store, cands, teams, dates=[AS_OF], settings=settings,
                         locks={k: t for k, t in rec["pairing"].items() if t}, extra_params={"random": rec})
    served = plan.stops.set_index("key")
    for k in rec["drawn"]:
        assert served.loc[k, "team_id"] == rec["pairing"][k]
    pid = plan_store.save_plan(store, plan, name="双随机", created_by="planner")
    assert plan_store.load_plan(store, pid).params["random"]["drawn"] == rec["drawn"]


def test_exports_are_formula_safe(tmp_path, settings):
    store = build_plan_city(tmp_path / "x.gpkg")
    with store.transaction() as tx:
        tx.update("enterprises", ["E1"], {"name": "=HYPERLINK(\"http://x\",\"y\")", "address": "+1-2"})
    plan = _plan(store, settings)
    team = plan.stops.set_index("key").loc["enterprises:E1", "team_id"]
    sheet = route_sheet(plan, team, lang="en")
    assert list(sheet["No."]) == list(range(1, len(sheet) + 1))
    xlsx = write_route_sheet_xlsx(plan, team, tmp_path / "sheet.xlsx")
    ws = load_workbook(xlsx)["路线单"]
    names = [c.value for c in ws["G"]]
    assert "=HYPERLINK(\"http://x\",\"y\")" in names
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    out = write_plan_csv(plan, tmp_path / "plan.csv")
    with open(out, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    flat = [v for r in rows for v in r]
    assert "'=HYPERLINK(\"http://x\",\"y\")" in flat and "'+1-2" in flat
    assert not any(v.startswith("=") for v in flat)


def test_cli_plan(tmp_path, capsys):
    path = tmp_path / "cli.gpkg"
    build_plan_city(path)
    out = tmp_path / "plan.xlsx"
    code = cli_main(["plan", "--store", str(path), "--date", AS_OF.isoformat(), "--district", "420102",
                     "--district", "420103", "--teams", "T1,T2", "--out", str(out), "--lang", "en",
                     "--save", "cli plan"])
    text = capsys.readouterr().out
    assert code == 0
    assert "priority served" in text and "T1" in text and "T2" in text
    assert "no team with the skill: 1" in text  # E4 mining
    assert "road network" in text
    wb = load_workbook(out)
    assert set(wb.sheetnames) >= {"Plan", "T1", "T2"}
    assert "saved plan P20261201-" in text


def test_cli_bad_team(tmp_path, capsys):
    path = tmp_path / "cli.gpkg"
    build_plan_city(path)
    code = cli_main(["plan", "--store", str(path), "--date", "2026-12-01", "--teams", "NOPE"])
    assert code == 1
    assert "NOPE" in capsys.readouterr().out


def test_cli_bad_date(tmp_path, capsys):
    path = tmp_path / "cli.gpkg"
    build_plan_city(path)
    assert cli_main(["plan", "--store", str(path), "--date", "2026-13-01"]) == 1
    assert "YYYY-MM-DD" in capsys.readouterr().out


def test_week_dates_skip_weekend():
    assert P.week_dates(date(2026, 12, 4), 3) == [date(2026, 12, 4), date(2026, 12, 7), date(2026, 12, 8)]


def test_results_file_import_completes_stops(tmp_path, settings, capsys):
    """A results file (GBK CSV with Chinese headers, as an inspector's spreadsheet would be) imported with
    ``python -m layers import inspections`` marks the planned stop done and closes the dead corner."""
    path = tmp_path / "imp.gpkg"
    store = build_plan_city(path)
    plan = _plan(store, settings)
    pid = plan_store.save_plan(store, plan, name="导入", created_by="planner")
    today = date.today()  # the importer refuses inspections dated in the future
    results = tmp_path / "results.csv"
    results.write_bytes(("编号,对象类型,对象编号,检查日期,检查结果,计划编号\n"
                         f"R1,enterprises,E1,{today.isoformat()},pass,{pid}\n").encode("gbk"))
    assert "enterprises:E1" in set(P.candidates(store, as_of=today, settings=settings)["key"])
    code = cli_main(["import", "inspections", str(results), "--store", str(path)])
    out = capsys.readouterr().out
    assert code == 0 and "written 1" in out, out
    opened = plan_store.load_plan(store, pid)
    assert opened.stops.set_index("key").loc["enterprises:E1", "status"] == "done"
    assert "enterprises:E1" not in set(P.candidates(store, as_of=today, settings=settings)["key"])


def test_plan_json_round_trip(city, settings):
    plan = _plan(city, settings)
    back = plan_store.plan_from_json(plan_store.plan_to_json(plan))
    assert list(back.stops["key"]) == list(plan.stops["key"])
    assert (back.stops["arrival"] == plan.stops["arrival"]).all()
    assert list(back.unassigned["reason"]) == list(plan.unassigned["reason"])
    assert back.summary == plan.summary


def test_hazards_found_on_a_visit_become_ledger_rows_with_the_visit(city, settings):
    from layers.access.policy import Principal

    today = date.today()
    plan = P.plan_routes(city, P.candidates(city, as_of=today, settings=settings), P.teams_from_store(city),
                         dates=[today], settings=settings)
    pid = plan_store.save_plan(city, plan, name="p", created_by="planner")
    found = plan_store.completion_hazards("重大：消防通道堵塞：占用疏散通道\n\n电气线路私拉乱接\n")
    assert list(found["level"]) == ["major", "general"]
    assert list(found["type"].fillna("")) == ["消防通道堵塞", ""]
    planner = Principal(id="planner", role="planner")
    ins_id = plan_store.record_completion(city, pid, "enterprises:E1", on=today, result="pass", hazards=found,
                                          principal=planner)
    ins = city.read("inspections", ids=[ins_id]).iloc[0]
    assert ins["result"] == "hazards_found" and int(ins["hazards_found"]) == 2   # the hazards win over "pass"
    hz = city.read("hazards", where={"inspection_id": ins_id})
    assert len(hz) == 2 and set(hz["status"]) == {"open"} and set(hz["target_id"]) == {"E1"}
    assert set(hz["level"]) == {"major", "general"} and (hz["found_date"].dt.date == today).all()
    audit = city.read("audit_log", where={"layer": "hazards"})
    assert set(hz["id"]) <= set(audit["record_id"]) and set(audit["user_id"]) == {"planner"}


def test_a_refused_registration_leaves_no_inspection_either(city, settings):
    from layers.access.policy import Principal
    from layers.errors import AccessDenied

    today = date.today()
    plan = P.plan_routes(city, P.candidates(city, as_of=today, settings=settings), P.teams_from_store(city),
                         dates=[today], settings=settings)
    pid = plan_store.save_plan(city, plan, name="p", created_by="planner")
    before = city.count("inspections"), city.count("hazards"), city.count("audit_log")
    wall = Principal(id="kiosk", role="wall")   # may not record anything
    with pytest.raises(AccessDenied):
        plan_store.record_completion(city, pid, "enterprises:E1", on=today,
                                     hazards=plan_store.completion_hazards("电气线路私拉乱接"), principal=wall)
    assert (city.count("inspections"), city.count("hazards"), city.count("audit_log")) == before
