"""The map's key as HTML beside the map (``MapOptions(legend="html")``): no legend traces on the map, since every
``scattermap`` trace is several MapLibre sources and layers (a key of 35 entries as traces made zooming slow)."""

from __future__ import annotations

import re

from dash import html

#: a swatch darker than this (relative luminance, 0 black .. 1 white) gets a light outline on a dark key
DARK_SWATCH = 0.06


def luminance(color: str) -> float | None:
    """Relative luminance (WCAG) of ``#rrggbb`` or ``rgb(a)(r, g, b…)``; None when the string is neither."""
    c = color.strip()
    if re.fullmatch(r"#[0-9a-fA-F]{6}", c):
        rgb = [int(c[i:i + 2], 16) for i in (1, 3, 5)]
    else:
        m = re.fullmatch(r"rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*[\d.]+\s*)?\)", c)
        if not m:
            return None
        rgb = [float(v) for v in m.groups()]
    lin = [(v / 255) / 12.92 if v / 255 <= 0.03928 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _dot_style(e: dict, *, theme: str, relative: bool) -> dict:
    size = min(max(float(e["size"]), 7), 13)
    side = f"{size / 10:.2f}em" if relative else f"{size:.0f}px"
    style = {"background": str(e["color"]), "width": side, "height": side}
    lum = luminance(str(e["color"]))
    if theme == "dark" and lum is not None and lum < DARK_SWATCH:   # e.g. the risk index's 0–20 on the wall
        style["boxShadow"] = "0 0 0 0.12em rgba(230, 238, 251, 0.8)"
    return style


def legend_box(entries: list[dict], *, theme: str = "light", box_id: str = "map-legend",
               relative: bool = False) -> html.Div:
    """A compact key: one row per group (its title, then its entries as coloured dots and names).

    ``relative``: dot sizes in ``em`` (they follow the key's font size, e.g. the wall's, which follows the
    screen) instead of pixels. On a dark key a swatch too dark to see on it gets a light outline."""
    groups: list[tuple[str, list[dict]]] = []
    for e in entries:
        if e.get("title") or not groups or groups[-1][0] != e["key"]:
            groups.append((e["key"], [e]))
        else:
            groups[-1][1].append(e)
    rows = []
    for key, items in groups:
        title = items[0].get("title") or ""
        rows.append(html.Div(className="legend-group", **{"data-key": key}, children=[
            html.Span(title, className="legend-title") if title else None,
            *[html.Span(className="legend-item", children=[
                html.Span(className="legend-dot", style=_dot_style(e, theme=theme, relative=relative)),
                e["name"]]) for e in items]]))
    return html.Div(rows, id=box_id, className=f"map-legend legend-{theme}")
