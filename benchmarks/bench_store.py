"""The GeoPackage store at scale: reading through Arrow, and reading while a big write runs, in one run.

``python benchmarks/bench_store.py [--quick] [--rows N] [--repeat K]``: 2,000,000 inspections (``--quick``:
200,000), written in one transaction as an import writes them.

1. **Read** all inspections, best of ``--repeat``, three ways in one run: ``Store.read`` (GDAL's Arrow stream in
   reader processes that import pyogrio only, the table handed over as a memory-mapped Arrow file on /dev/shm,
   a big table in two fid ranges at once, text of few values made from its dictionary); **the way before**
   (the same GDAL read in one ``multiprocessing`` spawn worker, the Arrow table pickled back through the pipe,
   one ``str`` per text cell: ``Store.read`` until this change, rebuilt here); and the oldest way, ``fetchall`` +
   ``DataFrame.from_records`` (``GeoPackageStore._read_sqlite``, still the path for small tables). Prints the
   times, the ratios, and whether the frames are identical.
2. **A reader during a big write**: another N inspections appended in one transaction on a thread while the
   main thread reads what the wall reads on each refresh (``data_version`` and ``read("districts")``) in a
   loop; the slowest read, ours (WAL) against the same store code on SQLite's rollback journal with the old
   30 s wait (the setting before WAL).

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import MultiPolygon, box

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from layers.errors import StoreError  # noqa: E402
from layers.schema import layer as layer_schema  # noqa: E402
from layers.store import GeoPackageStore, StoreBusy, arrow  # noqa: E402

LAYERS = ("enterprises", "venues", "gas_stations", "bridges", "tunnels")
RESULTS = ("ok", "hazards", "closed_on_site", "not_found")
ACTIONS = (None, None, None, "fine", "suspend", "close")


class RollbackJournalStore(GeoPackageStore):
    """The same store on SQLite's rollback journal, waiting 30 s for a lock: how it ran before WAL."""

    def _ensure_wal(self, con) -> None:
        con.execute("PRAGMA journal_mode = DELETE")

    def _connect(self, *, write: bool = False):
        return super()._connect(write=True)  # the 30 s wait every connection had


