"""Area figures and the risk index for the map page: what a leader asks of a city, a district or a town.

Pure pandas/geopandas; no Dash. Three steps:

1. :func:`load_city` reads every layer once per store data version (cached) and joins what the map and the
   panel need onto each object: last inspection, open hazards, supervising department and officer, the town
   of objects that carry none (spatial join), pipeline lengths in a metric CRS (UTM zone of the data).
2. :func:`select` narrows the city to an area and filters (district, town, industry, grade, hazard status)
   with boolean masks: cheap enough for every callback.
3. :func:`area_figures`, :func:`risk_index` and :func:`object_detail` turn a selection into numbers.

Dates: "as of" is the store's latest inspection date (see :attr:`City.as_of`), so an imported snapshot or
the demo city gives the same figures whatever day it is opened; the page prints that date.

Risk index of an area (district or town), weights from ``Settings.risk_index_weights``::

    score = Σ_grade w[grade_enterprise] · enterprises of that grade
          + w[open_major_hazard] · open major hazards + w[open_general_hazard] · open general hazards
          + w[overdue_hazard] · overdue hazards (counted on top of the two terms before)
          + w[bridge_tunnel_class45] · bridges and tunnels in condition class 4 or 5
          + w[venue_per_1000_capacity] · crowded-venue capacity / 1000
          + w[gas_high_km] · km of high-pressure gas pipeline
    index = 100 · score / max(score over the areas of the same level in view)
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.cache import StoreCache
from layers.errors import RiskMapError
from layers.schema import (
    CONDITION_CLASSES,
    GRADE_ORDER,
    HAZARD_STATUS,
    OBJECT_LAYERS,
    PRESSURE_CLASSES,
    VENUE_KINDS,
)
from layers.store import Store, cached_read

#: point layers drawn on the map (besides enterprises) and line layers, in drawing order
POINT_LAYERS = ("gas_stations", "rail_stations", "venues", "resources", "flood_points")
LINE_LAYERS = ("gas_pipelines", "bridges", "tunnels", "rail_lines")
BASE_LAYERS = ("water", "roads")
#: hazard status filter values: the stored statuses plus "overdue" (not closed, deadline passed)
HAZARD_FILTERS = (*HAZARD_STATUS, "overdue")
DEFAULT_HAZARD_STATUS = ("open", "rectifying", "awaiting_check", "rejected")
LEVELS = ("city", "district", "town")


# --------------------------------------------------------------------------------------------------
# Filters and selections
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """What the user asked to see. ``districts`` is the already-scoped list (``context.scope``); None = city.

    ``hazard_status`` empty means the unclosed hazards (:data:`DEFAULT_HAZARD_STATUS`). Industry and grade
    narrow enterprises and the hazards and inspections of enterprises (other objects drop out while either
    is set); hazard status narrows hazards only.
    """

    districts: tuple[str, ...] | None = None
    town: str | None = None
    industries: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()
    hazard_status: tuple[str, ...] = ()

    @classmethod
    def make(cls, *, districts: Iterable[str] | None = None, town: str | None = None,
             industries: Iterable[str] | None = None, grades: Iterable[str] | None = None,
             hazard_status: Iterable[str] | None = None) -> Filters:
        """Normalised filters (sorted tuples, empty strings dropped) so equal asks hash equal."""
        def tup(v: Iterable[str] | None) -> tuple[str, ...]:
            return tuple(sorted({str(x) for x in (v or ()) if x}))
        return cls(districts=None if districts is None else tup(districts), town=town or None,
                   industries=tup(industries), grades=tup(grades), hazard_status=tup(hazard_status))

    def area_only(self) -> Filters:
        """The same area with no industry, grade or hazard-status filter: what a risk index is computed on (the
        index is a property of the area, not of what the user chose to show)."""
        return Filters(districts=self.districts, town=self.town)

    @property
    def level(self) -> str:
        if self.town:
            return "town"
        if self.districts is not None and len(self.districts) == 1:
            return "district"
        return "city"

    @property
    def statuses(self) -> tuple[str, ...]:
        return self.hazard_status or DEFAULT_HAZARD_STATUS


@dataclass
class City:
    """Every layer, read and joined once per data version. Do not modify (shared by callbacks)."""

    url: str
    version: int
    as_of: pd.Timestamp | None
    districts: gpd.GeoDataFrame
    towns: gpd.GeoDataFrame
    objects: dict[str, pd.DataFrame]        # OBJECT_LAYERS + other point layers, with x, y, town_code
    hazards: pd.DataFrame                   # with x, y, town_code, industry, grade, overdue
    inspections: pd.DataFrame               # with district_code, town_code, industry, grade
    lines: dict[str, gpd.GeoDataFrame]      # LINE_LAYERS + BASE_LAYERS with bounds columns
    bounds: tuple[float, float, float, float]
    lat0: float
    metric_epsg: int
    extra: dict = field(default_factory=dict)


@dataclass
class Selection:
    """A city narrowed to an area and filters (rows are views of :class:`City` frames)."""

    city: City
    filters: Filters
    level: str
    bounds: tuple[float, float, float, float]
    districts: gpd.GeoDataFrame             # the districts in view (one when level is district/town)
    towns: gpd.GeoDataFrame                 # the towns in view
    objects: dict[str, pd.DataFrame]
    hazards: pd.DataFrame
    inspections: pd.DataFrame
    lines: dict[str, gpd.GeoDataFrame]

    @property
    def enterprises(self) -> pd.DataFrame:
        return self.objects["enterprises"]


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------

def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS-84 UTM zone holding (lon, lat), e.g. 32650 for lon 114.3 north."""
    zone = int(math.floor((lon + 180.0) / 6.0)) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone


