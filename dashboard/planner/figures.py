"""The planner's figures as plain Plotly dicts: the plan on a map and the per-team timeline."""

from __future__ import annotations

import pandas as pd

from dashboard.components.mapfig import esc, ring_coords, typed
from dashboard.components.mapfig.convert import on_map
from dashboard.components.theme import template_dict
from dashboard.i18n import t
from dashboard.planner.ids import SEGMENT_COLOURS, TEAM_COLOURS
from dashboard.planner.tables import fmt_time
from layers.planning import routes as P
from layers.schema import GRADES, label
from layers.store import cached_read


def _basemap(store, districts: list[str] | None) -> tuple[list[dict], tuple | None]:
    traces: list[dict] = []
    d = cached_read(store, "districts")
    bounds = None
    if len(d):
        if districts:
            d = d[d["code"].isin(districts)]
        if len(d):
            x, y = ring_coords(d.geometry.to_numpy())
            traces.append({"type": "scatter", "mode": "lines", "x": typed(x), "y": typed(y), "hoverinfo": "skip",
                           "line": {"color": "#8A96A8", "width": 1}, "showlegend": False, "name": "districts"})
            bounds = tuple(d.total_bounds)
    return traces, bounds


def plan_map(store, plan: P.Plan | None, cands: pd.DataFrame, objects: pd.DataFrame | None, *, lang: str,
             districts: list[str] | None) -> dict:
    """The plan on a map: district outlines, other objects (click to add), candidates, each team's route in
    its own colour with numbered stops, unassigned candidates as grey crosses, team bases as squares."""
    traces, bounds = _basemap(store, districts)
    if objects is not None and len(objects):
        o = objects[~objects["key"].isin(cands["key"])]
        traces.append({"type": "scattergl", "mode": "markers", "x": typed(o["lon"]), "y": typed(o["lat"]),
                       "marker": {"size": 4, "color": "#AAB4C3", "opacity": 0.6},
                       "name": t("plan.objects", lang), "customdata": o["key"].tolist(),
                       "text": [esc(n) for n in o["name"]], "hovertemplate": "%{text}<extra></extra>"})
    planned = set(plan.stops["key"]) if plan is not None and len(plan.stops) else set()
    c = cands[~cands["key"].isin(planned)]
    if len(c):
        traces.append({"type": "scatter", "mode": "markers", "x": typed(c["lon"]), "y": typed(c["lat"]),
                       "marker": {"size": 9, "color": [GRADES.get(g, {}).get("color", "#888") for g in c["grade"]],
                                  "symbol": "circle-open", "line": {"width": 2}},
                       "name": t("plan.candidates", lang), "customdata": c["key"].tolist(),
                       "text": [f"{esc(n)} · {esc(label(GRADES, g or '', lang))}" for n, g in zip(c["name"], c["grade"],
                                                                                                   strict=True)],
                       "hovertemplate": "%{text}<extra></extra>"})
    if plan is not None:
        colours = {tm.id: TEAM_COLOURS[i % len(TEAM_COLOURS)] for i, tm in enumerate(plan.teams)}
        for (tid, day), (lon, lat) in P.route_lines(store, plan).items():
            traces.append({"type": "scatter", "mode": "lines", "x": typed(lon), "y": typed(lat),
                           "line": {"color": colours.get(tid, "#333"), "width": 3}, "hoverinfo": "name",
                           "name": f"{tid} {day}" if len(plan.params.get("dates", [])) > 1 else tid,
                           "legendgroup": tid})
        for tid, g in plan.stops.groupby("team_id", sort=True):
            traces.append({"type": "scatter", "mode": "markers+text", "x": typed(g["lon"]), "y": typed(g["lat"]),
                           "marker": {"size": 18, "color": colours.get(tid, "#333"),
                                      "line": {"color": "#fff", "width": 1.5},
                                      "symbol": ["diamond" if lk else "circle" for lk in g["locked"]]},
                           "text": [str(s) for s in g["seq"]], "textfont": {"color": "#fff", "size": 10},
                           "customdata": g["key"].tolist(), "showlegend": False, "legendgroup": tid,
                           "hovertext": [f"{tid} #{s} {esc(n)} {fmt_time(a)}–{fmt_time(d)}" for s, n, a, d in
                                         zip(g["seq"], g["name"], g["arrival"], g["departure"], strict=True)],
                           "hovertemplate": "%{hovertext}<extra></extra>", "name": tid})
        if len(plan.unassigned):
            u = plan.unassigned
            traces.append({"type": "scatter", "mode": "markers", "x": typed(u["lon"]), "y": typed(u["lat"]),
                           "marker": {"size": 9, "color": "#6b7685", "symbol": "x"},
                           "name": t("plan.unassigned", lang), "customdata": u["key"].tolist(),
                           "text": [f"{esc(n)}: {esc(label(P.REASONS, r, lang))}" for n, r in
                                    zip(u["name"], u["reason"], strict=True)],
                           "hovertemplate": "%{text}<extra></extra>"})
        traces.append({"type": "scatter", "mode": "markers+text",
                       "x": [tm.lon for tm in plan.teams], "y": [tm.lat for tm in plan.teams],
                       "marker": {"size": 14, "symbol": "square", "color": [colours[tm.id] for tm in plan.teams],
                                  "line": {"color": "#000", "width": 1}},
                       "text": [tm.id for tm in plan.teams], "textposition": "top center",
                       "name": t("plan.base", lang), "hovertext": [esc(tm.name) for tm in plan.teams],
                       "hovertemplate": "%{hovertext}<extra></extra>"})
    if plan is not None and objects is None and len(plan.stops):   # a team's route sheet: fit to its stops
        lons = [*plan.stops["lon"].astype(float), *(tm.lon for tm in plan.teams)]
        lats = [*plan.stops["lat"].astype(float), *(tm.lat for tm in plan.teams)]
        bounds = (min(lons), min(lats), max(lons), max(lats))
    elif bounds is None and len(cands):
        bounds = (float(cands["lon"].min()), float(cands["lat"].min()), float(cands["lon"].max()),
                  float(cands["lat"].max()))
    fig = on_map(traces, bounds, lang=lang, uirevision="plan-map")   # MapLibre: streets and their names
    fig["layout"]["clickmode"] = "event"
    # the route sheet (planner.layout) still writes axis ranges: harmless keys, no cartesian trace uses them
    fig["layout"]["xaxis"], fig["layout"]["yaxis"] = {"visible": False}, {"visible": False}
    return fig


