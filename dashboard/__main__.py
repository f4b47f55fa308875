"""``python -m dashboard [--store PATH|URL] [--port N] [--host H] [--workers N]``: serve the app.

If the store does not exist yet, the demo city is generated into it first (in a spawned process, so the server's
master holds no threads or helper processes when it forks its workers).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import sys

from layers.errors import RiskMapError
from layers.settings import Settings


def ensure_store(settings: Settings) -> None:
    """Generate the demo city into ``settings.store`` when no store is there (a file, or a database's tables)."""
    from layers.store import shown_url, store_exists

    if store_exists(settings.store):   # an unreachable database raises StoreError: main() says so and stops
        return
    from layers.demo.city import build_demo_store

    where = shown_url(settings.store)   # a database URL without its password
    print(f"存储 {where} 不存在，正在生成示范城市… (store {where} not found; generating the demo city "
          f"with {settings.demo_enterprises} enterprises…)", flush=True)
    child = multiprocessing.get_context("spawn").Process(
        target=build_demo_store, args=(settings.store,), name="riskmap-demo",
        kwargs={"enterprises": settings.demo_enterprises, "seed": settings.demo_seed})
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RiskMapError(f"示范城市未能生成（退出码 {child.exitcode}）(the demo city was not generated: exit code "
                           f"{child.exitcode})")
    print("示范城市用户 (demo users): admin / command / planner / d<district code> / t<town code>, "
          "password 'demo' (demo only)", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dashboard",
                                description="城市安全生产风险一张图 (City work-safety risk map): serve the web app.")
    p.add_argument("--store", help="GeoPackage path or postgresql:// URL of the store (default RISKMAP_STORE or "
                                   "data/city.gpkg)")
    p.add_argument("--port", type=int, help="port (default PORT / RISKMAP_PORT or 8050)")
    p.add_argument("--host", help="listen address (default 127.0.0.1)")
    p.add_argument("--workers", type=int, help="worker processes, 8 threads each (default RISKMAP_WORKERS or 1; "
                                               "above 1 needs gunicorn: Linux/Unix)")
    p.add_argument("--debug", action="store_true", help="Dash debug mode (development only; one process)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env(store=args.store, port=args.port, host=args.host, workers=args.workers)
        ensure_store(settings)
        from dashboard.secret import session_secret

        session_secret(settings)   # refuses several workers without a shared key, before any worker starts
    except RiskMapError as exc:   # a setting that is not allowed, no shared key, no demo: say which, and stop
        print(exc, file=sys.stderr)
        return 2
    print(f"http://{settings.host}:{settings.port}/ ({settings.workers} worker(s))", flush=True)
    if args.debug:
        from dashboard import warmup
        from dashboard.app import create_app

        app = create_app(settings)
        warmup.start(settings)
        app.run(host=settings.host, port=settings.port, debug=True)
        return 0
    from dashboard.serve import serve

    try:
        return serve(settings)
    except RiskMapError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
