"""The map figure builder (dashboard/components/mapfig.py) on the hand-made city of test_summary."""

from __future__ import annotations

import base64
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import shapely
from test_summary import XSS, build_tiny_city

from dashboard.components.mapfig import (
    ALWAYS,
    DEFAULT_VISIBLE,
    TOGGLES,
    MapOptions,
    build_map,
    chain_lines,
    city_map,
    esc,
    ring_coords,
    surroundings_map,
    typed,
    visibility_patch,
)
from dashboard.components.theme import register_templates, template_dict
from geo.crs import wgs84_to_gcj02
from layers.analysis.summary import Filters, load_city, nearby, select
from layers.schema import GRADE_ORDER, GRADES
from layers.settings import Settings

W = Settings().risk_index_weights


@pytest.fixture
def tiny(tmp_path):
    return build_tiny_city(tmp_path / "tiny.gpkg")


def _decode(arr) -> np.ndarray:
    if isinstance(arr, dict):
        return np.frombuffer(base64.b64decode(arr["bdata"]), dtype="<" + arr["dtype"])
    return np.asarray(arr, dtype=float)


def _trace(mf, pred):
    return [tr for tr in mf.figure["data"] if pred(tr)]


def test_typed_and_rings():
    spec = typed([1.5, np.nan, 114.30001])
    back = _decode(spec)
    assert spec["dtype"] == "f4" and back[0] == 1.5 and np.isnan(back[1])
    assert abs(back[2] - 114.30001) < 1e-5        # float32 keeps about 0.7 m at lon 114
    sq = shapely.box(0, 0, 1, 1)
    x, y = ring_coords(np.array([sq, shapely.box(2, 2, 3, 3)], dtype=object))
    assert len(x) == 5 + 1 + 5 and np.isnan(x[5])   # two closed rings, one NaN between
    assert esc(XSS) == "&lt;img src=x onerror=alert(1)&gt;"
    assert esc(None) == "" and esc(float("nan")) == ""


def test_chain_lines_keeps_every_segment():
    segs = []
    for i in range(4):                      # a 3 x 3 block grid: 24 unit segments, 16 nodes
        for j in range(3):
            segs += [shapely.LineString([(j, i), (j + 1, i)]), shapely.LineString([(i, j), (i, j + 1)])]
    chains = chain_lines(np.array(segs, dtype=object))
    assert len(chains) < len(segs) / 3
    assert shapely.length(chains).sum() == pytest.approx(24.0)
    # every original segment is covered by the chains
    union = shapely.union_all(chains)
    assert all(shapely.covers(union, s) for s in segs)
    assert len(chain_lines(np.array([], dtype=object))) == 0


def _offline_map(fig) -> None:
    """A MapLibre figure that asks no other host: a style dict without glyphs or sprite (never a built-in style
    name), only circle markers (any other symbol fetches an icon from a CDN), no cartesian axes."""
    lay = fig["layout"]
    style = lay["map"]["style"]
    assert isinstance(style, dict) and "glyphs" not in style and "sprite" not in style
    assert "xaxis" not in lay and "yaxis" not in lay
    assert {tr["type"] for tr in fig["data"]} <= {"scattermap", "choroplethmap", "densitymap"}
    for tr in fig["data"]:
        assert tr.get("marker", {}).get("symbol", "circle") == "circle", tr["name"]
        assert "text" not in tr.get("mode", "")          # text on the map would be a symbol layer


def _customs(mf, key, kind="scattermap"):
    return [c for k, tr in zip(mf.traces, mf.figure["data"], strict=True) if k == key and tr["type"] == kind
            for c in tr.get("customdata", [])]


