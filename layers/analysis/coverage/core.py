"""Coverage gaps (不留死角、不留盲区): dead corners, blind spots and supervision gaps, as of any date.

* **Dead corner (死角)**, per object: an inspectable object (``schema.OBJECT_LAYERS``) whose last inspection
  on or before ``as_of`` is more than its interval ago, or that has none. On day ``== interval`` it is still in
  time. Ranked by ``risk weight x days overdue``; an object never inspected is ``interval + (as_of - horizon)``
  days overdue, the horizon being the first day of the inspection records that count (so it ranks above any
  object inspected since then), or ``as_of - coverage_window_days`` when there are none.
* **Blind spot (盲区)**, per H3 cell (``Settings.h3_resolution``): a cell whose objects carry risk and that no
  inspection touched within ``coverage_window_days`` (``as_of - last <= window`` is covered), or whose centre
  lies beyond ``reach_minutes`` of every team base (over the road layer when the store has roads, else
  straight line x ``detour_factor`` at ``travel_speed_kmh``; exactly at the limit is in reach).
* **Supervision gap (监管空白)**, per object: no supervising department; several and no lead; a department
  link without an officer; registered district differing from where the point lies; a point outside every
  district (or no point at all).

Inspectable objects and their interval and risk weight:

* enterprises: their grade (``Settings.intervals`` / ``grade_weights``); closed enterprises are left out.
* venues: the grade of their kind (``Settings.venue_grades``), one grade higher when they hold at least
  ``venue_crowd_capacity`` people.
* bridges, tunnels: interval by condition class (``Settings.condition_intervals``); weight of the grade the
  class maps to (5 major, 4 high, 3 moderate, 1-2 low).
* gas stations: interval by condition class when given, else by grade; grade the worse of the class's and the
  pressure's (high and sub-high pressure: high, medium: moderate, low: low).
* every object: plus ``risk_index_weights["open_major_hazard"]`` / ``["open_general_hazard"]`` per hazard
  open as of ``as_of`` (found on or before it and not closed by then; a hazard marked closed without a closed
  date counts as closed).

Inspections count when dated on or before both ``as_of`` and today; the others are listed in
``ignored_inspections`` with the reason (dated after today, after ``as_of``, no date, unknown target).

Per district and town: share of risk weight inspected in time, share of risk-carrying cells covered, and counts
of every gap. Objects belong to their registered district/town (where the point lies when none is registered);
a cell belongs to the district/town holding most of its risk.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import coverage as gcov
from geo import grid, siting
from layers.analysis.keys import KeyIndex
from layers.schema import GRADE_ORDER, LAYERS, OBJECT_LAYERS, PRESSURE_CLASSES, ROAD_CLASSES, VENUE_KINDS
from layers.settings import Settings
from layers.store import Store

__all__ = ["CoverageResult", "compute", "compute_frames", "compute_cached", "suggest_bases", "GAP_KINDS",
           "BLIND_KINDS", "IGNORED_KINDS", "read_frames"]

Progress = Callable[[float, str], None]

GRADE_WORDS = {
    "major": ("红色（重大）", "red (major)"),
    "high": ("橙色（较大）", "orange (high)"),
    "moderate": ("黄色（一般）", "yellow (moderate)"),
    "low": ("蓝色（低）", "blue (low)"),
}
CONDITION_GRADE = {"5": "major", "4": "high", "3": "moderate", "2": "low", "1": "low"}
PRESSURE_GRADE = {"high": "high", "sub_high": "high", "medium": "moderate", "low": "low"}
DEFAULT_GRADE = "moderate"

GAP_KINDS: dict[str, tuple[str, str]] = {
    "no_department": ("无监管部门", "No supervising department"),
    "no_lead": ("多部门无牵头", "Several departments, no lead"),
    "no_officer": ("未落实包保责任人", "Officer missing"),
    "district_mismatch": ("登记区县与位置不符", "Registered district differs from location"),
    "outside_districts": ("不在任何区县内", "Outside every district"),
}
BLIND_KINDS: dict[str, tuple[str, str]] = {
    "not_inspected": ("期内无检查", "Not inspected in the window"),
    "out_of_reach": ("超出检查组到达范围", "Beyond every team's reach"),
}
IGNORED_KINDS: dict[str, tuple[str, str]] = {
    "future": ("检查日期晚于今天（应已被导入隔离）", "dated after today (the importer quarantines these)"),
    "after_as_of": ("检查日期晚于统计日期，不计入", "dated after the as-of date, not counted"),
    "no_date": ("检查记录无日期", "no date"),
    "unknown_target": ("检查对象不存在", "target object not found"),
}

_EPOCH = np.datetime64("1970-01-01", "D")


# --------------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Coverage as of one date. Frames are EPSG:4326; callers must not modify them (copy first).

    Attributes
    ----------
    dead_corners : GeoDataFrame of points, one row per overdue object, highest ``score`` first.
    blind_spots : GeoDataFrame of H3 hexagons, one row per blind cell, highest ``risk`` first.
    supervision_gaps : DataFrame, one row per (object, gap kind).
    by_district, by_town : DataFrames of shares and counts.
    ignored_inspections : DataFrame (kind, count, reason_zh, reason_en) of inspections that did not count.
    future_inspections : DataFrame of the inspections dated after today (id, target_layer, target_id, date).
    cells : DataFrame of every risk-carrying cell (cell, lon, lat, x, y, risk, n_objects, last_inspection,
        inspected, travel_min, in_reach, district_code, town_code).
    summary : dict of city-wide figures.
    """

    as_of: date
    dead_corners: gpd.GeoDataFrame
    blind_spots: gpd.GeoDataFrame
    supervision_gaps: pd.DataFrame
    by_district: pd.DataFrame
    by_town: pd.DataFrame
    ignored_inspections: pd.DataFrame
    future_inspections: pd.DataFrame
    cells: pd.DataFrame
    summary: dict
    reach: dict = field(default_factory=dict)
    _travel: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = field(default=None, repr=False)

    def for_districts(self, codes: Iterable[str] | None) -> CoverageResult:
        """The same result narrowed to ``codes`` (None = the whole city), for a district leader."""
        if codes is None:
            return self
        codes = set(codes)

        def keep(frame: pd.DataFrame, col: str = "district_code") -> pd.DataFrame:
            return frame[frame[col].isin(codes)] if len(frame) else frame

        gaps = self.supervision_gaps
        if len(gaps):
            gaps = gaps[gaps["district_code"].isin(codes) | gaps["located_district"].isin(codes)]
        return CoverageResult(
            as_of=self.as_of, dead_corners=keep(self.dead_corners), blind_spots=keep(self.blind_spots),
            supervision_gaps=gaps, by_district=keep(self.by_district), by_town=keep(self.by_town),
            # inspections that did not count are a city-wide data matter (the importer's report): not narrowed
            ignored_inspections=self.ignored_inspections.iloc[0:0], future_inspections=self.future_inspections.iloc[0:0],
            cells=keep(self.cells),
            summary=_summary(keep(self.by_district), keep(self.cells)), reach=self.reach, _travel=self._travel)

    def sheets(self, lang: str = "zh") -> dict[str, pd.DataFrame]:
        """Frames for an export (sheet name -> frame), reasons in ``lang`` first."""
        zh = lang != "en"
        names = (("死角", "dead_corners"), ("盲区", "blind_spots"), ("监管空白", "supervision_gaps"),
                 ("分区县", "by_district"), ("分镇街", "by_town"), ("未计入的检查", "ignored_inspections"))
        out = {(n_zh if zh else n_en): getattr(self, n_en) for n_zh, n_en in names}
        g = self.supervision_gaps
        out["监管空白" if zh else "supervision_gaps"] = gpd.GeoDataFrame(
            g, geometry=gpd.points_from_xy(g["lon"].astype(float), g["lat"].astype(float)), crs=4326)
        return out


