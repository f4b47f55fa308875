"""The map figure, shared by the map page (``/``), the wall (``/wall``) and the object page.

A Plotly figure on MapLibre (``layout.map``: ``scattermap`` and ``choroplethmap`` traces) over the app's own
basemap style (:mod:`layers.basemap`, served by ``dashboard.basemap_routes``: vector tiles built from the store,
no glyph or sprite URL, so nothing is fetched from any other host), or over the configured intranet preset
(data shifted into GCJ-02 at draw time over GCJ-02 tiles). Built as a plain dict (no plotly validation: fast),
point and line coordinates as float32 typed arrays (``{"dtype": "f4", "bdata": ...}``, about 0.7 m
precision), lines as ``NaN``-separated parts, areas as GeoJSON. Every marker is a circle (any other symbol
makes plotly.js fetch an icon from a CDN); kinds differ by colour, size and rings (two stacked circles).

Use::

    from dashboard.components.mapfig import MapOptions, build_map, city_map, visibility_patch
    mf = city_map(store, filters=Filters.make(districts=context.scope(None)), options=MapOptions(
        lang="zh", theme="dark"), weights=settings.risk_index_weights)
    dcc.Graph(figure=mf.figure)           # mf.traces[i] is the toggle key of trace i (see TOGGLES)
    # later, to show only some toggles without redrawing:
    return visibility_patch(mf.traces, {"enterprises", "hazards"})

``build_map(selection, options, risk=...)`` does the same from a :class:`layers.summary.Selection`.

Every text from data is HTML-escaped before it reaches Plotly (hover labels and map labels render a subset of
HTML). Every clickable point carries ``customdata = "<layer>:<id>"`` (``"district:<code>"``,
``"town:<code>"`` for an area, ``"district:<code>"`` for a hexagon: its main district,
``"hazards:<id>"`` for a hazard). With ``MapOptions(hover="events")`` points carry no hover text at all (the
map page shows a server-built ``dcc.Tooltip`` instead: a figure several times smaller).

The modules (each imports only those above it, none of them this package):

* ``config`` — ``graph_config``: the ``dcc.Graph`` config of every graph (no Plotly Cloud, no link out).
* ``options`` — ``MapOptions``, ``MapFigure``, the toggle keys (``TOGGLES``, ``DEFAULT_VISIBLE``, ``ALWAYS``).
* ``coords`` — geometry to coordinates (``typed``, ``ring_coords``, ``chain_lines``, ``view_of``,
  ``geojson_of``).
* ``style`` — ``basemap_for``: the MapLibre style and drawing CRS of the configured basemap.
* ``cache`` — ``cached``: drawing inputs kept per city, so per data version.
* ``hover`` — ``esc`` and the hover texts of objects and hazards, area names.
* ``traces`` — line, circle, ring, area (choroplethmap) and legend-key traces.
* ``citymap`` — ``build_map``, ``city_map``, ``visibility_patch``: the city map with its hexagons.
* ``surroundings`` — ``surroundings_map``: the object page's small map.
"""

from dashboard.components.mapfig.citymap import build_map, city_map, visibility_patch
from dashboard.components.mapfig.config import CLOUD_BUTTONS, OFFLINE_CONFIG, graph_config
from dashboard.components.mapfig.coords import (
           chain_lines,
           geojson_of,
           ring_coords,
           typed,
           view_of,
           view_range,
)
from dashboard.components.mapfig.hover import esc
from dashboard.components.mapfig.options import ALWAYS, DEFAULT_VISIBLE, TOGGLES, MapOptions, toggle_options
from dashboard.components.mapfig.style import basemap_for
from dashboard.components.mapfig.surroundings import surroundings_map

__all__ = ["MapOptions", "TOGGLES", "DEFAULT_VISIBLE", "ALWAYS", "toggle_options", "build_map", "city_map",
           "visibility_patch", "surroundings_map", "basemap_for", "esc", "typed", "ring_coords",
           "chain_lines", "view_range", "view_of", "geojson_of", "graph_config", "OFFLINE_CONFIG", "CLOUD_BUTTONS"]
