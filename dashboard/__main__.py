"""``python -m dashboard [--store PATH] [--port N] [--host H]``: serve the app.

If the store does not exist yet, the demo city is generated into it first.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from layers.errors import RiskMapError
from layers.settings import Settings


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dashboard",
                                description="城市安全生产风险一张图 (City work-safety risk map): serve the web app.")
    p.add_argument("--store", help="GeoPackage store path (default RISKMAP_STORE or data/city.gpkg)")
    p.add_argument("--port", type=int, help="port (default PORT / RISKMAP_PORT or 8050)")
    p.add_argument("--host", help="listen address (default 127.0.0.1)")
    p.add_argument("--debug", action="store_true", help="Dash debug mode (development only)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env(store=args.store, port=args.port, host=args.host)
    except RiskMapError as exc:   # a setting that is not allowed: say which, and stop
        print(exc, file=sys.stderr)
        return 2
    store_path = Path(settings.store)
    if not store_path.exists():
        from layers.demo.city import build_demo_store

        print(f"存储 {store_path} 不存在，正在生成示范城市… (store {store_path} not found; generating the demo city "
              f"with {settings.demo_enterprises} enterprises…)", flush=True)
        build_demo_store(store_path, enterprises=settings.demo_enterprises, seed=settings.demo_seed)
        print("示范城市用户 (demo users): admin / command / planner / d<district code> / t<town code>, "
              "password 'demo' (demo only)", flush=True)
    from dashboard.app import create_app

    app = create_app(settings)
    from dashboard import warmup

    warmup.start(settings)   # the city and its coverage, built before the first visitor asks (and after imports)
    print(f"http://{settings.host}:{settings.port}/", flush=True)
    if args.debug:
        app.run(host=settings.host, port=settings.port, debug=True)
    else:  # a production WSGI server (pure Python, several threads), not Flask's development server
        import waitress

        waitress.serve(app.server, host=settings.host, port=settings.port, threads=8, ident="riskmap")
    return 0


if __name__ == "__main__":
    sys.exit(main())
