"""The incident map: the first hour drawn on the app's basemap (MapLibre ``scattermap`` traces, circles only).

Drawn: the two radii (hazchem/pipelines, warning), the gas pipelines within the radius by pressure class, the
routes of the resources listed (the nearest of each kind wider), the resources, the hazchem enterprises and the
venues (click one to make it the incident's object: ``customdata = "layer:id"``), and the place ringed. Before a
place is picked: the ready resources of the reader's area over its districts. A figure dict, built without
plotly's validation; every data text is HTML-escaped (``esc``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dashboard.components.mapfig import esc, view_of
from dashboard.components.mapfig.coords import ring_coords
from dashboard.components.mapfig.style import basemap_for
from dashboard.components.mapfig.traces import line_trace, points_trace, ring
from dashboard.components.theme import MAP_COLOURS, template_dict
from dashboard.emergency import incident_text as _text  # noqa: F401  (the strings)
from dashboard.i18n import t
from layers.emergency import FirstHour
from layers.schema import GRADES, PRESSURE_CLASSES, RESOURCE_KINDS, VENUE_KINDS, label

PLACE_COLOUR = "#E5141B"
WARN_COLOUR = "#F39C12"
WIDTH_PX, HEIGHT_PX = 900, 640


def _circle(lon: float, lat: float, r_m: float) -> tuple[np.ndarray, np.ndarray]:
    ang = np.linspace(0, 2 * np.pi, 97)
    ky = r_m / 110_574.0
    kx = r_m / (111_320.0 * math.cos(math.radians(lat)))
    return lon + kx * np.cos(ang), lat + ky * np.sin(ang)


def _layout(style, crs: str, theme: str, bounds: tuple[float, float, float, float], revision: str) -> dict:
    col = MAP_COLOURS[theme]
    center, zoom = view_of(bounds, width_px=WIDTH_PX, height_px=HEIGHT_PX, pad=0.08)
    return {"template": template_dict(theme), "paper_bgcolor": col["paper"],
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "showlegend": False, "dragmode": "pan",
            "hovermode": "closest", "clickmode": "event", "map": {"style": style, "center": center, "zoom": zoom},
            "uirevision": revision, "meta": {"crs": crs}}


def _resource_traces(res: pd.DataFrame, lang: str, crs: str, *, size: float) -> list[dict]:
    data = []
    for kind, sub in res.groupby("kind", sort=True):
        colour = RESOURCE_KINDS.get(kind, {}).get("color", "#555555")
        text = [f"<b>{esc(n)}</b><br>{esc(label(RESOURCE_KINDS, kind, lang))}"
                + (f"<br>{esc(p)}" if isinstance(p, str) and p else "")
                for n, p in zip(sub["name"], sub["phone"] if "phone" in sub else [None] * len(sub), strict=True)]
        x, y = sub["lon"].to_numpy(float), sub["lat"].to_numpy(float)
        data.append(ring(x, y, name=f"res-{kind}", color="#ffffff", size=size + 4, crs=crs, opacity=1.0))
        data.append(points_trace(x, y, name=f"res-{kind}", color=colour, size=size, text=text, custom=None, crs=crs))
    return data


def overview_figure(resources: pd.DataFrame, bounds: tuple[float, float, float, float] | None, *, lang: str,
                    theme: str = "light") -> dict:
    """The map before a place is picked: the ready resources of the reader's area over its districts."""
    style, crs = basemap_for(theme, lang)
    bounds = bounds or (114.0, 30.4, 114.6, 30.8)
    data = _resource_traces(resources, lang, crs, size=7) if len(resources) else []
    for tr in data:
        tr.pop("_ring", None)
    return {"data": data, "layout": _layout(style, crs, theme, bounds, "overview")}