def _summary(by_district: pd.DataFrame, cells: pd.DataFrame) -> dict:
    if len(by_district) == 0:
        return {"objects": 0, "risk_weight": 0.0, "share_in_time": None, "risk_cells": int(len(cells)),
                "share_cells_covered": None, "dead_corners": 0, "never_inspected": 0, "blind_spots": 0,
                **{f"gap_{k}": 0 for k in GAP_KINDS}}
    tot = by_district.sum(numeric_only=True)
    w = float(tot["risk_weight"])
    rc = int(tot["risk_cells"])
    out = {"objects": int(tot["objects"]), "risk_weight": w,
           "share_in_time": float(tot["risk_weight_in_time"]) / w if w else None,
           "risk_cells": rc, "share_cells_covered": float(tot["risk_cells_covered"]) / rc if rc else None,
           "dead_corners": int(tot["dead_corners"]), "never_inspected": int(tot["never_inspected"]),
           "blind_spots": int(tot["blind_spots"])}
    out.update({f"gap_{k}": int(tot[f"gap_{k}"]) for k in GAP_KINDS})
    return out


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------

_READ_COLUMNS: dict[str, list[str] | None] = {
    "enterprises": ["id", "name", "grade", "status", "district_code", "town_code"],
    "venues": ["id", "name", "kind", "capacity", "district_code", "town_code"],
    "gas_stations": ["id", "name", "pressure", "condition_class", "district_code", "town_code"],
    "bridges": ["id", "name", "condition_class", "district_code", "town_code"],
    "tunnels": ["id", "name", "condition_class", "district_code", "town_code"],
    "inspections": ["id", "target_layer", "target_id", "date"],
    "hazards": ["target_layer", "target_id", "level", "found_date", "status", "closed_date"],
    "responsibilities": ["target_layer", "target_id", "department_id", "lead", "officer"],
    "departments": ["id", "name", "name_en"],
    "districts": ["code", "name", "name_en"],
    "towns": ["code", "name", "name_en", "district_code"],
    "teams": ["id", "name"],
    "roads": ["road_class", "speed_kmh", "oneway"],
}


def read_frames(store: Store) -> dict[str, pd.DataFrame]:
    """Every layer the coverage computation reads, from ``store`` (with geometry for spatial layers)."""
    out = {}
    for name, cols in _READ_COLUMNS.items():
        spatial = LAYERS[name].spatial and name not in ("hazards",)
        out[name] = store.read(name, columns=[*cols, "geometry"] if spatial else cols)
    return out


# --------------------------------------------------------------------------------------------------
# Objects
# --------------------------------------------------------------------------------------------------

def _col(frame: pd.DataFrame, col: str, n: int) -> np.ndarray:
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


def _blank(frame: pd.DataFrame, col: str) -> np.ndarray:
    """Where a text column is missing or empty (everywhere when there is no such column)."""
    if col not in frame.columns:
        return np.ones(len(frame), dtype=bool)
    a = frame[col].to_numpy(dtype=object)
    return pd.isna(a) | (a == "")


def _lookup(values: np.ndarray, mapping: Mapping[Any, Any], default: Any, dtype: Any = object) -> np.ndarray:
    """``mapping[v]`` for each value (``default`` when missing), one dict look-up per distinct value."""
    codes, uniq = pd.factorize(values, use_na_sentinel=False)
    table = np.array([mapping.get(u, default) if not pd.isna(u) else default for u in uniq] + [default],
                     dtype=dtype)
    return table[codes] if len(codes) else np.empty(0, dtype=dtype)


def _encode(values: np.ndarray, vocab: list[str]) -> np.ndarray:
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


def _decode(codes: np.ndarray, vocab: list[str]) -> np.ndarray:
    """Object array of the codes' texts (None for -1)."""
    return np.array([*vocab, None], dtype=object)[codes]


def _combos(*cols: np.ndarray) -> tuple[np.ndarray, list[tuple]]:
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


def _points(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


_GRADE_IDX = {g: i for i, g in enumerate(GRADE_ORDER)}
_GRADES_ARR = np.array(GRADE_ORDER, dtype=object)


def _grade_idx(grades: np.ndarray, default: str | None = DEFAULT_GRADE) -> np.ndarray:
    return _lookup(grades, _GRADE_IDX, _GRADE_IDX[default] if default else 99, dtype=np.int64)


@dataclass
class _Objects:
    """Every inspectable object as parallel arrays (its layer as a code: ``layers[layer_code]``)."""

    id: np.ndarray
    name: np.ndarray
    district: np.ndarray
    town: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    point: np.ndarray  # object: shapely Point (the representative point) or None
    grade: np.ndarray  # int index into GRADE_ORDER
    interval: np.ndarray
    rule: np.ndarray  # int: index into ``rules``
    rules: list[str]  # short keys saying what sets the interval (see _rule_text)
    layer_code: np.ndarray  # int: index into ``layers``
    layers: list[str]
    _index: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.id)

    def layer_of(self, rows: np.ndarray) -> np.ndarray:
        """The layer names of ``rows`` (an object array)."""
        return np.array(self.layers, dtype=object)[self.layer_code[rows]]

    def lookup(self, layer_col: Any, id_col: Any) -> np.ndarray:
        """Row of each (layer, id) pair; -1 when there is no such object (the first row when a layer repeats an
        id)."""
        if "keys" not in self._index:
            self._index["keys"] = KeyIndex(self.id, groups=pd.Categorical.from_codes(self.layer_code, self.layers))
        return self._index["keys"].get(id_col, groups=layer_col)


def _layer_objects(name: str, frame: pd.DataFrame, settings: Settings) -> _Objects:
    """One layer's inspectable objects: id, name, codes, lon/lat, grade, interval, rule (what sets it)."""
    n = len(frame)
    keep = None  # closed enterprises are left out (of the arrays at the end: cheaper than filtering the frame)
    if name == "enterprises" and n and "status" in frame.columns:
        keep = frame["status"].to_numpy(dtype=object) != "closed"
        if keep.all():
            keep = None
    lon, lat, point = _points(frame)
    ids = frame["id"].to_numpy(dtype=object) if n else np.empty(0, dtype=object)
    iv = settings.intervals
    civ = {str(k): v for k, v in settings.condition_intervals.items()}
    cond = _col(frame, "condition_class", n)
    if name == "enterprises":
        # (missing and empty grades fall to the default in the look-up: no need to blank them first)
        gi = _grade_idx(frame["grade"].to_numpy(dtype=object) if "grade" in frame.columns and n else
                        np.full(n, None, dtype=object))
        interval = np.array([iv[g] for g in GRADE_ORDER], dtype=np.int64)[gi]
        rule, rules = gi, [f"g:{g}" for g in GRADE_ORDER]
    elif name == "venues":
        kind = _col(frame, "kind", n)
        base = _grade_idx(_lookup(kind, settings.venue_grades, DEFAULT_GRADE))
        cap = pd.to_numeric(frame["capacity"], errors="coerce").to_numpy(dtype=float) if n and \
            "capacity" in frame.columns else np.full(n, np.nan)
        crowd = np.nan_to_num(cap, nan=0.0) >= settings.venue_crowd_capacity
        gi = np.where(crowd, np.maximum(base - 1, 0), base)
        interval = np.array([iv[g] for g in GRADE_ORDER], dtype=np.int64)[gi]
        rule, combos = _combos(kind, gi, crowd)
        rules = [f"v:{k}:{GRADE_ORDER[g]}:{int(c)}" for k, g, c in combos]
    elif name in ("bridges", "tunnels"):
        gi = _grade_idx(_lookup(cond, CONDITION_GRADE, DEFAULT_GRADE))
        rule, combos = _combos(cond, gi)
        interval = np.array([civ[c] if c in civ else iv[GRADE_ORDER[g]] for c, g in combos], dtype=np.int64
                            )[rule] if n else np.empty(0, np.int64)
        rules = [f"c:{c}" if c in civ else f"g:{GRADE_ORDER[g]}" for c, g in combos]
    elif name == "gas_stations":
        pres = _col(frame, "pressure", n)
        g1 = _grade_idx(_lookup(cond, CONDITION_GRADE, None), None)
        g2 = _grade_idx(_lookup(pres, PRESSURE_GRADE, None), None)
        gi = np.minimum(g1, g2)
        gi = np.where(gi == 99, _GRADE_IDX[DEFAULT_GRADE], gi)
        rule, combos = _combos(cond, pres, gi)
        interval = np.array([civ[c] if c in civ else iv[GRADE_ORDER[g]] for c, p, g in combos], dtype=np.int64
                            )[rule] if n else np.empty(0, np.int64)
        rules = [f"s:{c}:{p}:{GRADE_ORDER[g]}" if c in civ else f"p:{p}:{GRADE_ORDER[g]}" for c, p, g in combos]
    else:
        raise ValueError(f"{name} is not an inspectable layer")

    def raw(col: str) -> np.ndarray:
        return frame[col].to_numpy(dtype=object) if col in frame.columns and n else np.full(n, None, dtype=object)

    objs = _Objects(id=ids, name=raw("name"),
                    district=raw("district_code"), town=raw("town_code"), lon=lon, lat=lat, point=point,
                    grade=np.asarray(gi, dtype=np.int64), interval=np.asarray(interval, dtype=np.int64),
                    rule=np.asarray(rule, dtype=np.int64), rules=list(rules),
                    layer_code=np.zeros(n, dtype=np.int64), layers=[name])
    if keep is None:
        return objs
    return _Objects(**{f.name: getattr(objs, f.name)[keep] for f in fields(_Objects)
                       if not f.name.startswith("_") and f.name not in ("rules", "layers")}, rules=objs.rules,
                    layers=objs.layers)