def inspections(n: int, start: int = 0, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed + start)
    days = rng.integers(0, 730, n)
    return pd.DataFrame({
        "id": [f"I{i:08d}" for i in range(start, start + n)],
        "target_layer": np.array(LAYERS, dtype=object)[rng.choice(5, n, p=[0.85, 0.10, 0.02, 0.02, 0.01])],
        "target_id": [f"E{i:07d}" for i in rng.integers(0, n // 2 + 1, n)],
        "date": pd.Timestamp("2024-12-01") + pd.to_timedelta(days, unit="D"),
        "team_id": [f"T{i:03d}" for i in rng.integers(0, 200, n)],
        "result": np.array(RESULTS, dtype=object)[rng.integers(0, 4, n)],
        "hazards_found": rng.poisson(0.6, n),
        "action": np.array(ACTIONS, dtype=object)[rng.integers(0, 6, n)],
    })


def districts() -> gpd.GeoDataFrame:
    cells = [MultiPolygon([box(114 + 0.1 * i, 30.5, 114.1 + 0.1 * i, 30.8)]) for i in range(8)]
    return gpd.GeoDataFrame({"code": [f"4201{i:02d}" for i in range(8)], "name": [f"区{i}" for i in range(8)]},
                            geometry=cells, crs=4326)


def build(store: GeoPackageStore, n: int) -> float:
    t = time.perf_counter()
    with store.transaction() as tx:
        tx.append("districts", districts())
        tx.append("inspections", inspections(n))
    return time.perf_counter() - t


def best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def _previous_worker(path: str, layer: str, columns: list[str]) -> tuple[dict, object]:
    """In the spawn worker: what the reader process did before (the table goes back pickled)."""
    import pyogrio

    meta, table = pyogrio.read_arrow(path, layer=layer, columns=columns, read_geometry=False, return_fids=True,
                                     IMMUTABLE="NO")
    return {"geometry_name": meta.get("geometry_name"), "fid_column": meta.get("fid_column")}, table


def previous_read(pool, path: str, schema) -> pd.DataFrame:
    """``Store.read`` of a whole attribute table as it was before: one spawn worker, pickled table, a ``str``
    per text cell (the dictionary is never used: no column passes the threshold)."""
    meta, table = pool.submit(_previous_worker, path, schema.name, schema.names).result()
    few = arrow._FEW_DISTINCT
    arrow._FEW_DISTINCT = -1
    try:
        return arrow.to_frame(meta, table, schema, schema.names, False, srs=4326, fallback=None)
    finally:
        arrow._FEW_DISTINCT = few


def read_during_write(store: GeoPackageStore, n: int) -> dict:
    """Append n inspections on a thread; meanwhile read the wall's refresh in a loop."""
    done = threading.Event()
    result: dict = {"reads": 0, "busy": 0, "slowest": 0.0}

    def write() -> None:
        t = time.perf_counter()
        try:
            with store.transaction() as tx:
                tx.append("inspections", inspections(n, start=10 ** 8))
        finally:
            result["write_s"] = time.perf_counter() - t
            done.set()

    writer = threading.Thread(target=write)
    writer.start()
    while not done.is_set():
        t = time.perf_counter()
        try:
            store.data_version()
            store.read("districts")
        except StoreBusy:
            result["busy"] += 1
        result["slowest"] = max(result["slowest"], time.perf_counter() - t)
        result["reads"] += 1
        time.sleep(0.01)
    writer.join()
    return result


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200,000 inspections (CI smoke run)")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=None)
    args = ap.parse_args(argv)
    n = args.rows or (200_000 if args.quick else 2_000_000)
    repeat = args.repeat or (3 if args.quick else 2)
    with tempfile.TemporaryDirectory() as tmp:
        store = GeoPackageStore(Path(tmp) / "wal.gpkg")
        print(f"{n:,} inspections written in {build(store, n):.1f} s (one transaction)", flush=True)

        t = time.perf_counter()
        store.read("inspections", columns=["id"], where={"id": "none"})  # starts the GDAL reader processes
        print(f"GDAL reader processes started and answered in {time.perf_counter() - t:.2f} s (once per app process)")
        schema = layer_schema("inspections")
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            t = time.perf_counter()
            pool.submit(_previous_worker, str(store.path), "inspections", ["id"]).result()
            print(f"the way before: its spawn worker started and answered in {time.perf_counter() - t:.2f} s")
            ours_t, before_t, a, c = [], [], None, None
            for _ in range(repeat):   # interleaved: both see the same load
                t = time.perf_counter()
                a = store.read("inspections")
                ours_t.append(time.perf_counter() - t)
                t = time.perf_counter()
                c = previous_read(pool, str(store.path), schema)
                before_t.append(time.perf_counter() - t)
        ours, before = min(ours_t), min(before_t)
        peer, b = best(lambda: store._read_sqlite(schema, schema.names, False, None, None), repeat)
        print(f"read {n:,} inspections, ours (reader processes, mapped Arrow file): {ours:.2f} s  (best of {repeat}: "
              f"{', '.join(f'{x:.2f}' for x in ours_t)})")
        print(f"read {n:,} inspections, the way before (spawn worker, pickled table): {before:.2f} s  "
              f"({', '.join(f'{x:.2f}' for x in before_t)})")
        print(f"read {n:,} inspections, peer (fetchall + from_records): {peer:.2f} s")
        print(f"ratio before / ours: {before / ours:.1f}x; fetchall / ours: {peer / ours:.1f}x")
        for name, other in (("the way before", c), ("fetchall", b)):
            try:
                pd.testing.assert_frame_equal(a, other, check_dtype=True)
                print(f"frames identical to {name}'s (values and dtypes)")
            except AssertionError as exc:
                print(f"FRAMES DIFFER from {name}'s: {exc}")
                return 1

        ours_w = read_during_write(store, n)
        rollback = RollbackJournalStore(Path(tmp) / "rollback.gpkg")
        build(rollback, n)
        try:
            peer_w = read_during_write(rollback, n)
        except StoreError as exc:
            print(f"rollback-journal run failed: {exc}")
            return 1
        for name, r in (("ours (WAL)", ours_w), ("peer (rollback journal, 30 s wait)", peer_w)):
            print(f"reader during a {n:,}-row write, {name}: slowest read {r['slowest']:.3f} s of a "
                  f"{r['write_s']:.1f} s write; {r['reads']:,} reads, {r['busy']} answered busy")
        print(f"ratio slowest read peer / ours: {peer_w['slowest'] / ours_w['slowest']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
