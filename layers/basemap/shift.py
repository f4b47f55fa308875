"""In which CRS the map must be *drawn* over the configured basemap, and the shift into it.

The store is WGS-84 and stays so. Tiles in GCJ-02 (Amap, or an XYZ/WMTS/style source declared
``RISKMAP_TILE_CRS=gcj02``) sit about 300–600 m off WGS-84 in China, so what is drawn over them is shifted
into GCJ-02 when the figure is built (:func:`to_draw_crs`), never the stored data. The built-in basemap and
Tianditu (CGCS2000, within centimetres of WGS-84 at map scale) need no shift. BD-09 (Baidu) tiles are refused
by the settings.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from geo.crs import wgs84_to_gcj02
from layers.settings import Settings

DrawCRS = Literal["wgs84", "gcj02"]


def effective_preset(settings: Settings) -> str:
    """The basemap preset in force: ``RISKMAP_BASEMAP``, or ``xyz`` when only the older ``RISKMAP_TILE_URL`` is set."""
    if settings.basemap == "builtin" and settings.tile_url:
        return "xyz"
    return settings.basemap


def draw_crs(settings: Settings) -> DrawCRS:
    """``"gcj02"`` when the basemap's tiles are in GCJ-02 (Amap; XYZ/WMTS/style URL with ``RISKMAP_TILE_CRS=gcj02``),
    else ``"wgs84"`` (built-in, Tianditu, WGS-84 tiles). The map code shifts what it draws with :func:`to_draw_crs`."""
    preset = effective_preset(settings)
    if preset == "amap":
        return "gcj02"
    if preset in ("xyz", "wmts", "style_url"):
        return "gcj02" if settings.tile_crs == "gcj02" else "wgs84"
    return "wgs84"


def to_draw_crs(lon: np.ndarray, lat: np.ndarray, crs: DrawCRS) -> tuple[np.ndarray, np.ndarray]:
    """Stored WGS-84 lon/lat (degrees, arrays) -> the coordinates to draw over tiles in ``crs`` (a copy)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if crs == "wgs84":
        return lon.copy(), lat.copy()
    if crs == "gcj02":
        ok = np.isfinite(lon) & np.isfinite(lat)
        out_lon, out_lat = lon.copy(), lat.copy()
        out_lon[ok], out_lat[ok] = wgs84_to_gcj02(lon[ok], lat[ok])
        return out_lon, out_lat
    raise ValueError(f"未知的绘制坐标系 {crs!r} (unknown drawing CRS {crs!r}; wgs84 or gcj02)")


__all__ = ["DrawCRS", "draw_crs", "effective_preset", "to_draw_crs"]