def test_city_figure_layers_escape_and_map(tiny):
    mf = city_map(tiny, options=MapOptions(lang="zh"), weights=W)
    fig = mf.figure
    go.Figure(fig)                          # a valid Plotly figure
    _offline_map(fig)
    assert len(mf.traces) == len(fig["data"])
    assert set(mf.traces) <= {*TOGGLES, ALWAYS}
    for key, tr in zip(mf.traces, fig["data"], strict=True):
        assert tr.get("visible", True) is (key == ALWAYS or key in DEFAULT_VISIBLE)
    # the view: centred on the city, zoomed to it
    m = fig["layout"]["map"]
    assert 114.0 < m["center"]["lon"] < 114.2 and 30.0 < m["center"]["lat"] < 30.1 and 10 < m["zoom"] < 14
    # enterprises: one circle trace per grade, customdata layer:id; not clustered by default (plotly.js's hover
    # on clustered scattermap traces throws: plotly/dash#2706)
    ent = [tr for k, tr in zip(mf.traces, fig["data"], strict=True) if k == "enterprises"
           and tr["type"] == "scattermap" and tr.get("customdata")]
    assert sorted(_customs(mf, "enterprises")) == ["enterprises:e1", "enterprises:e2", "enterprises:e3",
                                                   "enterprises:e4"]
    assert not any(tr.get("cluster", {}).get("enabled") for tr in ent)
    # one trace for the four grades (fewer MapLibre sources: zooming), each point in its grade's colour and
    # size, major drawn last (on top)
    assert len(ent) == 1
    grades = tiny.read("enterprises", columns=["id", "grade"]).set_index("id")["grade"]
    order = [grades[c.split(":", 1)[1]] for c in ent[0]["customdata"]]
    assert [GRADES[g]["color"] for g in order] == ent[0]["marker"]["color"]
    assert order == sorted(order, key=lambda g: -GRADE_ORDER.index(g))     # low … major
    size = np.frombuffer(base64.b64decode(ent[0]["marker"]["size"]["bdata"]), dtype="f4")
    assert [float(v) for v in size] == [{"major": 9.0, "high": 7.5}.get(g, 6.0) for g in order]
    assert all(isinstance(tr["lon"], dict) and tr["lon"]["dtype"] == "f4" for tr in ent)   # typed arrays
    # the data text is escaped, never raw HTML
    text = json.dumps(fig, ensure_ascii=False)
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    hover = {c: h for tr in ent for c, h in zip(tr["customdata"], tr["text"], strict=True)}
    assert "市应急管理局 · 张三" in hover["enterprises:e1"] and "2026-06-30" in hover["enterprises:e1"]
    assert "从未检查" in hover["enterprises:e4"]
    # areas: a clickable choropleth of the districts (always) and the risk colours (switchable)
    assert _customs(mf, ALWAYS, "choroplethmap") == ["district:420101", "district:420102"]
    risk = [tr for k, tr in zip(mf.traces, fig["data"], strict=True) if k == "risk" and tr["type"] == "choroplethmap"]
    assert len(risk) == 1 and risk[0]["customdata"] == ["district:420101", "district:420102"]
    assert "风险指数: 100" in risk[0]["text"][0] and "甲区" in risk[0]["text"][0]
    assert {f["id"] for f in risk[0]["geojson"]["features"]} == {"420101", "420102"}
    # no area-name traces: the names are the basemap's labels
    assert not fig["layout"].get("annotations")
    # hazards: the open ones (h1 overdue gets a ring under it); the closed one (h2) is not drawn
    assert len(_customs(mf, "hazards")) == 3
    rings = [tr for k, tr in zip(mf.traces, fig["data"], strict=True) if k == "hazards" and tr["name"] == "逾期隐患"
             and not tr.get("showlegend")]
    assert len(rings) == 1 and "customdata" not in rings[0]
    assert not mf.aggregated


def test_district_view_and_english(tiny):
    sel = select(load_city(tiny), Filters.make(districts=["420102"]))
    mf = build_map(sel, MapOptions(lang="en", visible=frozenset({"enterprises"})), weights=W)
    fig = mf.figure
    _offline_map(fig)
    # the towns of the district are the clickable areas
    assert _customs(mf, ALWAYS, "choroplethmap") == ["town:420102001", "town:420102002"]
    assert "Yi-1" in _trace(mf, lambda tr: tr["type"] == "choroplethmap")[0]["text"][0]
    assert 114.1 < fig["layout"]["map"]["center"]["lon"] < 114.2
    for key, tr in zip(mf.traces, fig["data"], strict=True):
        assert tr.get("visible", True) is (key in (ALWAYS, "enterprises"))
    ent = _trace(mf, lambda tr: tr["type"] == "scattermap" and tr["name"] == "Enterprises")
    assert sorted(c for tr in ent for c in tr["customdata"]) == ["enterprises:e3", "enterprises:e4"]
    assert "Major · Hazardous chemicals" in " ".join(x for tr in ent for x in tr["text"])


def test_hexagons_when_too_many_points(tiny):
    sel = select(load_city(tiny), Filters())
    mf = build_map(sel, MapOptions(point_limit=2, hex_resolution=7), weights=W)
    assert mf.aggregated
    _offline_map(mf.figure)
    cells = [tr for k, tr in zip(mf.traces, mf.figure["data"], strict=True) if k == "enterprises"
             and tr["type"] == "choroplethmap"]
    assert len(cells) == 1
    # each enterprise is far enough from the others to sit in its own res-7 cell (~1.2 km edge)
    assert len(cells[0]["locations"]) == 4 and len(cells[0]["geojson"]["features"]) == 4
    # customdata: the click target first, then the counts by grade, the total, the worst grade's share and name
    custom = cells[0]["customdata"]
    assert sorted(c[0] for c in custom) == ["district:420101", "district:420101", "district:420102", "district:420102"]
    assert sum(c[5] for c in custom) == 4 and all(sum(c[1:5]) == c[5] for c in custom)
    # coloured by the worst grade: the class index is 2 x grade (+1 when it is at least a quarter of the cell)
    z = _decode(cells[0]["z"]) - 0.5
    assert len(z) == 4 and set(z.tolist()) <= set(range(8)) and all(v % 2 == 1 for v in z)   # alone: 100 %
    assert all(c[6] == 1.0 for c in custom) and "最高等级" in cells[0]["hovertemplate"]
    assert "text" not in cells[0]                   # one hover template, not a text per cell
    assert not [c for tr in mf.figure["data"] if tr["type"] == "scattermap" for c in tr.get("customdata", [])
                if str(c).startswith("enterprises:")]          # no points in the aggregated view
    go.Figure(mf.figure)


