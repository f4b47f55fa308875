"""Reach (到达): the road travel time from the nearest *ready* resource of a kind to each readiness object, which
resource that is, and the gaps (a needed kind with no resource within its target).

A resource is ready unless its ``status`` is ``out_of_service`` (no status: ready). A (class, kind) is needed when
``Settings.readiness_targets["class/kind"]`` is above 0 (minutes). Travel is over the road layer when the store
has roads (``geo.roadgraph``: resources and objects snapped to the nearest point on a road, the edge split there,
one-way edges only forwards, the off-road leg at ``access_speed_kmh``, a straight off-road trip when shorter),
else a straight line x ``detour_factor`` at ``travel_speed_kmh`` (as coverage does). Per kind, one multi-source
Dijkstra from all its ready resources answers every object (``geo.roadgraph.nearest_source``), not one search per
pair. Exactly at the target is in reach (``geo.coverage.within``, ``REACH_TOLERANCE_S``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo import coverage as gcov
from geo.roadgraph import RoadGraph, nearest_source, times_within
from layers.analysis.coverage.arrays import obj_frame, points, text_col
from layers.analysis.coverage.blind_spots import own
from layers.analysis.readiness.frames import frame
from layers.schema import READINESS_CLASSES, RESOURCE_KINDS, ROAD_CLASSES
from layers.settings import Settings

#: a resource kind in an English sentence ("nearest fire station (X) ...")
KIND_EN = {"fire_station": "fire station", "rescue_team": "rescue team", "hazchem_team": "hazchem rescue team",
           "medical": "medical (ambulance) station", "drainage_pump": "drainage pump depot",
           "sandbags": "sandbag store", "boat": "rescue boat depot", "generator": "generator depot",
           "shelter": "shelter", "supply_depot": "supply depot"}
REACH_COLUMNS = ("key", "layer", "id", "class", "kind", "name", "district_code", "town_code", "lon", "lat",
                 "target_min", "travel_min", "nearest_id", "nearest_name", "off_road_m", "in_reach", "reason_zh",
                 "reason_en")


def kind_words(kind: str) -> tuple[str, str]:
    """A resource kind in zh and in an English sentence."""
    return RESOURCE_KINDS.get(kind, {}).get("zh", kind), KIND_EN.get(kind, kind.replace("_", " "))


def needed(settings: Settings) -> dict[str, dict[str, float]]:
    """kind -> {class: target minutes} for every (class, kind) with a target above 0."""
    out: dict[str, dict[str, float]] = {}
    for k, minutes in settings.readiness_targets.items():
        cls, kind = k.split("/", 1)
        if float(minutes) > 0 and cls in READINESS_CLASSES:
            out.setdefault(kind, {})[cls] = float(minutes)
    return out


@dataclass(frozen=True, eq=False)
class Travel:
    """How travel time is measured: over the road graph (``method == "road"``) or by straight line x detour.

    Points are ``(n, 2)`` arrays in the metric CRS ``epsg`` (:meth:`xy` turns lon/lat into them)."""

    method: str
    epsg: int
    graph: RoadGraph | None = None
    speed_kmh: float = 30.0
    detour_factor: float = 1.3
    access_kmh: float = 5.0
    _tf: dict = field(default_factory=dict, repr=False)

    def _transformer(self, inverse: bool = False):
        key = "inv" if inverse else "fwd"
        if key not in self._tf:
            from pyproj import Transformer

            self._tf[key] = Transformer.from_crs(self.epsg if inverse else 4326, 4326 if inverse else self.epsg,
                                                 always_xy=True)
        return self._tf[key]

    def xy(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        if len(lon) == 0:
            return np.empty((0, 2))
        return np.column_stack(self._transformer().transform(lon, lat))

    def lonlat(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        lon, lat = self._transformer(inverse=True).transform(xy[:, 0], xy[:, 1])
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)

    @property
    def _straight_ms(self) -> float:
        return self.speed_kmh / 3.6 / self.detour_factor  # straight-line metres per second

    def nearest(self, src_xy: np.ndarray, pts_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Seconds from the nearest source to each point, its index (-1: no source), off-road metres."""
        src = np.asarray(src_xy, dtype=float).reshape(-1, 2)
        pts = np.asarray(pts_xy, dtype=float).reshape(-1, 2)
        if len(src) == 0 or len(pts) == 0:
            return np.full(len(pts), np.inf), np.full(len(pts), -1, np.int64), np.full(len(pts), np.nan)
        if self.graph is not None:
            return nearest_source(self.graph, pts, src)
        d, i = cKDTree(src).query(pts)
        return np.asarray(d, float) / self._straight_ms, np.asarray(i, np.int64), np.full(len(pts), np.nan)

    def pairs(self, src_xy: np.ndarray, pts_xy: np.ndarray, limit_s: float
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (source, point, seconds) within ``limit_s`` (inclusive, with ``REACH_TOLERANCE_S``)."""
        src = np.asarray(src_xy, dtype=float).reshape(-1, 2)
        pts = np.asarray(pts_xy, dtype=float).reshape(-1, 2)
        limit = float(limit_s) + gcov.REACH_TOLERANCE_S
        if self.graph is not None:
            return times_within(self.graph, src, pts, limit)
        empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
        if len(src) == 0 or len(pts) == 0:
            return empty
        m = cKDTree(src).sparse_distance_matrix(cKDTree(pts), limit * self._straight_ms, output_type="coo_matrix")
        s, p, d = m.row.astype(np.int64), m.col.astype(np.int64), np.asarray(m.data, float)
        zd, zi = cKDTree(src).query(pts)
        zero = np.flatnonzero(np.asarray(zd) == 0)
        s, p, d = np.r_[s, np.asarray(zi, np.int64)[zero]], np.r_[p, zero], np.r_[d, np.zeros(len(zero))]
        order = np.lexsort((p, s))
        return s[order], p[order], d[order] / self._straight_ms

    def info(self) -> dict:
        if self.method == "road":
            return {"method": "road", "epsg": self.epsg, "road_nodes": int(self.graph.n_nodes),
                    "access_speed_kmh": self.access_kmh}
        return {"method": "straight", "epsg": self.epsg, "speed_kmh": self.speed_kmh,
                "detour_factor": self.detour_factor}


def build_travel(roads: pd.DataFrame, settings: Settings, epsg: int) -> Travel:
    """:class:`Travel` over ``roads`` (as coverage builds its road graph), or straight line without roads."""
    base = {"epsg": int(epsg), "speed_kmh": float(settings.travel_speed_kmh),
            "detour_factor": float(settings.detour_factor), "access_kmh": float(settings.access_speed_kmh)}
    if len(roads) and "geometry" in roads.columns:
        g = roads.geometry
        ok = ~(g.isna() | g.is_empty).to_numpy()
        if ok.any():
            metric = gpd.GeoSeries(g[ok].values, crs=4326).to_crs(epsg).values
            cls = roads["road_class"].to_numpy(dtype=object)[ok] if "road_class" in roads.columns else \
                np.full(int(ok.sum()), None, dtype=object)
            default = np.array([ROAD_CLASSES.get(c, {}).get("speed", settings.travel_speed_kmh) for c in cls], float)
            speed = pd.to_numeric(roads["speed_kmh"], errors="coerce").to_numpy(dtype=float)[ok] \
                if "speed_kmh" in roads.columns else default
            speed = np.where(np.isfinite(speed) & (speed > 0), speed, default)
            oneway = roads["oneway"].astype("boolean").fillna(False).to_numpy(dtype=bool)[ok] \
                if "oneway" in roads.columns else None
            graph = RoadGraph.from_lines(metric, speed, oneway, access_kmh=float(settings.access_speed_kmh))
            if graph.edges is not None and len(graph.edges):
                return Travel(method="road", graph=graph, **base)
    return Travel(method="straight", **base)


@dataclass(frozen=True)
class Resources:
    """The resources as arrays: id, name, kind, capacity (missing: 1), ready, district code, lon/lat, xy."""

    id: np.ndarray
    name: np.ndarray
    kind: np.ndarray
    capacity: np.ndarray
    ready: np.ndarray
    district: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    xy: np.ndarray

    def of(self, kind: str, *, ready: bool = True) -> np.ndarray:
        """Rows of the kind that have a location (and are ready, unless ``ready=False``: then all of it)."""
        m = (self.kind == kind) & np.isfinite(self.lon) & np.isfinite(self.lat)
        return np.flatnonzero(m & self.ready if ready else m)


def resource_arrays(frames: Mapping[str, pd.DataFrame], travel: Travel) -> Resources:
    """The resources layer as :class:`Resources` (a capacity that is missing or not a number counts as 1: the
    resource is there, with at least one of what it holds)."""
    f = frame(frames, "resources")
    n = len(f)
    lon, lat, _ = points(f)
    cap = pd.to_numeric(f["capacity"], errors="coerce").to_numpy(dtype=float) if n and "capacity" in f.columns \
        else np.full(n, np.nan)
    has = np.isfinite(lon) & np.isfinite(lat)
    xy = np.full((n, 2), np.nan)
    if has.any():
        xy[has] = travel.xy(lon[has], lat[has])
    district = text_col(f, "district_code", n).copy()
    areas = frame(frames, "districts")
    miss = np.flatnonzero(pd.isna(district) & has)
    if len(miss) and len(areas) and "geometry" in areas.columns:  # not registered: the district it lies in
        at = gcov.locate_points(lon[miss], lat[miss], own(areas.geometry.values))
        district[miss] = np.array([*areas["code"].astype(str), None], dtype=object)[at]
    return Resources(id=f["id"].astype(str).to_numpy(dtype=object) if n else np.empty(0, object),
                     name=text_col(f, "name", n), kind=text_col(f, "kind", n),
                     capacity=np.where(np.isfinite(cap), cap, 1.0), ready=text_col(f, "status", n) != "out_of_service",
                     district=district, lon=lon, lat=lat, xy=xy)


def _minutes(m: float, target: float) -> str:
    """Minutes for a reason: whole minutes; where rounding would hide that it is over the target, tenths rounded
    up (30.04 over 30 reads 30.1)."""
    if round(m) > target or m <= target:
        return f"{m:.0f}" if round(m) > target else f"{m:.1f}"
    return f"{np.ceil(m * 10 - 1e-9) / 10:.1f}"


def reach_table(objs: pd.DataFrame, obj_xy: np.ndarray, res: Resources, travel: Travel, settings: Settings
                ) -> pd.DataFrame:
    """One row per (object, needed kind) of the object's class: travel minutes from the nearest ready resource of
    the kind, which one, the target, whether it is in reach, and the reason when not (zh, en)."""
    need = needed(settings)
    cls = objs["class"].to_numpy(dtype=object)
    has = np.isfinite(obj_xy).all(axis=1) if len(obj_xy) else np.zeros(0, bool)
    road = travel.method == "road"
    parts = []
    for kind, targets in need.items():
        rows = np.flatnonzero(np.isin(cls, list(targets)))
        if len(rows) == 0:
            continue
        kz, ke = kind_words(kind)
        src = res.of(kind)
        keys = objs["key"].to_numpy(dtype=object)[rows]
        codes, uniq = pd.factorize(keys)  # an enterprise in two classes is measured once per kind
        first = np.zeros(len(uniq), np.int64)
        first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
        u_rows = rows[first]
        secs = np.full(len(uniq), np.inf)
        who = np.full(len(uniq), -1, np.int64)
        off = np.full(len(uniq), np.nan)
        ok = has[u_rows]
        if ok.any() and len(src):
            s, w, o = travel.nearest(res.xy[src], obj_xy[u_rows[ok]])
            secs[ok], off[ok] = s, o
            who[ok] = np.where(w >= 0, src[np.maximum(w, 0)], -1)
        secs, who, off, has_r = secs[codes], who[codes], off[codes], has[rows]
        target = np.array([targets[c] for c in cls[rows]], dtype=float)
        inside = gcov.within(secs, target * 60.0) & has_r
        minutes = secs / 60.0
        nid = np.where(who >= 0, res.id[np.maximum(who, 0)] if len(res.id) else None, None).astype(object)
        nname = np.where(who >= 0, res.name[np.maximum(who, 0)] if len(res.id) else None, None).astype(object)
        rz = np.full(len(rows), None, dtype=object)
        re_ = np.full(len(rows), None, dtype=object)
        n_out = len(res.of(kind, ready=False)) - len(src)
        for i in np.flatnonzero(~inside):
            if not has_r[i]:
                rz[i], re_[i] = "没有坐标，无法计算到达时间", "no location: travel time unknown"
            elif len(src) == 0:
                rz[i] = f"全市没有在岗可用的{kz}" + (f"（{n_out} 处停用维修）" if n_out else "")
                re_[i] = f"no ready {ke} anywhere" + (f" ({n_out} out of service)" if n_out else "")
            else:
                t, m = target[i], _minutes(minutes[i], target[i])
                label = nname[i] or nid[i]
                if road:
                    rz[i] = f"最近的{kz}（{label}）经道路约 {m} 分钟，超过 {t:g} 分钟"
                    re_[i] = f"nearest {ke} ({label}) {m} min by road, over {t:g}"
                else:
                    rz[i] = f"最近的{kz}（{label}）按直线估算约 {m} 分钟，超过 {t:g} 分钟"
                    re_[i] = f"nearest {ke} ({label}) about {m} min (straight-line estimate), over {t:g}"
        sub = objs.iloc[rows]
        parts.append(obj_frame({
            "key": keys, "layer": sub["layer"].to_numpy(dtype=object), "id": sub["id"].to_numpy(dtype=object),
            "class": cls[rows], "kind": np.full(len(rows), kind, dtype=object),
            "name": sub["name"].to_numpy(dtype=object), "district_code": sub["district_code"].to_numpy(dtype=object),
            "town_code": sub["town_code"].to_numpy(dtype=object), "lon": sub["lon"].to_numpy(dtype=float),
            "lat": sub["lat"].to_numpy(dtype=float), "target_min": target,
            "travel_min": np.where(np.isfinite(minutes), minutes, np.nan), "nearest_id": nid, "nearest_name": nname,
            "off_road_m": off, "in_reach": inside, "reason_zh": rz, "reason_en": re_}))
    if not parts:
        return obj_frame({c: np.empty(0, dtype=float if c in ("lon", "lat", "target_min", "travel_min",
                                                                "off_road_m") else
                                     bool if c == "in_reach" else object) for c in REACH_COLUMNS})
    return pd.concat(parts, ignore_index=True)
