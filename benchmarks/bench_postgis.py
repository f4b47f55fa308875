"""The PostGIS store against the GeoPackage store, and its bulk write against the obvious peer, in one run.

``python benchmarks/bench_postgis.py [--quick] [--rows N] [--repeat K]``: 2,000,000 inspections (``--quick``:
200,000), the rows ``bench_store.py`` writes, into a throw-away PostgreSQL cluster that this script starts
(:mod:`layers.store.pgcluster`, as the tests do) and into a GeoPackage file.

1. **Bulk write** of the rows in one transaction: ``PostGISStore`` (binary ``COPY``) against the obvious peer,
   psycopg's ``executemany`` of a parameterised INSERT (pipelined) into the same table, with the same values;
   and the GeoPackage store's write for scale.
2. **Read** all inspections: ``PostGISStore.read`` against ``GeoPackageStore.read`` (GDAL's Arrow stream),
   best of ``--repeat``; prints both, the ratio and whether the frames are equal.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_store import inspections  # noqa: E402

from layers.schema import layer as layer_schema  # noqa: E402
from layers.store import GeoPackageStore, open_store, pgcluster  # noqa: E402
from layers.store.postgis import _copy_values, close_pools  # noqa: E402


def _timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def executemany_insert(url: str, frame: pd.DataFrame) -> None:
    """The peer: the same values through ``cursor.executemany`` of one INSERT, in one transaction."""
    import psycopg

    schema = layer_schema("inspections")
    cols = [c for c in schema.names if c in frame.columns]
    data = [_copy_values(frame[c], schema.column(c).type) for c in cols]
    rows = list(zip(*data, strict=True))
    stmt = (f"INSERT INTO inspections_peer ({', '.join(cols)}) "  # noqa: S608 - fixed names
            f"VALUES ({', '.join('%s' for _ in cols)})")
    with psycopg.connect(url) as con, con.cursor() as cur:
        cur.executemany(stmt, rows)
        con.commit()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    n = args.rows or (200_000 if args.quick else 2_000_000)
    repeat = max(1, args.repeat if not args.quick else min(args.repeat, 2))

    frame = inspections(n)
    cluster = pgcluster.start()
    try:
        url = cluster.url
        pg = open_store(url)
        import psycopg

        with psycopg.connect(url, autocommit=True) as con:
            con.execute("CREATE TABLE inspections_peer (LIKE inspections INCLUDING ALL)")
        with tempfile.TemporaryDirectory() as tmp:
            gp = GeoPackageStore(Path(tmp) / "bench.gpkg")

            def write(store):
                with store.transaction() as tx:
                    tx.append("inspections", frame)

            t_copy, _ = _timed(lambda: write(pg))
            t_peer, _ = _timed(lambda: executemany_insert(url, frame))
            t_gpkg, _ = _timed(lambda: write(gp))
            print(f"write {n:,} inspections in one transaction:")
            print(f"  PostGIS, binary COPY (ours)           {t_copy:7.2f} s  ({n / t_copy:,.0f} rows/s)")
            print(f"  PostGIS, executemany INSERT (peer)    {t_peer:7.2f} s  ({n / t_peer:,.0f} rows/s)")
            print(f"  GeoPackage store (for scale)          {t_gpkg:7.2f} s")
            print(f"  ratio peer / ours: {t_peer / t_copy:.1f}x")

            best_pg = best_gp = float("inf")
            got_pg = got_gp = None
            for _ in range(repeat):
                t, got_pg = _timed(lambda: pg.read("inspections"))
                best_pg = min(best_pg, t)
                t, got_gp = _timed(lambda: gp.read("inspections"))
                best_gp = min(best_gp, t)
            try:
                pd.testing.assert_frame_equal(got_pg, got_gp)
                same = "equal"
            except AssertionError as exc:
                same = f"DIFFERENT: {str(exc).splitlines()[0]}"
            print(f"read all {n:,} inspections, best of {repeat}:")
            print(f"  PostGIS store                         {best_pg:7.2f} s  ({n / best_pg:,.0f} rows/s)")
            print(f"  GeoPackage store (Arrow)              {best_gp:7.2f} s  ({n / best_gp:,.0f} rows/s)")
            print(f"  ratio PostGIS / GeoPackage: {best_pg / best_gp:.2f}x; frames {same}")
            t_dv = min(_timed(pg.data_version)[0] for _ in range(50))
            print(f"PostGIS data_version(): {t_dv * 1000:.2f} ms (best of 50; the wall polls it)")
    finally:
        close_pools()
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
