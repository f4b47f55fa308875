"""Networks of the demo city: roads (a routable graph), bridges, tunnels, rail, the gas network.

Local metres (see :mod:`layers.demo_geography`). Roads are noded: every segment runs between two
intersections (or a dead end), and segments that meet share their end point exactly, so they form a graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import LineString, Point
from shapely.ops import substring

from layers.demo.geography import Geography, chaikin, density, level
from layers.demo.names import place_names
from layers.schema import ROAD_CLASSES

CLASS_RANK = {"motorway": 3, "primary": 2, "secondary": 1, "tertiary": 0}
RING_NAMES = (("一环线", "primary", 4_200.0), ("二环线", "motorway", 8_200.0), ("三环线", "motorway", 14_000.0))
CORE_SPACING = 210.0  # metres between streets in the core; x2 urban, x4 suburban, x8 rural


@dataclass
class Network:
    roads: pd.DataFrame        # geometry (metres), name, road_class, speed_kmh, oneway, source
    sources: pd.DataFrame      # the source lines the segments came from (rings, radials, streets)
    bridges: pd.DataFrame
    tunnels: pd.DataFrame
    rail_lines: pd.DataFrame
    rail_stations: pd.DataFrame
    gas_pipelines: pd.DataFrame
    gas_stations: pd.DataFrame


def _ring(rng: np.random.Generator, radius: float, boundary) -> LineString:
    t = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    f = np.ones_like(t)
    for k, a in ((2, 0.07), (3, 0.04), (5, 0.015)):
        f *= 1 + a * np.sin(k * t + rng.uniform(0, 2 * np.pi))
    xy = np.column_stack([300 + radius * np.cos(t) * f, 500 + radius * 0.95 * np.sin(t) * f])
    return shapely.LinearRing(xy)


def _radial(rng: np.random.Generator, angle: float, r0: float, r1: float) -> LineString:
    r = np.linspace(r0, r1, 120)
    drift = 0.12 * np.sin(r / 5_000 + rng.uniform(0, 2 * np.pi)) + rng.normal(0, 0.02)
    a = angle + drift * (r / r1)
    return LineString(np.column_stack([300 + r * np.cos(a), 500 + r * np.sin(a)]))


def _grid_lines(rng: np.random.Generator, poly, angle: float, spacing: float):
    """Parallel street lines of a rotated grid covering ``poly``: (lines, index along axis, axis)."""
    c, s = np.cos(angle), np.sin(angle)
    hull = np.asarray(shapely.get_coordinates(poly.envelope.buffer(spacing * 2)))
    u = hull[:, 0] * c + hull[:, 1] * s
    v = -hull[:, 0] * s + hull[:, 1] * c
    lines, idx, axis = [], [], []
    for ax, (lo, hi), (olo, ohi) in ((0, (u.min(), u.max()), (v.min(), v.max())),
                                     (1, (v.min(), v.max()), (u.min(), u.max()))):
        ks = np.arange(int(np.floor(lo / spacing)), int(np.ceil(hi / spacing)) + 1)
        for k in ks:
            a = k * spacing
            if ax == 0:  # u = a, v varies
                p0 = (a * c - olo * s, a * s + olo * c)
                p1 = (a * c - ohi * s, a * s + ohi * c)
            else:        # v = a, u varies
                p0 = (olo * c - a * s, olo * s + a * c)
                p1 = (ohi * c - a * s, ohi * s + a * c)
            lines.append(LineString([p0, p1]))
            idx.append(int(k))
            axis.append(ax)
    return np.array(lines, dtype=object), np.array(idx), np.array(axis)


def _required_level(k: np.ndarray) -> np.ndarray:
    """Level a street line index needs: every 8th line runs everywhere, every 4th from suburban, ..."""
    return np.where(k % 8 == 0, 0, np.where(k % 4 == 0, 1, np.where(k % 2 == 0, 2, 3)))


def _ends(segs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last coordinate of each line, (n, 2) each."""
    coords, idx = shapely.get_coordinates(segs, return_index=True)
    counts = np.bincount(idx, minlength=len(segs))
    last = np.cumsum(counts) - 1
    return coords[last - counts + 1], coords[last]


