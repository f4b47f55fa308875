"""The basemap wing: the offline vector basemap built from the store's own layers, its style, and the presets.

* :func:`build_basemap` writes a PMTiles file of vector tiles (districts, towns, roads by class, water, rail,
  place names) with pyogrio's GDAL; :func:`basemap_status` says whether the file is missing, stale or fresh.
* :func:`basemap_style` is the MapLibre style (light or dark, Chinese or English names) over those tiles, with no
  ``glyphs`` and no ``sprite``: MapLibre draws every glyph locally and asks no other host.
* :func:`map_style` is the style of the configured preset (``RISKMAP_BASEMAP``: builtin, a vector style URL,
  XYZ/WMTS raster, Tianditu, Amap); :func:`draw_crs` says in which CRS the drawn data must be given (``gcj02``
  over Amap tiles: shift with :func:`to_draw_crs`, never the stored data).
"""

from layers.basemap.build import (
    MAXZOOM,
    MINZOOM,
    TILESET,
    BasemapError,
    BasemapInfo,
    basemap_path,
    basemap_status,
    build_basemap,
    read_info,
)
from layers.basemap.shift import draw_crs, to_draw_crs
from layers.basemap.style import basemap_style, map_style

__all__ = ["MAXZOOM", "MINZOOM", "TILESET", "BasemapError", "BasemapInfo", "basemap_path", "basemap_status",
           "basemap_style", "build_basemap", "draw_crs", "map_style", "read_info", "to_draw_crs"]