def _concat_objects(parts: list[_Objects]) -> _Objects:
    offsets = np.cumsum([0] + [len(p.rules) for p in parts])
    arrays = {f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(_Objects)
              if not f.name.startswith("_") and f.name not in ("rule", "rules", "layer_code", "layers")}
    return _Objects(**arrays, rule=np.concatenate([p.rule + o for p, o in zip(parts, offsets, strict=False)]),
                    rules=[r for p in parts for r in p.rules],
                    layer_code=np.concatenate([p.layer_code + k for k, p in enumerate(parts)]),
                    layers=[name for p in parts for name in p.layers])


def _rule_text(rule: str, interval: int) -> tuple[str, str]:
    """What sets an object's interval, in words: ``("红色（重大）风险要求 30 天", "red (major) grade requires 30
    days")``."""
    parts = rule.split(":")
    kind = parts[0]
    if kind == "g":
        zh, en = GRADE_WORDS[parts[1]]
        return f"{zh}风险要求 {interval} 天", f"{en} grade requires {interval} days"
    if kind == "c":
        c = parts[1]
        return f"{c}类技术状况要求 {interval} 天", f"condition class {c} requires {interval} days"
    if kind == "v":
        k, g, crowd = parts[1], parts[2], parts[3] == "1"
        kz = VENUE_KINDS.get(k, {}).get("zh", "场所" if k in ("None", "") else k)
        ke = VENUE_KINDS.get(k, {}).get("en", "venue" if k in ("None", "") else k)
        gz, ge = GRADE_WORDS[g]
        extra_zh = "（人员密集，升一级）" if crowd else ""
        extra_en = " (crowded: one grade up)" if crowd else ""
        return (f"{kz}按{gz}风险{extra_zh}要求 {interval} 天",
                f"{ke} treated as {ge} grade{extra_en} requires {interval} days")
    if kind == "s":
        c = parts[1]
        return f"燃气场站{c}类安全状况要求 {interval} 天", f"gas station condition class {c} requires {interval} days"
    if kind == "p":
        p, g = parts[1], parts[2]
        pz = PRESSURE_CLASSES.get(p, {}).get("zh", "")
        pe = PRESSURE_CLASSES.get(p, {}).get("en", "").lower()
        gz, ge = GRADE_WORDS[g]
        return (f"{pz}燃气场站按{gz}风险要求 {interval} 天",
                f"{pe + ' ' if pe else ''}gas station treated as {ge} grade requires {interval} days")
    raise ValueError(rule)


def _days(values: Any) -> np.ndarray:
    """datetime64 -> int days since 1970-01-01 (``NO_DAY`` for NaT)."""
    v = pd.to_datetime(values, errors="coerce")
    v = np.asarray(v, dtype="datetime64[D]")
    out = (v - _EPOCH).astype(np.int64)
    out[np.isnat(v)] = gcov.NO_DAY
    return out


def _day(d: date) -> int:
    return int((np.datetime64(d, "D") - _EPOCH).astype(np.int64))


def _iso(days: np.ndarray) -> np.ndarray:
    """ISO dates of day numbers (None for ``NO_DAY``), one conversion per distinct day."""
    d = np.asarray(days, dtype=np.int64)
    if len(d) == 0:
        return np.empty(0, dtype=object)
    codes, uniq = pd.factorize(d)
    txt = np.array([None if u == gcov.NO_DAY else str(_EPOCH + np.timedelta64(int(u), "D")) for u in uniq],
                   dtype=object)
    return txt[codes]


