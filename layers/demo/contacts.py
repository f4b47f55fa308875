"""Phones of the demo city's people and offices: departments' duty phones, officers' and enterprises' safety
contacts' mobiles (what the duty officer calls in an incident's first hour). Drawn on their own random stream,
so every other demo table stays as it was."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: the random stream of the phones (``np.random.default_rng([seed, CONTACTS_STREAM])``)
CONTACTS_STREAM = 16
#: mobile prefixes of the three carriers (a few of each)
_MOBILE = np.array(["134", "135", "136", "137", "138", "139", "150", "151", "158", "130", "131", "155", "186",
                    "133", "153", "180", "189", "199"])


def mobiles(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` mobile numbers of 11 digits (a carrier prefix and 8 random digits)."""
    prefix = _MOBILE[rng.integers(0, len(_MOBILE), n)]
    rest = rng.integers(0, 100_000_000, n)
    return np.array([f"{p}{r:08d}" for p, r in zip(prefix, rest, strict=True)], dtype=object)


def landlines(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` office numbers of the demo city's area code."""
    return np.array([f"0700-{int(x)}" for x in rng.integers(6_000_000, 9_000_000, n)], dtype=object)


def add_phones(rng: np.random.Generator, out: dict[str, pd.DataFrame]) -> None:
    """Fill ``departments.phone``, ``responsibilities.officer_phone`` (where there is an officer) and
    ``enterprises.contact_phone`` (where there is a contact) in place; a few are left empty, as in real lists."""
    d = out["departments"]
    d["phone"] = landlines(rng, len(d))
    r = out["responsibilities"]
    phones = mobiles(rng, len(r))
    has = r["officer"].notna().to_numpy() & (rng.random(len(r)) > 0.03)
    r["officer_phone"] = np.where(has, phones, None)
    e = out["enterprises"]
    phones = mobiles(rng, len(e))
    has = e["contact"].notna().to_numpy() & (rng.random(len(e)) > 0.05)
    e["contact_phone"] = np.where(has, phones, None)


__all__ = ["add_phones", "mobiles", "landlines", "CONTACTS_STREAM"]
