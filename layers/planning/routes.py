"""Inspection planning (检查计划): routes for inspector teams over the ranked coverage gaps.

A plan covers one day or several (a week), the districts chosen and the teams taking part. Each team gets an
ordered route from its base back to its base within its shift, visiting only objects whose skill it has and
that lie in its district scope, at times the object is open (venues in their opening hours), spending a service
time per object kind and grade on site. Higher priority (risk weight x days overdue) is served first; what does
not fit is listed as unassigned with the reason.

Candidates come from the coverage analysis (``layers.coverage``): its dead corners ranked by risk weight x days
overdue, then the objects in its blind-spot cells. Skill needed per object: ``schema.INDUSTRIES[..]["skill"]``
for enterprises, ``fire`` for venues, ``gas`` for gas stations, ``structures`` for bridges and tunnels. Service
time: ``Settings.service_minutes``; opening hours: a venue's own, else ``Settings.venue_hours`` by kind.

Travel times come from the road layer (``geo.roadgraph``: shortest paths, speed by road class) when the store
has roads, else from the straight-line distance x ``Settings.detour_factor`` at ``Settings.travel_speed_kmh``.
The routing engine is VROOM (``geo.routing``).

Saving, opening and completing plans: :mod:`layers.plan_store`. Route sheets and exports:
:mod:`layers.plan_export`. Double-random spot checks (双随机): :mod:`layers.plan_random`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from geo.roadgraph import RoadGraph
from geo.routing import RouteJob, RouteVehicle, priority_levels, reachable_alone, solve, straight_line_matrix
from layers.cache import StoreCache
from layers.errors import RiskMapError
from layers.schema import GRADE_ORDER, INDUSTRIES, OBJECT_LAYERS, ROAD_CLASSES
from layers.settings import Settings
from layers.store import Store, cached_read

DAY_S = 86_400

#: why a candidate was left out of every route
REASONS: dict[str, dict[str, str]] = {
    "no_skill": {"zh": "没有具备该专业技能的检查组", "en": "no team with the skill"},
    "out_of_scope": {"zh": "没有负责该区县的检查组", "en": "no team covers its district"},
    "outside_hours": {"zh": "不在任何检查组班次/营业时间内", "en": "outside every shift / opening hours"},
    "not_enough_time": {"zh": "时间不够（已排更高优先级）", "en": "not enough time (higher priorities first)"},
}
#: where a candidate came from
SOURCES: dict[str, dict[str, str]] = {
    "dead_corner": {"zh": "死角", "en": "dead corner"},
    "blind_spot": {"zh": "盲区", "en": "blind spot"},
    "added": {"zh": "手动添加", "en": "added by hand"},
    "random": {"zh": "双随机抽查", "en": "double-random draw"},
    "recheck": {"zh": "停产整顿复查", "en": "re-check of a suspension"},
}
#: skill needed per object layer (enterprises: by industry)
LAYER_SKILL = {"venues": "fire", "gas_stations": "gas", "bridges": "structures", "tunnels": "structures"}
#: grade standing for a technical condition class (bridges, tunnels, gas stations) and a pressure class
CONDITION_GRADE = {"5": "major", "4": "high", "3": "moderate", "2": "low", "1": "low"}
PRESSURE_GRADE = {"high": "high", "sub_high": "high", "medium": "moderate", "low": "low"}

CANDIDATE_COLUMNS = ["key", "target_layer", "target_id", "name", "address", "kind", "grade", "skill",
                     "district_code", "lon", "lat", "open_hours", "last_inspected", "days_overdue", "priority",
                     "source"]


# --------------------------------------------------------------------------------------------------
# teams
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TeamSpec:
    """One inspector team taking part in a plan (检查组). Times are ``HH:MM`` of the local day."""

    id: str
    name: str
    lon: float
    lat: float
    skills: tuple[str, ...]
    districts: tuple[str, ...] = ()  # empty: the whole city
    shift_start: str = "08:30"
    shift_end: str = "17:30"
    break_start: str | None = "12:00"
    break_minutes: int = 60

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TeamSpec:
        return cls(id=str(d["id"]), name=str(d.get("name") or d["id"]), lon=float(d["lon"]), lat=float(d["lat"]),
                   skills=tuple(d.get("skills") or ()), districts=tuple(d.get("districts") or ()),
                   shift_start=str(d.get("shift_start") or "08:30"), shift_end=str(d.get("shift_end") or "17:30"),
                   break_start=(str(d["break_start"]) if d.get("break_start") else None),
                   break_minutes=int(d.get("break_minutes") or 0))


def _split_list(text: object) -> tuple[str, ...]:
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        return ()
    return tuple(p.strip() for p in re.split(r"[,;，；、|\s]+", str(text)) if p.strip())


def hhmm_to_s(text: str, *, field_name: str = "time") -> int:
    """``"08:30"`` -> 30600 seconds; ``"24:00"`` allowed. Bilingual error naming the field."""
    m = re.fullmatch(r"\s*(\d{1,2})[:：](\d{2})\s*", str(text))
    if not m or int(m.group(1)) > 24 or int(m.group(2)) > 59:
        raise RiskMapError(f"字段 {field_name!r} 的时间 {text!r} 无效，请写成 HH:MM，如 08:30 "
                           f"(field {field_name!r}: time {text!r} is not valid; write HH:MM, e.g. 08:30)")
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60


def s_to_hhmm(seconds: float) -> str:
    s = int(round(seconds)) % DAY_S
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}"


def teams_from_store(store: Store, ids: Iterable[str] | None = None) -> list[TeamSpec]:
    """Teams from the ``teams`` layer (all, or those with ``ids``, in that order). A team's scope is its
    ``district_scope`` list, else its own ``district_code``."""
    frame = store.read("teams")
    if ids is not None:
        want = [str(i) for i in ids]
        missing = [i for i in want if i not in set(frame["id"])]
        if missing:
            raise RiskMapError(f"检查组不存在：{missing}，请检查 --teams (teams not found: {missing}; check --teams)")
        frame = frame.set_index("id").loc[want].reset_index()
    out = []
    for row in frame.itertuples(index=False):
        scope = _split_list(row.district_scope) or _split_list(row.district_code)
        geom = row.geometry
        if geom is None or geom.is_empty:
            raise RiskMapError(f"检查组 {row.id} 没有驻地位置，请在 teams 图层补上坐标 "
                               f"(team {row.id} has no base location; add its point in the teams layer)")
        brk = row.break_start if isinstance(row.break_start, str) and row.break_start.strip() else None
        bmin = int(row.break_minutes) if pd.notna(row.break_minutes) else (60 if brk else 0)
        out.append(TeamSpec(
            id=str(row.id), name=str(row.name or row.id), lon=float(geom.x), lat=float(geom.y),
            skills=_split_list(row.skills), districts=scope,
            shift_start=str(row.shift_start) if isinstance(row.shift_start, str) and row.shift_start else "08:30",
            shift_end=str(row.shift_end) if isinstance(row.shift_end, str) and row.shift_end else "17:30",
            break_start=brk, break_minutes=bmin))
    return out


# --------------------------------------------------------------------------------------------------
# objects and candidates
# --------------------------------------------------------------------------------------------------

def _points(frame) -> tuple[np.ndarray, np.ndarray]:
    """lon, lat of each geometry (a point, or a point on a line for bridges and tunnels)."""
    if len(frame) == 0:
        return np.zeros(0), np.zeros(0)
    geom = frame.geometry
    pts = geom.where(geom.geom_type == "Point", geom.representative_point())
    return pts.x.to_numpy(dtype=float), pts.y.to_numpy(dtype=float)


def _grade_of(values, mapping: dict, default: str | None) -> np.ndarray:
    return np.array([mapping.get(str(v), default) if v is not None and v == v else default for v in values],
                    dtype=object)


def _worse(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    rank = {g: i for i, g in enumerate(GRADE_ORDER)}
    out = []
    for x, y in zip(a, b, strict=True):
        cands = [g for g in (x, y) if g in rank]
        out.append(min(cands, key=rank.__getitem__) if cands else "moderate")
    return np.array(out, dtype=object)


def objects(store: Store, *, districts: Sequence[str] | None = None, layers: Sequence[str] = OBJECT_LAYERS,
            settings: Settings | None = None) -> pd.DataFrame:
    """Every inspectable object in one frame with what planning needs (see ``CANDIDATE_COLUMNS``; no
    priority yet). Closed enterprises are left out. Grades as the coverage analysis rates objects:
    enterprises their own; venues by kind (``Settings.venue_grades``), one higher when they hold at least
    ``venue_crowd_capacity`` people; bridges and tunnels by condition class; gas stations the worse of the
    condition class's and the pressure's."""
    settings = settings or Settings()
    where = {"district_code": sorted(districts)} if districts else None
    parts = []
    for lay in layers:
        f = cached_read(store, lay, where=where)
        if len(f) == 0:
            continue
        lon, lat = _points(f)
        cols = set(f.columns)
        d = pd.DataFrame({
            "target_layer": lay, "target_id": f["id"].astype(str).to_numpy(),
            "name": f["name"].astype(object).to_numpy(),
            "address": f["address"].astype(object).to_numpy() if "address" in cols else None,
            "district_code": f["district_code"].astype(object).to_numpy(), "lon": lon, "lat": lat,
        })
        if lay == "enterprises":
            keep = (f["status"].fillna("operating") != "closed").to_numpy()
            d["kind"] = f["industry"].to_numpy()
            d["grade"] = f["grade"].to_numpy()
            d["skill"] = f["industry"].map(lambda k: INDUSTRIES.get(k, {}).get("skill")).to_numpy()
            d["open_hours"] = None
            d = d[keep]
        elif lay == "venues":
            d["kind"] = f["kind"].to_numpy()
            cap = pd.to_numeric(f["capacity"], errors="coerce").fillna(0).to_numpy()
            base = _grade_of(f["kind"].to_numpy(dtype=object), settings.venue_grades, "moderate")
            idx = np.array([GRADE_ORDER.index(g) if g in GRADE_ORDER else 2 for g in base])
            idx = np.where(cap >= settings.venue_crowd_capacity, np.maximum(idx - 1, 0), idx)
            d["grade"] = np.array(GRADE_ORDER, dtype=object)[idx]
            d["skill"] = LAYER_SKILL[lay]
            d["open_hours"] = f["open_hours"].astype(object).to_numpy()
        else:
            d["kind"] = f["kind"].to_numpy() if "kind" in cols else lay
            n = len(f)
            cond = f["condition_class"].to_numpy(dtype=object) if "condition_class" in cols else np.full(n, None)
            if lay == "gas_stations":
                pres = f["pressure"].to_numpy(dtype=object) if "pressure" in cols else np.full(n, None)
                d["grade"] = _worse(_grade_of(cond, CONDITION_GRADE, None), _grade_of(pres, PRESSURE_GRADE, None))
            else:
                d["grade"] = _grade_of(cond, CONDITION_GRADE, "moderate")
            d["skill"] = LAYER_SKILL[lay]
            d["open_hours"] = None
        parts.append(d)
    if not parts:
        return pd.DataFrame(columns=[c for c in CANDIDATE_COLUMNS if c not in
                                     ("last_inspected", "days_overdue", "priority", "source", "key")] + ["key"])
    out = pd.concat(parts, ignore_index=True)
    out["key"] = out["target_layer"] + ":" + out["target_id"]
    return out


def last_inspected(store: Store, *, until: date | None = None) -> pd.Series:
    """Date of the latest inspection per object key ``layer:id`` (dated up to ``until`` when given)."""
    ins = cached_read(store, "inspections", columns=["target_layer", "target_id", "date"])
    if len(ins) == 0:
        return pd.Series(dtype="datetime64[ns]")
    ins = ins.dropna(subset=["date"])
    if until is not None:
        ins = ins[ins["date"] <= pd.Timestamp(until)]
    key = ins["target_layer"].astype(str) + ":" + ins["target_id"].astype(str)
    return ins.groupby(key)["date"].max()


def _coverage(store: Store, *, as_of: date, settings: Settings):
    """The coverage analysis as of ``as_of`` (cached per store version); inspections dated up to ``as_of``
    count, since planning looks ahead of today."""
    from layers.analysis import coverage

    return coverage.compute_cached(store, as_of=as_of, settings=settings, today=max(date.today(), as_of))


def candidates(store: Store, *, as_of: date, settings: Settings, districts: Sequence[str] | None = None,
               limit: int | None = None) -> pd.DataFrame:
    """Ranked candidates from the coverage analysis (``layers.coverage``), highest priority first: its dead
    corners (priority = its score, risk weight x days overdue; the grade as it rates the object), then the
    objects lying in its blind-spot cells that are not dead corners (priority = their risk weight)."""
    result = _coverage(store, as_of=as_of, settings=settings)
    obj = objects(store, districts=districts, settings=settings)
    if len(obj) == 0:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    obj["last_inspected"] = last_inspected(store).reindex(obj["key"]).to_numpy()
    parts = []
    dead = _dead_frame(result)
    if len(dead):
        parts.append(obj.merge(dead, on="key", how="inner").assign(source="dead_corner"))
    blind = result.blind_spots
    if len(blind):
        from geo import grid

        res = int(result.reach.get("h3_resolution", settings.h3_resolution))
        cells = grid.cells_to_str(grid.latlng_to_cells(obj["lat"].to_numpy(), obj["lon"].to_numpy(), res))
        in_blind = np.isin(cells, blind["cell"].astype(str).to_numpy()) & ~obj["key"].isin(dead["key"]).to_numpy()
        bo = obj[in_blind].copy()
        if len(bo):
            bo["cov_grade"] = bo["grade"]
            bo["days_overdue"] = np.nan
            bo["priority"] = bo["grade"].map(lambda g: float(settings.grade_weights.get(g, 1.0))).astype(float)
            bo["source"] = "blind_spot"
            parts.append(bo)
    rechecks = awaiting_recheck(store, as_of=as_of)
    if len(rechecks):
        # a suspended enterprise gets a re-check visit (resumption needs a passed check), not a routine one:
        # ahead of every dead corner, and never twice
        top = max((float(p["priority"].max()) for p in parts if len(p)), default=0.0)
        parts = [p[~p["key"].isin(rechecks)] for p in parts]
        ro = obj[obj["key"].isin(rechecks)].copy()
        if len(ro):
            ro["cov_grade"] = ro["grade"]
            ro["days_overdue"] = np.nan
            w = ro["grade"].map(lambda g: float(settings.grade_weights.get(g, 1.0))).astype(float)
            ro["priority"] = top + 1.0 + w
            ro["source"] = "recheck"
            parts.append(ro)
    if not parts or not any(len(p) for p in parts):
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    out = pd.concat([p for p in parts if len(p)], ignore_index=True)
    out["grade"] = out["cov_grade"].where(out["cov_grade"].notna(), out["grade"])
    out = out[CANDIDATE_COLUMNS].sort_values(["priority", "key"], ascending=[False, True]).reset_index(drop=True)
    return out.head(limit) if limit else out


def awaiting_recheck(store: Store, *, as_of: date) -> set[str]:
    """Keys of the suspended enterprises (``enterprises.status`` "suspended") with no inspection since their
    latest suspension order: each needs a re-check visit before it may resume. Inspections count up to
    ``as_of``; a suspended enterprise with no suspension order on file always needs one."""
    ent = cached_read(store, "enterprises", columns=["id", "status"])
    sus = ent.loc[ent["status"].eq("suspended").fillna(False).to_numpy(dtype=bool), "id"].astype(str)
    if len(sus) == 0:
        return set()
    orders = cached_read(store, "orders", columns=["target_layer", "target_id", "kind", "date"])
    o = orders[orders["kind"].eq("suspend").fillna(False).to_numpy(dtype=bool) &
               orders["target_layer"].eq("enterprises").fillna(False).to_numpy(dtype=bool)]
    since = o.groupby(o["target_id"].astype(str))["date"].max().reindex(sus.to_numpy())
    last = last_inspected(store, until=as_of).reindex(("enterprises:" + sus).to_numpy())
    last_d = pd.to_datetime(pd.Series(last.to_numpy()), errors="coerce")
    since_d = pd.to_datetime(pd.Series(since.to_numpy()), errors="coerce")
    # no order on file: the status alone says suspended, so any earlier inspection was before it
    need = last_d.isna().to_numpy() | since_d.isna().to_numpy() | (last_d < since_d).fillna(False).to_numpy()
    return set(("enterprises:" + sus).to_numpy()[need])


def _dead_frame(result) -> pd.DataFrame:
    dc = result.dead_corners
    if len(dc) == 0:
        return pd.DataFrame(columns=["key", "cov_grade", "days_overdue", "priority"])
    return pd.DataFrame({"key": (dc["layer"].astype(str) + ":" + dc["id"].astype(str)).to_numpy(),
                         "cov_grade": dc["grade"].to_numpy(), "days_overdue": dc["days_overdue"].astype(float).to_numpy(),
                         "priority": dc["score"].astype(float).to_numpy()})


def add_candidates(current: pd.DataFrame, store: Store, keys: Iterable[str], *, as_of: date,
                   settings: Settings, source: str = "added") -> pd.DataFrame:
    """``current`` plus the objects ``keys`` (``layer:id``) not already in it, ranked like the rest (a dead
    corner gets its coverage priority; an object inspected in time gets priority 0)."""
    have = set(current["key"])
    keys = [k for k in keys if k not in have]
    if not keys:
        return current
    layers_ = sorted({k.split(":", 1)[0] for k in keys} & set(OBJECT_LAYERS))
    obj = objects(store, layers=layers_, settings=settings)
    obj = obj[obj["key"].isin(keys)].copy()
    if len(obj) == 0:
        return current
    obj["last_inspected"] = last_inspected(store).reindex(obj["key"]).to_numpy()
    dead = _dead_frame(_coverage(store, as_of=as_of, settings=settings))
    obj = obj.merge(dead, on="key", how="left")
    obj["grade"] = obj["cov_grade"].where(obj["cov_grade"].notna(), obj["grade"])
    obj["priority"] = obj["priority"].fillna(0.0)
    obj["source"] = source
    parts = [f for f in (current, obj[CANDIDATE_COLUMNS]) if len(f)]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# opening hours and service times
# --------------------------------------------------------------------------------------------------

def parse_hours(text: object) -> list[tuple[int, int]] | None:
    """Opening hours as (open, close) seconds of the day; ``"19:00-02:00"`` runs past midnight (close
    + 24 h); several ranges separated by ``,`` or ``;``; ``24h``/``全天`` is the whole day. None when empty or
    not understood."""
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        return None
    s = str(text).strip()
    if not s:
        return None
    if s.lower() in {"24h", "24小时", "全天", "00:00-24:00", "0:00-24:00"}:
        return [(0, DAY_S)]
    out = []
    for part in re.split(r"[,;，；、]", s):
        m = re.fullmatch(r"\s*(\d{1,2}[:：]\d{2})\s*[-–~至到]\s*(\d{1,2}[:：]\d{2})\s*", part)
        if not m:
            return None
        a = hhmm_to_s(m.group(1), field_name="open_hours")
        b = hhmm_to_s(m.group(2), field_name="open_hours")
        if b == 23 * 3600 + 59 * 60:
            b = DAY_S
        if b <= a:
            b += DAY_S
        out.append((a, b))
    return out or None


def object_hours(layer: str, kind: object, open_hours: object, settings: Settings) -> list[tuple[int, int]] | None:
    """When an object may be inspected: a venue's own opening hours, else its kind's default from
    ``Settings.venue_hours``; None (no limit beyond the shift) for other objects."""
    if layer != "venues":
        return None
    own = parse_hours(open_hours)
    if own:
        return own
    return parse_hours(settings.venue_hours.get(str(kind)))


def service_seconds(layer: str, grade: object, settings: Settings) -> int:
    """Minutes on site from ``Settings.service_minutes`` (``layer.grade``, else ``layer``, else 60), in s."""
    sm = settings.service_minutes
    minutes = sm.get(f"{layer}.{grade}", sm.get(layer, 60))
    return int(round(float(minutes) * 60))


# --------------------------------------------------------------------------------------------------
# travel times
# --------------------------------------------------------------------------------------------------

#: the road graph per (store identity, data version; EPSG) (:mod:`layers.cache`)
_GRAPHS: StoreCache[RoadGraph | None] = StoreCache("road graph", maxsize=4)


def _road_graph(store: Store, epsg: int) -> RoadGraph | None:
    roads = store.read("roads", columns=["road_class", "speed_kmh", "oneway", "geometry"])
    if len(roads) == 0:
        return None
    roads = roads[roads.geometry.notna() & ~roads.geometry.is_empty]
    if len(roads) == 0:
        return None
    metric = roads.to_crs(epsg)
    speed = pd.to_numeric(roads["speed_kmh"], errors="coerce")
    by_class = roads["road_class"].map(lambda c: ROAD_CLASSES.get(c, {}).get("speed", 30))
    speed = speed.where(speed > 0, by_class).astype(float).to_numpy()
    oneway = roads["oneway"].fillna(False).astype(bool).to_numpy()
    return RoadGraph.from_lines(metric.geometry.to_numpy(), speed, oneway)


def metric_epsg(lon: np.ndarray, lat: np.ndarray) -> int:
    """EPSG code of the UTM zone at the centre of the points (WGS-84 UTM, north or south)."""
    lon0, lat0 = float(np.nanmean(lon)), float(np.nanmean(lat))
    zone = int(np.floor((lon0 + 180.0) / 6.0)) % 60 + 1
    return (32600 if lat0 >= 0 else 32700) + zone


def road_graph(store: Store, epsg: int) -> RoadGraph | None:
    """The store's road graph in ``epsg`` (cached per store identity and data version); None without roads."""
    return _GRAPHS.get(store, lambda: _road_graph(store, int(epsg)), key=int(epsg))


