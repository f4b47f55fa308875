"""The readiness map on MapLibre: district outlines, the objects with a gap coloured by the kind of gap, the
resources by kind (``layers.schema.RESOURCE_KINDS`` colours; out of service paler), the suggested places.

Traces are written on lon/lat axes and put on the app's basemap by ``mapfig.convert.on_map`` (``scattermap``,
every marker a circle: any other symbol makes plotly.js fetch an icon from a CDN). A resource is a coloured
disc on a white one, a suggested place a large disc in its kind's colour on a black one with its rank."""

from __future__ import annotations

import pandas as pd

from dashboard import context
from dashboard.components.mapfig import esc, ring_coords, typed
from dashboard.components.mapfig.convert import on_map
from dashboard.i18n import t
from layers.analysis.readiness import ReadinessResult
from layers.schema import RESOURCE_KINDS, label
from layers.store import cached_read

#: the kinds of gap drawn, their legend key and colour (apart from the resource colours)
GAP_STYLE = {"out_of_reach": ("rd.map.gap.out_of_reach", "#B2182B"),
             "no_plan": ("rd.map.gap.no_plan", "#542788"),
             "drill": ("rd.map.gap.drill", "#E08214"),
             "supply_short": ("rd.map.gap.supply_short", "#2166AC")}


def _points(frame: pd.DataFrame, reason: str) -> pd.DataFrame:
    """One point per object (its reasons joined), with finite lon/lat."""
    f = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    f = f[f["lon"].notna() & f["lat"].notna()]
    if len(f) == 0:
        return f
    return f.groupby("key", sort=False).agg(name=("name", "first"), lon=("lon", "first"), lat=("lat", "first"),
                                            reason=(reason, lambda s: "<br>".join(esc(x) for x in s.dropna()))
                                            ).reset_index()


def gap_traces(result: ReadinessResult, lang: str) -> list[dict]:
    """One trace per kind of gap: the objects with that gap, hover: name and reasons."""
    reason = "reason_en" if lang == "en" else "reason_zh"
    pg = result.plan_gaps
    frames = {"out_of_reach": result.reach_gaps,
              "no_plan": pg[pg["kind"] == "no_plan"] if len(pg) else pg,
              "drill": pg[pg["kind"] != "no_plan"] if len(pg) else pg,
              "supply_short": result.supply_shortfalls}
    traces = []
    for gap, frame in frames.items():
        pts = _points(frame, reason) if len(frame) else frame
        if len(pts) == 0:
            continue
        key, colour = GAP_STYLE[gap]
        traces.append({"type": "scatter", "mode": "markers", "x": typed(pts["lon"]), "y": typed(pts["lat"]),
                       "name": t(key, lang), "legendgroup": f"gap-{gap}",
                       "marker": {"size": 8, "color": colour, "opacity": 0.85},
                       "customdata": pts["key"].tolist(),
                       "text": [f"<b>{esc(n)}</b><br>{r}" for n, r in zip(pts["name"].astype(str), pts["reason"],
                                                                          strict=True)],
                       "hovertemplate": "%{text}<extra></extra>"})
    return traces


def resource_traces(districts: list[str] | None, lang: str) -> list[dict]:
    """The resources of the user's districts (all for a city-wide user), one trace per kind."""
    res = cached_read(context.store(), "resources")
    if len(res) == 0:
        return []
    res = res[res.geometry.notna() & ~res.geometry.is_empty]
    if districts is not None:
        res = res[res["district_code"].isin(districts)] if "district_code" in res.columns else res.iloc[0:0]
    status = res["status"] if "status" in res.columns else pd.Series(None, index=res.index, dtype=object)
    traces = []
    for kind, spec in RESOURCE_KINDS.items():
        sel = res[res["kind"] == kind]
        if len(sel) == 0:
            continue
        oos = (status.loc[sel.index] == "out_of_service").to_numpy()
        x, y = typed(sel.geometry.x), typed(sel.geometry.y)
        name = label(RESOURCE_KINDS, kind, lang)
        text = [f"<b>{esc(n)}</b><br>{esc(name)}" + (f" · {t('rd.map.out_of_service', lang)}" if o else "")
                for n, o in zip(sel["name"].astype(str), oos, strict=True)]
        traces.append({"type": "scatter", "mode": "markers", "x": x, "y": y, "hoverinfo": "skip",
                       "showlegend": False, "legendgroup": f"res-{kind}", "name": f"{name} halo",
                       "marker": {"size": 14, "color": "#ffffff"}})
        traces.append({"type": "scatter", "mode": "markers", "x": x, "y": y, "name": name,
                       "legendgroup": f"res-{kind}",
                       "marker": {"size": 10, "color": spec["color"],
                                  "opacity": [0.35 if o else 1.0 for o in oos]},
                       "text": text, "hovertemplate": "%{text}<extra></extra>"})
    return traces


def suggested_traces(shown: pd.DataFrame | None, kind: str | None, lang: str) -> list[dict]:
    """The suggested places: a large disc in the kind's colour on a black one, the rank above it."""
    if shown is None or len(shown) == 0 or kind not in RESOURCE_KINDS:
        return []
    x, y = typed(shown["lon"]), typed(shown["lat"])
    name = f"{t('rd.map.suggested', lang)} · {label(RESOURCE_KINDS, kind, lang)}"
    hover = [f"#{r} {esc(reason)}" for r, reason in zip(shown["rank"], shown["reason_en" if lang == "en" else
                                                                              "reason_zh"], strict=True)]
    return [{"type": "scatter", "mode": "markers", "x": x, "y": y, "hoverinfo": "skip", "showlegend": False,
             "legendgroup": "suggested", "name": "suggested halo", "marker": {"size": 24, "color": "#111111"}},
            {"type": "scatter", "mode": "markers+text", "x": x, "y": y, "name": name, "legendgroup": "suggested",
             "marker": {"size": 18, "color": RESOURCE_KINDS[kind]["color"]},
             "text": [str(r) for r in shown["rank"]], "textfont": {"color": "#ffffff", "size": 11},
             "hovertext": hover, "hovertemplate": "%{hovertext}<extra></extra>"}]


def readiness_map(result: ReadinessResult, shown: pd.DataFrame | None, kind: str | None, *, lang: str,
                  districts: list[str] | None) -> dict:
    """The page's map fitted to the user's districts (the whole city for a city-wide user)."""
    traces: list[dict] = []
    d = cached_read(context.store(), "districts")
    if districts is not None and len(d):
        d = d[d["code"].isin(districts)]
    bounds = tuple(d.total_bounds) if len(d) else None
    if len(d):
        x, y = ring_coords(d.geometry.to_numpy())
        traces.append({"type": "scatter", "mode": "lines", "x": typed(x), "y": typed(y), "hoverinfo": "skip",
                       "line": {"color": "#5B6B82", "width": 1.2}, "showlegend": False, "name": "districts"})
    traces += gap_traces(result, lang)
    traces += resource_traces(districts, lang)
    traces += suggested_traces(shown, kind, lang)
    return on_map(traces, bounds, lang=lang, uirevision="readiness-map", width_px=1300, height_px=560)


__all__ = ["readiness_map", "gap_traces", "resource_traces", "suggested_traces", "GAP_STYLE"]
