"""A few rows for every layer of :data:`layers.schema.LAYERS`, every column type and geometry kind (tests of the
stores: round trips, the two stores alike, copy-store)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon

from layers.schema import LAYERS, Geom, Layer, T

SQUARE = Polygon([(114.0, 30.0), (114.1, 30.0), (114.1, 30.1), (114.0, 30.1)])
HOLED = Polygon([(114.2, 30.2), (114.4, 30.2), (114.4, 30.4), (114.2, 30.4)],
                [[(114.25, 30.25), (114.3, 30.25), (114.3, 30.3)]])

_VALUES = {
    T.TEXT: ["江岸区 \"引号\" 'x' \\ 反斜杠\t制表\n换行", None, ""],
    T.INT: [1, None, -(2 ** 40)],
    T.REAL: [1.5, None, -1e-9],
    T.BOOL: [True, None, False],
    T.DATE: ["2026-01-02", None, "1999-12-31"],
    T.DATETIME: ["2026-01-02T03:04:05.123Z", None, "2025-06-30T23:59:59.000Z"],
    T.BLOB: [b"\x00\x01\xff binary", None, b""],
}

_GEOMS = {
    Geom.POINT: [Point(114.3, 30.6), None, Point()],   # an empty point is kept as one (not NULL)
    Geom.LINESTRING: [LineString([(114, 30), (114.1, 30.1)]),
                      MultiLineString([[(114, 30), (114.1, 30)], [(114.2, 30), (114.3, 30.2)]]), None],
    Geom.MULTILINESTRING: [MultiLineString([[(114, 30), (114.1, 30)]]), LineString([(114, 30), (115, 31)]), None],
    Geom.POLYGON: [SQUARE, MultiPolygon([SQUARE, HOLED]), None],
    Geom.MULTIPOLYGON: [MultiPolygon([SQUARE, HOLED]), HOLED, None],
    Geom.GEOMETRY: [HOLED, Point(114.5, 30.5), LineString([(114, 30), (114.05, 30.05)])],
}


def sample(schema: Layer, *, prefix: str = "") -> pd.DataFrame | gpd.GeoDataFrame:
    """Three rows of ``schema``: the id column unique, every other column one value of each kind and a NULL."""
    data = {}
    for c in schema.columns:
        values = list(_VALUES[c.type])
        if c.name == schema.id_column or c.unique:
            values = [f"{prefix}{schema.name}-{c.name}-{i}" for i in range(3)]
        data[c.name] = values
    frame = pd.DataFrame(data)
    for c in schema.columns:
        if c.type is T.DATE and c.name != schema.id_column:
            frame[c.name] = pd.to_datetime(frame[c.name])
    if schema.spatial:
        return gpd.GeoDataFrame(frame, geometry=list(_GEOMS[schema.geometry]), crs=4326)
    return frame


def every_layer(prefix: str = "") -> dict[str, pd.DataFrame]:
    return {name: sample(schema, prefix=prefix) for name, schema in LAYERS.items()}


QUARANTINE_ROWS = pd.DataFrame({  # as the importer makes them: object columns, None for missing
    "layer": ["enterprises", "hazards"], "source": ["企业.xlsx", None], "row": [17, None],
    "field": ["经度", None], "reason_zh": ["值 1210.5 超出范围", "缺少编号"],
    "reason_en": ["1210.5 is outside -180..180", "no id"], "raw": [{"经度": 1210.5}, None]}, dtype=object)
IMPORT_RECORD = {"layer": "enterprises", "source": "企业.xlsx", "mode": "append", "rows_read": 3, "written": 2,
                 "quarantined": 1, "fixed": 0, "report": {"说明": "ok"}}
