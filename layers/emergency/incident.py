"""The first hour of an incident (突发事件): for a place (or an object, ``layer:id``) and a kind of incident, who
can get there and how fast, what is around it, whom to warn, and what is on file about the object; and the record
of every incident opened and closed.

:func:`first_hour` answers, for the place:

* **resources**: per resource kind the incident kind calls for (``Settings.incident_needs``), the nearest
  :data:`PER_KIND` *ready* resources by road travel time (``status`` not ``out_of_service``; a resource without a
  status counts as ready: the data from before the column), with the route. One search on the reversed road
  graph from the place gives every resource's time at once (:mod:`geo.paths`); resources and the place join the
  road at the nearest point on it, the off-road leg at ``Settings.access_speed_kmh``. Without roads: straight
  line x ``detour_factor`` at ``travel_speed_kmh``.
* **around**: hazchem enterprises and gas pipelines (by pressure class) within ``incident_radius_m``; crowded
  venues and schools within ``incident_warn_radius_m`` with their capacity (distances in the UTM zone of the
  city, through STRtrees; exactly at the radius is within, to a millimetre).
* **the object** (when one is named): its contingency plan (newest on file) and its last drill, else the
  district's; its open hazards (not closed, overdue marked); its supervising departments and officers, and its
  own safety contact.

Everything is narrowed to the reader's area (:class:`layers.access.Access`); a place or object outside it is
refused. What can be computed once per store data version (the road graph, the resources on it, the trees, the
look-ups) is kept in a :class:`layers.cache.StoreCache`.

:func:`open_incident` records an incident (status open, who, when, where, what was shown) with its audit row;
:func:`close_incident` closes it with an outcome note (a stale version is refused); :func:`incidents_list` lists
the incidents in the reader's area. Every one authorizes ``incident`` on the district read from the store.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo import paths
from geo.roadgraph import RoadGraph
from layers.access import Access, Principal, authorize
from layers.cache import StoreCache
from layers.errors import AccessDenied, RiskMapError
from layers.ledger import audit_rows, write_audit
from layers.schema import INCIDENT_KINDS, OBJECT_LAYERS, RESOURCE_KINDS, ROAD_CLASSES
from layers.settings import Settings
from layers.store import Store, cached_read

INCIDENTS = "incidents"
#: ready resources listed per needed kind, nearest first
PER_KIND = 3
#: a distance this close over the radius still counts as within it (metres): the radius is a rule, not a float
RADIUS_TOLERANCE_M = 1e-3
#: hazchem enterprises are those of this industry
HAZCHEM_INDUSTRY = "hazchem"
SCHOOL_KIND = "school"
#: the action names written to the audit log
OPEN_ACTION, CLOSE_ACTION = "incident.open", "incident.close"

__all__ = ["FirstHour", "first_hour", "prepare", "open_incident", "close_incident", "incidents_list", "incident_record",
           "needed_kinds", "ready_resources", "area_bounds", "search_objects", "object_name", "PER_KIND",
           "INCIDENTS"]


# --------------------------------------------------------------------------------------------------
# what is kept per data version
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class _Points:
    """Point rows of a layer in the metric CRS with an STRtree over them (``rows`` index ``frame``)."""

    frame: pd.DataFrame
    xy: np.ndarray
    tree: shapely.STRtree | None


@dataclass(frozen=True, eq=False)
class _Index:
    epsg: int
    graph: RoadGraph | None
    rev: Any
    resources: pd.DataFrame          # ready resources: id, name, kind, capacity, phone, district_code, lon, lat
    res_xy: np.ndarray
    res_exits: paths.Exits | None
    hazchem: _Points
    venues: _Points
    pipelines: pd.DataFrame          # id, pressure, material, diameter_mm, district_code
    pipe_metric: np.ndarray
    pipe_lonlat: np.ndarray
    pipe_tree: shapely.STRtree | None
    district_codes: np.ndarray
    district_tree: shapely.STRtree | None
    objects: dict[str, dict[str, int]]    # layer -> id -> row in object_rows[layer]
    object_rows: dict[str, pd.DataFrame]
    by_target: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # table -> "layer:id" -> rows
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


_INDEX: StoreCache[_Index] = StoreCache("incident index", maxsize=2)


def _utm(lon: float, lat: float) -> int:
    zone = int(math.floor((lon + 180.0) / 6.0)) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone


def _epsg_of(store: Store) -> int:
    for layer in ("districts", "resources", "enterprises", "roads"):
        f = cached_read(store, layer)
        if len(f) and isinstance(f, gpd.GeoDataFrame) and f.geometry.notna().any():
            b = f.geometry[f.geometry.notna() & ~f.geometry.is_empty].total_bounds
            if np.isfinite(b).all():
                return _utm((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
    return _utm(114.3, 30.6)


def _graph(store: Store, epsg: int, settings: Settings) -> RoadGraph | None:
    roads = cached_read(store, "roads", columns=["road_class", "speed_kmh", "oneway", "geometry"])
    if len(roads) == 0:
        return None
    roads = roads[roads.geometry.notna() & ~roads.geometry.is_empty]
    if len(roads) == 0:
        return None
    metric = roads.geometry.to_crs(epsg).to_numpy()
    speed = pd.to_numeric(roads["speed_kmh"], errors="coerce")
    by_class = roads["road_class"].map(lambda c: ROAD_CLASSES.get(c, {}).get("speed", settings.travel_speed_kmh))
    speed = speed.where(speed > 0, by_class).astype(float).to_numpy()
    oneway = roads["oneway"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    g = RoadGraph.from_lines(metric, speed, oneway, access_kmh=float(settings.access_speed_kmh))
    return g if g.n_nodes > 1 and g.edges is not None and len(g.edges) else None


def _points(frame: gpd.GeoDataFrame, fwd: Transformer, keep: np.ndarray | None = None) -> tuple[pd.DataFrame,
                                                                                                  np.ndarray]:
    g = frame.geometry
    ok = (g.notna() & ~g.is_empty).to_numpy().copy()
    if keep is not None:
        ok &= np.asarray(keep, dtype=bool)
    f = pd.DataFrame(frame.loc[ok].drop(columns=frame.geometry.name)).reset_index(drop=True)
    pts = np.asarray(g[ok].values)
    lon, lat = shapely.get_x(pts), shapely.get_y(pts)
    f["lon"], f["lat"] = lon, lat
    x, y = fwd.transform(lon, lat)
    return f, np.column_stack([np.asarray(x, float), np.asarray(y, float)]).reshape(-1, 2)


def _tree(xy: np.ndarray) -> shapely.STRtree | None:
    return shapely.STRtree(shapely.points(xy)) if len(xy) else None


def _group(frame: pd.DataFrame, layer_col: str = "target_layer", id_col: str = "target_id") -> dict[str, np.ndarray]:
    if len(frame) == 0:
        return {}
    keys = (frame[layer_col].astype(str) + ":" + frame[id_col].astype(str)).to_numpy()
    codes, uniq = pd.factorize(keys)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniq) + 1))
    return {str(k): order[bounds[i]:bounds[i + 1]] for i, k in enumerate(uniq)}


def _build(store: Store, settings: Settings) -> _Index:
    epsg = _epsg_of(store)
    fwd = Transformer.from_crs(4326, epsg, always_xy=True)
    graph = _graph(store, epsg, settings)
    res = cached_read(store, "resources")
    status = res["status"].astype(object) if "status" in res.columns else pd.Series(None, index=res.index)
    ready = (status.fillna("ready") != "out_of_service").to_numpy()
    resources, res_xy = _points(res, fwd, ready)
    res_exits = paths.exits(graph, res_xy) if graph is not None and len(res_xy) else None

    ent = cached_read(store, "enterprises", columns=["id", "name", "industry", "grade", "district_code",
                                                     "town_code", "status", "contact", "contact_phone", "address",
                                                     "geometry"])
    hz_f, hz_xy = _points(ent, fwd, (ent["industry"] == HAZCHEM_INDUSTRY).to_numpy())
    ven = cached_read(store, "venues", columns=["id", "name", "kind", "capacity", "district_code", "town_code",
                                                "address", "open_hours", "geometry"])
    v_f, v_xy = _points(ven, fwd)

    pipes = cached_read(store, "gas_pipelines")
    ok = (pipes.geometry.notna() & ~pipes.geometry.is_empty).to_numpy() if len(pipes) else np.zeros(0, bool)
    pipe_lonlat = np.asarray(pipes.geometry.values)[ok] if len(pipes) else np.empty(0, object)
    pipe_metric = np.asarray(gpd.GeoSeries(pipe_lonlat, crs=4326).to_crs(epsg).values) if len(pipe_lonlat) else \
        np.empty(0, object)
    pipe_f = pd.DataFrame(pipes.loc[ok].drop(columns=pipes.geometry.name)).reset_index(drop=True) if len(pipes) \
        else pd.DataFrame(columns=["id", "pressure", "material", "diameter_mm", "year_laid", "district_code"])

    districts = cached_read(store, "districts")
    d_geoms = np.asarray(districts.geometry.values) if len(districts) else np.empty(0, object)

    objects: dict[str, dict[str, int]] = {}
    object_rows: dict[str, pd.DataFrame] = {}
    for layer in OBJECT_LAYERS:
        f = cached_read(store, layer)
        g = f.geometry
        pts = np.full(len(f), None, dtype=object)
        okg = (g.notna() & ~g.is_empty).to_numpy()
        if okg.any():
            gg = np.asarray(g.values)[okg]
            pt = shapely.get_type_id(gg) == 0
            rep = gg.copy()
            if (~pt).any():
                rep[~pt] = shapely.line_interpolate_point(gg[~pt], 0.5, normalized=True)
            pts[okg] = rep
        keep = [c for c in ("id", "name", "district_code", "town_code", "grade", "industry", "kind", "contact",
                            "contact_phone", "address", "capacity") if c in f.columns]
        rows = pd.DataFrame(f[keep]).reset_index(drop=True)
        rows["lon"] = shapely.get_x(pts.astype(object)) if len(pts) else np.empty(0)
        rows["lat"] = shapely.get_y(pts.astype(object)) if len(pts) else np.empty(0)
        object_rows[layer] = rows
        objects[layer] = {k: i for i, k in enumerate(rows["id"].astype(str).tolist())}

    hazards = cached_read(store, "hazards", columns=["id", "target_layer", "target_id", "type", "description",
                                                     "level", "status", "found_date", "deadline",
                                                     "responsible_person", "listed"])
    hazards = pd.DataFrame(hazards[hazards["status"] != "closed"]).reset_index(drop=True)
    plans = pd.DataFrame(cached_read(store, "emergency_plans")).reset_index(drop=True)
    drills = pd.DataFrame(cached_read(store, "drills")).reset_index(drop=True)
    resp = cached_read(store, "responsibilities")
    depts = cached_read(store, "departments")
    resp = pd.DataFrame(resp).merge(
        pd.DataFrame(depts[["id", "name", "name_en", "kind", "phone"]]).rename(
            columns={"id": "department_id", "phone": "department_phone"}),
        on="department_id", how="left").reset_index(drop=True)
    tables = {"hazards": hazards, "plans": plans, "drills": drills, "responsibilities": resp}
    return _Index(epsg=epsg, graph=graph, rev=paths.reversed_csr(graph) if graph is not None else None,
                  resources=resources, res_xy=res_xy, res_exits=res_exits,
                  hazchem=_Points(hz_f, hz_xy, _tree(hz_xy)), venues=_Points(v_f, v_xy, _tree(v_xy)),
                  pipelines=pipe_f, pipe_metric=pipe_metric, pipe_lonlat=pipe_lonlat,
                  pipe_tree=shapely.STRtree(pipe_metric) if len(pipe_metric) else None,
                  district_codes=districts["code"].astype(str).to_numpy() if len(districts) else np.empty(0, object),
                  district_tree=shapely.STRtree(d_geoms) if len(d_geoms) else None,
                  objects=objects, object_rows=object_rows,
                  by_target={k: _group(v) for k, v in tables.items()}, tables=tables)


def _index(store: Store, settings: Settings) -> _Index:
    key = (float(settings.access_speed_kmh), float(settings.travel_speed_kmh), float(settings.detour_factor))
    return _INDEX.get(store, lambda: _build(store, settings), key=key)


def prepare(store: Store, settings: Settings) -> None:
    """Build what every incident of the store's current data version shares (road graph, snapped resources,
    search trees): the served app's warm-up calls it, so the first incident after a start or an import does not
    wait for it (6.7 s at 100,000 enterprises, against 0.1 s for an incident after it)."""
    _index(store, settings)


# --------------------------------------------------------------------------------------------------
# the first hour
# --------------------------------------------------------------------------------------------------

@dataclass
class FirstHour:
    """What :func:`first_hour` found for a place; frames in the order to show (nearest first)."""

    kind: str
    place: dict                     # lon, lat, district_code, target ("layer:id" or None), name, method
    needs: list[str]                # resource kinds, in the order the settings list them
    resources: pd.DataFrame         # kind, rank, id, name, phone, capacity, district_code, minutes, distance_m, lon, lat
    routes: dict[str, tuple[np.ndarray, np.ndarray]]   # resource id -> (lon, lat) of its way to the place
    missing: list[str]              # needed kinds with no ready resource in reach
    hazchem: pd.DataFrame           # id, name, grade, district_code, distance_m, lon, lat
    pipelines: pd.DataFrame         # id, pressure, material, diameter_mm, district_code, distance_m
    pipeline_lines: dict[str, Any]  # pipeline id -> its lon/lat geometry (for drawing)
    venues: pd.DataFrame            # id, name, kind, capacity, district_code, distance_m, school, lon, lat
    plan: dict | None               # the object's (else the district's) newest plan on file
    drill: dict | None              # its last drill
    hazards: pd.DataFrame           # id, level, type, description, status, found_date, deadline, overdue
    supervision: pd.DataFrame       # department, department_en, department_phone, lead, officer, officer_phone
    contact: str | None             # the object's own safety contact (enterprises)
    contact_phone: str | None       # and that contact's phone
    radius_m: float
    warn_radius_m: float
    as_of: date

    def shown(self) -> dict:
        """What was shown, as JSON-able values (recorded with the incident, printed on its sheet)."""
        def rows(frame: pd.DataFrame, cols: list[str]) -> list[dict]:
            cols = [c for c in cols if c in frame.columns]
            return [{k: _plain(v) for k, v in r.items()} for r in frame[cols].to_dict("records")]

        return {
            "kind": self.kind, "place": {k: _plain(v) for k, v in self.place.items()}, "needs": list(self.needs),
            "missing": list(self.missing), "as_of": self.as_of.isoformat(),
            "radius_m": self.radius_m, "warn_radius_m": self.warn_radius_m,
            "resources": rows(self.resources, ["kind", "rank", "id", "name", "phone", "minutes", "distance_m"]),
            "hazchem": rows(self.hazchem, ["id", "name", "grade", "distance_m"]),
            "pipelines": rows(self.pipelines, ["id", "pressure", "material", "diameter_mm", "distance_m"]),
            "venues": rows(self.venues, ["id", "name", "kind", "capacity", "distance_m"]),
            "plan": {k: _plain(v) for k, v in self.plan.items()} if self.plan else None,
            "drill": {k: _plain(v) for k, v in self.drill.items()} if self.drill else None,
            "hazards": rows(self.hazards, ["id", "level", "type", "description", "status", "deadline", "overdue"]),
            "supervision": rows(self.supervision, ["department", "department_en", "department_phone", "lead",
                                                   "officer", "officer_phone"]),
            "contact": self.contact, "contact_phone": self.contact_phone,
        }


def _col(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A text column as objects, None where empty (all None when a store from before it lacks the column)."""
    if name not in frame.columns:
        return np.full(len(frame), None, object)
    return np.array([v if isinstance(v, str) and v.strip() else None for v in frame[name].to_numpy(dtype=object)],
                    dtype=object)