def incident_figure(fh: FirstHour, *, lang: str, theme: str = "light") -> dict:
    """The first hour at ``fh.place`` drawn: radii, pipelines, routes, resources, hazchem, venues, the place."""
    style, crs = basemap_for(theme, lang)
    lon0, lat0 = float(fh.place["lon"]), float(fh.place["lat"])
    data: list[dict] = []
    for r_m, colour, name in ((fh.radius_m, PLACE_COLOUR, "radius"), (fh.warn_radius_m, WARN_COLOUR, "warn")):
        x, y = _circle(lon0, lat0, r_m)
        data.append(line_trace(x, y, name=name, color=colour, width=1.5, crs=crs, opacity=0.8))
    if len(fh.pipelines):
        for p in PRESSURE_CLASSES:
            ids = fh.pipelines.loc[fh.pipelines["pressure"] == p, "id"].astype(str)
            geoms = np.array([fh.pipeline_lines[i] for i in ids if i in fh.pipeline_lines], dtype=object)
            if len(geoms):
                x, y = ring_coords(geoms)
                data.append(line_trace(x, y, name=f"gas-{p}", color=PRESSURE_CLASSES[p]["color"],
                                       width=PRESSURE_CLASSES[p]["width"] + 1, crs=crs, opacity=0.9))
    xs: list[np.ndarray] = [np.array([lon0])]
    ys: list[np.ndarray] = [np.array([lat0])]
    if len(fh.resources):
        for kind, sub in fh.resources.groupby("kind", sort=False):
            colour = RESOURCE_KINDS.get(kind, {}).get("color", "#555555")
            for rank, rid in zip(sub["rank"], sub["id"].astype(str), strict=True):
                lon, lat = fh.routes.get(rid, (np.empty(0), np.empty(0)))
                if len(lon):
                    data.append(line_trace(lon, lat, name=f"route-{kind}", color=colour,
                                           width=4.5 if int(rank) == 1 else 2.0, crs=crs,
                                           opacity=0.95 if int(rank) == 1 else 0.55))
                    if int(rank) == 1:
                        xs.append(np.asarray(lon))
                        ys.append(np.asarray(lat))
        shown = fh.resources.assign(name=[f"{n} · {t('inc.minutes', lang).format(m=m)}" for n, m in
                                          zip(fh.resources["name"], fh.resources["minutes"], strict=True)])
        data += _resource_traces(shown, lang, crs, size=11)
    if len(fh.hazchem):
        h = fh.hazchem
        text = [f"<b>{esc(n)}</b><br>{esc(label(GRADES, g, lang))} · {d:,.0f} m"
                for n, g, d in zip(h["name"], h["grade"], h["distance_m"], strict=True)]
        colour = [GRADES.get(g, {"color": "#888888"})["color"] for g in h["grade"]]
        x, y = h["lon"].to_numpy(float), h["lat"].to_numpy(float)
        data.append(ring(x, y, name="hazchem", color="#4a0072", size=14, crs=crs, opacity=1.0))
        data.append(points_trace(x, y, name="hazchem", color=colour, size=10, text=text,
                                 custom=("enterprises:" + h["id"].astype(str)).tolist(), crs=crs))
    if len(fh.venues):
        v = fh.venues
        text = [f"<b>{esc(n)}</b><br>{esc(label(VENUE_KINDS, k, lang))} · {esc(c)} · {d:,.0f} m"
                for n, k, c, d in zip(v["name"], v["kind"], v["capacity"].astype(object), v["distance_m"],
                                      strict=True)]
        colour = [VENUE_KINDS.get(k, {"color": "#16A085"})["color"] for k in v["kind"]]
        x, y = v["lon"].to_numpy(float), v["lat"].to_numpy(float)
        data.append(ring(x, y, name="venues", color=WARN_COLOUR, size=13, crs=crs, opacity=1.0))
        data.append(points_trace(x, y, name="venues", color=colour, size=9, text=text,
                                 custom=("venues:" + v["id"].astype(str)).tolist(), crs=crs))
    data.append(ring(np.array([lon0]), np.array([lat0]), name="place", color=PLACE_COLOUR, size=34, crs=crs,
                     opacity=0.35))
    name = fh.place.get("name") or t("inc.place", lang)
    data.append(points_trace(np.array([lon0]), np.array([lat0]), name="place", color=PLACE_COLOUR, size=12,
                             text=[f"<b>{esc(name)}</b>"], custom=[fh.place["target"]] if fh.place["target"]
                             else None, crs=crs))
    for tr in data:
        tr.pop("_ring", None)
    # the view: the radius and the nearest resource of each kind with its route
    cx, cy = _circle(lon0, lat0, max(fh.radius_m, fh.warn_radius_m))
    allx, ally = np.concatenate([*xs, cx]), np.concatenate([*ys, cy])
    ok = np.isfinite(allx) & np.isfinite(ally)
    bounds = (float(allx[ok].min()), float(ally[ok].min()), float(allx[ok].max()), float(ally[ok].max()))
    revision = f"{fh.place['target'] or ''}@{lon0:.5f},{lat0:.5f}/{fh.kind}"
    return {"data": data, "layout": _layout(style, crs, theme, bounds, revision)}


def legend_entries(lang: str) -> list[dict]:
    """The key beside the map (:func:`dashboard.components.mapfig.legend.legend_box` entries)."""
    out = [{"key": "place", "title": t("inc.legend.place", lang), "name": t("inc.legend.place", lang),
            "color": PLACE_COLOUR, "size": 12},
           {"key": "place", "name": t("inc.legend.radius", lang), "color": PLACE_COLOUR, "size": 7},
           {"key": "place", "name": t("inc.legend.warn", lang), "color": WARN_COLOUR, "size": 7},
           {"key": "objects", "title": t("inc.legend.hazchem", lang), "name": t("inc.legend.hazchem", lang),
            "color": "#4a0072", "size": 10},
           {"key": "objects", "name": t("inc.legend.venue", lang), "color": WARN_COLOUR, "size": 9}]
    first = True
    for k, v in RESOURCE_KINDS.items():
        if k in ("shelter", "supply_depot"):
            continue
        out.append({"key": "res", "title": t("inc.resources", lang) if first else None,
                    "name": label(RESOURCE_KINDS, k, lang), "color": v["color"], "size": 9})
        first = False
    for p, v in PRESSURE_CLASSES.items():
        out.append({"key": "gas", "name": label(PRESSURE_CLASSES, p, lang), "color": v["color"], "size": 7})
    return out


__all__ = ["incident_figure", "overview_figure", "legend_entries"]