def travel_matrix(store: Store, lon: np.ndarray, lat: np.ndarray, *, settings: Settings,
                  use_roads: bool = True) -> tuple[np.ndarray, str, int]:
    """Travel times in seconds between the points, the way it was computed (``"roads"`` or
    ``"straight"``) and the metric EPSG used."""
    from pyproj import Transformer

    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    epsg = metric_epsg(lon, lat)
    tr = Transformer.from_crs(4326, epsg, always_xy=True)
    x, y = tr.transform(lon, lat)
    xy = np.column_stack([x, y])
    graph = road_graph(store, epsg) if use_roads else None
    if graph is not None and graph.n_nodes > 1:
        return graph.matrix(xy), "roads", epsg
    return straight_line_matrix(xy, speed_kmh=settings.travel_speed_kmh, detour=settings.detour_factor), \
        "straight", epsg


# --------------------------------------------------------------------------------------------------
# the plan
# --------------------------------------------------------------------------------------------------

@dataclass
class Plan:
    """A computed (or opened) plan.

    stops : one row per assigned stop, ordered by team, day, seq.
    unassigned : candidates left out, with ``reason`` (a key of :data:`REASONS`).
    timeline : travel / idle / service / break segments per team and day (for the Gantt chart).
    params : everything needed to repeat the plan (dates, districts, teams, candidate keys, locks, draw).
    summary : stops per team, priority served, travel time, unassigned by reason, travel mode.
    """

    stops: pd.DataFrame
    unassigned: pd.DataFrame
    timeline: pd.DataFrame
    params: dict
    summary: dict
    id: str | None = None
    name: str | None = None
    version: int | None = None
    created_by: str | None = None
    created_at: str | None = None
    teams: list[TeamSpec] = field(default_factory=list)


