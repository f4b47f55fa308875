"""``python -m layers coverage --out gaps.csv`` end to end, against the same run written the old way.

``python benchmarks/bench_coverage_cli.py [--quick] [--store city.gpkg] [--enterprises N]``

Builds the demo city (1,000,000 enterprises, which takes about 7 minutes; ``--quick``: 10,000) in a temporary
folder, or uses ``--store``. Then, in one run:

* **ours**: the CLI as a user runs it (``python -m layers coverage --store … --as-of … --out gaps.csv``), a
  child process timed from start to exit, with its peak resident memory (``wait4``) and the time of each phase
  read from its progress lines (reading the store, computing, making the sheets, writing);
* **the peer**: the same CLI in a child process, with the sheets written the way it wrote them before
  (``pd.concat`` of the sheets, ``map(safe_text)`` on every text column, ``DataFrame.to_csv`` with ``utf-8-sig``),
  timed the same way (it runs first);
* the write alone, in this process, on one computation's sheets: ``layers.export.write_any`` against that old
  path, and against ``pyarrow.csv.write_csv`` (which quotes every text field and writes floats otherwise, so its
  file differs: a speed reference only);
* the .xlsx writer (xlsxwriter) on the dead corners sheet: cells a second, and what a sheet at the CLI's limit
  (``XLSX_COMFORTABLE_ROWS``) would take.

The two CSV files must be identical, byte for byte (checked). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AS_OF = "2026-06-30"

#: the peer: the same CLI, with the sheets written as it wrote them before (layers/export.py then: pd.concat of
#: the sheets, map(safe_text) on every text column, DataFrame.to_csv)
PEER = r"""
import sys
import pandas as pd
import layers.export
from layers.export import _plain, _whole_numbers, safe_text

def old_write_csv(frame, path):
    out = _plain(frame).copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(safe_text)
    out.to_csv(path, index=False, encoding="utf-8-sig")

def old_write_any(sheets, path, **_):
    frames = [(_whole_numbers(_plain(f)).assign(sheet=name) if len(sheets) > 1 else f) for name, f in sheets.items()]
    old_write_csv(pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0], path)

if __name__ == "__main__":
    layers.export.write_any = old_write_any
    from layers.cli import main
    sys.exit(main(["coverage", *sys.argv[1:]]))
"""


def _timed_child(cmd: list[str]) -> tuple[float, float, str]:
    """Run ``cmd``; its wall time (s), peak resident memory (GB) and stderr."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            encoding="utf-8")
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{cmd} failed ({proc.returncode}):\n{err}")
    return wall, usage.ru_maxrss / 2**20, err


_LINE = re.compile(r"^\[[#-]+\]\s+[\d.]+%\s+([\d.]+)s\s+(.*)$")


