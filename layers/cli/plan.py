"""``python -m layers plan``: plan inspection routes for teams and print the summary.

    python -m layers plan --store city.gpkg --date 2026-12-01 --district 420102 --teams T1,T2 --out plan.xlsx
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from layers.errors import RiskMapError
from layers.planning.routes import (
    add_candidates,
    candidates,
    parse_date,
    plan_routes,
    summary_lines,
    teams_from_store,
    week_dates,
)
from layers.settings import Settings
from layers.store import open_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "plan", help="制定检查路线计划 (plan inspection routes for teams)",
        description="Plan routes for inspector teams over the ranked dead corners and blind-spot objects: each "
                    "team from its base and back within its shift, only objects it has the skill for, venues in "
                    "their opening hours, highest priority first. Prints stops per team, priority served and "
                    "what was left unassigned with the reason.")
    p.add_argument("--store", required=True, help="GeoPackage store path")
    p.add_argument("--date", required=True, help="plan date YYYY-MM-DD (first day with --days)")
    p.add_argument("--days", type=int, default=1, help="number of working days to plan (5 = a week)")
    p.add_argument("--district", action="append", help="district code (repeat for several); default: all")
    p.add_argument("--teams", help="team ids, comma separated; default: teams whose scope meets the districts")
    p.add_argument("--as-of", help="date the priorities are computed for (default: --date)")
    p.add_argument("--limit", type=int, default=None,
                   help="plan over the top N candidates (default: 40 per team and day)")
    p.add_argument("--add", help="object keys to add as candidates, comma separated (layer:id)")
    p.add_argument("--random-seed", type=int, help="double-random draw (双随机): the published seed")
    p.add_argument("--random-fraction", type=float, default=0.05, help="share of the population to draw")
    p.add_argument("--random-grades", default="low", help="grades of the population, comma separated")
    p.add_argument("--straight", action="store_true", help="straight-line travel times even if roads exist")
    p.add_argument("--save", metavar="NAME", help="save the plan in the store under this name")
    p.add_argument("--user", default="cli", help="created_by when saving")
    p.add_argument("--out", help="write the plan: .xlsx (a sheet per team), .csv (all stops), .json (summary)")
    p.add_argument("--lang", default="zh", choices=("zh", "en"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except RiskMapError as exc:
        print(exc)
        return 1


def _run(args: argparse.Namespace) -> int:
    settings = Settings.from_env(store=args.store)
    store = open_store(args.store, create=False)
    start = parse_date(args.date)
    dates = week_dates(start, args.days) if args.days > 1 else [start]
    as_of = parse_date(args.as_of) if args.as_of else start
    districts = args.district or None
    if args.teams:
        teams = teams_from_store(store, [t.strip() for t in args.teams.split(",") if t.strip()])
    else:
        teams = [t for t in teams_from_store(store)
                 if districts is None or not t.districts or set(t.districts) & set(districts)]
    if not teams:
        raise RiskMapError("没有可用的检查组，请用 --teams 指定 (no teams available; name them with --teams)")
    limit = args.limit if args.limit is not None else 40 * len(teams) * len(dates)
    cands = candidates(store, as_of=as_of, settings=settings, districts=districts, limit=limit)
    if args.add:
        cands = add_candidates(cands, store, [k.strip() for k in args.add.split(",") if k.strip()], as_of=as_of,
                               settings=settings)
    locks: dict[str, str] = {}
    extra: dict = {"as_of": as_of.isoformat()}
    if args.random_seed is not None:
        from layers.planning.random_draw import draw

        sample, record = draw(store, teams, seed=args.random_seed, fraction=args.random_fraction,
                              grades=[g for g in args.random_grades.split(",") if g], districts=districts,
                              settings=settings)
        cands = add_candidates(cands[~cands["key"].isin(sample["key"])], store, sample["key"].tolist(),
                               as_of=as_of, settings=settings, source="random")
        locks.update({k: t for k, t in record["pairing"].items() if t})
        extra["random"] = record
    plan = plan_routes(store, cands, teams, dates=dates, settings=settings, locks=locks, districts=districts,
                       extra_params=extra, use_roads=not args.straight)
    for line in summary_lines(plan, args.lang):
        print(line)
    if args.save:
        from layers.planning.saved import save_plan

        pid = save_plan(store, plan, name=args.save, created_by=args.user)
        print(f"已保存计划 {pid} (saved plan {pid})")
    if args.out:
        out = Path(args.out)
        suffix = out.suffix.lower()
        if suffix == ".xlsx":
            from layers.planning.sheets import write_plan_xlsx

            write_plan_xlsx(plan, out, lang=args.lang)
        elif suffix == ".csv":
            from layers.planning.sheets import write_plan_csv

            write_plan_csv(plan, out, lang=args.lang)
        elif suffix == ".json":
            out.write_text(json.dumps(plan.summary, ensure_ascii=False, indent=2), encoding="utf-8")
        else:
            raise RiskMapError(f"不支持的输出格式 {suffix!r}，请用 .xlsx/.csv/.json "
                               f"(unsupported output {suffix!r}; use .xlsx, .csv or .json)")
        print(f"已写出 {out} (wrote {out})")
    return 0
