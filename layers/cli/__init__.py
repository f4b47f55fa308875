"""``python -m layers``: the command line. Each module of ``layers/cli/`` adds its own subcommands.

A module ``layers/cli/NAME.py`` defines ``register(subparsers)`` which adds one or more subparsers, each
with ``set_defaults(func=callable)``; ``callable(args) -> int`` returns the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import layers.cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m layers",
        description="城市安全生产风险一张图：数据命令 (City work-safety risk map: data commands). "
                    "Generate the demo city, import real data, compute coverage gaps, plan inspections.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(layers.cli.__path__), key=lambda m: m.name):
        importlib.import_module(f"layers.cli.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
