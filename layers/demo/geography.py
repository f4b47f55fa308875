"""The land of the demo city: boundary, river, lakes, urban density, towns and districts.

Everything here is in a local metric frame (metres east/north of the city centre, lon 114.30 lat 30.60);
:func:`to_lonlat` turns it into WGS-84 at the end. The city is shaped like a river city with three banks
(a big river from south-west to north-east, a tributary joining from the west, a large lake on the east
bank), a dense core on the three banks, sub-centres around it and rural land at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point, Polygon
from shapely.ops import nearest_points

from layers.demo.names import place_names

LON0, LAT0 = 114.30, 30.60
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0 * float(np.cos(np.radians(LAT0)))
HALF_W, HALF_H = 20_300.0, 19_300.0  # half extents of the city, metres

#: Fictional districts (zh, en), central ones first.
DISTRICT_NAMES = (
    ("临江区", "Linjiang District"), ("望湖区", "Wanghu District"), ("汉滨区", "Hanbin District"),
    ("鹤鸣区", "Heming District"), ("青澜区", "Qinglan District"), ("东湖区", "Donghu District"),
    ("桂山区", "Guishan District"), ("长川区", "Changchuan District"),
)
DISTRICT_CODES = ("420102", "420103", "420104", "420105", "420106", "420107", "420111", "420112")
N_TOWNS = 60

#: urban centres: (x, y, weight, sigma) in metres
CENTRES = (
    (-3_000.0, 3_500.0, 1.0, 3_000.0),    # north bank CBD
    (-7_000.0, -1_800.0, 0.6, 2_300.0),   # between river and tributary
    (3_500.0, -2_500.0, 0.9, 3_000.0),    # south-east bank
    (8_000.0, 9_000.0, 0.35, 2_500.0),
    (-13_000.0, 7_000.0, 0.3, 2_500.0),
    (0.0, -11_000.0, 0.3, 2_500.0),
    (13_000.0, -6_000.0, 0.3, 2_500.0),
    (-14_000.0, -6_500.0, 0.22, 2_200.0),
)
#: density thresholds of the levels core (3), urban (2), suburban (1); below is rural (0)
LEVEL_THRESHOLDS = (0.45, 0.17, 0.05)


def to_lonlat(geoms: np.ndarray | shapely.Geometry) -> np.ndarray | shapely.Geometry:
    """Local metres -> WGS-84 lon/lat, rounded to 1e-7 degrees (about 1 cm)."""
    def f(xy: np.ndarray) -> np.ndarray:
        out = np.empty_like(xy)
        out[:, 0] = np.round(LON0 + xy[:, 0] / M_PER_DEG_LON, 7)
        out[:, 1] = np.round(LAT0 + xy[:, 1] / M_PER_DEG_LAT, 7)
        return out
    return shapely.transform(geoms, f)


def xy_to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local metres -> rounded lon/lat arrays."""
    return np.round(LON0 + np.asarray(x) / M_PER_DEG_LON, 7), np.round(LAT0 + np.asarray(y) / M_PER_DEG_LAT, 7)


def density(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Urban density (0..~1.2) at local metres x, y: a sum of Gaussian centres plus a floor."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    d = np.full(np.broadcast(x, y).shape, 0.01)
    for cx, cy, w, s in CENTRES:
        d = d + w * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s))
    return d


