"""The map figure, shared by the map page (``/``), the wall (``/wall``) and the object page.

A Plotly figure on cartesian axes (x = lon, y = lat, ``yaxis.scaleanchor = "x"`` with
``scaleratio = 1/cos(lat0)``: equidistant at city scale), built as a plain dict (no plotly validation: fast),
coordinates as float32 typed arrays (``{"dtype": "f4", "bdata": ...}``, about 0.7 m precision), polygons and
lines as ``NaN``-separated rings. The basemap is drawn from our own layers; nothing is fetched from any host
unless the operator set ``Settings.tile_url``.

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
``"town:<code>"`` for area labels, ``"district:<code>"`` for a hexagon: its main district,
``"hazards:<id>"`` for a hazard). With ``MapOptions(hover="events")`` points carry no hover text at all (the
map page shows a server-built ``dcc.Tooltip`` instead: a figure several times smaller).

The modules (each imports only those above it, none of them this package):

* ``config`` — ``graph_config``: the ``dcc.Graph`` config of every graph (no Plotly Cloud, no link out).
* ``options`` — ``MapOptions``, ``MapFigure``, the toggle keys (``TOGGLES``, ``DEFAULT_VISIBLE``, ``ALWAYS``).
* ``coords`` — geometry to coordinates (``typed``, ``ring_coords``, ``chain_lines``, ``view_range``).
* ``cache`` — ``cached``: drawing inputs kept per city, so per data version.
* ``hover`` — ``esc`` and the hover texts of objects and hazards, area names.
* ``traces`` — line, marker and legend-key traces, the area name labels.
* ``tiles`` — ``tile_images``: intranet XYZ tiles as layout images.
* ``citymap`` — ``build_map``, ``city_map``, ``visibility_patch``: the city map with its hexagons.
* ``surroundings`` — ``surroundings_map``: the object page's small map.
"""

from dashboard.components.mapfig.citymap import build_map, city_map, visibility_patch
from dashboard.components.mapfig.config import CLOUD_BUTTONS, OFFLINE_CONFIG, graph_config
from dashboard.components.mapfig.coords import chain_lines, ring_coords, typed, view_range
from dashboard.components.mapfig.hover import esc
from dashboard.components.mapfig.options import ALWAYS, DEFAULT_VISIBLE, TOGGLES, MapOptions, toggle_options
from dashboard.components.mapfig.surroundings import surroundings_map
from dashboard.components.mapfig.tiles import tile_images

__all__ = ["MapOptions", "TOGGLES", "DEFAULT_VISIBLE", "ALWAYS", "toggle_options", "build_map", "city_map",
           "visibility_patch", "surroundings_map", "tile_images", "esc", "typed", "ring_coords",
           "chain_lines", "view_range", "graph_config", "OFFLINE_CONFIG", "CLOUD_BUTTONS"]
