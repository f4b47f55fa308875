"""Property: on random small cities the vectorised computation equals a brute-force one written with plain
loops (one object, one inspection, one base at a time)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import geopandas as gpd
import h3
import pandas as pd
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from layers.analysis.coverage import compute_frames
from layers.settings import Settings

AS_OF = date(2025, 6, 30)
TODAY = date(2025, 7, 10)
GRADES = ["major", "high", "moderate", "low"]
DISTRICTS = {"A": shapely.box(114.20, 30.50, 114.30, 30.70), "B": shapely.box(114.30, 30.50, 114.40, 30.70)}

lon_s = st.floats(114.22, 114.42, allow_nan=False)  # a few fall east of B: outside every district
lat_s = st.floats(30.52, 30.68, allow_nan=False)
obj_s = st.tuples(lon_s, lat_s, st.sampled_from(GRADES), st.sampled_from(["A", "B", None]))
city_s = st.fixed_dictionaries({
    "objects": st.lists(obj_s, min_size=1, max_size=25),
    "inspections": st.lists(st.tuples(st.integers(0, 40), st.integers(-500, 30)), max_size=60),
    "bases": st.lists(st.tuples(lon_s, lat_s), max_size=3),
    "links": st.lists(st.tuples(st.integers(0, 40), st.sampled_from(["D1", "D2", "D3"]), st.booleans(),
                                st.sampled_from(["张", None])), max_size=40),
})


def frames_of(city: dict) -> dict:
    objs = city["objects"]
    ent = gpd.GeoDataFrame({"id": [f"E{i}" for i in range(len(objs))], "name": [f"n{i}" for i in range(len(objs))],
                            "grade": [o[2] for o in objs], "status": "operating",
                            "district_code": [o[3] for o in objs], "town_code": None},
                           geometry=[shapely.Point(o[0], o[1]) for o in objs], crs=4326)
    insp = pd.DataFrame({"id": [f"I{i}" for i in range(len(city["inspections"]))], "target_layer": "enterprises",
                         "target_id": [f"E{k}" for k, _ in city["inspections"]],
                         "date": pd.to_datetime([AS_OF + timedelta(days=d) for _, d in city["inspections"]])})
    teams = gpd.GeoDataFrame({"id": [f"T{i}" for i in range(len(city["bases"]))], "name": "t"},
                             geometry=[shapely.Point(*b) for b in city["bases"]], crs=4326)
    dist = gpd.GeoDataFrame({"code": list(DISTRICTS), "name": list(DISTRICTS)},
                            geometry=[shapely.MultiPolygon([p]) for p in DISTRICTS.values()], crs=4326)
    links = pd.DataFrame({"target_layer": "enterprises", "target_id": [f"E{k}" for k, *_ in city["links"]],
                          "department_id": [d for _, d, _, _ in city["links"]],
                          "lead": [b for _, _, b, _ in city["links"]], "officer": [o for *_, o in city["links"]]})
    deps = pd.DataFrame({"id": ["D1", "D2"], "name": ["一", "二"]})  # D3 is not a known department
    return {"enterprises": ent, "inspections": insp, "teams": teams, "districts": dist, "responsibilities": links,
            "departments": deps}


def brute_force(city: dict, s: Settings) -> dict:
    objs = city["objects"]
    until = min(AS_OF, TODAY)
    last: dict[int, date] = {}
    first = None
    for k, d in city["inspections"]:
        day = AS_OF + timedelta(days=d)
        if k >= len(objs) or day > until:
            continue
        if k not in last or day > last[k]:
            last[k] = day
        if first is None or day < first:
            first = day
    horizon = first if first is not None else AS_OF - timedelta(days=s.coverage_window_days)
    dead = {}
    for i, o in enumerate(objs):
        iv = s.intervals[o[2]]
        if i not in last:
            dead[f"E{i}"] = iv + (AS_OF - horizon).days
        elif (AS_OF - last[i]).days > iv:
            dead[f"E{i}"] = (AS_OF - last[i]).days - iv
    # cells
    lon0 = sum(o[0] for o in objs) / len(objs)  # all north of the equator: UTM zone from the mean longitude
    to_m = Transformer.from_crs(4326, 32600 + int((lon0 + 180) // 6) + 1, always_xy=True)
    cells: dict[str, dict] = {}
    for i, o in enumerate(objs):
        c = h3.latlng_to_cell(o[1], o[0], s.h3_resolution)
        e = cells.setdefault(c, {"last": None})
        if i in last and (e["last"] is None or last[i] > e["last"]):
            e["last"] = last[i]
    bases = [to_m.transform(*b) for b in city["bases"]]
    blind = {}
    for c, e in cells.items():
        clat, clon = h3.cell_to_latlng(c)
        x, y = to_m.transform(clon, clat)
        best = min((math.hypot(x - bx, y - by) for bx, by in bases), default=math.inf)
        seconds = best * s.detour_factor / (s.travel_speed_kmh / 3.6)
        reach = seconds <= s.reach_minutes * 60 + 1e-6
        insp = e["last"] is not None and (AS_OF - e["last"]).days <= s.coverage_window_days
        if not (insp and reach):
            blind[c] = "not_inspected+out_of_reach" if not insp and not reach else (
                "not_inspected" if not insp else "out_of_reach")
    gaps = set()
    for i, o in enumerate(objs):
        mine = [lk for lk in city["links"] if lk[0] == i and lk[1] in ("D1", "D2")]
        depts = {lk[1] for lk in mine}
        if not depts:
            gaps.add((f"E{i}", "no_department"))
        if len(depts) >= 2 and not any(lk[2] for lk in mine):
            gaps.add((f"E{i}", "no_lead"))
        if any(lk[3] is None for lk in mine):
            gaps.add((f"E{i}", "no_officer"))
        inside = [code for code, poly in DISTRICTS.items() if poly.intersects(shapely.Point(o[0], o[1]))]
        located = o[3] if o[3] in inside else (inside[0] if inside else None)
        if located is None:
            gaps.add((f"E{i}", "outside_districts"))
        elif o[3] != located:
            gaps.add((f"E{i}", "district_mismatch"))
    return {"dead": dead, "blind": blind, "gaps": gaps}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(city_s)
def test_vectorised_equals_brute_force(city):
    s = Settings()
    r = compute_frames(frames_of(city), as_of=AS_OF, today=TODAY, settings=s)
    want = brute_force(city, s)
    got_dead = dict(zip(r.dead_corners["id"], r.dead_corners["days_overdue"].astype(int), strict=True))
    assert got_dead == want["dead"]
    assert dict(zip(r.blind_spots["cell"], r.blind_spots["kind"], strict=True)) == want["blind"]
    g = r.supervision_gaps
    assert set(zip(g["id"], g["kind"], strict=True)) == want["gaps"]
    assert r.summary["objects"] == len(city["objects"])
    assert r.summary["dead_corners"] == len(want["dead"])