#: the newest city of each store (a new data version drops the older one before it is built), two stores at most
_CITIES: StoreCache[City] = StoreCache("city", maxsize=2)


def load_city(store: Store) -> City:
    """The whole city, cached per (store identity, data version) (:mod:`layers.cache`): a new import is seen at
    the next call, concurrent cold callers wait for one build, and the older version is let go."""
    version = store.data_version()
    return _CITIES.get(store, lambda: _load_city(store, version), version=version)


def _load_city(store: Store, version: int) -> City:
    districts = cached_read(store, "districts").reset_index(drop=True)
    towns = cached_read(store, "towns").reset_index(drop=True)
    if len(districts) == 0:
        raise RiskMapError("存储中没有区县边界，请先导入区县图层 (the store has no districts; import the districts layer "
                           "first, e.g. python -m layers demo)")
    bounds = tuple(float(v) for v in districts.total_bounds)
    lat0 = (bounds[1] + bounds[3]) / 2
    epsg = utm_epsg((bounds[0] + bounds[2]) / 2, lat0)

    objects: dict[str, pd.DataFrame] = {}
    for name in (*OBJECT_LAYERS, "rail_stations", "resources", "flood_points"):
        frame = cached_read(store, name)
        objects[name] = _with_xy(frame, towns, districts)

    inspections = cached_read(store, "inspections")
    hazards = cached_read(store, "hazards")
    as_of = pd.Timestamp(inspections["date"].max()).normalize() if len(inspections) and \
        inspections["date"].notna().any() else None
    index = _object_index(objects)
    inspections = _with_target(inspections, index)
    hazards = _hazards(hazards, index, as_of, towns, districts)
    _enrich_objects(objects, store, inspections, hazards)
    _enforcement_flags(objects, store, hazards, as_of)

    lines: dict[str, gpd.GeoDataFrame] = {}
    for name in (*LINE_LAYERS, *BASE_LAYERS):
        g = cached_read(store, name)
        g = g[~g.geometry.is_empty & g.geometry.notna()].reset_index(drop=True) if len(g) else g
        b = shapely.bounds(np.asarray(g.geometry.values)) if len(g) else np.empty((0, 4))
        g = g.assign(minx=b[:, 0], miny=b[:, 1], maxx=b[:, 2], maxy=b[:, 3])
        if name == "gas_pipelines":
            g = g.assign(length_km=g.geometry.to_crs(epsg).length.to_numpy() / 1000.0 if len(g) else [])
            mid = shapely.line_interpolate_point(np.asarray(g.geometry.values), 0.5, normalized=True)
            g = g.assign(town_code=_town_of(mid, towns), district_code=g["district_code"].where(
                g["district_code"].notna(), pd.Series(_district_of(mid, districts), index=g.index)))
        lines[name] = g
    # bridges and tunnels are objects (inspected, hazards) drawn as lines: give the line frames the joins
    for name in ("bridges", "tunnels"):
        if name in lines and len(lines[name]):
            cols = ["id", "last_inspection", "open_hazards", "open_major", "department", "department_en", "officer"]
            lines[name] = lines[name].merge(objects[name][cols], on="id", how="left")
    # rows in area order: a district's (and a town's) rows are one run, so a drill-down selects a slice
    objects = {name: _area_ordered(f) for name, f in objects.items()}
    for name in AREA_LINES:
        if name in lines:
            lines[name] = _area_ordered(lines[name])
    return City(url=store.url, version=version, as_of=as_of, districts=districts, towns=towns, objects=objects,
                hazards=_area_ordered(hazards), inspections=_area_ordered(inspections), lines=lines, bounds=bounds,
                lat0=lat0, metric_epsg=epsg)


#: the line layers selected by district and town (the others by the view's bounds)
AREA_LINES = ("gas_pipelines", "bridges", "tunnels")


def _area_ordered(f: pd.DataFrame) -> pd.DataFrame:
    """``f`` ordered by district and town code (stable: within a town, and so within one object's rows, the order
    read stays), positions as labels. Rows without a code come last."""
    keys = [c for c in ("district_code", "town_code") if c in f.columns]
    if not keys or len(f) < 2:
        return f
    return f.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)


def _spans(city: City, name: str, f: pd.DataFrame) -> tuple[dict, dict] | None:
    """Where each district's and each (district, town)'s rows of ``f`` lie, as ``{code: (start, stop)}`` and
    ``{(district, town): (start, stop)}``, when every one is a single run (:func:`_area_ordered`); None otherwise
    (a frame not in area order: select by mask). Kept on the city per frame."""
    key = ("spans", name)
    hit = city.extra.get(key)
    if hit is not None and hit[0] is f:
        return hit[1]
    out = None
    if "district_code" in f.columns and len(f):
        dcode, duniq = pd.factorize(f["district_code"], use_na_sentinel=True)
        tcode, tuniq = pd.factorize(f["town_code"], use_na_sentinel=True) if "town_code" in f.columns else \
            (np.full(len(f), -1), [])
        out = (_runs(dcode, list(duniq)), _runs(dcode * (len(tuniq) + 1) + (tcode + 1),
                                                [(d, t) for d in duniq for t in (None, *tuniq)]))
        if out[0] is None or out[1] is None:
            out = None
    city.extra[key] = (f, out)
    return out


