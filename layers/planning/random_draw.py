"""Double-random spot checks (双随机一公开): a reproducible random sample of objects and a random pairing of the
sampled objects with inspector teams.

The population is filtered (layer, grades, districts, industries), sorted by key so the store's row order does
not matter, and sampled without replacement by numpy's PCG64 generator seeded with the published seed; the
pairing uses a second stream of the same seed. The record (seed, filter, population size, the keys drawn and
the pairing) is stored in the plan's params, so anyone can publish it and repeat the draw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from layers.errors import RiskMapError
from layers.planning.routes import TeamSpec, objects
from layers.settings import Settings
from layers.store import Store


def population(store: Store, *, layer: str = "enterprises", grades: Sequence[str] | None = ("low",),
               districts: Sequence[str] | None = None, industries: Sequence[str] | None = None,
               settings: Settings | None = None) -> pd.DataFrame:
    """The objects the draw is made from, sorted by key."""
    obj = objects(store, districts=districts, layers=[layer], settings=settings)
    if grades:
        obj = obj[obj["grade"].isin(list(grades))]
    if industries:
        obj = obj[obj["kind"].isin(list(industries))]
    return obj.sort_values("key").reset_index(drop=True)


def draw(store: Store, teams: Sequence[TeamSpec], *, seed: int, fraction: float | None = None,
         count: int | None = None, layer: str = "enterprises", grades: Sequence[str] | None = ("low",),
         districts: Sequence[str] | None = None, industries: Sequence[str] | None = None,
         settings: Settings | None = None) -> tuple[pd.DataFrame, dict]:
    """Draw a sample and pair it with teams.

    Parameters
    ----------
    seed : the published seed (any non-negative integer).
    fraction / count : share of the population (e.g. 0.05) or a number of objects; one of them.
    layer, grades, districts, industries : the population filter (grades as the coverage analysis rates
        objects, with ``settings``).

    Returns
    -------
    (sample, record): ``sample`` has the object rows with a ``team_id`` column (None when no team taking part
    has the skill and district); ``record`` is the JSON-able description to store in the plan's params.
    """
    if (fraction is None) == (count is None):
        raise RiskMapError("请给出抽取比例或抽取数量之一 (give either a fraction or a count to draw)")
    if seed is None or int(seed) < 0:
        raise RiskMapError(f"随机种子 {seed!r} 无效，请用非负整数 (seed {seed!r} is not valid; use an integer >= 0)")
    seed = int(seed)
    pop = population(store, layer=layer, grades=grades, districts=districts, industries=industries,
                     settings=settings)
    n = len(pop)
    if count is not None:
        k = min(int(count), n)
    else:
        if not 0 < float(fraction) <= 1:
            raise RiskMapError(f"抽取比例 {fraction} 应在 0 到 1 之间 (fraction {fraction} must be in (0, 1])")
        k = min(n, max(1, math.ceil(float(fraction) * n))) if n else 0
    sample_rng, pair_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    idx = np.sort(sample_rng.choice(n, size=k, replace=False)) if k else np.zeros(0, dtype=int)
    sample = pop.iloc[idx].reset_index(drop=True)
    pairing: dict[str, str | None] = {}
    for row in sample.itertuples(index=False):
        ok = [t.id for t in teams
              if (row.skill in t.skills) and (not t.districts or row.district_code in t.districts)]
        pairing[row.key] = str(ok[int(pair_rng.integers(len(ok)))]) if ok else None
    sample["team_id"] = sample["key"].map(pairing)
    record = {"seed": seed, "layer": layer, "grades": list(grades) if grades else None,
              "districts": list(districts) if districts else None,
              "industries": list(industries) if industries else None,
              "fraction": fraction, "count": count, "population": n,
              "teams": [t.id for t in teams], "drawn": sample["key"].tolist(), "pairing": pairing}
    return sample, record


def repeat(store: Store, teams: Sequence[TeamSpec], record: dict) -> tuple[pd.DataFrame, dict]:
    """Repeat a published draw from its record (same data, same seed: same sample and pairing)."""
    by_id = {t.id: t for t in teams}
    missing = [t for t in record.get("teams", []) if t not in by_id]
    if missing:
        raise RiskMapError(f"复现抽查需要原检查组 {missing} (repeating the draw needs the original teams {missing})")
    chosen = [by_id[t] for t in record.get("teams", [])]
    return draw(store, chosen, seed=record["seed"], fraction=record.get("fraction"), count=record.get("count"),
                layer=record.get("layer", "enterprises"), grades=record.get("grades"),
                districts=record.get("districts"), industries=record.get("industries"))
