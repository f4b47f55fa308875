"""The objects readiness is measured for, by class (``schema.READINESS_CLASSES``):

* ``major_enterprise``: enterprises of grade ``major``; ``high_enterprise``: grade ``high``; ``hazchem``: industry
  ``hazchem`` (an enterprise may be in two classes: one row per class). Closed enterprises are left out, as
  coverage leaves them out (``status == "closed"``).
* ``venue``: every crowded venue; ``tunnel``: every tunnel, at the middle of its line; ``flood_point``: every flood
  point, with its severity (none given: ``minor``).

Each row: ``key`` (``layer:id``), ``layer``, ``id``, ``class``, ``name``, ``district_code``, ``town_code`` (the
registered ones; where none is registered, the district/town the point lies in), ``lon``/``lat`` (NaN without a
location) and ``severity`` (flood points only).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from geo import coverage as gcov
from layers.analysis.coverage.arrays import obj_frame, points, text_col
from layers.analysis.coverage.blind_spots import own
from layers.analysis.readiness.frames import frame
from layers.schema import FLOOD_SEVERITY, READINESS_CLASSES

CLASS_LAYER = {"major_enterprise": "enterprises", "high_enterprise": "enterprises", "hazchem": "enterprises",
               "venue": "venues", "tunnel": "tunnels", "flood_point": "flood_points"}
DEFAULT_SEVERITY = "minor"
OBJECT_COLUMNS = ("key", "layer", "id", "class", "name", "district_code", "town_code", "lon", "lat", "severity")


def _rows(layer: str, cls: str, f: pd.DataFrame, keep: np.ndarray, lon: np.ndarray, lat: np.ndarray
          ) -> pd.DataFrame:
    n = len(f)
    ids = f["id"].astype(str).to_numpy(dtype=object)[keep] if n else np.empty(0, object)
    sev = np.full(len(ids), None, dtype=object)
    if layer == "flood_points":
        s = text_col(f, "severity", n)[keep]
        sev = np.where(pd.isna(s) | ~pd.Series(s, dtype=object).isin(list(FLOOD_SEVERITY)).to_numpy(),
                       DEFAULT_SEVERITY, s).astype(object)
    return obj_frame({
        "key": (layer + ":" + pd.Series(ids, dtype=object)).to_numpy(dtype=object), "layer": np.full(len(ids), layer,
                                                                                                     dtype=object),
        "id": ids, "class": np.full(len(ids), cls, dtype=object), "name": text_col(f, "name", n)[keep],
        "district_code": text_col(f, "district_code", n)[keep], "town_code": text_col(f, "town_code", n)[keep],
        "lon": lon[keep], "lat": lat[keep], "severity": sev})


def readiness_objects(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Every readiness object, one row per (object, class), classes in ``READINESS_CLASSES`` order."""
    parts = []
    ent = frame(frames, "enterprises")
    n = len(ent)
    lon, lat, _ = points(ent)
    open_ = text_col(ent, "status", n) != "closed"
    grade = text_col(ent, "grade", n)
    industry = text_col(ent, "industry", n)
    sel = {"major_enterprise": open_ & (grade == "major"), "high_enterprise": open_ & (grade == "high"),
           "hazchem": open_ & (industry == "hazchem")}
    for cls in READINESS_CLASSES:
        layer = CLASS_LAYER[cls]
        if layer == "enterprises":
            parts.append(_rows(layer, cls, ent, np.asarray(sel[cls], dtype=bool), lon, lat))
        else:
            f = frame(frames, layer)
            x, y, _ = points(f)
            parts.append(_rows(layer, cls, f, np.ones(len(f), dtype=bool), x, y))
    out = pd.concat(parts, ignore_index=True)
    return _place(out, frame(frames, "districts"), frame(frames, "towns"))


def _place(objs: pd.DataFrame, districts: pd.DataFrame, towns: pd.DataFrame) -> pd.DataFrame:
    """Fill a missing district or town code with the area the point lies in."""
    lon = objs["lon"].to_numpy(dtype=float)
    lat = objs["lat"].to_numpy(dtype=float)
    has = np.isfinite(lon) & np.isfinite(lat)
    for col, areas in (("district_code", districts), ("town_code", towns)):
        codes = objs[col].to_numpy(dtype=object).copy()
        miss = np.flatnonzero(pd.isna(codes) & has)
        if len(miss) == 0 or len(areas) == 0 or "geometry" not in areas.columns:
            continue
        at = gcov.locate_points(lon[miss], lat[miss], own(areas.geometry.values))
        vocab = np.array([*areas["code"].astype(str), None], dtype=object)
        codes[miss] = vocab[at]
        objs[col] = pd.Series(codes, index=objs.index, dtype=object)
    return objs