def _endpoint_ids(segs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Node ids of the first and last point of each line, and the node coordinates."""
    start, end = _ends(segs)
    both = np.vstack([start, end])
    nodes, inv = np.unique(both, axis=0, return_inverse=True)
    inv = inv.ravel()
    return inv[: len(segs)], inv[len(segs):], nodes


def build_roads(rng: np.random.Generator, geo: Geography) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The road network: ring roads, radial arterials, a street grid per district, noded into segments."""
    src_geom, src_name, src_class, src_kind = [], [], [], []

    # ring roads and radial arterials cross water on bridges
    for name, cls, radius in RING_NAMES:
        ring = _ring(rng, radius, geo.boundary).intersection(geo.boundary.buffer(-200))
        for _, _, lake in geo.lakes:  # no long causeways: a ring stops at the shore of a wide lake
            if ring.intersection(lake).length > 1_200:
                ring = ring.difference(lake.buffer(40))
        for part in shapely.get_parts(shapely.line_merge(ring)):
            src_geom.append(part)
            src_name.append(name)
            src_class.append(cls)
            src_kind.append("ring")
    n_radials = 11
    names_zh, _ = place_names(rng, n_radials + 400, unique=True)
    base = rng.uniform(0, 2 * np.pi)
    for i in range(n_radials):
        angle = base + 2 * np.pi * i / n_radials + rng.normal(0, 0.08)
        # radials start at the inner ring; turn one that would run along the water
        for turn in (0.0, 0.12, -0.12, 0.24, -0.24, 0.36, -0.36):
            line = _radial(rng, angle + turn, 3_600.0, 26_000.0).intersection(geo.boundary.buffer(-150))
            lakes = sum(line.intersection(lk).length for _, _, lk in geo.lakes)
            if line.intersection(geo.river).length < 1_700 and line.intersection(geo.tributary).length < 500 \
                    and lakes < 1_200:
                break
        cls = "motorway" if i in (0, 5) else "primary"
        for part in shapely.get_parts(shapely.line_merge(line)):
            src_geom.append(part)
            src_name.append(names_zh[i] + ("快速路" if cls == "motorway" else "大道"))
            src_class.append(cls)
            src_kind.append("radial")
    # river tunnels: straight across the big river near the centre, as roads
    river_xy = geo.river_line
    tunnel_lines = []
    for target in ((-1_500.0, -1_400.0), (3_800.0, 3_800.0)):
        j = int(np.argmin(np.hypot(*(river_xy - np.array(target)).T)))
        d = river_xy[min(j + 3, len(river_xy) - 1)] - river_xy[max(j - 3, 0)]
        n = np.array([-d[1], d[0]]) / np.hypot(*d)
        p = river_xy[j]
        line = LineString([p - n * 1_600, p + n * 1_600])
        tunnel_lines.append(line)
        src_geom.append(line)
        src_name.append(names_zh[n_radials + len(tunnel_lines)] + "隧道路")
        src_class.append("primary")
        src_kind.append("tunnel")

    # riverside avenues on the banks in the urban area
    banks = geo.river.buffer(90).exterior.intersection(geo.level_regions[2]).intersection(
        geo.boundary.buffer(-300))
    banks = banks.difference(shapely.union_all([geo.tributary, *[lk for _, _, lk in geo.lakes]]).buffer(60))
    for part in shapely.get_parts(shapely.line_merge(banks)):
        if part.length > 500:
            src_geom.append(part)
            src_name.append("滨江大道")
            src_class.append("secondary")
            src_kind.append("bank")

    # street grid per district; main streets (every 8th) may cross the tributary on small bridges
    land = geo.land
    land_plus_trib = land.union(geo.tributary.intersection(geo.boundary).difference(geo.river.buffer(60)))
    land_in = land.buffer(-15)
    shapely.prepare(land)
    name_pool = np.array([n + sfx for n in names_zh[n_radials + 10:] for sfx in ("路", "街")], dtype=object)
    for d, dpoly in enumerate(geo.district_polys):
        seat = geo.district_seats[d]
        river_dir = np.arctan2(*(geo.river_line[-1] - geo.river_line[0])[::-1])
        angle = (river_dir if density(*seat) > 0.3 else rng.uniform(-0.6, 0.9)) + rng.normal(0, 0.15)
        lines, k, axis = _grid_lines(rng, dpoly, angle, CORE_SPACING)
        req = _required_level(k)
        for lv in range(4):
            sel = req == lv
            region = dpoly.intersection(geo.level_regions[lv]).buffer(25)
            main = lv == 0
            clip = region.intersection(land_plus_trib if main else land_in)
            pieces = shapely.intersection(lines[sel], clip)
            if main:  # a main street may bridge the tributary, never run along it
                wet = shapely.length(shapely.intersection(pieces, geo.tributary))
                along = wet > 450
                pieces[along] = shapely.difference(pieces[along], geo.tributary.buffer(20))
            lnames = name_pool[rng.integers(0, len(name_pool), size=int(sel.sum()))]
            cls = "secondary" if lv <= 1 else "tertiary"
            for g, nm in zip(pieces, lnames, strict=True):
                for part in shapely.get_parts(shapely.line_merge(g) if g.geom_type == "MultiLineString" else g):
                    if part.geom_type == "LineString" and part.length > 60:
                        src_geom.append(part)
                        src_name.append(nm)
                        src_class.append(cls)
                        src_kind.append("street_main" if main else "street")

    sources = pd.DataFrame({"geometry": np.array(src_geom, dtype=object), "name": src_name,
                            "road_class": src_class, "kind": src_kind})
    # node everything: segments between intersections
    noded = shapely.get_parts(shapely.node(shapely.multilinestrings(sources["geometry"].to_numpy())))
    noded = noded[shapely.length(noded) > 0.5]
    segs = _attach_sources(noded, sources)
    segs = _prune_stubs(segs)
    segs = _connect(segs, land)
    segs["speed_kmh"] = segs["road_class"].map({k: float(v["speed"]) for k, v in ROAD_CLASSES.items()})
    core = level(*shapely.get_coordinates(shapely.line_interpolate_point(
        segs["geometry"].to_numpy(), 0.5, normalized=True)).T) == 3
    segs["oneway"] = (segs["road_class"] == "tertiary") & core & (rng.uniform(0, 1, len(segs)) < 0.08)
    return segs.reset_index(drop=True), sources


def _attach_sources(noded: np.ndarray, sources: pd.DataFrame) -> pd.DataFrame:
    """The source line of each noded segment (the highest class where several coincide)."""
    # a tree of the sources' two-point pieces: small boxes, cheap distance tests
    coords, idx = shapely.get_coordinates(sources["geometry"].to_numpy(), return_index=True)
    same = idx[1:] == idx[:-1]
    pieces = shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))
    piece_src = idx[:-1][same]
    tree = shapely.STRtree(pieces)
    mids = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    seg_i, piece_i = tree.query(mids, predicate="dwithin", distance=0.05)
    src_i = piece_src[piece_i]
    rank = sources["road_class"].map(CLASS_RANK).to_numpy()[src_i]
    order = np.lexsort((src_i, -rank, seg_i))
    seg_i, src_i = seg_i[order], src_i[order]
    first = np.r_[True, seg_i[1:] != seg_i[:-1]]
    best = np.full(len(noded), -1)
    best[seg_i[first]] = src_i[first]
    ok = best >= 0
    out = sources.iloc[best[ok]].reset_index(drop=True)
    out["geometry"] = noded[ok]
    out["source"] = best[ok]
    return out


