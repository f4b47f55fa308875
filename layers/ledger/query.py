"""The ledger table (隐患台账): every hazard joined with its target, built once per data version, and queried
(filter, sort, one page) in vectorised numpy.

:func:`ledger` builds a :class:`LedgerFrame` once per (store, data version, as-of date, repeat settings) under a
lock, so N concurrent cold calls compute it once; only the newest data version of a store is kept. A build
turns every filterable column into integer codes and every sortable column into a rank; the sort order of a
column is computed (one stable argsort) the first time a query sorts by it and kept for the build. A query is
then a few integer comparisons over the rows, ``order[mask[order]]`` and one page of ``iloc``: no string
comparison, no sort per query.

Where the columns come from:

* the hazard's own fields (the five elements, deadline, status …);
* ``target_name``, ``credit_code``, ``industry`` (enterprises), ``kind`` (venues, gas stations), ``grade``,
  ``address``, ``district_code`` and ``town_code`` **from the target object** (a hazard belongs to the district
  of the object it names; its own district code is not used). A hazard naming no known object has no district:
  only a city-wide reader sees it;
* ``department``: the hazard's ``department_id``; else the target's lead department in ``responsibilities``
  (or its only department when it has one link and no lead; several links and no lead = none: a supervision
  gap). ``officer``: that department's officer for the target (``responsibilities.officer``);
* ``days_left`` (deadline − as-of, whole days; none for closed hazards), ``bucket``
  (:mod:`layers.ledger.deadlines`), ``overdue``;
* ``missing`` (tuple of the five-element keys not in place), ``missing_mask`` (bit *i* = the *i*-th key of
  ``FIVE_IN_PLACE`` missing), ``n_missing``; an element is in place when its flag is true or its detail is
  filled (who, what, how much, when, which plan), as :func:`layers.ledger.workflow.five_elements` says;
* ``repeat`` (the target is a repeat offender as of the date, :mod:`layers.ledger.repeat`);
* ``enterprise_state``: ``suspended`` | ``closed`` | none (from ``enforcement.enterprise_state`` when present,
  else the enterprise's ``status``).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from urllib.parse import parse_qs, urlencode

import numpy as np
import pandas as pd
import shapely

from layers.access.policy import Access
from layers.cache import StoreCache
from layers.ledger.deadlines import BUCKETS, OVERDUE_BUCKETS, bucket_label, bucket_of, day_number, days_left
from layers.ledger.repeat import repeat_offenders
from layers.ledger.workflow import DETAILS
from layers.schema import (
    ENTERPRISE_STATUS,
    FIVE_IN_PLACE,
    HAZARD_LEVELS,
    HAZARD_STATUS,
    INDUSTRIES,
    LAYERS,
    OBJECT_LAYERS,
    label,
)
from layers.settings import Settings
from layers.store import Store, cached_read

FIVE = tuple(FIVE_IN_PLACE)
#: shown columns of the ledger and their labels (zh, en)
COLUMNS: dict[str, tuple[str, str]] = {
    "id": ("隐患编号", "Hazard"),
    "target_layer": ("对象图层", "Object layer"),
    "target_id": ("对象编号", "Object"),
    "target_name": ("对象名称", "Object name"),
    "credit_code": ("统一社会信用代码", "Credit code"),
    "industry": ("行业", "Industry"),
    "kind": ("类型", "Kind"),
    "district_code": ("区县", "District"),
    "district_name": ("区县名称", "District name"),
    "town_code": ("镇街", "Town"),
    "town_name": ("镇街名称", "Town name"),
    "type": ("隐患类型", "Hazard type"),
    "level": ("隐患级别", "Level"),
    "status": ("整改状态", "Status"),
    "found_date": ("发现日期", "Found"),
    "deadline": ("整改期限", "Deadline"),
    "days_left": ("剩余天数", "Days left"),
    "bucket": ("期限分档", "Deadline bucket"),
    "closed_date": ("销号日期", "Closed"),
    "n_missing": ("未到位项数", "Elements missing"),
    "missing": ("未到位", "Missing elements"),
    "responsible_person": ("整改责任人", "Responsible person"),
    "funds": ("整改资金(万元)", "Funds (10k yuan)"),
    "department": ("监管部门编号", "Department id"),
    "department_name": ("监管部门", "Supervising department"),
    "officer": ("包保责任人", "Officer"),
    "listed": ("挂牌督办", "Listed supervision"),
    "repeat": ("屡查屡犯", "Repeat offender"),
    "enterprise_state": ("企业状态", "Enterprise state"),
}
#: columns a query may sort by
SORTABLE = ("id", "target_layer", "target_id", "target_name", "credit_code", "industry", "kind", "district_code",
            "district_name", "town_name",
            "town_code", "type", "level", "status", "found_date", "deadline", "days_left", "bucket",
            "closed_date", "n_missing", "responsible_person", "funds", "department", "department_name", "officer",
            "listed", "repeat", "enterprise_state")
PAGE_SIZES = (10, 20, 25, 50, 100, 200)
ENTERPRISE_STATES = ("suspended", "closed")
#: bucket filter values: the buckets, plus ``overdue`` (any overdue bucket)
BUCKET_FILTERS = (*BUCKETS, "overdue")
#: missing-element filter values: the five keys, plus ``any`` (at least one missing)
MISSING_FILTERS = (*FIVE, "any")
_REPEAT_KEYS = ("repeat_hazard_count", "repeat_accident_count", "repeat_window_days")
#: categorical columns turned into integer codes at build
_CODED = ("district_code", "town_code", "industry", "target_layer", "level", "status", "bucket", "department",
          "enterprise_state")


# --------------------------------------------------------------------------------------------------
# The query
# --------------------------------------------------------------------------------------------------

_CODE_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
_CTRL_RE = re.compile(r"[\x00-\x1f\x7f]")
_MAX_VALUES = 50
_MAX_TEXT = 100
_MAX_PAGE = 1_000_000


def _tuple(value: object) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value if v not in (None, ""))


@dataclass(frozen=True)
class LedgerQuery:
    """What the ledger page asks: filters, sort and page. Tuples are OR-ed within a filter, filters AND-ed.

    ``district``/``town``/``department``: codes; ``industry``, ``layer`` (object layer), ``level``, ``status``:
    schema keys; ``bucket``: :data:`BUCKET_FILTERS`; ``missing``: :data:`MISSING_FILTERS` (a hazard matches when
    any named element is missing); ``found_from``/``found_to``: inclusive dates; ``text``: part of the target's
    name or credit code (case- and width-insensitive); ``listed``/``repeat``: True/False/None (any). ``page``
    counts from 1. Unknown values match nothing (never more than asked).
    """

    district: tuple[str, ...] = ()
    town: tuple[str, ...] = ()
    industry: tuple[str, ...] = ()
    layer: tuple[str, ...] = ()
    level: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    bucket: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    found_from: date | None = None
    found_to: date | None = None
    department: tuple[str, ...] = ()
    text: str = ""
    listed: bool | None = None
    repeat: bool | None = None
    sort: str = "days_left"
    desc: bool = False
    page: int = 1
    page_size: int = 50

    def __post_init__(self) -> None:
        for name in ("district", "town", "industry", "layer", "level", "status", "bucket", "missing",
                     "department"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))
        object.__setattr__(self, "text", _CTRL_RE.sub("", str(self.text or "")).strip()[:_MAX_TEXT])
        object.__setattr__(self, "page", max(1, min(_MAX_PAGE, int(self.page))))
        object.__setattr__(self, "page_size", max(1, min(max(PAGE_SIZES), int(self.page_size))))

    # -- URL -------------------------------------------------------------------------------------
    @classmethod
    def from_url(cls, query_string: str | Mapping[str, object] | None) -> LedgerQuery:
        """The query in a URL's query string (``a=1&b=x,y`` or repeated keys; a leading ``?`` is fine).

        Never trusts the URL: each value is checked against its allowed set (schema keys, a code pattern, ISO
        dates, known columns, page sizes); what fails is dropped, the rest kept.
        """
        if query_string is None:
            return cls()
        if isinstance(query_string, Mapping):
            raw = {str(k): [str(x) for x in (v if isinstance(v, (list, tuple)) else [v])]
                   for k, v in query_string.items()}
        else:
            text = str(query_string)[:8000].lstrip("?")
            try:
                raw = parse_qs(text, keep_blank_values=False, max_num_fields=200)
            except ValueError:
                return cls()

        def values(key: str) -> list[str]:
            out: list[str] = []
            for v in raw.get(key, []):
                out.extend(p.strip() for p in v.split(",") if p.strip())
            return out[:_MAX_VALUES]

        def one_of(key: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(dict.fromkeys(v for v in values(key) if v in allowed))

        def codes(key: str) -> tuple[str, ...]:
            return tuple(dict.fromkeys(v for v in values(key) if _CODE_RE.match(v)))

        def day(key: str) -> date | None:
            v = values(key)
            if not v or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v[0]):
                return None
            try:
                d = date.fromisoformat(v[0])
            except ValueError:
                return None
            return d if 1900 <= d.year <= 2199 else None

        def flag(key: str) -> bool | None:
            v = values(key)
            return {"1": True, "true": True, "0": False, "false": False}.get(v[0].lower()) if v else None

        def whole(key: str, default: int, allowed: tuple[int, ...] | None = None) -> int:
            v = values(key)
            if not v or not v[0].isdigit() or len(v[0]) > 7:
                return default
            n = int(v[0])
            if allowed is not None:
                return n if n in allowed else default
            return n if 1 <= n <= _MAX_PAGE else default

        sort = values("sort")
        text = " ".join(raw.get("text", [])[:1])
        return cls(
            district=codes("district"), town=codes("town"), industry=one_of("industry", tuple(INDUSTRIES)),
            layer=one_of("layer", OBJECT_LAYERS), level=one_of("level", tuple(HAZARD_LEVELS)),
            status=one_of("status", tuple(HAZARD_STATUS)), bucket=one_of("bucket", BUCKET_FILTERS),
            missing=one_of("missing", MISSING_FILTERS), found_from=day("found_from"), found_to=day("found_to"),
            department=codes("department"), text=text, listed=flag("listed"), repeat=flag("repeat"),
            sort=sort[0] if sort and sort[0] in SORTABLE else cls.sort,
            desc=(values("dir") or ["asc"])[0] == "desc", page=whole("page", 1),
            page_size=whole("page_size", cls.page_size, PAGE_SIZES))

    def to_url(self) -> str:
        """The query string (without ``?``) of the non-default values, in a fixed order; '' for the default."""
        pairs: list[tuple[str, str]] = []
        default = LedgerQuery()
        for f in fields(self):
            v = getattr(self, f.name)
            if v == getattr(default, f.name):
                continue
            if f.name == "desc":
                pairs.append(("dir", "desc" if v else "asc"))
            elif isinstance(v, tuple):
                pairs.append((f.name, ",".join(v)))
            elif isinstance(v, bool):
                pairs.append((f.name, "1" if v else "0"))
            elif isinstance(v, date):
                pairs.append((f.name, v.isoformat()))
            else:
                pairs.append((f.name, str(v)))
        return urlencode(pairs, safe=",")

    def with_(self, **changes: object) -> LedgerQuery:
        """A copy with ``changes`` (a filter change goes back to page 1 unless ``page`` is given)."""
        if "page" not in changes and any(k not in ("page", "page_size", "sort", "desc") for k in changes):
            changes["page"] = 1
        return replace(self, **changes)


# --------------------------------------------------------------------------------------------------
# The built frame
# --------------------------------------------------------------------------------------------------

def normalise_text(text: str) -> str:
    """Search form of a text: NFKC (full-width letters and digits as ASCII), case-folded."""
    return unicodedata.normalize("NFKC", str(text)).casefold()


@dataclass(eq=False)
class LedgerFrame:
    """One build of the ledger. ``frame`` is shared: never modify it (copy first)."""

    key: tuple
    as_of: date
    frame: pd.DataFrame
    codes: dict[str, np.ndarray]
    vocab: dict[str, dict[str, int]]
    found_day: np.ndarray
    missing_mask: np.ndarray
    flags: dict[str, np.ndarray]
    target_pos: np.ndarray
    object_text: np.ndarray
    ranks: dict[str, np.ndarray]
    _orders: dict[tuple[str, bool], np.ndarray] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __len__(self) -> int:
        return len(self.frame)

    def order(self, column: str, desc: bool = False) -> np.ndarray:
        """Row positions sorted by ``column`` (stable: ties keep hazard-id order; missing values last either
        way). One argsort per column and direction per build."""
        if column not in self.ranks:
            column = LedgerQuery.sort
        key = (column, bool(desc))
        hit = self._orders.get(key)
        if hit is not None:
            return hit
        with self._lock:
            hit = self._orders.get(key)
            if hit is None:
                r = self.ranks[column]
                top = int(r.max()) + 1 if len(r) else 0
                k = np.where(r < 0, top + 1, (top - r) if desc else r)
                hit = np.argsort(k, kind="stable").astype(np.int64)
                hit.flags.writeable = False
                self._orders[key] = hit
        return hit

    def _in(self, column: str, values: tuple[str, ...]) -> np.ndarray | None:
        """Mask of rows whose ``column`` is one of ``values`` (None = no filter)."""
        if not values:
            return None
        vocab = self.vocab[column]
        wanted = [vocab[v] for v in values if v in vocab]
        return np.isin(self.codes[column], np.asarray(wanted, dtype=self.codes[column].dtype))

    def mask(self, q: LedgerQuery, access: Access) -> np.ndarray:
        """Rows that the query selects and ``access`` may read (by the target's district and town)."""
        n = len(self.frame)
        m = np.ones(n, dtype=bool)
        if access.districts is not None:
            m &= self._in("district_code", tuple(access.districts)) if access.districts else False
        if access.towns is not None:
            m &= self._in("town_code", tuple(access.towns)) if access.towns else False
        for column, values in (("district_code", q.district), ("town_code", q.town), ("industry", q.industry),
                               ("target_layer", q.layer), ("level", q.level), ("status", q.status),
                               ("department", q.department)):
            sub = self._in(column, values)
            if sub is not None:
                m &= sub
        if q.bucket:
            wanted = set(q.bucket)
            if "overdue" in wanted:
                wanted |= set(OVERDUE_BUCKETS)
            m &= self._in("bucket", tuple(b for b in BUCKETS if b in wanted))
        if q.missing:
            bits = 0
            for k in q.missing:
                bits |= 0b11111 if k == "any" else (1 << FIVE.index(k)) if k in FIVE else 0
            m &= (self.missing_mask & np.uint8(bits)) != 0
        if q.found_from is not None:
            m &= self.found_day >= day_number(q.found_from)
        if q.found_to is not None:
            m &= self.found_day <= day_number(q.found_to)
        if q.listed is not None:
            m &= self.flags["listed"] == q.listed
        if q.repeat is not None:
            m &= self.flags["repeat"] == q.repeat
        if q.text:
            needle = normalise_text(q.text)
            hit = np.char.find(self.object_text, needle) >= 0 if len(self.object_text) else np.zeros(0, bool)
            hit = np.append(hit, False)       # position -1 (no known target) never matches
            m &= hit[self.target_pos]
        return m

    def select(self, q: LedgerQuery, access: Access) -> np.ndarray:
        """Positions of every selected row in the query's sort order."""
        order = self.order(q.sort, q.desc)
        return order[self.mask(q, access)[order]]

    def query(self, q: LedgerQuery, access: Access) -> tuple[pd.DataFrame, int]:
        """One page of the selection and the selection's size."""
        rows = self.select(q, access)
        start = (q.page - 1) * q.page_size
        return self.frame.iloc[rows[start:start + q.page_size]], int(len(rows))


# --------------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------------

def _text(s: pd.Series) -> np.ndarray:
    """Text column as an object array with None for missing and empty values."""
    a = s.astype(object).to_numpy()
    bad = pd.isna(a) | (a == "")
    if bad.any():
        a = a.copy()
        a[bad] = None
    return a


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _points(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """x, y (lon, lat) of each row's geometry (a point on lines and polygons); NaN without one."""
    n = len(frame)
    if "geometry" not in frame.columns or n == 0:
        return np.full(n, np.nan), np.full(n, np.nan)
    g = np.asarray(frame.geometry.values, dtype=object)
    ok = ~shapely.is_missing(g)
    ok[ok] &= ~shapely.is_empty(g[ok])
    pts = np.full(n, None, dtype=object)
    if ok.any():
        sub = g[ok]
        is_pt = shapely.get_type_id(sub) == 0
        rep = sub.copy()
        if (~is_pt).any():
            rep[~is_pt] = shapely.point_on_surface(sub[~is_pt])
        pts[ok] = rep
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    if ok.any():
        x[ok] = shapely.get_x(pts[ok])
        y[ok] = shapely.get_y(pts[ok])
    return x, y


def _objects(store: Store) -> pd.DataFrame:
    """Every inspectable object: layer, id, name, credit code, industry, kind, grade, status, address, district,
    town, x, y."""
    parts = []
    for name in OBJECT_LAYERS:
        have = set(LAYERS[name].names)
        cols = [c for c in ("id", "name", "credit_code", "industry", "kind", "grade", "status", "address",
                            "district_code", "town_code") if c in have]
        f = cached_read(store, name, columns=[*cols, "geometry"])
        x, y = _points(f)
        part = pd.DataFrame({"target_layer": name, "target_id": f["id"].astype(str).to_numpy()})
        for c in ("name", "credit_code", "industry", "kind", "grade", "status", "address", "district_code",
                  "town_code"):
            part[c] = _text(f[c]) if c in f.columns else None
        part["x"] = x
        part["y"] = y
        parts.append(part.drop_duplicates("target_id"))
    return pd.concat(parts, ignore_index=True)


def _target_positions(hazards: pd.DataFrame, objects: pd.DataFrame) -> np.ndarray:
    """Row of ``objects`` each hazard names (-1 when it names no known object)."""
    pos = np.full(len(hazards), -1, dtype=np.int64)
    hl = hazards["target_layer"].astype(object).to_numpy()
    hid = hazards["target_id"].astype(str).to_numpy()
    ol = objects["target_layer"].to_numpy()
    for name in OBJECT_LAYERS:
        rows = np.flatnonzero(hl == name)
        if not len(rows):
            continue
        offs = np.flatnonzero(ol == name)
        if not len(offs):
            continue
        idx = pd.Index(objects["target_id"].to_numpy()[offs]).get_indexer(hid[rows])
        pos[rows] = np.where(idx >= 0, offs[0] + idx, -1)
    return pos


def _lead_departments(store: Store, objects: pd.DataFrame) -> np.ndarray:
    """Per object: its lead department id (or its only one), else None."""
    resp = cached_read(store, "responsibilities", columns=["target_layer", "target_id", "department_id", "lead"])
    out = np.full(len(objects), None, dtype=object)
    if len(resp) == 0:
        return out
    r = pd.DataFrame({"target_layer": resp["target_layer"].astype(object), "target_id": resp["target_id"].astype(
        str), "department_id": _text(resp["department_id"]), "lead": resp["lead"].fillna(False).astype(bool)})
    r = r[r["department_id"].notna()]
    n_links = r.groupby(["target_layer", "target_id"])["department_id"].transform("nunique")
    r = r[r["lead"] | n_links.eq(1)].sort_values(["target_layer", "target_id", "lead", "department_id"],
                                                  ascending=[True, True, False, True])
    r = r.drop_duplicates(["target_layer", "target_id"])
    pos = _target_positions(r, objects)
    ok = pos >= 0
    out[pos[ok]] = r["department_id"].to_numpy()[ok]
    return out


def _officer_table(store: Store, objects: pd.DataFrame, dept_index: pd.Index) -> tuple[pd.Index, np.ndarray]:
    """(key, officer) of each (target, department) link in ``responsibilities``: key = object row × (number of
    departments + 1) + the department's place in ``dept_index``; the first officer by name when several."""
    resp = cached_read(store, "responsibilities", columns=["target_layer", "target_id", "department_id", "officer"])
    if len(resp) == 0:
        return pd.Index(np.zeros(0, np.int64)), np.zeros(0, dtype=object)
    r = pd.DataFrame({"target_layer": resp["target_layer"].to_numpy(dtype=object),
                      "target_id": np.asarray([str(v) for v in resp["target_id"]], dtype=object),
                      "department": _text(resp["department_id"]), "officer": _text(resp["officer"])})
    r = r.dropna(subset=["department"]).sort_values("officer", na_position="last", kind="stable").drop_duplicates(
        ["target_layer", "target_id", "department"])
    pos = _target_positions(r, objects)
    d = dept_index.get_indexer(pd.Index(r["department"].to_numpy(dtype=object), dtype=object))
    ok = (pos >= 0) & (d >= 0)
    return pd.Index(pos[ok] * (len(dept_index) + 1) + d[ok]), r["officer"].to_numpy(dtype=object)[ok]


def _enterprise_states(store: Store, objects: pd.DataFrame, as_of: date) -> np.ndarray:
    """Per object: suspended | closed | None."""
    out = np.full(len(objects), None, dtype=object)
    ent = objects["target_layer"].to_numpy(dtype=object) == "enterprises"
    status = objects["status"].to_numpy(dtype=object)
    hit = ent & np.isin(status, ENTERPRISE_STATES)
    out[hit] = status[hit]
    try:
        from layers.ledger.enforcement import enterprise_state
    except ImportError:     # the enforcement module is not there yet: the enterprise's status says it
        return out
    st = enterprise_state(store, as_of)
    if len(st):
        st = st[st["state"].isin(ENTERPRISE_STATES)]
        pos = _target_positions(st, objects)
        ok = pos >= 0
        out[pos[ok]] = st["state"].to_numpy(dtype=object)[ok]
    return out


def _obj(values: object) -> pd.Series:
    """An object column (text stays ``str``/None: pandas 3 would infer its ``str`` dtype and convert it)."""
    return pd.Series(np.asarray(values, dtype=object), dtype=object, copy=False)


def _rank(values: object) -> np.ndarray:
    """Rank of each value in sorted order (-1 for missing); equal values rank equal, not necessarily dense."""
    s = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=object)
                                                                if np.asarray(values).dtype == object else values)
    if s.dtype == bool:
        return s.to_numpy().astype(np.int32)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        v = s.to_numpy(dtype="datetime64[D]")
        nat = np.isnat(v)
        days = v.astype(np.int64)
        if nat.all():
            return np.full(len(v), -1, np.int64)
        return np.where(nat, -1, days - days[~nat].min()).astype(np.int64)
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        a = s.to_numpy(dtype=float, na_value=np.nan)
    else:
        a = s.to_numpy(dtype=object)
    codes, _ = pd.factorize(a, sort=True, use_na_sentinel=True)
    return codes.astype(np.int32)


