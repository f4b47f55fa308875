"""Users of the app: who may log in and which district they may see."""

from __future__ import annotations

import pandas as pd
from werkzeug.security import check_password_hash, generate_password_hash

from layers.errors import RiskMapError
from layers.store import Store

ROLES = ("city", "district", "planner")


def add_user(store: Store, username: str, password: str, *, role: str, district_code: str | None = None,
             display_name: str | None = None) -> None:
    """Add or replace a user. A district user must name a district that exists in the store."""
    if role not in ROLES:
        raise RiskMapError(f"角色必须是 {ROLES} 之一 (role must be one of {ROLES}), got {role!r}")
    if len(password) < 4:
        raise RiskMapError("密码至少 4 个字符 (the password needs at least 4 characters)")
    if role == "district":
        codes = set(store.read("districts", columns=["code"])["code"])
        if district_code not in codes:
            raise RiskMapError(f"区县代码 {district_code!r} 不存在 (district code {district_code!r} is not in the store; "
                               f"known: {sorted(codes)})")
    row = pd.DataFrame([{"id": username, "password_hash": generate_password_hash(password), "role": role,
                         "district_code": district_code if role == "district" else None,
                         "display_name": display_name or username}])
    with store.transaction() as tx:
        tx.upsert("users", row)


def authenticate(store: Store, username: str, password: str) -> dict | None:
    """The user's session record when the password matches, else None."""
    rows = store.read("users", where={"id": username})
    if len(rows) != 1:
        return None
    r = rows.iloc[0]
    if not check_password_hash(r["password_hash"], password):
        return None
    return {"id": r["id"], "role": r["role"], "district_code": r["district_code"],
            "display_name": r["display_name"] or r["id"]}
