"""Coverage gaps at city scale: our vectorised way against the naive GeoPandas way, in one run.

``python benchmarks/bench_coverage.py [--quick] [--naive-sample N]``

A synthetic city of about 1,500 km² near lon 114.30, lat 30.60 (8 districts, 60 towns): 1,000,000 inspectable
objects (enterprises, venues, gas stations, bridges, tunnels), 2,000,000 inspection records over two years
(some dated after today, some for unknown objects), 100,000 hazards, supervision links with every kind of gap,
and 200 team bases; ``--quick`` uses 50,000 objects and 100,000 inspections.

Ours: ``layers.coverage.compute_frames`` (``KeyIndex`` for which object each record names, groupby-max of
inspection days per object, vectorised H3 cells, districts per cell and point by point only where a border crosses
a cell, both on a second thread, a KD-tree for reach), including every reason text.

The city's text columns are laid out as ``Store.read`` gives them (see ``_as_stored``): the app computes coverage
on what it reads from the store, and the layout of Python strings in memory matters: on the generator's own
layout (a few hundred thousand shared strings scattered over the heap, which no reader produces) ours takes about
1.7x as long.

The naive way, the one a GeoPandas user writes first: Python loops over inspection rows and over objects,
``h3.latlng_to_cell`` per object, ``geopandas.sjoin`` of the objects with the districts, buffers around the
bases joined with the cell centres (the buffers are drawn around a slightly larger radius and every joined pair
is then checked by its exact distance, so a cell exactly at the limit is judged as ours judges it: the answers
must be identical), and dict loops for the supervision links. When ``--naive-sample`` is below the object count,
the naive way runs on that many objects (and their inspections) and its time is extrapolated linearly; our way
is run on the same sample too, and the answers of both are compared on it.

Prints both times, the ratio, and asserts identical answers (dead corners with days overdue and score, blind
cells with their kind, supervision gaps, per-district figures).
"""

from __future__ import annotations

import argparse
import math
import resource
import sqlite3
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from layers.analysis.coverage import CONDITION_GRADE, PRESSURE_GRADE, compute_frames, suggest_bases  # noqa: E402
from layers.schema import GRADE_ORDER, OBJECT_LAYERS, VENUE_KINDS  # noqa: E402
from layers.settings import Settings  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_demo import PeakRSS, _rss  # noqa: E402

AS_OF = date(2026, 6, 30)
TODAY = date(2026, 7, 15)
LON0, LAT0 = 114.30, 30.60
KM_LON = 1 / (111.320 * math.cos(math.radians(LAT0)))
KM_LAT = 1 / 110.574


# --------------------------------------------------------------------------------------------------
# The synthetic city
# --------------------------------------------------------------------------------------------------