def _encode(values: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    return codes.astype(np.int32), {str(u): i for i, u in enumerate(uniques)}


def _ext(values: np.ndarray, fill: object) -> np.ndarray:
    """``values`` with ``fill`` appended: gathering at position -1 (no known target) gives ``fill``."""
    a = np.asarray(values)
    return np.append(a, np.asarray([fill], dtype=a.dtype))


_MISSING_TABLE = np.empty(32, dtype=object)
for _m in range(32):
    _MISSING_TABLE[_m] = tuple(k for i, k in enumerate(FIVE) if _m & (1 << i))

HAZARDS = "hazards"
#: the ledger depends on every data layer; a write to any but the hazards (and the audit log) rebuilds the
#: target side; a write to the hazards alone re-reads the rows it wrote
_OTHER_TABLES = tuple(n for n, s in LAYERS.items() if s.counts_as_data and n not in (HAZARDS, "audit_log"))
#: at most this many changed hazards are re-read by id and patched in; more: the whole table is read again
PATCH_MAX = 2_000
#: target-side columns: per object, gathered per hazard by its target's row
_TARGET_COLUMNS = (("name", "target_name"), ("credit_code", "credit_code"), ("industry", "industry"),
                   ("kind", "kind"), ("grade", "grade"), ("address", "address"), ("district_code", "district_code"),
                   ("town_code", "town_code"))
_TARGET_SORTED = ("target_name", "credit_code", "industry", "kind", "district_code", "district_name", "town_name",
                  "town_code", "enterprise_state")
_TARGET_CODED = ("district_code", "town_code", "industry", "enterprise_state")
_REPEAT_INPUTS = ("target_layer", "target_id", "type", "found_date")
_GENERATION = iter(range(1, 1 << 62))


@dataclass(eq=False)
class _Targets:
    """The target side of the ledger (objects, their areas, departments, officers, enterprise states), per object
    with one extra last entry for "no known target". Built once per (store, stamps of every other layer, as-of)."""

    objects: pd.DataFrame
    cols: dict[str, np.ndarray]
    text: np.ndarray
    ranks: dict[str, np.ndarray]
    codes: dict[str, np.ndarray]
    vocab: dict[str, dict[str, int]]
    layer_index: dict[str, tuple[int, pd.Index]]
    obj_ids: np.ndarray
    dept_index: pd.Index
    dept_names: np.ndarray
    dept_names_en: np.ndarray
    officer_index: pd.Index
    officers: np.ndarray

    def positions(self, layer: np.ndarray, oid: np.ndarray) -> np.ndarray:
        """Row of the object each (layer, id) names (-1 when none)."""
        pos = np.full(len(layer), -1, dtype=np.int64)
        codes, uniques = pd.factorize(np.asarray(layer, dtype=object), use_na_sentinel=True)
        for k, name in enumerate(uniques):
            hit = self.layer_index.get(name)
            if hit is None:
                continue
            rows = np.flatnonzero(codes == k)
            idx = hit[1].get_indexer(pd.Index(np.asarray(oid, dtype=object)[rows], dtype=object))
            pos[rows] = np.where(idx >= 0, hit[0] + idx, -1)
        return pos


def _build_targets(store: Store, as_of: date) -> _Targets:
    objects = _objects(store)
    ol = objects["target_layer"].to_numpy(dtype=object)
    oids = objects["target_id"].to_numpy(dtype=object)
    layer_index = {}
    for name in OBJECT_LAYERS:
        offs = np.flatnonzero(ol == name)
        if len(offs):
            layer_index[name] = (int(offs[0]), pd.Index(oids[offs], dtype=object))
    cols: dict[str, np.ndarray] = {}
    for src, dst in _TARGET_COLUMNS:
        cols[dst] = objects[src].to_numpy(dtype=object)
    for code, layer_name, dst in (("district_code", "districts", "district_name"),
                                  ("town_code", "towns", "town_name")):
        a = cached_read(store, layer_name, columns=["code", "name", "name_en"])
        keys = [str(c) for c in a["code"]]
        zh = dict(zip(keys, a["name"].to_numpy(dtype=object), strict=True))
        en = dict(zip(keys, a["name_en"].to_numpy(dtype=object), strict=True))
        cols[dst] = np.asarray([zh.get(c) for c in cols[code]], dtype=object)
        cols[dst + "_en"] = np.asarray([en.get(c) for c in cols[code]], dtype=object)
    cols["lead"] = _lead_departments(store, objects)
    cols["enterprise_state"] = _enterprise_states(store, objects, as_of)
    ranks = {c: _ext(_rank(cols[c]), -1) for c in _TARGET_SORTED}
    codes, vocab = {}, {}
    for c in _TARGET_CODED:
        k, vocab[c] = _encode(cols[c])
        codes[c] = _ext(k, -1)
    text = np.array([normalise_text(f"{_str(n)}\x1f{_str(c)}") for n, c in
                     zip(objects["name"].tolist(), objects["credit_code"].tolist(), strict=True)], dtype=str)
    text.flags.writeable = False
    depts = cached_read(store, "departments", columns=["id", "name", "name_en"])
    resp = cached_read(store, "responsibilities", columns=["department_id"])
    dept_ids = [str(v) for v in depts["id"]]
    dept_index = pd.Index(list(dict.fromkeys([*dept_ids, *(str(v) for v in resp["department_id"].dropna())])),
                          dtype=object)
    names = dict(zip(dept_ids, depts["name"].to_numpy(dtype=object), strict=True))
    names_en = dict(zip(dept_ids, depts["name_en"].to_numpy(dtype=object), strict=True))
    officer_index, officers = _officer_table(store, objects, dept_index)
    for c in ("x", "y"):
        cols[c] = objects[c].to_numpy(dtype=float)
    cols = {c: _ext(v, np.nan if c in ("x", "y") else None) for c, v in cols.items()}
    return _Targets(objects=objects, cols=cols, text=text, ranks=ranks, codes=codes, vocab=vocab,
                    layer_index=layer_index, obj_ids=np.asarray([str(v) for v in oids], dtype=object),
                    dept_index=dept_index,
                    dept_names=_ext(np.asarray([names.get(i) for i in dept_index], dtype=object), None),
                    dept_names_en=_ext(np.asarray([names_en.get(i) for i in dept_index], dtype=object), None),
                    officer_index=officer_index, officers=_ext(officers, None))


@dataclass(eq=False)
class _Hazards:
    """The hazard rows in hazard-id order (no geometry, no own district code) with their points; ``stamp`` is
    the hazards table's stamp they are at least as new as; ``gen`` changes when what the repeat flags read
    (target, type, found date) may have changed."""

    stamp: int
    frame: pd.DataFrame
    x: np.ndarray
    y: np.ndarray
    mm: np.ndarray
    gen: int
    _index: pd.Index | None = field(default=None, repr=False)

    def index(self) -> pd.Index:
        if self._index is None:
            self._index = pd.Index(self.frame["id"].to_numpy(dtype=object), dtype=object)
        return self._index


def _missing_mask(h0: pd.DataFrame) -> np.ndarray:
    """Bit *i* set = the *i*-th of the five elements is not in place (its flag false and its detail empty)."""
    n = len(h0)
    mm = np.zeros(n, dtype=np.uint8)
    for i, k in enumerate(FIVE):
        present = h0[k].fillna(False).to_numpy(dtype=bool) if k in h0 else np.zeros(n, bool)
        detail = DETAILS.get(k)
        if detail in h0:
            d = h0[detail]
            filled = d.notna().to_numpy(dtype=bool).copy()
            if not pd.api.types.is_numeric_dtype(d) and not pd.api.types.is_datetime64_any_dtype(d) and \
                    filled.any():
                v = d.to_numpy(dtype=object)
                filled[filled] = np.fromiter((str(s).strip() != "" for s in v[filled]), bool, int(filled.sum()))
            present = present | filled
        mm |= (~present).astype(np.uint8) << np.uint8(i)
    return mm


def _hazard_rows(hz: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Hazards as read -> (rows in id order without geometry and own district code, x, y, missing mask)."""
    hx, hy = _points(hz)
    h = pd.DataFrame(hz.drop(columns=["geometry", "district_code"], errors="ignore")).reset_index(drop=True)
    for c in h.columns:     # text as object columns of str/None (a read may give pandas' arrow-backed str)
        if pd.api.types.is_string_dtype(h[c].dtype) and h[c].dtype != object:
            h[c] = _obj(h[c].to_numpy(dtype=object, na_value=None))
        elif isinstance(h[c].dtype, np.dtype) and h[c].dtype.kind == "M" and h[c].dtype != "datetime64[us]":
            h[c] = h[c].astype("datetime64[us]")    # one unit, whatever a read inferred from its rows
    for c in ("id", "target_id"):
        v = h[c].to_numpy(dtype=object)
        bad = np.fromiter((not isinstance(s, str) for s in v), bool, len(v)) if len(v) else np.zeros(0, bool)
        if bad.any():
            v = v.copy()
            v[bad] = [str(s) for s in v[bad]]
        h[c] = _obj(v)
    order = np.argsort(h["id"].to_numpy(dtype=object), kind="stable")
    if not np.array_equal(order, np.arange(len(order))):
        h = h.take(order).reset_index(drop=True)
        hx, hy = hx[order], hy[order]
    return h, hx, hy, _missing_mask(h)


def _read_hazards(store: Store, stamp: int) -> _Hazards:
    h, hx, hy, mm = _hazard_rows(cached_read(store, HAZARDS))
    return _Hazards(stamp, h, hx, hy, mm, next(_GENERATION))


def _patch_hazards(prev: _Hazards, store: Store, changed: set[str], stamp: int) -> _Hazards | None:
    """``prev`` with the rows of ``changed`` read again (changed, added or deleted); None when the rows read do
    not fit (another set of columns: read everything again)."""
    want = sorted(changed)
    f, fx, fy, fmm = _hazard_rows(store.read(HAZARDS, ids=want))
    old = prev.frame
    if list(f.columns) != list(old.columns):
        return None
    for c in f.columns:
        if f[c].dtype != old[c].dtype:
            try:
                f[c] = f[c].astype(old[c].dtype)
            except (TypeError, ValueError):
                return None
    at = prev.index().get_indexer(pd.Index(want, dtype=object))
    at = np.sort(at[at >= 0])
    fids = f["id"].to_numpy(dtype=object)
    if len(at) == len(f) and np.array_equal(old["id"].to_numpy(dtype=object)[at], fids):
        # changed rows only: the same positions get the new values
        same_inputs = all(old[c].iloc[at].reset_index(drop=True).equals(f[c]) for c in _REPEAT_INPUTS)
        cols = {}
        for c in old.columns:
            v = old[c]
            if isinstance(v.dtype, np.dtype):
                a = v.to_numpy(copy=True)
                a[at] = f[c].to_numpy(dtype=v.dtype)
                cols[c] = pd.Series(a, dtype=v.dtype, copy=False)
            else:
                a = v.array.copy()
                a[at] = f[c].array
                cols[c] = pd.Series(a, copy=False)
        x, y, mm = prev.x.copy(), prev.y.copy(), prev.mm.copy()
        x[at], y[at], mm[at] = fx, fy, fmm
        return _Hazards(stamp, pd.DataFrame(cols, copy=False), x, y, mm, prev.gen if same_inputs else
                        next(_GENERATION), prev._index)
    keep = np.ones(len(old), dtype=bool)
    keep[at] = False
    kept = old[keep].reset_index(drop=True)
    kx, ky, kmm = prev.x[keep], prev.y[keep], prev.mm[keep]
    if len(f):
        ins = np.searchsorted(kept["id"].to_numpy(dtype=object), fids)
        order = np.insert(np.arange(len(kept)), ins, np.arange(len(kept), len(kept) + len(f)))
        both = pd.concat([kept, f], ignore_index=True)
        for c in both.columns:
            if both[c].dtype != old[c].dtype:
                both[c] = both[c].astype(old[c].dtype)
        kept = both.take(order).reset_index(drop=True)
        kx, ky = np.concatenate([kx, fx])[order], np.concatenate([ky, fy])[order]
        kmm = np.concatenate([kmm, fmm])[order]
    return _Hazards(stamp, kept, kx, ky, kmm, next(_GENERATION))


def _repeat_flags(store: Store, hz: _Hazards, tg: _Targets, as_of: date, settings: Settings) -> np.ndarray:
    """Per object (and False for "no known target" at the end): a repeat offender as of ``as_of``."""
    accidents = cached_read(store, "accidents", columns=["enterprise_id", "date", "kind"])
    rep = repeat_offenders(hz.frame[list(_REPEAT_INPUTS)], accidents, as_of=as_of, settings=settings)
    flags = np.zeros(len(tg.objects) + 1, dtype=bool)
    rpos = _target_positions(rep, tg.objects)
    flags[rpos[rpos >= 0]] = True
    flags.flags.writeable = False
    return flags


def _assemble(hz: _Hazards, tg: _Targets, repeat: np.ndarray, as_of: date, key: tuple) -> LedgerFrame:
    """The ledger of these hazards and targets: vectorised over the rows, no store read."""
    h0 = hz.frame
    n = len(h0)
    layer = h0["target_layer"].to_numpy(dtype=object)
    tid = h0["target_id"].to_numpy(dtype=object)
    pos = tg.positions(layer, tid)
    known = pos >= 0
    cols: dict[str, object] = {c: h0[c] for c in h0.columns}
    for _src, dst in _TARGET_COLUMNS:
        cols[dst] = _obj(tg.cols[dst][pos])
    for dst in ("district_name", "district_name_en", "town_name", "town_name_en"):
        cols[dst] = _obj(tg.cols[dst][pos])
    cols["x"] = np.where(np.isnan(hz.x), tg.cols["x"][pos], hz.x)
    cols["y"] = np.where(np.isnan(hz.y), tg.cols["y"][pos], hz.y)

    own = _text(h0["department_id"]) if "department_id" in h0 else np.full(n, None, dtype=object)
    dept = np.where(pd.isna(own), tg.cols["lead"][pos], own)
    d_idx = tg.dept_index.get_indexer(pd.Index(dept, dtype=object)) if n else np.zeros(0, np.int64)
    cols["department"] = _obj(dept)
    cols["department_name"] = _obj(tg.dept_names[d_idx])
    cols["department_name_en"] = _obj(tg.dept_names_en[d_idx])
    okey = np.where(known & (d_idx >= 0), pos * (len(tg.dept_index) + 1) + d_idx, -1)
    cols["officer"] = _obj(tg.officers[tg.officer_index.get_indexer(okey)] if n else np.zeros(0, dtype=object))

    status = h0["status"].to_numpy(dtype=object)
    closed = status == "closed"
    dl = days_left(h0["deadline"], as_of)
    dl[closed] = np.nan
    cols["days_left"] = pd.array(dl, dtype="Int64") if n else pd.array([], dtype="Int64")
    cols["bucket"] = _obj(bucket_of(dl, status))
    cols["overdue"] = ~closed & (dl < 0)
    cols["unclosed"] = ~closed

    mm = hz.mm
    cols["missing_mask"] = mm
    cols["missing"] = _obj(_MISSING_TABLE[mm])
    cols["n_missing"] = np.unpackbits(mm[:, None], axis=1)[:, 3:].sum(axis=1).astype(np.int8) if n else \
        np.zeros(0, np.int8)
    cols["repeat"] = repeat[pos]
    cols["enterprise_state"] = _obj(tg.cols["enterprise_state"][pos])
    cols["listed"] = h0["listed"].fillna(False).astype(bool) if "listed" in h0 else np.zeros(n, bool)
    frame = pd.DataFrame(cols, copy=False)

    codes, vocab = {}, {}
    for c in _CODED:
        if c in _TARGET_CODED:
            codes[c], vocab[c] = tg.codes[c][pos], tg.vocab[c]
        else:
            codes[c], vocab[c] = _encode(frame[c].to_numpy(dtype=object))
    found = h0["found_date"].to_numpy(dtype="datetime64[D]") if \
        pd.api.types.is_datetime64_any_dtype(h0["found_date"].dtype) else \
        pd.to_datetime(h0["found_date"], errors="coerce").to_numpy(dtype="datetime64[D]")
    found_day = np.where(np.isnat(found), np.nan, found.astype(np.int64)).astype(float)
    ranks: dict[str, np.ndarray] = {"id": np.arange(n, dtype=np.int32)}
    for c in _TARGET_SORTED:
        ranks[c] = tg.ranks[c][pos]
    # target ids: by their text, known or not
    extra = np.asarray([str(v) for v in tid[~known]], dtype=object)
    ids_sorted = np.unique(np.concatenate([tg.obj_ids, extra])) if len(tg.obj_ids) + len(extra) else \
        np.zeros(0, dtype=object)
    tr = np.empty(n, dtype=np.int64)
    tr[known] = np.searchsorted(ids_sorted, tg.obj_ids)[pos[known]] if known.any() else 0
    tr[~known] = np.searchsorted(ids_sorted, extra) if len(extra) else 0
    ranks["target_id"] = tr
    for c in SORTABLE:
        if c not in ranks:
            ranks[c] = _rank(frame[c])
    for a in (*codes.values(), found_day, mm, pos, *ranks.values()):
        a.flags.writeable = False
    return LedgerFrame(key=key, as_of=as_of, frame=frame, codes=codes, vocab=vocab, found_day=found_day,
                       missing_mask=mm, flags={"listed": frame["listed"].to_numpy(dtype=bool),
                                               "repeat": frame["repeat"].to_numpy(dtype=bool)},
                       target_pos=pos, object_text=tg.text, ranks=ranks)


# --------------------------------------------------------------------------------------------------
# The cache: one build per key, newest data version only
# --------------------------------------------------------------------------------------------------

#: builds kept (several as-of dates or stores), keyed (store identity, (hazard stamp, other stamps), (as-of,
#: repeat settings)); older table stamps of a store are dropped at once (:mod:`layers.cache`)
_LEDGERS: StoreCache[LedgerFrame] = StoreCache("ledger", maxsize=3)
#: the parts, kept for the next build: the target side per (other stamps; as-of), the repeat flags per (other
#: stamps, hazard generation; as-of, repeat settings), and per store location the newest hazard rows (the base
#: a write to the hazards alone is patched onto: the previous state, which a keyed cache would drop)
_TARGETS: StoreCache[_Targets] = StoreCache("ledger targets", maxsize=3)
_REPEATS: StoreCache[np.ndarray] = StoreCache("ledger repeat flags", maxsize=3)
_HAZARDS: dict[str, tuple[tuple, _Hazards]] = {}
_LOCK = threading.Lock()


def clear_cache() -> None:
    """Forget every build and part (the next query builds from the store)."""
    _LEDGERS.clear()
    _TARGETS.clear()
    _REPEATS.clear()
    with _LOCK:
        _HAZARDS.clear()


def _key(store: Store, as_of: date, settings: Settings) -> tuple:
    """(store identity, (hazard stamp, other stamps), (as-of, repeat settings)): a :class:`StoreCache` key."""
    identity = store.identity()
    stamps = store.table_stamps([HAZARDS, *_OTHER_TABLES])
    return (identity, (stamps[HAZARDS], tuple(stamps[t] for t in _OTHER_TABLES)),
            (as_of.isoformat(), tuple(getattr(settings, k) for k in _REPEAT_KEYS)))


def _hazards_part(store: Store, identity: tuple, stamp: int) -> _Hazards:
    with _LOCK:
        prev_identity, prev = _HAZARDS.get(identity[0], ((), None))
    if prev_identity != identity:
        prev = None  # another file at this path: its change log says nothing of this one
    if prev is not None and prev.stamp == stamp:
        return prev
    hz = None
    if prev is not None:
        now, changed = store.changed_ids(HAZARDS, prev.stamp)
        if changed is not None and len(changed) <= PATCH_MAX:
            hz = _patch_hazards(prev, store, changed, now)
    if hz is None:
        hz = _read_hazards(store, stamp)
    with _LOCK:
        cur_identity, cur = _HAZARDS.get(identity[0], ((), None))
        if cur is None or cur_identity != identity or cur.stamp <= hz.stamp:
            _HAZARDS[identity[0]] = (identity, hz)
    return hz


def _build(store: Store, as_of: date, settings: Settings, key: tuple) -> LedgerFrame:
    identity, (hz_stamp, other), (day, repeat) = key
    hz = _hazards_part(store, identity, hz_stamp)
    tg = _TARGETS.get_at(identity, other, lambda: _build_targets(store, as_of), key=day)
    rep = _REPEATS.get_at(identity, (other, hz.gen), lambda: _repeat_flags(store, hz, tg, as_of, settings),
                          key=(day, repeat))
    return _assemble(hz, tg, rep, as_of, key)


def ledger(store: Store, *, as_of: date | None = None, settings: Settings | None = None) -> LedgerFrame:
    """The ledger of ``store`` as of ``as_of`` (default today), built once per (store identity, table stamps,
    as-of date, repeat settings); concurrent callers of a cold key wait for one build. After a write to the
    hazards alone (a workflow step, a registration) only the rows written are read again and the target side is
    kept."""
    settings = settings or Settings.from_env()
    as_of = as_of or date.today()
    key = _key(store, as_of, settings)
    identity, version, variant = key
    return _LEDGERS.get_at(identity, version, lambda: _build(store, as_of, settings, key), key=variant)


def ledger_frame(store: Store, *, as_of: date | None = None, settings: Settings | None = None) -> pd.DataFrame:
    """The ledger's rows (see the module docstring for the columns); shared: do not modify."""
    return ledger(store, as_of=as_of, settings=settings).frame


def ledger_rows(store: Store, access: Access, *, as_of: date | None = None, settings: Settings | None = None,
                q: LedgerQuery | None = None) -> pd.DataFrame:
    """Every ledger row ``access`` may read (and ``q`` selects, when given), in hazard-id order."""
    lf = ledger(store, as_of=as_of, settings=settings)
    return lf.frame[lf.mask(q or LedgerQuery(), access)]


def query_ledger(store: Store, access: Access, q: LedgerQuery, *, as_of: date | None = None,
                 settings: Settings | None = None) -> tuple[pd.DataFrame, int]:
    """One page of the ledger for ``q``, narrowed to what ``access`` may read (by the target's district and
    town, whatever ``q`` names), and the number of rows selected. A page past the end is empty."""
    return ledger(store, as_of=as_of, settings=settings).query(q, access)


# --------------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------------

def missing_label(keys: object, lang: str = "zh") -> str:
    """The missing elements as words ('、'-separated in zh)."""
    if not isinstance(keys, (tuple, list)) or not keys:
        return ""
    sep = "、" if lang != "en" else ", "
    return sep.join(label(FIVE_IN_PLACE, k, lang) for k in keys)


def labelled(frame: pd.DataFrame, lang: str = "zh", columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The ledger rows for people: values as words, headers in ``lang`` (zh default), ``columns`` in order
    (default: every column of :data:`COLUMNS` the frame has)."""
    cols = [c for c in (columns or tuple(COLUMNS)) if c in frame.columns]
    out = pd.DataFrame(index=frame.index)
    yes, no = ("是", "否") if lang != "en" else ("yes", "no")

    def word(mapping: dict) -> object:
        return lambda v: label(mapping, v, lang) if isinstance(v, str) else ""

    words = {"status": word(HAZARD_STATUS), "level": word(HAZARD_LEVELS), "industry": word(INDUSTRIES),
             "enterprise_state": word(ENTERPRISE_STATUS), "bucket": lambda v: bucket_label(v, lang),
             "missing": lambda v: missing_label(v, lang),
             "target_layer": lambda v: (LAYERS[v].en if lang == "en" else LAYERS[v].zh) if v in LAYERS else "",
             "listed": lambda v: yes if v is True or v == 1 else no, "repeat": lambda v: yes if v is True or v == 1
             else no}
    for c in cols:
        s = frame[c]
        if c in ("department_name", "district_name", "town_name") and lang == "en" and c + "_en" in frame.columns:
            s = frame[c + "_en"].where(frame[c + "_en"].notna(), s)
        if c in words:
            s = pd.Series(s.astype(object).to_numpy(), index=frame.index, dtype=object).map(words[c])
        elif pd.api.types.is_datetime64_any_dtype(s):
            s = s.dt.strftime("%Y-%m-%d").astype(object).where(s.notna(), "")
        elif not pd.api.types.is_numeric_dtype(s):
            s = s.astype(object).where(s.notna(), "")
        out[COLUMNS[c][1] if lang == "en" else COLUMNS[c][0]] = s.to_numpy()
    return out.reset_index(drop=True)


__all__ = ["LedgerFrame", "LedgerQuery", "ledger", "ledger_frame", "ledger_rows", "query_ledger", "labelled", "COLUMNS",
           "SORTABLE", "PAGE_SIZES", "BUCKET_FILTERS", "MISSING_FILTERS", "normalise_text", "missing_label"]
