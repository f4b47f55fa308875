"""Repeat offenders (屡查屡犯): the same enterprise with the same hazard type found again, or the same kind of
accident again, within a window.

The window is the half-open interval ``(as_of - window_days, as_of]`` in whole days: a hazard found exactly
``window_days`` days before ``as_of`` is *outside*, one found a day later is inside, and one found on
``as_of`` itself is inside; anything after ``as_of`` is not counted (it has not happened yet as of that date).
A target is a repeat offender by hazard type when it has ``settings.repeat_hazard_count`` or more hazards of one
type found in the window (whatever their status: a hazard found, closed and found again still counts), and by
accident kind when it has ``settings.repeat_accident_count`` or more accidents of one kind in the window.
Hazards without a type and accidents without a kind are not counted.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from layers.settings import Settings

BASES = {
    "hazard_type": {"zh": "同类隐患反复出现", "en": "Same hazard type again"},
    "accident_kind": {"zh": "同类事故反复发生", "en": "Same kind of accident again"},
}
COLUMNS = ("target_layer", "target_id", "basis", "type", "count", "first", "last")


def _in_window(dates: pd.Series, as_of: date, window_days: int) -> np.ndarray:
    d = pd.to_datetime(dates, errors="coerce").to_numpy(dtype="datetime64[D]")
    end = np.datetime64(pd.Timestamp(as_of).date(), "D")
    start = end - np.timedelta64(int(window_days), "D")
    return ~np.isnat(d) & (d > start) & (d <= end)


def _repeats(frame: pd.DataFrame, *, layer: pd.Series | str, oid: str, kind: str, when: str, as_of: date,
             window_days: int, n: int, basis: str) -> pd.DataFrame:
    if frame is None or len(frame) == 0:
        return pd.DataFrame(columns=list(COLUMNS))
    keep = _in_window(frame[when], as_of, window_days) & frame[kind].notna().to_numpy() & \
        frame[oid].notna().to_numpy()
    f = pd.DataFrame({
        "target_layer": (frame[layer].astype(object) if isinstance(layer, str) and layer in frame.columns
                         else layer),
        "target_id": frame[oid].astype(str), "type": frame[kind].astype(str),
        "date": pd.to_datetime(frame[when], errors="coerce")}, index=frame.index)[keep]
    if len(f) == 0:
        return pd.DataFrame(columns=list(COLUMNS))
    g = f.groupby(["target_layer", "target_id", "type"], sort=True)["date"].agg(["size", "min", "max"])
    g = g[g["size"] >= n].reset_index().rename(columns={"size": "count", "min": "first", "max": "last"})
    g.insert(2, "basis", basis)
    return g[list(COLUMNS)]


def repeat_offenders(hazards: pd.DataFrame, accidents: pd.DataFrame | None, *, as_of: date,
                     settings: Settings | None = None) -> pd.DataFrame:
    """One row per (target, basis, type) that repeats within the window (see the module docstring).

    ``hazards`` needs ``target_layer``, ``target_id``, ``type``, ``found_date``; ``accidents`` needs
    ``enterprise_id``, ``kind``, ``date`` (their target layer is ``enterprises``). Columns: target_layer,
    target_id, basis (``hazard_type`` | ``accident_kind``), type (the hazard type or accident kind), count,
    first, last (dates of the first and last occurrence in the window). Most occurrences first.
    """
    s = settings or Settings.from_env()
    w = int(s.repeat_window_days)
    parts = [
        _repeats(hazards, layer="target_layer", oid="target_id", kind="type", when="found_date", as_of=as_of,
                 window_days=w, n=int(s.repeat_hazard_count), basis="hazard_type"),
        _repeats(accidents, layer="enterprises", oid="enterprise_id", kind="kind", when="date", as_of=as_of,
                 window_days=w, n=int(s.repeat_accident_count), basis="accident_kind"),
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
        out["count"] = out["count"].astype("int64")
        out["first"] = pd.to_datetime(out["first"])
        out["last"] = pd.to_datetime(out["last"])
        return out
    out = pd.concat(parts, ignore_index=True)
    out["count"] = out["count"].astype("int64")
    return out.sort_values(["count", "target_layer", "target_id", "basis", "type"],
                           ascending=[False, True, True, True, True], kind="stable").reset_index(drop=True)


def repeat_keys(hazards: pd.DataFrame, accidents: pd.DataFrame | None, *, as_of: date,
                settings: Settings | None = None) -> set[str]:
    """``layer:id`` of every repeat offender (by either basis)."""
    r = repeat_offenders(hazards, accidents, as_of=as_of, settings=settings)
    return set((r["target_layer"].astype(str) + ":" + r["target_id"].astype(str)).tolist())


__all__ = ["repeat_offenders", "repeat_keys", "BASES"]
