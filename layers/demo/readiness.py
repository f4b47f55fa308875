"""Emergency readiness of the demo city (issue 15): resources of the new kinds, resource statuses, flood point
severity and history, contingency plans, drills and the duty roster, with realistic gaps.

Drawn from its own random stream (``np.random.default_rng([seed, READINESS_STREAM])``), after the rest of the
city, so every other table of the demo stays exactly as it was. Vectorised (no Python loop per object), so it
scales with the city to a million enterprises.

What it makes:

* resources of the new kinds (local metres, then WGS-84): a hazchem rescue team beside every industrial park but
  the last (whose team is out of service), medical stations in the dense centres (the suburbs wait longer),
  drainage pump, sandbag, boat and generator depots mostly along the water in the core; a few of every kind out
  of service. Existing resources get a status too (ready mostly).
* flood points' severity from their depth and kind (a few left empty: read as minor), and their waterlogging
  history in the flood seasons (June to September) of the demo's two years.
* contingency plans for most major, high and hazchem enterprises, venues and tunnels (some missing, some old), a
  plan per district; drills: most in time, some overdue, some objects never drilled (more so away from the
  centre).
* a duty roster (leader and officer per day) for the city's duty room (no district) and each district, for the
  60 days around :data:`~layers.demo.activity.AS_OF`.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.ops import nearest_points

from layers.demo.activity import AS_OF
from layers.demo.geography import Geography, density, xy_to_lonlat
from layers.demo.names import concat, make_ids, person_names, place_names
from layers.demo.objects import sample_points

READINESS_STREAM = 15
#: the demo's drills a year per object (the default ``Settings.drills_per_year``)
_DRILLS = {"major": 2, "hazchem": 2, "high": 1, "venues": 1, "tunnels": 1}
_WINDOW_DAYS = 730  # the demo's two years of records
_WEST_DEPOTS = (-6_000.0, 1_000.0)  # where the flood depots gather (local metres)
_NOTES = np.array([None, None, "流程熟练，职责清楚", "通讯联络不畅，已整改", "疏散用时超标，需复演",
                   "物资调配较慢", "与消防联动顺畅"], dtype=object)


@dataclass
class Readiness:
    resources: gpd.GeoDataFrame      # every resource (the old ones first, with a status)
    flood_points: gpd.GeoDataFrame   # with severity
    emergency_plans: pd.DataFrame
    drills: pd.DataFrame
    flood_events: pd.DataFrame
    duty_roster: pd.DataFrame


def _locate(lon: np.ndarray, lat: np.ndarray, towns: gpd.GeoDataFrame) -> np.ndarray:
    """District code of each point (the town polygon holding it; the nearest for points on none)."""
    pts = shapely.points(lon, lat)
    tree = shapely.STRtree(towns.geometry.to_numpy())
    pi, gi = tree.query(pts, predicate="within")
    at = np.full(len(pts), -1, dtype=np.int64)
    at[pi] = gi
    miss = np.flatnonzero(at < 0)
    if len(miss):
        at[miss] = tree.query_nearest(pts[miss], all_matches=False)[1]
    return towns["district_code"].to_numpy(dtype=object)[at]


def _new_resources(rng: np.random.Generator, geo: Geography, parks: list) -> pd.DataFrame:
    """The resources of the new kinds (metres), with capacity and status."""
    land = geo.land.buffer(-150)
    shapely.prepare(land)
    rows = []

    def add(kind: str, xy: np.ndarray, word: str, cap: tuple[int, int], down: np.ndarray) -> None:
        zh, _ = place_names(rng, len(xy), unique=True)
        capacity = rng.integers(cap[0], cap[1] + 1, len(xy))
        for (x, y), z, c, d in zip(xy, zh, capacity, down, strict=True):
            rows.append({"x": float(x), "y": float(y), "kind": kind, "name": z + word, "capacity": int(c),
                         "phone": f"0700-{int(rng.integers(6_000_000, 9_000_000))}",
                         "status": "out_of_service" if d else "ready"})

    # hazchem teams: beside each industrial park but the last, whose team is out of service
    if parks:
        centres = []
        for p in parks:
            c = shapely.point_on_surface(p)
            q = c if land.contains(c) else nearest_points(land, c)[0]
            centres.append((q.x, q.y))
        down = np.zeros(len(centres), bool)
        down[-1] = len(centres) > 1
        add("hazchem_team", np.array(centres), "危化品应急救援队", (15, 40), down)
    core = geo.land.intersection(geo.level_regions[2]).buffer(-100)
    near_water = geo.water.buffer(1_200).intersection(core)
    med = sample_points(rng, 16, lambda x, y: density(x, y) ** 1.3, land)
    add("medical", med, "急救站", (2, 8), rng.uniform(0, 1, len(med)) < 0.12)
    # the flood depots stand on the west side of the core (the old town): the east bank waits longer
    west = shapely.Point(_WEST_DEPOTS).buffer(7_000).intersection(near_water)
    pumps = sample_points(rng, 4, lambda x, y: density(x, y) + 0.1, west)
    add("drainage_pump", pumps, "排涝泵站", (1, 1), np.arange(len(pumps)) == 0)
    bags = sample_points(rng, 6, lambda x, y: density(x, y) + 0.05, west)
    add("sandbags", bags, "防汛沙袋储备点", (100, 400), np.arange(len(bags)) == 1)
    boats = sample_points(rng, 2, lambda x, y: density(x, y) + 0.2, west)
    add("boat", boats, "冲锋舟停放点", (1, 2), np.zeros(len(boats), bool))
    gens = sample_points(rng, 3, lambda x, y: density(x, y) + 0.1, west)
    add("generator", gens, "应急发电车", (1, 1), np.arange(len(gens)) == 2)
    return pd.DataFrame(rows)


def _severity(rng: np.random.Generator, fp: pd.DataFrame) -> np.ndarray:
    depth = pd.to_numeric(fp["max_depth_cm"], errors="coerce").fillna(0).to_numpy(dtype=float)
    kind = fp["kind"].to_numpy(dtype=object)
    sev = np.where((depth >= 60) | ((kind == "underpass") & (depth >= 40)), "severe",
                   np.where(depth >= 30, "moderate", "minor")).astype(object)
    sev[rng.uniform(0, 1, len(fp)) < 0.08] = None  # not assessed yet: read as minor
    return sev


def _flood_events(rng: np.random.Generator, fp: pd.DataFrame, sev: np.ndarray) -> pd.DataFrame:
    lam = np.array([{"severe": 4.0, "moderate": 2.0}.get(s, 1.0) for s in sev], dtype=float)
    first = AS_OF - pd.Timedelta(days=_WINDOW_DAYS)
    seasons = [y for y in (AS_OF.year - 2, AS_OF.year - 1, AS_OF.year)
               if pd.Timestamp(y, 6, 1).date() >= first and pd.Timestamp(y, 9, 30).date() <= AS_OF]
    parts = []
    for y in seasons:
        n = rng.poisson(lam)
        point = np.repeat(np.arange(len(fp)), n)
        start = np.datetime64(f"{y}-06-01")
        when = start + rng.integers(0, 122, len(point)).astype("timedelta64[D]")
        parts.append((point, when))
    point = np.concatenate([p for p, _ in parts]) if parts else np.empty(0, np.int64)
    when = np.concatenate([w for _, w in parts]) if parts else np.empty(0, "datetime64[D]")
    order = np.lexsort((point, when))
    point, when = point[order], when[order]
    top = pd.to_numeric(fp["max_depth_cm"], errors="coerce").fillna(30).to_numpy(dtype=float)[point]
    depth = np.maximum(5, np.round(top * rng.uniform(0.3, 1.0, len(point)))).astype(np.int64)
    hours = np.round(rng.uniform(0.5, 10.0, len(point)) * 2) / 2
    return pd.DataFrame({"id": make_ids("FE", len(point), 5), "point_id": fp["id"].to_numpy(dtype=object)[point],
                         "date": pd.to_datetime(when), "depth_cm": depth, "hours": hours,
                         "district_code": fp["district_code"].to_numpy(dtype=object)[point]})


def _targets(city: dict) -> pd.DataFrame:
    """The objects that must hold drills: layer, id, name, district, drills a year, distance rank (0 central)."""
    e = city["enterprises"]
    grade = e["grade"].to_numpy(dtype=object)
    hz = e["industry"].to_numpy(dtype=object) == "hazchem"
    keep = (e["status"].to_numpy(dtype=object) != "closed") & (np.isin(grade, ["major", "high"]) | hz)
    n_e = np.where((grade == "major") | hz, _DRILLS["major"], _DRILLS["high"])
    parts = [pd.DataFrame({"layer": "enterprises", "id": e["id"].to_numpy(dtype=object)[keep],
                           "name": e["name"].to_numpy(dtype=object)[keep],
                           "district_code": e["district_code"].to_numpy(dtype=object)[keep], "per_year": n_e[keep],
                           "suffix": "生产安全事故应急预案"})]
    for layer, suffix in (("venues", "突发事件应急预案"), ("tunnels", "隧道突发事件应急预案")):
        f = city[layer]
        parts.append(pd.DataFrame({"layer": layer, "id": f["id"].to_numpy(dtype=object),
                                   "name": f["name"].to_numpy(dtype=object),
                                   "district_code": f["district_code"].to_numpy(dtype=object),
                                   "per_year": _DRILLS[layer], "suffix": suffix}))
    return pd.concat(parts, ignore_index=True)


def _plans_and_drills(rng: np.random.Generator, city: dict, geo: Geography) -> tuple[pd.DataFrame, pd.DataFrame]:
    t = _targets(city)
    n = len(t)
    as_of = np.datetime64(AS_OF, "D")
    # the farther from the centre (by district order: central districts first), the more gaps
    rank = pd.Series(t["district_code"]).map({c: i for i, c in enumerate(geo.district_codes)}).fillna(4)
    slack = rank.to_numpy(dtype=float) / max(len(geo.district_codes) - 1, 1)  # 0 central .. 1 outer
    u = rng.uniform(0, 1, n)
    has_plan = u > 0.06 + 0.10 * slack
    old = rng.uniform(0, 1, n) < 0.25  # filed three to six years ago (due for revision)
    filed = as_of - np.where(old, rng.integers(3 * 365, 6 * 365, n), rng.integers(20, 3 * 365, n)).astype(
        "timedelta64[D]")
    v = rng.uniform(0, 1, n)
    never = np.where(has_plan, v < 0.05 + 0.08 * slack, v < 0.8)
    overdue = ~never & (rng.uniform(0, 1, n) < 0.12 + 0.15 * slack)
    interval = 365 // t["per_year"].to_numpy(dtype=np.int64)
    last_age = np.where(overdue, interval + rng.integers(1, 300, n), (rng.uniform(0, 1, n) * (interval + 1)).astype(
        np.int64))
    plan_ids = make_ids("EP", n + len(geo.district_codes), 7)
    version = np.array(["V1.0", "V1.1", "V2.0", "V2.1", "V3.0"], dtype=object)[rng.integers(0, 5, n)]
    plans = pd.DataFrame({"id": plan_ids[:n], "target_layer": t["layer"], "target_id": t["id"],
                          "title": concat(t["name"].to_numpy(dtype=object), t["suffix"].to_numpy(dtype=object)),
                          "plan_version": version, "filed_date": pd.to_datetime(filed),
                          "district_code": t["district_code"]})[has_plan]
    dnames = {c: zh for c, (zh, _) in zip(geo.district_codes, geo.district_names, strict=True)}
    dfiled = as_of - rng.integers(60, 5 * 365, len(geo.district_codes)).astype("timedelta64[D]")
    dplans = pd.DataFrame({"id": plan_ids[n:], "target_layer": "districts", "target_id": list(geo.district_codes),
                           "title": [f"{dnames[c]}生产安全事故总体应急预案" for c in geo.district_codes],
                           "plan_version": "V2.0", "filed_date": pd.to_datetime(dfiled),
                           "district_code": list(geo.district_codes)})
    plans = pd.concat([plans, dplans], ignore_index=True)

    # drills: the last at last_age days before the as-of date, earlier ones an interval (less a little) apart,
    # back to the start of the records
    drilled = np.flatnonzero(~never)
    k_max = _WINDOW_DAYS // interval[drilled] + 1
    obj = np.repeat(drilled, k_max)
    j = np.arange(len(obj)) - np.repeat(np.cumsum(k_max) - k_max, k_max)
    gap = np.round(interval[obj] * rng.uniform(0.8, 1.0, len(obj))).astype(np.int64)
    age = last_age[obj] + j * gap
    keep = (j == 0) | (age <= _WINDOW_DAYS)
    obj, age = obj[keep], age[keep]
    field = rng.uniform(0, 1, len(obj)) < 0.4
    d_ids = make_ids("DR", len(obj) + 2 * len(geo.district_codes), 7)
    plan_of = pd.Series(np.where(has_plan, plan_ids[:n], None), dtype=object)
    drills = pd.DataFrame({
        "id": d_ids[:len(obj)], "target_layer": t["layer"].to_numpy(dtype=object)[obj],
        "target_id": t["id"].to_numpy(dtype=object)[obj], "plan_id": plan_of.to_numpy(dtype=object)[obj],
        "date": pd.to_datetime(as_of - age.astype("timedelta64[D]")),
        "kind": np.where(field, "field", "tabletop").astype(object),
        "participants": np.where(field, rng.integers(20, 200, len(obj)), rng.integers(5, 30, len(obj))).astype(
            np.int64),
        "note": _NOTES[rng.integers(0, len(_NOTES), len(obj))],
        "district_code": t["district_code"].to_numpy(dtype=object)[obj]})
    # each district's own drill of its plan, once a year (the two outermost skipped one)
    dc = np.repeat(np.array(geo.district_codes, dtype=object), 2)
    yr = np.tile([0, 1], len(geo.district_codes))
    dage = yr * 365 + rng.integers(30, 200, len(dc))
    dage[-2:] += 365 * np.array([0, 1])
    dd = pd.DataFrame({"id": d_ids[len(obj):], "target_layer": "districts", "target_id": dc,
                       "plan_id": np.repeat(plan_ids[n:], 2), "date": pd.to_datetime(as_of - dage.astype(
                           "timedelta64[D]")), "kind": "field", "participants": rng.integers(80, 400, len(dc)),
                       "note": None, "district_code": dc})
    drills = pd.concat([drills, dd[dage <= _WINDOW_DAYS]], ignore_index=True)
    return plans.reset_index(drop=True), drills


def _duty_roster(rng: np.random.Generator, geo: Geography) -> pd.DataFrame:
    days = np.datetime64(AS_OF, "D") + np.arange(-30, 30).astype("timedelta64[D]")
    units = [None, *geo.district_codes]
    rows = []
    for unit in units:
        leaders = person_names(rng, 7)
        officers = person_names(rng, 12)
        phones = [f"13{int(rng.integers(0, 10))}{int(rng.integers(10_000_000, 99_999_999))}" for _ in range(19)]
        for i, d in enumerate(days):
            for role, pool, off in (("leader", leaders, 0), ("officer", officers, 7)):
                k = i % len(pool)
                rows.append({"date": d, "role": role, "name": pool[k], "phone": phones[off + k], "start": "08:30",
                             "end": "08:30", "district_code": unit})
    out = pd.DataFrame(rows)
    out.insert(0, "id", make_ids("DU", len(out), 5))
    out["date"] = pd.to_datetime(out["date"])
    return out


def build_readiness(rng: np.random.Generator, *, geo: Geography, parks: list, city: dict) -> Readiness:
    """The readiness layers of the demo city (see module doc); ``city`` holds the layers built so far
    (WGS-84), of which ``resources`` and ``flood_points`` are returned extended, the others only read."""
    old = city["resources"]
    status = np.where(rng.uniform(0, 1, len(old)) < 0.07, "out_of_service", "ready").astype(object)
    new = _new_resources(rng, geo, parks)
    lon, lat = xy_to_lonlat(new["x"].to_numpy(), new["y"].to_numpy())
    new_gdf = gpd.GeoDataFrame({
        "id": make_ids("ER", len(old) + len(new), 4)[len(old):], "name": new["name"].to_numpy(dtype=object),
        "kind": new["kind"].to_numpy(dtype=object), "capacity": new["capacity"].to_numpy(dtype=np.int64),
        "phone": new["phone"].to_numpy(dtype=object), "status": new["status"].to_numpy(dtype=object),
        "district_code": _locate(lon, lat, city["towns"])}, geometry=shapely.points(lon, lat), crs="EPSG:4326")
    resources = pd.concat([old.assign(status=status), new_gdf], ignore_index=True)
    resources = gpd.GeoDataFrame(resources, geometry="geometry", crs="EPSG:4326")
    fp = city["flood_points"]
    sev = _severity(rng, fp)
    flood_points = fp.assign(severity=sev)
    events = _flood_events(rng, fp, sev)
    plans, drills = _plans_and_drills(rng, city, geo)
    roster = _duty_roster(rng, geo)
    return Readiness(resources=resources, flood_points=flood_points, emergency_plans=plans, drills=drills,
                     flood_events=events, duty_roster=roster)
