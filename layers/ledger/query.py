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
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from urllib.parse import parse_qs, urlencode

import numpy as np
import pandas as pd
import shapely

from layers.access.policy import Access
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


def _officers(store: Store, layer: np.ndarray, oid: np.ndarray, dept: np.ndarray) -> np.ndarray:
    """The officer of (target, department) in ``responsibilities`` (None when there is no such link)."""
    resp = cached_read(store, "responsibilities", columns=["target_layer", "target_id", "department_id", "officer"])
    if len(resp) == 0:
        return np.full(len(layer), None, dtype=object)
    r = pd.DataFrame({"target_layer": resp["target_layer"].astype(object), "target_id": resp["target_id"].astype(
        str), "department": _text(resp["department_id"]), "officer": _text(resp["officer"])})
    r = r.dropna(subset=["department"]).sort_values("officer", na_position="last").drop_duplicates(
        ["target_layer", "target_id", "department"])
    left = pd.DataFrame({"target_layer": layer, "target_id": oid, "department": dept})
    return left.merge(r, on=["target_layer", "target_id", "department"], how="left")["officer"].to_numpy(
        dtype=object)


def _enterprise_states(store: Store, objects: pd.DataFrame, as_of: date) -> np.ndarray:
    """Per object: suspended | closed | None."""
    out = np.full(len(objects), None, dtype=object)
    ent = objects["target_layer"].to_numpy() == "enterprises"
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


def _rank(values: object) -> np.ndarray:
    """Dense rank of each value in sorted order (-1 for missing)."""
    s = pd.Series(values)
    if s.dtype == bool:
        return s.to_numpy().astype(np.int32)
    codes, _ = pd.factorize(s, sort=True, use_na_sentinel=True)
    return codes.astype(np.int32)


