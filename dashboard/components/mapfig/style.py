"""The basemap a map figure draws on: the MapLibre style of the configured preset and the CRS to draw in.

Inside a request, :func:`dashboard.basemap_routes.style_for` gives the style with this app's own tile URL
(absolute: MapLibre loads tiles in a web worker) and :func:`layers.basemap.draw_crs` the CRS of its tiles.
Outside a request (a unit test, a benchmark building figures) the built-in style over ``/tiles/...`` is used.

Never a built-in plotly style name ("white-bg", "carto-*", "open-street-map"): they fetch fonts or tiles
from the internet. The style dict goes into ``layout.map.style``; plotly.js 4.1 compares it by JSON and
calls MapLibre's ``setStyle`` only when it changed (a ``Patch`` of the view or of traces keeps it).
"""

from __future__ import annotations

from typing import Any

from layers.basemap import TILESET, basemap_style

#: the tile URL of the built-in basemap outside a request (relative: for figures that are not drawn)
FALLBACK_TILES = f"/tiles/{TILESET}/{{z}}/{{x}}/{{y}}.pbf"


def basemap_for(theme: str, lang: str) -> tuple[dict[str, Any] | str, str]:
    """``(style, draw_crs)`` for a map in ``theme`` and ``lang``: the configured preset's style inside a request,
    the built-in style outside one; ``draw_crs`` is ``"gcj02"`` over GCJ-02 tiles (drawn data are shifted)."""
    theme = "dark" if theme == "dark" else "light"
    try:
        import flask

        if flask.has_request_context() and "RISKMAP_BASEMAP" in flask.current_app.config:
            from dashboard import context
            from dashboard.basemap_routes import style_for
            from layers.basemap import draw_crs

            return style_for(theme, lang), draw_crs(context.settings())
    except RuntimeError:   # no app context
        pass
    return basemap_style(theme, tiles_url=FALLBACK_TILES, lang="en" if lang == "en" else "zh"), "wgs84"


def below_labels(style: dict[str, Any] | str) -> str:
    """Where the area fills go in ``style``: under its ``water`` layer when it has one (rivers stay blue, roads,
    boundaries and names are drawn over the risk colours), else under its first label layer ("" when it has
    none or is a URL: on top)."""
    if not isinstance(style, dict):
        return ""
    if any(layer.get("id") == "water" for layer in style.get("layers", [])):
        return "water"
    for layer in style.get("layers", []):
        if layer.get("type") == "symbol" or str(layer.get("id", "")).endswith("-labels"):
            return str(layer["id"])
    return ""