def _utm_epsg(lon: float, lat: float) -> int:
    zone = int((lon + 180.0) // 6.0) + 1
    zone = min(max(zone, 1), 60)
    return (32600 if lat >= 0 else 32700) + zone


def _obj_frame(cols: Mapping[str, Any]) -> pd.DataFrame:
    """A DataFrame from arrays; object arrays stay object (no string-dtype inference over a million rows), and
    no array is copied (a copy of an object array touches every object it holds: 0.2 s for 650,000 rows x 6)."""
    return pd.DataFrame({k: (pd.Series(v, dtype=object, copy=False) if isinstance(v, np.ndarray) and
                             v.dtype == object else v) for k, v in cols.items()}, copy=False)


# --------------------------------------------------------------------------------------------------
# The computation
# --------------------------------------------------------------------------------------------------

def compute(store: Store, *, as_of: date | None = None, settings: Settings | None = None,
            today: date | None = None, progress: Progress | None = None) -> CoverageResult:
    """Coverage gaps of the city in ``store`` as of ``as_of`` (default: today)."""
    settings = settings or Settings.from_env()
    if progress:
        progress(0.0, "读取数据 (reading the store)")
    frames, memo = _frames_for(store)
    return compute_frames(frames, as_of=as_of, settings=settings, today=today, progress=progress, _memo=memo)


_FRAMES: OrderedDict[tuple[str, int], tuple[dict[str, pd.DataFrame], dict]] = OrderedDict()
_FRAMES_LOCK = threading.Lock()
#: data versions whose layers are kept read (one: the newest; a new import replaces it at the next computation)
_FRAMES_SIZE = 1


def _frames_for(store: Store) -> tuple[dict[str, pd.DataFrame], dict]:
    """The layers coverage reads, and a memo of what depends on them alone (which object each inspection,
    hazard and link names), kept for the store's current data version: another as-of date or setting then
    neither reads the store again nor looks the records up again."""
    key = (store.url, store.data_version())
    with _FRAMES_LOCK:
        hit = _FRAMES.get(key)
        if hit is not None:
            _FRAMES.move_to_end(key)
            return hit
    entry = (read_frames(store), {})
    with _FRAMES_LOCK:
        entry = _FRAMES.setdefault(key, entry)
        while len(_FRAMES) > _FRAMES_SIZE:
            _FRAMES.popitem(last=False)
    return entry


def compute_frames(frames: Mapping[str, pd.DataFrame], *, as_of: date | None = None,
                   settings: Settings | None = None, today: date | None = None,
                   progress: Progress | None = None, _memo: dict | None = None) -> CoverageResult:
    """Coverage gaps from in-memory layers (``frames[layer]``, as ``store.read`` returns them; missing layers
    count as empty). ``_memo`` (from :func:`compute`) keeps what depends on ``frames`` alone between calls."""
    settings = settings or Settings()
    today = today or date.today()
    as_of = as_of or today
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    if isinstance(today, datetime):
        today = today.date()
    step = progress or (lambda f, m: None)

    def frame(name: str) -> pd.DataFrame:
        f = frames.get(name)
        if f is None:
            cols = _READ_COLUMNS.get(name) or []
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        return f

    as_day, today_day = _day(as_of), _day(today)
    count_until = min(as_day, today_day)

    # -- objects -------------------------------------------------------------------------------------
    step(0.05, "整理检查对象 (collecting objects)")
    objs = _concat_objects([_layer_objects(name, frame(name), settings) for name in OBJECT_LAYERS])
    n = len(objs)
    lon, lat = objs.lon, objs.lat
    has_xy = np.isfinite(lon) & np.isfinite(lat)

    def records_of(name: str, table: pd.DataFrame) -> np.ndarray:
        """The object row each record of ``table`` names (-1: none). The rows depend on the frames alone (not
        on the date or the settings), so they are memoised when the caller keeps a memo for these frames."""
        if _memo is not None and name in _memo:
            return _memo[name]
        found = objs.lookup(table["target_layer"], table["target_id"])
        if _memo is not None:
            _memo[name] = found
        return found

    # the grid cells and districts of the points (numpy, shapely: mostly without the GIL) are worked out on the
    # second core while this thread looks the inspections, hazards and supervision links up
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coverage-place")
    districts = frame("districts")
    towns = frame("towns")
    d_vocab = districts["code"].astype(str).tolist() if len(districts) else []
    n_districts = len(d_vocab)
    reg_dc = _encode(objs.district, d_vocab)
    placing = pool.submit(_place, lon, lat, has_xy, _own(districts.geometry.values) if n_districts else [], reg_dc,
                          int(settings.h3_resolution))
    pool.shutdown(wait=False)  # (the task submitted still runs; the thread ends with it)

    # -- inspections ---------------------------------------------------------------------------------
    step(0.15, "汇总检查记录 (latest inspection per object)")
    insp = frame("inspections")
    target = records_of("inspections", insp)
    iday = _days(insp["date"]) if len(insp) else np.empty(0, np.int64)
    no_date = iday == gcov.NO_DAY
    future = ~no_date & (iday > today_day)
    after = ~no_date & ~future & (iday > as_day)
    unknown = (target < 0) & ~no_date & ~future & ~after
    counted = ~no_date & (iday <= count_until) & (target >= 0)
    ignored = pd.DataFrame({
        "kind": list(IGNORED_KINDS),
        "count": [int(future.sum()), int(after.sum()), int(no_date.sum()), int(unknown.sum())],
        "reason_zh": [v[0] for v in IGNORED_KINDS.values()],
        "reason_en": [v[1] for v in IGNORED_KINDS.values()],
    })
    fut_rows = np.flatnonzero(future)
    fut_dates = _iso(iday[fut_rows])
    today_txt = today.isoformat()
    future_insp = _obj_frame({
        "id": insp["id"].to_numpy(dtype=object)[fut_rows] if len(insp) else np.empty(0, object),
        "target_layer": insp["target_layer"].to_numpy(dtype=object)[fut_rows] if len(insp) else np.empty(0, object),
        "target_id": insp["target_id"].to_numpy(dtype=object)[fut_rows] if len(insp) else np.empty(0, object),
        "date": fut_dates,
        "reason_zh": np.array([f"检查日期 {d} 晚于今天 {today_txt}" for d in fut_dates], dtype=object),
        "reason_en": np.array([f"dated {d}, after today {today_txt}" for d in fut_dates], dtype=object),
    })
    last = gcov.latest_per_group(target[counted], iday[counted], n)
    horizon = int(iday[counted].min()) if counted.any() else as_day - settings.coverage_window_days
    days_since, over, dead = gcov.overdue_days(last, objs.interval, as_day, horizon)

    # -- risk weights --------------------------------------------------------------------------------
    step(0.3, "计算风险权重 (risk weights)")
    gw = settings.grade_weights
    weight = np.array([float(gw.get(g, 1.0)) for g in GRADE_ORDER])[objs.grade] if n else np.empty(0)
    hz = frame("hazards")
    open_major = np.zeros(n, dtype=np.int64)
    open_general = np.zeros(n, dtype=np.int64)
    if len(hz) and n:
        htarget = records_of("hazards", hz)
        found = _days(hz["found_date"])
        closed = _days(hz["closed_date"]) if "closed_date" in hz.columns else np.full(len(hz), gcov.NO_DAY)
        status = hz["status"].to_numpy(dtype=object) if "status" in hz.columns else np.full(len(hz), None)
        is_open = (htarget >= 0) & (found != gcov.NO_DAY) & (found <= as_day) & \
            ~((closed != gcov.NO_DAY) & (closed <= as_day)) & ~((status == "closed") & (closed == gcov.NO_DAY))
        lvl = hz["level"].to_numpy(dtype=object)
        open_major = np.bincount(htarget[is_open & (lvl == "major")], minlength=n)
        open_general = np.bincount(htarget[is_open & (lvl != "major")], minlength=n)
    riw = settings.risk_index_weights
    weight = weight + open_major * float(riw.get("open_major_hazard", 0.0)) + \
        open_general * float(riw.get("open_general_hazard", 0.0))
    score = weight * over
    resp = frame("responsibilities")
    resp_obj = records_of("responsibilities", resp) if len(resp) and n else \
        np.full(len(resp), -1, dtype=np.int64)

    # -- cells and districts (started in a helper thread above) -------------------------------------
    step(0.4, "H3 网格、定位区县 (H3 grid, locating districts)")
    cell_of, cells_u, xy_rows, areas, loc_dc = placing.result()
    attr_dc = np.where(reg_dc >= 0, reg_dc, loc_dc)
    t_vocab = towns["code"].astype(str).tolist() if len(towns) else []
    attr_tc = _encode(objs.town, t_vocab)
    no_town = (attr_tc < 0) & has_xy
    if len(t_vocab) and no_town.any():
        sel = np.flatnonzero(no_town)
        many = areas is not None and len(sel) > 4 * len(cells_u)
        attr_tc[sel] = gcov.locate_points(lon[sel], lat[sel], _own(towns.geometry.values),
                                          groups=cell_of[sel] if many else None, group_areas=areas if many else None)
    reg_d = _decode(reg_dc, d_vocab)
    located_d = _decode(loc_dc, d_vocab)
    town_d = _decode(attr_tc, t_vocab)

    n_cells = len(cells_u)
    cell_risk = np.bincount(cell_of[xy_rows], weights=weight[xy_rows], minlength=n_cells)
    cell_n = np.bincount(cell_of[xy_rows], minlength=n_cells)
    cell_last = gcov.latest_per_group(cell_of, last, n_cells)
    window = int(settings.coverage_window_days)
    cell_since = np.where(cell_last == gcov.NO_DAY, -1, as_day - np.where(cell_last == gcov.NO_DAY, 0, cell_last))
    inspected = (cell_last != gcov.NO_DAY) & (cell_since <= window)
    clat, clon = grid.cell_centers(cells_u)

    # -- reach ---------------------------------------------------------------------------------------
    step(0.6, "到达范围 (reach of team bases)")
    teams = frame("teams")
    tlon, tlat, _ = _points(teams)
    tok = np.isfinite(tlon) & np.isfinite(tlat)
    tlon, tlat = tlon[tok], tlat[tok]
    if has_xy.any():
        ref_lon, ref_lat = float(lon[has_xy].mean()), float(lat[has_xy].mean())
    elif len(tlon):
        ref_lon, ref_lat = float(tlon.mean()), float(tlat.mean())
    else:
        ref_lon, ref_lat = 0.0, 0.0  # nothing to measure: the zone is never used for a distance
    epsg = _utm_epsg(ref_lon, ref_lat)
    from pyproj import Transformer

    to_m = Transformer.from_crs(4326, epsg, always_xy=True)
    cxy = np.column_stack(to_m.transform(clon, clat)) if n_cells else np.empty((0, 2))
    bxy = np.column_stack(to_m.transform(tlon, tlat)) if len(tlon) else np.empty((0, 2))
    limit_s = float(settings.reach_minutes) * 60.0
    travel, reach = _travel_function(frame("roads"), settings, epsg)
    cell_time = travel(bxy, cxy) if n_cells else np.empty(0)
    in_reach = gcov.within(cell_time, limit_s)
    blind = (cell_risk > 0) & (~inspected | ~in_reach)

    # -- cells to districts and towns (the one holding most of the cell's risk) ----------------------
    cell_dc = _majority(cell_of[xy_rows], attr_dc[xy_rows], weight[xy_rows], n_cells, d_vocab)
    cell_tc = _majority(cell_of[xy_rows], attr_tc[xy_rows], weight[xy_rows], n_cells, t_vocab)

    # -- supervision gaps ----------------------------------------------------------------------------
    step(0.7, "监管责任 (supervision links)")
    gaps, gap_rows = _supervision_gaps(objs, resp, resp_obj, frame("departments"), districts, reg_dc=reg_dc, loc_dc=loc_dc, d_vocab=d_vocab, has_xy=has_xy,
                                       check_districts=n_districts > 0)

    # -- per district and town -----------------------------------------------------------------------
    step(0.8, "分区统计 (per district and town)")
    cells = _obj_frame({
        "cell": grid.cells_to_str(cells_u), "lon": clon, "lat": clat, "x": cxy[:, 0], "y": cxy[:, 1],
        "risk": cell_risk, "n_objects": cell_n, "last_inspection": _iso(cell_last), "days_since": cell_since,
        "inspected": inspected, "travel_min": cell_time / 60.0, "in_reach": in_reach, "blind": blind,
        "district_code": _decode(cell_dc, d_vocab), "town_code": _decode(cell_tc, t_vocab),
    })
    obj_metrics = {"objects": np.ones(n), "risk_weight": weight, "risk_weight_in_time": np.where(dead, 0.0, weight),
                   "dead_corners": dead.astype(float), "never_inspected": (last == gcov.NO_DAY).astype(float),
                   **{f"gap_{k}": np.bincount(v, minlength=n).astype(float) for k, v in gap_rows.items()}}
    cell_metrics = {"risk_cells": (cell_risk > 0).astype(float),
                    "risk_cells_covered": ((cell_risk > 0) & ~blind).astype(float),
                    "blind_spots": blind.astype(float), "blind_not_inspected": (blind & ~inspected).astype(float),
                    "blind_out_of_reach": (blind & ~in_reach).astype(float)}
    by_district = _per_area(attr_dc, obj_metrics, cell_dc, cell_metrics, d_vocab, districts, towns=False)
    by_town = _per_area(attr_tc, obj_metrics, cell_tc, cell_metrics, t_vocab, towns, towns=True)

    # -- the gap frames with reasons -----------------------------------------------------------------
    step(0.9, "生成说明 (writing reasons)")
    rows = np.flatnonzero(dead)
    rows = rows[np.argsort(-score[rows], kind="stable")]
    last_txt = _iso(last[rows])
    rz, re_ = _dead_reasons(objs.rule[rows], objs.rules, objs.interval[rows], last[rows], days_since[rows],
                            last_txt)
    dead_gdf = gpd.GeoDataFrame(_obj_frame({
        "layer": objs.layer_of(rows), "id": objs.id[rows], "name": objs.name[rows],
        "district_code": reg_d[rows], "town_code": town_d[rows],
        "located_district": located_d[rows], "grade": _GRADES_ARR[objs.grade[rows]],
        "interval_days": objs.interval[rows], "weight": weight[rows], "open_major_hazards": open_major[rows],
        "open_general_hazards": open_general[rows], "last_inspection": last_txt, "days_since": days_since[rows],
        "days_overdue": over[rows], "score": score[rows], "reason_zh": rz, "reason_en": re_,
    }), geometry=gpd.array.GeometryArray(objs.point[rows], crs=4326), crs=4326,
        copy=False)  # (the points are shapely Points or None already: no need to check each; no copy)

    bl = cells[cells["blind"].to_numpy()].copy()
    kind_ni = ~bl["inspected"].to_numpy(dtype=bool)
    kind_or = ~bl["in_reach"].to_numpy(dtype=bool)
    bl["kind"] = pd.Series(np.where(kind_ni & kind_or, "not_inspected+out_of_reach",
                                    np.where(kind_ni, "not_inspected", "out_of_reach")).astype(object),
                           index=bl.index, dtype=object)
    bz, be = _blind_reasons(bl, window=window, reach_min=float(settings.reach_minutes), has_bases=len(bxy) > 0,
                            road=reach["method"] == "road")
    bl["reason_zh"] = pd.Series(bz, index=bl.index, dtype=object)
    bl["reason_en"] = pd.Series(be, index=bl.index, dtype=object)
    bl = bl.sort_values(["risk", "cell"], ascending=[False, True]).reset_index(drop=True)
    blind_gdf = gpd.GeoDataFrame(bl.drop(columns=["blind"]), geometry=grid.cells_to_polygons(
        grid.str_to_cells(bl["cell"])) if len(bl) else np.empty(0, dtype=object), crs=4326)
    reach.update({"limit_minutes": float(settings.reach_minutes), "bases": int(len(bxy)), "epsg": epsg,
                  "h3_resolution": int(settings.h3_resolution), "window_days": window, "horizon": _iso(np.array([horizon]))[0]})
    step(1.0, "完成 (done)")
    return CoverageResult(as_of=as_of, dead_corners=dead_gdf, blind_spots=blind_gdf, supervision_gaps=gaps,
                          by_district=by_district, by_town=by_town, ignored_inspections=ignored,
                          future_inspections=future_insp, cells=cells, summary=_summary(by_district, cells),
                          reach=reach, _travel=travel)


def _place(lon: np.ndarray, lat: np.ndarray, has_xy: np.ndarray, districts: list, reg_dc: np.ndarray, res: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """The points' H3 cells (at ``res``) and the district holding each point (its registered one, ``reg_dc``,
    when it lies on that one's border): numpy and shapely work, mostly without the GIL.

    Returns ``(cell_of, cells, xy_rows, areas, loc_dc)``: each point's index into ``cells`` (-1 without a
    point), the rows with a point, the enlarged cell polygons (None when too few points share a cell to be worth
    it), and each point's district (-1: none)."""
    n = len(lon)
    cell_of = np.full(n, -1, dtype=np.int64)
    xy_rows = np.flatnonzero(has_xy)
    cells_u = np.empty(0, dtype=np.uint64)
    if len(xy_rows):
        codes, cells_u = pd.factorize(grid.latlng_to_cells(lat[xy_rows], lon[xy_rows], res))
        cells_u = np.asarray(cells_u, dtype=np.uint64)
        cell_of[xy_rows] = codes
    # each cell, a little enlarged, certainly holds its points: a cell inside one district decides for all of
    # them at once, and only the points of cells a border crosses are tested one by one
    areas = _cell_areas(cells_u) if len(xy_rows) > 4 * len(cells_u) else None
    loc_dc = np.full(n, -1, dtype=np.int64)
    if len(districts) and n:
        loc_dc = gcov.locate_points(np.where(has_xy, lon, np.inf), np.where(has_xy, lat, np.inf), districts,
                                    prefer=reg_dc, groups=cell_of, group_areas=areas)
    return cell_of, cells_u, xy_rows, areas, loc_dc


def _own(geoms: Any) -> list:
    """Private copies of a few polygons: locating points prepares them (GEOS builds its index into the geometry
    object), and the frames' own objects may be in use by another computation on another thread."""
    return list(shapely.from_wkb(shapely.to_wkb(np.asarray(geoms, dtype=object))))


def _cell_areas(cells: np.ndarray) -> np.ndarray:
    """Each H3 cell's boundary polygon, enlarged by a fifth about its centre: H3 cell edges are great-circle
    arcs, so the straight-edged lon/lat polygon may miss a sliver of the cell (3 mm at resolution 8, a few
    per cent of the cell at resolution 0); the margin covers it at every resolution. A cell across the
    antimeridian gets None (its points are located one by one)."""
    if len(cells) == 0:
        return np.empty(0, dtype=object)
    out = grid.cells_to_polygons(cells, scale=1.2)
    b = shapely.bounds(out)
    out[(b[:, 2] - b[:, 0]) > 90.0] = None
    return out


def _travel_function(roads: pd.DataFrame, settings: Settings, epsg: int
                     ) -> tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], dict]:
    """``travel(bases_xy, points_xy) -> seconds`` from the nearest base, over roads when there are any."""
    if len(roads) and "geometry" in roads.columns:
        try:
            from geo.roadgraph import RoadGraph
        except ImportError:  # the road graph module is optional
            RoadGraph = None  # noqa: N806
        if RoadGraph is not None:
            g = roads.geometry
            ok = ~(g.isna() | g.is_empty).to_numpy()
            metric = gpd.GeoSeries(g[ok].values, crs=4326).to_crs(epsg).values
            cls = roads["road_class"].to_numpy(dtype=object)[ok]
            default = np.array([ROAD_CLASSES.get(c, {}).get("speed", settings.travel_speed_kmh) for c in cls], float)
            speed = pd.to_numeric(roads["speed_kmh"], errors="coerce").to_numpy(dtype=float)[ok] \
                if "speed_kmh" in roads.columns else default
            speed = np.where(np.isfinite(speed) & (speed > 0), speed, default)
            oneway = roads["oneway"].astype("boolean").fillna(False).to_numpy(dtype=bool)[ok] \
                if "oneway" in roads.columns else None
            graph = RoadGraph.from_lines(metric, speed, oneway)
            if graph.n_nodes:
                def travel(bases_xy: np.ndarray, pts_xy: np.ndarray) -> np.ndarray:
                    return gcov.road_travel_seconds(graph, pts_xy, bases_xy)

                return travel, {"method": "road", "road_nodes": int(graph.n_nodes)}

    def straight(bases_xy: np.ndarray, pts_xy: np.ndarray) -> np.ndarray:
        d, _ = gcov.nearest_base_distance(pts_xy, bases_xy)
        return gcov.straight_travel_seconds(d, speed_kmh=settings.travel_speed_kmh,
                                            detour_factor=settings.detour_factor)

    reach_m = settings.travel_speed_kmh / 3.6 * settings.reach_minutes * 60.0 / settings.detour_factor
    return straight, {"method": "straight", "reach_m": float(reach_m), "speed_kmh": settings.travel_speed_kmh,
                      "detour_factor": settings.detour_factor}


