"""The generated demo city 示范市 (Demo City): deterministic from a seed, realistic, scalable.

``generate_city(enterprises=5000, seed=7)`` returns every layer of :data:`layers.schema.LAYERS` (except the
planning layers, which start empty) as frames in EPSG:4326; ``build_demo_store(path)`` writes them into a
GeoPackage store in one transaction. The same seed gives the same data, byte for byte.

The city is centred near lon 114.30, lat 30.60, about 40 km x 38 km: a big river from south-west to
north-east, a tributary from the west, lakes, 8 districts and 60 towns/streets, ring roads, radial
arterials and a street grid (a routable graph), bridges, tunnels, 4 rail lines, a gas network, industrial
parks at the edge, venues in the centres, and two years of inspections ending on :data:`AS_OF` with
real gaps (see :mod:`layers.demo_activity`). Parts: :mod:`layers.demo_geography`,
:mod:`layers.demo_network`, :mod:`layers.demo_objects`, :mod:`layers.demo_activity`,
:mod:`layers.demo_names`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.credit_code import make_array as credit_codes
from layers.demo.activity import (
    AS_OF,
    build_accidents,
    build_hazards,
    build_inspections,
    build_responsibilities,
)
from layers.demo.contacts import CONTACTS_STREAM, add_phones
from layers.demo.geography import M_PER_DEG_LAT, M_PER_DEG_LON, build_geography, to_lonlat, xy_to_lonlat
from layers.demo.ledger import LEDGER_STREAM, build_ledger
from layers.demo.names import concat, make_ids
from layers.demo.network import build_gas, build_rail, build_roads, build_structures
from layers.demo.objects import (
    build_departments,
    build_enterprises,
    build_flood_points,
    build_resources,
    build_teams,
    build_venues,
)
from layers.demo.readiness import READINESS_STREAM, build_readiness
from layers.errors import RiskMapError
from layers.schema import LAYERS, T
from layers.store import Store, is_database_url, open_store
from layers.store.gpkg import write_new

__all__ = ["AS_OF", "CITY_NAME", "DEMO_PASSWORD", "build_demo_store", "generate_city", "password_hash",
           "write_city"]

CITY_NAME = {"zh": "示范市", "en": "Demo City"}
DEMO_PASSWORD = "demo"
WRONG_DISTRICT_SHARE = 0.005
PBKDF2_ITERATIONS = 600_000


def password_hash(password: str, *, salt: str) -> str:
    """A werkzeug-compatible ``pbkdf2:sha256:600000$salt$hex`` hash with a given salt (deterministic)."""
    dk = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt.encode("utf-8"), PBKDF2_ITERATIONS)
    return f"pbkdf2:sha256:{PBKDF2_ITERATIONS}${salt}${dk.hex()}"


def _salt(seed: int) -> str:
    return hashlib.sha256(f"riskmap-demo:{seed}".encode()).hexdigest()[:16]


def _points(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    lon, lat = xy_to_lonlat(x, y)
    return shapely.points(np.column_stack([lon, lat]))


def _gdf(frame: pd.DataFrame, layer: str, geometry: np.ndarray) -> gpd.GeoDataFrame:
    cols = [c for c in LAYERS[layer].names if c in frame.columns]
    return gpd.GeoDataFrame(frame[cols].reset_index(drop=True), geometry=np.asarray(geometry, dtype=object),
                            crs="EPSG:4326")


def _locate(points: np.ndarray, polys: np.ndarray) -> np.ndarray:
    """Index of the polygon holding each point (lon/lat); the nearest polygon for points on no polygon."""
    tree = shapely.STRtree(polys)
    pi, gi = tree.query(points, predicate="within")
    out = np.full(len(points), -1, dtype=np.int64)
    out[pi] = gi
    miss = np.flatnonzero(out < 0)
    if len(miss):
        out[miss] = tree.query_nearest(points[miss], all_matches=False)[1]
    return out


def _road_namer(roads: pd.DataFrame):
    """A function (x, y) -> name of the nearest named road (points every 50 m along the roads, a k-d tree)."""
    from scipy.spatial import cKDTree

    named = roads[roads["name"].notna()]
    coords, idx = shapely.get_coordinates(shapely.segmentize(named["geometry"].to_numpy(), 50.0),
                                          return_index=True)
    names = named["name"].to_numpy(dtype=object)[idx]
    tree = cKDTree(coords)

    def nearest(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return names[tree.query(np.column_stack([x, y]))[1]]
    return nearest


def _empty(layer: str) -> pd.DataFrame:
    """An empty frame with the layer's columns in the types ``store.read`` returns."""
    dtypes = {T.DATE: "datetime64[ns]", T.DATETIME: "datetime64[ns]", T.INT: "Int64", T.BOOL: "boolean",
              T.REAL: "float64", T.TEXT: object, T.BLOB: object}
    frame = pd.DataFrame({c.name: pd.Series(dtype=dtypes[c.type]) for c in LAYERS[layer].columns})
    if LAYERS[layer].spatial:  # an empty spatial layer (incidents) is still a GeoDataFrame in EPSG:4326
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    return frame


