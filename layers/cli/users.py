"""``python -m layers user add|list``: manage who may log in to the app."""

from __future__ import annotations

import argparse
import getpass
import os

from layers.access.users import ROLES, add_user
from layers.errors import RiskMapError
from layers.store import open_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("user", help="管理登录用户 (manage users who may log in)",
                       description="Add or list users of the app. A district user sees only their district.")
    usub = p.add_subparsers(dest="user_command", metavar="ACTION")
    a = usub.add_parser("add", help="添加或更新用户 (add or update a user)")
    a.add_argument("username")
    a.add_argument("--store", required=True, help="GeoPackage store path")
    a.add_argument("--role", required=True, choices=ROLES, help="city: whole city; district: one district; planner")
    a.add_argument("--district", help="district code (required for --role district)")
    a.add_argument("--name", help="display name")
    a.add_argument("--password-env", default="RISKMAP_NEW_PASSWORD",
                   help="read the password from this environment variable (default RISKMAP_NEW_PASSWORD); "
                        "when unset, ask on the terminal")
    a.set_defaults(func=_add)
    lst = usub.add_parser("list", help="列出用户 (list users)")
    lst.add_argument("--store", required=True)
    lst.set_defaults(func=_list)


def _add(args: argparse.Namespace) -> int:
    password = os.environ.get(args.password_env) or getpass.getpass("密码 (password): ")
    try:
        add_user(open_store(args.store), args.username, password, role=args.role, district_code=args.district,
                 display_name=args.name)
    except RiskMapError as exc:
        print(exc)
        return 1
    print(f"已保存用户 {args.username} (saved user {args.username})")
    return 0


def _list(args: argparse.Namespace) -> int:
    users = open_store(args.store, create=False).read("users", columns=["id", "role", "district_code", "display_name"])
    print(users.to_string(index=False) if len(users) else "（无用户 / no users）")
    return 0
