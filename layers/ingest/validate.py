"""Column mapping and vectorised value checks for imports.

- :func:`map_columns` finds each schema column among a file's headers by its name, its zh/en label or one
  of its aliases (``Column.aliases`` in :mod:`layers.schema`), and the coordinate columns
  (经度/纬度/lng/lat/longitude/latitude/X/Y) or a WKT column.
- ``to_*`` functions turn a raw column (text from CSV; text, numbers, dates and booleans from Excel; typed
  values from GDAL) into the stored type and return a mask of values that could not be converted. They work
  on whole columns with pandas/numpy; no Python loop over rows unless a column mixes Python types (Excel).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from layers import schema as S
from layers.schema import Column, Layer

LON_ALIASES = ("经度", "lng", "lon", "long", "longitude", "x", "x坐标", "东经", "经度坐标", "坐标x", "point_x", "經度",
               "東經", "經度坐標")
LAT_ALIASES = ("纬度", "lat", "latitude", "y", "y坐标", "北纬", "纬度坐标", "坐标y", "point_y", "緯度", "北緯", "緯度坐標")
WKT_ALIASES = ("wkt", "geometry", "geom", "几何", "空间信息", "坐标串")

TRUE_WORDS = ("true", "t", "yes", "y", "1", "是", "有", "√", "✓", "到位", "已到位", "对")
FALSE_WORDS = ("false", "f", "no", "n", "0", "否", "无", "×", "✗", "未到位", "不到位", "错")


def norm_header(h: object) -> str:
    """Header text for matching: NFKC (full-width -> ASCII), no spaces or ``*`` marks, lower case."""
    text = unicodedata.normalize("NFKC", str(h)).strip().lower()
    return re.sub(r"[\s*＊:：]+", "", text)


@dataclass
class ColumnMap:
    """Which file header feeds which schema column."""

    columns: dict[str, str] = field(default_factory=dict)  # schema column -> file header
    lon: str | None = None
    lat: str | None = None
    wkt: str | None = None
    unused: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)  # (column, used header, ignored header)


def map_columns(layer: Layer, headers: Iterable[str], *, coordinates: bool,
                extra: Mapping[str, tuple[str, ...]] | None = None) -> ColumnMap:
    """Match ``headers`` to ``layer``'s columns: exact name first, then zh/en labels, then aliases, then the
    ``extra`` spellings (column -> headers, e.g. a provincial system's).

    With ``coordinates`` True also look for longitude/latitude columns or a WKT column.
    """
    headers = [str(h) for h in headers]
    normed = {h: norm_header(h) for h in headers}
    used: set[str] = set()
    out = ColumnMap()
    more = extra or {}
    tiers = [lambda c: (c.name,), lambda c: (c.zh, c.en), lambda c: c.aliases, lambda c: more.get(c.name, ())]
    for tier in tiers:
        for col in layer.columns:
            keys = {norm_header(k) for k in tier(col)}
            for h in headers:
                if h in used or normed[h] not in keys:
                    continue
                if col.name in out.columns:
                    out.duplicates.append((col.name, out.columns[col.name], h))
                    used.add(h)
                    continue
                out.columns[col.name] = h
                used.add(h)
    if coordinates:
        for attr, aliases in (("lon", LON_ALIASES), ("lat", LAT_ALIASES), ("wkt", WKT_ALIASES)):
            keys = {norm_header(a) for a in aliases}
            for h in headers:
                if h not in used and normed[h] in keys:
                    setattr(out, attr, h)
                    used.add(h)
                    break
    out.unused = [h for h in headers if h not in used]
    return out


def header_keys(layer: Layer, *, extra: Iterable[str] = ()) -> set[str]:
    """Every normalised header spelling that names a column of ``layer`` (and the coordinate columns)."""
    keys = {norm_header(k) for c in layer.columns for k in (c.name, c.zh, c.en, *c.aliases)}
    keys |= {norm_header(k) for k in (*LON_ALIASES, *LAT_ALIASES, *WKT_ALIASES, *extra)}
    keys.discard("")
    return keys


def header_score(cells: Iterable[object], keys: set[str]) -> int:
    """How many distinct cells of a row are known header spellings (``keys`` from :func:`header_keys`)."""
    return len({norm_header(v) for v in cells if v not in (None, "") and norm_header(v) in keys})


#: a row is taken for the header, below title and note rows, when at least this many of its cells are known
#: column names and more than in the first row
MIN_HEADER_MATCHES = 2
#: how far down a header row is looked for
HEADER_SEARCH_ROWS = 30


def find_header(rows: list[list[object]], keys: set[str]) -> int:
    """Index of the header among the first rows: the first row with the most known column names, when that
    is at least :data:`MIN_HEADER_MATCHES` and more than the first row has; else 0 (the first row)."""
    scores = [header_score(r, keys) for r in rows[:HEADER_SEARCH_ROWS]]
    if not scores:
        return 0
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))
    return best if scores[best] >= MIN_HEADER_MATCHES and scores[best] > scores[0] else 0


# --------------------------------------------------------------------------------------------------
# Allowed values: keys, their zh/en labels and aliases
# --------------------------------------------------------------------------------------------------

def _value_dicts() -> list[dict[str, dict]]:
    return [v for v in vars(S).values() if isinstance(v, dict) and v and
            all(isinstance(e, dict) and "zh" in e for e in v.values())]


def allowed_lookup(col: Column) -> dict[str, str]:
    """Normalised spelling -> allowed key, for ``col.allowed`` (keys, zh/en labels, aliases)."""
    assert col.allowed is not None
    allowed = set(col.allowed)
    out: dict[str, str] = {}
    for d in _value_dicts():
        if set(d) == allowed:
            for key, entry in d.items():
                for spelling in (entry.get("zh"), entry.get("en"), *entry.get("aliases", ())):
                    if spelling:
                        out.setdefault(norm_value(spelling), key)
            break
    if allowed <= set(S.LAYERS):  # target_layer: layer names and their labels
        for key in allowed:
            out.setdefault(norm_value(S.LAYERS[key].zh), key)
            out.setdefault(norm_value(S.LAYERS[key].en), key)
    for key in col.allowed:  # the keys themselves win over any label
        out[norm_value(key)] = key
    return out


def norm_value(v: object) -> str:
    return unicodedata.normalize("NFKC", str(v)).strip().lower()


def allowed_labels(col: Column) -> str:
    """``major(重大风险), high(较大风险), ...`` for messages."""
    assert col.allowed is not None
    labels = {}
    for d in _value_dicts():
        if set(d) == set(col.allowed):
            labels = {k: d[k]["zh"] for k in d}
            break
    return ", ".join(f"{k}({labels[k]})" if k in labels else k for k in col.allowed)


# --------------------------------------------------------------------------------------------------
# Converters: raw column -> (typed values, mask of values that did not convert)
# --------------------------------------------------------------------------------------------------

def _text_of(v: object) -> str | None:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, str):
        t = v.strip()
        if "\x00" in t:  # NUL padding (fixed-width and C sources) goes with the spaces
            t = t.strip("\x00").strip()
        return t or None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if np.isnan(v):
            return None
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, np.floating):
        return _text_of(float(v))
    if isinstance(v, (dt.datetime, pd.Timestamp)):
        return v.isoformat() if (v.hour or v.minute or v.second) else v.strftime("%Y-%m-%d")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v).strip() or None


def to_text(s: pd.Series) -> pd.Series:
    """Text values, stripped of spaces and NUL characters at both ends; empty -> None. Integral numbers (Excel stores 12 as 12.0) lose the ``.0``.

    One pass in C-level comprehension over the values (no pandas ``.str`` round trips): strings are the
    common case and take the fast branch.
    """
    vals = s.to_numpy(dtype=object)
    out = [(v.strip() or None) if type(v) is str and "\x00" not in v else _text_of(v) for v in vals]
    return pd.Series(out, index=s.index, dtype=object)


#: a float holds every whole number up to 2**53 exactly; past it (a 20-digit id typed into Excel) digits are lost
_EXACT_FLOAT = 2.0 ** 53


def key_text(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Text of an id or code column, and a mask of numbers that cannot be an exact id.

    A number (an Excel cell, a GDAL field) becomes its whole-number text (``1001.0`` -> ``1001``); a fraction
    or a float past 2**53 (``12345678901234567890`` is kept as ``1.2345678901234567e+19``) is marked: its
    digits are gone, and guessing them would make a wrong id.
    """
    vals = s.to_numpy(dtype=object)
    lost = np.zeros(len(vals), dtype=bool)
    out = to_text(s).to_numpy(dtype=object, copy=True)
    for i in np.flatnonzero([type(v) is not str for v in vals]):  # only numbers and the like
        v = vals[i]
        if isinstance(v, (float, np.floating)) and np.isfinite(v):
            if float(v).is_integer() and abs(v) < _EXACT_FLOAT:
                out[i] = str(int(v))
            else:
                lost[i] = True
    return pd.Series(out, index=s.index, dtype=object), lost


def drop_invisible(text: pd.Series) -> tuple[pd.Series, dict[int, str]]:
    """Text without format and control characters (zero-width space, BOM, soft hyphen, joiners, bidi marks).

    Returns the cleaned text and ``{position: "U+200B ZERO WIDTH SPACE, …"}`` for the values that held any.
    Two ids that differ only by such a character look the same on screen and in print.
    """
    vals = text.to_numpy(dtype=object)
    out = vals.copy()
    found: dict[int, str] = {}
    suspects = [i for i, v in enumerate(vals) if v is not None and not (v.isascii() and v.isprintable())]
    for i in suspects:
        v = vals[i]
        hidden = [ch for ch in v if unicodedata.category(ch) in ("Cf", "Cc")]
        if hidden:
            out[i] = "".join(ch for ch in v if ch not in hidden).strip() or None
            found[i] = ", ".join(dict.fromkeys(f"U+{ord(ch):04X} {unicodedata.name(ch, '')}".rstrip()
                                               for ch in hidden))
    return pd.Series(out, index=text.index, dtype=object), found


def numeric_raw(s: pd.Series) -> np.ndarray:
    """True where a raw value is a number (an Excel numeric cell), not text."""
    return s.map(lambda v: isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                 ).to_numpy(dtype=bool)


def _map_unique(text: pd.Series, fn) -> pd.Series:
    """``fn`` applied once per distinct value (enums and yes/no columns have few), then mapped by hash."""
    uniq = pd.unique(text.dropna().to_numpy(dtype=object))
    table = {u: fn(u) for u in uniq}
    return text.map(table)


def to_enum(text: pd.Series, col: Column) -> tuple[pd.Series, np.ndarray]:
    """Allowed key for each value (labels and aliases accepted); mask of non-empty values not allowed."""
    lookup = allowed_lookup(col)
    present = text.notna().to_numpy(dtype=bool)
    keys = _map_unique(text, lambda v: lookup.get(norm_value(v)))
    bad = present & keys.isna().to_numpy(dtype=bool)
    return keys.astype(object).where(keys.notna(), None), bad


_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")


def _number_of(t: str) -> float:
    """``float`` of a typed number: full-width forms normalised (NFKC: ``１１４．３０`` is 114.30), commas only as
    thousands separators in groups of three (``1,200``); ``114,3`` is not a number (see :func:`number_hint`)."""
    t = unicodedata.normalize("NFKC", t).strip()
    if "," in t:
        if not _THOUSANDS.fullmatch(t):
            raise ValueError(t)
        t = t.replace(",", "")
    return float(t)


def number_hint(text: object) -> tuple[str, str]:
    """A zh/en remark for a value that is not a number: the decimal comma (``114,3``), else nothing."""
    t = unicodedata.normalize("NFKC", str(text)).strip()
    if _DECIMAL_COMMA.fullmatch(t):
        fixed = t.replace(",", ".")
        return (f"（逗号当成了小数点？应写作 {fixed}）", f" (a decimal comma? write it as {fixed})")
    return "", ""


def to_number(s: pd.Series, *, integer: bool) -> tuple[pd.Series, np.ndarray]:
    """Numbers (full-width forms and thousands separators allowed); mask of non-empty values that are not
    (integral) numbers."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        arr = s.to_numpy(dtype=float, na_value=np.nan)  # already numbers (GDAL fields)
        present = ~np.isnan(arr)
    else:
        # numbers and numeric text convert in one C pass; only what fails (empty cells, "1,200", "abc",
        # "nan") is looked at one by one
        obj = s.to_numpy(dtype=object)
        arr = pd.to_numeric(pd.Series(obj, dtype=object), errors="coerce").to_numpy(dtype=float, copy=True)
        present = ~np.isnan(arr)
        for i in np.flatnonzero(~present):
            t = _text_of(obj[i])
            if t is None:
                continue
            present[i] = True
            try:
                arr[i] = _number_of(t)
            except ValueError:
                arr[i] = np.nan
    bad = present & ~np.isfinite(arr)
    if integer:
        nonint = np.isfinite(arr) & (np.floor(arr) != arr)
        bad |= nonint
        arr = np.where(bad, np.nan, arr)
        return pd.Series(arr, index=s.index).astype("Int64"), bad
    arr = np.where(bad, np.nan, arr)
    return pd.Series(arr, index=s.index), bad


def to_bool(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    text = to_text(s)
    low = _map_unique(text, norm_value)
    t = low.isin(TRUE_WORDS).to_numpy(dtype=bool)
    f = low.isin(FALSE_WORDS).to_numpy(dtype=bool)
    present = text.notna().to_numpy(dtype=bool)
    bad = present & ~t & ~f
    out = pd.Series(pd.array([True if a else False if b else pd.NA for a, b in zip(t, f, strict=True)],
                             dtype="boolean"), index=s.index)
    return out, bad


_DATE_RE = re.compile(
    r"^\s*(?:(?P<y1>\d{4})(?P<sep>[-/.])(?P<m1>\d{1,2})(?P=sep)(?P<d1>\d{1,2})"
    r"|(?P<y2>\d{4})\s*年\s*(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*日?)"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?)?\s*$")


#: the years a date may have: nothing this product records (inspections, hazards, accidents, plans) happened
#: before 1900 (Excel's day 0 is 1900-01-00, so an empty date cell typed as 0 lands below it) or is due after
#: 2199; both ends sit well inside ``datetime64[ns]`` (1677-09-21 .. 2262-04-11), which wraps beyond them
MIN_YEAR, MAX_YEAR = 1900, 2199


def _years_outside(years: np.ndarray) -> np.ndarray:
    return (years < MIN_YEAR) | (years > MAX_YEAR)


def to_date(s: pd.Series, *, with_time: bool = False) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Dates from real date cells (Excel, GDAL) or strict text: ``2024-03-15``, ``2024/3/15``, ``2024.3.15``,
    ``2024年3月15日`` (optionally followed by a time). Anything else (``3/15/2024``, ``15.03.24``, a bare
    number) is not a date: the ``bad`` mask marks it.

    Returns ``(values, bad, out_of_range)``: ``datetime64[ns]`` values (NaT where empty, bad or out of range),
    and ``out_of_range`` marking dates whose year is outside :data:`MIN_YEAR`..:data:`MAX_YEAR`. The year is
    checked before any conversion, so ``2924-03-15`` or Excel's ``9999-12-31`` never wrap around.
    """
    n = len(s)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    far = np.zeros(n, dtype=bool)
    if n == 0:
        return pd.Series(out, index=s.index), np.zeros(0, dtype=bool), far
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        vals = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        if not with_time:
            vals = vals.dt.floor("D")
        arr = vals.to_numpy()  # in the column's own unit (GDAL gives ms): no overflow yet
        far = ~np.isnat(arr) & _years_outside(arr.astype("datetime64[Y]").astype(np.int64) + 1970)
        arr[far] = np.datetime64("NaT")
        return pd.Series(arr.astype("datetime64[ns]"), index=s.index), np.zeros(n, dtype=bool), far
    is_dateobj = s.map(lambda v: isinstance(v, (dt.date, pd.Timestamp))).to_numpy(dtype=bool)
    if is_dateobj.any():
        objs = s[is_dateobj]
        far[is_dateobj] = _years_outside(np.array([v.year for v in objs], dtype=np.int64))
        fits = is_dateobj & ~far
        stamps = pd.to_datetime(s[fits].map(lambda v: pd.Timestamp(v)), errors="coerce")
        if not with_time:
            stamps = stamps.dt.normalize()
        out[fits] = stamps.to_numpy(dtype="datetime64[ns]")
    text = to_text(s.where(~is_dateobj, None))
    present = text.notna().to_numpy(dtype=bool)
    bad = np.zeros(n, dtype=bool)
    if present.any():
        t = text[present].astype(str)
        m = t.str.extract(_DATE_RE)
        y = m["y1"].fillna(m["y2"])
        mo = m["m1"].fillna(m["m2"])
        d = m["d1"].fillna(m["d2"])
        parts = pd.DataFrame({"year": pd.to_numeric(y, errors="coerce"), "month": pd.to_numeric(mo, errors="coerce"),
                              "day": pd.to_numeric(d, errors="coerce")})
        if with_time:
            parts["hour"] = pd.to_numeric(m["H"], errors="coerce").fillna(0)
            parts["minute"] = pd.to_numeric(m["M"], errors="coerce").fillna(0)
            parts["second"] = pd.to_numeric(m["S"], errors="coerce").fillna(0)
        ok = parts[["year", "month", "day"]].notna().all(axis=1).to_numpy(dtype=bool)
        far_text = ok & _years_outside(parts["year"].fillna(MIN_YEAR).to_numpy(dtype=np.int64))
        ok = ok & ~far_text
        stamps = np.full(len(t), np.datetime64("NaT"), dtype="datetime64[ns]")
        if ok.any():
            conv = pd.to_datetime(parts[ok].astype(int), errors="coerce")
            stamps[ok] = conv.to_numpy(dtype="datetime64[ns]")
        idx = np.flatnonzero(present)
        out[idx] = stamps
        far[idx] = far_text
        bad[idx] = np.isnat(stamps) & ~far_text
    return pd.Series(out, index=s.index), bad, far


__all__ = ["ColumnMap", "map_columns", "norm_header", "header_keys", "header_score", "find_header", "allowed_lookup", "allowed_labels", "to_text", "to_enum",
           "to_number", "number_hint", "to_bool", "to_date", "numeric_raw", "key_text", "drop_invisible", "MIN_YEAR", "MAX_YEAR",
           "LON_ALIASES", "LAT_ALIASES", "WKT_ALIASES"]