def _majority(cell: np.ndarray, code: np.ndarray, weight: np.ndarray, n_cells: int, vocab: list[str]
              ) -> np.ndarray:
    """Per cell, the code (index into ``vocab``) with the largest summed weight (ties: the smallest code text);
    -1 when no object in the cell has one."""
    out = np.full(n_cells, -1, dtype=np.int64)
    have = code >= 0
    k = len(vocab)
    if not have.any() or n_cells == 0 or k == 0:
        return out
    rank = np.argsort(np.array(vocab, dtype=object), kind="stable")  # column j holds vocab[rank[j]]
    col = np.empty(k, dtype=np.int64)
    col[rank] = np.arange(k)
    flat = cell[have] * k + col[code[have]]
    w = np.bincount(flat, weights=weight[have], minlength=n_cells * k).reshape(n_cells, k)
    cnt = np.bincount(flat, minlength=n_cells * k).reshape(n_cells, k)
    w = np.where(cnt > 0, w, -np.inf)
    best = np.argmax(w, axis=1)  # the first maximum: the smallest code text
    anyc = cnt.sum(axis=1) > 0
    out[anyc] = rank[best[anyc]]
    return out


def _per_area(obj_code: np.ndarray, obj_metrics: Mapping[str, np.ndarray], cell_code: np.ndarray,
              cell_metrics: Mapping[str, np.ndarray], vocab: list[str], areas: pd.DataFrame, *, towns: bool
              ) -> pd.DataFrame:
    """Sums per area: the layer's areas first, in its order; then codes only objects name (sorted); then the
    objects and cells with no area (code None), when there are any."""
    n_areas = len(areas)
    m = len(vocab) + 1  # last slot: no area
    cols: dict[str, Any] = {}
    for k, v in obj_metrics.items():
        cols[k] = np.bincount(np.where(obj_code >= 0, obj_code, m - 1), weights=v, minlength=m)
    for k, v in cell_metrics.items():
        cols[k] = np.bincount(np.where(cell_code >= 0, cell_code, m - 1), weights=v, minlength=m)
    out = pd.DataFrame(cols)
    extra = sorted(range(n_areas, len(vocab)), key=lambda i: vocab[i])
    present = out["objects"].to_numpy() + out["risk_cells"].to_numpy() > 0
    order = list(range(n_areas)) + [i for i in extra if present[i]] + ([m - 1] if present[m - 1] else [])
    out = out.iloc[order].reset_index(drop=True)
    for c in out.columns:
        if c not in ("risk_weight", "risk_weight_in_time"):
            out[c] = np.rint(out[c].to_numpy()).astype(np.int64)
    rows = len(out)
    rw = out["risk_weight"].to_numpy()
    out.insert(out.columns.get_loc("risk_weight_in_time") + 1, "share_in_time",
               np.divide(out["risk_weight_in_time"].to_numpy(), rw, out=np.full(rows, np.nan), where=rw > 0))
    rc = out["risk_cells"].to_numpy().astype(float)
    out.insert(out.columns.get_loc("risk_cells_covered") + 1, "share_cells_covered",
               np.divide(out["risk_cells_covered"].to_numpy().astype(float), rc, out=np.full(rows, np.nan),
                         where=rc > 0))
    codes = [vocab[i] if i < len(vocab) else None for i in order]
    names = dict(zip(vocab[:n_areas], areas["name"].astype(str), strict=True)) if n_areas else {}
    names_en = dict(zip(vocab[:n_areas], areas["name_en"].fillna(areas["name"]).astype(str), strict=True)) \
        if n_areas and "name_en" in areas.columns else names
    key = "town_code" if towns else "district_code"
    head = {key: codes, "name": [names.get(c, c) if c else "（未登记）" for c in codes],
            "name_en": [names_en.get(c, c) if c else "(none)" for c in codes]}
    if towns:
        tdist = dict(zip(vocab[:n_areas], areas["district_code"], strict=True)) if n_areas else {}
        head["district_code"] = [tdist.get(c) for c in codes]
    return pd.concat([_obj_frame({k: np.array(v, dtype=object) for k, v in head.items()}), out], axis=1)