def _encode(values: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    return codes.astype(np.int32), {str(u): i for i, u in enumerate(uniques)}


_MISSING_TABLE = np.empty(32, dtype=object)
for _m in range(32):
    _MISSING_TABLE[_m] = tuple(k for i, k in enumerate(FIVE) if _m & (1 << i))


def _build(store: Store, as_of: date, settings: Settings, key: tuple) -> LedgerFrame:
    hz = cached_read(store, "hazards")
    h = pd.DataFrame(hz.drop(columns=["geometry", "district_code"], errors="ignore")).reset_index(drop=True)
    hx, hy = _points(hz)
    h["id"] = h["id"].astype(str)
    h["target_id"] = h["target_id"].astype(str)
    order = np.argsort(h["id"].to_numpy(dtype=object), kind="stable")     # row position = hazard-id order
    h = h.iloc[order].reset_index(drop=True)
    hx, hy = hx[order], hy[order]

    objects = _objects(store)
    pos = _target_positions(h, objects)
    known = pos >= 0

    def gather(col: str) -> np.ndarray:
        src = objects[col].to_numpy(dtype=object)
        out = np.full(len(h), None, dtype=object)
        out[known] = src[pos[known]]
        return out

    areas = {}
    for layer_name in ("districts", "towns"):
        a = cached_read(store, layer_name, columns=["code", "name", "name_en"])
        areas[layer_name] = (dict(zip(a["code"].astype(str), a["name"].astype(object), strict=False)),
                             dict(zip(a["code"].astype(str), a["name_en"].astype(object), strict=False)))
    for src, dst in (("name", "target_name"), ("credit_code", "credit_code"), ("industry", "industry"),
                     ("kind", "kind"), ("grade", "grade"), ("address", "address"),
                     ("district_code", "district_code"), ("town_code", "town_code")):
        h[dst] = gather(src)
    for code, layer_name, dst in (("district_code", "districts", "district_name"),
                                  ("town_code", "towns", "town_name")):
        zh, en = areas[layer_name]
        h[dst] = h[code].astype(object).map(zh).to_numpy(dtype=object)
        h[dst + "_en"] = h[code].astype(object).map(en).to_numpy(dtype=object)
    ox = np.full(len(h), np.nan)
    oy = np.full(len(h), np.nan)
    ox[known] = objects["x"].to_numpy()[pos[known]]
    oy[known] = objects["y"].to_numpy()[pos[known]]
    h["x"] = np.where(np.isnan(hx), ox, hx)
    h["y"] = np.where(np.isnan(hy), oy, hy)

    own = _text(h["department_id"]) if "department_id" in h else np.full(len(h), None, dtype=object)
    lead = np.full(len(h), None, dtype=object)
    lead[known] = _lead_departments(store, objects)[pos[known]]
    dept = np.where(pd.isna(own), lead, own)
    h["department"] = dept
    depts = cached_read(store, "departments", columns=["id", "name", "name_en"])
    names = dict(zip(depts["id"].astype(str), depts["name"].astype(object), strict=False))
    names_en = dict(zip(depts["id"].astype(str), depts["name_en"].astype(object), strict=False))
    h["department_name"] = pd.Series(dept, dtype=object).map(names).to_numpy(dtype=object)
    h["department_name_en"] = pd.Series(dept, dtype=object).map(names_en).to_numpy(dtype=object)
    h["officer"] = _officers(store, h["target_layer"].astype(object).to_numpy(), h["target_id"].to_numpy(), dept)

    status = h["status"].astype(object).to_numpy()
    closed = status == "closed"
    dl = days_left(h["deadline"], as_of)
    dl[closed] = np.nan
    h["days_left"] = pd.array(np.where(np.isnan(dl), np.nan, dl), dtype="Int64") if len(h) else \
        pd.array([], dtype="Int64")
    bucket = bucket_of(dl, status)
    h["bucket"] = bucket
    h["overdue"] = ~closed & (dl < 0)
    h["unclosed"] = ~closed

    mm = np.zeros(len(h), dtype=np.uint8)
    for i, k in enumerate(FIVE):
        present = h[k].fillna(False).to_numpy(dtype=bool) if k in h else np.zeros(len(h), bool)
        detail = DETAILS.get(k)
        if detail in h:
            d = h[detail]
            filled = d.notna().to_numpy(dtype=bool).copy()
            if not pd.api.types.is_numeric_dtype(d) and not pd.api.types.is_datetime64_any_dtype(d):
                filled &= d.astype(str).str.strip().ne("").to_numpy(dtype=bool)
            present = present | filled
        mm |= (~present).astype(np.uint8) << np.uint8(i)
    h["missing_mask"] = mm
    h["missing"] = _MISSING_TABLE[mm]
    h["n_missing"] = np.unpackbits(mm[:, None], axis=1)[:, 3:].sum(axis=1).astype(np.int8) if len(h) else \
        np.zeros(0, np.int8)

    accidents = cached_read(store, "accidents", columns=["enterprise_id", "date", "kind"])
    rep = repeat_offenders(h[["target_layer", "target_id", "type", "found_date"]], accidents, as_of=as_of,
                           settings=settings)
    obj_repeat = np.zeros(len(objects) + 1, dtype=bool)
    rpos = _target_positions(rep, objects)
    obj_repeat[rpos[rpos >= 0]] = True
    h["repeat"] = obj_repeat[pos]         # pos -1 -> the extra False at the end
    state = np.full(len(h), None, dtype=object)
    state[known] = _enterprise_states(store, objects, as_of)[pos[known]]
    h["enterprise_state"] = state
    h["listed"] = h["listed"].fillna(False).astype(bool) if "listed" in h else False

    codes, vocab = {}, {}
    for c in _CODED:
        codes[c], vocab[c] = _encode(h[c].to_numpy(dtype=object))
    found = pd.to_datetime(h["found_date"], errors="coerce").to_numpy(dtype="datetime64[D]")
    found_day = np.where(np.isnat(found), np.nan, (found - np.datetime64("1970-01-01", "D")) /
                         np.timedelta64(1, "D")).astype(float)
    obj_text = np.array([normalise_text(f"{_str(n)}\x1f{_str(c)}") for n, c in
                         zip(objects["name"].tolist(), objects["credit_code"].tolist(), strict=True)], dtype=str)
    ranks = {}
    for c in SORTABLE:
        ranks[c] = _rank(h[c]) if c != "id" else np.arange(len(h), dtype=np.int32)
    for a in (*codes.values(), found_day, mm, pos, obj_text):
        a.flags.writeable = False
    return LedgerFrame(key=key, as_of=as_of, frame=h, codes=codes, vocab=vocab, found_day=found_day,
                       missing_mask=mm, flags={"listed": h["listed"].to_numpy(dtype=bool),
                                               "repeat": h["repeat"].to_numpy(dtype=bool)},
                       target_pos=pos, object_text=obj_text, ranks=ranks)


# --------------------------------------------------------------------------------------------------
# The cache: one build per key, newest data version only
# --------------------------------------------------------------------------------------------------

_CACHE: OrderedDict[tuple, LedgerFrame] = OrderedDict()
_BUILDING: dict[tuple, threading.Lock] = {}
_LOCK = threading.Lock()
#: builds kept (several as-of dates or stores); older data versions of a store are dropped at once
_CACHE_SIZE = 3


def _key(store: Store, as_of: date, settings: Settings) -> tuple:
    return (store.url, store.data_version(), as_of.isoformat(), tuple(getattr(settings, k) for k in _REPEAT_KEYS))


def ledger(store: Store, *, as_of: date | None = None, settings: Settings | None = None) -> LedgerFrame:
    """The ledger of ``store`` as of ``as_of`` (default today), built once per (store, data version, as-of date,
    repeat settings); concurrent callers of a cold key wait for one build."""
    settings = settings or Settings.from_env()
    as_of = as_of or date.today()
    key = _key(store, as_of, settings)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
        building = _BUILDING.setdefault(key, threading.Lock())
    try:
        with building:
            with _LOCK:
                hit = _CACHE.get(key)
            if hit is not None:
                return hit
            built = _build(store, as_of, settings, key)
            with _LOCK:
                for old in [k for k in _CACHE if k[0] == key[0] and k[1] != key[1]]:
                    del _CACHE[old]       # an older data version of this store: never asked again
                _CACHE[key] = built
                while len(_CACHE) > _CACHE_SIZE:
                    _CACHE.popitem(last=False)
            return built
    finally:
        with _LOCK:
            if _BUILDING.get(key) is building:
                del _BUILDING[key]


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
