"""Objects of the demo city: enterprises, crowded venues, teams, departments, resources, flood points.

Local metres (see :mod:`layers.demo_geography`). Enterprises and venues are drawn with numpy in batches
(no Python loop per row) so a million enterprises take seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from layers.demo.geography import Geography, density, level
from layers.demo.names import concat, person_names, place_names, trade_names

#: share of enterprises per industry
INDUSTRY_SHARE = {"mining": 0.004, "hazchem": 0.06, "metallurgy": 0.03, "industry_trade": 0.34,
                  "construction": 0.09, "fireworks": 0.008, "transport": 0.05, "fire_key_unit": 0.38,
                  "gas": 0.038}
#: share of each industry located in industrial parks
PARK_SHARE = {"hazchem": 0.85, "metallurgy": 0.85, "industry_trade": 0.3, "transport": 0.25}
#: latent risk of an industry (higher -> more likely major/high)
INDUSTRY_RISK = {"mining": 1.5, "hazchem": 1.7, "metallurgy": 1.2, "industry_trade": 0.0, "construction": 0.8,
                 "fireworks": 1.6, "transport": 0.7, "fire_key_unit": 0.35, "gas": 1.1}
GRADE_SHARE = (("major", 0.03), ("high", 0.12), ("moderate", 0.35), ("low", 0.50))
INDUSTRY_WORDS = {
    "mining": ("矿业", "石料厂", "采石场", "砂石"),
    "hazchem": ("化工", "精细化工", "化学品仓储", "涂料", "石化", "气体"),
    "metallurgy": ("钢铁", "铝业", "铸造", "金属制品", "冶炼", "锻造"),
    "industry_trade": ("机械", "纺织", "食品", "电子", "家具", "包装", "塑料制品", "木业", "粮油", "印务",
                       "汽车零部件", "建材", "制药", "服装"),
    "construction": ("建设工程", "建筑工程", "城建", "路桥工程", "市政工程", "建工"),
    "fireworks": ("烟花爆竹", "花炮"),
    "transport": ("物流", "运输", "客运", "危险货物运输", "公交", "汽车运输"),
    "fire_key_unit": ("商贸", "置业", "物业", "百货", "酒店管理", "大厦", "商业管理", "仓储"),
    "gas": ("燃气", "液化气", "能源", "天然气"),
}
EMPLOYEES = {"mining": (4.0, 0.6), "hazchem": (4.2, 0.8), "metallurgy": (4.8, 0.9), "industry_trade": (3.4, 0.9),
             "construction": (4.3, 0.7), "fireworks": (2.8, 0.6), "transport": (3.8, 0.9),
             "fire_key_unit": (3.6, 1.0), "gas": (3.2, 0.8)}

VENUE_SHARE = {"ktv": 0.08, "foot_massage": 0.10, "bar": 0.05, "mall": 0.06, "cinema": 0.03, "stadium": 0.01,
               "school": 0.20, "hospital": 0.05, "market": 0.12, "hotel": 0.30}
VENUE_HOURS = {"ktv": "12:00-02:00", "foot_massage": "11:00-01:00", "bar": "19:00-03:00",
               "mall": "10:00-22:00", "cinema": "09:00-24:00", "stadium": "08:00-21:00",
               "school": "07:30-17:30", "hospital": "00:00-24:00", "market": "05:30-19:00",
               "hotel": "00:00-24:00"}
VENUE_CAPACITY = {"ktv": (5.0, 0.5), "foot_massage": (4.0, 0.5), "bar": (4.6, 0.5), "mall": (8.0, 0.7),
                  "cinema": (6.3, 0.5), "stadium": (9.0, 0.6), "school": (7.2, 0.5), "hospital": (6.5, 0.8),
                  "market": (6.0, 0.5), "hotel": (5.2, 0.7)}
VENUE_WORDS = {"ktv": ("KTV", "量贩KTV", "歌城"), "foot_massage": ("足浴", "足道", "养生会所"),
               "bar": ("酒吧", "音乐酒吧", "清吧"), "mall": ("购物中心", "广场", "商厦", "百货"),
               "cinema": ("影城", "大剧院", "国际影城"), "stadium": ("体育中心", "体育馆", "全民健身中心"),
               "school": ("小学", "中学", "实验学校", "职业技术学校", "幼儿园"),
               "hospital": ("医院", "人民医院", "中医医院", "妇幼保健院", "社区卫生服务中心"),
               "market": ("农贸市场", "菜市场", "批发市场"), "hotel": ("宾馆", "大酒店", "快捷酒店", "商务酒店")}

DEPARTMENTS = (  # id, zh, en, kind
    ("DEPT-EM", "应急管理局", "Emergency Management Bureau", "emergency"),
    ("DEPT-HC", "住房和城乡建设局", "Housing and Urban-Rural Development Bureau", "construction"),
    ("DEPT-TR", "交通运输局", "Transport Bureau", "transport"),
    ("DEPT-MR", "市场监督管理局", "Market Regulation Administration", "market"),
    ("DEPT-FR", "消防救援支队", "Fire and Rescue Detachment", "fire"),
    ("DEPT-GAS", "城市管理执法局（燃气）", "Urban Management Bureau (City Gas)", "gas"),
    ("DEPT-ED", "教育局", "Education Bureau", "education"),
    ("DEPT-HE", "卫生健康委员会", "Health Commission", "health"),
    ("DEPT-CT", "文化和旅游局", "Culture and Tourism Bureau", "culture"),
    ("DEPT-EI", "经济和信息化局", "Economy and Information Technology Bureau", "industry"),
    ("DEPT-CO", "商务局", "Commerce Bureau", "commerce"),
    ("DEPT-PS", "公安局", "Public Security Bureau", "police"),
    ("DEPT-WA", "水务和湖泊局", "Water and Lakes Bureau", "water"),
)


@dataclass
class Objects:
    enterprises: pd.DataFrame   # x, y (metres) + columns
    venues: pd.DataFrame
    teams: pd.DataFrame
    departments: pd.DataFrame
    resources: pd.DataFrame
    flood_points: pd.DataFrame
    remote_centre: np.ndarray   # the remote area nobody inspects (x, y)
    remote_radius: float
    parks: list                 # industrial park polygons (metres)


def sample_points(rng: np.random.Generator, n: int, weight: Callable[[np.ndarray, np.ndarray], np.ndarray],
                  region: shapely.Geometry, *, wmax: float | None = None) -> np.ndarray:
    """``n`` points inside ``region`` with probability proportional to ``weight(x, y)`` (vectorised)."""
    if n <= 0:
        return np.zeros((0, 2))
    shapely.prepare(region)
    minx, miny, maxx, maxy = region.bounds
    if wmax is None:
        gx, gy = np.meshgrid(np.linspace(minx, maxx, 120), np.linspace(miny, maxy, 120))
        wmax = float(weight(gx.ravel(), gy.ravel()).max()) * 1.05
    out, got = [], 0
    batch = max(8192, min(4 * n, 2_000_000))
    while got < n:
        x = rng.uniform(minx, maxx, batch)
        y = rng.uniform(miny, maxy, batch)
        keep = rng.uniform(0, wmax, batch) < weight(x, y)
        x, y = x[keep], y[keep]
        inside = shapely.contains_xy(region, x, y)
        pts = np.column_stack([x[inside], y[inside]])
        out.append(pts)
        got += len(pts)
    return np.vstack(out)[:n]


def _parks(rng: np.random.Generator, geo: Geography) -> list:
    from layers.demo.geography import _blob

    parks = []
    land_in = geo.land.buffer(-800)
    tries = 0
    while len(parks) < 7 and tries < 2000:
        tries += 1
        x, y = rng.uniform(-17e3, 17e3), rng.uniform(-17e3, 17e3)
        r = np.hypot(x, y)
        if not (8_500 < r < 16_500) or not land_in.contains(shapely.Point(x, y)) or level(x, y) > 1:
            continue
        if any(np.hypot(x - p.centroid.x, y - p.centroid.y) < 5_500 for p in parks):
            continue
        blob = _blob(rng, x, y, rng.uniform(900, 1_600), wobble=0.3).intersection(geo.land)
        parks.append(blob)
    return parks


def _remote_area(geo: Geography) -> tuple[np.ndarray, float]:
    """A rural corner far from every district seat: the blind spot nobody inspects."""
    rural = geo.cell_level == 0
    seeds = geo.cell_seeds[rural]
    inside = shapely.contains_xy(geo.land.buffer(-2_500), seeds[:, 0], seeds[:, 1])
    seeds = seeds[inside]
    d = np.min(np.hypot(seeds[:, None, 0] - geo.district_seats[None, :, 0],
                        seeds[:, None, 1] - geo.district_seats[None, :, 1]), axis=1)
    return seeds[int(np.argmax(d))], 2_200.0


def _industry_weight(ind: str, parks_union, remote: tuple[np.ndarray, float]):
    if ind == "fire_key_unit":
        return lambda x, y: density(x, y) ** 1.5
    if ind == "construction":
        return lambda x, y: np.exp(-(((density(x, y) - 0.25) / 0.2) ** 2)) + 0.05
    if ind in ("mining", "fireworks"):
        return lambda x, y: np.where(level(x, y) == 0, 1.0, 0.0)
    if ind == "gas":
        return lambda x, y: (density(x, y) + 0.05) ** 0.8
    return lambda x, y: (density(x, y) + 0.05) ** 0.6


def build_enterprises(rng: np.random.Generator, geo: Geography, n: int,
                      road_name: Callable[[np.ndarray, np.ndarray], np.ndarray], district_names: list[str]) -> tuple[pd.DataFrame, list, np.ndarray, float]:
    """Enterprises (metres) with industry, grade, name, address, employees, contact, status, credit code."""
    parks = _parks(rng, geo)
    parks_union = shapely.union_all(parks)
    remote_c, remote_r = _remote_area(geo)
    remote_poly = shapely.Point(remote_c).buffer(remote_r).intersection(geo.land)
    inds = list(INDUSTRY_SHARE)
    counts = rng.multinomial(n, [INDUSTRY_SHARE[i] for i in inds])
    xs, ys, industry, in_park = [], [], [], []
    n_remote = max(10, round(n * 0.004))
    for ind, k in zip(inds, counts, strict=True):
        k = int(k)
        k_park = int(round(k * PARK_SHARE.get(ind, 0.0)))
        k_rem = 0
        if ind in ("industry_trade", "mining", "fireworks") and n_remote > 0:
            k_rem = min(k - k_park, n_remote if ind == "industry_trade" else max(1, n_remote // 4))
        pts = [sample_points(rng, k_park, lambda x, y: np.ones_like(x), parks_union, wmax=1.0),
               sample_points(rng, k_rem, lambda x, y: np.ones_like(x), remote_poly, wmax=1.0),
               sample_points(rng, k - k_park - k_rem, _industry_weight(ind, parks_union, (remote_c, remote_r)),
                             geo.land)]
        p = np.vstack(pts)
        xs.append(p[:, 0])
        ys.append(p[:, 1])
        industry.append(np.full(k, ind, dtype=object))
        in_park.append(np.r_[np.ones(k_park, bool), np.zeros(k - k_park, bool)])
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    industry = np.concatenate(industry)
    in_park = np.concatenate(in_park)
    # shuffle so ids are not grouped by industry
    perm = rng.permutation(n)
    x, y, industry, in_park = x[perm], y[perm], industry[perm], in_park[perm]

    mu = np.array([EMPLOYEES[i][0] for i in inds])
    sd = np.array([EMPLOYEES[i][1] for i in inds])
    code = pd.Categorical(industry, categories=inds).codes
    employees = np.maximum(1, np.round(rng.lognormal(mu[code], sd[code]))).astype(np.int64)
    risk = np.array([INDUSTRY_RISK[i] for i in inds])[code] + 0.6 * in_park + 0.25 * np.log10(employees) + \
        rng.normal(0, 0.55, n)
    order = np.argsort(-risk, kind="stable")
    grade = np.empty(n, dtype=object)
    start = 0
    for g, share in GRADE_SHARE:
        stop = n if g == "low" else start + int(round(share * n))
        grade[order[start:stop]] = g
        start = stop

    status = rng.choice(["operating", "suspended", "closed"], size=n, p=[0.955, 0.03, 0.015]).astype(object)
    words = np.empty(n, dtype=object)
    for i, ind in enumerate(inds):
        s = code == i
        opts = np.array(INDUSTRY_WORDS[ind], dtype=object)
        words[s] = opts[rng.integers(0, len(opts), int(s.sum()))]
    pz, _ = place_names(rng, 300, unique=True)
    prefix = np.array(list(pz) + [d[:2] for d in district_names] * 20 + ["示范市"] * 40, dtype=object)
    prefix = prefix[rng.integers(0, len(prefix), n)]
    suffix = np.array(["有限公司"] * 7 + ["有限责任公司", "股份有限公司", "厂"], dtype=object)[rng.integers(0, 10, n)]
    factory = (suffix == "厂") & ~np.isin(code, [inds.index(i) for i in ("industry_trade", "metallurgy", "mining")])
    suffix[factory] = "有限公司"  # only makers are a 厂
    site = (code == inds.index("construction")) & (rng.uniform(0, 1, n) < 0.5)
    suffix[site] = "项目部"
    name = concat(prefix, trade_names(rng, n), words, suffix)

    rn = road_name(x, y)
    number = rng.integers(1, 900, n).astype(str).astype(object)
    frame = pd.DataFrame({"x": x, "y": y, "industry": industry, "grade": grade, "status": status,
                          "name": name, "road_name": rn, "number": number, "employees": employees,
                          "contact": person_names(rng, n), "in_park": in_park})
    return frame, parks, remote_c, remote_r


def build_venues(rng: np.random.Generator, geo: Geography, n: int) -> pd.DataFrame:
    kinds = list(VENUE_SHARE)
    counts = rng.multinomial(n, [VENUE_SHARE[k] for k in kinds])
    xs, ys, kind = [], [], []
    for k, c in zip(kinds, counts, strict=True):
        c = int(c)
        if k in ("ktv", "foot_massage", "bar", "mall", "cinema", "hotel"):
            def w(x, y):
                return density(x, y) ** 1.6
        else:
            def w(x, y):
                return (density(x, y) + 0.02) ** 0.8
        p = sample_points(rng, c, w, geo.land)
        xs.append(p[:, 0])
        ys.append(p[:, 1])
        kind.append(np.full(c, k, dtype=object))
    x, y, kind = np.concatenate(xs), np.concatenate(ys), np.concatenate(kind)
    perm = rng.permutation(n)
    x, y, kind = x[perm], y[perm], kind[perm]
    code = pd.Categorical(kind, categories=kinds).codes
    mu = np.array([VENUE_CAPACITY[k][0] for k in kinds])
    sd = np.array([VENUE_CAPACITY[k][1] for k in kinds])
    capacity = np.maximum(20, np.round(rng.lognormal(mu[code], sd[code]), -1)).astype(np.int64)
    hours = np.array([VENUE_HOURS[k] for k in kinds], dtype=object)[code]
    words = np.empty(n, dtype=object)
    for i, k in enumerate(kinds):
        s = code == i
        opts = np.array(VENUE_WORDS[k], dtype=object)
        words[s] = opts[rng.integers(0, len(opts), int(s.sum()))]
    pz, _ = place_names(rng, 400, unique=True)
    place = np.array(pz, dtype=object)[rng.integers(0, len(pz), n)]
    public = np.isin(kind, ["school", "hospital", "market", "stadium"])
    name = np.where(public, concat(place, words), concat(place, trade_names(rng, n), words))
    return pd.DataFrame({"x": x, "y": y, "kind": kind, "capacity": capacity, "open_hours": hours, "name": name,
                         "has_code": ~np.isin(kind, ["school", "hospital", "stadium"]) |
                         (rng.uniform(0, 1, n) < 0.3)})


def build_teams(rng: np.random.Generator, geo: Geography) -> pd.DataFrame:
    rows = []
    skill_sets = ("hazchem,industry_trade,fire,mining", "fire,construction,gas,transport")
    for d, code in enumerate(geo.district_codes):
        sx, sy = geo.district_seats[d]
        for j, skills in enumerate(skill_sets):
            rows.append({"x": sx + 60 * (j + 1), "y": sy - 40 * j, "team_no": len(rows) + 1,
                         "name_suffix": f"{'一' if j == 0 else '二'}组", "district_scope": code, "skills": skills,
                         "shift_start": "08:30", "shift_end": "17:30", "break_start": "12:00",
                         "break_minutes": 60, "district_code": code})
    cx, cy = geo.district_seats[0]
    rows.append({"x": cx - 80, "y": cy + 50, "team_no": len(rows) + 1, "name_suffix": "危化专业组",
                 "district_scope": None, "skills": "hazchem,mining,industry_trade", "shift_start": "08:30",
                 "shift_end": "17:30", "break_start": "12:00", "break_minutes": 60, "district_code": geo.district_codes[0]})
    rows.append({"x": cx - 120, "y": cy - 60, "team_no": len(rows) + 1, "name_suffix": "燃气桥隧专业组",
                 "district_scope": None, "skills": "gas,structures,transport", "shift_start": "08:30",
                 "shift_end": "17:30", "break_start": "12:00", "break_minutes": 60, "district_code": geo.district_codes[0]})
    for d in (0, 1):
        sx, sy = geo.district_seats[d]
        rows.append({"x": sx + 30, "y": sy + 90, "team_no": len(rows) + 1, "name_suffix": "夜查组",
                     "district_scope": geo.district_codes[d], "skills": "fire", "shift_start": "18:00",
                     "shift_end": "23:30", "break_start": None, "break_minutes": 0,
                     "district_code": geo.district_codes[d]})
    teams = pd.DataFrame(rows)
    # a base a few metres from the district office; the office itself if that would leave the district's land
    for i, r in teams.iterrows():
        d = geo.district_codes.index(r["district_code"])
        if not geo.district_polys[d].intersection(geo.land).contains(shapely.Point(r["x"], r["y"])):
            teams.loc[i, ["x", "y"]] = geo.district_seats[d]
    teams["members"] = rng.integers(3, 6, len(teams)).astype(np.int64)
    return teams


def build_departments(geo: Geography) -> pd.DataFrame:
    rows = [{"id": i, "name": "示范市" + zh, "name_en": "Demo City " + en, "kind": kind, "district_code": None}
            for i, zh, en, kind in DEPARTMENTS]
    for code, (dname, dname_en) in zip(geo.district_codes, geo.district_names, strict=True):
        rows.append({"id": f"DEPT-EM-{code}", "name": f"{dname}应急管理局",
                     "name_en": f"{dname_en} Emergency Management Bureau", "kind": "emergency", "district_code": code})
    return pd.DataFrame(rows)


def build_resources(rng: np.random.Generator, geo: Geography) -> pd.DataFrame:
    spec = (("fire_station", 36, 1.0, "消防救援站", (4, 12)), ("rescue_team", 12, 0.5, "应急救援队", (20, 80)),
            ("shelter", 48, 0.8, "应急避难场所", (800, 12_000)), ("supply_depot", 9, 0.2, "应急物资储备库",
                                                                  (2_000, 30_000)))
    rows = []
    for kind, n, power, word, (lo, hi) in spec:
        pts = sample_points(rng, n, lambda x, y, p=power: (density(x, y) + 0.03) ** p, geo.land.buffer(-100))
        zh, _ = place_names(rng, n, unique=True)
        for (x, y), z in zip(pts, zh, strict=True):
            rows.append({"x": x, "y": y, "kind": kind, "name": z + word, "capacity": int(rng.integers(lo, hi)),
                         "phone": f"0700-{int(rng.integers(6_000_000, 9_000_000))}"})
    return pd.DataFrame(rows)


def build_flood_points(rng: np.random.Generator, geo: Geography, roads: pd.DataFrame,
                       rail: pd.DataFrame) -> pd.DataFrame:
    rows = []
    core = geo.land.intersection(geo.level_regions[2]).buffer(-50)
    near_water = geo.water.buffer(1_500).intersection(core)

    def w_wl(x, y):
        return density(x, y) + 0.2

    pts = np.vstack([sample_points(rng, 28, w_wl, near_water), sample_points(rng, 17, w_wl, core)])
    zh, _ = place_names(rng, 200, unique=True)
    k = 0
    for x, y in pts:
        rows.append({"x": x, "y": y, "kind": "waterlogging", "name": zh[k] + "路易涝点",
                     "max_depth_cm": int(rng.integers(15, 90))})
        k += 1
    # underpasses where main roads cross rail lines
    main = roads[roads["road_class"].isin(["primary", "motorway", "secondary"])]
    tree = shapely.STRtree(main["geometry"].to_numpy())
    for line in rail["geometry"]:
        idx = tree.query(line, predicate="crosses")
        for i in idx[:6]:
            x = shapely.intersection(line, main["geometry"].iloc[i])
            for pt in shapely.get_parts(x):
                if pt.geom_type == "Point" and not geo.water.contains(pt) and \
                        all(np.hypot(pt.x - r["x"], pt.y - r["y"]) > 800 for r in rows):
                    nm = main["name"].iloc[i] or zh[k]
                    rows.append({"x": pt.x, "y": pt.y, "kind": "underpass", "name": f"{nm}下穿通道",
                                 "max_depth_cm": int(rng.integers(40, 160))})
                    k += 1
    bank = geo.water.buffer(250).difference(geo.water.buffer(40)).intersection(geo.land)
    for x, y in sample_points(rng, 10, lambda x, y: density(x, y) + 0.1, bank):
        rows.append({"x": x, "y": y, "kind": "riverside_works", "name": zh[k] + "临河施工段",
                     "max_depth_cm": int(rng.integers(30, 200))})
        k += 1
    return pd.DataFrame(rows)
