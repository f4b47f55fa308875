"""Users, server-side sessions and wall tokens: who may log in, as what, and for how long.

The session cookie carries only a random token; the store keeps its SHA-256 with the user and expiry. Every
request re-reads the session and the user, so logout, disabling a user, a new password, role or district take
effect on the next request (they end the user's sessions). Wall kiosk tokens work the same way and are revoked
by deleting their row's validity (``revoked``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

import pandas as pd
from werkzeug.security import check_password_hash, generate_password_hash

from layers.access.policy import LEGACY_ROLES, Principal
from layers.errors import RiskMapError
from layers.schema import ROLES as ROLE_LABELS
from layers.store import Store

ROLES = tuple(ROLE_LABELS)
#: people log in with these roles; ``wall`` is a token, not a login
LOGIN_ROLES = tuple(r for r in ROLES if r != "wall")
MIN_PASSWORD = 10
SESSION_HOURS = 12
#: a hash to check against when the user does not exist, so an unknown user costs the same time
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _user_row(store: Store, username: str) -> pd.Series | None:
    rows = store.read("users", where={"id": username})
    return rows.iloc[0] if len(rows) == 1 else None


def _check_area(store: Store, role: str, district_code: str | None, town_code: str | None
                ) -> tuple[str | None, str | None]:
    if role not in LOGIN_ROLES:
        raise RiskMapError(f"角色必须是 {LOGIN_ROLES} 之一 (role must be one of {LOGIN_ROLES}), got {role!r}")
    if role in ("admin", "command"):
        return None, None
    if role == "town":
        if not town_code:
            raise RiskMapError("镇街用户必须指定镇街代码 (a town user needs --town)")
        towns = store.read("towns", columns=["code", "district_code"])
        match = towns[towns["code"].astype(str) == str(town_code)]
        if len(match) != 1:
            raise RiskMapError(f"镇街代码 {town_code!r} 不存在 (town code {town_code!r} is not in the store)")
        return str(match.iloc[0]["district_code"]), str(town_code)
    if role == "planner" and not district_code:
        return None, None
    codes = set(store.read("districts", columns=["code"])["code"].astype(str))
    if district_code not in codes:
        raise RiskMapError(f"区县代码 {district_code!r} 不存在 (district code {district_code!r} is not in the store; "
                           f"known: {sorted(codes)})")
    return district_code, None


def _check_password(password: str, *, demo: bool) -> None:
    if not demo and len(password) < MIN_PASSWORD:
        raise RiskMapError(f"密码至少 {MIN_PASSWORD} 个字符 (the password needs at least {MIN_PASSWORD} characters)")
    if not password:
        raise RiskMapError("密码不能为空 (the password must not be empty)")


def add_user(store: Store, username: str, password: str, *, role: str, district_code: str | None = None,
             town_code: str | None = None, display_name: str | None = None, demo: bool = False) -> None:
    """Add or replace a user (ending its sessions). District and town users must name an area in the store;
    a planner may have a district (its scope) or none (the whole city)."""
    username = username.strip()
    if not username:
        raise RiskMapError("用户名不能为空 (the username must not be empty)")
    _check_password(password, demo=demo)
    district_code, town_code = _check_area(store, role, district_code, town_code)
    row = pd.DataFrame([{"id": username, "password_hash": generate_password_hash(password), "role": role,
                         "district_code": district_code, "town_code": town_code,
                         "display_name": display_name or username, "disabled": False, "demo": demo,
                         "changed_at": _now()}])
    with store.transaction() as tx:
        tx.upsert("users", row)
        _end_sessions(store, tx, username)


def _require_user(store: Store, username: str) -> pd.Series:
    row = _user_row(store, username)
    if row is None:
        raise RiskMapError(f"用户 {username!r} 不存在 (no user {username!r})")
    return row


def set_password(store: Store, username: str, password: str) -> None:
    """A new password; the user's sessions end."""
    row = _require_user(store, username)
    _check_password(password, demo=False)
    with store.transaction() as tx:
        tx.update("users", [row["id"]], {"password_hash": generate_password_hash(password), "demo": False,
                                          "changed_at": _now()})
        _end_sessions(store, tx, username)


def set_role(store: Store, username: str, *, role: str, district_code: str | None = None,
             town_code: str | None = None) -> None:
    """A new role or area; the user's sessions end."""
    row = _require_user(store, username)
    district_code, town_code = _check_area(store, role, district_code, town_code)
    with store.transaction() as tx:
        tx.update("users", [row["id"]], {"role": role, "district_code": district_code, "town_code": town_code,
                                          "changed_at": _now()})
        _end_sessions(store, tx, username)


def set_disabled(store: Store, username: str, disabled: bool = True) -> None:
    """Disable (or enable again) a user; a disabled user's sessions end."""
    row = _require_user(store, username)
    with store.transaction() as tx:
        tx.update("users", [row["id"]], {"disabled": bool(disabled), "changed_at": _now()})
        _end_sessions(store, tx, username)


def list_users(store: Store) -> pd.DataFrame:
    """Every user without the password hash."""
    f = store.read("users")
    return f.drop(columns=["password_hash"]).sort_values("id").reset_index(drop=True)


def principal_of(row: pd.Series) -> Principal:
    role = LEGACY_ROLES.get(str(row["role"]), str(row["role"]))
    return Principal(id=str(row["id"]), role=role, district=_text(row.get("district_code")),
                     town=_text(row.get("town_code")), display_name=_text(row.get("display_name")) or str(row["id"]),
                     demo=_flag(row.get("demo")))


