"""The wall's 3D view: H3 hexagons extruded by risk and the gas network, drawn by deck.gl (pydeck).

pydeck writes the deck's JSON; deck.gl's own standalone build draws it: ``dashboard/components/deckgl/`` holds
deck.gl 9.4.0's ``dist.min.js``, @deck.gl/json 9.4.0 and h3-js 4.5.0 (from the npm registry, with their licences)
and ``shim.js`` (``createDeck``/``updateDeck`` in pydeck's form), served concatenated by our own route, never from
a CDN (loaders.gl's CDN defaults inside it rewritten to a same-origin path that answers 404: deckgl/README.md).
That is 2.3 MB against the 4.3 MB notebook bundle inside pydeck (Jupyter widgets, basemap providers), and
the frame's main thread runs it in about a third of the time (benchmarks/bench_wall3d.py); the deck has no basemap (``map_provider=None``) and loads no font or tile. The view is
an ``<iframe src="/wall/deck">``: a small page of ours that loads the bundle, fetches the deck's JSON from
``/wall/deck/data.json`` (scoped to the session's user on the server) and listens for ``postMessage`` from the
wall (same origin only) to fly to a district or to reload its data when the store changed.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import flask
import numpy as np
import pandas as pd
import pydeck as pdk

from dashboard.i18n import norm_lang, register, t
from layers.schema import GRADE_ORDER, GRADES, PRESSURE_CLASSES

log = logging.getLogger(__name__)
VENDOR = Path(__file__).resolve().parent / "deckgl"
#: the bundle's parts, in order: h3-js (H3HexagonLayer looks for the global ``h3``), deck.gl, its JSON converter,
#: then our createDeck/updateDeck
BUNDLE_PARTS = ("h3-js-4.5.0.umd.js", "deck.gl-9.4.0.min.js", "deck.gl-json-9.4.0.min.js", "shim.js")
PAGE_ROUTE = "/wall/deck"
BUNDLE_ROUTE = "/wall/deck/deckgl.js"
DATA_ROUTE = "/wall/deck/data.json"
MESSAGE_KIND = "riskmap-deck"

register({
    "deck.title": ("三维风险视图", "3D risk view"),
    "deck.no_webgl": ("此浏览器不支持 WebGL，三维视图无法显示", "This browser has no WebGL; the 3D view cannot be shown"),
    "deck.no_data": ("三维视图暂无数据", "No data for the 3D view yet"),
    "deck.loading": ("三维视图加载中…", "Loading the 3D view…"),
    "deck.cell_risk": ("风险值", "Risk"),
    "deck.cell_objects": ("企业数", "Enterprises"),
    "deck.cell_major": ("重大风险企业", "Major-risk enterprises"),
    "deck.cell_hazards": ("未销号隐患", "Open hazards"),
})


def _hex_rgb(color: str, alpha: int = 255) -> list[int]:
    c = color.lstrip("#")
    return [int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16), alpha]


#: risk ramp for the hexagons: the national four colours, low (blue) to major (red)
RAMP = [_hex_rgb(GRADES[g]["color"]) for g in reversed(GRADE_ORDER)]


def ramp_colors(values: np.ndarray) -> np.ndarray:
    """RGBA per value: share of the maximum mapped onto blue -> yellow -> orange -> red (linear between stops).

    Square root of the share, so a few very high cells do not turn every other cell blue.
    """
    v = np.asarray(values, dtype=float)
    top = float(np.nanmax(v)) if len(v) else 0.0
    share = np.sqrt(np.clip(v / top, 0.0, 1.0)) if top > 0 else np.zeros(len(v))
    stops = np.array(RAMP, dtype=float)
    pos = share * (len(stops) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(stops) - 2)
    frac = (pos - lo)[:, None]
    rgba = stops[lo] * (1 - frac) + stops[lo + 1] * frac
    rgba[:, 3] = 215
    return np.rint(rgba).astype(int)


def fit_view(bounds: Sequence[float], *, width_px: float = 900, height_px: float = 600, pitch: float = 50,
             bearing: float = -15) -> dict[str, float]:
    """A deck.gl view state (lon/lat centre, zoom) that shows ``bounds`` (minx, miny, maxx, maxy in EPSG:4326)
    in a viewport of the given pixel size (web mercator, 512 px tiles as deck.gl counts them)."""
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    def merc_y(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    dx = max(maxx - minx, 1e-6) / 360.0
    dy = max(merc_y(maxy) - merc_y(miny), 1e-6) / (2 * math.pi)
    zoom = math.log2(min(width_px / (dx * 512), height_px / (dy * 512)))
    return {"longitude": (minx + maxx) / 2, "latitude": (miny + maxy) / 2, "zoom": round(zoom - 0.15, 3),
            "pitch": pitch, "bearing": bearing}


def hex_records(cells: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows for the H3HexagonLayer from ``cells`` (columns ``cell`` (H3 string), ``risk``, ``objects``,
    ``major``, ``hazards``), with a colour per row."""
    if len(cells) == 0:
        return []
    colors = ramp_colors(cells["risk"].to_numpy(dtype=float))
    return [{"hex": str(c), "risk": round(float(r), 2), "objects": int(n), "major": int(m), "hazards": int(h),
             "color": col.tolist()}
            for c, r, n, m, h, col in zip(cells["cell"], cells["risk"], cells["objects"], cells["major"],
                                          cells["hazards"], colors, strict=True)]


