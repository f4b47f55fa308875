"""The readiness pass: from the layers in memory to a :class:`ReadinessResult` as of a date."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime

import numpy as np
import pandas as pd

from layers.analysis.coverage.arrays import utm_epsg
from layers.analysis.readiness.drills import district_plans, plan_drill_register
from layers.analysis.readiness.frames import frame
from layers.analysis.readiness.objects import readiness_objects
from layers.analysis.readiness.reach import build_travel, needed, reach_table, resource_arrays
from layers.analysis.readiness.result import ReadinessResult, _points
from layers.analysis.readiness.summary import city_summary, per_area
from layers.analysis.readiness.supplies import district_supplies, point_supplies
from layers.settings import Settings

Progress = Callable[[float, str], None]


def compute_frames(frames: Mapping[str, pd.DataFrame], *, as_of: date | None = None,
                   settings: Settings | None = None, progress: Progress | None = None,
                   _memo: dict | None = None) -> ReadinessResult:
    """Readiness gaps from in-memory layers (``frames[layer]`` as ``store.read`` returns them; missing layers
    count as empty) as of ``as_of`` (default: today). ``_memo`` (from :func:`.cache.compute`) keeps what depends
    on ``frames`` and the travel settings alone (the objects, the road graph) between calls."""
    settings = settings or Settings()
    as_of = as_of or date.today()
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    step = progress or (lambda f, m: None)
    memo = _memo if _memo is not None else {}

    step(0.05, "整理应急准备对象 (collecting readiness objects)")
    if "objects" not in memo:
        memo["objects"] = readiness_objects(frames)
    objs = memo["objects"]
    lon = objs["lon"].to_numpy(dtype=float)
    lat = objs["lat"].to_numpy(dtype=float)
    has = np.isfinite(lon) & np.isfinite(lat)
    res_f = frame(frames, "resources")
    if has.any():
        ref = (float(lon[has].mean()), float(lat[has].mean()))
    elif len(res_f) and "geometry" in res_f.columns and res_f.geometry.notna().any():
        c = res_f.geometry.dropna().union_all().centroid
        ref = (float(c.x), float(c.y))
    else:
        ref = (0.0, 0.0)  # nothing to measure: the zone is never used for a distance
    epsg = utm_epsg(*ref)

    step(0.15, "道路网络 (road graph)")
    tkey = ("travel", epsg, float(settings.access_speed_kmh), float(settings.travel_speed_kmh),
            float(settings.detour_factor))
    travel = memo.get(tkey)
    if travel is None:  # (another setting's graph stays: settings rarely change within one data version)
        travel = memo[tkey] = build_travel(frame(frames, "roads"), settings, epsg)
    obj_xy = np.full((len(objs), 2), np.nan)
    if has.any():
        obj_xy[has] = travel.xy(lon[has], lat[has])
    res = resource_arrays(frames, travel)

    step(0.35, "到达时间 (reach of the resources)")
    reach = reach_table(objs, obj_xy, res, travel, settings)
    gaps = reach[~reach["in_reach"].to_numpy(dtype=bool)].copy()
    over = gaps["travel_min"].to_numpy(dtype=float) - gaps["target_min"].to_numpy(dtype=float)
    gaps["over_min"] = over
    gaps = gaps.iloc[np.argsort(-np.nan_to_num(over, nan=np.inf), kind="stable")].reset_index(drop=True)

    step(0.6, "预案与演练 (plans and drills)")
    plans, drills = frame(frames, "emergency_plans"), frame(frames, "drills")
    register, plan_gaps = plan_drill_register(objs, plans, drills, as_of=as_of, settings=settings)

    step(0.7, "防汛物资 (flood supplies)")
    fp = objs["class"].to_numpy(dtype=object) == "flood_point"
    supplies = point_supplies(objs[fp].reset_index(drop=True), obj_xy[fp], res, travel, settings)
    short = supplies[supplies["short"].astype(float).to_numpy() > 0].reset_index(drop=True)
    districts, towns = frame(frames, "districts"), frame(frames, "towns")
    dsup = district_supplies(supplies, res, districts, settings)

    step(0.85, "分区统计 (per district and town)")
    dplans = district_plans(plans, drills, as_of=as_of)
    by_district = per_area(objs, reach, plan_gaps, supplies, districts, towns=False, district_plans=dplans)
    by_town = per_area(objs, reach, plan_gaps, supplies, towns, towns=True)
    stock_short = int((dsup["short"].astype(float) > 0).sum()) if len(dsup) else 0
    summary = {**city_summary(by_district, district_stock_short=stock_short), "as_of": as_of.isoformat()}
    info = {**travel.info(), "targets": {f"{c}/{k}": m for k, t in needed(settings).items() for c, m in t.items()},
            "drills_per_year": dict(settings.drills_per_year), "flood_supplies": dict(settings.flood_supplies),
            "resources_ready": int(res.ready.sum()), "resources_out_of_service": int((~res.ready).sum())}
    step(1.0, "完成 (done)")
    return ReadinessResult(
        as_of=as_of, objects=_points(objs), reach=reach, reach_gaps=_points(gaps), register=register,
        plan_gaps=_points(plan_gaps), supplies=supplies, supply_shortfalls=_points(short),
        district_supplies=dsup, by_district=by_district, by_town=by_town, summary=summary, info=info,
        _travel=travel, _resources=res,
        _areas={"districts": districts, "towns": towns, "roads": frame(frames, "roads")})