STOP_COLUMNS = ["team_id", "day", "seq", "key", "target_layer", "target_id", "name", "address", "kind", "grade",
                "skill", "district_code", "lon", "lat", "priority", "days_overdue", "source", "arrival", "start",
                "departure", "travel_s", "wait_s", "service_s", "locked", "status"]
TIMELINE_COLUMNS = ["team_id", "day", "kind", "start", "end", "key", "label"]


@dataclass
class Problem:
    """A routing problem built from candidates and teams: the travel-time matrix (team bases first, then the
    candidates), one vehicle per team and day, the jobs, and the candidates already ruled out (``reasons``:
    candidate row -> reason key). Job ``j`` is candidate row ``j.id - 1``; vehicle ``v`` is
    ``vehicle_meta[v.id - 1]`` = (team index, day index)."""

    cands: pd.DataFrame
    teams: list[TeamSpec]
    dates: list[date]
    matrix: np.ndarray
    mode: str
    epsg: int
    vehicles: list[RouteVehicle]
    vehicle_meta: list[tuple[int, int]]
    jobs: list[RouteJob]
    reasons: dict[int, str]
    locks: dict[str, str]
    anchors: dict[str, tuple[int, int]] = field(default_factory=dict)
    order_released: list[str] = field(default_factory=list)