def level(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Urban level 0 rural, 1 suburban, 2 urban, 3 core."""
    d = density(x, y)
    core, urban, suburban = LEVEL_THRESHOLDS
    return np.where(d > core, 3, np.where(d > urban, 2, np.where(d > suburban, 1, 0))).astype(np.int8)


def chaikin(xy: np.ndarray, iterations: int = 4) -> np.ndarray:
    """Smooth an open polyline by corner cutting (end points kept)."""
    for _ in range(iterations):
        q = 0.75 * xy[:-1] + 0.25 * xy[1:]
        r = 0.25 * xy[:-1] + 0.75 * xy[1:]
        mid = np.empty((2 * len(q), 2))
        mid[0::2], mid[1::2] = q, r
        xy = np.vstack([xy[:1], mid, xy[-1:]])
    return xy


def _ribbon(centre: np.ndarray, widths: np.ndarray) -> Polygon:
    """A polygon of varying width around a densely sampled centre line."""
    d = np.gradient(centre, axis=0)
    n = np.column_stack([-d[:, 1], d[:, 0]])
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    left = centre + n * (widths[:, None] / 2)
    right = centre - n * (widths[:, None] / 2)
    return shapely.make_valid(Polygon(np.vstack([left, right[::-1]]))).buffer(0)


def _blob(rng: np.random.Generator, cx: float, cy: float, r: float, *, wobble: float = 0.25,
          n: int = 96) -> Polygon:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    rr = np.full(n, float(r))
    for k in (2, 3, 4, 6):
        rr *= 1 + wobble / k * np.sin(k * t + rng.uniform(0, 2 * np.pi))
    return Polygon(np.column_stack([cx + rr * np.cos(t), cy + rr * np.sin(t)]))


@dataclass
class Geography:
    """The land of the city in local metres (see module doc)."""

    boundary: Polygon
    river_line: np.ndarray          # dense centre line of the big river, (n, 2)
    river: Polygon
    tributary_line: np.ndarray
    tributary: Polygon
    lakes: list[tuple[str, str, Polygon]]  # (zh name, kind, polygon)
    water: shapely.Geometry          # all water inside the city (union)
    land: shapely.Geometry           # boundary minus water
    cell_seeds: np.ndarray           # (m, 2) micro-cell seeds
    cells: np.ndarray                # micro-cell polygons clipped to the boundary
    cell_level: np.ndarray           # urban level of each micro-cell
    cell_town: np.ndarray            # index into towns
    town_seeds: np.ndarray           # (N_TOWNS, 2)
    town_district: np.ndarray        # index into districts per town
    town_polys: np.ndarray
    district_polys: np.ndarray
    district_seats: np.ndarray       # (8, 2) district government location
    town_codes: list[str]
    town_names: list[str]
    town_names_en: list[str]
    district_codes: list[str]
    district_names: list[tuple[str, str]]  # (zh, en) per district
    level_regions: list[shapely.Geometry]  # region of level >= L for L = 0..3


def _boundary(rng: np.random.Generator) -> Polygon:
    t = np.linspace(0, 2 * np.pi, 360, endpoint=False)
    f = np.ones_like(t)
    for k, a in ((2, 0.05), (3, 0.05), (5, 0.03), (7, 0.02), (11, 0.012), (17, 0.006)):
        f *= 1 + a * np.sin(k * t + rng.uniform(0, 2 * np.pi))
    x = HALF_W * np.cos(t) * f
    y = HALF_H * np.sin(t) * f
    return Polygon(np.column_stack([x, y]))


def _river(rng: np.random.Generator) -> tuple[np.ndarray, Polygon]:
    ctrl = np.array([(-32e3, -16e3), (-18e3, -10.5e3), (-9e3, -6e3), (-3e3, -2.5e3), (1e3, 0.8e3),
                     (5e3, 4.5e3), (11e3, 7.5e3), (18e3, 9.5e3), (32e3, 16e3)])
    ctrl[1:-1] += rng.normal(0, 500, size=(len(ctrl) - 2, 2))
    line = shapely.segmentize(shapely.LineString(chaikin(ctrl, 5)), 100.0)
    xy = shapely.get_coordinates(line)
    s = np.concatenate([[0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    widths = 1_050 + 250 * np.sin(s / 6_000 + rng.uniform(0, 6)) + 120 * np.sin(s / 1_700 + rng.uniform(0, 6))
    return xy, _ribbon(xy, widths)


def _tributary(rng: np.random.Generator, river_xy: np.ndarray) -> tuple[np.ndarray, Polygon]:
    # joins the river a little upstream of the centre
    j = int(np.argmin(np.hypot(river_xy[:, 0] + 2_000, river_xy[:, 1] + 1_700)))
    mouth = river_xy[j]
    ctrl = np.array([(-32e3, 7e3), (-21e3, 4.5e3), (-13e3, 3.2e3), (-7e3, 1.0e3), (-4e3, 0.2e3),
                     tuple(mouth)])
    ctrl[1:-2] += rng.normal(0, 400, size=(len(ctrl) - 3, 2))
    line = shapely.segmentize(shapely.LineString(chaikin(ctrl, 5)), 80.0)
    xy = shapely.get_coordinates(line)
    widths = np.full(len(xy), 300.0) + 40 * np.sin(np.arange(len(xy)) / 15)
    return xy, _ribbon(xy, widths)


def _sample_weighted(rng: np.random.Generator, n: int, weight, inside: shapely.Geometry,
                     batch: int = 4096) -> np.ndarray:
    """``n`` points (local metres) inside ``inside`` with probability proportional to ``weight(x, y)``."""
    shapely.prepare(inside)
    out = []
    got = 0
    minx, miny, maxx, maxy = inside.bounds
    while got < n:
        x = rng.uniform(minx, maxx, batch)
        y = rng.uniform(miny, maxy, batch)
        w = weight(x, y)
        keep = (rng.uniform(0, 1, batch) * w.max(initial=1e-9) < w) & shapely.contains_xy(inside, x, y)
        pts = np.column_stack([x[keep], y[keep]])
        out.append(pts)
        got += len(pts)
    return np.vstack(out)[:n]


def _kmeans(rng: np.random.Generator, pts: np.ndarray, k: int, iters: int = 30) -> np.ndarray:
    # k-means++ init, then Lloyd iterations
    centres = [pts[rng.integers(len(pts))]]
    for _ in range(k - 1):
        d2 = np.min([((pts - c) ** 2).sum(axis=1) for c in centres], axis=0)
        centres.append(pts[rng.choice(len(pts), p=d2 / d2.sum())])
    c = np.array(centres)
    for _ in range(iters):
        lab = np.argmin(((pts[:, None, :] - c[None]) ** 2).sum(axis=2), axis=1)
        new = np.array([pts[lab == i].mean(axis=0) if (lab == i).any() else c[i] for i in range(k)])
        if np.allclose(new, c):
            break
        c = new
    return np.argmin(((pts[:, None, :] - c[None]) ** 2).sum(axis=2), axis=1)


def _fix_fragments(cells: np.ndarray, cell_seeds: np.ndarray, owner: np.ndarray, n_owners: int,
                   owner_seeds: np.ndarray) -> np.ndarray:
    """Give cells in detached fragments of an owner's union to the nearest other owner (a few passes)."""
    owner = owner.copy()
    for _ in range(4):
        changed = False
        for o in range(n_owners):
            idx = np.flatnonzero(owner == o)
            if len(idx) == 0:
                continue
            union = shapely.coverage_union_all(cells[idx])
            parts = shapely.get_parts(union)
            if len(parts) <= 1:
                continue
            main = parts[np.argmax(shapely.area(parts))]
            shapely.prepare(main)
            detached = idx[~shapely.contains_xy(main, *shapely.get_coordinates(
                shapely.point_on_surface(cells[idx])).T)]
            for c in detached:
                d = np.hypot(*(owner_seeds - cell_seeds[c]).T)
                d[o] = np.inf
                owner[c] = int(np.argmin(d))
                changed = True
        if not changed:
            break
    return owner


def _balance(town_district: np.ndarray, town_polys: np.ndarray, town_seeds: np.ndarray, k: int, *,
             lo: int = 3, hi: int = 14) -> np.ndarray:
    """Move border towns between neighbouring districts until each has ``lo``..``hi`` towns, keeping every
    district in one piece."""
    td = town_district.copy()
    for _ in range(200):
        counts = np.bincount(td, minlength=k)
        if counts.min() >= lo and counts.max() <= hi:
            break
        if counts.min() < lo:
            take, give_to = None, int(np.argmin(counts))
        else:
            take, give_to = int(np.argmax(counts)), None
        moved = False
        for t in np.argsort(np.hypot(*(town_seeds - town_seeds[td == (give_to if give_to is not None else take)]
                                       .mean(axis=0)).T), kind="stable")[::1 if give_to is not None else -1]:
            src = int(td[t])
            if give_to is not None:
                if src == give_to or counts[src] <= lo:
                    continue
                dst = give_to
            else:
                if src != take:
                    continue
                # the smallest neighbouring district
                neigh = [int(td[u]) for u in range(len(td)) if td[u] != src and town_polys[u].touches(town_polys[t])]
                if not neigh:
                    continue
                dst = min(neigh, key=lambda d: (counts[d], d))
            target = shapely.union_all(town_polys[td == dst])
            if not town_polys[t].touches(target):
                continue
            rest = shapely.union_all(town_polys[(td == src) & (np.arange(len(td)) != t)])
            if len(shapely.get_parts(rest)) != 1:
                continue
            td[t] = dst
            moved = True
            break
        if not moved:
            break
    return td


def build_geography(rng: np.random.Generator) -> Geography:
    """The boundary, water, urban levels, towns and districts of the city (local metres)."""
    boundary = _boundary(rng)
    river_xy, river = _river(rng)
    trib_xy, trib = _tributary(rng, river_xy)
    big_lake = _blob(rng, 11_000 + rng.normal(0, 250), -1_200 + rng.normal(0, 250), 2_100, wobble=0.35)
    small_lake = _blob(rng, -9_000 + rng.normal(0, 300), -11_000 + rng.normal(0, 300), 1_200, wobble=0.4)
    pond = _blob(rng, -1_500 + rng.normal(0, 200), 7_500 + rng.normal(0, 200), 550, wobble=0.3)
    big_lake = big_lake.difference(river.buffer(600))
    lakes = [("镜湖", "lake", big_lake), ("月湖", "lake", small_lake), ("莲花塘", "pond", pond)]
    water = shapely.union_all([river, trib, big_lake, small_lake, pond]).intersection(boundary)
    land = boundary.difference(water)

    # micro-cells: finer in the centre; towns are unions of them, districts unions of towns
    def cell_weight(x, y):
        return np.sqrt(density(x, y) + 0.08)

    cell_seeds = _sample_weighted(rng, 2600, cell_weight, boundary.buffer(1500))
    vor = shapely.voronoi_polygons(MultiPoint(cell_seeds), extend_to=boundary.buffer(5_000), ordered=True)
    cells = shapely.intersection(np.asarray(shapely.get_parts(vor)), boundary)
    keep = ~shapely.is_empty(cells) & (shapely.area(cells) > 1.0)
    cells, cell_seeds = cells[keep], cell_seeds[keep]
    cells = np.array([max(shapely.get_parts(c), key=lambda p: p.area) if c.geom_type != "Polygon" else c
                      for c in cells], dtype=object)
    cx, cy = shapely.get_coordinates(shapely.point_on_surface(cells)).T
    cell_level = level(cx, cy)

    # town seeds: weighted by density with a minimum spacing that grows with rurality
    cand = _sample_weighted(rng, 6000, lambda x, y: (density(x, y) + 0.05) ** 0.7, land.buffer(-300))
    dens = density(cand[:, 0], cand[:, 1])
    min_sep = 4_200 - 2_900 * np.minimum(1.0, dens / 0.7)
    seeds: list[np.ndarray] = []
    for p, r in zip(cand, min_sep, strict=True):
        if not seeds or np.min(np.hypot(*(np.array(seeds) - p).T)) >= r:
            seeds.append(p)
        if len(seeds) == N_TOWNS:
            break
    town_seeds = np.array(seeds)
    n_towns = len(town_seeds)
    cell_town = np.argmin(((cell_seeds[:, None, :] - town_seeds[None]) ** 2).sum(axis=2), axis=1)
    cell_town = _fix_fragments(cells, cell_seeds, cell_town, n_towns, town_seeds)

    town_polys = np.array([shapely.coverage_union_all(cells[cell_town == t]) for t in range(n_towns)],
                          dtype=object)
    # districts: k-means of town seeds, balanced to 3..14 towns each, central districts coded first
    town_district = _balance(_kmeans(rng, town_seeds, len(DISTRICT_CODES)), town_polys, town_seeds,
                             len(DISTRICT_CODES))
    dist_centre = np.array([town_seeds[town_district == d].mean(axis=0) for d in range(len(DISTRICT_CODES))])
    order = np.argsort(np.hypot(dist_centre[:, 0], dist_centre[:, 1]), kind="stable")
    remap = np.empty_like(order)
    remap[order] = np.arange(len(order))
    town_district = remap[town_district]
    cell_district = town_district[cell_town]
    district_polys = np.array([shapely.coverage_union_all(cells[cell_district == d])
                               for d in range(len(DISTRICT_CODES))], dtype=object)

    # district seat: the land point nearest the densest town's seed
    seats = []
    for d in range(len(DISTRICT_CODES)):
        ts = np.flatnonzero(town_district == d)
        best = ts[np.argmax(density(town_seeds[ts, 0], town_seeds[ts, 1]))]
        p = Point(town_seeds[best])
        region = district_polys[d].intersection(land)
        if not region.contains(p):  # the nearest point well inside the district's land
            inner = region.buffer(-150)
            p = nearest_points(inner, p)[0] if not inner.is_empty else region.point_on_surface()
        seats.append((p.x, p.y))
    district_seats = np.array(seats)

    # codes and names: towns sorted within their district by distance to the seat; streets 001.., towns 101..
    zh, en = place_names(rng, n_towns, unique=True)
    town_codes = [""] * n_towns
    town_names = [""] * n_towns
    town_names_en = [""] * n_towns
    for d, dcode in enumerate(DISTRICT_CODES):
        ts = np.flatnonzero(town_district == d)
        ts = ts[np.argsort(np.hypot(*(town_seeds[ts] - district_seats[d]).T), kind="stable")]
        n_street = n_town = 0
        for t in ts:
            urban = density(*town_seeds[t]) > LEVEL_THRESHOLDS[2] * 1.6
            if urban:
                n_street += 1
                town_codes[t] = f"{dcode}{n_street:03d}"
                town_names[t] = zh[t] + "街道"
                town_names_en[t] = en[t] + " Subdistrict"
            else:
                n_town += 1
                town_codes[t] = f"{dcode}{100 + n_town:03d}"
                town_names[t] = zh[t] + "镇"
                town_names_en[t] = en[t] + " Town"

    level_regions = [shapely.coverage_union_all(cells[cell_level >= lv]) for lv in range(4)]
    # the district holding the big lake is the Lake District (东湖区)
    names = list(DISTRICT_NAMES)
    lake_at = big_lake.representative_point()
    holder = next((d for d, p in enumerate(district_polys) if p.contains(lake_at)), None)
    lake_name = next(i for i, (zh, _) in enumerate(names) if zh == "东湖区")
    if holder is not None:
        names[holder], names[lake_name] = names[lake_name], names[holder]
    return Geography(boundary=boundary, river_line=river_xy, river=river.intersection(boundary.buffer(3_000)),
                     tributary_line=trib_xy, tributary=trib.intersection(boundary.buffer(3_000)), lakes=lakes,
                     water=water, land=land, cell_seeds=cell_seeds, cells=cells, cell_level=cell_level,
                     cell_town=cell_town, town_seeds=town_seeds, town_district=town_district,
                     town_polys=town_polys, district_polys=district_polys, district_seats=district_seats,
                     town_codes=town_codes, town_names=town_names, town_names_en=town_names_en,
                     district_codes=list(DISTRICT_CODES), district_names=names, level_regions=level_regions)