def test_visibility_patch_touches_only_switchable_traces():
    traces = [ALWAYS, "enterprises", "hazards", ALWAYS, "enterprises"]
    patch = visibility_patch(traces, ["hazards"])
    ops = patch.to_plotly_json()["operations"]
    set_ops = {tuple(op["location"]): op["params"]["value"] for op in ops if op["operation"] == "Assign"}
    assert set_ops == {("data", 1, "visible"): False, ("data", 2, "visible"): True, ("data", 4, "visible"): False}


def test_gcj02_basemap_shifts_what_is_drawn_not_the_data(tiny):
    city = load_city(tiny)
    sel = select(city, Filters())
    plain = build_map(sel, MapOptions(crs="wgs84"), weights=W)
    shifted = build_map(sel, MapOptions(crs="gcj02"), weights=W)
    ent = [tr for tr in plain.figure["data"] if tr.get("customdata") and tr["customdata"][0].startswith("enterprises:")]
    ent2 = [tr for tr in shifted.figure["data"] if tr.get("customdata") and tr["customdata"][0].startswith("enterprises:")]
    lon, lat = _decode(ent[0]["lon"]).astype(float), _decode(ent[0]["lat"]).astype(float)
    gx, gy = wgs84_to_gcj02(lon, lat)
    assert np.allclose(_decode(ent2[0]["lon"]), gx, atol=1e-5) and np.allclose(_decode(ent2[0]["lat"]), gy, atol=1e-5)
    assert np.abs(_decode(ent2[0]["lon"]) - lon).max() > 1e-3           # hundreds of metres near Wuhan
    # the areas too; the stored coordinates are unchanged
    f1 = [tr for tr in plain.figure["data"] if tr["type"] == "choroplethmap"][0]["geojson"]["features"][0]
    f2 = [tr for tr in shifted.figure["data"] if tr["type"] == "choroplethmap"][0]["geojson"]["features"][0]
    assert json.dumps(f1["geometry"]) != json.dumps(f2["geometry"])
    assert city.objects["enterprises"]["x"].tolist() == load_city(tiny).objects["enterprises"]["x"].tolist()
    assert shifted.figure["layout"]["meta"]["crs"] == "gcj02"


def test_surroundings_and_templates(tiny):
    city = load_city(tiny)
    row = city.objects["enterprises"].set_index("id").loc["e1"].copy()
    row["id"] = "e1"
    near = nearby(city, 114.02, 30.02, radius_m=1600)
    fig = surroundings_map(city, "enterprises", row, near, radius_m=1600, lang="zh")
    go.Figure(fig)
    _offline_map(fig)
    assert 12 < fig["layout"]["map"]["zoom"] < 15      # 3.5 km across a 380 px map
    customs = [c for tr in fig["data"] for c in tr.get("customdata", [])]
    assert "venues:v1" in customs and "enterprises:e1" in customs
    register_templates()
    assert template_dict("dark")["layout"]["paper_bgcolor"] != template_dict("light")["layout"]["paper_bgcolor"]
    with pytest.raises(ValueError, match="theme"):
        template_dict("pink")


def test_html_legend_and_merged_rings_keep_the_trace_count_low(tiny):
    """Every scattermap trace is several MapLibre sources and layers: the map page's key is HTML beside the map
    and consecutive rings of one toggle are one trace (per-point colours and sizes)."""
    sel = select(load_city(tiny), Filters())
    plotly_key = build_map(sel, MapOptions(), weights=W)
    html_key = build_map(sel, MapOptions(legend="html"), weights=W)
    assert not any(tr.get("showlegend") for tr in html_key.figure["data"])
    assert html_key.figure["layout"]["showlegend"] is False
    assert len(html_key.figure["data"]) < len(plotly_key.figure["data"]) - 15
    names = [e["name"] for e in html_key.extra["legend"] if e["key"] == "enterprises"]
    assert names == ["重大风险", "较大风险", "一般风险", "低风险"]
    assert all("_ring" not in tr for tr in html_key.figure["data"])
    go.Figure(html_key.figure)
    # the hazards' overdue ring (h1) and the same points' trace: one ring trace before the points
    hz = [(tr["name"], len(_decode(tr["lon"]))) for k, tr in zip(html_key.traces, html_key.figure["data"], strict=True)
          if k == "hazards"]
    assert hz[0][0] == "逾期隐患" and hz[1] == ("隐患", 3)
