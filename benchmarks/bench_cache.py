"""The first visitors after an import: 8 concurrent cold ``load_city`` calls, in one run.

``python benchmarks/bench_cache.py [--quick] [--enterprises N] [--threads K]``: a demo city of N enterprises
(default 20,000; ``--quick``: 3,000). Each way runs in its own process (so peak RSS is its own): the city is
loaded once (warm), an import lands (a few inspections appended: a new data version), then K threads (default
8) ask for the city at once, as the wall, the map and the leaders' browsers do after an import.

- **ours**: ``layers.analysis.summary.load_city`` on :class:`layers.cache.StoreCache`: the older city is let go
  when the new version is first asked for, the K callers wait for one build (and the layers are read once);
- **the old way**: the same build behind ``functools.lru_cache`` keyed (url, data version), as before
  ``layers/cache.py``, with ``cached_read`` an ``lru_cache`` too: nothing holds a lock while computing, so each
  cold caller builds (and reads) on its own, and the old city stays cached beside the new ones.

Prints per way the wall time of the K calls, the builds run, the peak RSS while they ran (sampled every 10 ms)
and its rise over the RSS before, and the ratios. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from functools import lru_cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _install_old_way() -> list:
    """Put the pre-``layers.cache`` caches back in this process: ``lru_cache`` for the city and the reads."""
    import pandas as pd

    from layers.analysis import summary
    from layers.store import open_store

    builds: list = []

    @lru_cache(maxsize=64)
    def old_read(url, version, layer, columns, where):  # noqa: ARG001 - version is the key
        return open_store(url, create=False).read(layer, columns=list(columns) if columns else None,
                                                  where=dict(where) if where else None)

    def cached_read(store, layer, *, columns=None, where=None) -> pd.DataFrame:
        key_where = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in (where or {}).items()))
        return old_read(store.url, store.data_version(), layer, tuple(columns) if columns else None,
                        key_where or None)

    build = summary._load_city

    @lru_cache(maxsize=4)
    def old_city(url, version):
        builds.append(1)
        return build(open_store(url, create=False), version)

    summary.cached_read = cached_read
    summary.load_city = lambda store: old_city(store.url, store.data_version())
    return builds


def child(way: str, path: str, threads: int) -> dict:
    import pandas as pd

    from layers.analysis import summary
    from layers.store import open_store

    if way == "old":
        builds = _install_old_way()
    else:
        builds = []
        real = summary._load_city
        summary._load_city = lambda store, version: builds.append(1) or real(store, version)

    store = open_store(path, create=False)
    summary.load_city(store)  # warm: the city before the import
    last = store.read("inspections").tail(3)
    with store.transaction() as tx:  # the import: a new data version
        tx.append("inspections", last.assign(id=[f"BENCH-{i}" for i in range(len(last))],
                                             date=pd.Timestamp(last["date"].max()) + pd.Timedelta(days=1)))
    before, peak, done = _rss(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss())
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    barrier = threading.Barrier(threads + 1)
    got: list = [None] * threads

    def visit(i: int) -> None:
        barrier.wait()
        got[i] = summary.load_city(open_store(path, create=False))

    workers = [threading.Thread(target=visit, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    t0 = time.perf_counter()
    for w in workers:
        w.join()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    peak[0] = max(peak[0], _rss())
    versions = {c.version for c in got}
    return {"way": way, "wall_s": round(wall, 3), "builds": len(builds) - 1, "same_object": all(c is got[0] for c in got),
            "versions": sorted(versions), "rss_before_mb": round(before / 2**20, 1),
            "peak_rss_mb": round(peak[0] / 2**20, 1), "rise_mb": round((peak[0] - before) / 2**20, 1)}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3,000 enterprises (< 60 s)")
    ap.add_argument("--enterprises", type=int, default=None)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--child", choices=("ours", "old"), help=argparse.SUPPRESS)
    ap.add_argument("--store", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.store, args.threads)))
        return 0

    from layers.demo.city import build_demo_store

    n = args.enterprises or (3_000 if args.quick else 20_000)
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as tmp:
        base = Path(tmp) / "city.gpkg"
        t = time.perf_counter()
        build_demo_store(base, enterprises=n, seed=7)
        print(f"demo city: {n:,} enterprises, written in {time.perf_counter() - t:.1f} s; {args.threads} "
              "concurrent cold load_city calls after an import, each way in its own process")
        results = {}
        for way in ("ours", "old"):
            path = Path(tmp) / f"{way}.gpkg"
            path.write_bytes(base.read_bytes())
            out = subprocess.run([sys.executable, __file__, "--child", way, "--store", str(path), "--threads",
                                  str(args.threads)], capture_output=True, text=True, check=False)
            if out.returncode:
                print(out.stderr[-3000:])
                return 1
            results[way] = r = json.loads(out.stdout.strip().splitlines()[-1])
            name = "ours (StoreCache, single-flight)" if way == "ours" else "old way (lru_cache, no lock)"
            print(f"  {name:34s} wall {r['wall_s']:7.2f} s, builds {r['builds']}, one object: "
                  f"{r['same_object']}, peak RSS {r['peak_rss_mb']:,.0f} MB (+{r['rise_mb']:,.0f} MB over "
                  f"{r['rss_before_mb']:,.0f} MB before)")
        ours, old = results["ours"], results["old"]
        print(f"ratio (old / ours): wall {old['wall_s'] / max(ours['wall_s'], 1e-9):.2f}×, builds "
              f"{old['builds']} vs {ours['builds']}, peak RSS {old['peak_rss_mb'] / ours['peak_rss_mb']:.2f}×, "
              f"RSS rise {old['rise_mb'] / max(ours['rise_mb'], 1e-9):.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