def _flag(v: object) -> bool:
    return v is not None and v is not pd.NA and not (isinstance(v, float) and pd.isna(v)) and bool(v)


def _text(v: object) -> str | None:
    return None if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA or v == "" else str(v)


def authenticate(store: Store, username: str, password: str) -> Principal | None:
    """The user when the password matches and the user is not disabled, else None. An unknown user costs the
    same password check as a known one (no timing tells whether a user exists)."""
    row = _user_row(store, username) if username else None
    stored = str(row["password_hash"]) if row is not None else _DUMMY_HASH
    ok = check_password_hash(stored, password)
    if row is None or not ok or _flag(row.get("disabled")):
        return None
    return principal_of(row)


# -- sessions ----------------------------------------------------------------------------------

def start_session(store: Store, principal: Principal, *, hours: float = SESSION_HOURS) -> str:
    """A new session for ``principal``; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = _now()
    row = pd.DataFrame([{"id": _digest(token), "user_id": principal.id, "created_at": now,
                         "expires_at": now + timedelta(hours=hours)}])
    with store.transaction() as tx:
        tx.append("sessions", row)
        old = store.read("sessions", columns=["id", "expires_at"])
        expired = old.loc[pd.to_datetime(old["expires_at"]) < now, "id"].tolist()
        if expired:
            tx.delete("sessions", expired)
    return token


def end_session(store: Store, token: str | None) -> None:
    """Logout: the session's row goes; the old cookie is refused from then on."""
    if not token:
        return
    with store.transaction() as tx:
        tx.delete("sessions", [_digest(token)])


def _end_sessions(store: Store, tx, username: str) -> None:
    ids = store.read("sessions", columns=["id"], where={"user_id": username})["id"].tolist()
    if ids:
        tx.delete("sessions", ids)


def session_principal(store: Store, token: str | None) -> Principal | None:
    """The user of a live session, as the store says now (role, district); None when the session ended,
    expired, or the user is gone or disabled."""
    return session_principal_until(store, token)[0]


def session_principal_until(store: Store, token: str | None) -> tuple[Principal | None, datetime | None]:
    """:func:`session_principal` and the session's expiry (naive UTC; None with no principal), so that a caller
    keeping the answer can check the expiry again later without reading the store."""
    if not token:
        return None, None
    rows = store.read("sessions", where={"id": _digest(token)})
    if len(rows) != 1:
        return None, None
    s = rows.iloc[0]
    if pd.isna(s["expires_at"]) or pd.Timestamp(s["expires_at"]) < pd.Timestamp(_now()):
        return None, None
    row = _user_row(store, str(s["user_id"]))
    if row is None or _flag(row.get("disabled")):
        return None, None
    return principal_of(row), pd.Timestamp(s["expires_at"]).to_pydatetime()


def user_principal(store: Store, username: str | None) -> Principal | None:
    """The user named by a trusted single-sign-on header, as the store says now; None when unknown or
    disabled (no password: the reverse proxy has authenticated the person)."""
    row = _user_row(store, username.strip()) if username and username.strip() else None
    if row is None or _flag(row.get("disabled")):
        return None
    return principal_of(row)


# -- wall tokens -------------------------------------------------------------------------------

def issue_wall_token(store: Store, *, label: str, district_code: str | None = None) -> str:
    """A new wall kiosk token (city-wide, or one district); returns it once, only its hash is kept."""
    if district_code:
        _check_area(store, "district", district_code, None)
    token = secrets.token_urlsafe(32)
    row = pd.DataFrame([{"id": _digest(token), "label": label, "district_code": district_code or None,
                         "created_at": _now(), "revoked": False}])
    with store.transaction() as tx:
        tx.append("wall_tokens", row)
    return token


def list_wall_tokens(store: Store) -> pd.DataFrame:
    """The tokens' labels, areas and state; ``ref`` is the first 12 hex digits of the hash (to revoke by)."""
    f = store.read("wall_tokens")
    f["ref"] = f["id"].astype(str).str[:12]
    return f.drop(columns=["id"])


def revoke_wall_token(store: Store, ref: str) -> int:
    """Revoke the token whose hash starts with ``ref`` (or the token itself); returns how many."""
    f = store.read("wall_tokens", columns=["id"])
    ids = [i for i in f["id"].astype(str) if ref and (i.startswith(ref) or hmac.compare_digest(i, _digest(ref)))]
    if len(ids) != 1:
        raise RiskMapError(f"找不到唯一的大屏令牌 {ref!r} (no single wall token matches {ref!r}: {len(ids)})")
    with store.transaction() as tx:
        tx.update("wall_tokens", ids, {"revoked": True})
    return 1


def wall_principal(store: Store, token: str | None) -> Principal | None:
    """The wall kiosk a token opens, or None when it is unknown or revoked."""
    if not token or len(token) < 20:
        return None
    rows = store.read("wall_tokens", where={"id": _digest(token)})
    if len(rows) != 1 or _flag(rows.iloc[0].get("revoked")):
        return None
    r = rows.iloc[0]
    return Principal(id=f"wall:{str(r['id'])[:12]}", role="wall", district=_text(r.get("district_code")),
                     display_name=_text(r.get("label")) or "wall")


__all__ = ["ROLES", "LOGIN_ROLES", "MIN_PASSWORD", "add_user", "set_password", "set_role", "set_disabled",
           "list_users", "authenticate", "start_session", "end_session", "session_principal", "issue_wall_token",
           "list_wall_tokens", "revoke_wall_token", "wall_principal", "principal_of", "user_principal"]