def _prune_stubs(segs: pd.DataFrame, min_len: float = 40.0) -> pd.DataFrame:
    """Drop very short dead-end segments (clipping leftovers)."""
    for _ in range(3):
        g = segs["geometry"].to_numpy()
        a, b, _ = _endpoint_ids(g)
        deg = np.bincount(np.concatenate([a, b]))
        dead = (deg[a] == 1) | (deg[b] == 1)
        drop = dead & (shapely.length(g) < min_len)
        if not drop.any():
            break
        segs = segs[~drop].reset_index(drop=True)
    return segs


def _components(segs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    a, b, nodes = _endpoint_ids(segs["geometry"].to_numpy())
    n = len(nodes)
    m = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, lab = connected_components(m, directed=False)
    return a, b, nodes, lab


def _connect(segs: pd.DataFrame, land) -> pd.DataFrame:
    """Join small detached pieces to the main network with short straight local roads that stay on land
    and cross no other road (so the graph stays exactly noded)."""
    from scipy.spatial import cKDTree

    a, b, nodes, lab = _components(segs)
    sizes = np.bincount(lab)
    main = int(np.argmax(sizes))
    main_nodes = np.flatnonzero(lab == main)
    tree = cKDTree(nodes[main_nodes])
    seg_tree = shapely.STRtree(segs["geometry"].to_numpy())
    new = []
    for comp in np.flatnonzero(sizes > 0):
        if comp == main:
            continue
        members = np.flatnonzero(lab == comp)
        dist, j = tree.query(nodes[members])
        for k in np.argsort(dist, kind="stable")[:5]:
            if dist[k] > 2_500:
                break
            line = LineString([nodes[members[k]], nodes[main_nodes[j[k]]]])
            if land.contains(line) and len(seg_tree.query(line, predicate="crosses")) == 0:
                new.append(line)
                break
    if not new:
        return segs
    extra = pd.DataFrame({"geometry": np.array(new, dtype=object), "name": None, "road_class": "tertiary",
                          "kind": "connector", "source": -1})
    return pd.concat([segs, extra], ignore_index=True)


# --------------------------------------------------------------------------------------------------
# bridges and tunnels
# --------------------------------------------------------------------------------------------------

def build_structures(rng: np.random.Generator, geo: Geography, sources: pd.DataFrame
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    waters = [("江", geo.river, "澜江"), ("河", geo.tributary, "汀河")] + \
        [(zh, poly, zh) for zh, _, poly in geo.lakes]
    crossing = sources[sources["kind"].isin(["ring", "radial", "street_main"])]
    pnames, _ = place_names(rng, 400, unique=True)
    pi = 0
    for _, r in crossing.iterrows():
        for wname, wpoly, _ in waters:
            if not r["geometry"].intersects(wpoly):
                continue
            inter = r["geometry"].intersection(wpoly)
            for part in shapely.get_parts(shapely.line_merge(inter) if inter.geom_type == "MultiLineString"
                                          else inter):
                if part.geom_type != "LineString" or part.length < 60:
                    continue
                big = wname == "江"
                word = ("澜江" if big else "湖" if wname not in ("江", "河") else "") + \
                    ("大桥" if part.length >= 600 else "桥")
                nm = pnames[pi] + word
                pi += 1
                rows.append({"geometry": part, "name": nm, "road": r["name"], "kind": "water",
                             "year_built": int(rng.integers(1957 if big else 1975, 2022))})
    # interchange bridges (立交) where motorways meet arterials
    mway = sources[(sources["road_class"] == "motorway")]
    prim = sources[(sources["road_class"].isin(["primary", "motorway"]))]
    for _, m in mway.iterrows():
        for _, p in prim.iterrows():
            if m["name"] == p["name"]:
                continue
            x = m["geometry"].intersection(p["geometry"])
            for pt in shapely.get_parts(x):
                if pt.geom_type != "Point" or geo.water.contains(pt):
                    continue
                if any(rw["kind"] == "interchange" and rw["geometry"].distance(pt) < 300 for rw in rows):
                    continue
                span = p["geometry"].intersection(pt.buffer(130))
                span = shapely.line_merge(span) if span.geom_type == "MultiLineString" else span
                if span.geom_type != "LineString":
                    continue
                rows.append({"geometry": span, "name": f"{m['name']}{p['name']}立交桥", "road": p["name"],
                             "kind": "interchange", "year_built": int(rng.integers(1995, 2023))})
    bridges = pd.DataFrame(rows)
    n = len(bridges)
    cond = rng.choice(["1", "2", "3", "4", "5"], size=n, p=[0.34, 0.4, 0.18, 0.06, 0.02])
    old = bridges["year_built"].to_numpy() < 1990
    cond = np.where(old & (rng.uniform(0, 1, n) < 0.3), "4", cond)
    order = np.argsort(bridges["year_built"].to_numpy(), kind="stable")
    cond[order[0]] = "5"  # the oldest bridge is in the worst state: always at least one class 4-5
    cond[order[1]] = "4"
    bridges["condition_class"] = cond
    bridges["length_m"] = np.round(shapely.length(bridges["geometry"].to_numpy()), 1)

    trows = []
    for _, r in sources[sources["kind"] == "tunnel"].iterrows():
        part = r["geometry"].intersection(geo.river.buffer(350))
        part = shapely.line_merge(part) if part.geom_type == "MultiLineString" else part
        trows.append({"geometry": part, "name": r["name"].replace("隧道路", "澜江隧道"), "road": r["name"],
                      "year_built": int(rng.integers(2008, 2021))})
    # an underpass tunnel of a radial arterial in the core and a lake tunnel if a road crosses the big lake
    radials = sources[sources["kind"] == "radial"]
    for _, r in radials.head(2).iterrows():
        g = r["geometry"]
        seg = substring(g, 600.0, 1_500.0) if g.length > 2_000 else None
        if seg is not None and not seg.intersects(geo.water):
            trows.append({"geometry": seg, "name": r["name"] + "下穿隧道", "road": r["name"],
                          "year_built": int(rng.integers(2005, 2022))})
    tunnels = pd.DataFrame(trows)
    tunnels["condition_class"] = rng.choice(["1", "2", "3"], size=len(tunnels), p=[0.5, 0.35, 0.15])
    if len(tunnels) > 2:
        tunnels.loc[len(tunnels) - 1, "condition_class"] = "4"
    tunnels["length_m"] = np.round(shapely.length(tunnels["geometry"].to_numpy()), 1)
    return bridges, tunnels


# --------------------------------------------------------------------------------------------------
# rail
# --------------------------------------------------------------------------------------------------

RAIL = (
    ("1号线", "1", "#3A86C8", [(-14e3, 8e3), (-8e3, 5.5e3), (-3e3, 3.5e3), (0.5e3, 1e3), (3.5e3, -2.5e3),
                                (2e3, -7e3), (0, -12e3)]),
    ("2号线", "2", "#E4007F", [(8e3, 11e3), (3e3, 7e3), (-3e3, 3e3), (-6.5e3, -1.8e3), (-10e3, -4.5e3),
                                (-15e3, -7e3)]),
    ("3号线", "3", "#D8B44A", [(-16e3, 1.5e3), (-10e3, 0.8e3), (-6.5e3, -2.5e3), (-1e3, -3.5e3),
                                (3.5e3, -2e3), (8e3, -5e3), (14e3, -7e3)]),
    ("4号线", "4", "#8FC31F", [(-1e3, 15e3), (-2e3, 8e3), (-4e3, 3.2e3), (-1e3, -1e3), (5e3, -1e3),
                                (12e3, 2e3), (15e3, 6e3)]),
)


def build_rail(rng: np.random.Generator, geo: Geography) -> tuple[pd.DataFrame, pd.DataFrame]:
    lines = []
    for name, no, color, ctrl in RAIL:
        c = np.array(ctrl, dtype=float)
        c[1:-1] += rng.normal(0, 250, size=(len(c) - 2, 2))
        g = LineString(chaikin(c, 4)).intersection(geo.boundary.buffer(-300))
        g = shapely.line_merge(g) if g.geom_type == "MultiLineString" else g
        lines.append({"geometry": g, "name": f"轨道交通{name}", "line_no": no, "color": color})
    rail = pd.DataFrame(lines)
    stations: list[dict] = []
    # interchanges where lines cross
    for i in range(len(rail)):
        for j in range(i + 1, len(rail)):
            x = rail.loc[i, "geometry"].intersection(rail.loc[j, "geometry"])
            for pt in shapely.get_parts(x):
                if pt.geom_type != "Point":
                    continue
                near = [s for s in stations if s["geometry"].distance(pt) < 600]
                if near:
                    near[0]["lines"] |= {rail.loc[i, "line_no"], rail.loc[j, "line_no"]}
                    continue
                stations.append({"geometry": pt, "lines": {rail.loc[i, "line_no"], rail.loc[j, "line_no"]}})
    for _, r in rail.iterrows():
        g = r["geometry"]
        s = 0.0
        while s <= g.length:
            pt = g.interpolate(s)
            if not geo.water.contains(pt) and all(st["geometry"].distance(pt) > 700 for st in stations):
                stations.append({"geometry": pt, "lines": {r["line_no"]}})
            step = 1_000.0 if density(pt.x, pt.y) > 0.3 else 1_900.0
            s += step * rng.uniform(0.85, 1.15)
    n = len(stations)
    zh, _ = place_names(rng, n, unique=True)
    sfx = np.array(["", "路", "广场", "公园", "", "大道", "村", "站"], dtype=object)[rng.integers(0, 8, n)]
    out = pd.DataFrame({"geometry": [s["geometry"] for s in stations],
                        "name": [z + x for z, x in zip(zh, sfx, strict=True)],
                        "lines": [",".join(sorted(s["lines"])) for s in stations]})
    xy = shapely.get_coordinates(out["geometry"].to_numpy())
    base = rng.lognormal(mean=9.2, sigma=0.5, size=n) * (0.4 + density(xy[:, 0], xy[:, 1]))
    inter = np.array([len(s["lines"]) > 1 for s in stations])
    out["daily_passengers"] = np.round(base * np.where(inter, 2.5, 1.0), -1).astype(np.int64)
    return rail, out


# --------------------------------------------------------------------------------------------------
# gas
# --------------------------------------------------------------------------------------------------

def build_gas(rng: np.random.Generator, geo: Geography, roads: pd.DataFrame
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    g = roads["geometry"].to_numpy()
    mid = shapely.get_coordinates(shapely.line_interpolate_point(g, 0.5, normalized=True))
    lv = level(mid[:, 0], mid[:, 1])
    name = roads["name"].fillna("").to_numpy()
    cls = roads["road_class"].to_numpy()
    shapely.prepare(geo.water)
    on_water = shapely.intersects(geo.water, g)  # the prepared geometry first
    u = rng.uniform(0, 1, len(roads))
    pressure = np.full(len(roads), None, dtype=object)
    pressure[(cls == "secondary") & (lv >= 1)] = "medium"
    pressure[(cls == "tertiary") & (lv >= 2) & (u < 0.7)] = "low"
    pressure[(cls == "tertiary") & (lv == 1) & (u < 0.25)] = "low"
    pressure[(cls == "primary") | ((cls == "motorway") & (name == "二环线"))] = "sub_high"
    pressure[name == "三环线"] = "high"
    pressure[on_water & (pressure != "high") & (pressure != "sub_high")] = None  # no pipes on small bridges
    sel = pressure != None  # noqa: E711 -- element-wise on an object array
    geoms = shapely.offset_curve(g[sel], 12.0)
    geoms = np.where(shapely.is_empty(geoms) | (shapely.get_type_id(geoms) != 1), g[sel], geoms)
    p = pressure[sel]
    m = len(p)
    x, y = mid[sel].T
    dens = density(x, y)
    year = np.where(p == "high", rng.integers(2003, 2016, m),
                    np.where(dens > 0.45, rng.integers(1983, 2012, m), rng.integers(1998, 2025, m)))
    material = np.where(np.isin(p, ["high", "sub_high"]), "钢",
                        np.where(p == "medium", np.where(rng.uniform(0, 1, m) < 0.6, "PE", "钢"),
                                 np.where(year < 1998, np.where(rng.uniform(0, 1, m) < 0.5, "灰口铸铁", "球墨铸铁"),
                                          "PE")))
    diam_choices = {"high": [508, 610, 711], "sub_high": [323, 406, 508], "medium": [160, 200, 250, 315],
                    "low": [63, 90, 110, 160]}
    diam = np.zeros(m, dtype=np.int64)
    for k, opts in diam_choices.items():
        s = p == k
        diam[s] = rng.choice(opts, size=int(s.sum()))
    pipes = pd.DataFrame({"geometry": geoms, "pressure": p, "material": material, "diameter_mm": diam,
                          "year_laid": year.astype(np.int64)})

    # stations
    rows = []
    ring3 = roads[roads["name"] == "三环线"]["geometry"].to_numpy()
    ring3u = shapely.line_merge(shapely.union_all(ring3)) if len(ring3) else None
    zh, _ = place_names(rng, 300, unique=True)
    k = 0

    def add(pt, kind, pressure_, suffix):
        nonlocal k
        rows.append({"geometry": pt, "name": zh[k] + suffix, "kind": kind, "pressure": pressure_})
        k += 1

    if ring3u is not None and not ring3u.is_empty:
        L = ring3u.length
        for f in (0.08, 0.41, 0.73):
            pt = ring3u.interpolate(f * L)
            add(Point(pt.x * 1.04, pt.y * 1.04), "gate", "high", "天然气门站")
        for f in (0.2, 0.6):
            pt = ring3u.interpolate(f * L)
            add(Point(pt.x * 1.03, pt.y * 1.03), "storage", "high", "燃气储配站")
    # regulators: where sub-high pipes meet the high ring and along sub-high lines
    sub = np.flatnonzero(p == "sub_high")
    for i in rng.choice(sub, size=min(34, len(sub)), replace=False):
        add(shapely.get_point(geoms[i], 0), "regulator", "sub_high", "调压站")
    hi = np.flatnonzero(p == "high")
    for i in rng.choice(hi, size=min(8, len(hi)), replace=False):
        add(shapely.get_point(geoms[i], 0), "regulator", "high", "高中压调压站")
    # filling and fuel stations by main roads, offset to the roadside
    big = np.flatnonzero(np.isin(cls, ["primary", "motorway"]) & ~on_water)
    for i in rng.choice(big, size=min(14, len(big)), replace=False):
        add(shapely.line_interpolate_point(shapely.offset_curve(g[i], 40.0), 0.5, normalized=True),
            "filling", "medium", "加气站")
    sec = np.flatnonzero(np.isin(cls, ["primary", "secondary", "motorway"]) & ~on_water)
    for i in rng.choice(sec, size=min(95, len(sec)), replace=False):
        add(shapely.line_interpolate_point(shapely.offset_curve(g[i], 35.0), 0.5, normalized=True),
            "fuel", None, "加油站")
    stations = pd.DataFrame(rows)
    ok = ~shapely.is_empty(stations["geometry"].to_numpy()) & \
        shapely.contains(geo.land, stations["geometry"].to_numpy())
    stations = stations[ok].reset_index(drop=True)
    stations["condition_class"] = rng.choice(["1", "2", "3", "4", "5"], size=len(stations),
                                             p=[0.45, 0.35, 0.14, 0.05, 0.01])
    return pipes, stations
