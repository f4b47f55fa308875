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


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a smaller city (800 enterprises); the land is the same")
    p.add_argument("--enterprises", type=int, default=None)
    p.add_argument("--requests", type=int, default=200)
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
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
