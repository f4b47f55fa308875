"""Blind spots (盲区), per H3 cell (``Settings.h3_resolution``): a cell whose objects carry risk and that no
inspection touched within ``coverage_window_days`` (``as_of - last <= window`` is covered), or whose centre
lies beyond ``reach_minutes`` of every team base (over the road layer when the store has roads: bases and cell
centres snapped to the nearest point on a road, the off-road leg at ``access_speed_kmh``; else straight line x
``detour_factor`` at ``travel_speed_kmh``; exactly at the limit is in reach).

Here: placing the points in cells (and, in the same pass, in districts), the travel time from the bases, the
area a cell belongs to (the one holding most of its risk) and the reason texts. The test itself is made in
:func:`~layers.analysis.coverage.computation.compute_frames`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import coverage as gcov
from geo import grid
from layers.schema import ROAD_CLASSES
from layers.settings import Settings


def place(lon: np.ndarray, lat: np.ndarray, has_xy: np.ndarray, districts: list, reg_dc: np.ndarray, res: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """The points' H3 cells (at ``res``) and the district holding each point (its registered one, ``reg_dc``,
    when it lies on that one's border): numpy and shapely work, mostly without the GIL.

    Returns ``(cell_of, cells, xy_rows, areas, loc_dc)``: each point's index into ``cells`` (-1 without a
    point), the rows with a point, the enlarged cell polygons (None when too few points share a cell to be worth
    it), and each point's district (-1: none)."""
    n = len(lon)
    cell_of = np.full(n, -1, dtype=np.int64)
    xy_rows = np.flatnonzero(has_xy)
    cells_u = np.empty(0, dtype=np.uint64)
    if len(xy_rows):
        codes, cells_u = pd.factorize(grid.latlng_to_cells(lat[xy_rows], lon[xy_rows], res))
        cells_u = np.asarray(cells_u, dtype=np.uint64)
        cell_of[xy_rows] = codes
    # each cell, a little enlarged, certainly holds its points: a cell inside one district decides for all of
    # them at once, and only the points of cells a border crosses are tested one by one
    areas = _cell_areas(cells_u) if len(xy_rows) > 4 * len(cells_u) else None
    loc_dc = np.full(n, -1, dtype=np.int64)
    if len(districts) and n:
        loc_dc = gcov.locate_points(np.where(has_xy, lon, np.inf), np.where(has_xy, lat, np.inf), districts,
                                    prefer=reg_dc, groups=cell_of, group_areas=areas)
    return cell_of, cells_u, xy_rows, areas, loc_dc


def own(geoms: Any) -> list:
    """Private copies of a few polygons: locating points prepares them (GEOS builds its index into the geometry
    object), and the frames' own objects may be in use by another computation on another thread."""
    return list(shapely.from_wkb(shapely.to_wkb(np.asarray(geoms, dtype=object))))


def _cell_areas(cells: np.ndarray) -> np.ndarray:
    """Each H3 cell's boundary polygon, enlarged by a fifth about its centre: H3 cell edges are great-circle
    arcs, so the straight-edged lon/lat polygon may miss a sliver of the cell (3 mm at resolution 8, a few
    per cent of the cell at resolution 0); the margin covers it at every resolution. A cell across the
    antimeridian gets None (its points are located one by one)."""
    if len(cells) == 0:
        return np.empty(0, dtype=object)
    out = grid.cells_to_polygons(cells, scale=1.2)
    b = shapely.bounds(out)
    out[(b[:, 2] - b[:, 0]) > 90.0] = None
    return out