def _plain(v: Any) -> Any:
    """A value as JSON holds it: None for missing, ISO dates, plain numbers (to 6 decimals)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float | np.floating):
        return None if not np.isfinite(v) else round(float(v), 6)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, pd.Timestamp):
        if pd.isna(v):
            return None
        return v.date().isoformat() if v.tzinfo is None and v == v.normalize() else v.isoformat()
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    return v


def needed_kinds(kind: str, settings: Settings) -> list[str]:
    """The resource kinds an incident of ``kind`` calls for, in the order the settings list them."""
    text = settings.incident_needs.get(kind, "")
    return [k for k in (s.strip() for s in str(text).split(",")) if k in RESOURCE_KINDS]


def _check_kind(kind: object) -> str:
    if not isinstance(kind, str) or kind not in INCIDENT_KINDS:
        raise RiskMapError(f"未知的事件类型 {kind!r}，可选：{'、'.join(v['zh'] for v in INCIDENT_KINDS.values())} "
                           f"(unknown incident kind {kind!r}; one of {', '.join(INCIDENT_KINDS)})")
    return kind


def _district_at(ix: _Index, lon: float, lat: float) -> str | None:
    if ix.district_tree is None:
        return None
    hit = ix.district_tree.query(shapely.Point(lon, lat), predicate="intersects")
    return str(ix.district_codes[int(np.min(hit))]) if len(hit) else None


def _place(ix: _Index, access: Access, lon: object, lat: object, target: str | None) -> dict:
    """Where the incident is, re-derived from the store: the object's own point and district when a target is
    named (the browser's coordinates are then ignored), else the point and the district it lies in; refused
    outside the reader's area."""
    if target:
        layer, _, oid = str(target).partition(":")
        pos = ix.objects.get(layer, {}).get(oid) if layer in OBJECT_LAYERS else None
        if pos is None:
            raise AccessDenied(f"对象不存在或不在您的辖区内：{target} (object unknown or outside your area: {target})")
        row = ix.object_rows[layer].iloc[pos]
        district = row.get("district_code")
        district = str(district) if isinstance(district, str) and district else None
        if not access.allows(district):
            raise AccessDenied(f"对象 {target} 不在您的辖区内 (object {target} is outside your area)")
        if not (np.isfinite(row["lon"]) and np.isfinite(row["lat"])):
            raise RiskMapError(f"对象 {target} 没有位置，无法计算 (object {target} has no location)")
        return {"lon": float(row["lon"]), "lat": float(row["lat"]), "district_code": district,
                "target": f"{layer}:{oid}", "name": None if pd.isna(row.get("name")) else str(row.get("name"))}
    try:
        x, y = float(lon), float(lat)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise RiskMapError("请在地图上点选事发地点 (click the place of the incident on the map)") from None
    if not (np.isfinite(x) and np.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        raise RiskMapError(f"坐标 {lon!r}, {lat!r} 无效 (coordinates {lon!r}, {lat!r} are not a place)")
    district = _district_at(ix, x, y)
    if access.districts is not None and district not in access.districts:
        raise AccessDenied(f"该地点不在您的辖区内 (the place is outside your area: {district})")
    return {"lon": x, "lat": y, "district_code": district, "target": None, "name": None}


def _in_area(access: Access, frame: pd.DataFrame) -> pd.DataFrame:
    if access.districts is None or len(frame) == 0:
        return frame
    return frame[access.mask(frame["district_code"])]


def _resources(ix: _Index, xy: np.ndarray, needs: list[str], settings: Settings, access: Access
               ) -> tuple[pd.DataFrame, dict[str, tuple[np.ndarray, np.ndarray]], str, np.ndarray]:
    res = ix.resources
    cols = ["kind", "rank", "id", "name", "phone", "capacity", "district_code", "minutes", "distance_m", "lon", "lat"]
    if len(res) == 0:
        return pd.DataFrame(columns=cols), {}, "road" if ix.graph is not None else "straight", np.empty(0)
    mask = res["kind"].isin(needs).to_numpy()
    if access.districts is not None:
        mask = mask & access.mask(res["district_code"])
    straight_m = np.hypot(*(ix.res_xy - xy).T)
    routes_xy: dict[int, np.ndarray] = {}
    if ix.graph is not None:
        search = paths.search_to(ix.graph, ix.rev, xy)
        secs, via, _ = paths.times_to(ix.graph, search, ix.res_exits, ix.res_xy)
        method = "road"
    else:
        search, via = None, None
        secs = straight_m * settings.detour_factor / (settings.travel_speed_kmh / 3.6)
        method = "straight"
    picked = []
    for kind in needs:
        rows = np.flatnonzero(mask & (res["kind"].to_numpy() == kind) & np.isfinite(secs))
        rows = rows[np.lexsort((res["id"].astype(str).to_numpy()[rows], secs[rows]))][:PER_KIND]
        for rank, r in enumerate(rows, start=1):
            picked.append((kind, rank, int(r)))
            if search is not None:
                routes_xy[int(r)] = paths.route_xy(ix.graph, search, ix.res_exits, int(r), int(via[r]), ix.res_xy[r])
            else:
                routes_xy[int(r)] = np.vstack([ix.res_xy[r], xy])
    if not picked:
        return pd.DataFrame(columns=cols), {}, method, np.empty(0)
    idx = np.array([p[2] for p in picked])
    out = res.iloc[idx][[c for c in ("id", "name", "phone", "capacity", "district_code", "lon", "lat")
                         if c in res.columns]].reset_index(drop=True)
    out.insert(0, "rank", [p[1] for p in picked])
    out.insert(0, "kind", [p[0] for p in picked])
    out["minutes"] = secs[idx] / 60.0
    out["distance_m"] = straight_m[idx]
    back = Transformer.from_crs(ix.epsg, 4326, always_xy=True)
    routes = {}
    for r, rid in zip(idx, out["id"].astype(str), strict=True):
        lon, lat = back.transform(routes_xy[int(r)][:, 0], routes_xy[int(r)][:, 1])
        routes[rid] = (np.asarray(lon), np.asarray(lat))
    return out[cols], routes, method, idx


def _within(points: _Points, xy: np.ndarray, radius: float, access: Access) -> pd.DataFrame:
    if points.tree is None:
        return points.frame.iloc[0:0].assign(distance_m=pd.Series(dtype=float))
    hit = points.tree.query(shapely.Point(*xy), predicate="dwithin", distance=radius + RADIUS_TOLERANCE_M)
    d = np.hypot(*(points.xy[hit] - xy).T) if len(hit) else np.empty(0)
    keep = d <= radius + RADIUS_TOLERANCE_M
    f = points.frame.iloc[hit[keep]].assign(distance_m=d[keep])
    return _in_area(access, f).sort_values(["distance_m", "id"], kind="stable").reset_index(drop=True)


def _pipelines(ix: _Index, xy: np.ndarray, radius: float, access: Access) -> tuple[pd.DataFrame, dict[str, Any]]:
    if ix.pipe_tree is None:
        return ix.pipelines.iloc[0:0].assign(distance_m=pd.Series(dtype=float)), {}
    pt = shapely.Point(*xy)
    hit = ix.pipe_tree.query(pt, predicate="dwithin", distance=radius + RADIUS_TOLERANCE_M)
    d = shapely.distance(ix.pipe_metric[hit], pt) if len(hit) else np.empty(0)
    keep = d <= radius + RADIUS_TOLERANCE_M
    f = ix.pipelines.iloc[hit[keep]].assign(distance_m=d[keep], _row=hit[keep])
    f = _in_area(access, f)
    order = {k: i for i, k in enumerate(("high", "sub_high", "medium", "low"))}
    f = f.assign(_p=f["pressure"].map(order).fillna(9)).sort_values(["_p", "distance_m", "id"], kind="stable")
    lines = {str(i): ix.pipe_lonlat[int(r)] for i, r in zip(f["id"], f["_row"], strict=True)}
    return f.drop(columns=["_p", "_row"]).reset_index(drop=True), lines


def _rows_of(ix: _Index, table: str, key: str) -> pd.DataFrame:
    rows = ix.by_target.get(table, {}).get(key)
    f = ix.tables[table]
    return f.iloc[rows] if rows is not None else f.iloc[0:0]


def _record(row: pd.Series | None, cols: tuple[str, ...]) -> dict | None:
    if row is None:
        return None
    return {c: _plain(row.get(c)) for c in cols if c in row.index}


def _on_file(ix: _Index, place: dict, as_of: date) -> tuple[dict | None, dict | None]:
    """The newest plan filed by ``as_of`` and the last drill held by then: the object's, else the district's."""
    keys = ([place["target"]] if place["target"] else []) + \
        ([f"districts:{place['district_code']}"] if place["district_code"] else [])
    day = pd.Timestamp(as_of)
    plan = drill = None
    for key in keys:
        p = _rows_of(ix, "plans", key)
        p = p[p["filed_date"].notna() & (p["filed_date"] <= day)] if len(p) else p
        d = _rows_of(ix, "drills", key)
        d = d[d["date"].notna() & (d["date"] <= day)] if len(d) else d
        if plan is None and len(p):
            row = p.sort_values(["filed_date", "id"]).iloc[-1]
            plan = _record(row, ("id", "title", "plan_version", "filed_date", "target_layer", "target_id"))
        if drill is None and len(d):
            row = d.sort_values(["date", "id"]).iloc[-1]
            drill = _record(row, ("id", "date", "kind", "participants", "note", "plan_id", "target_layer",
                                  "target_id"))
            drill["days_ago"] = int((day - pd.Timestamp(row["date"])).days)
        if plan is not None or drill is not None:
            break
    return plan, drill


def first_hour(store: Store, *, lon: object = None, lat: object = None, kind: str, target: str | None = None,
               settings: Settings, access: Access, as_of: date | None = None) -> FirstHour:
    """The first hour at a place (``lon``, ``lat``, WGS-84) or at the object ``target`` (``"layer:id"``, its own
    point then) for an incident of ``kind``; see the module docstring. ``access`` is the reader's
    (``authorize(principal, "incident")``); ``as_of`` (default today) dates the plan, drill and overdue hazards.

    Raises :class:`AccessDenied` for a place or object outside the reader's area, :class:`RiskMapError` for an
    unknown kind or a place that is none.
    """
    if access.action != "incident":
        raise AccessDenied("突发事件需要 incident 权限 (incidents need the incident grant)")
    kind = _check_kind(kind)
    as_of = as_of or date.today()
    ix = _index(store, settings)
    place = _place(ix, access, lon, lat, target or None)
    fwd = Transformer.from_crs(4326, ix.epsg, always_xy=True)
    x, y = fwd.transform(place["lon"], place["lat"])
    xy = np.array([float(x), float(y)])
    needs = needed_kinds(kind, settings)
    resources, routes, method, _ = _resources(ix, xy, needs, settings, access)
    place["method"] = method
    missing = [k for k in needs if not (resources["kind"] == k).any()]
    radius, warn = float(settings.incident_radius_m), float(settings.incident_warn_radius_m)
    hazchem = _within(ix.hazchem, xy, radius, access)
    if place["target"]:
        hazchem = hazchem[("enterprises:" + hazchem["id"].astype(str)) != place["target"]].reset_index(drop=True)
    hazchem = hazchem[[c for c in ("id", "name", "grade", "district_code", "town_code", "status", "distance_m",
                                   "lon", "lat") if c in hazchem.columns]]
    venues = _within(ix.venues, xy, warn, access)
    venues = venues.assign(school=(venues["kind"] == SCHOOL_KIND).to_numpy())
    venues = venues[[c for c in ("id", "name", "kind", "capacity", "district_code", "distance_m", "school", "lon",
                                 "lat", "open_hours") if c in venues.columns]]
    pipes, lines = _pipelines(ix, xy, radius, access)
    pipes = pipes[[c for c in ("id", "pressure", "material", "diameter_mm", "year_laid", "district_code",
                               "distance_m") if c in pipes.columns]]
    plan, drill = _on_file(ix, place, as_of)
    contact = contact_phone = None
    if place["target"]:
        hz = _rows_of(ix, "hazards", place["target"]).copy()
        hz["overdue"] = (hz["deadline"].notna() & (hz["deadline"] < pd.Timestamp(as_of))).to_numpy(dtype=bool)
        hz = hz.sort_values(["overdue", "level", "found_date"], ascending=[False, False, False], kind="stable")
        hazards = pd.DataFrame(hz[["id", "level", "type", "description", "status", "found_date", "deadline",
                                   "overdue", "responsible_person"]]).reset_index(drop=True)
        r = _rows_of(ix, "responsibilities", place["target"])
        supervision = pd.DataFrame({"department": r["name"].astype(object).to_numpy(),
                                    "department_en": r["name_en"].astype(object).to_numpy(),
                                    "department_id": r["department_id"].astype(object).to_numpy(),
                                    "department_phone": _col(r, "department_phone"),
                                    "lead": r["lead"].astype("boolean").fillna(False).to_numpy(dtype=bool),
                                    "officer": r["officer"].astype(object).to_numpy(),
                                    "officer_phone": _col(r, "officer_phone")})
        supervision = supervision.sort_values("lead", ascending=False, kind="stable").reset_index(drop=True)
        layer, _, oid = place["target"].partition(":")
        row = ix.object_rows[layer].iloc[ix.objects[layer][oid]]
        c = row.get("contact") if "contact" in row.index else None
        contact = str(c) if isinstance(c, str) and c.strip() else None
        c = row.get("contact_phone") if "contact_phone" in row.index else None
        contact_phone = str(c) if isinstance(c, str) and c.strip() else None
    else:
        hazards = pd.DataFrame(columns=["id", "level", "type", "description", "status", "found_date", "deadline",
                                        "overdue", "responsible_person"])
        supervision = pd.DataFrame(columns=["department", "department_en", "department_id", "department_phone",
                                            "lead", "officer", "officer_phone"])
    return FirstHour(kind=kind, place=place, needs=needs, resources=resources, routes=routes, missing=missing,
                     hazchem=hazchem, pipelines=pipes, pipeline_lines=lines, venues=venues, plan=plan, drill=drill,
                     hazards=hazards, supervision=supervision, contact=contact, contact_phone=contact_phone,
                     radius_m=radius,
                     warn_radius_m=warn, as_of=as_of)


# --------------------------------------------------------------------------------------------------
# the record
# --------------------------------------------------------------------------------------------------

def _access_of(who: Principal | Access | None) -> Access:
    if isinstance(who, Access):
        return authorize(who.principal, "incident")
    return authorize(who, "incident")


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def open_incident(store: Store, who: Principal | Access | None, *, kind: str, lon: object = None,
                  lat: object = None, target: str | None = None, settings: Settings,
                  as_of: date | None = None) -> str:
    """Record an incident at the place (or object) and return its id: status open, opened now (UTC) by the
    server session's user, the district the place lies in, and what :func:`first_hour` shows there now (computed
    here again, never taken from the browser); with its audit row, in one transaction."""
    reach = _access_of(who)
    found = first_hour(store, lon=lon, lat=lat, kind=kind, target=target, settings=settings, access=reach,
                       as_of=as_of)
    district = found.place["district_code"]
    if district:
        authorize(reach.principal, "incident", districts=district)
    elif reach.districts is not None:
        raise AccessDenied("该地点不在任何区县内 (the place lies in no district)")
    iid = "INC" + datetime.now(UTC).strftime("%Y%m%d") + "-" + _short_id()
    at = _now()
    layer, _, oid = (found.place["target"] or "").partition(":")
    record = {"id": iid, "kind": found.kind, "target_layer": layer or None, "target_id": oid or None,
              "status": "open", "opened_at": at, "opened_by": reach.principal.id,
              "shown": json.dumps(found.shown(), ensure_ascii=False, sort_keys=True), "version": 0,
              "district_code": district}
    frame = gpd.GeoDataFrame(pd.DataFrame([record]).astype(object),
                             geometry=[shapely.Point(found.place["lon"], found.place["lat"])], crs="EPSG:4326")
    changes = {k: (None, v) for k, v in record.items() if k not in ("id", "shown", "version") and v is not None}
    audit = audit_rows(reach.principal.id, OPEN_ACTION, INCIDENTS, iid, changes, at=at)
    with store.transaction() as tx:
        tx.append(INCIDENTS, frame)
        write_audit(tx, audit)
    return iid


def _short_id() -> str:
    from layers.ledger.audit import new_id

    return new_id("", 8)


def incident_record(store: Store, who: Principal | Access | None, incident_id: object) -> pd.Series:
    """One incident as the store holds it now, when it lies in the reader's area (its district read from the
    store); ``shown`` decoded into ``shown_data``."""
    reach = _access_of(who)
    rows = store.read(INCIDENTS, ids=[str(incident_id)]) if isinstance(incident_id, str) and incident_id else []
    if len(rows) == 0:
        raise AccessDenied(f"突发事件 {incident_id!r} 不存在或不在您的辖区内 (incident {incident_id!r} unknown or "
                           "outside your area)")
    row = rows.iloc[0]
    district = row.get("district_code")
    if reach.districts is not None and (not isinstance(district, str) or district not in reach.districts):
        raise AccessDenied(f"突发事件 {incident_id!r} 不存在或不在您的辖区内 (incident {incident_id!r} unknown or "
                           "outside your area)")
    out = pd.Series(row.drop(labels=["geometry"], errors="ignore"))
    try:
        out["shown_data"] = json.loads(row.get("shown") or "{}")
    except (TypeError, ValueError):
        out["shown_data"] = {}
    return out


def close_incident(store: Store, who: Principal | Access | None, incident_id: object, version: object,
                   outcome: object) -> int:
    """Close an open incident with an outcome note (required), if its version is still ``version``; returns the
    new version. Authorized on the incident's district as the store holds it; with its audit rows."""
    note = outcome.strip() if isinstance(outcome, str) else ""
    if not note:
        raise RiskMapError("请填写处置结果后再结束事件 (write the outcome before closing the incident)")
    row = incident_record(store, who, incident_id)
    reach = _access_of(who)
    if row.get("district_code"):
        authorize(reach.principal, "incident", districts=str(row["district_code"]))
    if row.get("status") != "open":
        raise RiskMapError(f"突发事件 {incident_id} 已经结束 (incident {incident_id} is already closed)")
    try:
        expected = int(version)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise RiskMapError("版本号无效，请重新打开事件列表 (the version is not valid: reload the list)") from None
    at = _now()
    values = {"status": "closed", "closed_at": at, "closed_by": reach.principal.id, "outcome": note}
    changes = {"status": (row.get("status"), "closed"), "closed_at": (None, at),
               "closed_by": (None, reach.principal.id), "outcome": (None, note)}
    audit = audit_rows(reach.principal.id, CLOSE_ACTION, INCIDENTS, str(incident_id), changes, at=at)
    with store.transaction() as tx:
        new = tx.update_versioned(INCIDENTS, str(incident_id), expected, values)
        write_audit(tx, audit)
    return new


def incidents_list(store: Store, who: Principal | Access | None) -> pd.DataFrame:
    """The incidents in the reader's area, newest first (no ``shown``; a row without a district only for a
    city-wide reader)."""
    reach = _access_of(who)
    cols = ["id", "kind", "target_layer", "target_id", "status", "opened_at", "opened_by", "closed_at",
            "closed_by", "outcome", "version", "district_code"]
    f = pd.DataFrame(store.read(INCIDENTS, columns=cols))
    f = f[[c for c in cols if c in f.columns]]
    if reach.districts is not None:
        f = f[f["district_code"].isin(list(reach.districts)).to_numpy()]
    return f.sort_values(["opened_at", "id"], ascending=False, kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# for the page: what to draw before a place is picked, and the object search
# --------------------------------------------------------------------------------------------------

def ready_resources(store: Store, who: Principal | Access | None) -> pd.DataFrame:
    """Ready resources in the reader's area: id, name, kind, phone, district_code, lon, lat."""
    reach = _access_of(who)
    res = cached_read(store, "resources")
    if len(res) == 0:
        return pd.DataFrame(columns=["id", "name", "kind", "phone", "district_code", "lon", "lat"])
    status = res["status"].astype(object) if "status" in res.columns else pd.Series(None, index=res.index)
    g = res.geometry
    ok = ((status.fillna("ready") != "out_of_service") & g.notna() & ~g.is_empty).to_numpy()
    f = pd.DataFrame(res.loc[ok, [c for c in ("id", "name", "kind", "phone", "district_code") if c in res.columns]])
    f["lon"], f["lat"] = shapely.get_x(np.asarray(g[ok].values)), shapely.get_y(np.asarray(g[ok].values))
    return _in_area(reach, f).reset_index(drop=True)


def area_bounds(store: Store, who: Principal | Access | None) -> tuple[float, float, float, float] | None:
    """The lon/lat bounds of the reader's districts (None: the store has none)."""
    reach = _access_of(who)
    d = cached_read(store, "districts")
    if reach.districts is not None:
        d = d[d["code"].isin(list(reach.districts))]
    if len(d) == 0:
        return None
    b = d.total_bounds
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def search_objects(store: Store, who: Principal | Access | None, text: object, *, limit: int = 20
                   ) -> list[tuple[str, str]]:
    """Objects in the reader's area whose name holds ``text``: ``(key "layer:id", name)``, at most ``limit``."""
    reach = _access_of(who)
    q = text.strip() if isinstance(text, str) else ""
    if not q:
        return []
    out: list[tuple[str, str]] = []
    for layer in OBJECT_LAYERS:
        f = cached_read(store, layer, columns=["id", "name", "district_code"])
        f = _in_area(reach, f)
        hit = f[f["name"].astype(str).str.contains(q, regex=False, na=False)]
        out += [(f"{layer}:{i}", str(n)) for i, n in zip(hit["id"].astype(str), hit["name"], strict=True)]
        if len(out) >= limit:
            break
    return out[:limit]


def object_name(store: Store, who: Principal | Access | None, key: object) -> str | None:
    """The name of the object ``key`` (``layer:id``) when it is in the reader's area, else None."""
    reach = _access_of(who)
    layer, _, oid = str(key or "").partition(":")
    if layer not in OBJECT_LAYERS or not oid:
        return None
    f = cached_read(store, layer, columns=["id", "name", "district_code"])
    f = _in_area(reach, f[f["id"].astype(str) == oid])
    return str(f["name"].iloc[0]) if len(f) else None
