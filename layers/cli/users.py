"""``python -m layers user add|list|disable|enable|set-password|set-role|token``: who may use the app."""

from __future__ import annotations

import argparse
import getpass
import os

from layers import access
from layers.errors import RiskMapError
from layers.store import open_store

_PASSWORD_HELP = ("read the password from this environment variable (default RISKMAP_NEW_PASSWORD); when unset, "
                  f"ask on the terminal. At least {access.MIN_PASSWORD} characters")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("user", help="管理登录用户和大屏令牌 (manage users who may log in, and wall tokens)",
                       description="Roles: admin (everything), command (whole city, read + city ledger steps), "
                                   "planner (plans; --district narrows it), district (one district), "
                                   "town (one town). A wall display opens with a token, not a login.")
    usub = p.add_subparsers(dest="user_command", metavar="ACTION")

    a = usub.add_parser("add", help="添加或替换用户 (add or replace a user)")
    a.add_argument("username")
    _store(a)
    a.add_argument("--role", required=True, choices=access.LOGIN_ROLES)
    a.add_argument("--district", help="district code (district users; optional scope of a planner)")
    a.add_argument("--town", help="town code (town users)")
    a.add_argument("--name", help="display name")
    a.add_argument("--password-env", default="RISKMAP_NEW_PASSWORD", help=_PASSWORD_HELP)
    a.set_defaults(func=_add)

    lst = usub.add_parser("list", help="列出用户 (list users)")
    _store(lst)
    lst.set_defaults(func=_list)

    for name, disabled, text in (("disable", True, "停用用户，立即结束其会话 (disable a user; its sessions end now)"),
                                 ("enable", False, "重新启用用户 (enable a user again)")):
        d = usub.add_parser(name, help=text)
        d.add_argument("username")
        _store(d)
        d.set_defaults(func=_disabled, disabled=disabled)

    sp = usub.add_parser("set-password", help="修改密码，结束其会话 (new password; the user's sessions end)")
    sp.add_argument("username")
    _store(sp)
    sp.add_argument("--password-env", default="RISKMAP_NEW_PASSWORD", help=_PASSWORD_HELP)
    sp.set_defaults(func=_set_password)

    sr = usub.add_parser("set-role", help="修改角色或辖区，结束其会话 (new role or area; the user's sessions end)")
    sr.add_argument("username")
    _store(sr)
    sr.add_argument("--role", required=True, choices=access.LOGIN_ROLES)
    sr.add_argument("--district")
    sr.add_argument("--town")
    sr.set_defaults(func=_set_role)

    tk = usub.add_parser("token", help="大屏令牌：新建、列出、撤销 (wall tokens: new, list, revoke)")
    tsub = tk.add_subparsers(dest="token_command", metavar="TOKEN_ACTION")
    tn = tsub.add_parser("new", help="新建大屏令牌并打印一次 (make a wall token and print it once)")
    _store(tn)
    tn.add_argument("--label", required=True, help="where the wall is, e.g. 指挥中心主屏")
    tn.add_argument("--district", help="limit the wall to one district")
    tn.set_defaults(func=_token_new)
    tl = tsub.add_parser("list", help="列出大屏令牌 (list wall tokens)")
    _store(tl)
    tl.set_defaults(func=_token_list)
    tr = tsub.add_parser("revoke", help="撤销大屏令牌 (revoke a wall token)")
    tr.add_argument("ref", help="the token, or the ref shown by `token list`")
    _store(tr)
    tr.set_defaults(func=_token_revoke)


def _store(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", required=True, help="GeoPackage store path")


def _password(args: argparse.Namespace) -> str:
    return os.environ.get(args.password_env) or getpass.getpass("密码 (password): ")


def _run(fn, done: str) -> int:  # noqa: ANN001
    try:
        fn()
    except RiskMapError as exc:
        print(exc)
        return 1
    print(done)
    return 0


def _add(args: argparse.Namespace) -> int:
    password = _password(args)
    return _run(lambda: access.add_user(open_store(args.store), args.username, password, role=args.role,
                                        district_code=args.district, town_code=args.town, display_name=args.name),
                f"已保存用户 {args.username} (saved user {args.username})")


def _list(args: argparse.Namespace) -> int:
    users = access.list_users(open_store(args.store, create=False))
    cols = [c for c in ("id", "role", "district_code", "town_code", "display_name", "disabled", "demo") if c in users]
    print(users[cols].to_string(index=False) if len(users) else "（无用户 / no users）")
    return 0


def _disabled(args: argparse.Namespace) -> int:
    word = ("已停用", "disabled") if args.disabled else ("已启用", "enabled")
    return _run(lambda: access.set_disabled(open_store(args.store, create=False), args.username, args.disabled),
                f"{word[0]} {args.username} ({word[1]} {args.username})")


def _set_password(args: argparse.Namespace) -> int:
    password = _password(args)
    return _run(lambda: access.set_password(open_store(args.store, create=False), args.username, password),
                f"已修改密码 {args.username} (password changed for {args.username})")


def _set_role(args: argparse.Namespace) -> int:
    return _run(lambda: access.set_role(open_store(args.store, create=False), args.username, role=args.role,
                                        district_code=args.district, town_code=args.town),
                f"已修改角色 {args.username} (role changed for {args.username})")


def _token_new(args: argparse.Namespace) -> int:
    try:
        token = access.issue_wall_token(open_store(args.store, create=False), label=args.label,
                                        district_code=args.district)
    except RiskMapError as exc:
        print(exc)
        return 1
    print("大屏地址（只显示这一次）(wall address, shown only this once):")
    print(f"/wall?token={token}")
    return 0


def _token_list(args: argparse.Namespace) -> int:
    f = access.list_wall_tokens(open_store(args.store, create=False))
    print(f.to_string(index=False) if len(f) else "（无令牌 / no tokens）")
    return 0


def _token_revoke(args: argparse.Namespace) -> int:
    return _run(lambda: access.revoke_wall_token(open_store(args.store, create=False), args.ref),
                "已撤销 (revoked)")