def plan_routes(
    store: Store,
    cands: pd.DataFrame,
    teams: Sequence[TeamSpec],
    *,
    dates: Sequence[date],
    settings: Settings,
    locks: dict[str, str] | None = None,
    anchors: dict[str, tuple[int, int]] | None = None,
    districts: Sequence[str] | None = None,
    extra_params: dict | None = None,
    use_roads: bool = True,
    exploration_level: int = 5,
    nb_threads: int = 2,
    timeout_s: float | None = 60.0,
) -> Plan:
    """Plan routes for ``teams`` over ``cands`` (rows as from :func:`candidates`) on ``dates``.

    ``locks`` maps a candidate key to the team that must visit it (a locked or moved stop); such stops get the
    top priority and stay with that team. ``anchors`` (from :func:`lock_anchors`: where a locked stop was in the
    plan being re-planned) also keep a locked stop on its day of the plan and in its order among that team's
    locked stops of the day (see :func:`order_windows`); a locked stop without an anchor (one just moved to
    another team) keeps only its team. Candidates with ``source == "random"`` (the double-random draw) are also
    served first. ``timeout_s`` caps the search.
    """
    problem = build_problem(store, cands, teams, dates=dates, settings=settings, locks=locks, anchors=anchors,
                            use_roads=use_roads)
    result = solve(problem.matrix, problem.vehicles, problem.jobs, exploration_level=exploration_level,
                   nb_threads=nb_threads, timeout_s=timeout_s)
    return assemble(problem, result, settings=settings, districts=districts, extra_params=extra_params)