def _runs(codes: np.ndarray, labels: list) -> dict | None:
    """``{label: (start, stop)}`` for integer ``codes`` (negative: no label) when each code is one run; else None."""
    codes = np.asarray(codes)
    starts = np.concatenate([[0], np.flatnonzero(codes[1:] != codes[:-1]) + 1])
    stops = np.concatenate([starts[1:], [len(codes)]])
    vals = codes[starts]
    keep = vals >= 0
    if len(np.unique(vals[keep])) != int(keep.sum()):
        return None
    return {labels[v]: (int(a), int(b)) for v, a, b in zip(vals[keep], starts[keep], stops[keep], strict=True)}


def _keep(f: pd.DataFrame, m: pd.Series | np.ndarray) -> pd.DataFrame:
    """``f[m]``, or ``f`` itself when ``m`` keeps every row (no copy)."""
    m = np.asarray(m, dtype=bool)
    return f if m.all() else f[m]


def _district_of(points: np.ndarray, districts: gpd.GeoDataFrame) -> np.ndarray:
    return _area_of(points, districts)


def _town_of(points: np.ndarray, towns: gpd.GeoDataFrame) -> np.ndarray:
    return _area_of(points, towns)


def _area_of(points: np.ndarray, areas: gpd.GeoDataFrame) -> np.ndarray:
    """Code of the area polygon holding each point (None outside every area or for missing points)."""
    out = np.full(len(points), None, dtype=object)
    if len(points) == 0 or len(areas) == 0:
        return out
    ok = ~shapely.is_missing(points) & ~shapely.is_empty(points)
    tree = shapely.STRtree(np.asarray(areas.geometry.values))
    pi, ai = tree.query(points[ok], predicate="intersects")
    idx = np.flatnonzero(ok)
    codes = areas["code"].to_numpy(dtype=object)
    # a point on a shared boundary: the first area wins (stable)
    first = pd.Series(ai).groupby(pi).min() if len(pi) else pd.Series(dtype=int)
    out[idx[first.index.to_numpy()]] = codes[first.to_numpy()]
    return out


def _with_xy(frame: pd.DataFrame, towns: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> pd.DataFrame:
    """Plain DataFrame with x, y (a representative point for lines) and district/town codes filled in."""
    geoms = np.asarray(frame.geometry.values) if isinstance(frame, gpd.GeoDataFrame) else \
        np.full(len(frame), None, dtype=object)
    pts = np.full(len(frame), None, dtype=object)
    ok = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms) if len(geoms) else np.zeros(0, bool)
    if ok.any():
        g = geoms[ok]
        is_pt = shapely.get_type_id(g) == 0
        rep = g.copy()
        if (~is_pt).any():
            rep[~is_pt] = shapely.line_interpolate_point(g[~is_pt], 0.5, normalized=True) \
                if (shapely.get_type_id(g[~is_pt]) == 1).all() else shapely.point_on_surface(g[~is_pt])
        pts[ok] = rep
    out = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    out["x"] = shapely.get_x(pts.astype(object)) if len(pts) else np.empty(0)
    out["y"] = shapely.get_y(pts.astype(object)) if len(pts) else np.empty(0)
    if "town_code" not in out.columns:
        out["town_code"] = _town_of(pts, towns)
    else:
        missing = out["town_code"].isna().to_numpy()
        if missing.any():
            out.loc[missing, "town_code"] = _town_of(pts[missing], towns)
    if "district_code" not in out.columns:
        out["district_code"] = _district_of(pts, districts)
    else:
        missing = out["district_code"].isna().to_numpy()
        if missing.any():
            out.loc[missing, "district_code"] = _district_of(pts[missing], districts)
    return out.reset_index(drop=True)


