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
    tile_images,
    typed,
    visibility_patch,
)
from dashboard.components.theme import register_templates, template_dict
from geo.crs import wgs84_to_gcj02
from layers.analysis.summary import Filters, load_city, nearby, select
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


def test_city_figure_layers_escape_and_axes(tiny):
    mf = city_map(tiny, options=MapOptions(lang="zh"), weights=W)
    fig = mf.figure
    go.Figure(fig)                          # a valid Plotly figure
    assert len(mf.traces) == len(fig["data"])
    assert set(mf.traces) <= {*TOGGLES, ALWAYS}
    for key, tr in zip(mf.traces, fig["data"], strict=True):
        assert tr.get("visible", True) is (key == ALWAYS or key in DEFAULT_VISIBLE)
    # equidistant axes: y scale = x scale / cos(lat0)
    lat0 = sum(fig["layout"]["yaxis"]["range"]) / 2
    assert fig["layout"]["yaxis"]["scaleanchor"] == "x"
    assert fig["layout"]["yaxis"]["scaleratio"] == pytest.approx(1 / np.cos(np.radians(lat0)))
    # enterprises: one WebGL trace with the four grades' colours, customdata layer:id
    ent = [tr for k, tr in zip(mf.traces, fig["data"], strict=True) if k == "enterprises" and tr["type"] == "scattergl"]
    assert len(ent) == 1 and sorted(ent[0]["customdata"]) == ["enterprises:e1", "enterprises:e2", "enterprises:e3",
                                                               "enterprises:e4"]
    # the data text is escaped, never raw HTML
    text = json.dumps(fig, ensure_ascii=False)
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    hover = dict(zip(ent[0]["customdata"], ent[0]["text"], strict=True))
    assert "市应急管理局 · 张三" in hover["enterprises:e1"] and "2026-06-30" in hover["enterprises:e1"]
    assert "从未检查" in hover["enterprises:e4"]
    # district labels are annotations with clickable markers under them; risk fills per district
    notes = [a["text"] for a in fig["layout"]["annotations"]]
    assert notes == ["<b>甲区</b>", "<b>乙区</b>"]
    fills = [tr for k, tr in zip(mf.traces, fig["data"], strict=True) if k == "risk" and tr.get("fill")]
    assert [tr["meta"] for tr in fills] == ["district:420101", "district:420102"]
    assert "风险指数: 100" in fills[0]["text"]
    # hazards: the overdue one (h1) gets a ring; the closed one (h2) is not drawn
    hz = [tr for k, tr in zip(mf.traces, fig["data"], strict=True) if k == "hazards" and tr["type"] == "scattergl"]
    assert sum(len(tr["customdata"]) for tr in hz) == 3 + 1
    assert not mf.aggregated


def test_district_view_and_english(tiny):
    sel = select(load_city(tiny), Filters.make(districts=["420102"]))
    mf = build_map(sel, MapOptions(lang="en", visible=frozenset({"enterprises"})), weights=W)
    fig = mf.figure
    notes = [a["text"] for a in fig["layout"]["annotations"]]
    assert notes == ["<b>Yi</b>", "Yi-1", "Yi-2"]   # the district and its towns
    xr = fig["layout"]["xaxis"]["range"]
    assert xr[0] == pytest.approx(114.1 - 0.004) and xr[1] == pytest.approx(114.2 + 0.004)
    for key, tr in zip(mf.traces, fig["data"], strict=True):
        assert tr.get("visible", True) is (key in (ALWAYS, "enterprises"))
    ent = _trace(mf, lambda tr: tr["type"] == "scattergl" and tr["name"] == "Enterprises")[0]
    assert sorted(ent["customdata"]) == ["enterprises:e3", "enterprises:e4"]
    assert "Major · Hazardous chemicals" in " ".join(ent["text"])


def test_hexagons_when_too_many_points(tiny):
    sel = select(load_city(tiny), Filters())
    mf = build_map(sel, MapOptions(point_limit=2, hex_resolution=7), weights=W)
    assert mf.aggregated
    centres = [tr for k, tr in zip(mf.traces, mf.figure["data"], strict=True) if k == "enterprises"
               and tr["type"] == "scattergl"]
    assert len(centres) == 1
    # each enterprise is far enough from the others to sit in its own res-7 cell (~1.2 km edge)
    assert len(centres[0]["customdata"]) == 4
    assert sorted(centres[0]["customdata"]) == ["district:420101", "district:420101", "district:420102",
                                                "district:420102"]
    assert sum(int(t.split("<b>")[1].split(": ")[1].split("<")[0]) for t in centres[0]["text"]) == 4
    go.Figure(mf.figure)


def test_visibility_patch_touches_only_switchable_traces():
    traces = [ALWAYS, "enterprises", "hazards", ALWAYS, "enterprises"]
    patch = visibility_patch(traces, ["hazards"])
    ops = patch.to_plotly_json()["operations"]
    set_ops = {tuple(op["location"]): op["params"]["value"] for op in ops if op["operation"] == "Assign"}
    assert set_ops == {("data", 1, "visible"): False, ("data", 2, "visible"): True, ("data", 4, "visible"): False}


def test_tile_images_and_gcj_shift():
    imgs = tile_images("http://tiles.intra/{z}/{x}/{y}.png", [114.0, 114.2], [30.0, 30.2], width_px=1000)
    assert 1 <= len(imgs) <= 64
    z = int(imgs[0]["source"].split("/")[3])
    assert 10 <= z <= 14
    west = min(i["x"] for i in imgs)
    north = max(i["y"] for i in imgs)
    assert west <= 114.0 and north >= 30.2                     # the tiles cover the view
    shifted = tile_images("http://tiles.intra/{z}/{x}/{y}.png", [114.0, 114.2], [30.0, 30.2], width_px=1000,
                          crs="gcj02")
    # a GCJ-02 tile's corner is placed where the WGS-84 point lies that GCJ-02 maps onto the nominal corner
    # (near Wuhan about 530 m west and 290 m north of it); the data are not moved
    gx, gy = wgs84_to_gcj02(np.array([shifted[0]["x"]]), np.array([shifted[0]["y"]]))
    assert gx[0] == pytest.approx(imgs[0]["x"], abs=1e-6) and gy[0] == pytest.approx(imgs[0]["y"], abs=1e-6)
    assert -0.01 < shifted[0]["x"] - imgs[0]["x"] < -0.001 and 0.001 < shifted[0]["y"] - imgs[0]["y"] < 0.01


def test_surroundings_and_templates(tiny):
    city = load_city(tiny)
    row = city.objects["enterprises"].set_index("id").loc["e1"].copy()
    row["id"] = "e1"
    near = nearby(city, 114.02, 30.02, radius_m=1600)
    fig = surroundings_map(city, "enterprises", row, near, radius_m=1600, lang="zh")
    go.Figure(fig)
    customs = [c for tr in fig["data"] for c in tr.get("customdata", [])]
    assert "venues:v1" in customs and "enterprises:e1" in customs
    register_templates()
    assert template_dict("dark")["layout"]["paper_bgcolor"] != template_dict("light")["layout"]["paper_bgcolor"]
    with pytest.raises(ValueError, match="theme"):
        template_dict("pink")