def make_city(n_objects: int, n_inspections: int, n_bases: int, *, seed: int = 7) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    half_w, half_h = 20.0, 19.0  # km: 40 x 38 km
    box = shapely.box(LON0 - half_w * KM_LON, LAT0 - half_h * KM_LAT, LON0 + half_w * KM_LON, LAT0 + half_h * KM_LAT)

    def voronoi(k: int) -> tuple[list, np.ndarray]:
        seeds = np.column_stack([rng.uniform(box.bounds[0], box.bounds[2], k), rng.uniform(box.bounds[1],
                                                                                            box.bounds[3], k)])
        polys = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=box.buffer(0.5))
        cells = [shapely.intersection(p, box) for p in shapely.get_parts(polys)]
        # order like the seeds
        order = [int(np.flatnonzero(shapely.contains_xy(c, seeds[:, 0], seeds[:, 1]))[0]) for c in cells]
        out = [None] * k
        for c, o in zip(cells, order, strict=True):
            out[o] = c
        return out, seeds

    dpolys, _ = voronoi(8)
    dcodes = [f"4201{2 + i:02d}" for i in range(8)]
    districts = gpd.GeoDataFrame({"code": dcodes, "name": [f"第{i + 1}区" for i in range(8)],
                                  "name_en": [f"District {i + 1}" for i in range(8)]},
                                 geometry=[shapely.MultiPolygon([p]) for p in dpolys], crs=4326)
    tpolys, tseeds = voronoi(60)
    tdist = [dcodes[int(np.argmax([shapely.intersection(t, d).area for d in dpolys]))] for t in tpolys]
    tcodes = [f"{tdist[i]}{i + 1:03d}" for i in range(60)]
    towns = gpd.GeoDataFrame({"code": tcodes, "name": [f"镇街{i + 1}" for i in range(60)],
                              "name_en": [f"Town {i + 1}" for i in range(60)], "district_code": tdist},
                             geometry=[shapely.MultiPolygon([p]) if p.geom_type == "Polygon" else p for p in tpolys],
                             crs=4326)

    # points: 70% in 25 clusters, 30% uniform; 0.1% a little outside the city box
    n = n_objects
    centres = np.column_stack([rng.uniform(box.bounds[0], box.bounds[2], 25), rng.uniform(box.bounds[1],
                                                                                           box.bounds[3], 25)])
    clustered = rng.random(n) < 0.7
    which = rng.integers(0, 25, n)
    lon = np.where(clustered, centres[which, 0] + rng.normal(0, 2.5 * KM_LON, n),
                   rng.uniform(box.bounds[0], box.bounds[2], n))
    lat = np.where(clustered, centres[which, 1] + rng.normal(0, 2.5 * KM_LAT, n),
                   rng.uniform(box.bounds[1], box.bounds[3], n))
    inside = (lon > box.bounds[0]) & (lon < box.bounds[2]) & (lat > box.bounds[1]) & (lat < box.bounds[3])
    lon = np.where(inside, lon, rng.uniform(box.bounds[0], box.bounds[2], n))
    lat = np.where(inside, lat, rng.uniform(box.bounds[1], box.bounds[3], n))
    out = rng.random(n) < 0.001  # a few points just outside the city
    lon[out] = box.bounds[2] + rng.uniform(0.001, 0.02, int(out.sum()))
    # true district and town by location (registered codes; 1% wrong, 0.5% missing)
    dtrue = np.full(n, None, dtype=object)
    for code, p in zip(dcodes, dpolys, strict=True):
        hit = shapely.intersects_xy(p, lon, lat) & pd.isna(dtrue)
        dtrue[hit] = code
    ttrue = np.full(n, None, dtype=object)
    for code, p in zip(tcodes, tpolys, strict=True):
        hit = shapely.intersects_xy(p, lon, lat) & pd.isna(ttrue)
        ttrue[hit] = code
    reg = dtrue.copy()
    wrong = rng.random(n) < 0.01
    reg[wrong] = np.array(dcodes, dtype=object)[rng.integers(0, 8, int(wrong.sum()))]
    reg[rng.random(n) < 0.005] = None
    town = ttrue.copy()
    town[rng.random(n) < 0.01] = None

    shares = {"enterprises": 0.85, "venues": 0.10, "gas_stations": 0.02, "bridges": 0.02, "tunnels": 0.01}
    counts = {k: int(round(v * n)) for k, v in shares.items()}
    counts["enterprises"] += n - sum(counts.values())
    frames: dict[str, pd.DataFrame] = {"districts": districts, "towns": towns}
    start = 0
    prefix = {"enterprises": "E", "venues": "V", "gas_stations": "G", "bridges": "B", "tunnels": "T"}
    for layer, m in counts.items():
        sl = slice(start, start + m)
        start += m
        ids = [f"{prefix[layer]}{i:07d}" for i in range(m)]
        names = [f"{prefix[layer]}-{i}" for i in range(m)]
        if layer in ("bridges", "tunnels"):
            geom = shapely.linestrings(np.stack([np.column_stack([lon[sl] - 0.001, lat[sl]]),
                                                 np.column_stack([lon[sl] + 0.001, lat[sl]])], axis=1))
        else:
            geom = shapely.points(lon[sl], lat[sl])
        f = pd.DataFrame({"id": ids, "name": names, "district_code": reg[sl], "town_code": town[sl]})
        if layer == "enterprises":
            f["grade"] = rng.choice(list(GRADE_ORDER), m, p=[0.03, 0.12, 0.35, 0.50])
            f["status"] = rng.choice(["operating", "suspended", "closed"], m, p=[0.95, 0.03, 0.02])
        elif layer == "venues":
            f["kind"] = rng.choice(list(VENUE_KINDS), m)
            f["capacity"] = pd.array(rng.integers(20, 3000, m), dtype="Int64")
        elif layer == "gas_stations":
            f["pressure"] = rng.choice(["high", "sub_high", "medium", "low"], m)
            f["condition_class"] = np.where(rng.random(m) < 0.3, None,
                                            rng.choice(["1", "2", "3", "4", "5"], m)).astype(object)
        else:
            f["condition_class"] = rng.choice(["1", "2", "3", "4", "5"], m, p=[0.3, 0.35, 0.2, 0.1, 0.05])
        frames[layer] = gpd.GeoDataFrame(f, geometry=geom, crs=4326)

    # inspections: objects weighted (15% never inspected), dates over two years; 0.1% after today, 0.1% unknown
    all_layers = np.concatenate([np.full(counts[k], k, dtype=object) for k in counts])
    all_ids = np.concatenate([frames[k]["id"].to_numpy(dtype=object) for k in counts])
    p = rng.random(n) ** 2
    p[rng.random(n) < 0.15] = 0
    p /= p.sum()
    pick = rng.choice(n, n_inspections, p=p)
    day0 = np.datetime64(AS_OF) - np.timedelta64(730, "D")
    dates = day0 + rng.integers(0, 760, n_inspections).astype("timedelta64[D]")
    fut = rng.random(n_inspections) < 0.001
    dates[fut] = np.datetime64(TODAY) + rng.integers(1, 200, int(fut.sum())).astype("timedelta64[D]")
    tid = all_ids[pick].copy()
    unk = rng.random(n_inspections) < 0.001
    tid[unk] = "NOPE"
    frames["inspections"] = pd.DataFrame({"id": [f"I{i}" for i in range(n_inspections)],
                                          "target_layer": all_layers[pick], "target_id": tid,
                                          "date": pd.to_datetime(dates)})
    nh = max(1, n // 10)
    hp = rng.integers(0, n, nh)
    found = day0 + rng.integers(0, 760, nh).astype("timedelta64[D]")
    closed = found + rng.integers(1, 200, nh).astype("timedelta64[D]")
    status = rng.choice(["open", "rectifying", "closed"], nh, p=[0.3, 0.2, 0.5])
    closed = np.where(status == "closed", closed, np.datetime64("NaT"))
    frames["hazards"] = pd.DataFrame({"target_layer": all_layers[hp], "target_id": all_ids[hp],
                                      "level": rng.choice(["general", "major"], nh, p=[0.9, 0.1]),
                                      "found_date": pd.to_datetime(found), "status": status,
                                      "closed_date": pd.to_datetime(closed)})
    # supervision links: 3% none, 80% one, 17% two (a third of them without lead); 2% without officer;
    # 0.5% to a department not in the list
    depts = pd.DataFrame({"id": [f"D{i:02d}" for i in range(30)], "name": [f"部门{i}" for i in range(30)],
                          "name_en": [f"Dept {i}" for i in range(30)]})
    kind = rng.choice([0, 1, 2], n, p=[0.03, 0.80, 0.17])
    one = np.flatnonzero(kind >= 1)
    two = np.flatnonzero(kind == 2)
    obj = np.concatenate([one, two])
    d1 = rng.integers(0, 30, len(one))
    d2 = (d1[np.searchsorted(one, two)] + rng.integers(1, 30, len(two))) % 30
    dept = np.concatenate([d1, d2])
    lead = np.concatenate([np.isin(one, two) & (rng.random(len(one)) < 0.67), np.zeros(len(two), bool)])
    dept_id = np.array([f"D{d:02d}" for d in dept], dtype=object)
    dept_id[rng.random(len(dept_id)) < 0.005] = "D99"
    officer = np.where(rng.random(len(obj)) < 0.02, None, "张三").astype(object)
    frames["responsibilities"] = pd.DataFrame({"target_layer": all_layers[obj], "target_id": all_ids[obj],
                                               "department_id": dept_id, "lead": pd.array(lead, dtype="boolean"),
                                               "officer": officer})
    frames["departments"] = depts
    # bases: around the cluster centres and the middle, leaving the far corners out of reach
    bc = centres[rng.integers(0, 25, n_bases)] + rng.normal(0, 1.5, (n_bases, 2)) * [KM_LON, KM_LAT]
    bc[: n_bases // 4] = np.column_stack([LON0 + rng.normal(0, 5 * KM_LON, n_bases // 4),
                                          LAT0 + rng.normal(0, 5 * KM_LAT, n_bases // 4)])
    frames["teams"] = gpd.GeoDataFrame({"id": [f"T{i}" for i in range(n_bases)],
                                        "name": [f"检查组{i}" for i in range(n_bases)]},
                                       geometry=shapely.points(bc), crs=4326)
    return {k: _as_stored(f) for k, f in frames.items()}


def _as_stored(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its text columns laid out as ``Store.read`` gives them: through SQLite and back, so each
    cell is its own ``str`` object, allocated in row order.

    The layout matters for speed: the generator's fancy indexing leaves two million cells pointing at a few
    hundred thousand shared strings scattered across the heap, which no store, CSV or Excel reader produces,
    and touching such cells costs several times more on this machine (cache misses)."""
    cols = [c for c in frame.columns if c != "geometry" and (frame[c].dtype == object or
                                                            pd.api.types.is_string_dtype(frame[c]))]
    if not cols or len(frame) == 0:
        return frame
    con = sqlite3.connect(":memory:")
    con.execute(f"CREATE TABLE t ({', '.join(f'c{i} TEXT' for i in range(len(cols)))})")
    con.executemany(f"INSERT INTO t VALUES ({', '.join('?' * len(cols))})",  # noqa: S608 (only placeholders)
                    zip(*(frame[c].astype(object).where(frame[c].notna(), None).tolist() for c in cols), strict=True))
    back = pd.DataFrame.from_records(con.execute("SELECT * FROM t ORDER BY rowid").fetchall(), columns=cols)
    con.close()
    out = frame.copy()
    for c in cols:
        out[c] = back[c].to_numpy()
    return out


def subsample(frames: dict[str, pd.DataFrame], m: int, *, seed: int = 1) -> dict[str, pd.DataFrame]:
    """``m`` objects in the same shares as the city, with their inspections, hazards and links."""
    rng = np.random.default_rng(seed)
    total = sum(len(frames[k]) for k in OBJECT_LAYERS)
    out = dict(frames)
    keep_keys = set()
    for k in OBJECT_LAYERS:
        f = frames[k]
        take = max(1, int(round(len(f) * m / total)))
        sel = np.sort(rng.choice(len(f), min(take, len(f)), replace=False))
        out[k] = f.iloc[sel].reset_index(drop=True)
        keep_keys |= {(k, i) for i in out[k]["id"]}
    for k in ("inspections", "hazards", "responsibilities"):
        f = frames[k]
        key = pd.Series(list(zip(f["target_layer"], f["target_id"], strict=True)))
        keep = key.isin(keep_keys).to_numpy().copy()
        if k == "inspections":  # keep the ones for unknown targets too, in proportion
            keep |= (f["target_id"] == "NOPE").to_numpy() & (rng.random(len(f)) < m / total)
        out[k] = f[keep].reset_index(drop=True)
    return out


# --------------------------------------------------------------------------------------------------
# The naive way
# --------------------------------------------------------------------------------------------------

def naive(frames: dict[str, pd.DataFrame], *, as_of: date, today: date, settings: Settings) -> dict:
    """Python loops over rows, ``h3.latlng_to_cell`` per object, ``sjoin`` for districts and buffered bases."""
    as_ts, today_ts = pd.Timestamp(as_of), pd.Timestamp(today)
    until = min(as_ts, today_ts)
    order = list(GRADE_ORDER)
    # objects, one Python dict each
    objs: dict[tuple[str, str], dict] = {}
    for layer in OBJECT_LAYERS:
        f = frames.get(layer)
        if f is None or len(f) == 0:
            continue
        for rec in f.to_dict("records"):
            if layer == "enterprises" and rec.get("status") == "closed":
                continue
            g = rec["geometry"]
            if g.geom_type == "Point":
                pt = g
            else:
                pt = shapely.line_interpolate_point(g, 0.5, normalized=True)
            cc = rec.get("condition_class")
            cc = None if cc is None or (isinstance(cc, float) and math.isnan(cc)) else cc
            if layer == "enterprises":
                grade = rec["grade"] if rec["grade"] in order else "moderate"
                interval = settings.intervals[grade]
            elif layer == "venues":
                grade = settings.venue_grades.get(rec["kind"], "moderate")
                cap = rec.get("capacity")
                if cap is not None and not pd.isna(cap) and cap >= settings.venue_crowd_capacity:
                    grade = order[max(order.index(grade) - 1, 0)]
                interval = settings.intervals[grade]
            elif layer == "gas_stations":
                cands = [x for x in (CONDITION_GRADE.get(cc), PRESSURE_GRADE.get(rec.get("pressure"))) if x]
                grade = min(cands, key=order.index) if cands else "moderate"
                interval = settings.condition_intervals[cc] if cc in settings.condition_intervals else \
                    settings.intervals[grade]
            else:
                grade = CONDITION_GRADE.get(cc, "moderate")
                interval = settings.condition_intervals[cc] if cc in settings.condition_intervals else \
                    settings.intervals[grade]
            reg = rec.get("district_code")
            objs[(layer, rec["id"])] = {"lon": pt.x, "lat": pt.y, "grade": grade, "interval": interval,
                                        "reg": None if reg is None or pd.isna(reg) else reg,
                                        "town": None if pd.isna(rec.get("town_code")) else rec.get("town_code"),
                                        "last": None, "om": 0, "og": 0}
    # inspections: a loop over rows
    first = None
    for tl, ti, d in zip(frames["inspections"]["target_layer"], frames["inspections"]["target_id"],
                         frames["inspections"]["date"], strict=True):
        o = objs.get((tl, ti))
        if o is None or pd.isna(d) or d > until:
            continue
        if o["last"] is None or d > o["last"]:
            o["last"] = d
        if first is None or d < first:
            first = d
    horizon = first if first is not None else as_ts - pd.Timedelta(days=settings.coverage_window_days)
    for rec in frames["hazards"].to_dict("records"):
        o = objs.get((rec["target_layer"], rec["target_id"]))
        if o is None or pd.isna(rec["found_date"]) or rec["found_date"] > as_ts:
            continue
        cd = rec.get("closed_date")
        if (not pd.isna(cd) and cd <= as_ts) or (rec["status"] == "closed" and pd.isna(cd)):
            continue
        o["om" if rec["level"] == "major" else "og"] += 1
    riw = settings.risk_index_weights
    dead = {}
    for key, o in objs.items():
        o["weight"] = settings.grade_weights[o["grade"]] + o["om"] * riw["open_major_hazard"] + \
            o["og"] * riw["open_general_hazard"]
        if o["last"] is None:
            over = o["interval"] + (as_ts - horizon).days
            o["dead"] = True
        else:
            since = (as_ts - o["last"]).days
            over = since - o["interval"]
            o["dead"] = since > o["interval"]
        if o["dead"]:
            dead[key] = (over, o["weight"] * over)
    # districts: sjoin
    keys = list(objs)
    pts = gpd.GeoDataFrame({"k": range(len(keys))}, geometry=gpd.points_from_xy(
        [objs[k]["lon"] for k in keys], [objs[k]["lat"] for k in keys]), crs=4326)
    dist = frames["districts"].reset_index(drop=True)
    j = gpd.sjoin(pts, dist[["code", "geometry"]], predicate="intersects", how="left")
    hits: dict[int, list] = defaultdict(list)
    dorder = {c: i for i, c in enumerate(dist["code"])}
    for kk, code in zip(j["k"], j["code"], strict=True):
        if not pd.isna(code):
            hits[kk].append(code)
    for i, key in enumerate(keys):
        o = objs[key]
        h = sorted(hits.get(i, []), key=dorder.get)
        o["located"] = o["reg"] if o["reg"] in h else (h[0] if h else None)
        o["attr"] = o["reg"] if o["reg"] is not None else o["located"]
    # cells: one h3 call per object
    res = settings.h3_resolution
    cells: dict[str, dict] = {}
    for key in keys:
        o = objs[key]
        c = h3.latlng_to_cell(o["lat"], o["lon"], res)
        o["cell"] = c
        e = cells.setdefault(c, {"risk": 0.0, "n": 0, "last": None, "dw": defaultdict(float)})
        e["risk"] += o["weight"]
        e["n"] += 1
        if o["last"] is not None and (e["last"] is None or o["last"] > e["last"]):
            e["last"] = o["last"]
        if o["attr"] is not None:
            e["dw"][o["attr"]] += o["weight"]
    # reach: buffers around the bases (radius enlarged so the polygon holds the whole circle), sjoin with the
    # cell centres, then the exact distance of each joined pair
    reach_m = settings.travel_speed_kmh / 3.6 * settings.reach_minutes * 60.0 / settings.detour_factor
    lon0 = float(np.mean([o["lon"] for o in objs.values()]))
    lat0 = float(np.mean([o["lat"] for o in objs.values()]))
    epsg = (32600 if lat0 >= 0 else 32700) + int((lon0 + 180) // 6) + 1
    clist = list(cells)
    centres = gpd.GeoDataFrame({"cell": clist}, geometry=gpd.points_from_xy(
        [h3.cell_to_latlng(c)[1] for c in clist], [h3.cell_to_latlng(c)[0] for c in clist]), crs=4326).to_crs(epsg)
    bases = frames["teams"].to_crs(epsg)
    quad = 16
    grow = 1.0 / math.cos(math.pi / (4 * quad))
    buf = gpd.GeoDataFrame({"b": range(len(bases))}, geometry=bases.geometry.buffer(reach_m * grow + 1.0,
                                                                                   quad_segs=quad), crs=epsg)
    jj = gpd.sjoin(centres, buf, predicate="within")
    in_reach = set()
    bxy = np.column_stack([bases.geometry.x, bases.geometry.y])
    cxy = {c: (p.x, p.y) for c, p in zip(centres["cell"], centres.geometry, strict=True)}
    speed = settings.travel_speed_kmh / 3.6
    for c, b in zip(jj["cell"], jj["b"], strict=True):
        x, y = cxy[c]
        t = math.hypot(x - bxy[b, 0], y - bxy[b, 1]) * settings.detour_factor / speed
        if t <= settings.reach_minutes * 60.0 + 1e-6:
            in_reach.add(c)
    blind = {}
    for c, e in cells.items():
        insp = e["last"] is not None and (as_ts - e["last"]).days <= settings.coverage_window_days
        reach = c in in_reach
        if e["risk"] > 0 and not (insp and reach):
            blind[c] = "not_inspected+out_of_reach" if not insp and not reach else (
                "not_inspected" if not insp else "out_of_reach")
        e["blind"] = c in blind
        e["district"] = min(e["dw"].items(), key=lambda kv: (-kv[1], kv[0]))[0] if e["dw"] else None
    # supervision gaps: dict loops
    known = set(frames["departments"]["id"])
    links: dict[tuple, list] = defaultdict(list)
    for rec in frames["responsibilities"].to_dict("records"):
        links[(rec["target_layer"], rec["target_id"])].append(rec)
    gaps = set()
    for key in keys:
        o = objs[key]
        valid = [r for r in links.get(key, []) if r["department_id"] in known]
        depts = {r["department_id"] for r in valid}
        if not depts:
            gaps.add((*key, "no_department"))
        if len(depts) >= 2 and not any(bool(r["lead"]) for r in valid if not pd.isna(r["lead"])):
            gaps.add((*key, "no_lead"))
        if any(r["officer"] is None or pd.isna(r["officer"]) or not str(r["officer"]).strip() for r in valid):
            gaps.add((*key, "no_officer"))
        if o["located"] is None:
            gaps.add((*key, "outside_districts"))
        elif o["reg"] != o["located"]:
            gaps.add((*key, "district_mismatch"))
    per_d: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    for key in keys:
        o = objs[key]
        d = per_d[o["attr"] or ""]
        d["objects"] += 1
        d["risk_weight"] += o["weight"]
        d["dead_corners"] += o["dead"]
        d["risk_weight_in_time"] += 0 if o["dead"] else o["weight"]
    for e in cells.values():
        d = per_d[e["district"] or ""]
        d["risk_cells"] += 1
        d["blind_spots"] += e["blind"]
    for g in gaps:
        per_d[objs[g[:2]]["attr"] or ""][f"gap_{g[2]}"] += 1
    return {"dead": dead, "blind": blind, "gaps": gaps, "per_district": per_d}


def answers(result) -> dict:
    dc = result.dead_corners
    dead = {(a, b): (int(o), float(s)) for a, b, o, s in zip(dc["layer"], dc["id"], dc["days_overdue"], dc["score"],
                                                               strict=True)}
    blind = dict(zip(result.blind_spots["cell"], result.blind_spots["kind"], strict=True))
    g = result.supervision_gaps
    gaps = set(zip(g["layer"], g["id"], g["kind"], strict=True))
    return {"dead": dead, "blind": blind, "gaps": gaps, "per_district": result.by_district}


def compare(ours: dict, theirs: dict) -> list[str]:
    problems = []
    if set(ours["dead"]) != set(theirs["dead"]):
        problems.append(f"dead corners differ: {len(set(ours['dead']) ^ set(theirs['dead']))} objects")
    else:
        bad = [k for k in ours["dead"] if ours["dead"][k][0] != theirs["dead"][k][0]
               or not math.isclose(ours["dead"][k][1], theirs["dead"][k][1], rel_tol=1e-9)]
        if bad:
            problems.append(f"days overdue / score differ for {len(bad)} objects, e.g. {bad[:3]}")
    if ours["blind"] != theirs["blind"]:
        diff = set(ours["blind"].items()) ^ set(theirs["blind"].items())
        problems.append(f"blind spots differ: {len(diff)} cells, e.g. {sorted(diff)[:3]}")
    if ours["gaps"] != theirs["gaps"]:
        problems.append(f"supervision gaps differ: {len(ours['gaps'] ^ theirs['gaps'])} rows, e.g. "
                        f"{sorted(ours['gaps'] ^ theirs['gaps'])[:3]}")
    bd = ours["per_district"].set_index(ours["per_district"]["district_code"].fillna(""))
    for code, d in theirs["per_district"].items():
        if code not in bd.index:
            problems.append(f"district {code!r} missing from ours")
            continue
        row = bd.loc[code]
        for col, v in d.items():
            if not math.isclose(float(row[col]), float(v), rel_tol=1e-9, abs_tol=1e-9):
                problems.append(f"district {code!r} {col}: ours {row[col]} naive {v}")
    return problems


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="50,000 objects (CI smoke test)")
    ap.add_argument("--objects", type=int, default=None)
    ap.add_argument("--inspections", type=int, default=None)
    ap.add_argument("--bases", type=int, default=200)
    ap.add_argument("--naive-sample", type=int, default=None,
                    help="objects for the naive way (default: all in --quick, 200,000 in full mode)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of our way (best is reported)")
    args = ap.parse_args(argv)
    n = args.objects or (50_000 if args.quick else 1_000_000)
    m = args.inspections or 2 * n
    sample = args.naive_sample or (n if args.quick else 200_000)
    settings = Settings()

    t0 = time.perf_counter()
    frames = make_city(n, m, args.bases)
    print(f"synthetic city: {n:,} objects, {len(frames['inspections']):,} inspections, "
          f"{len(frames['hazards']):,} hazards, {len(frames['responsibilities']):,} links, {args.bases} bases "
          f"(built in {time.perf_counter() - t0:.1f} s)", flush=True)

    city_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    compute_frames(frames, as_of=AS_OF, settings=settings, today=TODAY)  # warm-up (imports, page faults)
    times, cpu = [], []
    held = _rss()   # the frames (and what the generator freed but the allocator kept) before computing
    with PeakRSS() as computing:   # resident memory sampled every 20 ms while the timed passes run
        for _ in range(args.repeat):
            t, c = time.perf_counter(), time.process_time()
            result = compute_frames(frames, as_of=AS_OF, settings=settings, today=TODAY)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
    ours_s = min(times)
    s = result.summary
    print(f"ours  ({n:,} objects): {ours_s:.2f} s wall, {min(cpu):.2f} s CPU (best of {args.repeat}: "
          f"{', '.join(f'{x:.2f}' for x in times)})"
          f" -> {s['dead_corners']:,} dead corners, {s['blind_spots']:,} blind cells of {s['risk_cells']:,}, "
          f"{len(result.supervision_gaps):,} supervision gaps", flush=True)
    print(f"peak memory (RSS of this process): {city_rss:.2f} GB once the city was generated (the generator's "
          f"own peak), {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB over the whole run; "
          f"resident while computing (sampled): {held / 2**30:.2f} GB before, {computing.peak / 2**30:.2f} GB at "
          f"most (+{(computing.peak - held) / 2**30:.2f} GB for the computation)", flush=True)

    if sample < n:
        sub = subsample(frames, sample)
        n_sub = sum(len(sub[k]) for k in OBJECT_LAYERS)
        ours_sub = compute_frames(sub, as_of=AS_OF, settings=settings, today=TODAY)
    else:
        sub, n_sub, ours_sub = frames, n, result
    t, c = time.perf_counter(), time.process_time()
    theirs = naive(sub, as_of=AS_OF, today=TODAY, settings=settings)
    naive_s = time.perf_counter() - t
    naive_cpu = time.process_time() - c
    naive_cpu_full = naive_cpu * n / n_sub
    if n_sub < n:
        naive_full = naive_s * n / n_sub
        print(f"naive ({n_sub:,} objects): {naive_s:.2f} s wall ({naive_cpu:.2f} s CPU), extrapolated linearly to {n:,} objects: "
              f"{naive_full:.1f} s (the naive way ran on a sample; ours ran on the same sample for the comparison)")
    else:
        naive_full = naive_s
        print(f"naive ({n:,} objects): {naive_s:.2f} s wall, {naive_cpu:.2f} s CPU")
    print(f"ratio naive / ours: {naive_full / ours_s:.1f}x wall, {naive_cpu_full / min(cpu):.1f}x CPU  (target >= 10x; "
          f"ours target < 5 s at 1M objects; on a shared, loaded machine the wall clock includes waiting for a "
          f"core, so the CPU ratio is the steadier figure)")
    problems = compare(answers(ours_sub), theirs)
    if problems:
        print("ANSWERS DIFFER:\n  " + "\n  ".join(problems))
        return 1
    print(f"answers identical on {n_sub:,} objects: {len(theirs['dead']):,} dead corners (days overdue and score), "
          f"{len(theirs['blind']):,} blind cells (with kind), {len(theirs['gaps']):,} supervision gaps, "
          f"{len(theirs['per_district'])} district rows")
    siting_check(sub, settings, quick=args.quick)
    return 0


def siting_check(frames: dict[str, pd.DataFrame], settings: Settings, *, quick: bool) -> None:
    """New bases for the cells beyond a 10-minute reach of 8 bases: greedy against the MCLP solved by HiGHS."""
    few = dict(frames)
    few["teams"] = frames["teams"].iloc[:8]
    s10 = settings.model_copy(update={"reach_minutes": 10.0})
    result = compute_frames(few, as_of=AS_OF, settings=s10, today=TODAY)
    unreached = float(result.cells.loc[~result.cells["in_reach"], "risk"].sum())
    print(f"siting (reach 10 min): {int((~result.cells['in_reach']).sum()):,} risk cells beyond reach of 8 bases "
          f"(risk {unreached:,.0f}); candidates: every risk cell ({len(result.cells):,})")
    for k in ((3, 8) if quick else (3, 8, 15)):
        t = time.perf_counter()
        g = suggest_bases(result, k, method="greedy")
        tg = time.perf_counter() - t
        t = time.perf_counter()
        e = suggest_bases(result, k, method="exact", time_limit_s=8.0 if quick else 60.0)
        te = time.perf_counter() - t
        gw = float(g["risk_gained"].sum()) if len(g) else 0.0
        ew = float(e["risk_gained"].sum()) if len(e) else 0.0
        how = e["method"].iloc[0] if len(e) else "exact"
        print(f"  k={k:2d}: greedy brings {gw:,.0f} in reach ({tg:.2f} s); MCLP by HiGHS, warm-started with the "
              f"greedy answer: {ew:,.0f} ({te:.2f} s, {how}): greedy = {gw / ew if ew else 1:.1%} of it")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
