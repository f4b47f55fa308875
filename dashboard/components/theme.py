"""Plotly templates for the app's theme: ``"riskmap"`` (light, for pages) and ``"riskmap_dark"`` (the wall).

Figures name a template instead of setting colours one by one::

    fig = {"data": [...], "layout": {"template": template_dict("dark"), ...}}
    go.Figure(..., layout={"template": "riskmap"})   # after register_templates()

Map colours (paper, land, water, roads, boundaries, labels) live in :data:`MAP_COLOURS` per theme, since the
map's basemap is drawn from our own layers and has no template attribute of its own. System fonts only: the
browser fetches no web font.
"""

from __future__ import annotations

import copy
from functools import cache

import plotly.graph_objects as go
import plotly.io as pio

FONT = ('"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
        '"Helvetica Neue", Arial, sans-serif')

THEMES = ("light", "dark")

#: Colours of the drawn basemap and map furniture per theme.
MAP_COLOURS: dict[str, dict[str, str]] = {
    "light": {
        "paper": "#eef2f6", "land": "#f7f8fa", "water": "#b9d3ee", "water_line": "#8fb6df",
        "road": "#c9d1dc", "road_major": "#aab5c4", "district_line": "#4a5a70", "town_line": "#97a3b4",
        "label": "#1b2430", "label_halo": "rgba(255,255,255,0.85)", "town_label": "#4d5b6e",
        "hover_bg": "#ffffff", "hover_ink": "#1b2430", "hover_border": "#9aa7b8", "selected": "#0f5bd8",
        "risk_scale": "#fff5eb,#fdd0a2,#fd8d3c,#e6550d,#a63603",
        "hex_scale": "#fee8c8,#fdbb84,#fc8d59,#e34a33,#b30000",
    },
    "dark": {
        "paper": "#06101f", "land": "#0b1a2e", "water": "#123a63", "water_line": "#1f5a91",
        "road": "#1d3150", "road_major": "#2b4770", "district_line": "#7fa6d6", "town_line": "#35557f",
        "label": "#e6eefb", "label_halo": "rgba(6,16,31,0.8)", "town_label": "#9fb4d3",
        "hover_bg": "#0d2240", "hover_ink": "#e6eefb", "hover_border": "#3d6aa6", "selected": "#00e5ff",
        "risk_scale": "#1a1f3a,#4a2a5e,#8c2f5c,#d1454a,#ff8a3d",
        "hex_scale": "#24304f,#5b3a78,#a33d74,#e0524f,#ffb347",
    },
}


def _layout(theme: str) -> dict:
    c = MAP_COLOURS[theme]
    dark = theme == "dark"
    ink = "#e6eefb" if dark else "#1b2430"
    grid = "#1f3452" if dark else "#e3e8ef"
    paper = "#0a1628" if dark else "#ffffff"
    return {
        "font": {"family": FONT, "size": 13 if not dark else 15, "color": ink},
        "paper_bgcolor": paper,
        "plot_bgcolor": paper,
        "colorway": ["#0f5bd8", "#FF8A00", "#2E9E44", "#E5141B", "#9B59B6", "#16A085", "#7F8C8D", "#F7D600"],
        "margin": {"l": 8, "r": 8, "t": 28, "b": 8},
        "hoverlabel": {"bgcolor": c["hover_bg"], "bordercolor": c["hover_border"],
                       "font": {"family": FONT, "color": c["hover_ink"], "size": 13}},
        "legend": {"bgcolor": "rgba(0,0,0,0)", "font": {"color": ink}},
        "title": {"font": {"size": 14, "color": ink}, "x": 0.01, "xanchor": "left"},
        "xaxis": {"gridcolor": grid, "linecolor": grid, "zerolinecolor": grid, "tickfont": {"color": ink},
                  "automargin": True},
        "yaxis": {"gridcolor": grid, "linecolor": grid, "zerolinecolor": grid, "tickfont": {"color": ink},
                  "automargin": True},
        "separators": ".,",
    }


@cache
def _template(theme: str) -> dict:
    if theme not in THEMES:
        raise ValueError(f"主题必须是 {THEMES} 之一 (theme must be one of {THEMES}), got {theme!r}")
    return {"layout": _layout(theme),
            "data": {"bar": [{"marker": {"line": {"width": 0}}, "textfont": {"family": FONT}}],
                     "pie": [{"textfont": {"family": FONT}}]}}


def template_dict(theme: str = "light") -> dict:
    """The template as a plain dict (a copy), for figures built as dicts."""
    return copy.deepcopy(_template(theme))


def template_name(theme: str = "light") -> str:
    return "riskmap_dark" if theme == "dark" else "riskmap"


def register_templates() -> None:
    """Register ``riskmap`` and ``riskmap_dark`` with plotly.io (idempotent; called by the app's pages)."""
    for theme in THEMES:
        name = template_name(theme)
        if name not in pio.templates:
            pio.templates[name] = go.layout.Template(_template(theme))
