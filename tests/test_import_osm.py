"""OpenStreetMap import on a small .osm.pbf written here with osmium's SimpleWriter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import osmium
import pytest
from osmium.osm.mutable import Node, Way
from shapely.geometry import MultiPolygon, Polygon

from layers.errors import ImportRejected
from layers.ingest.osm import import_osm, pressure_class
from layers.store import open_store

NODES = {1: (114.25, 30.60), 2: (114.26, 30.60), 3: (114.27, 30.61), 4: (114.25, 30.62), 5: (114.251, 30.62),
         6: (114.251, 30.621), 7: (114.25, 30.621), 8: (114.90, 30.60), 9: (114.91, 30.60)}


def _pbf(path: Path) -> Path:
    w = osmium.SimpleWriter(str(path))
    try:
        for i, loc in NODES.items():
            w.add_node(Node(id=i, location=loc, tags={}))
        w.add_node(Node(id=20, location=(114.255, 30.605), tags={"amenity": "fuel", "name": "中石化江岸加油站"}))
        w.add_node(Node(id=21, location=(114.256, 30.605), tags={"railway": "station", "name": "江汉路"}))
        w.add_node(Node(id=22, location=(114.257, 30.605), tags={"amenity": "nightclub"}))
        w.add_node(Node(id=23, location=(114.258, 30.605), tags={"amenity": "school", "name": "第一中学",
                                                                  "capacity": "1200"}))
        w.add_node(Node(id=24, location=(114.259, 30.605), tags={"amenity": "cafe", "name": "not a venue"}))
        w.add_way(Way(id=100, nodes=[1, 2], tags={"highway": "primary", "name": "解放大道", "maxspeed": "60"}))
        w.add_way(Way(id=101, nodes=[2, 3], tags={"highway": "secondary", "bridge": "yes", "name": "江汉桥",
                                                  "oneway": "-1"}))
        w.add_way(Way(id=102, nodes=[1, 3], tags={"railway": "subway", "name": "2号线", "tunnel": "yes", "ref": "2",
                                                  "colour": "#E5A5C4"}))
        w.add_way(Way(id=103, nodes=[1, 4], tags={"man_made": "pipeline", "substance": "gas", "pressure": "8 bar"}))
        w.add_way(Way(id=104, nodes=[2, 4], tags={"man_made": "pipeline", "substance": "gas"}))
        w.add_way(Way(id=105, nodes=[3, 4], tags={"man_made": "pipeline", "substance": "water"}))
        w.add_way(Way(id=106, nodes=[4, 5, 6, 7, 4], tags={"shop": "mall", "name": "武商广场"}))
        w.add_way(Way(id=107, nodes=[4, 2], tags={"highway": "footway"}))
        w.add_way(Way(id=108, nodes=[8, 9], tags={"highway": "motorway", "name": "城外高速"}))
        w.add_way(Way(id=109, nodes=[1, 2], tags={"highway": "residential", "maxspeed": "20 mph"}))
    finally:
        w.close()
    return path


@pytest.fixture
def city(tmp_path):
    store = open_store(tmp_path / "city.gpkg")
    west = MultiPolygon([Polygon([(114.2, 30.5), (114.3, 30.5), (114.3, 30.7), (114.2, 30.7)])])
    with store.transaction() as tx:
        tx.append("districts", gpd.GeoDataFrame({"code": ["420102"], "name": ["江岸区"]}, geometry=[west], crs=4326))
    return store


def test_osm_fills_every_layer(city, tmp_path):
    pbf = _pbf(tmp_path / "city.osm.pbf")
    reps = import_osm(city, pbf)
    roads = city.read("roads").set_index("id")
    assert set(roads.index) == {"osm_w100", "osm_w101", "osm_w109"}  # footway left out, motorway outside the city
    assert roads.loc["osm_w100", "road_class"] == "primary" and roads.loc["osm_w100", "speed_kmh"] == 60
    assert roads.loc["osm_w101", "speed_kmh"] == 30  # the class's design speed when no maxspeed
    assert roads.loc["osm_w109", "speed_kmh"] == pytest.approx(32.2, abs=0.1)  # 20 mph
    assert bool(roads.loc["osm_w101", "oneway"])
    assert roads.loc["osm_w101"].geometry.coords[0] == (114.27, 30.61)  # oneway=-1 reversed
    assert any("outside the city" in n["en"] and "区县范围之外" in n["zh"] for n in reps["roads"].notes)

    bridges = city.read("bridges")
    assert list(bridges["id"]) == ["osm_w101"] and list(bridges["condition_class"]) == ["3"]
    assert bridges["length_m"].iloc[0] == pytest.approx(1470, rel=0.02)
    assert list(bridges["district_code"]) == ["420102"]
    fixed = [i for i in reps["bridges"].issues if i.outcome == "fixed"]
    assert len(fixed) == 1 and "3 类" in fixed[0].reason_zh and "class 3" in fixed[0].reason_en

    tunnels = city.read("tunnels")
    assert list(tunnels["id"]) == ["osm_w102"]
    rail = city.read("rail_lines")
    assert list(rail["line_no"]) == ["2"] and list(rail["color"]) == ["#E5A5C4"]
    assert list(city.read("rail_stations")["name"]) == ["江汉路"]

    pipes = city.read("gas_pipelines").set_index("id")
    assert set(pipes.index) == {"osm_w103", "osm_w104"}  # the water pipeline left out
    assert pipes.loc["osm_w103", "pressure"] == "sub_high"  # 8 bar = 0.8 MPa: sub-high (0.4 < p <= 1.6 MPa)
    assert pipes.loc["osm_w104", "pressure"] == "high"  # default, flagged
    assert any(i.outcome == "fixed" and "osm_w104" in i.reason_en for i in reps["gas_pipelines"].issues)

    stations = city.read("gas_stations")
    assert list(stations["kind"]) == ["fuel"] and list(stations["name"]) == ["中石化江岸加油站"]
    venues = city.read("venues").set_index("id")
    assert venues["kind"].to_dict() == {"osm_n22": "bar", "osm_n23": "school", "osm_w106": "mall"}
    assert venues.loc["osm_n23", "capacity"] == 1200
    assert venues.loc["osm_w106"].geometry.within(Polygon([NODES[k] for k in (4, 5, 6, 7)]))
    assert "OSM n22" in venues.loc["osm_n22", "name"]


def test_reimport_upserts_and_replace_replaces(city, tmp_path):
    pbf = _pbf(tmp_path / "city.osm.pbf")
    import_osm(city, pbf)
    counts = city.counts()
    import_osm(city, pbf)
    assert city.counts() == counts  # upsert by OSM id: no duplicates
    import_osm(city, pbf, replace=True)
    assert city.counts() == counts


def test_not_an_osm_file_is_rejected_and_nothing_written(city, tmp_path):
    bad = tmp_path / "x.osm.pbf"
    bad.write_bytes(b"this is not a pbf")
    v = city.data_version()
    with pytest.raises(ImportRejected) as err:
        import_osm(city, bad)
    assert "无法读取 OSM 文件" in str(err.value) and "cannot read the OSM file" in str(err.value)
    assert city.data_version() == v
    with pytest.raises(ImportRejected) as err:
        import_osm(city, tmp_path / "roads.csv")
    assert "文件不存在" in str(err.value) and "file not found" in str(err.value)


@pytest.mark.parametrize("tag,cls", [("70 bar", "high"), ("1.6 MPa", "sub_high"), ("2.5 MPa", "high"),
                                     ("4 bar", "medium"), ("8 bar", "sub_high"), ("0.2 MPa", "medium"), ("5 kPa", "low"),
                                     ("high", None), (None, None)])
def test_pressure_class(tag, cls):
    assert pressure_class(tag) == cls


def test_cli_import_osm(city, tmp_path):
    pbf = _pbf(tmp_path / "city.osm.pbf")
    out = tmp_path / "osm.json"
    res = subprocess.run([sys.executable, "-m", "layers", "import-osm", str(pbf), "--store", city.url,
                          "--report", str(out)], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert res.returncode == 0, res.stderr
    assert "roads" in res.stdout and "导入成功" in res.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["bridges"]["written"] == 1 and data["venues"]["written"] == 3
