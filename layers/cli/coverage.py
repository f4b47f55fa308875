"""``python -m layers coverage``: coverage gaps (dead corners, blind spots, supervision gaps) to a file.

    python -m layers coverage --store city.gpkg [--as-of 2026-06-30] --out gaps.xlsx [--suggest 3] [--lang en]

``.xlsx`` gets one sheet per table, ``.gpkg`` one layer each (dead corners as points, blind spots as hexagons),
``.csv`` one file with a ``sheet`` column. Text that a spreadsheet would run as a formula stays text.
Progress goes to stderr as plain text, the writing of the file included: "完成 (done)" is said once the file is
complete and in place (it is written beside the target and renamed, so a failed write leaves no half file).
An ``.xlsx`` with a sheet of more than 200,000 rows is refused before anything is written: write ``.csv`` or
``.gpkg`` then.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

from layers.errors import RiskMapError


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"日期 {text!r} 无效，请用 YYYY-MM-DD (date {text!r} is not valid; use YYYY-MM-DD)") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "coverage", help="检查覆盖缺口：死角、盲区、监管空白 (coverage gaps: dead corners, blind spots, supervision gaps)",
        description=__doc__.split("\n\n")[0])
    p.add_argument("--store", required=True, help="GeoPackage store (城市数据文件)")
    p.add_argument("--as-of", type=_date, default=None, help="统计日期 as-of date YYYY-MM-DD (default: today)")
    p.add_argument("--out", required=True, help="output .xlsx, .gpkg or .csv")
    p.add_argument("--suggest", type=int, default=0, metavar="K",
                   help="also suggest K new team bases for the blind spots beyond reach")
    p.add_argument("--exact", action="store_true", help="solve the base siting exactly (maximal covering, by HiGHS)")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="sheet names and column headers (zh default)")
    p.set_defaults(func=run)


class _Bar:
    """A plain-text progress bar on stderr."""

    def __init__(self, stream=None, width: int = 30):
        self.stream = stream or sys.stderr
        self.width = width
        self.t0 = time.perf_counter()

    def __call__(self, fraction: float, message: str) -> None:
        filled = int(round(self.width * max(0.0, min(1.0, fraction))))
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"[{bar}] {fraction * 100:5.1f}%  {time.perf_counter() - self.t0:6.1f}s  {message}\n")
        self.stream.flush()


#: where on the bar the phases end: the computation (its own 0..1), making the sheets, writing the file
_COMPUTED, _SHEETS_MADE = 0.6, 0.65


def _computing(bar: _Bar):
    """The computation's progress on the first part of the bar; its own "done" is not the end of the run."""
    def step(fraction: float, message: str) -> None:
        if fraction >= 1.0:
            message = "覆盖缺口已算出 (gaps computed)"
        bar(_COMPUTED * fraction, message)
    return step


def _writing(bar: _Bar, out: Path, *, every_s: float = 0.5):
    """The exporter's rows written on the last part of the bar, at most one line each ``every_s`` seconds
    (and always for the last rows)."""
    last = [-every_s]

    def step(done: int, total: int) -> None:
        now = time.perf_counter()
        if done < total and now - last[0] < every_s:
            return
        last[0] = now
        share = done / total if total else 1.0
        bar(_SHEETS_MADE + (0.99 - _SHEETS_MADE) * share,
            f"写入 {out.name}：{done:,}/{total:,} 行 (writing rows)")
    return step


def _cannot_write(out: Path, why_zh: str, why_en: str) -> int:
    print(f"无法写入 {out}：{why_zh} (cannot write {out}: {why_en})", file=sys.stderr)
    return 1


def run(args: argparse.Namespace) -> int:
    from layers.analysis import coverage
    from layers.export import XLSX_COMFORTABLE_ROWS, check_xlsx_size, write_any
    from layers.settings import Settings
    from layers.store import open_store

    out = Path(args.out)
    if out.suffix.lower() not in (".xlsx", ".gpkg", ".csv"):
        print(f"不支持的输出格式 {out.suffix!r}，请用 .xlsx/.gpkg/.csv (unsupported output {out.suffix!r}; "
              "use .xlsx, .gpkg or .csv)", file=sys.stderr)
        return 2
    if not out.parent.is_dir():
        return _cannot_write(out, "目录不存在", "no such folder")
    if not os.access(out.parent, os.W_OK):
        return _cannot_write(out, "目录不可写", "the folder is not writable")
    bar = _Bar()
    try:
        store = open_store(args.store, create=False)
        settings = Settings.from_env(store=args.store)
        result = coverage.compute(store, as_of=args.as_of, settings=settings, progress=_computing(bar))
        sb = None
        if args.suggest > 0:
            bar(_COMPUTED, "选址建议 (suggesting bases)")
            roads = store.read("roads", columns=["name", "geometry"])
            sb = coverage.suggest_bases(result, args.suggest, method="exact" if args.exact else "greedy", roads=roads)
            if "fewer" in sb.attrs:
                print(sb.attrs["fewer"][0 if args.lang == "zh" else 1], file=sys.stderr)
        # a spreadsheet headed in --lang, or GeoPackage layers (field names as identifiers, geometry columns)
        bar(_COMPUTED, "整理表格 (making the sheets)")
        sheets = result.sheets(args.lang, bases=sb, gis=out.suffix.lower() == ".gpkg")
        if out.suffix.lower() == ".xlsx":
            check_xlsx_size(sheets, limit=XLSX_COMFORTABLE_ROWS)
        bar(_SHEETS_MADE, f"写入 {out.name} (writing)")
        try:
            write_any(sheets, out, progress=_writing(bar, out))
        except OSError as exc:
            return _cannot_write(out, exc.strerror or str(exc), exc.strerror or str(exc))
    except RiskMapError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    bar(1.0, f"完成：已写入 {out} (done: written)")
    s = result.summary
    ign = result.ignored_inspections.set_index("kind")["count"]
    share = "—" if s["share_in_time"] is None else f"{s['share_in_time']:.1%}"
    cells = "—" if s["share_cells_covered"] is None else f"{s['share_cells_covered']:.1%}"
    print(f"截至 {result.as_of} (as of): 对象 {s['objects']} (objects), 死角 {s['dead_corners']} (dead corners), "
          f"盲区 {s['blind_spots']}/{s['risk_cells']} (blind cells), 监管空白 {len(result.supervision_gaps)} "
          f"(supervision gaps); 按时检查风险占比 {share} (risk inspected in time), 网格覆盖 {cells} (cells covered)")
    if ign.get("future", 0):
        print(f"注意：{ign['future']} 条检查记录日期晚于今天，未计入 "
              f"(note: {ign['future']} inspections are dated after today and were not counted)", file=sys.stderr)
    print(f"已写入 {out} (written)")
    return 0