def build_problem(store: Store, cands: pd.DataFrame, teams: Sequence[TeamSpec], *, dates: Sequence[date],
                  settings: Settings, locks: dict[str, str] | None = None,
                  anchors: dict[str, tuple[int, int]] | None = None, use_roads: bool = True) -> Problem:
    """The routing problem for ``teams`` over ``cands`` on ``dates`` (see :func:`plan_routes`)."""
    if not teams:
        raise RiskMapError("请至少选择一个检查组 (choose at least one team)")
    if not dates:
        raise RiskMapError("请选择计划日期 (choose the plan date)")
    locks = dict(locks or {})
    dates = sorted(dates)
    team_ids = [t.id for t in teams]
    bad_locks = {k: v for k, v in locks.items() if v not in team_ids}
    if bad_locks:
        raise RiskMapError(f"锁定的站点指向未参加的检查组：{bad_locks} (locked stops point to teams not taking part: "
                           f"{bad_locks})")
    cands = cands.drop_duplicates("key").reset_index(drop=True)

    # locations: team bases first, then candidates
    base_lon = np.array([t.lon for t in teams])
    base_lat = np.array([t.lat for t in teams])
    lon = np.concatenate([base_lon, cands["lon"].to_numpy(dtype=float)])
    lat = np.concatenate([base_lat, cands["lat"].to_numpy(dtype=float)])
    matrix, mode, epsg = travel_matrix(store, lon, lat, settings=settings, use_roads=use_roads)
    n_t = len(teams)

    # integer skills: skill names, districts, one pin per team (locks)
    skill_ids: dict[str, int] = {}
    for s in sorted({s for t in teams for s in t.skills} | set(cands["skill"].dropna().astype(str))):
        skill_ids[s] = len(skill_ids) + 1
    all_districts = sorted({str(d) for d in cands["district_code"].dropna()} | {d for t in teams for d in t.districts})
    district_ids = {d: 10_000 + i for i, d in enumerate(all_districts)}
    pin_ids = {t.id: 100_000 + i for i, t in enumerate(teams)}

    vehicles: list[RouteVehicle] = []
    vehicle_meta: list[tuple[int, int]] = []  # (team index, day index)
    for ti, t in enumerate(teams):
        s0 = hhmm_to_s(t.shift_start, field_name=f"{t.id}.shift_start")
        s1 = hhmm_to_s(t.shift_end, field_name=f"{t.id}.shift_end")
        if s1 <= s0:
            s1 += DAY_S
        sk = {skill_ids[s] for s in t.skills if s in skill_ids}
        sk |= {district_ids[d] for d in (t.districts or all_districts) if d in district_ids}
        sk.add(pin_ids[t.id])
        for di in range(len(dates)):
            off = di * DAY_S
            brk: tuple[tuple[int, int, int], ...] = ()
            if t.break_start and t.break_minutes > 0:
                b0 = hhmm_to_s(t.break_start, field_name=f"{t.id}.break_start")
                brk = ((off + b0 - 1800, off + b0 + 1800, int(t.break_minutes) * 60),)
            vehicles.append(RouteVehicle(id=len(vehicles) + 1, start=ti, end=ti, time_window=(off + s0, off + s1),
                                         skills=frozenset(sk), breaks=brk))
            vehicle_meta.append((ti, di))

    shifts = {}
    for t in teams:
        s0 = hhmm_to_s(t.shift_start, field_name=f"{t.id}.shift_start")
        s1 = hhmm_to_s(t.shift_end, field_name=f"{t.id}.shift_end")
        shifts[t.id] = (s0, s1 + DAY_S if s1 <= s0 else s1)
    cand_keys = set(cands["key"])
    anchors = {k: (int(a[0]), int(a[1])) for k, a in (anchors or {}).items() if k in locks and k in cand_keys}
    windows = _lock_windows(anchors, locks, cands, teams, shifts, matrix, n_days=len(dates), settings=settings)
    released: list[str] = [k for k in anchors if k not in windows]

    levels = priority_levels(cands["priority"].fillna(0).to_numpy(dtype=float), top=99)
    reasons: dict[int, str] = {}
    jobs: list[RouteJob] = []
    team_skills = [set(t.skills) for t in teams]
    for ci, row in enumerate(cands.itertuples(index=False)):
        service = service_seconds(row.target_layer, row.grade, settings)
        hours = object_hours(row.target_layer, row.kind, row.open_hours, settings)
        tws: list[tuple[int, int]] = []
        if hours is not None:
            for di in range(len(dates)):
                for a, b in hours:
                    if b - service >= a:
                        tws.append((di * DAY_S + a, di * DAY_S + b - service))
            if not tws:
                reasons[ci] = "outside_hours"
                continue
        skill = str(row.skill) if isinstance(row.skill, str) else None
        dist = str(row.district_code) if isinstance(row.district_code, str) else None
        locked_to = locks.get(row.key)
        allowed = [ti for ti in range(n_t) if locked_to is None or teams[ti].id == locked_to]
        with_skill = [ti for ti in allowed if skill is None or skill in team_skills[ti]]
        if not with_skill:
            reasons[ci] = "no_skill"
            continue
        in_scope = [ti for ti in with_skill if dist is None or not teams[ti].districts or dist in teams[ti].districts]
        if not in_scope:
            reasons[ci] = "out_of_scope"
            continue
        job_sk = set()
        if skill is not None:
            job_sk.add(skill_ids[skill])
        if dist is not None:
            job_sk.add(district_ids[dist])
        if locked_to is not None:
            job_sk.add(pin_ids[locked_to])
        pr = 100 if (locked_to is not None or row.source == "random") else int(levels[ci])
        job = RouteJob(id=ci + 1, location=n_t + ci, service=service, skills=frozenset(job_sk), priority=pr,
                       time_windows=tuple(tws))

        def reachable(j: RouteJob, in_scope=in_scope) -> bool:
            return any(reachable_alone(matrix, v, j) for v, (ti, _) in zip(vehicles, vehicle_meta, strict=True)
                       if ti in in_scope)

        if row.key in windows:
            # keep the day and the order: start inside its slice of the day (within its opening hours)
            lo, hi = windows[row.key]
            kept = _intersect(tws or [(lo, hi)], lo, hi)
            ordered = replace(job, time_windows=tuple(kept)) if kept else None
            if ordered is not None and reachable(ordered):
                job = ordered
            else:   # its hours or the team's shift changed: only the team is kept
                released.append(str(row.key))
        if not reachable(job):
            reasons[ci] = "outside_hours"
            continue
        jobs.append(job)

    return Problem(cands=cands, teams=list(teams), dates=list(dates), matrix=matrix, mode=mode, epsg=epsg,
                   vehicles=vehicles, vehicle_meta=vehicle_meta, jobs=jobs, reasons=reasons, locks=locks,
                   anchors={k: a for k, a in anchors.items() if k in windows and k not in released},
                   order_released=sorted(released))


