"""Coverage of a store: :func:`compute` keeps the layers read (and what depends on them alone) for the store's
current data version; :func:`compute_cached` keeps whole results per (store, data version, dates, settings).
Both are shared by the threads of one process; a new import is a new data version, seen at once."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from datetime import date

import pandas as pd

from layers.analysis.coverage.computation import Progress, compute_frames
from layers.analysis.coverage.frames import read_frames
from layers.analysis.coverage.result import CoverageResult
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


_FRAMES: OrderedDict[tuple[str, int], tuple[dict[str, pd.DataFrame], dict]] = OrderedDict()
_FRAMES_LOCK = threading.Lock()
#: data versions whose layers are kept read (one: the newest; a new import replaces it at the next computation)
_FRAMES_SIZE = 1


def _frames_for(store: Store) -> tuple[dict[str, pd.DataFrame], dict]:
    """The layers coverage reads, and a memo of what depends on them alone (which object each inspection,
    hazard and link names), kept for the store's current data version: another as-of date or setting then
    neither reads the store again nor looks the records up again."""
    key = (store.url, store.data_version())
    with _FRAMES_LOCK:
        hit = _FRAMES.get(key)
        if hit is not None:
            _FRAMES.move_to_end(key)
            return hit
    entry = (read_frames(store), {})
    with _FRAMES_LOCK:
        entry = _FRAMES.setdefault(key, entry)
        while len(_FRAMES) > _FRAMES_SIZE:
            _FRAMES.popitem(last=False)
    return entry


_CACHE: OrderedDict[tuple, CoverageResult] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8
_SETTINGS_KEYS = ("intervals", "condition_intervals", "grade_weights", "h3_resolution", "coverage_window_days",
                  "reach_minutes", "detour_factor", "travel_speed_kmh", "risk_index_weights", "venue_grades",
                  "venue_crowd_capacity")


def _settings_key(settings: Settings) -> str:
    return json.dumps({k: getattr(settings, k) for k in _SETTINGS_KEYS}, sort_keys=True, default=str)


def compute_cached(store: Store, *, as_of: date | None = None, settings: Settings | None = None,
                   today: date | None = None, progress: Progress | None = None) -> CoverageResult:
    """:func:`compute`, cached per (store, data version, as-of date, today, settings): the map page, the wall
    and the coverage page share one computation, and a new import is seen at once."""
    settings = settings or Settings.from_env()
    today = today or date.today()
    as_of = as_of or today
    key = (store.url, store.data_version(), as_of.isoformat(), today.isoformat(), _settings_key(settings))
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    result = compute(store, as_of=as_of, settings=settings, today=today, progress=progress)
    with _CACHE_LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result
