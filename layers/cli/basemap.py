"""``python -m layers basemap --store city.gpkg [--out FILE.pmtiles] [--if-stale]``: build the offline basemap.

Writes the vector tiles of the store's districts, towns, roads, water, rail and place names into a PMTiles file
(default: beside the store, ``city.basemap.pmtiles``, the file the app serves), with a progress bar on stderr.
Run it after an import on a machine where the app is not running; a running app rebuilds it by itself.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from layers.errors import RiskMapError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "basemap", help="生成离线矢量底图 (build the offline vector basemap)", description=__doc__.split("\n\n")[0])
    p.add_argument("--store", required=True, help="GeoPackage store (城市数据文件)")
    p.add_argument("--out", type=Path, default=None,
                   help="PMTiles file to write (default: beside the store, <name>.basemap.pmtiles)")
    p.add_argument("--if-stale", action="store_true",
                   help="build only when the file is missing or older than the store's layers")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from layers.basemap import basemap_path, basemap_status, build_basemap
    from layers.cli.coverage import _Bar
    from layers.store import open_store

    try:
        store = open_store(args.store, create=False)
        out = args.out or basemap_path(args.store)
        if args.if_stale:
            status = basemap_status(store, out)
            if status == "fresh":
                print(f"底图已是最新：{out} (the basemap is up to date: {out})")
                return 0
        info = build_basemap(store, out, progress=_Bar())
    except RiskMapError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"已写入底图 {info.path}：{info.tiles} 个瓦片，{info.size_bytes / 1e6:.1f} MB，z{info.minzoom}–{info.maxzoom}，"
          f"{info.seconds:.1f} 秒 (wrote the basemap {info.path}: {info.tiles} tiles, {info.size_bytes / 1e6:.1f} MB, "
          f"z{info.minzoom}–{info.maxzoom}, {info.seconds:.1f} s; layers: {', '.join(info.layers)})")
    return 0
