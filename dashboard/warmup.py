"""Warm the shared caches in the background after a start and after each import, so the first visitor does not pay
for them: the city (``load_city``), the coverage result every map page, the wall and ``/coverage`` share, and
the readiness result of ``/readiness``, as of the data's date, what every incident shares (road graph,
snapped resources, search trees), and what pages add with :func:`also_warm` (the wall: its 3D view's data). The caches are single-flight (:mod:`layers.cache`): a visitor who arrives while the
warm-up runs waits for that computation instead of starting another.

Started by ``python -m dashboard`` (a served app), not by :func:`dashboard.app.create_app`, so tests and tools
that build an app spin no threads. The thread runs at a lower priority (Linux ``nice`` 10 for this thread).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from layers.analysis import coverage, readiness
from layers.analysis.summary import load_city
from layers.emergency import incident
from layers.errors import RiskMapError
from layers.settings import Settings
from layers.store import open_store

log = logging.getLogger(__name__)

#: seconds between checks of the store's data version (an import in another process is noticed within this)
CHECK_EVERY_S = 10.0

#: what pages asked to warm too, each ``fn(settings, store)``, run after the shared caches (see :func:`also_warm`)
_EXTRA: dict[str, Callable[[Settings, object], None]] = {}


def also_warm(name: str, fn: Callable[[Settings, object], None]) -> None:
    """Warm ``fn(settings, store)`` too, after the city and its coverage, on every warm-up (a page registers
    this when it is imported; the same ``name`` again replaces it). A failing ``fn`` is logged and skipped."""
    _EXTRA[name] = fn


def warm_once(settings: Settings) -> object | None:
    """Build the city and its coverage for the store's current data version (a no-op when both are cached);
    returns the data version warmed, None when the store cannot be read now (the next check tries again)."""
    try:
        store = open_store(settings.store, create=False)
        version = store.data_version()
        city = load_city(store)
        as_of = city.as_of.date() if city.as_of is not None else None
        coverage.compute_cached(store, as_of=as_of, settings=settings)
        readiness.compute_cached(store, as_of=as_of, settings=settings)
        incident.prepare(store, settings)
        for name, fn in list(_EXTRA.items()):
            try:
                fn(settings, store)
            except RiskMapError as exc:
                log.info("warm-up of %s skipped: %s", name, exc)
            except Exception:  # noqa: BLE001 - a page's extra: the page computes it on demand instead
                log.exception("warm-up of %s failed", name)
        return version
    except RiskMapError as exc:   # busy or missing: say so, try at the next check
        log.info("warm-up skipped: %s", exc)
        return None


def _loop(settings: Settings, stop: threading.Event) -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass
    warmed = None
    while not stop.is_set():
        try:
            store = open_store(settings.store, create=False)
            if store.data_version() != warmed:
                t0 = time.perf_counter()
                warmed = warm_once(settings)
                if warmed is not None:
                    log.info("caches warmed for data version %s in %.1f s", warmed, time.perf_counter() - t0)
        except RiskMapError as exc:
            log.info("warm-up check skipped: %s", exc)
        except Exception:  # noqa: BLE001 - a background thread: log it, the pages compute on demand
            log.exception("warm-up failed")
        stop.wait(CHECK_EVERY_S)


class WarmUp:
    """The running warm-up thread; :meth:`stop` ends it after the build under way (if any) is done."""

    def __init__(self, settings: Settings) -> None:
        self._stop = threading.Event()
        self.thread = threading.Thread(target=_loop, args=(settings, self._stop), name="riskmap-warmup", daemon=True)

    def stop(self, timeout: float | None = 300.0) -> None:
        self._stop.set()
        self.thread.join(timeout)


def start(settings: Settings) -> WarmUp:
    """Start the warm-up thread."""
    w = WarmUp(settings)
    w.thread.start()
    return w


__all__ = ["warm_once", "start", "WarmUp", "CHECK_EVERY_S"]
