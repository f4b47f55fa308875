"""Run every benchmark in this folder: ``python benchmarks/run_all.py [--quick]``.

Each ``bench_*.py`` prints our figure, the peer way's figure from the same run, and the ratio.
Figures are printed, never asserted: these machines are shared and noisy.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    extra = [a for a in argv if a.startswith("--")]
    only = [a for a in argv if not a.startswith("--")]
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        if only and not any(o in script.stem for o in only):
            continue
        print(f"\n=== {script.name} {' '.join(extra)} ===", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script), *extra], cwd=HERE.parent)
        print(f"--- {script.name}: exit {rc}, {time.perf_counter() - t0:.1f} s", flush=True)
        if rc:
            failed.append(script.name)
    if failed:
        print(f"benchmarks that failed to run: {failed}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
