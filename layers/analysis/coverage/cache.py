"""Coverage of a store: :func:`compute` keeps the layers read (and what depends on them alone) for the store's
current data version; :func:`compute_cached` keeps whole results per (store, data version, dates, settings).
Both are :class:`layers.cache.StoreCache`: shared by the threads of one process, computed once per key, and a
new import (a new data version) is seen at once and drops the older one."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd

from layers.analysis.coverage.computation import Progress, compute_frames
from layers.analysis.coverage.frames import read_frames
from layers.analysis.coverage.result import CoverageResult
from layers.cache import StoreCache
from layers.settings import Settings
from layers.store import Store


def compute(store: Store, *, as_of: date | None = None, settings: Settings | None = None,
            today: date | None = None, progress: Progress | None = None) -> CoverageResult:
    """Coverage gaps of the city in ``store`` as of ``as_of`` (default: today)."""
    settings = settings or Settings.from_env()
    if progress:
        progress(0.0, "读取数据 (reading the store)")
    frames, memo = _frames_for(store)
    return compute_frames(frames, as_of=as_of, settings=settings, today=today, progress=progress, _memo=memo)


#: the layers read and the memo for the newest data version (another as-of date reuses them; a new import drops
#: them before the next read); one store at a time, as the layers of a big city are big
_FRAMES: StoreCache[tuple[dict[str, pd.DataFrame], dict]] = StoreCache("coverage frames", maxsize=1)


def _frames_for(store: Store) -> tuple[dict[str, pd.DataFrame], dict]:
    """The layers coverage reads, and a memo of what depends on them alone (which object each inspection,
    hazard and link names), kept for the store's current data version: another as-of date or setting then
    neither reads the store again nor looks the records up again."""
    return _FRAMES.get(store, lambda: (read_frames(store), {}))


#: whole results per (as-of date, today, settings) of the newest data version (the coverage page moves the date)
_RESULTS: StoreCache[CoverageResult] = StoreCache("coverage results", maxsize=8)
_SETTINGS_KEYS = ("intervals", "condition_intervals", "grade_weights", "h3_resolution", "coverage_window_days",
                  "reach_minutes", "detour_factor", "travel_speed_kmh", "risk_index_weights", "venue_grades",
                  "venue_crowd_capacity")


def _settings_key(settings: Settings) -> str:
    return json.dumps({k: getattr(settings, k) for k in _SETTINGS_KEYS}, sort_keys=True, default=str)


def compute_cached(store: Store, *, as_of: date | None = None, settings: Settings | None = None,
                   today: date | None = None, progress: Progress | None = None) -> CoverageResult:
    """:func:`compute`, cached per (store identity, data version, as-of date, today, settings)
    (:mod:`layers.cache`): the map page, the wall and the coverage page share one computation (concurrent cold
    callers wait for it; only the first caller's ``progress`` is told), and a new import is seen at once."""
    settings = settings or Settings.from_env()
    today = today or date.today()
    as_of = as_of or today
    return _RESULTS.get(store, lambda: compute(store, as_of=as_of, settings=settings, today=today,
                                               progress=progress),
                        key=(as_of.isoformat(), today.isoformat(), _settings_key(settings)))


def clear_cache() -> None:
    """Forget the layers read and every result (tests, benchmarks)."""
    _FRAMES.clear()
    _RESULTS.clear()