def _dead_reasons(rule: np.ndarray, rules: list[str], interval: np.ndarray, last: np.ndarray, since: np.ndarray,
                  last_txt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reason texts, built once per distinct (rule, interval, last day) and shared by the rows that have it
    (``rule``: index into ``rules``)."""
    if len(rule) == 0:
        return np.empty(0, object), np.empty(0, object)
    codes, combos = _combos(rule, interval, last)
    first = np.zeros(len(combos), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    texts: dict[tuple[int, int], tuple[str, str]] = {}
    zh, en = [], []
    for (r, iv, _), i in zip(combos, first, strict=True):
        t = texts.get((r, iv))
        if t is None:
            t = texts[(r, iv)] = _rule_text(rules[r], int(iv))
        if last[i] == gcov.NO_DAY:
            zh.append(f"从未检查；{t[0]}")
            en.append(f"never inspected; {t[1]}")
        else:
            zh.append(f"上次检查 {last_txt[i]}，已 {since[i]} 天；{t[0]}")
            en.append(f"last inspected {last_txt[i]}, {since[i]} days ago; {t[1]}")
    return np.array(zh, dtype=object)[codes], np.array(en, dtype=object)[codes]


def _blind_reasons(bl: pd.DataFrame, *, window: int, reach_min: float, has_bases: bool, road: bool
                   ) -> tuple[list[str], list[str]]:
    zh, en = [], []
    how_zh = "道路" if road else "估算"
    how_en = "by road" if road else "estimated"
    for risk, nobj, last, insp, t, ok in zip(bl["risk"], bl["n_objects"], bl["last_inspection"], bl["inspected"],
                                             bl["travel_min"], bl["in_reach"], strict=True):
        z = [f"风险 {risk:.1f}（{nobj} 个对象）"]
        e = [f"risk {risk:.1f} ({nobj} objects)"]
        if not insp:
            never = pd.isna(last)
            z.append(f"近 {window} 天无检查（从未检查）" if never else f"近 {window} 天无检查（上次 {last}）")
            e.append(f"no inspection in the last {window} days (never inspected)" if never else
                     f"no inspection in the last {window} days (last {last})")
        if not ok:
            if not has_bases:
                z.append("没有检查组驻地")
                e.append("no team base at all")
            else:
                z.append(f"最近的检查组驻地{how_zh}约 {t:.0f} 分钟，超过 {reach_min:g} 分钟")
                e.append(f"nearest team base {t:.0f} min away ({how_en}), over {reach_min:g}")
        zh.append("；".join(z))
        en.append("; ".join(e))
    return zh, en


def _group_texts(n: int, obj: np.ndarray, dcode: np.ndarray, rows: np.ndarray,
                 fmt: Callable[[list[int]], tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    """Texts for each object in ``rows`` (sorted, unique) from the set of department codes linked to it:
    ``fmt(sorted codes) -> (zh, en)``, called once per distinct set."""
    if len(rows) == 0:
        return np.empty(0, object), np.empty(0, object)
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    want = mask[obj]
    k = int(dcode.max()) + 2 if len(dcode) else 2
    pairs = np.sort(pd.unique(obj[want] * k + dcode[want]))
    o, d = pairs // k, pairs % k
    starts = np.flatnonzero(np.r_[True, o[1:] != o[:-1]])
    counts = np.diff(np.r_[starts, len(o)])
    owners = o[starts]  # == rows, sorted
    if counts.max() <= 6 and float(k) ** 6 < 2.0 ** 62:
        pos = np.arange(len(o)) - np.repeat(starts, counts)
        key = np.zeros(len(owners), dtype=np.int64)
        np.add.at(key, np.repeat(np.arange(len(owners)), counts), (d + 1) * k ** pos)
        codes, uniq = pd.factorize(key)
        sets = []
        for u in uniq:
            parts, u = [], int(u)
            while u:
                parts.append(u % k - 1)
                u //= k
            sets.append(parts)
    else:
        sets_t = [tuple(d[s:s + c].tolist()) for s, c in zip(starts, counts, strict=True)]
        codes, uniq = pd.factorize(np.array(sets_t + [()], dtype=object)[:-1])
        sets = [list(u) for u in uniq]
    texts = [fmt(x) for x in sets]
    zh = np.array([t[0] for t in texts], dtype=object)[codes]
    en = np.array([t[1] for t in texts], dtype=object)[codes]
    out_zh = np.empty(len(rows), dtype=object)
    out_en = np.empty(len(rows), dtype=object)
    at = np.searchsorted(rows, owners)
    out_zh[at] = zh
    out_en[at] = en
    return out_zh, out_en


def _supervision_gaps(objs: _Objects, resp: pd.DataFrame, obj: np.ndarray, depts: pd.DataFrame,
                      districts: pd.DataFrame, *,
                      reg_dc: np.ndarray, loc_dc: np.ndarray, d_vocab: list[str], has_xy: np.ndarray,
                      check_districts: bool) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """One row per (object, gap kind), and per kind the object rows that have it (``obj``: the object row of
    each supervision link, -1 for none)."""
    n = len(objs)
    reg_d = _decode(reg_dc, d_vocab)
    located_d = _decode(loc_dc, d_vocab)
    dep_ids = depts["id"].astype(str).to_numpy(dtype=object) if len(depts) else np.empty(0, object)
    n_links = np.zeros(n, dtype=np.int64)
    n_dept = np.zeros(n, dtype=np.int64)
    n_lead = np.zeros(n, dtype=np.int64)
    link_obj = np.empty(0, np.int64)
    link_d = np.empty(0, np.int64)
    no_off = np.empty(0, bool)
    d_names = np.empty(0, object)
    d_names_en = np.empty(0, object)
    if len(resp) and n:
        dcodes, duniq = pd.factorize(resp["department_id"].to_numpy(dtype=object) if "department_id" in
                                     resp.columns else np.full(len(resp), None, dtype=object))
        duniq = np.array([str(u) for u in duniq], dtype=object)
        if (duniq == "").any():  # empty text names no department
            dcodes = np.where(dcodes == int(np.flatnonzero(duniq == "")[0]), -1, dcodes)
        if len(depts):
            known = pd.Index(dep_ids, dtype=object).get_indexer(duniq) >= 0
        else:  # no department list to check against: any named department counts
            known = np.ones(len(duniq), dtype=bool)
        valid = (obj >= 0) & (dcodes >= 0)
        valid[valid] = known[dcodes[valid]]
        n_links = np.bincount(obj[obj >= 0], minlength=n)
        lead = resp["lead"].astype("boolean").fillna(False).to_numpy(dtype=bool) if "lead" in resp.columns else \
            np.zeros(len(resp), bool)
        off_missing = _blank(resp, "officer")
        link_obj, link_d, no_off = obj[valid], dcodes[valid], off_missing[valid]
        if len(duniq) <= 64:  # distinct departments per object: one bit each, OR-ed per object and counted
            bits = np.zeros(n, dtype=np.uint64)
            np.bitwise_or.at(bits, link_obj, np.left_shift(np.uint64(1), link_d.astype(np.uint64)))
            n_dept = np.bitwise_count(bits).astype(np.int64)
        else:
            uniq_pairs = pd.unique(link_obj * (len(duniq) + 1) + link_d)
            n_dept = np.bincount(uniq_pairs // (len(duniq) + 1), minlength=n)
        n_lead = np.bincount(link_obj[lead[valid]], minlength=n)
        dn = dict(zip(dep_ids, depts["name"].astype(str), strict=True)) if len(depts) else {}
        dn_en = dict(zip(dep_ids, depts["name_en"].fillna(depts["name"]).astype(str), strict=True)) \
            if len(depts) and "name_en" in depts.columns else dn
        d_names = np.array([dn.get(u, u) for u in duniq], dtype=object)
        d_names_en = np.array([dn_en.get(u, u) for u in duniq], dtype=object)

    parts: list[pd.DataFrame] = []
    kinds: dict[str, np.ndarray] = {k: np.empty(0, np.int64) for k in GAP_KINDS}

    def add(rows: np.ndarray, kind: str, zh: Any, en: Any) -> None:
        kinds[kind] = rows
        if len(rows) == 0:
            return
        parts.append(_obj_frame({
            "layer": objs.layer_of(rows), "id": objs.id[rows], "name": objs.name[rows], "district_code": reg_d[rows],
            "located_district": located_d[rows], "town_code": objs.town[rows],
            "kind": np.full(len(rows), kind, dtype=object), "kind_zh": np.full(len(rows), GAP_KINDS[kind][0],
                                                                                dtype=object),
            "kind_en": np.full(len(rows), GAP_KINDS[kind][1], dtype=object),
            "reason_zh": np.asarray(zh, dtype=object), "reason_en": np.asarray(en, dtype=object),
            "lon": objs.lon[rows], "lat": objs.lat[rows]}))

    rows = np.flatnonzero(n_dept == 0)
    had = n_links[rows] > 0
    add(rows, "no_department", np.where(had, "登记的监管部门不在部门表中", "没有监管部门").astype(object),
        np.where(had, "its supervising department is not in the department list",
                 "no supervising department").astype(object))

    rows = np.flatnonzero((n_dept >= 2) & (n_lead == 0))
    if len(rows):
        zh, en = _group_texts(n, link_obj, link_d, rows, lambda ds: (
            f"有 {len(ds)} 个监管部门（{'、'.join(d_names[ds])}）但没有牵头部门",
            f"{len(ds)} supervising departments ({', '.join(d_names_en[ds])}) and no lead"))
        add(rows, "no_lead", zh, en)

    if len(link_obj) and no_off.any():
        rows = np.sort(pd.unique(link_obj[no_off]))
        zh, en = _group_texts(n, link_obj[no_off], link_d[no_off], rows, lambda ds: (
            f"监管部门 {'、'.join(d_names[ds])} 未落实包保责任人", f"no officer named for {', '.join(d_names_en[ds])}"))
        add(rows, "no_officer", zh, en)

    if check_districts:
        dcode = districts["code"].astype(str).tolist()
        dn = dict(zip(dcode, districts["name"].astype(str), strict=True))
        dn_en = dict(zip(dcode, districts["name_en"].fillna(districts["name"]).astype(str), strict=True)) \
            if "name_en" in districts.columns else dn
        outside = loc_dc < 0
        rows = np.flatnonzero(outside)
        lon, lat = objs.lon, objs.lat
        add(rows, "outside_districts",
            [f"坐标 ({lon[r]:.5f}, {lat[r]:.5f}) 不在任何区县范围内" if has_xy[r] else "没有坐标" for r in rows],
            [f"the point ({lon[r]:.5f}, {lat[r]:.5f}) lies outside every district" if has_xy[r] else
             "no location" for r in rows])
        rows = np.flatnonzero(~outside & (reg_dc != loc_dc))
        if len(rows):
            codes, combos = _combos(reg_d[rows], located_d[rows])
            zh, en = [], []
            for reg, loc in combos:
                if pd.isna(reg):
                    zh.append(f"未登记区县，实际位于 {loc}（{dn.get(loc, loc)}）")
                    en.append(f"no registered district; located in {loc} ({dn_en.get(loc, loc)})")
                else:
                    zh.append(f"登记区县 {reg}（{dn.get(reg, '区县表中没有')}），实际位于 {loc}（{dn.get(loc, loc)}）")
                    en.append(f"registered in {reg} ({dn_en.get(reg, 'not in the district list')}) but located in "
                              f"{loc} ({dn_en.get(loc, loc)})")
            add(rows, "district_mismatch", np.array(zh, dtype=object)[codes], np.array(en, dtype=object)[codes])
    if not parts:
        return _obj_frame({c: np.empty(0, dtype=object) for c in (
            "layer", "id", "name", "district_code", "located_district", "town_code", "kind", "kind_zh",
            "kind_en", "reason_zh", "reason_en", "lon", "lat")}), kinds
    return pd.concat(parts, ignore_index=True), kinds


# --------------------------------------------------------------------------------------------------
# Suggested bases (maximal covering)
# --------------------------------------------------------------------------------------------------

def suggest_bases(result: CoverageResult, k: int, *, method: str = "greedy", max_candidates: int = 400,
                  time_limit_s: float = 20.0) -> gpd.GeoDataFrame:
    """``k`` new team bases that bring the most out-of-reach risk into reach (maximal covering location).

    Demand: the risk-carrying cells beyond every base's reach, weighted by risk. Candidates: the centres of
    risk-carrying cells (on roads: the ``max_candidates`` riskiest out-of-reach cells, since each candidate
    costs a shortest-path run). ``method`` is ``"greedy"`` or ``"exact"`` (the MCLP integer programme solved by
    HiGHS, warm-started with the greedy answer and stopped after ``time_limit_s``; the ``method`` column says
    whether it proved the optimum).

    Returns one row per base in the order chosen: cell, lon, lat, risk_gained, cells_gained,
    cumulative_risk, share_of_unreached (cumulative), and a point geometry.
    """
    cells = result.cells
    demand = cells[(cells["risk"] > 0) & ~cells["in_reach"]]
    cols = ["rank", "method", "cell", "lon", "lat", "risk_gained", "cells_gained", "cumulative_risk", "share_of_unreached"]
    empty = gpd.GeoDataFrame({c: [] for c in cols}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    if k <= 0 or len(demand) == 0 or result._travel is None:
        return empty
    dxy = demand[["x", "y"]].to_numpy()
    w = demand["risk"].to_numpy(dtype=float)
    limit_s = result.reach["limit_minutes"] * 60.0
    if result.reach.get("method") == "road":
        cand = demand.sort_values("risk", ascending=False).head(max_candidates)
        cxy = cand[["x", "y"]].to_numpy()
        times = np.vstack([result._travel(cxy[j:j + 1], dxy) for j in range(len(cxy))])
        cover = siting.cover_matrix_from_times(times, limit_s, tolerance=gcov.REACH_TOLERANCE_S)
    else:
        cand = cells[cells["risk"] > 0]
        cxy = cand[["x", "y"]].to_numpy()
        radius = result.reach["reach_m"]
        cover = siting.cover_matrix_radius(dxy, cxy, radius * (1 + 1e-12) + 1e-6)
    if method == "exact":
        sol = siting.exact_mclp(w, cover, k, time_limit_s=time_limit_s)
    elif method == "greedy":
        sol = siting.greedy_mclp(w, cover, k)
    else:
        raise ValueError(f"未知方法 {method!r}，可选 greedy/exact (unknown method {method!r}; use greedy or exact)")
    if len(sol.chosen) == 0:
        return empty
    picked = cand.iloc[sol.chosen]
    cells_gained = []
    covered = np.zeros(len(demand), bool)
    for j in sol.chosen:
        row = cover.indices[cover.indptr[j]:cover.indptr[j + 1]]
        cells_gained.append(int((~covered[row]).sum()))
        covered[row] = True
    total = float(w.sum())
    cum = np.cumsum(sol.gained)
    out = pd.DataFrame({"rank": np.arange(1, len(picked) + 1), "method": sol.method,
                        "cell": picked["cell"].to_numpy(),
                        "lon": picked["lon"].to_numpy(), "lat": picked["lat"].to_numpy(),
                        "risk_gained": sol.gained, "cells_gained": cells_gained, "cumulative_risk": cum,
                        "share_of_unreached": cum / total if total else np.nan})
    return gpd.GeoDataFrame(out, geometry=shapely.points(out["lon"], out["lat"]), crs=4326)


# --------------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------------

_CACHE: OrderedDict[tuple, CoverageResult] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8
_SETTINGS_KEYS = ("intervals", "condition_intervals", "grade_weights", "h3_resolution", "coverage_window_days",
                  "reach_minutes", "detour_factor", "travel_speed_kmh", "risk_index_weights", "venue_grades",
                  "venue_crowd_capacity")


def _settings_key(settings: Settings) -> str:
    names = {f.name for f in fields(settings)}
    return json.dumps({k: getattr(settings, k) for k in _SETTINGS_KEYS if k in names}, sort_keys=True, default=str)


def compute_cached(store: Store, *, as_of: date | None = None, settings: Settings | None = None,
                   today: date | None = None, progress: Progress | None = None) -> CoverageResult:
    """:func:`compute`, cached per (store, data version, as-of date, today, settings): the map page, the wall
    and the coverage page share one computation, and a new import is seen at once."""
    settings = settings or Settings.from_env()
    today = today or date.today()
    as_of = as_of or today
    key = (store.url, store.data_version(), as_of.isoformat(), today.isoformat(), _settings_key(settings))
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    result = compute(store, as_of=as_of, settings=settings, today=today, progress=progress)
    with _CACHE_LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result