def generate_city(*, enterprises: int = 5000, seed: int = 7) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """Every layer of the demo city, keyed by layer name, in EPSG:4326 (see module doc).

    Parameters
    ----------
    enterprises : number of enterprises (venues, inspections, hazards, accidents scale with it; the land,
        roads and networks stay the same).
    seed : the same seed gives the same city, byte for byte.
    """
    if enterprises < 1:
        raise RiskMapError(f"企业数必须为正数 (enterprises must be positive), got {enterprises}")
    rng = np.random.default_rng(seed)
    geo = build_geography(rng)
    district_names = [zh for zh, _ in geo.district_names]
    out: dict[str, gpd.GeoDataFrame | pd.DataFrame] = {}

    # ---- administrative areas and water
    dpolys = to_lonlat(np.array([shapely.multipolygons(shapely.get_parts(p)) for p in geo.district_polys],
                                dtype=object))
    tpolys = to_lonlat(np.array([shapely.multipolygons(shapely.get_parts(p)) for p in geo.town_polys],
                                dtype=object))
    out["districts"] = gpd.GeoDataFrame({"code": geo.district_codes, "name": district_names,
                                         "name_en": [en for _, en in geo.district_names]}, geometry=dpolys,
                                        crs="EPSG:4326")
    town_dcode = np.array(geo.district_codes, dtype=object)[geo.town_district]
    order = np.argsort(np.array(geo.town_codes), kind="stable")
    out["towns"] = gpd.GeoDataFrame({"code": np.array(geo.town_codes, dtype=object)[order],
                                     "name": np.array(geo.town_names, dtype=object)[order],
                                     "name_en": np.array(geo.town_names_en, dtype=object)[order],
                                     "district_code": town_dcode[order]},
                                    geometry=tpolys[order], crs="EPSG:4326")
    town_polys_ll = out["towns"].geometry.to_numpy()
    town_codes = out["towns"]["code"].to_numpy()
    town_dcodes = out["towns"]["district_code"].to_numpy()
    water_rows = [("W1", "澜江", "river", geo.river), ("W2", "汀河", "river", geo.tributary)] + \
        [(f"W{i + 3}", zh, kind, poly) for i, (zh, kind, poly) in enumerate(geo.lakes)]
    out["water"] = gpd.GeoDataFrame({"id": [r[0] for r in water_rows], "name": [r[1] for r in water_rows],
                                     "kind": [r[2] for r in water_rows]},
                                    geometry=to_lonlat(np.array([r[3] for r in water_rows], dtype=object)),
                                    crs="EPSG:4326")

    def where(geoms_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """district and town code of metric geometries (by a point on them)."""
        pts = to_lonlat(shapely.point_on_surface(geoms_m))
        ti = _locate(pts, town_polys_ll)
        return town_dcodes[ti], town_codes[ti]

    # ---- networks
    roads, sources = build_roads(rng, geo)
    out["roads"] = _gdf(roads.assign(id=make_ids("R", len(roads), 6)), "roads",
                        to_lonlat(roads["geometry"].to_numpy()))
    bridges, tunnels = build_structures(rng, geo, sources)
    for name, frame, prefix in (("bridges", bridges, "BR"), ("tunnels", tunnels, "TN")):
        d, t = where(frame["geometry"].to_numpy())
        frame = frame.assign(id=make_ids(prefix, len(frame), 4), district_code=d, town_code=t)
        frame["year_built"] = frame["year_built"].astype(np.int64)
        out[name] = _gdf(frame, name, to_lonlat(frame["geometry"].to_numpy()))
    rail, stations = build_rail(rng, geo)
    out["rail_lines"] = _gdf(rail.assign(id=[f"RL{r}" for r in rail["line_no"]]), "rail_lines",
                             to_lonlat(rail["geometry"].to_numpy()))
    d, _ = where(stations["geometry"].to_numpy())
    out["rail_stations"] = _gdf(stations.assign(id=make_ids("RS", len(stations), 4), district_code=d),
                                "rail_stations", to_lonlat(stations["geometry"].to_numpy()))
    pipes, gas_stations = build_gas(rng, geo, roads)
    d, _ = where(pipes["geometry"].to_numpy())
    out["gas_pipelines"] = _gdf(pipes.assign(id=make_ids("GP", len(pipes), 6), district_code=d), "gas_pipelines",
                                to_lonlat(pipes["geometry"].to_numpy()))
    d, t = where(gas_stations["geometry"].to_numpy())
    out["gas_stations"] = _gdf(gas_stations.assign(id=make_ids("GS", len(gas_stations), 4), district_code=d,
                                                   town_code=t),
                               "gas_stations", to_lonlat(gas_stations["geometry"].to_numpy()))

    # ---- enterprises: located by the town polygon they fall in; a few registered to the wrong district
    road_name = _road_namer(roads)
    ent, parks, remote_c, remote_r = build_enterprises(rng, geo, enterprises, road_name, district_names)
    n = len(ent)
    ent_pts = _points(ent["x"].to_numpy(), ent["y"].to_numpy())
    ti = _locate(ent_pts, town_polys_ll)
    dcode = town_dcodes[ti].copy()
    tcode = town_codes[ti].copy()
    wrong = np.flatnonzero(rng.uniform(0, 1, n) < WRONG_DISTRICT_SHARE)
    if len(wrong):
        # registered in another district's town (a consistent but wrong registration)
        other = rng.integers(0, len(town_codes), len(wrong))
        same = town_dcodes[other] == dcode[wrong]
        other = np.where(same, (other + 7) % len(town_codes), other)
        other = np.where(town_dcodes[other] == dcode[wrong], (other + 13) % len(town_codes), other)
        dcode[wrong] = town_dcodes[other]
        tcode[wrong] = town_codes[other]
    dname_of = dict(zip(geo.district_codes, district_names, strict=True))
    ent["id"] = make_ids("E", n, 7)
    ent["district_code"] = dcode
    ent["town_code"] = tcode
    ent["credit_code"] = credit_codes(rng, dcode.astype("U6"))
    ent["address"] = concat(CITY_NAME["zh"], pd.Series(dcode).map(dname_of).to_numpy(dtype=object),
                            ent["road_name"].to_numpy(dtype=object), ent["number"].to_numpy(dtype=object), "号")
    out["enterprises"] = _gdf(ent, "enterprises", ent_pts)

    # ---- venues
    n_venues = max(60, round(enterprises * 0.24))
    ven = build_venues(rng, geo, n_venues)
    ven_pts = _points(ven["x"].to_numpy(), ven["y"].to_numpy())
    vi = _locate(ven_pts, town_polys_ll)
    ven["id"] = make_ids("V", n_venues, 7)
    ven["district_code"] = town_dcodes[vi]
    ven["town_code"] = town_codes[vi]
    cc = credit_codes(rng, ven["district_code"].to_numpy().astype("U6"))
    ven["credit_code"] = np.where(ven["has_code"].to_numpy(), cc, None)
    ven["address"] = concat(CITY_NAME["zh"], pd.Series(ven["district_code"]).map(dname_of).to_numpy(dtype=object),
                            road_name(ven["x"].to_numpy(), ven["y"].to_numpy()),
                            rng.integers(1, 600, n_venues).astype(str).astype(object), "号")
    out["venues"] = _gdf(ven, "venues", ven_pts)

    # ---- teams, departments, resources, flood points
    teams = build_teams(rng, geo)
    dname = pd.Series(teams["district_code"]).map(dname_of)
    teams["id"] = [f"T{i:02d}" for i in teams["team_no"]]
    teams["name"] = np.where(teams["district_scope"].isna(), "市应急局" + teams["name_suffix"],
                             dname + teams["name_suffix"])
    out["teams"] = _gdf(teams, "teams", _points(teams["x"].to_numpy(), teams["y"].to_numpy()))
    out["departments"] = build_departments(geo)[[c for c in LAYERS["departments"].names if c != "phone"]]
    res = build_resources(rng, geo)
    res_pts = _points(res["x"].to_numpy(), res["y"].to_numpy())
    res["id"] = make_ids("ER", len(res), 4)
    res["district_code"] = town_dcodes[_locate(res_pts, town_polys_ll)]
    out["resources"] = _gdf(res, "resources", res_pts)
    fp = build_flood_points(rng, geo, roads, rail)
    fp_pts = _points(fp["x"].to_numpy(), fp["y"].to_numpy())
    fp["id"] = make_ids("FP", len(fp), 4)
    fp["district_code"] = town_dcodes[_locate(fp_pts, town_polys_ll)]
    out["flood_points"] = _gdf(fp, "flood_points", fp_pts)

    # ---- activity over all inspectable objects
    def obj_frame(layer: str, frame: pd.DataFrame, category, grade, status, xy) -> pd.DataFrame:
        return pd.DataFrame({"layer": layer, "id": frame["id"].to_numpy(), "district_code": frame["district_code"],
                             "town_code": frame["town_code"], "category": category, "grade": grade,
                             "status": status, "x": xy[:, 0], "y": xy[:, 1]})

    def mid_xy(gdf: gpd.GeoDataFrame) -> np.ndarray:
        return shapely.get_coordinates(shapely.line_interpolate_point(gdf.geometry.to_numpy(), 0.5,
                                                                      normalized=True))

    ent_xy = shapely.get_coordinates(ent_pts)
    objects = pd.concat([
        obj_frame("enterprises", ent, ent["industry"].to_numpy(), ent["grade"].to_numpy(),
                  ent["status"].to_numpy(), ent_xy),
        obj_frame("venues", ven, ven["kind"].to_numpy(), None, None, shapely.get_coordinates(ven_pts)),
        obj_frame("gas_stations", out["gas_stations"], out["gas_stations"]["kind"].to_numpy(), None, None,
                  shapely.get_coordinates(out["gas_stations"].geometry.to_numpy())),
        obj_frame("bridges", out["bridges"], "bridge", None, None, mid_xy(out["bridges"])),
        obj_frame("tunnels", out["tunnels"], "tunnel", None, None, mid_xy(out["tunnels"])),
    ], ignore_index=True)
    # gaps: two suburban towns under-inspected, the remote area never
    sub_towns = [c for c in town_codes if c[6] == "1"]
    under = list(rng.choice(sub_towns, size=min(2, len(sub_towns)), replace=False)) if sub_towns else []
    rlon, rlat = xy_to_lonlat(remote_c[0], remote_c[1])
    remote_mask = np.hypot((objects["x"].to_numpy() - rlon) * M_PER_DEG_LON,
                           (objects["y"].to_numpy() - rlat) * M_PER_DEG_LAT) < remote_r
    ins, obj = build_inspections(rng, objects, out["teams"], under, remote_mask)
    out["inspections"] = ins[list(LAYERS["inspections"].names)]
    obj_xy = objects[["x", "y"]].to_numpy()
    hz = build_hazards(rng, objects, ins, obj, obj_xy)
    out["hazards"] = _gdf(hz, "hazards", shapely.points(hz[["x", "y"]].to_numpy()))
    ent_ll = ent.assign(x=ent_xy[:, 0], y=ent_xy[:, 1])
    acc = build_accidents(rng, ent_ll)
    out["accidents"] = _gdf(acc, "accidents", shapely.points(acc[["x", "y"]].to_numpy()))
    out["responsibilities"] = build_responsibilities(rng, objects, out["departments"]["id"].tolist())
    # the hazard ledger: states, histories, orders, blacklist, responsibility lists (its own random stream)
    led = build_ledger(np.random.default_rng([seed, LEDGER_STREAM]), objects=objects, hazards=hz,
                       inspections=out["inspections"], accidents=out["accidents"],
                       responsibilities=out["responsibilities"], district_names=dname_of, n_enterprises=n)
    out["hazards"] = _gdf(led.hazards, "hazards", out["hazards"].geometry.to_numpy())
    out["inspections"] = led.inspections[list(LAYERS["inspections"].names)]
    out["enterprises"]["status"] = led.enterprise_status
    for name in ("orders", "blacklist", "audit_log", "department_duties"):
        out[name] = getattr(led, name)
    # emergency readiness: new resource kinds and statuses, flood severity and history, plans, drills, duty roster
    # (its own random stream)
    rd = build_readiness(np.random.default_rng([seed, READINESS_STREAM]), geo=geo, parks=parks, city=out)
    for name in ("resources", "flood_points", "emergency_plans", "drills", "flood_events", "duty_roster"):
        out[name] = getattr(rd, name)
    # phones of offices, officers and safety contacts (their own random stream)
    add_phones(np.random.default_rng([seed, CONTACTS_STREAM]), out)

    # ---- users: one per role, a leader per district and per town (towns: t<town code>)
    users = [("admin", "admin", None, None, "市指挥中心管理员"), ("command", "command", None, None, "指挥中心值班"),
             ("planner", "planner", None, None, "执法计划员")]
    users += [(f"d{c}", "district", c, None, f"{dname_of[c]}领导") for c in geo.district_codes]
    towns = out["towns"]
    users += [(f"t{tc}", "town", dc, tc, f"{tn}负责人")
              for tc, dc, tn in zip(towns["code"], towns["district_code"], towns["name"], strict=True)]
    # one salt per seed (600,000 PBKDF2 rounds once, not per user): every demo user has the password "demo"
    pw = password_hash(DEMO_PASSWORD, salt=_salt(seed))
    out["users"] = pd.DataFrame({"id": [u[0] for u in users], "password_hash": [pw] * len(users),
                                 "role": [u[1] for u in users], "district_code": [u[2] for u in users],
                                 "town_code": [u[3] for u in users], "display_name": [u[4] for u in users],
                                 "disabled": False, "demo": True, "changed_at": pd.NaT})
    # layers the demo does not fill (plans, plan stops, any added later) start empty, and so do columns
    return {name: _with_all_columns(out[name], name) if name in out else _empty(name) for name in LAYERS}


def _with_all_columns(frame: pd.DataFrame, layer: str) -> pd.DataFrame:
    """``frame`` with every column of the layer, in the schema's order; the ones it lacks empty and typed."""
    missing = [c for c in LAYERS[layer].names if c not in frame.columns]
    if not missing:
        return frame
    empty = _empty(layer)
    for c in missing:
        frame[c] = empty[c].reindex(range(len(frame))).set_axis(frame.index)
    order = [c for c in LAYERS[layer].names] + (["geometry"] if "geometry" in frame.columns else [])
    return frame[order]


def write_city(store: Store, city: dict[str, pd.DataFrame]) -> None:
    """Replace every layer of ``store`` with the layers of ``city`` (empty where missing), one transaction."""
    with store.transaction() as tx:
        for name in LAYERS:
            frame = city.get(name)
            tx.replace(name, frame if frame is not None else _empty(name))


def build_demo_store(path: str | Path, *, enterprises: int = 5000, seed: int = 7) -> Store:
    """Generate the demo city and write it into the store at ``path``: a GeoPackage path or a ``postgresql://``
    URL (every layer replaced, one transaction: a failed write leaves the store as it was; a GeoPackage that
    does not exist yet is written whole by :func:`layers.store.gpkg.write_new`, a failed write leaves no file).
    Returns the open store."""
    city = generate_city(enterprises=enterprises, seed=seed)
    if not is_database_url(str(path)) and not Path(path).exists():  # a new file: written whole, no journal
        return write_new(Path(path), lambda store: write_city(store, city))
    store = open_store(path)
    write_city(store, city)
    return store
