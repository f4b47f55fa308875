"""Small array helpers of the coverage pass: text columns, code look-ups, day numbers, representative points
and frames built without copies. Plain numpy and pandas; no coverage rule lives here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import coverage as gcov

_EPOCH = np.datetime64("1970-01-01", "D")


def text_col(frame: pd.DataFrame, col: str, n: int) -> np.ndarray:
    """A text column as an object array, ``None`` where missing or empty."""
    if col not in frame.columns or n == 0:
        return np.full(n, None, dtype=object)
    a = frame[col].to_numpy(dtype=object)
    miss = pd.isna(a)
    miss |= a == ""
    if miss.any():
        a = a.copy()
        a[miss] = None
    return a


def blank(frame: pd.DataFrame, col: str) -> np.ndarray:
    """Where a text column is missing or empty (everywhere when there is no such column)."""
    if col not in frame.columns:
        return np.ones(len(frame), dtype=bool)
    s = frame[col]
    if isinstance(s.dtype, pd.StringDtype):  # (vectorised on the text's own storage: no Python strings)
        return (s.isna() | (s == "")).to_numpy(dtype=bool)
    a = s.to_numpy(dtype=object)
    return pd.isna(a) | (a == "")


def lookup(values: np.ndarray, mapping: Mapping[Any, Any], default: Any, dtype: Any = object) -> np.ndarray:
    """``mapping[v]`` for each value (``default`` when missing), one dict look-up per distinct value."""
    codes, uniq = pd.factorize(values, use_na_sentinel=False)
    table = np.array([mapping.get(u, default) if not pd.isna(u) else default for u in uniq] + [default],
                     dtype=dtype)
    return table[codes] if len(codes) else np.empty(0, dtype=dtype)


def encode(values: np.ndarray, vocab: list[str]) -> np.ndarray:
    """Index of each value in ``vocab`` (appending values not yet in it); -1 for missing or empty text."""
    codes, uniq = pd.factorize(values)
    pos = {c: i for i, c in enumerate(vocab)}
    table = np.empty(len(uniq) + 1, dtype=np.int64)
    for j, u in enumerate(uniq):
        u = str(u).strip()
        if u == "":
            table[j] = -1
            continue
        if u not in pos:
            pos[u] = len(vocab)
            vocab.append(u)
        table[j] = pos[u]
    table[-1] = -1
    return table[codes]


def decode(codes: np.ndarray, vocab: list[str]) -> np.ndarray:
    """Object array of the codes' texts (None for -1)."""
    return np.array([*vocab, None], dtype=object)[codes]


def combo_codes(*cols: np.ndarray) -> tuple[np.ndarray, list[tuple]]:
    """Codes of each row's combination of values, and the distinct combinations (rows in first-seen order)."""
    n = len(cols[0])
    key = np.zeros(n, dtype=np.int64)
    uniqs = []
    for c in cols:
        codes, u = pd.factorize(c, use_na_sentinel=False)
        uniqs.append(u)
        key = key * (len(u) + 1) + codes
    codes, uniq = pd.factorize(key)
    first_idx = np.zeros(len(uniq), dtype=np.int64)
    first_idx[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    combos = list(zip(*(np.asarray(c)[first_idx].tolist() for c in cols), strict=True)) if len(uniq) else []
    return codes, combos


def points(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """lon, lat and point geometry of each row's representative point (NaN and None without geometry): points
    as they are (the frame's own objects, not copies), the middle of a line, a point on the surface of a
    polygon, the first point of a multipoint."""
    n = len(frame)
    if n == 0 or "geometry" not in frame.columns:
        return np.full(n, np.nan), np.full(n, np.nan), np.full(n, None, dtype=object)
    g = np.asarray(frame.geometry.values if isinstance(frame, gpd.GeoDataFrame) else frame["geometry"].values,
                   dtype=object)
    tid = shapely.get_type_id(g)  # -1 for missing
    if (tid == 0).all():
        x, y = shapely.get_x(g), shapely.get_y(g)
        if np.isfinite(x).all():
            return x, y, g
        return x, y, np.where(np.isfinite(x) & np.isfinite(y), g, None)  # an empty point is no point
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    pts = np.full(n, None, dtype=object)
    ok = np.flatnonzero(tid >= 0)
    ok = ok[~shapely.is_empty(g[ok])]
    if len(ok) == 0:
        return lon, lat, pts
    gg = g[ok]
    t = tid[ok]
    rep = gg.copy()
    lines = (t == 1) | (t == 2) | (t == 5)
    if lines.any():
        rep[lines] = shapely.line_interpolate_point(gg[lines], 0.5, normalized=True)
    polys = (t == 3) | (t == 6) | (t == 7)
    if polys.any():
        rep[polys] = shapely.point_on_surface(gg[polys])
    multi = t == 4
    if multi.any():
        rep[multi] = shapely.get_geometry(gg[multi], 0)
    lon[ok] = shapely.get_x(rep)
    lat[ok] = shapely.get_y(rep)
    pts[ok] = rep
    return lon, lat, pts


def days(values: Any) -> np.ndarray:
    """datetime64 -> int days since 1970-01-01 (``NO_DAY`` for NaT)."""
    v = pd.to_datetime(values, errors="coerce")
    v = np.asarray(v, dtype="datetime64[D]")
    out = (v - _EPOCH).astype(np.int64)
    out[np.isnat(v)] = gcov.NO_DAY
    return out


def day(d: date) -> int:
    return int((np.datetime64(d, "D") - _EPOCH).astype(np.int64))


def iso(days: np.ndarray) -> np.ndarray:
    """ISO dates of day numbers (None for ``NO_DAY``), one conversion per distinct day."""
    d = np.asarray(days, dtype=np.int64)
    if len(d) == 0:
        return np.empty(0, dtype=object)
    codes, uniq = pd.factorize(d)
    txt = np.array([None if u == gcov.NO_DAY else str(_EPOCH + np.timedelta64(int(u), "D")) for u in uniq],
                   dtype=object)
    return txt[codes]


def utm_epsg(lon: float, lat: float) -> int:
    zone = int((lon + 180.0) // 6.0) + 1
    zone = min(max(zone, 1), 60)
    return (32600 if lat >= 0 else 32700) + zone


def obj_frame(cols: Mapping[str, Any]) -> pd.DataFrame:
    """A DataFrame from arrays; object arrays stay object (no string-dtype inference over a million rows), and
    no array is copied (a copy of an object array touches every object it holds: 0.2 s for 650,000 rows x 6)."""
    return pd.DataFrame({k: (pd.Series(v, dtype=object, copy=False) if isinstance(v, np.ndarray) and
                             v.dtype == object else v) for k, v in cols.items()}, copy=False)
