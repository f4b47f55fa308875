"""The offline basemap: build time for the demo city, and the time to answer a tile request, in one run.

``python benchmarks/bench_basemap.py [--quick] [--enterprises N] [--requests K]``

1. **Build** (target < 30 s for the demo city): ``build_basemap`` (roads joined end to end per name before GDAL
   tiles them) against the same build fed the raw road segments as stored (the obvious way: every segment a
   feature), both through pyogrio's GDAL PMTiles driver and the same merge; best of two each.
2. **Tile requests** (target: median < 20 ms): ``K`` requests (default 200) for tiles of the built file, sampled
   over every zoom, through a real HTTP server on the app (``create_app``, so the access check, guard and headers
   run): our route (the file memory-mapped once per build, directories parsed once) against a peer route on the
   same server that opens the file with the ``pmtiles`` reader on every request (header and directories read
   again each time), the way its README shows. Median and 95th percentile of each, and the ratio.
3. **An OpenStreetMap extract of a city of 1-2 M people** (target < 5 min; not with ``--quick``): an extract
   written here with osmium's SimpleWriter over the demo city's districts (no extract can be downloaded on a
   closed network): ``--osm-ways`` street ways (default 150,000: about what OSM maps of the drivable roads of
   such a city, e.g. a European city of 1.5 M people has 60-120 k) on a street grid of 110 m blocks with every
   class from motorway to residential, street names that change every 8 blocks and unnamed residential blocks,
   200 rail ways and 300 stations; imported with ``import-osm``
   (``replace``: the extract's roads instead of the demo's), then ``build_basemap`` timed, against the same
   build fed the raw segments. The import's time is printed too.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from layers.basemap import build as basemap_build  # noqa: E402
from layers.basemap import build_basemap  # noqa: E402
from layers.demo.city import build_demo_store  # noqa: E402
from layers.store import open_store  # noqa: E402


def _raw_roads_build(store, out: Path) -> float:
    """The peer build: the same layers, roads as the stored segments (not joined)."""
    joined = basemap_build._joined
    basemap_build._joined = lambda roads: roads.reset_index(drop=True)  # every stored segment a feature
    try:
        t0 = time.perf_counter()
        build_basemap(store, out)
        return time.perf_counter() - t0
    finally:
        basemap_build._joined = joined


def _best(fn, n: int = 2) -> float:
    return min(fn() for _ in range(n))


def _sample_tiles(path: Path, k: int, seed: int = 1) -> list[tuple[int, int, int]]:
    from pmtiles.reader import MmapSource, all_tiles

    with open(path, "rb") as fh:
        addresses = [zxy for zxy, _ in all_tiles(MmapSource(fh))]
    rng = np.random.default_rng(seed)
    return [addresses[i] for i in rng.integers(0, len(addresses), k)]


def _timed_gets(base: str, urls: list[str]) -> list[float]:
    out = []
    for u in urls:
        t0 = time.perf_counter()
        with urllib.request.urlopen(base + u) as resp:
            resp.read()
            assert resp.status == 200, (u, resp.status)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _osm_extract(path: Path, bounds: tuple[float, float, float, float], ways: int, seed: int = 3) -> dict:
    """A synthetic .osm.pbf: a street grid over ``bounds`` cut into ``ways`` block-long ways (one node per
    crossing, slightly jittered), classes by line (every 40th a motorway, 12th primary, 6th secondary, 3rd
    tertiary, else residential), street names that change every 8 blocks, 4 in 10 residential blocks unnamed,
    and rail lines with stations."""
    import osmium
    from osmium.osm.mutable import Node, Way

    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = bounds
    # a square grid of n lines each way, n - 1 blocks per line: 2 n (n - 1) block ways
    n = int(np.ceil((1 + np.sqrt(1 + 2 * ways)) / 2))
    xs, ys = np.linspace(minx, maxx, n), np.linspace(miny, maxy, n)
    jitter = 0.15 * min(xs[1] - xs[0], ys[1] - ys[0])
    classes = [(40, "motorway"), (12, "primary"), (6, "secondary"), (3, "tertiary")]

    def road_class(line: int) -> str:
        return next((c for every, c in classes if line % every == 0), "residential")

    w = osmium.SimpleWriter(str(path))
    written = {"ways": 0, "nodes": 0}
    try:
        nid = lambda i, j: 1 + i * n + j  # noqa: E731
        for i in range(n):
            for j in range(n):
                w.add_node(Node(id=nid(i, j), location=(float(xs[i] + rng.uniform(-jitter, jitter)),
                                                        float(ys[j] + rng.uniform(-jitter, jitter))), tags={}))
        written["nodes"] = n * n
        wid = 1
        for line in range(n):          # east-west streets (along x at y[line]) and north-south ones (along y)
            for along_x in (True, False):
                cls = road_class(line)
                for k in range(n - 1):
                    if written["ways"] >= ways:
                        break
                    tags = {"highway": cls}
                    # a street's name holds for 8 blocks (motorways and primaries: the whole line); 4 in 10
                    # residential blocks have no name
                    if cls != "residential" or rng.random() >= 0.4:
                        part = 0 if cls in ("motorway", "primary") else k // 8
                        tags["name"] = f"{'东西' if along_x else '南北'}{line + 1}路{part or ''}"
                    a, b = ((nid(k, line), nid(k + 1, line)) if along_x else (nid(line, k), nid(line, k + 1)))
                    w.add_way(Way(id=wid, nodes=[a, b], tags=tags))
                    wid += 1
                    written["ways"] += 1
        for r in range(200):            # rail: short diagonal runs over the grid, stations on some nodes
            i, j = int(rng.integers(0, n - 4)), int(rng.integers(0, n - 4))
            w.add_way(Way(id=wid, nodes=[nid(i, j), nid(i + 1, j + 1), nid(i + 2, j + 2)],
                          tags={"railway": "subway" if r % 2 else "rail", "name": f"{r % 12 + 1}号线"}))
            wid += 1
        for s in range(300):
            w.add_node(Node(id=n * n + 10 + s, location=(float(rng.uniform(minx, maxx)), float(rng.uniform(miny, maxy))),
                            tags={"railway": "station", "name": f"站{s + 1}"}))
    finally:
        w.close()
    return written


def _osm_scale(tmp: Path, ways: int) -> None:
    from layers.ingest.osm import import_osm

    store_path = tmp / "osm-city.gpkg"
    build_demo_store(store_path, enterprises=800, seed=7)
    store = open_store(store_path, create=False)
    bounds = tuple(float(v) for v in store.read("districts", columns=["code", "geometry"]).total_bounds)
    pbf = tmp / "city.osm.pbf"
    t0 = time.perf_counter()
    wrote = _osm_extract(pbf, bounds, ways)
    print(f"osm      extract written: {wrote['ways']:,} street ways, {wrote['nodes']:,} nodes, "
          f"{pbf.stat().st_size / 1e6:.1f} MB ({time.perf_counter() - t0:.1f} s)")
    t0 = time.perf_counter()
    import_osm(store, pbf, replace=True)
    print(f"osm      import-osm: {time.perf_counter() - t0:6.1f} s ({store.count('roads'):,} road segments in the "
          f"city, {store.count('rail_lines'):,} rail lines)")
    out = basemap_build.basemap_path(store_path)
    t0 = time.perf_counter()
    build_basemap(store, out)
    ours = time.perf_counter() - t0
    info = basemap_build.read_info(out)
    peer_out = tmp / "osm-peer.pmtiles"
    peer = _raw_roads_build(store, peer_out)
    print(f"osm      build ours: {ours:6.1f} s ({info.tiles:,} tiles, {info.size_bytes / 1e6:.1f} MB)  target < 5 min"
          f"   peer (raw segments): {peer:6.1f} s   ratio peer/ours {peer / ours:.1f}x")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a smaller city (800 enterprises); the land is the same")
    p.add_argument("--enterprises", type=int, default=None)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--osm-ways", type=int, default=150_000,
                   help="street ways of the synthetic OSM extract (0: skip it; --quick skips it)")
    args = p.parse_args(argv)
    enterprises = args.enterprises or (800 if args.quick else 5000)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        store_path = tmp / "city.gpkg"
        build_demo_store(store_path, enterprises=enterprises, seed=7)
        store = open_store(store_path, create=False)
        out = basemap_build.basemap_path(store_path)
        print(f"demo city: {enterprises} enterprises, {store.count('roads')} road segments")

        # 1. build
        def our_build() -> float:
            t0 = time.perf_counter()
            build_basemap(store, out)
            return time.perf_counter() - t0

        ours = _best(our_build)
        info = basemap_build.read_info(out)
        peer_out = tmp / "peer.pmtiles"
        peer = _best(lambda: _raw_roads_build(store, peer_out))
        print(f"build    ours (roads joined per name): {ours:6.2f} s  ({info.tiles} tiles, "
              f"{info.size_bytes / 1e6:.1f} MB, z{info.minzoom}-{info.maxzoom})  target < 30 s")
        print(f"build    peer (raw road segments):     {peer:6.2f} s  ({peer_out.stat().st_size / 1e6:.1f} MB)")
        print(f"build    ratio peer/ours: {peer / ours:.1f}x")

        # 2. tile requests through a real HTTP server on the app
        import flask
        from pmtiles.reader import MmapSource, Reader
        from werkzeug.serving import make_server

        from dashboard.app import create_app
        from layers.settings import Settings

        served = tmp / "served.gpkg"
        shutil.copyfile(store_path, served)
        shutil.copyfile(out, basemap_build.basemap_path(served))
        app = create_app(Settings(store=str(served), auth=False, secret_key="bench"))
        server = app.server
        bm = server.config["RISKMAP_BASEMAP"]
        if bm._building is not None:
            bm._building.join()
        peer_file = basemap_build.basemap_path(served)

        @server.route("/peer-tiles/<int:z>/<int:x>/<int:y>.pbf")
        def peer_tile(z: int, x: int, y: int):  # noqa: ANN202 - the peer: open and read the archive per request
            with open(peer_file, "rb") as fh:
                data = Reader(MmapSource(fh)).get(z, x, y)
            if not data:
                return flask.Response(status=204)
            return flask.Response(bytes(data), mimetype="application/x-protobuf", headers={"Content-Encoding": "gzip"})

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        srv = make_server("127.0.0.1", 0, server, threaded=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{srv.server_port}"
        tiles = _sample_tiles(out, args.requests)
        ours_urls = [f"/tiles/base/{z}/{x}/{y}.pbf?v={info.build_id}" for z, x, y in tiles]
        peer_urls = [f"/peer-tiles/{z}/{x}/{y}.pbf" for z, x, y in tiles]
        _timed_gets(base, ours_urls[:20] + peer_urls[:20])  # warm both
        ours_ms, peer_ms = [], []
        for i in range(0, len(tiles), 20):  # interleaved in blocks, so both see the same machine
            ours_ms += _timed_gets(base, ours_urls[i:i + 20])
            peer_ms += _timed_gets(base, peer_urls[i:i + 20])
        srv.shutdown()

        def q95(v: list[float]) -> float:
            return float(np.percentile(v, 95))

        mo, mp = statistics.median(ours_ms), statistics.median(peer_ms)
        print(f"tile     ours (mapped once per build):   median {mo:6.2f} ms, p95 {q95(ours_ms):6.2f} ms over "
              f"{len(ours_ms)} requests  target median < 20 ms")
        print(f"tile     peer (pmtiles reader per request): median {mp:6.2f} ms, p95 {q95(peer_ms):6.2f} ms")
        print(f"tile     ratio peer/ours (median): {mp / mo:.2f}x")

        # 3. a city of 1-2 M people from OpenStreetMap
        if args.osm_ways and not args.quick:
            _osm_scale(tmp, args.osm_ways)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