def _intersect(windows: Iterable[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    out = []
    for a, b in windows:
        a, b = max(int(a), lo), min(int(b), hi)
        if a <= b:
            out.append((a, b))
    return out


def lock_anchors(previous: Plan | None, locks: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Where each locked stop is in ``previous`` (the plan being re-planned): its day of the plan (0 = the first)
    and the second of that day its service starts. Only stops that ``previous`` gives to the team they are locked
    to count: a stop just moved to another team has no place there yet."""
    if previous is None or len(previous.stops) == 0 or not locks:
        return {}
    days = sorted({str(d)[:10] for d in previous.params.get("dates") or []} |
                  {str(d)[:10] for d in previous.stops["day"]})
    out: dict[str, tuple[int, int]] = {}
    for r in previous.stops.itertuples(index=False):
        when = r.start if r.start is not None and not pd.isna(r.start) else r.arrival
        if locks.get(str(r.key)) != str(r.team_id) or when is None or pd.isna(when):
            continue
        day = str(r.day)[:10]
        start = pd.Timestamp(when)
        secs = int((start - pd.Timestamp(day)).total_seconds())
        out[str(r.key)] = (days.index(day), secs)
    return out


def _lock_windows(anchors: dict[str, tuple[int, int]], locks: dict[str, str], cands: pd.DataFrame,
                  teams: Sequence[TeamSpec], shifts: dict[str, tuple[int, int]], matrix: np.ndarray, *, n_days: int,
                  settings: Settings) -> dict[str, tuple[int, int]]:
    """Per anchored locked stop, the window (seconds on the plan's clock, day ``d`` from ``d x 86400``) its service
    must start in to stay on its day and in its order among its team's locked stops of that day
    (:func:`chain_windows`). A day past the new plan's last (a week re-planned as one day) becomes its last day,
    the order kept across the merged days."""
    n_t = len(teams)
    team_index = {t.id: ti for ti, t in enumerate(teams)}
    key_index = {k: ci for ci, k in enumerate(cands["key"])}
    groups: dict[tuple[str, int], list[tuple[int, int, str]]] = {}
    for key, (day, secs) in anchors.items():
        team = locks.get(key)
        if team in team_index and key in key_index:
            groups.setdefault((team, min(max(day, 0), n_days - 1)), []).append((day, secs, key))
    out: dict[str, tuple[int, int]] = {}
    for (team, d), members in groups.items():
        members.sort()
        ti, (s0, s1) = team_index[team], shifts[team]
        rows = [cands.iloc[key_index[k]] for _, _, k in members]
        locs = [n_t + key_index[k] for _, _, k in members]
        serv = [service_seconds(r["target_layer"], r["grade"], settings) for r in rows]
        hours = [[(a, b - sv) for a, b in (object_hours(r["target_layer"], r["kind"], r["open_hours"], settings)
                                           or [(0, 2 * DAY_S)]) if b - sv >= a] for r, sv in zip(rows, serv, strict=True)]
        early, t, prev = [], s0, ti   # the chain alone, as early as it can go ...
        for loc, sv, hw in zip(locs, serv, hours, strict=True):
            t += int(matrix[prev, loc])
            t = next((max(t, a) for a, b in hw if b >= t), t)
            early.append(t)
            t, prev = t + sv, loc
        late, t, nxt = [], s1, ti     # ... and as late
        for loc, sv, hw in zip(locs[::-1], serv[::-1], hours[::-1], strict=True):
            t -= int(matrix[loc, nxt]) + sv
            t = next((min(t, b) for a, b in hw[::-1] if a <= t), t)
            late.append(t)
            nxt = loc
        for (_, _, key), (lo, hi) in zip(members, chain_windows([sc for _, sc, _ in members], early, late[::-1],
                                                                lo=s0, hi=s1), strict=True):
            out[key] = (d * DAY_S + lo, d * DAY_S + hi)
    return out


def chain_windows(previous: Sequence[int], early: Sequence[int], late: Sequence[int], *, lo: int, hi: int
                  ) -> list[tuple[int, int]]:
    """Consecutive start windows that keep a chain of locked stops in order (seconds of the day).

    VROOM has no precedence between jobs other than a shipment's pickup before its delivery (a pair, not a
    chain), and a vehicle's ``steps`` are only a starting point in its solving mode (VROOM docs/API.md,
    "Vehicle steps"); its time windows are hard. So the shift ``lo``..``hi`` is cut into slices, one per stop in
    the chain's order: stop k may start only inside slice k, hence before stop k+1, and other stops may go
    anywhere around them. Each stop's place is its ``previous`` start moved inside its ``early``..``late``
    (when the chain alone could start it, coming from the base and going back: a shift that now starts later
    pushes the chain along), and each boundary lies half-way between two neighbours' places."""
    places: list[int] = []
    for p, e, la in zip(previous, early, late, strict=True):
        x = min(max(int(p), int(e)), max(int(la), int(e)))
        places.append(max(x, places[-1] + 1) if places else x)
    out, a = [], int(lo)
    for i, x in enumerate(places):
        b = int(hi) if i == len(places) - 1 else (x + places[i + 1]) // 2
        out.append((a, max(a, b)))
        a = max(a, b) + 1
    return out


def assemble(problem: Problem, result, *, settings: Settings, districts: Sequence[str] | None = None,
             extra_params: dict | None = None) -> Plan:
    """The :class:`Plan` from a problem and the routing engine's result."""
    cands, teams, dates, locks = problem.cands, problem.teams, problem.dates, problem.locks
    vehicles, vehicle_meta, mode, epsg = problem.vehicles, problem.vehicle_meta, problem.mode, problem.epsg
    reasons = dict(problem.reasons)
    for jid in result.unassigned:
        reasons[jid - 1] = "not_enough_time"

    stop_rows, tl_rows = [], []
    for v, (ti, di) in zip(vehicles, vehicle_meta, strict=True):
        steps = result.routes.get(v.id, [])
        team = teams[ti]
        day = dates[di]
        # the engine counts seconds from the first day's midnight, one day after another; a plan's days need not
        # follow one another (a working week skips the weekend): each day's clock starts at its own midnight
        off = di * DAY_S
        base = pd.Timestamp(day)
        seq = 0
        cur = None
        for st in steps:
            if st.kind == "start":
                cur = st.arrival
                continue
            if cur is None:
                cur = st.arrival
            if st.travel > 0:
                tl_rows.append((team.id, day, "travel", cur - off, cur + st.travel - off, None, ""))
            begin = st.arrival + st.waiting
            if begin > cur + st.travel:
                tl_rows.append((team.id, day, "idle", cur + st.travel - off, begin - off, None, ""))
            if st.kind == "break":
                tl_rows.append((team.id, day, "break", begin - off, begin + st.service - off, None, ""))
            elif st.kind == "job":
                ci = st.job_id - 1
                row = cands.iloc[ci]
                seq += 1
                tl_rows.append((team.id, day, "service", begin - off, begin + st.service - off, row["key"],
                                f"{seq}. {row['name']}"))
                stop_rows.append({
                    "team_id": team.id, "day": day, "seq": seq, **{c: row[c] for c in (
                        "key", "target_layer", "target_id", "name", "address", "kind", "grade", "skill",
                        "district_code", "lon", "lat", "priority", "days_overdue", "source")},
                    "arrival": base + pd.Timedelta(seconds=st.arrival - off),
                    "start": base + pd.Timedelta(seconds=begin - off),
                    "departure": base + pd.Timedelta(seconds=begin + st.service - off),
                    "travel_s": st.travel, "wait_s": st.waiting, "service_s": st.service,
                    "locked": row["key"] in locks, "status": "planned"})
            cur = begin + st.service
    stops = pd.DataFrame(stop_rows, columns=STOP_COLUMNS)
    timeline = pd.DataFrame(tl_rows, columns=TIMELINE_COLUMNS)
    if len(timeline):
        midnight = pd.to_datetime(timeline["day"])
        timeline["start"] = midnight + pd.to_timedelta(timeline["start"], unit="s")
        timeline["end"] = midnight + pd.to_timedelta(timeline["end"], unit="s")
    un_idx = sorted(reasons)
    unassigned = cands.iloc[un_idx].copy()
    unassigned["reason"] = [reasons[i] for i in un_idx]
    unassigned = unassigned.sort_values(["priority", "key"], ascending=[False, True]).reset_index(drop=True)

    params = {
        "dates": [d.isoformat() for d in dates],
        "districts": list(districts) if districts else None,
        "teams": [t.to_dict() for t in teams],
        "candidates": cands[["key", "source"]].to_dict("records"),
        "priorities": {k: [_num(p), _num(o)] for k, p, o in zip(cands["key"], cands["priority"],
                                                                cands["days_overdue"], strict=True)},
        "locks": locks,
        "lock_order": {k: list(a) for k, a in problem.anchors.items()},
        "order_released": list(problem.order_released),
        "travel_mode": mode,
        "epsg": epsg,
        "settings": {"detour_factor": settings.detour_factor, "travel_speed_kmh": settings.travel_speed_kmh,
                     "service_minutes": dict(settings.service_minutes), "venue_hours": dict(settings.venue_hours)},
        **(extra_params or {}),
    }
    params["breaks"] = [[r[0], str(r[1]), r[3].isoformat(), r[4].isoformat()]
                        for r in timeline[timeline["kind"] == "break"].itertuples(index=False)] if len(timeline) else []
    plan = Plan(stops=stops, unassigned=unassigned, timeline=timeline, params=params, summary={}, teams=list(teams))
    plan.summary = summarize(plan)
    return plan


def _num(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(f) else round(f, 3)


def summarize(plan: Plan) -> dict:
    """Stops per team, priority served, travel/service/idle time, unassigned by reason, travel mode."""
    s, tl = plan.stops, plan.timeline
    per_team = {}
    for t in plan.teams:
        mine = s[s["team_id"] == t.id]
        tl_t = tl[tl["team_id"] == t.id] if len(tl) else tl
        secs = (tl_t["end"] - tl_t["start"]).dt.total_seconds() if len(tl_t) else pd.Series(dtype=float)

        def dur(kind: str, tl_t=tl_t, secs=secs) -> float:
            return float(secs[tl_t["kind"] == kind].sum()) if len(tl_t) else 0.0

        per_team[t.id] = {"name": t.name, "stops": int(len(mine)),
                          "priority": round(float(mine["priority"].fillna(0).sum()), 1),
                          "travel_min": round(dur("travel") / 60, 1), "service_min": round(dur("service") / 60, 1),
                          "idle_min": round(dur("idle") / 60, 1)}
    un = plan.unassigned
    return {
        "stops": int(len(s)),
        "priority_served": round(float(s["priority"].fillna(0).sum()), 1),
        "priority_total": round(float(s["priority"].fillna(0).sum() + un["priority"].fillna(0).sum()), 1),
        "travel_min": round(sum(v["travel_min"] for v in per_team.values()), 1),
        "unassigned": int(len(un)),
        "unassigned_by_reason": {k: int(v) for k, v in un["reason"].value_counts().items()} if len(un) else {},
        "travel_mode": plan.params.get("travel_mode"),
        "teams": per_team,
    }


def summary_lines(plan: Plan, lang: str = "zh") -> list[str]:
    """The summary as text lines (CLI, page header)."""
    sm = plan.summary
    en = lang == "en"
    mode = sm.get("travel_mode")
    mode_text = ({"roads": "road network shortest paths", "straight": "straight line x detour factor"} if en else
                 {"roads": "道路网最短路径", "straight": "直线距离 x 绕行系数"}).get(mode, str(mode))
    lines = [
        (f"Stops: {sm['stops']}  priority served: {sm['priority_served']} of {sm['priority_total']}  "
         f"travel: {sm['travel_min']} min  travel times: {mode_text}") if en else
        (f"站点 {sm['stops']} 个，已排优先级 {sm['priority_served']} / {sm['priority_total']}，"
         f"行车 {sm['travel_min']} 分钟，行程时间：{mode_text}")
    ]
    rnd = plan.params.get("random")
    if rnd:
        served = len(set(rnd.get("drawn", [])) & set(plan.stops["key"]))
        lines.append(
            f"Double-random draw: seed {rnd['seed']}, {len(rnd.get('drawn', []))} of {rnd.get('population')} drawn, "
            f"{served} in the routes" if en else
            f"双随机抽查：种子 {rnd['seed']}，从 {rnd.get('population')} 个中抽取 {len(rnd.get('drawn', []))} 个，"
            f"已排入路线 {served} 个")
    for tid, v in sm["teams"].items():
        lines.append(f"  {tid} {v['name']}: " + (
            f"{v['stops']} stops, priority {v['priority']}, travel {v['travel_min']} min, "
            f"service {v['service_min']} min, idle {v['idle_min']} min" if en else
            f"{v['stops']} 站，优先级 {v['priority']}，行车 {v['travel_min']} 分，检查 {v['service_min']} 分，"
            f"空闲 {v['idle_min']} 分"))
    if sm["unassigned"]:
        lines.append(f"Unassigned: {sm['unassigned']}" if en else f"未分配 {sm['unassigned']} 个：")
        for reason, n in sm["unassigned_by_reason"].items():
            lines.append(f"  {REASONS[reason]['en' if en else 'zh']}: {n}")
    return lines


def route_lines(store: Store, plan: Plan, *, use_roads: bool = True) -> dict[tuple[str, str], tuple[np.ndarray,
                                                                                                      np.ndarray]]:
    """Lon/lat polylines of each team's route per day (base -> stops -> base), along the roads when the plan
    used them, else straight; keyed by (team id, day ISO)."""
    from pyproj import Transformer

    out: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    if len(plan.stops) == 0:
        return out
    epsg = int(plan.params.get("epsg") or metric_epsg(plan.stops["lon"].to_numpy(), plan.stops["lat"].to_numpy()))
    graph = road_graph(store, epsg) if (use_roads and plan.params.get("travel_mode") == "roads") else None
    fwd = Transformer.from_crs(4326, epsg, always_xy=True)
    back = Transformer.from_crs(epsg, 4326, always_xy=True)
    bases = {t.id: (t.lon, t.lat) for t in plan.teams}
    for (tid, day), g in plan.stops.sort_values("seq").groupby(["team_id", "day"], sort=True):
        b = bases.get(tid)
        lon = np.array([b[0], *g["lon"].to_numpy(dtype=float), b[0]]) if b else g["lon"].to_numpy(dtype=float)
        lat = np.array([b[1], *g["lat"].to_numpy(dtype=float), b[1]]) if b else g["lat"].to_numpy(dtype=float)
        if graph is not None and graph.n_nodes > 1:
            x, y = fwd.transform(lon, lat)
            legs = graph.paths_xy(np.column_stack([x, y]))
            xy = np.vstack(legs) if legs else np.column_stack([x, y])
            lon, lat = back.transform(xy[:, 0], xy[:, 1])
        out[(str(tid), str(day))] = (np.asarray(lon), np.asarray(lat))
    return out


def week_dates(start: date, days: int = 5, *, weekdays_only: bool = True) -> list[date]:
    """``days`` plan dates from ``start`` (working days only unless ``weekdays_only`` is False)."""
    out, d = [], start
    while len(out) < days:
        if not weekdays_only or d.weekday() < 5:
            out.append(d)
        d += timedelta(days=1)
    return out


def parse_date(text: str | date) -> date:
    if isinstance(text, date):
        return text if not isinstance(text, datetime) else text.date()
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise RiskMapError(f"日期 {text!r} 无效，请写成 YYYY-MM-DD (date {text!r} is not valid; write YYYY-MM-DD)"
                           ) from None