def _phases(err: str) -> dict[str, float]:
    """Seconds of each phase from the CLI's progress lines (time stamps since the bar started)."""
    stamps = [(float(m.group(1)), m.group(2)) for m in map(_LINE.match, err.splitlines()) if m]
    at = {}
    for t, msg in stamps:
        for key, mark in (("read", "(collecting objects)"), ("computed", "(gaps computed)"),
                          ("sheets", " (writing)"), ("done", "(done")):
            if mark in msg and key not in at:
                at[key] = t
    return {"read": at.get("read", 0.0), "compute": at.get("computed", 0.0) - at.get("read", 0.0),
            "sheets": at.get("sheets", 0.0) - at.get("computed", 0.0),
            "write": at.get("done", 0.0) - at.get("sheets", 0.0)}


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a 10,000-enterprise demo city (CI smoke test)")
    ap.add_argument("--store", help="an existing store to use instead of building the demo city")
    ap.add_argument("--enterprises", type=int, default=None, help="demo city size (default 1,000,000; quick 10,000)")
    args = ap.parse_args(argv)
    enterprises = args.enterprises or (10_000 if args.quick else 1_000_000)

    with tempfile.TemporaryDirectory(prefix="bench_coverage_cli_") as tmp:
        tmp = Path(tmp)
        store_path = Path(args.store) if args.store else tmp / "city.gpkg"
        if not args.store:
            # in a child process: a child's peak memory (wait4) counts the image it was forked from, so the
            # 8 GB of a city built in this process would be every child's "peak"
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "layers", "demo", "--out", str(store_path), "--enterprises",
                            str(enterprises), "--seed", "7", "--no-basemap"], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)
            print(f"demo city: {enterprises:,} enterprises built in {time.perf_counter() - t0:.1f} s", flush=True)
        ours_csv, peer_csv = tmp / "gaps-ours.csv", tmp / "gaps-peer.csv"

        cli = ["--store", str(store_path), "--as-of", AS_OF, "--out"]
        peer = _timed_child([sys.executable, "-c", PEER, *cli, str(peer_csv)])
        ours = _timed_child([sys.executable, "-m", "layers", "coverage", *cli, str(ours_csv)])
        for who, (wall, peak, err) in (("ours", ours), ("peer", peer)):
            ph = _phases(err)
            what = ("python -m layers coverage --out gaps.csv" if who == "ours"
                    else "the same CLI, the old concat + DataFrame.to_csv write")
            print(f"{who:5s} ({what}): {wall:6.1f} s end to end, peak {peak:.2f} GB; "
                  f"read {ph['read']:.1f} s, compute {ph['compute']:.1f} s, sheets {ph['sheets']:.1f} s, "
                  f"write {ph['write']:.1f} s", flush=True)
        (wall, peak, _), (p_wall, p_peak, _) = ours, peer
        same = ours_csv.read_bytes() == peer_csv.read_bytes()
        print(f"end to end: {p_wall / wall:.2f}x as fast; peak memory {peak / p_peak:.2f}x the peer's; "
              f"files identical: {same} ({ours_csv.stat().st_size / 2**20:,.1f} MB)", flush=True)
        if not same:
            print("the two CSV files differ", file=sys.stderr)
            return 1

        # the write alone, on one computation's sheets
        from datetime import date

        import pyarrow as pa
        import pyarrow.csv as pacsv

        from layers.analysis import coverage
        from layers.export import XLSX_COMFORTABLE_ROWS, _plain, write_any, write_xlsx
        from layers.settings import Settings
        from layers.store import open_store

        ns: dict = {"__name__": "peer"}
        exec(PEER, ns)  # the peer's old_write_any, defined once above (its __main__ part does not run)
        store = open_store(store_path, create=False)
        result = coverage.compute(store, as_of=date.fromisoformat(AS_OF), settings=Settings.from_env(
            store=str(store_path)))
        sheets = result.sheets("zh")
        rows = sum(len(f) for f in sheets.values())
        repeat = 2 if args.quick else 1
        t_ours = _best(lambda: write_any(sheets, ours_csv), repeat)
        t_peer = _best(lambda: ns["old_write_any"](sheets, peer_csv), repeat)

        def arrow_csv() -> None:
            for name, frame in sheets.items():
                pacsv.write_csv(pa.Table.from_pandas(_plain(frame), preserve_index=False), tmp / f"arrow-{name}.csv")

        t_arrow = _best(arrow_csv, repeat)
        print(f"write alone ({rows:,} rows): ours {t_ours:.2f} s, DataFrame.to_csv {t_peer:.2f} s "
              f"({t_peer / t_ours:.1f}x), pyarrow.csv.write_csv {t_arrow:.2f} s (quotes every text field: "
              "a different file)", flush=True)

        dead = next(iter(sheets.values()))
        sample = dead.head(10_000 if args.quick else 100_000)
        t0 = time.perf_counter()
        write_xlsx({"死角": sample}, tmp / "sample.xlsx")
        t_x = time.perf_counter() - t0
        cells = sample.shape[0] * sample.shape[1]
        per_s = cells / t_x
        print(f"xlsx (xlsxwriter): {cells:,} cells in {t_x:.1f} s = {per_s / 1e6:.2f} M cells/s; a sheet at the CLI's "
              f"limit ({XLSX_COMFORTABLE_ROWS:,} rows x {dead.shape[1]} columns) about "
              f"{XLSX_COMFORTABLE_ROWS * dead.shape[1] / per_s:.0f} s; this city's sheets "
              f"({sum(f.shape[0] * f.shape[1] for f in sheets.values()):,} cells) about "
              f"{sum(f.shape[0] * f.shape[1] for f in sheets.values()) / per_s:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
