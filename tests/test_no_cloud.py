"""No graph offers to send a figure to Plotly's hosts (issue 13): no "Share chart…" (Plotly Cloud), no "Edit in
Chart Studio", no logo linking to plotly.com, no ``plotlyServerURL``, on every graph of every page.

The rule is written out here, not taken from ``graph_config``, so that weakening the code fails the test.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import dash
import pytest
from conftest import CITY_USER

from dashboard.components.mapfig import graph_config

DASHBOARD = Path(__file__).resolve().parents[1] / "dashboard"
#: what every graph's config must say (plotly.js 4 defaults: showSendToCloud true, plotlyServerURL
#: https://cloud.plotly.com/newchart, displaylogo true)
REQUIRED = {"displaylogo": False, "showSendToCloud": False, "showEditInChartStudio": False, "plotlyServerURL": ""}
#: toolbar buttons that upload a figure (plotly.js 4 and earlier), removed from every toolbar
CLOUD_BUTTONS = {"sendcharttocloud", "senddatatocloud", "editinchartstudio"}
#: text that points at Plotly's hosts, looked for in configs and figures
CLOUD_WORDS = ("plotly.com", "plot.ly", "chart-studio", "chartstudio", "chart studio", "sendchart", "senddata",
               "cloud")


def config_problems(config: dict | None) -> list[str]:
    cfg = dict(config or {})
    problems = [f"{k}={cfg.get(k, '<unset>')!r}, wants {v!r}" for k, v in REQUIRED.items()
                if k not in cfg or cfg[k] != v or type(cfg[k]) is not type(v)]
    removed = {str(b).lower() for b in cfg.get("modeBarButtonsToRemove") or []}
    problems += [f"{b} not in modeBarButtonsToRemove" for b in sorted(CLOUD_BUTTONS - removed)]
    added = json.dumps([cfg.get("modeBarButtonsToAdd"), cfg.get("modeBarButtons")]).lower()
    problems += [f"toolbar adds {w!r}" for w in CLOUD_WORDS if w in added]
    return problems


def figure_problems(figure: object) -> list[str]:
    if figure is None:
        return []
    fig = figure.to_plotly_json() if hasattr(figure, "to_plotly_json") else figure
    text = json.dumps(fig, default=str).lower()
    problems = [f"figure mentions {w!r}" for w in CLOUD_WORDS if w in text]
    modebar = (fig.get("layout") or {}).get("modebar") or {} if isinstance(fig, dict) else {}
    if modebar.get("add"):
        problems.append(f"figure adds toolbar buttons {modebar['add']!r}")
    return problems


def _walk(component):
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            yield from _walk(child)


def test_graph_config_keeps_options_and_stays_offline():
    cfg = graph_config(scrollZoom=True, remove=["toImage"])
    assert cfg["scrollZoom"] is True and "toImage" in cfg["modeBarButtonsToRemove"]
    assert config_problems(cfg) == []
    for bad in ({"showSendToCloud": True}, {"plotlyServerURL": "https://cloud.plotly.com/newchart"},
                {"displaylogo": True}, {"modeBarButtonsToRemove": []}):
        with pytest.raises(ValueError, match="Plotly"):
            graph_config(**bad)


def _graph_calls():
    for path in sorted(DASHBOARD.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("dcc.Graph", "Graph", "dash.dcc.Graph"):
                yield f"{path.relative_to(DASHBOARD.parent)}:{node.lineno}", node


def test_every_graph_in_the_code_takes_graph_config():
    """Every ``dcc.Graph`` the code builds (in a layout or in a callback's reply) gets its config from
    ``graph_config``: a new graph without it fails here."""
    calls = dict(_graph_calls())
    assert len(calls) >= 7, sorted(calls)       # map, coverage, plan map and timeline, route sheet, wall, object
    bad = [where for where, node in calls.items()
           if not any(k.arg == "config" and isinstance(k.value, ast.Call)
                      and ast.unparse(k.value.func).split(".")[-1] == "graph_config" for k in node.keywords)]
    assert bad == []


def test_no_callback_changes_a_graph_config(live_app):
    """Configs come from the layouts only: no callback writes a graph's ``config``."""
    c = live_app.app.server.test_client()
    assert c.post("/login", data={"username": "admin", "password": "demo", "next": "/"}).status_code == 302
    deps = c.get("/_dash-dependencies").get_json()
    outputs = [o for d in deps for o in d["output"].strip(".").split("...")]
    assert len(outputs) > 10
    assert [o for o in outputs if o.rsplit(".", 1)[-1] == "config"] == []


def _page_query(page: dict, store) -> dict:
    if page["path"] == "/object":
        return {"layer": "enterprises", "id": str(store.read("enterprises", columns=["id"])["id"].iloc[0])}
    return {}


def test_every_page_layout_and_callback_figure_is_offline(live_app, request_ctx):
    from dashboard.pages import coverage, wall
    from dashboard.planner import actions
    from dashboard.planner.ids import Ids as PlanIds
    from layers.store import open_store

    store = open_store(live_app.store_path, create=False)
    graphs, figures = {}, {}
    for page in dash.page_registry.values():
        layout = page["layout"]
        with request_ctx(user=CITY_USER, path=page["path"]):
            body = layout(**_page_query(page, store)) if callable(layout) else layout
        graphs |= {f"{page['path']} #{getattr(c, 'id', None)}": c for c in _walk(body) if type(c).__name__ == "Graph"}
    ids = set(graphs)
    assert {"/ #map-graph", "/object #object-map", "/wall #" + wall.Ids.MAP, "/coverage #" + coverage.Ids.MAP,
            "/plan #" + PlanIds.MAP, "/plan #" + PlanIds.GANTT} <= ids, sorted(ids)
    problems = {k: config_problems(g.config) + figure_problems(getattr(g, "figure", None))
                for k, g in graphs.items()}
    # the figures the callbacks send later: coverage, the wall's redraw, the planner's (empty) plan
    with request_ctx(user=CITY_USER, path="/coverage"):
        figures["coverage.update"] = coverage.update(None, None, 2, "greedy", "zh")[2]
    with request_ctx(user=CITY_USER, path="/wall"):
        figures["wall.refresh"] = wall.refresh(1, None, None, {}, {"lang": "zh", "stops": []})[0]
    with request_ctx(user=CITY_USER, path="/plan"):
        out = actions.render_plan(None, None, [], None, "zh")
        figures["plan map"], figures["plan timeline"] = out[1], out[2]
    assert all(isinstance(f, dict) and f.get("data") is not None for f in figures.values()), figures.keys()
    problems |= {k: figure_problems(f) for k, f in figures.items()}
    assert {k: v for k, v in problems.items() if v} == {}


@pytest.mark.browser
def test_map_toolbar_has_no_cloud_and_nothing_leaves_the_machine(watched_page, live_app):
    """On ``/``: the toolbar (shown on hover) has no Plotly Cloud / Chart Studio button and no link out, and
    the page asks nothing of another host."""
    page = watched_page.page
    page.set_default_timeout(120_000)
    page.goto(live_app.url + "/")
    gd = "document.querySelector('#map-graph .js-plotly-plot')"
    page.wait_for_function(f"() => {{ const g = {gd}; return !!(g && g._fullLayout && g._fullLayout._modeBar); }}",
                           timeout=90_000)
    page.wait_for_load_state("networkidle")
    page.hover("#map-graph")
    bar = page.evaluate(f"""() => {{ const g = {gd};
        return {{names: g._fullLayout._modeBar.buttons.flat().map(b => String(b.name)),
                 server: String(g._context.plotlyServerURL), cloud: g._context.showSendToCloud,
                 titles: Array.from(g.querySelectorAll('.modebar [data-title]')).map(e => e.dataset.title),
                 links: Array.from(g.querySelectorAll('a[href]')).map(a => a.href)}}; }}""")
    assert bar["names"], "the map has a toolbar"
    assert {n.lower() for n in bar["names"]} & CLOUD_BUTTONS == set()
    assert bar["server"] == "" and bar["cloud"] is False
    assert [s for s in bar["titles"] if any(w in s.lower() for w in ("share", "cloud", "studio", "plotly"))] == []
    assert [u for u in bar["links"] if not u.startswith(live_app.url)] == []
    page.wait_for_load_state("networkidle")
    assert watched_page.foreign_requests(live_app.host) == []
    assert watched_page.errors == []
