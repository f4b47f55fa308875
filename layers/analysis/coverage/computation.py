"""The coverage pass: from the layers in memory to a :class:`CoverageResult` as of any date (dead corners,
blind spots, supervision gaps, and the figures per district and town).

What decides each gap lives with it: ``rules`` (dead corners), ``blind_spots`` (blind spots) and
``supervision`` (supervision gaps). Per district and town: share of risk weight inspected in time, share of
risk-carrying cells covered, and counts of every gap. Objects belong to their registered district/town (where
the point lies when none is registered); a cell belongs to the district/town holding most of its risk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import coverage as gcov
from geo import grid
from layers.analysis.coverage.arrays import day, days, decode, encode, iso, obj_frame, points, utm_epsg
from layers.analysis.coverage.blind_spots import blind_reasons, majority, own, place, travel_function
from layers.analysis.coverage.frames import READ_COLUMNS
from layers.analysis.coverage.result import IGNORED_KINDS, CoverageResult, city_summary
from layers.analysis.coverage.rules import (
    GRADES_ARR,
    concat_objects,
    dead_reasons,
    layer_objects,
    risk_weights,
    shorten_for_repeat_offenders,
)
from layers.analysis.coverage.supervision import supervision_gaps
from layers.ledger.repeat import repeat_offenders
from layers.schema import OBJECT_LAYERS
from layers.settings import Settings

Progress = Callable[[float, str], None]


def compute_frames(frames: Mapping[str, pd.DataFrame], *, as_of: date | None = None,
                   settings: Settings | None = None, today: date | None = None,
                   progress: Progress | None = None, _memo: dict | None = None) -> CoverageResult:
    """Coverage gaps from in-memory layers (``frames[layer]``, as ``store.read`` returns them; missing layers
    count as empty). ``_memo`` (from :func:`.cache.compute`) keeps what depends on ``frames`` alone between
    calls."""
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
            cols = READ_COLUMNS.get(name) or []
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        return f

    as_day, today_day = day(as_of), day(today)
    count_until = min(as_day, today_day)

    # -- objects -------------------------------------------------------------------------------------
    step(0.05, "整理检查对象 (collecting objects)")
    objs = concat_objects([layer_objects(name, frame(name), settings) for name in OBJECT_LAYERS])
    def having(name: str, cols: tuple[str, ...]) -> pd.DataFrame | None:
        f = frame(name)
        return f if set(cols) <= set(f.columns) else None

    repeat = repeat_offenders(having("hazards", ("target_layer", "target_id", "type", "found_date")),
                              having("accidents", ("enterprise_id", "kind", "date")), as_of=as_of,
                              settings=settings)
    shorten_for_repeat_offenders(objs, repeat["target_layer"].to_numpy(dtype=object),
                                 repeat["target_id"].to_numpy(dtype=object), settings.repeat_interval_factor)
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
    reg_dc = encode(objs.district, d_vocab)
    placing = pool.submit(place, lon, lat, has_xy, own(districts.geometry.values) if n_districts else [], reg_dc,
                          int(settings.h3_resolution))
    pool.shutdown(wait=False)  # (the task submitted still runs; the thread ends with it)

    # -- inspections ---------------------------------------------------------------------------------
    step(0.15, "汇总检查记录 (latest inspection per object)")
    insp = frame("inspections")
    target = records_of("inspections", insp)
    iday = days(insp["date"]) if len(insp) else np.empty(0, np.int64)
    no_date = iday == gcov.NO_DAY
    future = ~no_date & (iday > today_day)
    after = ~no_date & ~future & (iday > as_day)
    missing = (target < 0) & ~no_date & ~future & ~after
    closed = missing & closed_targets(frame("enterprises"), insp, missing)
    unknown = missing & ~closed
    counted = ~no_date & (iday <= count_until) & (target >= 0)
    ignored = pd.DataFrame({
        "kind": list(IGNORED_KINDS),
        "count": [int(future.sum()), int(after.sum()), int(no_date.sum()), int(unknown.sum()), int(closed.sum())],
        "reason_zh": [v[0] for v in IGNORED_KINDS.values()],
        "reason_en": [v[1] for v in IGNORED_KINDS.values()],
    })
    fut_rows = np.flatnonzero(future)
    fut_dates = iso(iday[fut_rows])
    today_txt = today.isoformat()
    future_insp = obj_frame({
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
    hz = frame("hazards")
    htarget = records_of("hazards", hz) if len(hz) and n else None
    weight, open_major, open_general = risk_weights(objs.grade, hz, htarget, as_day=as_day, settings=settings)
    score = weight * over
    resp = frame("responsibilities")
    resp_obj = records_of("responsibilities", resp) if len(resp) and n else \
        np.full(len(resp), -1, dtype=np.int64)

    # -- cells and districts (started in a helper thread above) -------------------------------------
    step(0.4, "H3 网格、定位区县 (H3 grid, locating districts)")
    cell_of, cells_u, xy_rows, areas, loc_dc = placing.result()
    attr_dc = np.where(reg_dc >= 0, reg_dc, loc_dc)
    t_vocab = towns["code"].astype(str).tolist() if len(towns) else []
    attr_tc = encode(objs.town, t_vocab)
    no_town = (attr_tc < 0) & has_xy
    if len(t_vocab) and no_town.any():
        sel = np.flatnonzero(no_town)
        many = areas is not None and len(sel) > 4 * len(cells_u)
        attr_tc[sel] = gcov.locate_points(lon[sel], lat[sel], own(towns.geometry.values),
                                          groups=cell_of[sel] if many else None, group_areas=areas if many else None)
    reg_d = decode(reg_dc, d_vocab)
    located_d = decode(loc_dc, d_vocab)
    town_d = decode(attr_tc, t_vocab)

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
    tlon, tlat, _ = points(teams)
    tok = np.isfinite(tlon) & np.isfinite(tlat)
    tlon, tlat = tlon[tok], tlat[tok]
    if has_xy.any():
        ref_lon, ref_lat = float(lon[has_xy].mean()), float(lat[has_xy].mean())
    elif len(tlon):
        ref_lon, ref_lat = float(tlon.mean()), float(tlat.mean())
    else:
        ref_lon, ref_lat = 0.0, 0.0  # nothing to measure: the zone is never used for a distance
    epsg = utm_epsg(ref_lon, ref_lat)
    from pyproj import Transformer

    to_m = Transformer.from_crs(4326, epsg, always_xy=True)
    cxy = np.column_stack(to_m.transform(clon, clat)) if n_cells else np.empty((0, 2))
    bxy = np.column_stack(to_m.transform(tlon, tlat)) if len(tlon) else np.empty((0, 2))
    limit_s = float(settings.reach_minutes) * 60.0
    travel, reach, road_detail = travel_function(frame("roads"), settings, epsg)
    if road_detail is not None and n_cells:
        cell_time, cell_off_road = road_detail(bxy, cxy)
    else:
        cell_time = travel(bxy, cxy) if n_cells else np.empty(0)
        cell_off_road = np.full(n_cells, np.nan)
    in_reach = gcov.within(cell_time, limit_s)
    blind = (cell_risk > 0) & (~inspected | ~in_reach)

    # -- cells to districts and towns (the one holding most of the cell's risk) ----------------------
    cell_dc = majority(cell_of[xy_rows], attr_dc[xy_rows], weight[xy_rows], n_cells, d_vocab)
    cell_tc = majority(cell_of[xy_rows], attr_tc[xy_rows], weight[xy_rows], n_cells, t_vocab)

    # -- supervision gaps ----------------------------------------------------------------------------
    step(0.7, "监管责任 (supervision links)")
    gaps, gap_rows = supervision_gaps(objs, resp, resp_obj, frame("departments"), districts, reg_dc=reg_dc,
                                      loc_dc=loc_dc, d_vocab=d_vocab, has_xy=has_xy,
                                      check_districts=n_districts > 0)

    # -- per district and town -----------------------------------------------------------------------
    step(0.8, "分区统计 (per district and town)")
    cells = obj_frame({
        "cell": grid.cells_to_str(cells_u), "lon": clon, "lat": clat, "x": cxy[:, 0], "y": cxy[:, 1],
        "risk": cell_risk, "n_objects": cell_n, "last_inspection": iso(cell_last), "days_since": cell_since,
        "inspected": inspected, "travel_min": cell_time / 60.0, "off_road_m": cell_off_road, "in_reach": in_reach,
        "blind": blind,
        "district_code": decode(cell_dc, d_vocab), "town_code": decode(cell_tc, t_vocab),
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
    last_txt = iso(last[rows])
    rz, re_ = dead_reasons(objs.rule[rows], objs.rules, objs.interval[rows], last[rows], days_since[rows],
                           last_txt)
    dead_gdf = gpd.GeoDataFrame(obj_frame({
        "layer": objs.layer_of(rows), "id": objs.texts("id", rows), "name": objs.texts("name", rows),
        "district_code": reg_d[rows], "town_code": town_d[rows],
        "located_district": located_d[rows], "grade": GRADES_ARR[objs.grade[rows]],
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
    bz, be = blind_reasons(bl, window=window, reach_min=float(settings.reach_minutes), has_bases=len(bxy) > 0,
                           road=reach["method"] == "road", access_kmh=reach.get("access_speed_kmh"))
    bl["reason_zh"] = pd.Series(bz, index=bl.index, dtype=object)
    bl["reason_en"] = pd.Series(be, index=bl.index, dtype=object)
    bl = bl.sort_values(["risk", "cell"], ascending=[False, True]).reset_index(drop=True)
    blind_gdf = gpd.GeoDataFrame(bl.drop(columns=["blind"]), geometry=grid.cells_to_polygons(
        grid.str_to_cells(bl["cell"])) if len(bl) else np.empty(0, dtype=object), crs=4326)
    reach.update({"limit_minutes": float(settings.reach_minutes), "bases": int(len(bxy)), "epsg": epsg,
                  "h3_resolution": int(settings.h3_resolution), "window_days": window, "horizon": iso(np.array([horizon]))[0]})
    step(1.0, "完成 (done)")
    return CoverageResult(as_of=as_of, dead_corners=dead_gdf, blind_spots=blind_gdf, supervision_gaps=gaps,
                          by_district=by_district, by_town=by_town, ignored_inspections=ignored,
                          future_inspections=future_insp, cells=cells, summary=city_summary(by_district, cells),
                          reach=reach, _travel=travel)


def closed_targets(enterprises: pd.DataFrame, insp: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """Which inspections among ``rows`` (a mask over ``insp``) name a closed enterprise: such an enterprise is
    known, only left out of coverage (``layer_objects``), so its inspections are not "target not found"."""
    out = np.zeros(len(insp), dtype=bool)
    if not rows.any() or not len(enterprises) or not {"id", "status"} <= set(enterprises.columns):
        return out
    closed_ids = enterprises["id"].to_numpy(dtype=object)[enterprises["status"].to_numpy(dtype=object) == "closed"]
    if len(closed_ids) == 0:
        return out
    sel = np.flatnonzero(rows)
    layer = insp["target_layer"].to_numpy(dtype=object)[sel]
    ids = pd.Series(insp["target_id"].to_numpy(dtype=object)[sel])
    out[sel] = (layer == "enterprises") & ids.isin(pd.Series(closed_ids)).to_numpy()
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
    return pd.concat([obj_frame({k: np.array(v, dtype=object) for k, v in head.items()}), out], axis=1)
