"""Fill infrastructure layers from an OpenStreetMap extract (``.osm.pbf`` / ``.osm``) with pyosmium.

What goes where (OSM tags -> layer):

==================  ===========================================================================================
roads               ``highway=motorway/trunk(_link)`` -> motorway, ``primary(_link)`` -> primary,
                    ``secondary(_link)`` -> secondary, ``tertiary(_link)/unclassified/residential/living_street``
                    -> tertiary; ``speed_kmh`` from ``maxspeed`` (km/h or mph) else the class's design speed;
                    ``oneway`` from ``oneway``/roundabouts/motorways (``oneway=-1`` reverses the line)
bridges             ways with ``bridge=*`` (not ``no``) that carry a highway or railway
tunnels             ways with ``tunnel=*`` (not ``no``, ``culvert``, ``building_passage``) on a highway/railway
rail_lines          ``railway=subway/light_rail/rail`` ways (yard/siding/spur tracks left out)
rail_stations       ``railway=station/halt`` nodes
gas_pipelines       ``man_made=pipeline`` with ``substance=gas`` (or the older ``type=gas``)
gas_stations        ``amenity=fuel`` (nodes and areas; the point on the area) as kind ``fuel``
venues              pubs, bars, nightclubs -> bar; karaoke -> ktv; cinemas, theatres -> cinema; malls and
                    department stores -> mall; stadiums; schools; hospitals; marketplaces -> market
==================  ===========================================================================================

Defaults where OSM has no value (each flagged as *fixed* in the report, per row):

- **Bridge and tunnel condition class** (技术状况等级) is not in OSM. Default ``"3"`` (3 类, middle of the 1-5
  scale): it keeps every structure visible to inspection planning as "needs a look" without claiming a good
  (1-2) or dangerous (4-5) state that nobody assessed. Replace with the real class by importing the
  structures register (``python -m layers import bridges ... --replace``).
- **Gas pipeline pressure class**: from ``pressure=*`` (bar by default, or MPa/kPa) using GB 50028 bounds
  (> 1.6 MPa high, > 0.4 sub-high, > 0.01 medium, else low); when missing, ``"high"``, because the gas lines
  that OSM maps are almost all transmission mains.

Features outside the city's districts (when the store has districts) are skipped and counted; the district
code is filled from the location. Ids are ``osm_n<id>``/``osm_w<id>``/``osm_r<id>``; a re-import upserts them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.errors import ImportRejected
from layers.ingest.importer import FIXED, ImportReport
from layers.schema import ROAD_CLASSES, VENUE_KINDS
from layers.store import Store, open_store

OSM_LAYERS = ("roads", "bridges", "tunnels", "rail_lines", "rail_stations", "gas_pipelines", "gas_stations", "venues")

HIGHWAY_CLASS = {
    "motorway": "motorway", "motorway_link": "motorway", "trunk": "motorway", "trunk_link": "motorway",
    "primary": "primary", "primary_link": "primary",
    "secondary": "secondary", "secondary_link": "secondary",
    "tertiary": "tertiary", "tertiary_link": "tertiary", "unclassified": "tertiary", "residential": "tertiary",
    "living_street": "tertiary",
}
RAILWAY_LINES = ("subway", "light_rail", "rail")
VENUE_TAGS = {
    ("amenity", "pub"): "bar", ("amenity", "bar"): "bar", ("amenity", "nightclub"): "bar",
    ("amenity", "karaoke_box"): "ktv", ("amenity", "cinema"): "cinema", ("amenity", "theatre"): "cinema",
    ("amenity", "school"): "school", ("amenity", "hospital"): "hospital", ("amenity", "marketplace"): "market",
    ("shop", "mall"): "mall", ("shop", "department_store"): "mall", ("leisure", "stadium"): "stadium",
}
DEFAULT_CONDITION_CLASS = "3"
DEFAULT_PIPELINE_PRESSURE = "high"


def _speed(tag: str | None, road_class: str) -> float:
    if tag:
        m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", tag)
        if m:
            v = float(m.group(1))
            return round(v * 1.609344, 1) if m.group(2) == "mph" else v
    return float(ROAD_CLASSES[road_class]["speed"])


def pressure_class(tag: str | None) -> str | None:
    """OSM ``pressure=*`` -> pressure class by GB 50028 bounds; None when absent or unreadable."""
    if not tag:
        return None
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*(bar|mpa|kpa|psi)?\s*$", tag.strip().lower())
    if not m:
        return None
    v = float(m.group(1))
    unit = m.group(2) or "bar"
    mpa = {"bar": v / 10, "mpa": v, "kpa": v / 1000, "psi": v * 0.00689476}[unit]
    if mpa > 1.6:
        return "high"
    if mpa > 0.4:
        return "sub_high"
    if mpa > 0.01:
        return "medium"
    return "low"


def _int(tag: str | None) -> int | None:
    if not tag:
        return None
    m = re.match(r"^\s*(\d+)", tag)
    return int(m.group(1)) if m else None


class _Collector:
    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {k: [] for k in OSM_LAYERS}
        self.fixed: dict[str, list[tuple[str, str, str, str]]] = {k: [] for k in OSM_LAYERS}  # id, field, zh, en
        self.unnamed: dict[str, int] = dict.fromkeys(OSM_LAYERS, 0)
        self.broken: int = 0

    def add(self, layer: str, row: dict[str, Any]) -> None:
        self.rows[layer].append(row)


def _name(tags: Any, layer: str, fallback_zh: str, oid: str, col: _Collector) -> str:
    for k in ("name:zh", "name", "ref", "brand", "operator"):
        v = tags.get(k)
        if v:
            return v
    col.unnamed[layer] += 1
    return f"{fallback_zh}（OSM {oid}）"


def _way(w: Any, fab: Any, col: _Collector) -> None:
    tags = w.tags
    hw = tags.get("highway")
    rw = tags.get("railway")
    mm = tags.get("man_made")
    relevant = (hw in HIGHWAY_CLASS) or (rw in RAILWAY_LINES) or mm == "pipeline" or \
        (hw or rw) and (tags.get("bridge", "no") != "no" or tags.get("tunnel", "no") != "no")
    if not relevant:
        return
    try:
        wkb = fab.create_linestring(w)
    except Exception:  # osmium raises InvalidLocationError / RuntimeError for ways without node locations
        col.broken += 1
        return
    geom = shapely.from_wkb(wkb)
    oid = f"w{w.id}"
    if hw in HIGHWAY_CLASS:
        rc = HIGHWAY_CLASS[hw]
        ow = tags.get("oneway")
        if ow == "-1":
            geom = shapely.reverse(geom)
        oneway = ow in ("yes", "true", "1", "-1") or (ow is None and (hw in ("motorway", "motorway_link")
                                                                     or tags.get("junction") == "roundabout"))
        col.add("roads", {"id": f"osm_{oid}", "name": tags.get("name") or tags.get("ref"), "road_class": rc,
                          "speed_kmh": _speed(tags.get("maxspeed"), rc), "oneway": oneway, "geometry": geom})
    if rw in RAILWAY_LINES and tags.get("service") not in ("yard", "siding", "spur", "crossover"):
        col.add("rail_lines", {"id": f"osm_{oid}", "name": _name(tags, "rail_lines", "轨道线路", oid, col),
                               "line_no": tags.get("ref"), "color": tags.get("colour"), "geometry": geom})
    if (hw or rw) and tags.get("bridge", "no") != "no":
        nm = tags.get("bridge:name") or tags.get("name")
        if not nm:
            col.unnamed["bridges"] += 1
            nm = f"未命名桥梁（OSM {oid}）"
        col.add("bridges", {"id": f"osm_{oid}", "name": nm, "condition_class": DEFAULT_CONDITION_CLASS,
                            "road": tags.get("name") or tags.get("ref"), "geometry": geom})
        col.fixed["bridges"].append((f"osm_{oid}", "condition_class", "OSM 没有技术状况等级，默认 3 类，请按台账核实",
                                     "OSM has no condition class; defaulted to class 3, check against the register"))
    if (hw or rw) and tags.get("tunnel", "no") not in ("no", "culvert", "building_passage"):
        nm = tags.get("tunnel:name") or tags.get("name")
        if not nm:
            col.unnamed["tunnels"] += 1
            nm = f"未命名隧道（OSM {oid}）"
        col.add("tunnels", {"id": f"osm_{oid}", "name": nm, "condition_class": DEFAULT_CONDITION_CLASS,
                            "road": tags.get("name") or tags.get("ref"), "geometry": geom})
        col.fixed["tunnels"].append((f"osm_{oid}", "condition_class", "OSM 没有技术状况等级，默认 3 类，请按台账核实",
                                     "OSM has no condition class; defaulted to class 3, check against the register"))
    if mm == "pipeline" and (tags.get("substance") == "gas" or tags.get("type") == "gas"):
        pc = pressure_class(tags.get("pressure"))
        if pc is None:
            pc = DEFAULT_PIPELINE_PRESSURE
            col.fixed["gas_pipelines"].append((f"osm_{oid}", "pressure",
                                               "OSM 没有可读的压力（pressure），默认高压，请核实",
                                               "OSM has no readable pressure; defaulted to high, please check"))
        year = _int(tags.get("start_date"))
        col.add("gas_pipelines", {"id": f"osm_{oid}", "pressure": pc, "material": tags.get("material"),
                                  "diameter_mm": _int(tags.get("diameter")),
                                  "year_laid": year if year and year > 1800 else None, "geometry": geom})


def _poi(tags: Any, oid: str, point: Any, col: _Collector) -> None:
    if tags.get("amenity") == "fuel":
        col.add("gas_stations", {"id": f"osm_{oid}", "name": _name(tags, "gas_stations", "加油站", oid, col),
                                 "kind": "fuel", "geometry": point})
    for (k, v), kind in VENUE_TAGS.items():
        if tags.get(k) == v:
            col.add("venues", {"id": f"osm_{oid}", "name": _name(tags, "venues", VENUE_KINDS[kind]["zh"], oid, col),
                               "kind": kind, "capacity": _int(tags.get("capacity")),
                               "open_hours": tags.get("opening_hours"), "address": tags.get("addr:full"),
                               "geometry": point})
            break


def _is_poi(tags: Any) -> bool:
    return tags.get("amenity") == "fuel" or any(tags.get(k) == v for (k, v) in VENUE_TAGS)


def read_osm(path: str | Path) -> _Collector:
    """Scan ``path`` once (nodes with locations, ways, areas) and collect rows per layer."""
    import osmium

    col = _Collector()
    fab = osmium.geom.WKBFactory()
    proc = osmium.FileProcessor(str(path)).with_locations().with_areas()
    for obj in proc:
        if obj.is_node():
            tags = obj.tags
            if not len(tags):
                continue
            if tags.get("railway") in ("station", "halt") or (
                    tags.get("public_transport") == "station" and any(tags.get(k) == "yes" for k in
                                                                     ("subway", "train", "light_rail"))):
                oid = f"n{obj.id}"
                col.add("rail_stations", {"id": f"osm_{oid}",
                                          "name": _name(tags, "rail_stations", "车站", oid, col),
                                          "lines": tags.get("line"), "geometry": shapely.Point(obj.lon, obj.lat)})
            if _is_poi(tags):
                _poi(tags, f"n{obj.id}", shapely.Point(obj.lon, obj.lat), col)
        elif obj.is_way():
            if len(obj.tags):
                _way(obj, fab, col)
        elif obj.is_area():
            if not _is_poi(obj.tags):
                continue
            try:
                poly = shapely.from_wkb(fab.create_multipolygon(obj))
            except Exception:  # incomplete multipolygon in a clipped extract
                col.broken += 1
                continue
            oid = f"{'w' if obj.from_way() else 'r'}{obj.orig_id()}"
            _poi(obj.tags, oid, shapely.point_on_surface(poly), col)
    return col


def import_osm(store: Store | str | Path, path: str | Path, *, replace: bool = False) -> dict[str, ImportReport]:
    """Import the OSM extract at ``path`` into the infrastructure layers (one transaction for all layers).

    Returns one :class:`ImportReport` per layer. Raises :class:`ImportRejected` when the file cannot be read.
    """
    path = Path(path)
    if not isinstance(store, Store):
        store = open_store(store, create=True)
    if not path.exists():
        raise ImportRejected(f"文件不存在：{path} (file not found: {path})")
    if not path.name.lower().endswith((".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz")):
        raise ImportRejected(f"{path.name} 不是 OSM 文件（.osm.pbf / .osm） ({path.name} is not an OSM file: "
                             ".osm.pbf / .osm)")
    try:
        col = read_osm(path)
    except RuntimeError as exc:  # osmium's I/O and format errors
        raise ImportRejected(f"无法读取 OSM 文件 {path.name}：{exc} (cannot read the OSM file {path.name}: {exc})"
                             ) from None
    has_districts = store.count("districts") > 0
    districts = store.read("districts", columns=["code", "geometry"]) if has_districts else None
    city = None
    if districts is not None:
        city = shapely.union_all(districts.geometry.values)
        shapely.prepare(city)
    frames: dict[str, gpd.GeoDataFrame] = {}
    reports: dict[str, ImportReport] = {}
    mode = "replace" if replace else "upsert"
    for layer in OSM_LAYERS:
        rep = ImportReport(file=path.name, layer=layer, mode=mode, format="osm", source_crs="EPSG:4326")
        rows = col.rows[layer]
        rep.read = len(rows)
        if rows:
            gdf = gpd.GeoDataFrame(pd.DataFrame(rows).drop(columns="geometry"),
                                   geometry=[r["geometry"] for r in rows], crs=4326)
            gdf = gdf.drop_duplicates(subset="id").reset_index(drop=True)
        else:
            gdf = gpd.GeoDataFrame({"id": pd.Series(dtype=object)}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
        if city is not None and len(gdf):
            inside = shapely.intersects(city, gdf.geometry.values)
            skipped = int((~inside).sum())
            if skipped:
                rep.note(f"{skipped} 个要素在本市区县范围之外，已跳过",
                         f"{skipped} features lie outside the city's districts and were skipped")
            gdf = gdf.loc[inside].reset_index(drop=True)
            if "district_code" in _names(layer) and len(gdf):
                probe = gdf.geometry.values
                if layer not in ("rail_stations", "gas_stations", "venues"):
                    probe = shapely.line_interpolate_point(probe, 0.5, normalized=True)
                tree = shapely.STRtree(districts.geometry.values)
                src, hit = tree.query(probe, predicate="intersects")
                codes = np.full(len(gdf), None, dtype=object)
                first = np.unique(src, return_index=True)
                codes[first[0]] = districts["code"].to_numpy(dtype=object)[hit[first[1]]]
                gdf["district_code"] = codes
        if layer in ("bridges", "tunnels") and len(gdf):
            from pyproj import Geod

            geod = Geod(ellps="WGS84")
            gdf["length_m"] = [round(geod.geometry_length(g), 1) for g in gdf.geometry.values]
        kept = set(gdf["id"]) if len(gdf) else set()
        for oid, fld, zh, en in col.fixed[layer]:
            if oid in kept:
                rep.add(None, fld, FIXED, f"{oid}：{zh}", f"{oid}: {en}")
        rep.fixed = len(rep.issues)
        if col.unnamed[layer]:
            rep.note(f"{col.unnamed[layer]} 个要素在 OSM 中没有名称，已用类型和 OSM 编号命名",
                     f"{col.unnamed[layer]} features have no name in OSM; named by kind and OSM id")
        if layer in ("bridges", "tunnels") and len(gdf):
            rep.note(f"技术状况等级默认为 {DEFAULT_CONDITION_CLASS} 类（OSM 无此信息），请导入桥隧台账替换",
                     f"condition class defaults to {DEFAULT_CONDITION_CLASS} (OSM has none); import the "
                     "structures register to replace it")
        frames[layer] = gdf
        reports[layer] = rep
    if col.broken:
        reports["roads"].note(f"{col.broken} 条路线或面缺少节点坐标（裁剪的提取文件），已跳过",
                              f"{col.broken} ways/areas lack node locations (a clipped extract) and were skipped")
    with store.transaction() as tx:
        for layer, gdf in frames.items():
            if replace:
                reports[layer].written = tx.replace(layer, gdf)
            elif len(gdf):
                reports[layer].written = tx.upsert(layer, gdf)
        for layer, rep in reports.items():
            tx.log_import({"layer": layer, "source": str(path), "mode": mode, "rows_read": rep.read,
                           "written": rep.written, "quarantined": 0, "fixed": rep.fixed,
                           "report": {**rep.counts(), "notes": rep.notes}})
    return reports


def _names(layer: str) -> list[str]:
    from layers.schema import LAYERS

    return LAYERS[layer].names


__all__ = ["import_osm", "read_osm", "pressure_class", "OSM_LAYERS", "HIGHWAY_CLASS", "VENUE_TAGS",
           "DEFAULT_CONDITION_CLASS", "DEFAULT_PIPELINE_PRESSURE"]
