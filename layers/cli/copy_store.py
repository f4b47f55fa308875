"""``python -m layers copy-store SRC DST``: copy a whole store between a GeoPackage file and a PostGIS database."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from layers.errors import RiskMapError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "copy-store", help="在 GeoPackage 与 PostGIS 之间复制整个存储 (copy a whole store between GeoPackage and PostGIS)",
        description="把整个存储（全部图层，含用户与会话、隔离记录、导入日志）复制到一个空的存储中，一个事务完成，"
                    "失败时目标保持原样。Copy a whole store (every layer, users and sessions included, the "
                    "quarantine and the import log) into an empty store, in one transaction: a failed copy "
                    "leaves the destination as it was. Either side is a .gpkg path or a postgresql:// URL.")
    p.add_argument("src", help="source store: a .gpkg path or postgresql://user@host/db")
    p.add_argument("dst", help="destination store (created when missing; must be empty)")
    p.set_defaults(func=_copy)


def _copy(args: argparse.Namespace) -> int:
    from layers.store import is_database_url, open_store, shown_url, store_exists
    from layers.store.copy import copy_store

    t0 = time.perf_counter()
    src_shown, dst_shown = shown_url(args.src), shown_url(args.dst)
    try:
        if not store_exists(args.src):
            print(f"源存储不存在：{src_shown} (the source store does not exist: {src_shown})")
            return 1
        if str(args.src) == str(args.dst):
            print("源和目标是同一个存储 (the source and the destination are the same store)")
            return 2
        new_file = not is_database_url(args.dst) and not Path(args.dst).exists()
        src = open_store(args.src, create=False)
        dst = open_store(args.dst)
        try:
            counts = copy_store(src, dst, progress=lambda name, n: n and print(f"  {name}: {n}", flush=True))
        except BaseException:
            if new_file:  # the empty file this command made
                Path(args.dst).unlink(missing_ok=True)
            raise
    except RiskMapError as exc:
        print(exc)
        return 1
    seconds = time.perf_counter() - t0
    rows = sum(counts.values())
    print(f"已复制 {rows} 行到 {dst_shown}（{seconds:.1f} 秒），数据版本 {dst.data_version()} "
          f"(copied {rows} rows into {dst_shown} in {seconds:.1f} s; data version {dst.data_version()})")
    return 0