def _object_index(objects: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    parts = []
    for name in OBJECT_LAYERS:
        f = objects[name]
        parts.append(pd.DataFrame({
            "target_layer": name, "target_id": f["id"].astype(str), "obj_name": f["name"],
            "obj_district": f["district_code"], "obj_town": f["town_code"],
            "industry": f["industry"] if "industry" in f else None,
            "grade": f["grade"] if "grade" in f else None, "obj_x": f["x"], "obj_y": f["y"]}))
    return pd.concat(parts, ignore_index=True).drop_duplicates(["target_layer", "target_id"])


def _with_target(frame: pd.DataFrame, index: pd.DataFrame) -> pd.DataFrame:
    """A row belongs to the district and town of the object it names; its own district code counts only when
    it names no known object."""
    out = frame.merge(index, on=["target_layer", "target_id"], how="left")
    if "district_code" in out.columns:
        out["district_code"] = out["obj_district"].where(out["obj_district"].notna(), out["district_code"])
    else:
        out["district_code"] = out["obj_district"]
    out["town_code"] = out["obj_town"]
    return out


def _hazards(hazards: pd.DataFrame, index: pd.DataFrame, as_of: pd.Timestamp | None,
             towns: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> pd.DataFrame:
    geoms = np.asarray(hazards.geometry.values) if isinstance(hazards, gpd.GeoDataFrame) else \
        np.full(len(hazards), None, dtype=object)
    h = pd.DataFrame(hazards.drop(columns="geometry", errors="ignore"))
    h["x"] = shapely.get_x(geoms) if len(geoms) else np.empty(0)
    h["y"] = shapely.get_y(geoms) if len(geoms) else np.empty(0)
    h = _with_target(h, index)
    # a hazard without its own point is drawn at its object
    h["x"] = h["x"].where(h["x"].notna(), h["obj_x"])
    h["y"] = h["y"].where(h["y"].notna(), h["obj_y"])
    if h["town_code"].isna().any():
        miss = h["town_code"].isna().to_numpy() & h["x"].notna().to_numpy()
        pts = shapely.points(h.loc[miss, ["x", "y"]].to_numpy(dtype=float))
        h.loc[miss, "town_code"] = _town_of(pts, towns)
        dmiss = miss & h["district_code"].isna().to_numpy()
        if dmiss.any():
            h.loc[dmiss, "district_code"] = _district_of(
                shapely.points(h.loc[dmiss, ["x", "y"]].to_numpy(dtype=float)), districts)
    unclosed = h["status"].ne("closed")
    h["overdue"] = (unclosed & h["deadline"].notna() & (h["deadline"] < as_of)).astype(bool) \
        if as_of is not None else False
    h["unclosed"] = unclosed.astype(bool)
    return h.reset_index(drop=True)


def _enrich_objects(objects: dict[str, pd.DataFrame], store: Store, inspections: pd.DataFrame,
                    hazards: pd.DataFrame) -> None:
    """Add last_inspection, open_hazards, open_major, department (zh/en) and officer to every object layer."""
    last = inspections.groupby(["target_layer", "target_id"])["date"].max() if len(inspections) else None
    openh = hazards[hazards["unclosed"]]
    n_open = openh.groupby(["target_layer", "target_id"]).size() if len(openh) else None
    n_major = openh[openh["level"].eq("major")].groupby(["target_layer", "target_id"]).size() \
        if len(openh) else None
    resp = cached_read(store, "responsibilities")
    depts = cached_read(store, "departments")
    dept = None
    if len(resp):
        r = resp.merge(depts[["id", "name", "name_en"]].rename(
            columns={"id": "department_id", "name": "department", "name_en": "department_en"}),
            on="department_id", how="left")
        r["lead_rank"] = (~r["lead"].fillna(False).astype(bool)).astype(int)
        dept = r.sort_values(["target_layer", "target_id", "lead_rank"]).drop_duplicates(
            ["target_layer", "target_id"]).set_index(["target_layer", "target_id"])
    for name in OBJECT_LAYERS:
        f = objects[name]
        key = pd.MultiIndex.from_arrays([np.full(len(f), name, dtype=object), f["id"].astype(str).to_numpy()])
        f["last_inspection"] = last.reindex(key).to_numpy() if last is not None else pd.NaT
        f["last_inspection"] = pd.to_datetime(f["last_inspection"])
        f["open_hazards"] = n_open.reindex(key).fillna(0).astype(int).to_numpy() if n_open is not None else 0
        f["open_major"] = n_major.reindex(key).fillna(0).astype(int).to_numpy() if n_major is not None else 0
        if dept is not None:
            d = dept.reindex(key)
            f["department"] = d["department"].to_numpy()
            f["department_en"] = d["department_en"].to_numpy()
            f["officer"] = d["officer"].to_numpy()
        else:
            f["department"] = None
            f["department_en"] = None
            f["officer"] = None


def _enforcement_flags(objects: dict[str, pd.DataFrame], store: Store, hazards: pd.DataFrame,
                       as_of: pd.Timestamp | None) -> None:
    """``repeat_offender`` on every object layer (the same hazard type or accident kind again within the
    window, as of ``as_of``) and ``blacklisted`` (an entry in force on ``as_of``) on every object layer."""
    from layers.ledger.enforcement import blacklist_active
    from layers.ledger.repeat import repeat_keys
    from layers.settings import Settings

    day = as_of.date() if as_of is not None else date.today()
    accidents = cached_read(store, "accidents", columns=["enterprise_id", "kind", "date"])
    repeat = repeat_keys(hazards, accidents, as_of=day, settings=Settings.from_env())
    black = blacklist_active(store, day)
    black_keys = set((black["target_layer"].astype(str) + ":" + black["target_id"].astype(str)).tolist()) \
        if len(black) else set()
    for name in OBJECT_LAYERS:
        f = objects[name]
        keys = (name + ":" + f["id"].astype(str)).to_numpy(dtype=object)
        f["repeat_offender"] = np.isin(keys, list(repeat)) if repeat else np.zeros(len(f), dtype=bool)
        f["blacklisted"] = np.isin(keys, list(black_keys)) if black_keys else np.zeros(len(f), dtype=bool)


# --------------------------------------------------------------------------------------------------
# Selecting
# --------------------------------------------------------------------------------------------------

#: selections kept per city (the last ones asked for): a page's view and its risk index select the same area
SELECT_MEMO = 4
_SELECT_LOCK = threading.Lock()


def select(city: City, filters: Filters) -> Selection:
    """The city narrowed to ``filters`` (boolean masks; no copies of geometry). The last :data:`SELECT_MEMO`
    selections are kept on the city (so per data version): the map's view of a district and its towns' risk index
    ask for the same one. A Selection is never modified by its users."""
    with _SELECT_LOCK:
        memo = city.extra.setdefault(("select",), OrderedDict())
        hit = memo.get(filters)
        if hit is not None:
            memo.move_to_end(filters)
            return hit
    sel = _select(city, filters)
    with _SELECT_LOCK:
        memo[filters] = sel
        while len(memo) > SELECT_MEMO:
            memo.popitem(last=False)
    return sel


def _select(city: City, filters: Filters) -> Selection:
    fl = filters
    if fl.districts is not None:
        unknown = sorted(set(fl.districts) - set(city.districts["code"]))
        if unknown:
            raise RiskMapError(f"区县代码 {unknown} 不存在 (district codes {unknown} are not in the store)")
    districts = city.districts if fl.districts is None else city.districts[city.districts["code"].isin(
        fl.districts)]
    towns = city.towns if fl.districts is None else city.towns[city.towns["district_code"].isin(fl.districts)]
    if fl.town:
        towns = towns[towns["code"] == fl.town]
        if len(towns) == 0:
            raise RiskMapError(f"镇街 {fl.town} 不在所选区县内 (town {fl.town} is not in the selected districts)")
    area = towns if fl.town else districts
    bounds = tuple(float(v) for v in area.total_bounds) if len(area) else city.bounds

    def in_area(f: pd.DataFrame) -> pd.Series:
        m = pd.Series(True, index=f.index)
        if fl.districts is not None:
            m &= f["district_code"].isin(fl.districts)
        if fl.town:
            m &= f["town_code"].eq(fl.town)
        return m

    def area_rows(name: str, f: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``f`` in the area: slices of the city's frame (no copy for one district or town)."""
        if fl.districts is None and not fl.town:
            return f
        sp = _spans(city, name, f) if fl.districts is not None else None
        if sp is None:
            return f[in_area(f)]
        ranges = sorted(r for r in ((sp[1].get((d, fl.town)) if fl.town else sp[0].get(d))
                                    for d in set(fl.districts)) if r is not None)
        if len(ranges) == 1:
            return f.iloc[ranges[0][0]:ranges[0][1]]
        return f.iloc[np.concatenate([np.arange(a, b) for a, b in ranges])] if ranges else f.iloc[0:0]

    by_attr = bool(fl.industries or fl.grades)
    objects: dict[str, pd.DataFrame] = {}
    for name, f in city.objects.items():
        f = area_rows(name, f)
        if name == "enterprises":
            m = np.ones(len(f), dtype=bool)
            if fl.industries:
                m &= f["industry"].isin(fl.industries).to_numpy()
            if fl.grades:
                m &= f["grade"].isin(fl.grades).to_numpy()
            f = _keep(f, m)
        elif by_attr and name in OBJECT_LAYERS:
            f = f.iloc[0:0]
        objects[name] = f

    def attr_rows(name: str, f: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        f = area_rows(name, f)
        m = np.ones(len(f), dtype=bool)
        if by_attr:
            m &= f["target_layer"].eq("enterprises").to_numpy()
            if fl.industries:
                m &= f["industry"].isin(fl.industries).to_numpy()
            if fl.grades:
                m &= f["grade"].isin(fl.grades).to_numpy()
        return f, m

    h, hm = attr_rows("hazards", city.hazards)
    statuses = set(fl.statuses)
    sm = h["status"].isin(statuses - {"overdue"}).to_numpy()
    if "overdue" in statuses:
        sm = sm | h["overdue"].to_numpy(dtype=bool)
    hazards = _keep(h, hm & sm)
    insp, im = attr_rows("inspections", city.inspections)
    inspections = _keep(insp, im)

    lines: dict[str, gpd.GeoDataFrame] = {}
    minx, miny, maxx, maxy = bounds
    for name, g in city.lines.items():
        if name in AREA_LINES:
            g = area_rows("lines:" + name, g) if ("town_code" in g or not fl.town) else g
            if by_attr and name in ("bridges", "tunnels"):
                g = g.iloc[0:0]
            lines[name] = g
        else:   # rail lines and the basemap: what crosses the view
            lines[name] = _keep(g, (g["maxx"] >= minx) & (g["minx"] <= maxx) & (g["maxy"] >= miny)
                                & (g["miny"] <= maxy))
    return Selection(city=city, filters=fl, level=fl.level, bounds=bounds, districts=districts, towns=towns,
                     objects=objects, hazards=hazards, inspections=inspections, lines=lines)


# --------------------------------------------------------------------------------------------------
# Figures of an area
# --------------------------------------------------------------------------------------------------

def area_figures(sel: Selection, *, window_days: int = 30) -> dict:
    """The panel's numbers for a selection (plain Python values, JSON-able).

    Returns keys: ``as_of`` (ISO date or None), ``enterprises`` {grade: n, "total": n}, ``hazards``
    {"open", "major", "overdue", "shown"}, ``pipelines_km`` {pressure: km}, ``structures_45``
    {"bridges": n, "tunnels": n}, ``venues`` {kind: {"n", "capacity"}}, ``inspections_30d`` n,
    ``inspected_share_30d`` share of enterprises in the selection inspected in the window.
    """
    city = sel.city
    ent = sel.enterprises
    grades = ent["grade"].value_counts()
    by_grade = {g: int(grades.get(g, 0)) for g in GRADE_ORDER}
    h = sel.hazards
    unclosed = h[h["unclosed"]]
    pipes = sel.lines["gas_pipelines"]
    km = pipes.groupby("pressure")["length_km"].sum() if len(pipes) else pd.Series(dtype=float)
    s45 = {name: int(sel.lines[name]["condition_class"].isin(("4", "5")).sum()) if len(sel.lines[name]) else 0
           for name in ("bridges", "tunnels")}
    v = sel.objects["venues"]
    venues = {}
    if len(v):
        agg = v.groupby("kind").agg(n=("id", "size"), capacity=("capacity", "sum"))
        venues = {k: {"n": int(agg.loc[k, "n"]), "capacity": int(agg.loc[k, "capacity"] or 0)}
                  for k in VENUE_KINDS if k in agg.index}
    insp30 = 0
    share = None
    if city.as_of is not None:
        start = city.as_of - pd.Timedelta(days=window_days - 1)
        recent = sel.inspections[(sel.inspections["date"] >= start) & (sel.inspections["date"] <= city.as_of)]
        insp30 = int(len(recent))
        if len(ent):
            seen = recent.loc[recent["target_layer"].eq("enterprises"), "target_id"]
            share = float(ent["id"].isin(seen).mean())
    return {
        "as_of": city.as_of.date().isoformat() if city.as_of is not None else None,
        "level": sel.level,
        "enterprises": {**by_grade, "total": int(len(ent))},
        "hazards": {"open": int(len(unclosed)), "major": int(unclosed["level"].eq("major").sum()),
                    "overdue": int(unclosed["overdue"].sum()), "shown": int(len(h)),
                    "listed": int(unclosed["listed"].fillna(False).astype(bool).sum()) if "listed" in unclosed
                    else 0},
        "enforcement": _enforcement_figures(sel),
        "pipelines_km": {p: round(float(km.get(p, 0.0)), 3) for p in PRESSURE_CLASSES},
        "structures_45": s45,
        "venues": venues,
        "inspections_30d": insp30,
        "inspected_share_30d": share,
    }


def _enforcement_figures(sel: Selection) -> dict[str, int]:
    """Enterprises suspended, closed and blacklisted, and repeat offenders of any layer, in the selection."""
    ent = sel.enterprises
    status = ent["status"] if "status" in ent else pd.Series(dtype=object)

    def flagged(frame: pd.DataFrame, col: str) -> int:
        return int(frame[col].fillna(False).astype(bool).sum()) if col in frame and len(frame) else 0

    return {"suspended": int(status.eq("suspended").sum()), "closed": int(status.eq("closed").sum()),
            "blacklisted": flagged(ent, "blacklisted"),
            "repeat": sum(flagged(sel.objects[name], "repeat_offender") for name in OBJECT_LAYERS
                          if name in sel.objects)}


def risk_index(sel: Selection, *, weights: Mapping[str, float], level: str | None = None) -> pd.DataFrame:
    """Risk score and index (0–100) per area one level below the selection (districts at city level, towns
    inside a district or town). Columns: code, name, name_en, score, index and the terms of the formula.
    See the module docstring for the formula. Unknown weight names raise; missing ones count 0.
    """
    known = {f"{g}_enterprise" for g in GRADE_ORDER} | {"open_major_hazard", "open_general_hazard",
                                                          "overdue_hazard", "bridge_tunnel_class45",
                                                          "venue_per_1000_capacity", "gas_high_km"}
    unknown = sorted(set(weights) - known)
    if unknown:
        raise RiskMapError(f"风险指数权重名称未知：{unknown}，可选 {sorted(known)} "
                           f"(unknown risk index weights {unknown}; known: {sorted(known)})")
    level = level or ("district" if sel.level == "city" else "town")
    if level not in ("district", "town"):
        raise ValueError(f"level must be district or town, got {level!r}")
    areas = sel.districts if level == "district" else sel.towns
    key = "district_code" if level == "district" else "town_code"
    codes = areas["code"].astype(str).to_numpy()
    out = pd.DataFrame({"code": codes, "name": areas["name"].to_numpy(),
                        "name_en": areas["name_en"].to_numpy() if "name_en" in areas else None})

    def count(frame: pd.DataFrame, mask: pd.Series | None = None) -> np.ndarray:
        k = frame[key] if mask is None else frame[key][np.asarray(mask, dtype=bool)]   # one column, not the rows
        return k.value_counts().reindex(codes).fillna(0).to_numpy(dtype=float) if len(k) else \
            np.zeros(len(codes))

    ent = sel.enterprises
    for g in GRADE_ORDER:
        out[f"{g}_enterprise"] = count(ent, ent["grade"].eq(g))
    uh = sel.hazards[sel.hazards["unclosed"]]
    out["open_major_hazard"] = count(uh, uh["level"].eq("major"))
    out["open_general_hazard"] = count(uh, uh["level"].ne("major"))
    out["overdue_hazard"] = count(uh, uh["overdue"])
    s45 = pd.concat([sel.lines[n][[key, "condition_class"]] for n in ("bridges", "tunnels")
                     if len(sel.lines[n])] or [pd.DataFrame({key: [], "condition_class": []})])
    out["bridge_tunnel_class45"] = count(s45, s45["condition_class"].isin(("4", "5")))
    v = sel.objects["venues"]
    out["venue_per_1000_capacity"] = (v.groupby(key)["capacity"].sum().reindex(codes).fillna(0)
                                      .to_numpy(dtype=float) / 1000.0) if len(v) else np.zeros(len(codes))
    p = sel.lines["gas_pipelines"]
    p = p[p["pressure"].eq("high")]
    out["gas_high_km"] = p.groupby(key)["length_km"].sum().reindex(codes).fillna(0).to_numpy(dtype=float) \
        if len(p) else np.zeros(len(codes))
    score = np.zeros(len(codes))
    for term in sorted(known):
        score += float(weights.get(term, 0.0)) * out[term].to_numpy(dtype=float)
    out["score"] = score
    top = score.max() if len(score) else 0.0
    out["index"] = np.round(100.0 * score / top, 1) if top > 0 else 0.0
    return out


def area_risk_index(city: City, filters: Filters, *, weights: Mapping[str, float]) -> pd.DataFrame:
    """:func:`risk_index` of the area of ``filters`` (its industry, grade and status filters ignored: the index
    is a property of the area), computed once per city (so per data version), area and weights and kept in
    ``City.extra``: a drill-down to an area seen before, by anyone, does not count again. Do not modify it."""
    area = filters.area_only()
    key = ("risk_index", tuple(area.districts) if area.districts is not None else None, area.town,
           tuple(sorted((str(k), float(v)) for k, v in weights.items())))
    hit = city.extra.get(key)
    if hit is None:
        hit = city.extra[key] = risk_index(select(city, area), weights=weights)
    return hit


# --------------------------------------------------------------------------------------------------
# One object
# --------------------------------------------------------------------------------------------------

#: the object layers the map's search box looks in, in the order results are listed
SEARCH_LAYERS = ("enterprises", "venues", "gas_stations", "bridges", "tunnels")


def search_objects(city: City, text: str, *, districts: Iterable[str] | None = None,
                   towns: Iterable[str] | None = None, limit: int = 10) -> pd.DataFrame:
    """Objects whose name holds ``text`` (case-insensitive) or whose 统一社会信用代码 starts with it, within
    ``districts`` / ``towns`` (None: no narrowing; the caller passes the user's scope). Exact credit codes and
    names first, then names that start with the text, then the rest; at most ``limit`` rows (layer, id, name,
    credit_code, district_code, town_code, x, y)."""
    q = (text or "").strip()
    cols = ["layer", "id", "name", "credit_code", "district_code", "town_code", "x", "y"]
    if not q:
        return pd.DataFrame(columns=cols)
    qc = q.upper()
    dset = None if districts is None else set(districts)
    tset = None if towns is None else set(towns)
    parts = []
    for layer in SEARCH_LAYERS:
        f = city.objects.get(layer)
        if f is None or len(f) == 0:
            continue
        if dset is not None:
            f = f[f["district_code"].isin(dset)]
        if tset is not None and "town_code" in f.columns:
            f = f[f["town_code"].isin(tset)]
        name = f["name"].astype(str)
        hit = name.str.contains(q, case=False, regex=False)
        code = f["credit_code"].astype(object).where(f["credit_code"].notna(), "").astype(str).str.upper() \
            if "credit_code" in f.columns else pd.Series("", index=f.index)
        hit |= (code != "") & code.str.startswith(qc)
        g = f[hit]
        if len(g) == 0:
            continue
        rank = np.where((code[hit] == qc) | (name[hit] == q), 0, np.where(name[hit].str.startswith(q), 1, 2))
        out = pd.DataFrame({"layer": layer, "id": g["id"].astype(str).to_numpy(), "name": name[hit].to_numpy(),
                            "credit_code": code[hit].where(code[hit] != "", None).to_numpy(),
                            "district_code": g["district_code"].to_numpy(dtype=object),
                            "town_code": g["town_code"].to_numpy(dtype=object) if "town_code" in g.columns
                            else None, "x": g["x"].to_numpy(dtype=float), "y": g["y"].to_numpy(dtype=float),
                            "_rank": rank, "_order": SEARCH_LAYERS.index(layer)})
        parts.append(out)
    if not parts:
        return pd.DataFrame(columns=cols)
    res = pd.concat(parts, ignore_index=True).sort_values(["_rank", "_order", "name"], kind="stable")
    return res.head(int(limit))[cols].reset_index(drop=True)


def find_object(city: City, layer: str, object_id: str) -> pd.Series:
    """The row of one object (with x, y and the joins); RiskMapError when there is none."""
    if layer not in city.objects:
        raise RiskMapError(f"没有对象图层 {layer!r} (no object layer {layer!r}; known: {sorted(city.objects)})")
    f = city.objects[layer]
    key = ("ids", layer)
    if key not in city.extra:   # id -> row position, once per data version
        city.extra[key] = {k: i for i, k in enumerate(f["id"].astype(str).tolist())}
    pos = city.extra[key].get(str(object_id))
    if pos is None:
        raise RiskMapError(f"{layer} 中没有编号 {object_id!r} (no {layer} with id {object_id!r})")
    return f.iloc[pos]


def find_hazard(city: City, hazard_id: str) -> pd.Series:
    """The row of one hazard (with its target's name, district, town and the overdue flag)."""
    h = city.hazards
    if ("ids", "hazards") not in city.extra:
        city.extra[("ids", "hazards")] = {k: i for i, k in enumerate(h["id"].astype(str).tolist())}
    pos = city.extra[("ids", "hazards")].get(str(hazard_id))
    if pos is None:
        raise RiskMapError(f"没有编号为 {hazard_id!r} 的隐患 (no hazard with id {hazard_id!r})")
    return h.iloc[pos]


def object_detail(store: Store, city: City, layer: str, object_id: str, *, radius_m: float = 1000.0,
                  districts: Iterable[str] | None = None, towns: Iterable[str] | None = None) -> dict:
    """Everything about one object: its row, hazards (newest first, with history by status), inspections,
    accidents, responsibilities (departments and officers) and the objects within ``radius_m`` that lie in
    ``districts`` and ``towns`` (None = any: pass the reader's area, so the surroundings show nobody else's
    objects).

    Values are pandas frames and a Series; the caller turns them into a page.
    """
    row = find_object(city, layer, object_id)
    oid = str(object_id)
    h = city.hazards
    hazards = h[(h["target_layer"] == layer) & (h["target_id"].astype(str) == oid)].sort_values(
        "found_date", ascending=False)
    insp = city.inspections
    inspections = insp[(insp["target_layer"] == layer) & (insp["target_id"].astype(str) == oid)].sort_values(
        "date", ascending=False)
    accidents = pd.DataFrame()
    if layer == "enterprises":
        acc = cached_read(store, "accidents")
        accidents = pd.DataFrame(acc[acc["enterprise_id"].astype(str) == oid].drop(
            columns="geometry", errors="ignore")).sort_values("date", ascending=False)
    resp = cached_read(store, "responsibilities")
    resp = resp[(resp["target_layer"] == layer) & (resp["target_id"].astype(str) == oid)]
    depts = cached_read(store, "departments")
    resp = resp.merge(depts[["id", "name", "name_en", "kind"]].rename(columns={"id": "department_id"}),
                      on="department_id", how="left")
    near = nearby(city, float(row["x"]), float(row["y"]), radius_m=radius_m, exclude=(layer, oid),
                  districts=districts, towns=towns)
    return {"layer": layer, "row": row, "hazards": hazards, "inspections": inspections, "accidents": accidents,
            "responsibilities": resp, "nearby": near, "radius_m": radius_m,
            "as_of": city.as_of.date().isoformat() if city.as_of is not None else None}


def nearby(city: City, x: float, y: float, *, radius_m: float, exclude: tuple[str, str] | None = None,
           districts: Iterable[str] | None = None, towns: Iterable[str] | None = None) -> pd.DataFrame:
    """Point objects within ``radius_m`` metres of (x, y) (lon/lat), only those registered in ``districts``
    (and ``towns``) when given: layer, id, row (label in ``city.objects[layer]``), name, x, y, distance_m, grade, kind; nearest
    first (local equirectangular distance, good to well under 1 % within a few km)."""
    allowed = None if districts is None else list(districts)
    allowed_towns = None if towns is None else list(towns)
    if not (np.isfinite(x) and np.isfinite(y)):
        return pd.DataFrame(columns=["layer", "id", "row", "name", "x", "y", "distance_m", "grade", "kind"])
    parts = []
    kx = 111_320.0 * math.cos(math.radians(y))
    for name, f in city.objects.items():
        if not len(f):
            continue
        dx = (f["x"].to_numpy(dtype=float) - x) * kx
        dy = (f["y"].to_numpy(dtype=float) - y) * 110_574.0
        d = np.hypot(dx, dy)
        m = d <= radius_m
        if exclude and exclude[0] == name:
            m &= f["id"].astype(str).to_numpy() != exclude[1]
        if allowed is not None:
            m &= f["district_code"].isin(allowed).to_numpy()
        if allowed_towns is not None:
            m &= f["town_code"].isin(allowed_towns).to_numpy()
        if m.any():
            sub = f.loc[m, ["id", "name", "x", "y"]].assign(
                layer=name, row=f.index[m], distance_m=d[m], grade=f.loc[m, "grade"] if "grade" in f else None,
                kind=f.loc[m, "kind"] if "kind" in f else None)
            parts.append(sub)
    if not parts:
        return pd.DataFrame(columns=["layer", "id", "row", "name", "x", "y", "distance_m", "grade", "kind"])
    return pd.concat(parts, ignore_index=True).sort_values("distance_m").reset_index(drop=True)


def with_filters(filters: Filters, **changes) -> Filters:
    return replace(filters, **changes)


__all__ = ["Filters", "City", "Selection", "load_city", "select", "area_figures", "risk_index", "object_detail",
           "search_objects", "SEARCH_LAYERS",
           "find_object", "find_hazard", "nearby", "utm_epsg", "HAZARD_FILTERS", "DEFAULT_HAZARD_STATUS", "CONDITION_CLASSES",
           "as_date"]


def as_date(value: object) -> date | None:
    """A datetime-like value as a date (None for missing)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    ts = pd.Timestamp(value)
    return None if pd.isna(ts) else ts.date()
