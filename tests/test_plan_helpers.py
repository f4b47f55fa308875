"""A tiny hand-made city for the planning tests (no test functions here; imported by tests/test_plan_*.py).

Around lon 114.30, lat 30.60 (about 960 m per 0.01 deg of longitude, 1110 m per 0.01 deg of latitude).
Two districts 420102 and 420103; a road grid 0.01 deg apart; three teams; a handful of objects whose
answers are known:

- E1 hazchem major, never inspected (dead corner, top priority), 420102
- E2 hazchem low, inspected 10 days before AS_OF (not a dead corner)
- E3 construction high, never inspected, 420103
- E4 mining moderate, never inspected: no team has the mining skill
- E5 hazchem moderate in 420109: no team covers that district
- F1 fire key unit moderate, never inspected, 420102: T1 and T2 both have fire
- V1 KTV (default hours 19:00-23:59), V2 mall (own hours 10:00-21:00), V3 foot massage (own 14:00-23:00)
- G1 gas regulator station, condition class 4
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.store import Store, open_store

AS_OF = date(2026, 12, 1)
LON0, LAT0 = 114.30, 30.60


def pt(dx: float, dy: float):
    """A point ``dx`` / ``dy`` hundredths of a degree from the centre."""
    return shapely.Point(LON0 + dx * 0.01, LAT0 + dy * 0.01)


def _gdf(rows: list[dict]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=4326)


def road_lines() -> list:
    """A 7 x 7 grid of streets 0.01 deg apart, one line per block side (streets meet at shared vertices)."""
    lines = []
    for i in range(-3, 4):
        for j in range(-3, 3):
            lines.append(shapely.LineString([(LON0 + j * 0.01, LAT0 + i * 0.01), (LON0 + (j + 1) * 0.01, LAT0 + i * 0.01)]))
            lines.append(shapely.LineString([(LON0 + i * 0.01, LAT0 + j * 0.01), (LON0 + i * 0.01, LAT0 + (j + 1) * 0.01)]))
    return lines


TEAMS = [
    {"id": "T1", "name": "危化一组", "geometry": pt(0, 0), "skills": "hazchem,fire", "district_scope": "420102",
     "shift_start": "08:30", "shift_end": "17:30", "break_start": "12:00", "break_minutes": 60,
     "district_code": "420102"},
    {"id": "T2", "name": "燃气建筑组", "geometry": pt(2, 0), "skills": "gas,construction,fire",
     "district_scope": "420102,420103", "shift_start": "08:30", "shift_end": "17:30", "break_start": "12:00",
     "break_minutes": 60, "district_code": "420103"},
    {"id": "T3", "name": "夜查组", "geometry": pt(0, 1), "skills": "fire", "district_scope": "420102",
     "shift_start": "18:00", "shift_end": "23:30", "break_start": None, "break_minutes": 0,
     "district_code": "420102"},
]

ENTERPRISES = [
    {"id": "E1", "name": "甲化工", "industry": "hazchem", "grade": "major", "district_code": "420102",
     "address": "一路1号", "geometry": pt(1, 1)},
    {"id": "E2", "name": "乙化工", "industry": "hazchem", "grade": "low", "district_code": "420102",
     "address": "一路2号", "geometry": pt(-1, 1)},
    {"id": "E3", "name": "丙建筑", "industry": "construction", "grade": "high", "district_code": "420103",
     "address": "二路3号", "geometry": pt(2, -2)},
    {"id": "E4", "name": "丁矿山", "industry": "mining", "grade": "moderate", "district_code": "420102",
     "address": "三路4号", "geometry": pt(-2, -2)},
    {"id": "E5", "name": "戊化工", "industry": "hazchem", "grade": "moderate", "district_code": "420109",
     "address": "四路5号", "geometry": pt(-3, 3)},
    {"id": "F1", "name": "己商厦", "industry": "fire_key_unit", "grade": "moderate", "district_code": "420102",
     "address": "五路6号", "geometry": pt(1, -1)},
]

VENUES = [
    {"id": "V1", "name": "欢唱KTV", "kind": "ktv", "capacity": 300, "open_hours": None, "district_code": "420102",
     "address": "六路7号", "geometry": pt(-1, -1)},
    {"id": "V2", "name": "大商场", "kind": "mall", "capacity": 3000, "open_hours": "10:00-21:00",
     "district_code": "420102", "address": "七路8号", "geometry": pt(0, 2)},
    {"id": "V3", "name": "足浴城", "kind": "foot_massage", "capacity": 100, "open_hours": "14:00-23:00",
     "district_code": "420102", "address": "八路9号", "geometry": pt(-2, 1)},
]

GAS = [{"id": "G1", "name": "调压站1", "kind": "regulator", "condition_class": "4", "district_code": "420102",
        "geometry": pt(1, 2)}]

INSPECTIONS = [{"id": "I1", "target_layer": "enterprises", "target_id": "E2", "date": "2026-11-21",
                "team_id": "T1", "result": "pass"}]


def _box(x0: float, y0: float, x1: float, y1: float):
    return shapely.MultiPolygon([shapely.box(LON0 + x0 * 0.01, LAT0 + y0 * 0.01, LON0 + x1 * 0.01, LAT0 + y1 * 0.01)])


DISTRICTS = [{"code": "420102", "name": "甲区", "name_en": "Jia", "geometry": _box(-5, -4, 1.5, 4)},
             {"code": "420103", "name": "乙区", "name_en": "Yi", "geometry": _box(1.5, -4, 5, 4)}]


def build_plan_city(path: Path, *, roads: bool = True, users: bool = False) -> Store:
    """Write the city to ``path``; with ``users``, also admin (city), planner and d420103 (district), all with
    the password ``demo``."""
    store = open_store(path)
    with store.transaction() as tx:
        tx.append("districts", _gdf(DISTRICTS))
        tx.append("teams", _gdf(TEAMS))
        tx.append("enterprises", _gdf([{**e, "status": "operating"} for e in ENTERPRISES]))
        tx.append("venues", _gdf(VENUES))
        tx.append("gas_stations", _gdf(GAS))
        tx.append("inspections", pd.DataFrame(INSPECTIONS))
        if roads:
            lines = road_lines()
            tx.append("roads", _gdf([{"id": f"R{i}", "road_class": "secondary", "geometry": g}
                                     for i, g in enumerate(lines)]))
    if users:
        from layers.access.users import add_user

        add_user(store, "admin", "demo", role="admin", demo=True)
        add_user(store, "planner", "demo", role="planner", demo=True)
        add_user(store, "d420103", "demo", role="district", district_code="420103", demo=True)
    return store


def random_enterprises(n: int, *, seed: int = 3) -> list[dict]:
    """``n`` low-grade hazchem enterprises scattered over the grid (for the not-enough-time and draw tests)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-3, 3, size=(n, 2))
    return [{"id": f"L{i:03d}", "name": f"低风险企业{i}", "industry": "hazchem", "grade": "low",
             "district_code": "420102", "status": "operating", "geometry": pt(x, y)}
            for i, (x, y) in enumerate(xy)]
