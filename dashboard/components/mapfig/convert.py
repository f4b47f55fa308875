"""Smaller maps (coverage, the planner, the hazard ledger) on MapLibre: their traces written as lon/lat lists are
made ``scattermap`` traces, and :func:`map_layout` puts them on the configured basemap.

:func:`map_trace` turns a trace written with ``x`` = lon and ``y`` = lat into a ``scattermap`` trace: typed arrays
in the drawing CRS, ``marker.symbol`` and ``marker.line`` dropped (every marker a circle: another symbol makes
plotly.js fetch an icon from a CDN; scattermap has no outline), ``line.dash`` dropped, ``fill: "toself"`` kept.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from dashboard.components.mapfig.coords import view_of
from dashboard.components.mapfig.style import basemap_for
from dashboard.components.mapfig.traces import lonlat
from dashboard.components.theme import MAP_COLOURS, template_dict


def _values(v: Any) -> np.ndarray:
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype="<" + v["dtype"]).astype(float)
    return np.array([np.nan if x is None else x for x in (v if v is not None else [])], dtype=float)


def map_trace(tr: dict, crs: str = "wgs84") -> dict:
    """A ``scattermap`` trace of a trace written on lon/lat axes (``x``, ``y``); other trace types unchanged."""
    if tr.get("type") not in ("scatter", "scattergl"):
        return tr
    out = {k: v for k, v in tr.items() if k not in ("x", "y", "hoveron", "xaxis", "yaxis", "textposition")}
    out["type"] = "scattermap"
    out["lon"], out["lat"] = lonlat(_values(tr.get("x")), _values(tr.get("y")), crs)
    if "marker" in tr:
        m = {k: v for k, v in tr["marker"].items() if k not in ("symbol", "line")}
        if str(tr["marker"].get("symbol", "")).endswith("-open") or m.get("color") == "rgba(0,0,0,0)":
            # an open ring: its outline colour as a translucent disc
            m["color"] = (tr["marker"].get("line") or {}).get("color", m.get("color"))
            m["opacity"] = min(float(m.get("opacity", 1.0)), 0.4)
        out["marker"] = m
    if "line" in tr:
        out["line"] = {k: v for k, v in tr["line"].items() if k in ("color", "width")}
    if "textfont" in out:
        out["textfont"] = {k: v for k, v in out["textfont"].items() if k in ("color", "size")}
    return out


def map_layout(bounds: tuple[float, float, float, float] | None, *, lang: str, theme: str = "light",
               uirevision: str, width_px: int = 900, height_px: int = 600, crs: str | None = None,
               style: Any = None) -> dict:
    """A layout on the configured basemap showing ``bounds`` (lon/lat), a horizontal legend at the top and the
    toolbar down the right edge."""
    st, draw = basemap_for(theme, lang)
    center, zoom = view_of(bounds or (114.0, 30.4, 114.6, 30.8), width_px=width_px, height_px=height_px)
    col = MAP_COLOURS[theme]
    return {"template": template_dict(theme), "margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "dragmode": "pan",
            "map": {"style": style if style is not None else st, "center": center, "zoom": zoom},
            "legend": {"orientation": "h", "y": 1.0, "x": 0, "yanchor": "top",
                       "bgcolor": "rgba(255,255,255,0.8)" if theme == "light" else "rgba(6,16,31,0.8)"},
            # the toolbar as a column down the right edge: along the top it covered the legend's last entries
            # on a laptop screen (1366 px: the hazard ledger's map, the coverage map in English)
            "modebar": {"orientation": "v"},
            "uirevision": uirevision, "paper_bgcolor": col["paper"], "meta": {"crs": crs or draw}}


def on_map(traces: list[dict], bounds: tuple | None, *, lang: str, uirevision: str, theme: str = "light",
           **size: int) -> dict:
    """The figure of ``traces`` (written on lon/lat axes) on the basemap, fitted to ``bounds``."""
    layout = map_layout(bounds, lang=lang, theme=theme, uirevision=uirevision, **size)
    crs = layout["meta"]["crs"]
    return {"data": [map_trace(tr, crs) for tr in traces], "layout": layout}