def path_records(lines: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    """Rows for the gas PathLayer from a GeoDataFrame of LineStrings with a ``pressure`` column: per pressure
    class, segments that meet end to end are chained into long paths (fewer, same drawing)."""
    from dashboard.components.mapfig import chain_lines

    out: list[dict[str, Any]] = []
    if len(lines) == 0:
        return out
    geoms = np.asarray(lines.geometry.values, dtype=object)
    pressure = lines["pressure"].to_numpy(dtype=object)
    for key, style in PRESSURE_CLASSES.items():
        chains = chain_lines(geoms[pressure == key])
        label = style["en"] if lang == "en" else style["zh"]
        color = _hex_rgb(style["color"])
        for chain in chains:
            coords = np.round(np.asarray(chain.coords)[:, :2], 4).tolist()   # about 10 m: plenty in 3D
            out.append({"path": coords, "color": color, "width": style["width"], "label": label})
    return out


def deck_spec(*, cells: pd.DataFrame, pipelines: pd.DataFrame, view: Mapping[str, float], lang: str,
              cell_height_m: float = 4000.0) -> dict[str, Any]:
    """The deck.gl JSON (as a dict) of the 3D view: extruded risk hexagons and the gas network coloured by
    pressure class. The tallest hexagon is ``cell_height_m`` metres high.

    pydeck writes the deck and layer properties; the rows are put in afterwards (pydeck's own JSON writer
    takes seconds for ten thousand rows)."""
    lang = norm_lang(lang)
    hexes = hex_records(cells)
    paths = path_records(pipelines, lang)
    top = max((h["risk"] for h in hexes), default=0.0)
    layers = [
        pdk.Layer("PathLayer", id="gas", data=[], get_path="path", get_color="color",
                  get_width="width", width_units=pdk.types.String("pixels"), width_min_pixels=1, width_scale=1,
                  pickable=False, parameters={"depthTest": False}),
        pdk.Layer("H3HexagonLayer", id="risk-hex", data=[], get_hexagon="hex", get_fill_color="color",
                  get_elevation="risk", elevation_scale=cell_height_m / top if top > 0 else 1.0, extruded=True,
                  coverage=0.88, pickable=True, auto_highlight=True, high_precision=False,
                  material={"ambient": 0.55, "diffuse": 0.6, "shininess": 24}),
    ]
    deck = pdk.Deck(layers=layers, map_provider=None, map_style=None,
                    initial_view_state=pdk.ViewState(**view),
                    views=[pdk.View(type="MapView", controller=True)])
    spec = json.loads(deck.to_json())
    rows = {"gas": paths, "risk-hex": hexes}
    for layer in spec["layers"]:
        layer["data"] = rows[layer["id"]]
    return spec


def preview_points(cells: pd.DataFrame) -> list[list[float]]:
    """The hexagons as flat dots for the page's 2D picture, drawn at once while deck.gl starts:
    ``[lon, lat, r, g, b]`` per cell (centre rounded to 4 decimals)."""
    if len(cells) == 0:
        return []
    from geo.grid import cell_centers, str_to_cells

    lat, lon = cell_centers(str_to_cells(cells["cell"].to_numpy()))
    rgb = ramp_colors(cells["risk"].to_numpy(dtype=float))[:, :3]
    return np.column_stack([np.round(lon, 4), np.round(lat, 4), rgb]).tolist()


def tooltip(lang: str) -> dict[str, Any]:
    """deck.gl tooltip of a hexagon: its figures (the pipelines are not pickable)."""
    lang = norm_lang(lang)
    return {
        "html": (f"<b>{t('deck.cell_risk', lang)}</b> {{risk}}<br>{t('deck.cell_objects', lang)} {{objects}}<br>"
                 f"{t('deck.cell_major', lang)} {{major}}<br>{t('deck.cell_hazards', lang)} {{hazards}}"),
        "style": {"backgroundColor": "#0b1626", "color": "#e8eef7", "fontSize": "14px"},
    }


@functools.cache
def bundle_bytes() -> bytes:
    """deck.gl as the frame loads it: :data:`BUNDLE_PARTS` joined, each on its own lines."""
    return b"\n;\n".join((VENDOR / name).read_bytes() for name in BUNDLE_PARTS) + b"\n"


@functools.cache
def bundle_version() -> str:
    """The bundle's fingerprint: the first 12 hex digits of its SHA-256."""
    return hashlib.sha256(bundle_bytes()).hexdigest()[:12]


def bundle_url() -> str:
    """The bundle's URL, fingerprinted with its content: the browser keeps it a year
    (:mod:`dashboard.compression`, which also sends it compressed: 2.3 MB, about 0.6 MB in Brotli)."""
    return f"{BUNDLE_ROUTE}?v={bundle_version()}"


def page_html(lang: str) -> str:
    """The HTML of the deck page: only our own URLs (the bundle and the data route), system fonts."""
    lang = norm_lang(lang)
    BUNDLE_URL = bundle_url()  # noqa: N806 - a constant of the page's text
    e = html.escape
    texts = json.dumps({"noWebgl": t("deck.no_webgl", lang), "noData": t("deck.no_data", lang),
                        "loading": t("deck.loading", lang)}, ensure_ascii=False)
    tip = json.dumps(tooltip(lang), ensure_ascii=False)
    return f"""<!doctype html>
<html lang="{'en' if lang == 'en' else 'zh-CN'}"><head><meta charset="utf-8">
<title>{e(t('deck.title', lang))}</title>
<style>
html, body {{ margin: 0; padding: 0; width: 100%; height: 100%; overflow: hidden; background: #050b14;
  font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
  color: #9fb3cc; }}
#deck-container {{ position: absolute; inset: 0; }}
#deck-preview {{ position: absolute; inset: 0; width: 100%; height: 100%; }}
body[data-deck-drawn="1"] #deck-preview {{ display: none; }}
#deck-note {{ position: absolute; left: 0; right: 0; top: 45%; text-align: center; font-size: 2.2vh; }}
</style></head>
<link rel="preload" href="{BUNDLE_URL}" as="script">
<body data-deck-state="loading"><canvas id="deck-preview"></canvas><div id="deck-container"></div>
<div id="deck-note"></div>
<script>
(function () {{
  "use strict";
  /* The data is asked for at once, while the browser downloads and parses deck.gl (4 MB); the 2D picture is
   * drawn as soon as the data is here, and deck.gl's script is run only then (it holds the page's one thread
   * for about a second), so neither waits for the other. */
  var first = fetch("{DATA_ROUTE}" + window.location.search, {{credentials: "same-origin"}});
  var TEXT = {texts};
  var TIP = {tip};
  var body = document.body, note = document.getElementById("deck-note");
  var container = document.getElementById("deck-container");
  var state = {{deck: null, spec: null, areas: {{}}, city: null, version: null, focus: null}};
  var retry = null, RETRY_MS = 10000;
  function say(msg) {{ note.textContent = msg || ""; }}
  function hasWebgl() {{
    try {{ return !!document.createElement("canvas").getContext("webgl2"); }} catch (err) {{ return false; }}
  }}
  function fit(b) {{
    var w = Math.max(container.clientWidth, 50), h = Math.max(container.clientHeight, 50);
    function my(lat) {{ return Math.log(Math.tan(Math.PI / 4 + lat * Math.PI / 360)); }}
    var dx = Math.max(b[2] - b[0], 1e-6) / 360, dy = Math.max(my(b[3]) - my(b[1]), 1e-6) / (2 * Math.PI);
    var zoom = Math.log2(Math.min(w / (dx * 512), h / (dy * 512))) + 0.05;
    return {{longitude: (b[0] + b[2]) / 2, latitude: (b[1] + b[3]) / 2 - (b[3] - b[1]) * 0.08, zoom: zoom,
             pitch: 50, bearing: -15}};
  }}
  function withFocus(spec) {{
    var out = JSON.parse(JSON.stringify(spec));
    var d = state.focus && state.areas[state.focus];
    var outline = [];
    Object.keys(state.areas).forEach(function (k) {{
      var on = k === state.focus;
      state.areas[k].paths.forEach(function (p) {{
        outline.push({{path: p, color: on ? [0, 229, 255, 255] : [120, 150, 190, 160], width: on ? 4 : 1.5}});
      }});
    }});
    out.layers.unshift({{"@@type": "PathLayer", id: "areas", data: outline, getPath: "@@=path",
      getColor: "@@=color", getWidth: "@@=width", widthUnits: "pixels", widthMinPixels: 1,
      parameters: {{depthTest: false}}}});
    var view = fit(d ? d.bounds : state.city);
    view.transitionDuration = state.deck ? 1600 : 0;
    if (state.deck) {{ view.transitionInterpolator = {{"@@type": "FlyToInterpolator"}}; }}
    out.initialViewState = view;
    return out;
  }}
  /* The 2D picture at once (a plain canvas: area outlines, gas lines, hexagons as dots), so the panel is never
   * black while deck.gl compiles its shaders; hidden once the deck has drawn its first frame. */
  function preview() {{
    var cv = document.getElementById("deck-preview");
    var w = Math.max(container.clientWidth, 50), h = Math.max(container.clientHeight, 50);
    cv.width = w; cv.height = h;
    var g = cv.getContext("2d"), d = state.focus && state.areas[state.focus], b = d ? d.bounds : state.city;
    if (!g || !b) return;
    function my(lat) {{ return Math.log(Math.tan(Math.PI / 4 + lat * Math.PI / 360)); }}
    var sx = (w * 0.92) / Math.max(b[2] - b[0], 1e-6) * 180 / Math.PI, y0 = my(b[1]), y1 = my(b[3]);
    var k = Math.min(sx, (h * 0.92) / Math.max(y1 - y0, 1e-9));
    var cx = (b[0] + b[2]) / 2, cy = (y0 + y1) / 2;
    function px(p) {{ return [w / 2 + (p[0] - cx) * Math.PI / 180 * k, h / 2 - (my(p[1]) - cy) * k]; }}
    function line(path) {{ g.beginPath(); path.forEach(function (p, i) {{ var q = px(p);
      if (i) {{ g.lineTo(q[0], q[1]); }} else {{ g.moveTo(q[0], q[1]); }} }}); g.stroke(); }}
    g.lineWidth = 1; g.strokeStyle = "rgba(120,150,190,0.6)";
    Object.keys(state.areas).forEach(function (c) {{ state.areas[c].paths.forEach(line); }});
    var gas = (state.spec.layers.filter(function (l) {{ return l.id === "gas"; }})[0] || {{}}).data || [];
    g.globalAlpha = 0.7;
    gas.forEach(function (r) {{ g.strokeStyle = "rgb(" + r.color.slice(0, 3).join(",") + ")"; line(r.path); }});
    g.globalAlpha = 0.85;
    var rad = Math.max(1.5, Math.min(w, h) / 160);
    (state.preview || []).forEach(function (p) {{ var q = px(p);
      g.fillStyle = "rgb(" + p[2] + "," + p[3] + "," + p[4] + ")"; g.beginPath();
      g.arc(q[0], q[1], rad, 0, 2 * Math.PI); g.fill(); }});
    if (d) {{ g.globalAlpha = 1; g.lineWidth = 3; g.strokeStyle = "rgb(0,229,255)"; d.paths.forEach(line); }}
    body.setAttribute("data-deck-preview", "1"); mark("deck-preview");
  }}
  function drawn() {{ mark("deck-drawn"); body.setAttribute("data-deck-drawn", "1"); }}
  var marked = {{}};
  function mark(name) {{  // timing marks for benchmarks, each once: deck-data, deck-preview, deck-bundle, deck-drawn
    if (marked[name]) return;
    marked[name] = true;
    try {{ performance.mark(name); }} catch (err) {{ /* no timing API */ }}
  }}
  function draw() {{
    if (!state.spec) return;
    if (!state.deck && typeof createDeck !== "function") {{ withBundle(draw); return; }}  // e.g. a tour step first
    var json = withFocus(state.spec);
    if (!state.deck) {{
      preview();
      state.deck = createDeck({{container: container, jsonInput: json, tooltip: TIP}});
      try {{ state.deck.setProps({{onAfterRender: drawn}}); }} catch (err) {{ drawn(); }}
    }} else {{
      updateDeck(json, state.deck);
    }}
    body.setAttribute("data-deck-state", "ready");
    body.setAttribute("data-deck-focus", state.focus || "");
    body.setAttribute("data-deck-version", String(state.version));
  }}
  var bundle = null;
  function withBundle(then) {{  // deck.gl's script, once (preloaded above), then ``then``
    if (!bundle) {{
      bundle = new Promise(function (ok, fail) {{
        var el = document.createElement("script");
        el.src = "{BUNDLE_URL}"; el.onload = ok; el.onerror = fail; document.body.appendChild(el);
      }});
    }}
    bundle.then(function () {{
      mark("deck-bundle");
      if (!hasWebgl() || typeof createDeck !== "function") {{
        say(TEXT.noWebgl); body.setAttribute("data-deck-state", "no-webgl"); return;
      }}
      then();
    }}, function () {{ say(TEXT.noWebgl); body.setAttribute("data-deck-state", "error"); }});
  }}
  function load() {{
    var asked = first || fetch("{DATA_ROUTE}" + window.location.search, {{credentials: "same-origin"}});
    first = null;
    return asked
      .then(function (r) {{ if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); }})
      .then(function (d) {{
        if (!d.ok) throw new Error(d.error || "no data");
        mark("deck-data");
        state.spec = d.deck; state.areas = d.areas; state.city = d.bounds; state.version = d.version;
        state.preview = d.preview;
        try {{  // the wall may have moved on before this frame was ready
          var p = window.parent && window.parent.__riskmapWallFocus;
          if (p && p.kind === "{MESSAGE_KIND}") {{ state.focus = p.focus || null; }}
        }} catch (err) {{ /* not framed by the wall */ }}
        if (d.empty) {{ say(TEXT.noData); withBundle(draw); return; }}
        if (!state.deck) {{  // the 2D picture first, then deck.gl in a later task (the picture gets painted)
          preview(); say(""); setTimeout(function () {{ withBundle(draw); }}, 30);
        }} else {{ draw(); }}
      }})
      .catch(function () {{
        body.setAttribute("data-deck-state", state.spec ? "stale" : "error");
        if (!retry) {{ retry = setTimeout(function () {{ retry = null; load(); }}, RETRY_MS); }}
      }});
  }}
  window.addEventListener("message", function (ev) {{
    if (ev.origin !== window.location.origin || !ev.data || ev.data.kind !== "{MESSAGE_KIND}") return;
    var m = ev.data;
    var refocus = (m.focus || null) !== state.focus;
    state.focus = m.focus || null;
    if (m.version !== undefined && m.version !== null && state.version !== null && m.version !== state.version) {{
      load();
    }} else if (refocus) {{ draw(); }}
  }});
  say(TEXT.loading);
  load();
}})();
</script></body></html>"""


def install(server: flask.Flask, payload: Callable[[str], dict[str, Any]]) -> None:
    """Add the deck routes to ``server`` (once): the page, the deck.gl bundle (:func:`bundle_bytes`), and
    the data, made by ``payload(lang)`` inside the request (so it sees the session's user)."""
    if "riskmap_deck_page" in server.view_functions:
        return

    def page() -> flask.Response:
        resp = flask.make_response(page_html(norm_lang(flask.request.args.get("lang"))))
        resp.headers["Content-Type"] = "text/html; charset=utf-8"
        resp.headers["Cache-Control"] = "no-store"
        return resp

    def bundle() -> flask.Response:
        fingerprinted = flask.request.args.get("v") == bundle_version()
        resp = flask.Response(bundle_bytes(), mimetype="text/javascript")
        resp.set_etag(bundle_version())
        resp.cache_control.public = True
        resp.cache_control.max_age = 365 * 24 * 3600 if fingerprinted else 3600
        return resp.make_conditional(flask.request)

    def data() -> flask.Response:
        lang = norm_lang(flask.request.args.get("lang"))
        try:
            body = {"ok": True, **payload(lang)}
        except Exception:  # noqa: BLE001 - the wall's edge: log it; the view keeps its last picture and retries
            log.exception("3D view data failed")
            body = {"ok": False, "error": t("error.calm", lang)}
        resp = flask.jsonify(body)
        resp.headers["Cache-Control"] = "no-store"
        return resp

    from dashboard import context

    guard = context.checked("wall.read")
    server.add_url_rule(PAGE_ROUTE, "riskmap_deck_page", guard(page))
    server.add_url_rule(BUNDLE_ROUTE, "riskmap_deck_bundle", guard(bundle))
    server.add_url_rule(DATA_ROUTE, "riskmap_deck_data", guard(data))
