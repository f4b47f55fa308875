"""Demo city at scale: ``python benchmarks/bench_demo.py [--quick] [--enterprises N]``.

Times ``generate_city`` and the store write at 1,000,000 enterprises as ``build_demo_store`` writes a new file
(``write_new``: every layer, no journal while the hidden file is written, then WAL)
(``--quick``: 50,000) and reports the peak resident memory of each phase (sampled from /proc every 20 ms).
Peer figures from the same run: the whole city in one transaction into an open store (WAL, as every write into
an existing store), the whole city written again with every row bound through ``executemany`` (the
write before bulk inserts were staged through ADBC's SQLite driver, ``STAGE_MIN_ROWS`` set out of reach; skip it
with ``--no-rows``), and the same enterprises written with ``GeoDataFrame.to_file(driver="GPKG")`` (GDAL through
pyogrio) against our store writing that layer; the ratios are printed, and rows per second for each write.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from layers.demo.city import generate_city, write_city  # noqa: E402
from layers.store import open_store  # noqa: E402
from layers.store.gpkg import write_new  # noqa: E402

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


class PeakRSS:
    """Peak resident set size during a ``with`` block (a sampling thread)."""

    def __enter__(self) -> PeakRSS:
        self.start = self.peak = _rss()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, _rss())


def _mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MB"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="50,000 enterprises (CI smoke test)")
    ap.add_argument("--enterprises", type=int, help="override the number of enterprises")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-rows", action="store_true", help="skip the row-by-row write of the whole city")
    args = ap.parse_args(argv)
    n = args.enterprises or (50_000 if args.quick else 1_000_000)

    print(f"demo city, {n:,} enterprises, seed {args.seed}")
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        city = generate_city(enterprises=n, seed=args.seed)
        t_gen = time.perf_counter() - t0
    rows = sum(len(f) for f in city.values())
    print(f"generate_city: {t_gen:8.1f} s  {rows:,} rows in {len(city)} layers  "
          f"peak RSS {_mb(mem.peak)} (+{_mb(mem.peak - mem.start)})")
    for name in ("enterprises", "venues", "inspections", "hazards", "responsibilities", "roads"):
        print(f"    {name:<17}{len(city[name]):>12,}")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "city.gpkg"
        with PeakRSS() as mem:   # as build_demo_store writes a new file (first start, python -m layers demo)
            t0 = time.perf_counter()
            store = write_new(path, lambda s: write_city(s, city))
            t_write = time.perf_counter() - t0
        size = path.stat().st_size
        print(f"store write, a new file written whole (write_new: no journal, then WAL): {t_write:8.1f} s  "
              f"{rows / t_write:,.0f} rows/s  {size / 2**20:,.0f} MB file  peak RSS {_mb(mem.peak)} "
              f"(+{_mb(mem.peak - mem.start)})")

        # peer: the same city in one transaction into an open store (WAL: every page written to the WAL, then
        # again by the checkpoint at the commit), as every write into an existing store is
        tx_path = Path(tmp) / "tx.gpkg"
        t0 = time.perf_counter()
        write_city(open_store(tx_path), city)
        t_tx = time.perf_counter() - t0
        print(f"the same city, one transaction into an open store (WAL): {t_tx:8.1f} s  {rows / t_tx:,.0f} rows/s; "
              f"ratio {t_tx / t_write:.2f}x")
        tx_path.unlink()

        if not args.no_rows:  # peer: the same city, every row bound by executemany
            from layers.store import gpkg

            staged, gpkg.STAGE_MIN_ROWS = gpkg.STAGE_MIN_ROWS, 10**15
            try:
                rows_path = Path(tmp) / "rows.gpkg"
                t0 = time.perf_counter()
                write_city(open_store(rows_path), city)
                t_rows = time.perf_counter() - t0
            finally:
                gpkg.STAGE_MIN_ROWS = staged
            print(f"the same write, every row bound by executemany: {t_rows:8.1f} s  {rows / t_rows:,.0f} rows/s; "
                  f"ratio {t_rows / t_write:.2f}x")
            rows_path.unlink()

        # peer: the same enterprises through GDAL (pyogrio) vs our store, layer alone
        ent = city["enterprises"]
        t0 = time.perf_counter()
        with store.transaction() as tx:
            tx.replace("enterprises", ent)
        t_ours = time.perf_counter() - t0
        peer_path = Path(tmp) / "peer.gpkg"
        t0 = time.perf_counter()
        ent.to_file(peer_path, driver="GPKG", layer="enterprises")
        t_peer = time.perf_counter() - t0
        print(f"enterprises layer ({len(ent):,} rows): our store.replace {t_ours:.1f} s "
              f"({len(ent) / t_ours:,.0f} rows/s), GeoDataFrame.to_file(driver='GPKG') {t_peer:.1f} s "
              f"({len(ent) / t_peer:,.0f} rows/s), ratio peer/ours {t_peer / t_ours:.2f}")
    print(f"total {t_gen + t_write:.1f} s; process max RSS {_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
