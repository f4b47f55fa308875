"""Intranet XYZ map tiles as ``layout.images`` (only when the operator set ``Settings.tile_url``)."""

from __future__ import annotations

import math

import numpy as np


def tile_images(url: str, xr: list[float], yr: list[float], *, width_px: int = 1200, crs: str = "wgs84",
                max_tiles: int = 64) -> list[dict]:
    """``layout.images`` of the XYZ tiles (Web Mercator) covering lon range ``xr`` and lat range ``yr``.

    Each tile is placed by its lon/lat bounds; for GCJ-02 tiles the placement is shifted to WGS-84 (the
    data stay as stored).
    """
    lon_span = max(xr[1] - xr[0], 1e-6)
    z = int(np.clip(round(math.log2(360.0 * width_px / (256.0 * lon_span))), 1, 18))

    def tx(lon: float, zz: int) -> int:
        return int(math.floor((lon + 180.0) / 360.0 * 2 ** zz))

    def ty(lat: float, zz: int) -> int:
        r = math.radians(lat)
        return int(math.floor((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * 2 ** zz))

    while True:
        x0, x1 = tx(xr[0], z), tx(xr[1], z)
        y0, y1 = ty(yr[1], z), ty(yr[0], z)
        if (x1 - x0 + 1) * (y1 - y0 + 1) <= max_tiles or z <= 1:
            break
        z -= 1

    def lon_of(x: int) -> float:
        return x / 2 ** z * 360.0 - 180.0

    def lat_of(y: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / 2 ** z))))

    images = []
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            west, east, north, south = lon_of(x), lon_of(x + 1), lat_of(y), lat_of(y + 1)
            if crs == "gcj02":
                from geo.crs import gcj02_to_wgs84
                lo, la = gcj02_to_wgs84(np.array([west, east]), np.array([north, south]))
                west, east, north, south = float(lo[0]), float(lo[1]), float(la[0]), float(la[1])
            images.append({"source": url.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y)),
                           "xref": "x", "yref": "y", "x": west, "y": north, "sizex": east - west,
                           "sizey": north - south, "sizing": "stretch", "layer": "below", "opacity": 1.0})
    return images
