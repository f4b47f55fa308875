"""The rules that make an object a dead corner (死角): which objects are inspected, the interval each must be
inspected within, its risk weight, and the words that give the reason.

An inspectable object (``schema.OBJECT_LAYERS``) is a dead corner when its last inspection on or before
``as_of`` is more than its interval ago, or when it has none. On day ``== interval`` it is still in time.
Dead corners are ranked by ``risk weight x days overdue``; an object never inspected is
``interval + (as_of - horizon)`` days overdue, the horizon being the first day of the inspection records that
count (so it ranks above any object inspected since then), or ``as_of - coverage_window_days`` when there are
none (the day arithmetic is ``geo.coverage.overdue_days``).

Interval and risk weight of each inspectable object (:func:`layer_objects`, :func:`risk_weights`):

* enterprises: their grade (``Settings.intervals`` / ``grade_weights``); closed enterprises are left out.
* venues: the grade of their kind (``Settings.venue_grades``), one grade higher when they hold at least
  ``venue_crowd_capacity`` people.
* bridges, tunnels: interval by condition class (``Settings.condition_intervals``); weight of the grade the
  class maps to (``CONDITION_GRADE``: 5 major, 4 high, 3 moderate, 1-2 low).
* gas stations: interval by condition class when given, else by grade; grade the worse of the class's and the
  pressure's (``PRESSURE_GRADE``: high and sub-high pressure: high, medium: moderate, low: low).
* any other text, or none: the ``DEFAULT_GRADE``.
* a repeat offender (屡查屡犯, :func:`layers.ledger.repeat.repeat_offenders` as of ``as_of``): its interval
  times ``Settings.repeat_interval_factor`` (at least one day), and the reason says so
  (:func:`shorten_for_repeat_offenders`).
* every object: plus ``risk_index_weights["open_major_hazard"]`` / ``["open_general_hazard"]`` per hazard
  open as of ``as_of`` (found on or before it and not closed by then; a hazard marked closed without a closed
  date counts as closed).

Inspections count when dated on or before both ``as_of`` and today; the others are listed in
``ignored_inspections`` with the reason (``IGNORED_KINDS``: dated after today, after ``as_of``, no date,
unknown target, a closed enterprise's).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from geo import coverage as gcov
from layers.analysis.coverage.arrays import combo_codes, days, lookup, points, text_col
from layers.analysis.keys import KeyIndex, is_arrow_text
from layers.schema import GRADE_ORDER, PRESSURE_CLASSES, VENUE_KINDS
from layers.settings import Settings

GRADE_WORDS = {
    "major": ("红色（重大）", "red (major)"),
    "high": ("橙色（较大）", "orange (high)"),
    "moderate": ("黄色（一般）", "yellow (moderate)"),
    "low": ("蓝色（低）", "blue (low)"),
}
CONDITION_GRADE = {"5": "major", "4": "high", "3": "moderate", "2": "low", "1": "low"}
PRESSURE_GRADE = {"high": "high", "sub_high": "high", "medium": "moderate", "low": "low"}
DEFAULT_GRADE = "moderate"


_GRADE_IDX = {g: i for i, g in enumerate(GRADE_ORDER)}
GRADES_ARR = np.array(GRADE_ORDER, dtype=object)


def _grade_idx(grades: np.ndarray, default: str | None = DEFAULT_GRADE) -> np.ndarray:
    return lookup(grades, _GRADE_IDX, _GRADE_IDX[default] if default else 99, dtype=np.int64)


@dataclass
class Objects:
    """Every inspectable object as parallel arrays (its layer as a code: ``layers[layer_code]``)."""

    # (the text fields: an object array, or the column's Arrow-backed text as read; rows by :meth:`texts`)
    id: Any
    name: Any
    district: Any
    town: Any
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

    def texts(self, name: str, rows: np.ndarray) -> np.ndarray:
        """The ``rows`` of the text field ``name`` (id, name, district, town) as an object array. (The fields
        keep a column's Arrow text as it is, made into Python strings only for the rows a result shows.)"""
        return np.asarray(getattr(self, name)[rows], dtype=object)

    def layer_of(self, rows: np.ndarray) -> np.ndarray:
        """The layer names of ``rows`` (an object array)."""
        return np.array(self.layers, dtype=object)[self.layer_code[rows]]

    def lookup(self, layer_col: Any, id_col: Any) -> np.ndarray:
        """Row of each (layer, id) pair; -1 when there is no such object (the first row when a layer repeats an
        id)."""
        if "keys" not in self._index:
            self._index["keys"] = KeyIndex(self.id, groups=pd.Categorical.from_codes(self.layer_code, self.layers))
        return self._index["keys"].get(id_col, groups=layer_col)


def layer_objects(name: str, frame: pd.DataFrame, settings: Settings) -> Objects:
    """One layer's inspectable objects: id, name, codes, lon/lat, grade, interval, rule (what sets it)."""
    n = len(frame)
    keep = None  # closed enterprises are left out (of the arrays at the end: cheaper than filtering the frame)
    if name == "enterprises" and n and "status" in frame.columns:
        keep = frame["status"].to_numpy(dtype=object) != "closed"
        if keep.all():
            keep = None
    lon, lat, point = points(frame)
    ids = _text(frame, "id", n)
    iv = settings.intervals
    civ = {str(k): v for k, v in settings.condition_intervals.items()}
    cond = text_col(frame, "condition_class", n)
    if name == "enterprises":
        # (missing and empty grades fall to the default in the look-up: no need to blank them first)
        gi = _grade_idx(frame["grade"] if "grade" in frame.columns and n else np.full(n, None, dtype=object))
        interval = np.array([iv[g] for g in GRADE_ORDER], dtype=np.int64)[gi]
        rule, rules = gi, [f"g:{g}" for g in GRADE_ORDER]
    elif name == "venues":
        kind = text_col(frame, "kind", n)
        base = _grade_idx(lookup(kind, settings.venue_grades, DEFAULT_GRADE))
        cap = pd.to_numeric(frame["capacity"], errors="coerce").to_numpy(dtype=float) if n and \
            "capacity" in frame.columns else np.full(n, np.nan)
        crowd = np.nan_to_num(cap, nan=0.0) >= settings.venue_crowd_capacity
        gi = np.where(crowd, np.maximum(base - 1, 0), base)
        interval = np.array([iv[g] for g in GRADE_ORDER], dtype=np.int64)[gi]
        rule, combos = combo_codes(kind, gi, crowd)
        rules = [f"v:{k}:{GRADE_ORDER[g]}:{int(c)}" for k, g, c in combos]
    elif name in ("bridges", "tunnels"):
        gi = _grade_idx(lookup(cond, CONDITION_GRADE, DEFAULT_GRADE))
        rule, combos = combo_codes(cond, gi)
        interval = np.array([civ[c] if c in civ else iv[GRADE_ORDER[g]] for c, g in combos], dtype=np.int64
                            )[rule] if n else np.empty(0, np.int64)
        rules = [f"c:{c}" if c in civ else f"g:{GRADE_ORDER[g]}" for c, g in combos]
    elif name == "gas_stations":
        pres = text_col(frame, "pressure", n)
        g1 = _grade_idx(lookup(cond, CONDITION_GRADE, None), None)
        g2 = _grade_idx(lookup(pres, PRESSURE_GRADE, None), None)
        gi = np.minimum(g1, g2)
        gi = np.where(gi == 99, _GRADE_IDX[DEFAULT_GRADE], gi)
        rule, combos = combo_codes(cond, pres, gi)
        interval = np.array([civ[c] if c in civ else iv[GRADE_ORDER[g]] for c, p, g in combos], dtype=np.int64
                            )[rule] if n else np.empty(0, np.int64)
        rules = [f"s:{c}:{p}:{GRADE_ORDER[g]}" if c in civ else f"p:{p}:{GRADE_ORDER[g]}" for c, p, g in combos]
    else:
        raise ValueError(f"{name} is not an inspectable layer")

    objs = Objects(id=ids, name=_text(frame, "name", n),
                   district=_text(frame, "district_code", n), town=_text(frame, "town_code", n), lon=lon, lat=lat,
                   point=point,
                   grade=np.asarray(gi, dtype=np.int64), interval=np.asarray(interval, dtype=np.int64),
                   rule=np.asarray(rule, dtype=np.int64), rules=list(rules),
                   layer_code=np.zeros(n, dtype=np.int64), layers=[name])
    if keep is None:
        return objs
    return Objects(**{f.name: getattr(objs, f.name)[keep] for f in fields(Objects)
                      if not f.name.startswith("_") and f.name not in ("rules", "layers")}, rules=objs.rules,
                   layers=objs.layers)


def _text(frame: pd.DataFrame, col: str, n: int) -> Any:
    """A text column of ``frame`` for :class:`Objects`: its Arrow-backed text as it is (no Python strings), else
    an object array (all None when there is no such column)."""
    if col not in frame.columns or n == 0:
        return np.full(n, None, dtype=object)
    s = frame[col]
    return s.array if is_arrow_text(s) else s.to_numpy(dtype=object)


def _concat(parts: list[Any]) -> Any:
    """The layers' arrays of one field end to end (Arrow text stays Arrow text when every layer's is)."""
    if parts and all(isinstance(p, pd.api.extensions.ExtensionArray) for p in parts) and \
            len({str(p.dtype) for p in parts}) == 1:
        return pd.concat([pd.Series(p, copy=False) for p in parts], ignore_index=True).array
    return np.concatenate([np.asarray(p, dtype=object) if isinstance(p, pd.api.extensions.ExtensionArray) else p
                           for p in parts])


def concat_objects(parts: list[Objects]) -> Objects:
    offsets = np.cumsum([0] + [len(p.rules) for p in parts])
    arrays = {f.name: _concat([getattr(p, f.name) for p in parts]) for f in fields(Objects)
              if not f.name.startswith("_") and f.name not in ("rule", "rules", "layer_code", "layers")}
    return Objects(**arrays, rule=np.concatenate([p.rule + o for p, o in zip(parts, offsets, strict=False)]),
                   rules=[r for p in parts for r in p.rules],
                   layer_code=np.concatenate([p.layer_code + k for k, p in enumerate(parts)]),
                   layers=[name for p in parts for name in p.layers])


def shorten_for_repeat_offenders(objs: Objects, layers: np.ndarray, ids: np.ndarray, factor: float) -> int:
    """A repeat offender's (屡查屡犯) inspection interval becomes its interval times ``factor`` (at least a day),
    and its rule says so (``r:<interval before>:<rule before>``). ``layers``/``ids`` name the offenders; returns
    how many objects were shortened."""
    rows = objs.lookup(np.asarray(layers, dtype=object), np.asarray(ids, dtype=object)) if len(ids) else \
        np.empty(0, np.int64)
    rows = np.unique(rows[rows >= 0])
    if len(rows) == 0:
        return 0
    before = objs.interval[rows].copy()
    codes, combos = combo_codes(objs.rule[rows], before)
    added = [f"r:{int(iv)}:{objs.rules[int(r)]}" for r, iv in combos]
    objs.rule[rows] = len(objs.rules) + codes
    objs.rules.extend(added)
    objs.interval[rows] = np.maximum(1, np.floor(before * float(factor))).astype(np.int64)
    return int(len(rows))


def _rule_text(rule: str, interval: int) -> tuple[str, str]:
    """What sets an object's interval, in words: ``("红色（重大）风险要求 30 天", "red (major) grade requires 30
    days")``."""
    parts = rule.split(":")
    kind = parts[0]
    if kind == "r":
        zh, en = _rule_text(":".join(parts[2:]), int(parts[1]))
        return (f"{zh}，屡查屡犯缩短为 {interval} 天",
                f"{en}, shortened to {interval} days for a repeat offender")
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


def risk_weights(grade: np.ndarray, hazards: pd.DataFrame, target: np.ndarray | None, *, as_day: int,
                 settings: Settings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each object's risk weight on day ``as_day`` (days since 1970-01-01), and its open major and general
    hazards: the weight of its grade (``grade``: index into ``GRADE_ORDER``) plus ``risk_index_weights`` per
    hazard open that day. ``target``: the object row each hazard names (-1: none); None counts no hazard."""
    n = len(grade)
    gw = settings.grade_weights
    weight = np.array([float(gw.get(g, 1.0)) for g in GRADE_ORDER])[grade] if n else np.empty(0)
    open_major = np.zeros(n, dtype=np.int64)
    open_general = np.zeros(n, dtype=np.int64)
    if target is not None:
        found = days(hazards["found_date"])
        closed = days(hazards["closed_date"]) if "closed_date" in hazards.columns else \
            np.full(len(hazards), gcov.NO_DAY)
        status = hazards["status"].to_numpy(dtype=object) if "status" in hazards.columns else \
            np.full(len(hazards), None)
        is_open = (target >= 0) & (found != gcov.NO_DAY) & (found <= as_day) & \
            ~((closed != gcov.NO_DAY) & (closed <= as_day)) & ~((status == "closed") & (closed == gcov.NO_DAY))
        lvl = hazards["level"].to_numpy(dtype=object)
        open_major = np.bincount(target[is_open & (lvl == "major")], minlength=n)
        open_general = np.bincount(target[is_open & (lvl != "major")], minlength=n)
    riw = settings.risk_index_weights
    weight = weight + open_major * float(riw.get("open_major_hazard", 0.0)) + \
        open_general * float(riw.get("open_general_hazard", 0.0))
    return weight, open_major, open_general


def dead_reasons(rule: np.ndarray, rules: list[str], interval: np.ndarray, last: np.ndarray, since: np.ndarray,
                 last_txt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reason texts, built once per distinct (rule, interval, last day) and shared by the rows that have it
    (``rule``: index into ``rules``)."""
    if len(rule) == 0:
        return np.empty(0, object), np.empty(0, object)
    codes, combos = combo_codes(rule, interval, last)
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
