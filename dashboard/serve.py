"""Serve the app: gunicorn with N worker processes of 8 threads each (``gthread``), or waitress where gunicorn cannot run.

* **Which server.** gunicorn on Linux and other Unix systems, for one worker as for several, so a single-process
  start and a many-process start run the same server, hooks and timeouts (and the 1-vs-2-worker benchmark
  compares worker counts, not servers). gunicorn is Unix only (it needs ``fork`` and ``fcntl``); on Windows
  ``python -m dashboard`` serves with waitress (pure Python, 8 threads, one process) and refuses ``--workers`` above 1.
* **Why gthread.** A page fires several Dash callbacks at once and some take seconds on a cold cache; a ``sync``
  worker answers one request at a time, so one slow callback would hold up every other request sent to that
  process. Threads in a worker share its per-data-version caches (:mod:`layers.cache` is single-flight across
  threads), so eight callbacks asking for the same city wait for one computation. gevent/eventlet would patch
  the standard library under SQLite, pyarrow and the Arrow helper processes and gain nothing for CPU-bound work.
* **After fork.** No app is built in the master (``preload_app`` off): each worker builds its own with
  :func:`dashboard.app.create_app` in ``load`` of :func:`gunicorn_app` (after the fork), which also starts that worker's
  basemap check; the warm-up thread (:mod:`dashboard.warmup`) is started in ``post_worker_init``, in every worker,
  because the caches it fills are the worker's own memory. The master holds no threads, store connections or
  Arrow helper processes when it forks (the demo city is built in a spawned process before).
* **Trust.** gunicorn trusts ``X-Forwarded-Proto`` from 127.0.0.1 by default; here it trusts no address
  (``forwarded_allow_ips`` empty), so what the app believes of a proxy is said by one setting only,
  ``RISKMAP_BEHIND_PROXY`` (werkzeug's ``ProxyFix`` for one proxy: scheme, host and client address).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from layers.errors import RiskMapError
from layers.settings import Settings

log = logging.getLogger(__name__)

#: threads per worker process (waitress served 8 in one process before)
THREADS = 8
#: seconds a worker may stay silent (building its app, or a stuck main loop) before gunicorn replaces it
WORKER_TIMEOUT_S = 120


def gunicorn_available() -> bool:
    """Whether gunicorn can run here (Unix with gunicorn installed)."""
    if os.name != "posix":
        return False
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return False
    return True


def gunicorn_options(settings: Settings, *, workers: int, threads: int = THREADS) -> dict[str, Any]:
    """The gunicorn settings the app is served with (see the module docstring)."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return {
        "bind": [f"{host}:{settings.port}"],
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "preload_app": False,
        "timeout": WORKER_TIMEOUT_S,
        "graceful_timeout": 30,
        "keepalive": 5,
        "forwarded_allow_ips": "",         # trust is RISKMAP_BEHIND_PROXY's alone (ProxyFix in create_app)
        "control_socket_disable": True,    # no gunicornc socket: several instances share a machine (tests, bench)
        "proc_name": "riskmap",
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
    }


def gunicorn_app(settings: Settings, *, workers: int, threads: int = THREADS, warm: bool = True):  # noqa: ANN201
    """A gunicorn application serving ``create_app(settings)`` in each worker, built there after the fork
    (``.run()`` serves until the master is stopped)."""
    from gunicorn.app.base import BaseApplication

    class RiskMapServer(BaseApplication):
        riskmap_settings = settings

        def load_config(self) -> None:
            options = gunicorn_options(settings, workers=workers, threads=threads)
            if warm:
                options["post_worker_init"] = _start_warmup
            options["worker_exit"] = _stop_warmup
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):  # noqa: ANN202 - in the worker, after the fork
            from dashboard.app import create_app

            return create_app(settings).server

    return RiskMapServer(prog="python -m dashboard")


def _start_warmup(worker) -> None:  # noqa: ANN001 - gunicorn's post_worker_init(worker)
    from dashboard import warmup

    settings = worker.app.riskmap_settings
    worker.riskmap_warmup = warmup.start(settings)
    log.info("worker %s: warm-up started", os.getpid())


def _stop_warmup(server, worker) -> None:  # noqa: ANN001, ARG001 - gunicorn's worker_exit(server, worker)
    running = getattr(worker, "riskmap_warmup", None)
    if running is not None:
        running.stop(timeout=5)


def serve(settings: Settings, *, workers: int | None = None, warm: bool = True) -> int:
    """Serve the app on ``settings.host:settings.port`` with ``workers`` processes (default ``settings.workers``);
    returns when the server stops. Raises :class:`RiskMapError` when several workers cannot be had here."""
    if workers and workers != settings.workers:   # the key check in create_app must know the count
        settings = settings.model_copy(update={"workers": workers})
    workers = settings.workers
    if gunicorn_available():
        gunicorn_app(settings, workers=workers, warm=warm).run()
        return 0
    if workers > 1:
        raise RiskMapError(f"多个工作进程（--workers {workers}）需要 gunicorn，它只能在 Linux/Unix 上运行；本机请用 "
                           f"--workers 1 (several workers (--workers {workers}) need gunicorn, which runs on Linux/Unix "
                           f"only; use --workers 1 here)")
    import waitress

    from dashboard import warmup
    from dashboard.app import create_app

    app = create_app(settings)
    if warm:
        warmup.start(settings)
    waitress.serve(app.server, host=settings.host, port=settings.port, threads=THREADS, ident="riskmap")
    return 0


__all__ = ["THREADS", "WORKER_TIMEOUT_S", "gunicorn_app", "gunicorn_available", "gunicorn_options", "serve"]