def travel_function(roads: pd.DataFrame, settings: Settings, epsg: int
                    ) -> tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], dict,
                               Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None]:
    """``travel(bases_xy, points_xy) -> seconds`` from the nearest base, over roads when there are any, what it
    is (``reach`` info), and over roads also ``detail(bases_xy, points_xy) -> (seconds, off-road metres)``.

    Over roads, bases and points are snapped to the nearest point on a road (the edge split there, one-way
    edges only forwards) and the off-road leg is covered at ``access_speed_kmh`` (``geo.roadgraph``)."""
    if len(roads) and "geometry" in roads.columns:
        try:
            from geo.roadgraph import RoadGraph
        except ImportError:  # the road graph module is optional
            RoadGraph = None  # noqa: N806
        if RoadGraph is not None:
            g = roads.geometry
            ok = ~(g.isna() | g.is_empty).to_numpy()
            metric = gpd.GeoSeries(g[ok].values, crs=4326).to_crs(epsg).values
            cls = roads["road_class"].to_numpy(dtype=object)[ok]
            default = np.array([ROAD_CLASSES.get(c, {}).get("speed", settings.travel_speed_kmh) for c in cls], float)
            speed = pd.to_numeric(roads["speed_kmh"], errors="coerce").to_numpy(dtype=float)[ok] \
                if "speed_kmh" in roads.columns else default
            speed = np.where(np.isfinite(speed) & (speed > 0), speed, default)
            oneway = roads["oneway"].astype("boolean").fillna(False).to_numpy(dtype=bool)[ok] \
                if "oneway" in roads.columns else None
            graph = RoadGraph.from_lines(metric, speed, oneway, access_kmh=float(settings.access_speed_kmh))
            if graph.n_nodes:
                def detail(bases_xy: np.ndarray, pts_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                    return gcov.road_travel(graph, pts_xy, bases_xy)

                def travel(bases_xy: np.ndarray, pts_xy: np.ndarray) -> np.ndarray:
                    return detail(bases_xy, pts_xy)[0]

                return travel, {"method": "road", "road_nodes": int(graph.n_nodes),
                                "access_speed_kmh": float(settings.access_speed_kmh)}, detail

    def straight(bases_xy: np.ndarray, pts_xy: np.ndarray) -> np.ndarray:
        d, _ = gcov.nearest_base_distance(pts_xy, bases_xy)
        return gcov.straight_travel_seconds(d, speed_kmh=settings.travel_speed_kmh,
                                            detour_factor=settings.detour_factor)

    reach_m = settings.travel_speed_kmh / 3.6 * settings.reach_minutes * 60.0 / settings.detour_factor
    return straight, {"method": "straight", "reach_m": float(reach_m), "speed_kmh": settings.travel_speed_kmh,
                      "detour_factor": settings.detour_factor}, None


def majority(cell: np.ndarray, code: np.ndarray, weight: np.ndarray, n_cells: int, vocab: list[str]
             ) -> np.ndarray:
    """Per cell, the code (index into ``vocab``) with the largest summed weight (ties: the smallest code text);
    -1 when no object in the cell has one."""
    out = np.full(n_cells, -1, dtype=np.int64)
    have = code >= 0
    k = len(vocab)
    if not have.any() or n_cells == 0 or k == 0:
        return out
    rank = np.argsort(np.array(vocab, dtype=object), kind="stable")  # column j holds vocab[rank[j]]
    col = np.empty(k, dtype=np.int64)
    col[rank] = np.arange(k)
    flat = cell[have] * k + col[code[have]]
    w = np.bincount(flat, weights=weight[have], minlength=n_cells * k).reshape(n_cells, k)
    cnt = np.bincount(flat, minlength=n_cells * k).reshape(n_cells, k)
    w = np.where(cnt > 0, w, -np.inf)
    best = np.argmax(w, axis=1)  # the first maximum: the smallest code text
    anyc = cnt.sum(axis=1) > 0
    out[anyc] = rank[best[anyc]]
    return out


def blind_reasons(bl: pd.DataFrame, *, window: int, reach_min: float, has_bases: bool, road: bool,
                  access_kmh: float | None = None) -> tuple[list[str], list[str]]:
    """Why each blind cell is one, in zh and en. Over roads, a cell beyond reach whose centre lies off the road
    long enough to matter (its off-road leg, ``off_road_m`` at ``access_kmh``, takes a minute or more, or the
    cell would be in reach without it) says so."""
    zh, en = [], []
    how_zh = "道路" if road else "估算"
    how_en = "by road" if road else "estimated"
    off = bl["off_road_m"].to_numpy(dtype=float) if road and "off_road_m" in bl.columns else \
        np.full(len(bl), np.nan)
    for risk, nobj, last, insp, t, ok, off_m in zip(bl["risk"], bl["n_objects"], bl["last_inspection"],
                                                    bl["inspected"], bl["travel_min"], bl["in_reach"], off,
                                                    strict=True):
        z = [f"风险 {risk:.1f}（{nobj} 个对象）"]
        e = [f"risk {risk:.1f} ({nobj} objects)"]
        if not insp:
            never = pd.isna(last)
            z.append(f"近 {window} 天无检查（从未检查）" if never else f"近 {window} 天无检查（上次 {last}）")
            e.append(f"no inspection in the last {window} days (never inspected)" if never else
                     f"no inspection in the last {window} days (last {last})")
        if not ok:
            if not has_bases:
                z.append("没有检查组驻地")
                e.append("no team base at all")
            else:
                zt = f"最近的检查组驻地{how_zh}约 {t:.0f} 分钟，超过 {reach_min:g} 分钟"
                et = f"nearest team base {t:.0f} min away ({how_en}), over {reach_min:g}"
                if access_kmh and np.isfinite(off_m):
                    leg = off_m / (access_kmh / 3.6) / 60.0
                    if leg >= 0.5 or t - leg <= reach_min:
                        mins = f"{leg:.0f}" if leg >= 0.95 else f"{leg:.1f}"
                        zt += f"（其中网格中心离最近道路 {off_m:.0f} 米，按 {access_kmh:g} km/h 约 {mins} 分钟）"
                        et += (f" (of which {off_m:.0f} m from the cell centre to the nearest road at "
                               f"{access_kmh:g} km/h, {mins} min)")
                z.append(zt)
                e.append(et)
        zh.append("；".join(z))
        en.append("; ".join(e))
    return zh, en
