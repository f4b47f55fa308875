"""Coverage cold, from the store: open the store, read what coverage needs, compute; GeoPackage and PostGIS.

``python benchmarks/bench_coverage_cold.py [--quick] [--objects N] [--repeat K] [--no-peer] [--only gpkg|postgis]``

The synthetic city of ``bench_coverage.py`` (1,000,000 objects, 2,000,000 inspections, 100,000 hazards, about
1.2 M supervision links, 200 bases; ``--quick``: 50,000 objects) is written to a GeoPackage and to PostGIS (a
throw-away cluster this script starts, :mod:`layers.store.pgcluster`, as the tests do). Then each way runs in a
fresh Python process (cold: no cache of ours, no reader process, no pooled connection; the operating system's
file cache is warm, as on a server that has the store open), timed from just before the store is opened to the
result:

* **ours**: ``open_store`` then what ``layers.analysis.coverage.compute`` does, split in two to say where the
  time goes: ``read_frames`` (only the columns coverage uses, the layers read at once on threads) and
  ``compute_frames``;
* **peer** (the obvious way): every layer coverage uses read whole with ``geopandas.read_file`` (GeoPackage) or
  ``geopandas.read_postgis`` / ``pandas.read_sql`` of ``SELECT *`` (PostGIS), one after the other, then the same
  ``compute_frames``.

Best of ``--repeat`` fresh processes per way (default 2; 1 in ``--quick``). Prints the times, the ratio and
whether both ways found the same gaps (summary, dead corners, blind cells, supervision gaps). Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

AS_OF_ISO, TODAY_ISO = "2026-06-30", "2026-07-15"   # bench_coverage's AS_OF and TODAY


def _answer(result) -> dict:
    s = {k: (None if v is None else (round(v, 9) if isinstance(v, float) else v)) for k, v in result.summary.items()}
    return {"summary": json.loads(json.dumps(s, default=str)), "dead": len(result.dead_corners),
            "blind": len(result.blind_spots), "gaps": len(result.supervision_gaps)}


def _child_ours(url: str) -> dict:
    from datetime import date

    from layers.analysis.coverage import compute_frames
    from layers.analysis.coverage.frames import read_frames
    from layers.settings import Settings
    from layers.store import open_store

    settings = Settings()
    t0 = time.perf_counter()
    store = open_store(url, create=False)
    frames = read_frames(store)
    t1 = time.perf_counter()
    result = compute_frames(frames, as_of=date.fromisoformat(AS_OF_ISO), settings=settings,
                            today=date.fromisoformat(TODAY_ISO))
    t2 = time.perf_counter()
    return {"read": t1 - t0, "compute": t2 - t1, "total": t2 - t0, **_answer(result)}


def _child_peer(url: str) -> dict:
    from datetime import date

    import geopandas as gpd
    import pandas as pd

    from layers.analysis.coverage import compute_frames
    from layers.analysis.coverage.frames import READ_COLUMNS
    from layers.schema import LAYERS
    from layers.settings import Settings

    settings = Settings()
    t0 = time.perf_counter()
    frames = {}
    if url.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(url) as con, warnings.catch_warnings():
            # pandas asks for SQLAlchemy and warns on a plain DBAPI connection; the read itself works
            warnings.filterwarnings("ignore", message=".*SQLAlchemy.*", category=UserWarning)
            for name in READ_COLUMNS:
                sql = f"SELECT * FROM {name} ORDER BY fid"  # noqa: S608 - fixed layer names
                if LAYERS[name].spatial:
                    frames[name] = gpd.read_postgis(sql, con, geom_col="geom").rename_geometry("geometry")
                else:
                    frames[name] = pd.read_sql(sql, con)
    else:
        for name in READ_COLUMNS:
            frames[name] = gpd.read_file(url, layer=name)
    t1 = time.perf_counter()
    result = compute_frames(frames, as_of=date.fromisoformat(AS_OF_ISO), settings=settings,
                            today=date.fromisoformat(TODAY_ISO))
    t2 = time.perf_counter()
    return {"read": t1 - t0, "compute": t2 - t1, "total": t2 - t0, **_answer(result)}


def _fresh(way: str, url: str) -> dict:
    """One cold run in a new Python process; its figures."""
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", way, "--store", url],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{way} on {url.split('@')[-1]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _write(store, frames: dict) -> float:
    t = time.perf_counter()
    with store.transaction() as tx:
        for name, frame in frames.items():
            tx.append(name, frame)
    return time.perf_counter() - t


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="50,000 objects (CI smoke run)")
    ap.add_argument("--objects", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=None, help="fresh processes per way (best is reported)")
    ap.add_argument("--no-peer", action="store_true", help="ours only")
    ap.add_argument("--only", choices=("gpkg", "postgis"), default=None)
    ap.add_argument("--child", choices=("ours", "peer"), help=argparse.SUPPRESS)
    ap.add_argument("--store", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps((_child_ours if args.child == "ours" else _child_peer)(args.store)))
        return 0

    from bench_coverage import make_city

    from layers.store import GeoPackageStore, open_store, pgcluster
    from layers.store.postgis import close_pools

    n = args.objects or (50_000 if args.quick else 1_000_000)
    repeat = args.repeat or (1 if args.quick else 2)
    t = time.perf_counter()
    frames = make_city(n, 2 * n, 200)
    print(f"synthetic city: {n:,} objects, {len(frames['inspections']):,} inspections, "
          f"{len(frames['hazards']):,} hazards, {len(frames['responsibilities']):,} links "
          f"(built in {time.perf_counter() - t:.1f} s)", flush=True)
    kinds = [args.only] if args.only else ["gpkg", "postgis"]
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        cluster = None
        try:
            for kind in kinds:
                if kind == "gpkg":
                    url = str(Path(tmp) / "city.gpkg")
                    store = GeoPackageStore(Path(url))
                    label = "GeoPackage"
                else:
                    cluster = pgcluster.start()
                    url = cluster.url
                    store = open_store(url)
                    label = "PostGIS"
                print(f"{label}: written in {_write(store, frames):.1f} s (one transaction)", flush=True)
                if kind == "postgis":
                    close_pools()
                runs = {"ours": [_fresh("ours", url) for _ in range(repeat)]}
                if not args.no_peer:
                    runs["peer"] = [_fresh("peer", url) for _ in range(repeat)]
                best = {way: min(rs, key=lambda r: r["total"]) for way, rs in runs.items()}
                for way, r in best.items():
                    name = "ours (read_frames + compute_frames)" if way == "ours" else \
                        "peer (whole layers read, then compute_frames)"
                    each = ", ".join(f"{x['total']:.2f}" for x in runs[way])
                    print(f"  {label} cold, {name}: {r['total']:.2f} s = read {r['read']:.2f} s + compute "
                          f"{r['compute']:.2f} s (best of {repeat}: "
                          f"{each})")
                if "peer" in best:
                    print(f"  ratio peer / ours: {best['peer']['total'] / best['ours']['total']:.2f}x "
                          f"(reads alone {best['peer']['read'] / best['ours']['read']:.2f}x)")
                    same = all({k: v for k, v in r.items() if k not in ("read", "compute", "total")} ==
                               {k: v for k, v in best["ours"].items() if k not in ("read", "compute", "total")}
                               for rs in runs.values() for r in rs)
                    print(f"  answers {'identical' if same else 'DIFFER'} (summary, dead corners, blind cells, "
                          f"supervision gaps): {best['ours']['dead']:,} / {best['ours']['blind']:,} / "
                          f"{best['ours']['gaps']:,}")
                    failed |= not same
                print(f"  target < 8 s: {'met' if best['ours']['total'] < 8 else 'NOT met'}", flush=True)
        finally:
            close_pools()
            if cluster is not None:
                cluster.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
