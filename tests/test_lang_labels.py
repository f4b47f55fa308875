"""Words in the right language (issue 13): rail-line names on the English map, the panel's bridges/tunnels KPI,
the route sheet's travel-time mode."""

from __future__ import annotations

import re

import pytest
from openpyxl import load_workbook
from test_plan_helpers import AS_OF, build_plan_city

from dashboard.components.mapfig import MapOptions, build_map
from dashboard.components.mapfig.rail import line_name, station_lines
from dashboard.components.panel import figure_panel
from layers.analysis.summary import Filters, area_figures, load_city, select
from layers.settings import Settings
from layers.store import open_store

CJK = re.compile(r"[\u4e00-\u9fff]")
W = Settings().risk_index_weights


def test_a_rail_line_is_named_in_the_pages_language():
    assert line_name({"name": "轨道交通1号线", "line_no": "1"}, "en") == "Line 1"
    assert line_name({"name": "轨道交通1号线", "line_no": "1"}, "zh") == "轨道交通1号线"
    assert line_name({"name": "轨道交通11号线", "line_no": None}, "en") == "Line 11"
    assert line_name({"name": "机场快线", "line_no": "S1", "name_en": "Airport Express"}, "en") == "Airport Express"
    assert station_lines("1,3", "en") == "Lines 1, 3" and station_lines("2", "en") == "Line 2"
    assert station_lines("1,3", "zh") == "1号线、3号线" and station_lines(None, "en") == ""


@pytest.fixture(scope="module")
def demo_city(demo_store_path):
    return load_city(open_store(demo_store_path, create=False))


def _rail(mf) -> tuple[list[str], list[str]]:
    lines = [tr["name"] for k, tr in zip(mf.traces, mf.figure["data"], strict=True)
             if k == "rail" and tr.get("mode") == "lines"]
    text = [s for k, tr in zip(mf.traces, mf.figure["data"], strict=True) if k == "rail" and tr.get("text")
            for s in tr["text"]]
    return lines, text


def test_the_english_map_names_the_demo_rail_lines_in_english(demo_city):
    sel = select(demo_city, Filters.make())
    en_lines, en_text = _rail(build_map(sel, MapOptions(lang="en"), weights=W))
    zh_lines, zh_text = _rail(build_map(sel, MapOptions(lang="zh"), weights=W))
    assert en_lines and sorted(en_lines) == [f"Line {i}" for i in range(1, len(en_lines) + 1)]
    assert all("号线" in n for n in zh_lines) and len(zh_lines) == len(en_lines)
    assert en_text and not any("号线" in s for s in en_text)     # the stations' hover names their lines in English
    assert any(re.search(r"Lines? \d", s) for s in en_text)
    assert any("号线" in s for s in zh_text)


def _caption(panel, kid: str) -> str:
    def find(c):
        if getattr(c, "id", None) == kid:
            return c
        kids = getattr(c, "children", None)
        for k in kids if isinstance(kids, list) else [kids]:
            if k is not None and not isinstance(k, str) and (hit := find(k)) is not None:
                return hit
        return None

    kpi = find(panel)
    assert kpi is not None
    return kpi.children[1].children


def test_the_bridges_and_tunnels_kpi_has_one_label(demo_city):
    figs = area_figures(select(demo_city, Filters.make()))
    en = _caption(figure_panel(figs, None, lang="en", search=None, area_title="City", child_level="district"),
                  "kpi-structures")
    zh = _caption(figure_panel(figs, None, lang="zh", search=None, area_title="全市", child_level="district"),
                  "kpi-structures")
    assert en == "Class 4-5 bridges / tunnels" and not CJK.search(en)
    assert zh == "4-5类桥梁 / 隧道"


@pytest.mark.parametrize(("lang", "words"), [("zh", "按道路网最短路径计算"), ("en", "road network shortest paths")])
def test_the_route_sheet_says_how_travel_times_were_computed_in_words(tmp_path, lang, words):
    from layers.planning import routes as P
    from layers.planning.sheets import write_route_sheet_xlsx

    store = build_plan_city(tmp_path / "plan.gpkg")
    settings = Settings()
    cands = P.candidates(store, as_of=AS_OF, settings=settings)
    plan = P.plan_routes(store, cands, P.teams_from_store(store), dates=[AS_OF], settings=settings)
    assert plan.summary["travel_mode"] == "roads"
    team = plan.stops["team_id"].iloc[0]
    ws = load_workbook(write_route_sheet_xlsx(plan, team, tmp_path / "sheet.xlsx", lang=lang))[
        "说明" if lang == "zh" else "About"]
    rows = {r[0].value: r[1].value for r in ws.iter_rows(min_row=2)}
    assert rows["行程时间" if lang == "zh" else "Travel times"] == words
    assert "roads" not in [v for v in rows.values()]
