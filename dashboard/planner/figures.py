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


#: the clock every day's bars are drawn on (hours of the day; the day itself is the row)
_CLOCK = pd.Timestamp("2000-01-01")


def gantt_rows(plan: P.Plan, lang: str) -> list[tuple[str, str, str]]:
    """The timeline's rows, top to bottom: (team id, day ISO, label). A one-day plan has a row per team; a
    longer one a row per day and team, day by day (``12-01 周二 T1``)."""
    dates = [str(d)[:10] for d in plan.params.get("dates") or []]
    if not dates and len(plan.timeline):
        dates = sorted({str(d)[:10] for d in plan.timeline["day"]})
    teams = [tm.id for tm in plan.teams] or sorted({str(x) for x in plan.timeline["team_id"]})
    if len(dates) <= 1:
        return [(tid, dates[0] if dates else "", tid) for tid in teams]
    out = []
    for d in dates:
        wd = t(f"plan.wd.{pd.Timestamp(d).weekday()}", lang)
        out += [(tid, d, f"{d[5:]} {wd} {tid}") for tid in teams]
    return out


def gantt(plan: P.Plan | None, lang: str) -> dict:
    """Timeline of a plan: one row per team and day (a one-day plan: per team), its travel, inspection, idle and
    break time as bars on the hours of that day. Before a plan exists (or with nothing planned): no bars, no
    axes, a line saying what will appear."""
    layout = {"template": template_dict("light"), "barmode": "overlay", "margin": {"l": 110, "r": 10, "t": 10, "b": 30},
              "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom"}, "showlegend": True}
    if plan is None or len(plan.timeline) == 0:
        layout |= {"height": 110, "showlegend": False, "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
                   "xaxis": {"visible": False}, "yaxis": {"visible": False},
                   "annotations": [{"text": t("plan.gantt.empty" if plan is None else "plan.gantt.nothing", lang),
                                    "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False,
                                    "font": {"size": 13, "color": "#6b7685"}}]}
        return {"data": [], "layout": layout}
    rows = gantt_rows(plan, lang)
    row_of = {(tid, d): lab for tid, d, lab in rows}
    multi = len({d for _, d, _ in rows}) > 1
    tl = plan.timeline.copy()
    tl["day_iso"] = tl["day"].astype(str).str[:10]
    day0 = pd.to_datetime(tl["day_iso"])
    tl["row"] = [row_of.get((str(a), b), str(a)) if multi else str(a)
                 for a, b in zip(tl["team_id"], tl["day_iso"], strict=True)]
    # each day's own hours: the time since that day's midnight, drawn on one clock
    tl["start"] = _CLOCK + (pd.to_datetime(tl["start"]) - day0)
    tl["end"] = _CLOCK + (pd.to_datetime(tl["end"]) - day0)
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
                       "hovertemplate": "%{y} · %{text} %{base|%H:%M}<extra>" + t(f"plan.seg.{kind}", lang)
                                        + "</extra>",
                       "textposition": "inside", "insidetextanchor": "start", "width": 0.8})
    labels = [lab for _, _, lab in rows]
    lo, hi = tl["start"].min().floor("h"), tl["end"].max().ceil("h")
    shapes = []
    if multi:   # a thin line between days
        n_teams = len({tid for tid, _, _ in rows})
        shapes = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": i - 0.5, "y1": i - 0.5,
                   "line": {"color": "#8A96A8", "width": 1}} for i in range(n_teams, len(rows), n_teams)]
    layout |= {"height": 90 + 24 * len(rows),
               "xaxis": {"type": "date", "tickformat": "%H:%M", "range": [lo.isoformat(), hi.isoformat()],
                         "dtick": 3_600_000, "side": "bottom"},
               "yaxis": {"type": "category", "categoryorder": "array", "categoryarray": labels,
                         "range": [len(labels) - 0.5, -0.5], "autorange": False},   # every row, the first on top
               "uniformtext": {"mode": "hide", "minsize": 9}, "shapes": shapes}
    return {"data": traces, "layout": layout}
