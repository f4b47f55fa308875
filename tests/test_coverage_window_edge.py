"""The 365-day edge of a low-grade object's interval, through the command and the page: an object inspected exactly
365 days before the as-of date is in time, one inspected 366 days before is a dead corner, one day overdue; and the
next day the first one is overdue too. The unit test of the rule is in ``test_coverage_core.py``; these run the same
edge through ``python -m layers coverage`` (its CSV and its summary line) and the coverage page's callback over HTTP
(``/_dash-update-component``, logged in), on a small store made here."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from layers import access
from layers.cli import main
from layers.settings import Settings
from layers.store import open_store

AS_OF = date(2025, 6, 30)   # the data's date (the latest inspection), in the past so nothing is "after today"
PASSWORD = "edge-case-password"


@pytest.fixture
def edge_store(tmp_path: Path) -> Path:
    """Three operating enterprises in one district: EDGE (low, 365 days), LATE (low, 366 days), FRESH (major,
    inspected on the as-of date, which makes it the data's date)."""
    assert Settings().intervals["low"] == 365
    path = tmp_path / "city.gpkg"
    store = open_store(path)
    with store.transaction() as tx:
        tx.append("districts", gpd.GeoDataFrame(
            {"code": ["420101"], "name": ["甲区"], "name_en": ["Jia"]},
            geometry=[shapely.MultiPolygon([shapely.box(114.2, 30.5, 114.4, 30.7)])], crs=4326))
        tx.append("enterprises", gpd.GeoDataFrame(
            {"id": ["EDGE", "LATE", "FRESH"], "name": ["边界企业", "晚一天企业", "新近企业"], "industry": "industry_trade",
             "grade": ["low", "low", "major"], "district_code": "420101", "status": "operating"},
            geometry=[shapely.Point(114.30, 30.60), shapely.Point(114.31, 30.61), shapely.Point(114.32, 30.62)],
            crs=4326))
        tx.append("teams", gpd.GeoDataFrame({"id": ["T1"], "name": ["一组"]}, geometry=[shapely.Point(114.3, 30.6)],
                                            crs=4326))
        tx.append("inspections", pd.DataFrame({
            "id": ["I1", "I2", "I3"], "target_layer": "enterprises", "target_id": ["EDGE", "LATE", "FRESH"],
            "date": pd.to_datetime([AS_OF - timedelta(days=365), AS_OF - timedelta(days=366), AS_OF])}))
    access.add_user(store, "edgeadmin", PASSWORD, role="admin")
    return path


def _cli_dead(store: Path, out: Path, as_of: date, capsys) -> tuple[dict[str, dict], str]:
    assert main(["coverage", "--store", str(store), "--out", str(out), "--lang", "en",
                 "--as-of", as_of.isoformat()]) == 0
    printed = capsys.readouterr().out
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("sheet") == "dead_corners"]
    return {r["ID"]: r for r in rows}, printed


def _days(row: dict, *columns: str) -> tuple[int, ...]:
    """Whole days from the CSV, written as whole numbers (366, not 366.0) though the sheets share one file."""
    assert all(row[c].isdigit() for c in columns), [row[c] for c in columns]
    return tuple(int(row[c]) for c in columns)


def test_the_command_counts_day_365_in_time_and_day_366_overdue(edge_store: Path, tmp_path: Path, capsys):
    dead, printed = _cli_dead(edge_store, tmp_path / "gaps.csv", AS_OF, capsys)
    assert set(dead) == {"LATE"}
    late = dead["LATE"]
    assert _days(late, "Days since inspection", "Days overdue", "Inspection interval (days)") == (366, 1, 365)
    assert late["Reason"].startswith(f"last inspected {AS_OF - timedelta(days=366)}, 366 days ago")
    assert f"截至 {AS_OF} (as of)" in printed and "死角 1 (dead corners)" in printed

    # one day later the object inspected 365 days before the first date is one day overdue too
    dead, printed = _cli_dead(edge_store, tmp_path / "gaps2.csv", AS_OF + timedelta(days=1), capsys)
    assert set(dead) == {"EDGE", "LATE"}
    assert _days(dead["EDGE"], "Days since inspection", "Days overdue") == (366, 1)
    assert _days(dead["LATE"], "Days since inspection", "Days overdue") == (367, 2)
    assert "死角 2 (dead corners)" in printed


def _page_update(client, as_of: str | None, lang: str = "en") -> dict:
    """The coverage page's main callback as the browser calls it: the dependency Dash serves, then one POST."""
    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if "cov-dead.rowData" in d["output"])
    outs = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in dep["output"].strip(".").split("...")]
    values = {"cov-as-of.date": as_of, "cov-districts.value": None, "cov-k.value": 0, "cov-method.value": "greedy",
              "cov-lang.data": lang}
    body = {"output": dep["output"], "outputs": outs, "changedPropIds": ["cov-as-of.date"],
            "inputs": [{**i, "value": values[f"{i['id']}.{i['property']}"]} for i in dep["inputs"]],
            "state": [{**s, "value": values[f"{s['id']}.{s['property']}"]} for s in dep["state"]]}
    reply = client.post("/_dash-update-component", json=body)
    assert reply.status_code == 200, reply.data[:500]
    return json.loads(reply.data)["response"]


def test_the_page_counts_day_365_in_time_and_day_366_overdue(edge_store: Path):
    from dashboard.app import create_app

    app = create_app(Settings(store=str(edge_store), secret_key="edge-test-secret"))
    client = app.server.test_client()
    login = client.post("/login", data={"username": "edgeadmin", "password": PASSWORD, "next": "/coverage"})
    assert login.status_code == 302 and "/login" not in login.headers["Location"]

    for as_of in (None, AS_OF.isoformat()):   # the page opens on the data's date, which is AS_OF here
        out = _page_update(client, as_of)
        dead = out["cov-dead"]["rowData"]
        assert [r["name"] for r in dead] == ["晚一天企业"]
        assert dead[0]["overdue"] == 1
        assert dead[0]["reason"].startswith(f"last inspected {AS_OF - timedelta(days=366)}, 366 days ago")
        district = out["cov-by-district"]["rowData"]
        assert [(r["code"], r["objects"], r["dead"]) for r in district] == [("420101", 3, 1)]

    out = _page_update(client, (AS_OF + timedelta(days=1)).isoformat(), lang="zh")
    dead = {r["name"]: r for r in out["cov-dead"]["rowData"]}
    assert set(dead) == {"边界企业", "晚一天企业"}
    assert (dead["边界企业"]["overdue"], dead["晚一天企业"]["overdue"]) == (1, 2)
    assert dead["边界企业"]["reason"].startswith(f"上次检查 {AS_OF - timedelta(days=365)}，已 366 天")
    assert [r["dead"] for r in out["cov-by-district"]["rowData"]] == [2]
