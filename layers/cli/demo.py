"""``python -m layers demo --out city.gpkg|postgresql://… [--enterprises N] [--seed S] [--force] [--no-basemap]``: write the demo city (and its basemap)."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from layers.errors import RiskMapError
from layers.store import is_database_url, open_store, shown_url, store_exists


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="生成示范城市 (generate the demo city)",
        description="生成示范市（确定性：同一种子生成完全相同的数据）。Generate the demo city into a new "
                    "GeoPackage store: districts, towns, roads, water, networks, enterprises, venues, two years "
                    "of inspections, hazards, teams, departments, accidents, resources, and demo users "
                    "(admin / planner / d<district code>, password 'demo'). The same seed gives the same data.")
    p.add_argument("--out", required=True,
                   help="GeoPackage file to write (e.g. city.gpkg), or a PostGIS database URL "
                        "(postgresql://user@host/db)")
    p.add_argument("--enterprises", type=int, default=5000, help="number of enterprises (default 5000)")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.add_argument("--no-basemap", action="store_true",
                   help="skip the offline basemap (python -m layers basemap builds it later)")
    p.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from layers.demo.city import build_demo_store

    if args.enterprises < 1:
        print(f"企业数必须为正数 (--enterprises must be positive), got {args.enterprises}")
        return 2
    if is_database_url(args.out):
        return _demo_database(args)
    out = Path(args.out)
    if out.exists() and not args.force:
        print(f"文件已存在：{out}；如需覆盖请加 --force (file exists: {out}; add --force to overwrite it)")
        return 1
    t0 = time.perf_counter()
    # build next to the target and move it in place: a failed run leaves an existing file untouched
    tmp = out.with_name(out.name + ".tmp")
    tmp.unlink(missing_ok=True)
    try:
        build_demo_store(tmp, enterprises=args.enterprises, seed=args.seed)
        os.replace(tmp, out)
    except RiskMapError as exc:
        tmp.unlink(missing_ok=True)
        print(exc)
        return 1
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    store = open_store(out, create=False)
    if not args.no_basemap:  # the offline basemap beside it, as the app serves it (a few seconds)
        from layers.basemap import basemap_path, build_basemap

        build_basemap(store, basemap_path(out))
    return _written(out, t0, store.counts())


def _demo_database(args: argparse.Namespace) -> int:
    """The demo city into a PostGIS database: one transaction (a failed run leaves the database as it was)."""
    from layers.demo.city import build_demo_store

    url, shown = args.out, shown_url(args.out)
    t0 = time.perf_counter()
    try:
        if store_exists(url) and not args.force:
            print(f"数据库中已有存储：{shown}；如需覆盖请加 --force (a store is already in {shown}; add --force to "
                  "overwrite it)")
            return 1
        store = build_demo_store(url, enterprises=args.enterprises, seed=args.seed)
        if not args.no_basemap:
            from layers.basemap import basemap_path, build_basemap

            build_basemap(store, basemap_path(url))
        counts = store.counts()
    except RiskMapError as exc:
        print(exc)
        return 1
    return _written(shown, t0, counts)


def _written(where: object, t0: float, counts: dict[str, int]) -> int:
    """Say where the demo city went, how long it took and what is in it; the demo users."""
    print(f"已生成示范城市 {where}（{time.perf_counter() - t0:.1f} 秒）(wrote the demo city to {where} in "
          f"{time.perf_counter() - t0:.1f} s)")
    for name, n in counts.items():
        if n:
            print(f"  {name}: {n}")
    print("示范用户 (demo users): admin / planner / d<区县代码 district code>，密码 (password) 'demo'")
    return 0
