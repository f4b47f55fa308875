"""``python -m layers import`` and ``python -m layers import-osm``: validated import of real data.

Exit code 0 when the batch was written (rows may still have been quarantined or fixed: see the report),
1 when it was rejected (nothing written), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from layers.errors import ImportRejected, RiskMapError
from layers.ingest.importer import IMPORTABLE


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import", help="导入真实数据到图层 (import real data into a layer)",
        description="导入 CSV（UTF-8/GBK）、Excel、GeoJSON、GeoPackage 或压缩的 Shapefile 到一个图层；逐行校验，"
                    "报告每一行被拒绝、隔离或修正的原因。 (Import a CSV (UTF-8/GBK), Excel, GeoJSON, GeoPackage or "
                    "zipped Shapefile into a layer; every row is checked and the report lists each row rejected, "
                    "quarantined or fixed.) Row numbers: header = row 1 in CSV/XLSX; feature number in spatial files.")
    p.add_argument("layer", choices=IMPORTABLE, metavar="LAYER", help=f"target layer: {', '.join(IMPORTABLE)}")
    p.add_argument("file", type=Path, help="the file to import")
    p.add_argument("--store", required=True, help="GeoPackage store path (created empty when missing)")
    p.add_argument("--crs", help="source coordinate system when the file declares none (or to override it): "
                                 "wgs84, cgcs2000, gcj02 (Amap/Tencent), bd09 (Baidu) or EPSG:n")
    p.add_argument("--encoding", help="text encoding of a CSV or a Shapefile's DBF (default: detected strictly "
                                      "among UTF-8, UTF-8 with BOM and GBK/GB18030)")
    p.add_argument("--report", type=Path, help="also write the report as JSON to this file")
    p.add_argument("--replace", action="store_true", help="replace the layer's rows (default: add rows)")
    p.set_defaults(func=_import)

    o = sub.add_parser(
        "import-osm", help="从 OpenStreetMap 提取文件导入道路、桥隧、轨道、管线、加油站、人员密集场所 "
                           "(import roads, bridges, tunnels, rail, pipelines, fuel and venues from OSM)",
        description="Read an OpenStreetMap extract (.osm.pbf/.osm) with pyosmium and fill the layers roads, bridges, "
                    "tunnels, rail_lines, rail_stations, gas_pipelines, gas_stations (fuel) and venues. Rows are "
                    "upserted by OSM id (osm_w123 / osm_n456); --replace replaces those layers.")
    o.add_argument("file", type=Path, help="the .osm.pbf (or .osm) file")
    o.add_argument("--store", required=True, help="GeoPackage store path (created empty when missing)")
    o.add_argument("--report", type=Path, help="also write the reports as JSON to this file")
    o.add_argument("--replace", action="store_true", help="replace the layers' rows (default: upsert by OSM id)")
    o.set_defaults(func=_import_osm)


def _who() -> str:
    """Who ran the import, for the audit log: ``cli:<login name>`` of the operating-system account."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _import(args: argparse.Namespace) -> int:
    from layers.ingest.importer import import_file

    try:
        report = import_file(args.store, args.layer, args.file, crs=args.crs, encoding=args.encoding,
                             replace=args.replace, user=_who())
        code = 0
    except ImportRejected as exc:
        report = exc.report
        code = 1
        if report is None:
            print(exc)
            return code
    except RiskMapError as exc:
        print(exc)
        return 1
    print(report.render())
    if args.report:
        args.report.write_text(report.to_json(), encoding="utf-8")
    return code


def _import_osm(args: argparse.Namespace) -> int:
    from layers.ingest.osm import import_osm

    try:
        reports = import_osm(args.store, args.file, replace=args.replace)
    except ImportRejected as exc:
        print(exc)
        if args.report and exc.report is not None:
            args.report.write_text(exc.report.to_json(), encoding="utf-8")
        return 1
    except RiskMapError as exc:
        print(exc)
        return 1
    for r in reports.values():
        print(r.render(limit=10))
    if args.report:
        args.report.write_text(json.dumps({k: r.to_dict() for k, r in reports.items()}, ensure_ascii=False,
                                          indent=2), encoding="utf-8")
    return 0
