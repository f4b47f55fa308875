"""``python -m layers readiness``: emergency readiness gaps (reach, plans and drills, flood supplies) to a file.

    python -m layers readiness --store city.gpkg --out readiness.xlsx [--as-of 2026-11-28] [--district 420102]
        [--suggest hazchem_team --k 3] [--exact] [--lang en]

``.xlsx`` gets one sheet per table, ``.gpkg`` one layer each (gaps as points), ``.csv`` one file with a ``sheet``
column. Text that a spreadsheet would run as a formula stays text. Progress goes to stderr as plain text.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from layers.cli.coverage import _Bar, _date
from layers.errors import RiskMapError
from layers.schema import RESOURCE_KINDS


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "readiness", help="应急准备缺口：到达时间、预案演练、防汛物资 (emergency readiness gaps: reach, plans and "
                          "drills, flood supplies)",
        description=__doc__.split("\n\n")[0])
    p.add_argument("--store", required=True, help="GeoPackage store (城市数据文件)")
    p.add_argument("--as-of", type=_date, default=None, help="统计日期 as-of date YYYY-MM-DD (default: today)")
    p.add_argument("--out", required=True, help="output .xlsx, .gpkg or .csv")
    p.add_argument("--district", action="append", default=None, metavar="CODE",
                   help="only this district (区县代码; may be repeated)")
    p.add_argument("--suggest", choices=tuple(RESOURCE_KINDS), default=None, metavar="KIND",
                   help=f"also suggest where to pre-position --k more resources of this kind ({', '.join(RESOURCE_KINDS)})")
    p.add_argument("--k", type=int, default=3, help="how many places to suggest (default 3)")
    p.add_argument("--exact", action="store_true", help="solve the siting exactly (maximal covering, by HiGHS)")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="sheet names (zh default)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from layers.analysis import readiness
    from layers.export import write_any
    from layers.settings import Settings
    from layers.store import open_store

    out = Path(args.out)
    if out.suffix.lower() not in (".xlsx", ".gpkg", ".csv"):
        print(f"不支持的输出格式 {out.suffix!r}，请用 .xlsx/.gpkg/.csv (unsupported output {out.suffix!r}; "
              "use .xlsx, .gpkg or .csv)", file=sys.stderr)
        return 2
    if args.suggest and args.k < 1:
        print(f"--k 必须是正整数，得到 {args.k} (--k must be a positive whole number, got {args.k})", file=sys.stderr)
        return 2
    bar = _Bar()
    try:
        store = open_store(args.store, create=False)
        settings = Settings.from_env(store=args.store)
        whole = readiness.compute(store, as_of=args.as_of, settings=settings, progress=bar)
        if args.district:
            known = set(whole.by_district["district_code"].dropna())
            unknown = [c for c in args.district if c not in known]
            if unknown:
                print(f"没有区县 {', '.join(unknown)}，可选：{', '.join(sorted(known))} (no district "
                      f"{', '.join(unknown)}; known: {', '.join(sorted(known))})", file=sys.stderr)
                return 2
        result = whole.for_districts(args.district)
        sheets = result.sheets(args.lang)
        if args.suggest:
            bar(1.0, f"选址建议 (suggesting places for {args.suggest})")
            sg = readiness.suggest_resources(result, args.suggest, args.k,
                                             method="exact" if args.exact else "greedy")
            if len(sg) < args.k:
                print(f"只找到 {len(sg)} 处能再消除到达缺口的位置（要求 {args.k} 处） (only {len(sg)} places close "
                      f"more reach gaps of {args.suggest}; asked for {args.k})", file=sys.stderr)
            sheets["建议预置点" if args.lang == "zh" else "suggested_places"] = sg
        write_any(sheets, out)
    except RiskMapError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    s = result.summary
    share = "—" if s["share_ready"] is None else f"{s['share_ready']:.1%}"
    print(f"截至 {result.as_of} (as of): 对象 {s['objects']} (objects), 到达缺口 {s['reach_gaps']} (reach gaps), "
          f"未备案预案 {s['plan_gaps']} (no plan), 演练缺口 {s['drill_gaps']} (drills never held or overdue), "
          f"防汛物资不足 {s['supply_short']} (flood supplies short); 无缺口对象占比 {share} (objects ready)")
    if result.info.get("method") != "road":
        print("注意：存储中没有道路，到达时间按直线估算 (note: the store has no roads; travel times are straight-line "
              "estimates)", file=sys.stderr)
    print(f"已写入 {out} (written)")
    return 0
