"""Readiness of a store: :func:`compute` keeps the layers read (and what depends on them alone: the objects, the
road graph) for the store's current data version; :func:`compute_cached` keeps whole results per (store, data
version, as-of date, settings). Both are :class:`layers.cache.StoreCache` (single-flight, a new import seen at
once, older versions dropped)."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd

from layers.analysis.readiness.computation import Progress, compute_frames
from layers.analysis.readiness.frames import read_frames
from layers.analysis.readiness.result import ReadinessResult
from layers.cache import StoreCache
from layers.settings import Settings
from layers.store import Store

#: the layers read and the memo (objects, road graph) for the newest data version of one store
_FRAMES: StoreCache[tuple[dict[str, pd.DataFrame], dict]] = StoreCache("readiness frames", maxsize=1)
#: whole results per (as-of date, settings) of the newest data version
_RESULTS: StoreCache[ReadinessResult] = StoreCache("readiness results", maxsize=8)
_SETTINGS_KEYS = ("readiness_targets", "drills_per_year", "flood_supplies", "access_speed_kmh", "travel_speed_kmh",
                  "detour_factor")


def _settings_key(settings: Settings) -> str:
    return json.dumps({k: getattr(settings, k) for k in _SETTINGS_KEYS}, sort_keys=True, default=str)


def compute(store: Store, *, as_of: date | None = None, settings: Settings | None = None,
            progress: Progress | None = None) -> ReadinessResult:
    """Readiness of the city in ``store`` as of ``as_of`` (default: today)."""
    settings = settings or Settings.from_env()
    if progress:
        progress(0.0, "读取数据 (reading the store)")
    frames, memo = _FRAMES.get(store, lambda: (read_frames(store), {}))
    return compute_frames(frames, as_of=as_of, settings=settings, progress=progress, _memo=memo)


def compute_cached(store: Store, *, as_of: date | None = None, settings: Settings | None = None,
                   progress: Progress | None = None) -> ReadinessResult:
    """:func:`compute`, cached per (store identity, data version, as-of date, settings): the pages and the wall
    share one computation (concurrent cold callers wait for it), and a new import is seen at once."""
    settings = settings or Settings.from_env()
    as_of = as_of or date.today()
    return _RESULTS.get(store, lambda: compute(store, as_of=as_of, settings=settings, progress=progress),
                        key=(as_of.isoformat(), _settings_key(settings)))


def clear_cache() -> None:
    """Forget the layers read and every result (tests, benchmarks)."""
    _FRAMES.clear()
    _RESULTS.clear()