def gantt(plan: P.Plan | None, lang: str) -> dict:
    """Timeline per team (and day): travel, service, idle and break as horizontal bars."""
    layout = {"template": template_dict("light"), "barmode": "overlay", "margin": {"l": 90, "r": 10, "t": 10, "b": 30},
              "xaxis": {"type": "date", "tickformat": "%H:%M"}, "yaxis": {"autorange": "reversed"},
              "legend": {"orientation": "h", "y": 1.12}, "height": 120 + 36 * max(1, len(plan.teams) if plan else 1)}
    if plan is None or len(plan.timeline) == 0:
        return {"data": [], "layout": layout}
    tl = plan.timeline.copy()
    multi = len(plan.params.get("dates", [])) > 1
    tl["row"] = tl["team_id"] + ((" " + tl["day"].astype(str).str[5:]) if multi else "")
    if multi:  # one row per team and day: show hours of the day on a common axis
        tl["end"] = pd.to_datetime(tl["day"].astype(str)).dt.normalize().rsub(tl["end"]) + pd.Timestamp("2000-01-01")
        tl["start"] = pd.to_datetime(tl["day"].astype(str)).dt.normalize().rsub(tl["start"]) + pd.Timestamp("2000-01-01")
    traces = []
    for kind in ("travel", "service", "idle", "break"):
        g = tl[tl["kind"] == kind]
        if len(g) == 0:
            continue
        dur_ms = ((g["end"] - g["start"]).dt.total_seconds() * 1000).round().astype(int).tolist()
        traces.append({"type": "bar", "orientation": "h", "y": g["row"].tolist(), "x": dur_ms,
                       "base": [pd.Timestamp(v).isoformat() for v in g["start"]],
                       "marker": {"color": SEGMENT_COLOURS[kind]}, "name": t(f"plan.seg.{kind}", lang),
                       "text": [esc(x) if isinstance(x, str) else "" for x in g["label"]],
                       "hovertemplate": "%{text} %{base|%H:%M}<extra>" + t(f"plan.seg.{kind}", lang) + "</extra>",
                       "textposition": "inside", "insidetextanchor": "start"})
    return {"data": traces, "layout": layout}
