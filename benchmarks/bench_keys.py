"""Which object each inspection names: ``layers.keys.KeyIndex`` against pandas, in one run.

``python benchmarks/bench_keys.py [--quick] [--objects N] [--inspections M]``

1,000,000 objects in five layers (ids unique across layers, as the importer's ids are) and 2,000,000 inspections
naming a (layer, id), 0.1 % of them an id that does not exist and 0.1 % a layer that does not hold the id;
``--quick``: 100,000 and 200,000. Text columns come through SQLite, as ``Store.read`` gives them.

Ours: ``KeyIndex(ids, groups=layers).get(target_ids, groups=target_layers)``, building the index included.
The peer way, the one a pandas user writes: ``pd.MultiIndex.from_arrays([layer, id]).get_indexer`` on the
(layer, id) pairs. Prints both times, the ratio, and checks the answers are identical.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_coverage import _as_stored  # noqa: E402  (the text columns as Store.read gives them)

from layers.analysis.keys import KeyIndex  # noqa: E402

LAYERS = {"enterprises": ("E", 0.85), "venues": ("V", 0.10), "gas_stations": ("G", 0.02), "bridges": ("B", 0.02),
          "tunnels": ("T", 0.01)}


def make(n: int, m: int, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    layer, ids = [], []
    for name, (prefix, share) in LAYERS.items():
        k = int(round(n * share))
        layer += [name] * k
        ids += [f"{prefix}{i:07d}" for i in range(k)]
    pick = rng.integers(0, len(ids), m)
    q_layer = [layer[i] for i in pick]
    q_id = [ids[i] for i in pick]
    for i in np.flatnonzero(rng.random(m) < 0.001):
        q_id[i] = f"X{i}"  # no such id
    for i in np.flatnonzero(rng.random(m) < 0.001):
        q_layer[i] = "venues" if q_layer[i] != "venues" else "bridges"  # the id is in another layer
    objects = _as_stored(pd.DataFrame({"layer": layer, "id": ids}))
    inspections = _as_stored(pd.DataFrame({"target_layer": q_layer, "target_id": q_id}))
    return objects, inspections


def ours(objects: pd.DataFrame, insp: pd.DataFrame) -> np.ndarray:
    return KeyIndex(objects["id"], groups=objects["layer"]).get(insp["target_id"], groups=insp["target_layer"])


def peer(objects: pd.DataFrame, insp: pd.DataFrame) -> np.ndarray:
    index = pd.MultiIndex.from_arrays([objects["layer"], objects["id"]])
    return index.get_indexer(pd.MultiIndex.from_arrays([insp["target_layer"], insp["target_id"]]))


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100,000 objects (CI smoke test)")
    ap.add_argument("--objects", type=int, default=None)
    ap.add_argument("--inspections", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    n = args.objects or (100_000 if args.quick else 1_000_000)
    m = args.inspections or 2 * n
    t = time.perf_counter()
    objects, insp = make(n, m)
    print(f"{len(objects):,} objects, {len(insp):,} inspections (built in {time.perf_counter() - t:.1f} s)", flush=True)
    times = {"ours": [], "peer": []}
    answers = {}
    for _ in range(args.repeat):
        for name, fn in (("ours", ours), ("peer", peer)):
            t = time.perf_counter()
            answers[name] = fn(objects, insp)
            times[name].append(time.perf_counter() - t)
    a, b = min(times["ours"]), min(times["peer"])
    print(f"ours (KeyIndex, index built and looked up): {a:.3f} s  (best of {args.repeat})")
    print(f"peer (pandas MultiIndex.get_indexer):       {b:.3f} s")
    print(f"ratio peer / ours: {b / a:.1f}x")
    if not np.array_equal(answers["ours"], answers["peer"]):
        print(f"ANSWERS DIFFER on {(answers['ours'] != answers['peer']).sum():,} inspections")
        return 1
    found = answers["ours"] >= 0
    print(f"answers identical: {found.sum():,} found, {(~found).sum():,} name no object")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
