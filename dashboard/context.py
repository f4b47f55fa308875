"""What a callback may know about the request: settings, the store, and who is asking.

Who the user is comes from the server session only: the cookie carries a random token, the store says whose
session it is and what that user's role and area are *now* (re-read on every request). Never from a callback's
inputs. Every read and write asks :func:`authorize` (which asks ``layers.access.authorize``, the one access
function) before it may touch the store: :func:`store` refuses a request that has not been authorized, so a
callback that forgets the check fails in every test that runs it.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import flask

from layers import access
from layers.access import Access, Principal
from layers.cache import StoreCache
from layers.errors import AccessDenied, RiskMapError
from layers.settings import Settings
from layers.store import Store, open_store

#: the session cookie keys: a user's session token, or a wall kiosk's token
SESSION_KEY = "sid"
WALL_KEY = "wall"
#: who is asking when login is switched off (RISKMAP_AUTH=0): a read-only city-wide kiosk
KIOSK = Principal(id="kiosk", role="command", display_name="kiosk")


def settings() -> Settings:
    return flask.current_app.config["RISKMAP_SETTINGS"]


def open_unchecked() -> Store:
    """The store without an access check: only for login, logout, sessions and the health probe.

    Opened once per request (kept in ``flask.g``): opening checks the file system and schema (a read of
    ``/proc/mounts`` and a ``stat``), and a request asked for it several times; every read still opens its own
    connection, so nothing is held between requests."""
    if flask.has_app_context():
        kept = flask.g.get("riskmap_store")
        if kept is not None:
            return kept
    s = open_store(settings().store, create=False)
    if flask.has_app_context():
        flask.g.riskmap_store = s
    return s


def store() -> Store:
    """The store, for a request that :func:`authorize` has let through."""
    if flask.g.get("riskmap_access") is None:
        raise RuntimeError("the store was reached without the access check (call context.authorize first)")
    return open_unchecked()


def principal() -> Principal | None:
    """The logged-in user (or wall kiosk) as the store knows it now; None when nobody is logged in."""
    if "riskmap_principal" in flask.g:
        return flask.g.riskmap_principal
    who: Principal | None
    if not settings().auth:
        who = KIOSK
    else:
        token, wall = flask.session.get(SESSION_KEY), flask.session.get(WALL_KEY)
        sso = flask.request.headers.get(settings().sso_header) if settings().sso_header else None
        try:
            s = open_unchecked()
            who = _PRINCIPALS.lookup(s, token=token, wall=wall, sso=sso)
        except (RiskMapError, sqlite3.Error):
            # the store cannot be read right now: a session seen valid moments ago stays valid, so the wall
            # keeps its last picture and says "stale" instead of turning into a login page
            who = _SEEN.recall(token or wall or (f"sso:{sso}" if sso else None))
        else:
            _SEEN.remember(token or wall or (f"sso:{sso}" if sso else None), who)
    flask.g.riskmap_principal = who
    return who


class _Seen:
    """Sessions seen valid in the last ``ttl_s`` seconds, by token hash (per worker; only a fallback for a
    store that cannot be read, never consulted while it can)."""

    def __init__(self, ttl_s: float = 600.0) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, Principal]] = {}

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()

    def remember(self, token: str | None, who: Principal | None) -> None:
        if not token:
            return
        with self._lock:
            if who is None:
                self._seen.pop(self._key(token), None)
            else:
                if len(self._seen) > 10_000:
                    self._seen.clear()
                self._seen[self._key(token)] = (time.monotonic(), who)

    def recall(self, token: str | None) -> Principal | None:
        if not token:
            return None
        with self._lock:
            hit = self._seen.get(self._key(token))
        return hit[1] if hit and time.monotonic() - hit[0] < self.ttl_s else None


_SEEN = _Seen()

#: the tables a principal is read from: every login, logout, password, role, district or disabled change and
#: every wall token issued or revoked is a write to one of them, so it changes their stamps
PRINCIPAL_TABLES = ("sessions", "users", "wall_tokens")


class _Principals:
    """Who a session token (or wall token, or single-sign-on name) is, as the store says now, memoised per
    (store identity, write stamps of :data:`PRINCIPAL_TABLES`, token hash) in a :class:`layers.cache.StoreCache`.

    Reading it afresh cost four store reads and four SQLite connections on every request (most of the server's
    CPU under load); the stamps are one query. Any write to those tables (in any worker or process) is a new
    stamp, so logout, a disabled user, a new role or district and a revoked wall token take effect on the next
    request as before. The only thing that changes without a write is a session's expiry: the expiry is kept
    with the answer and checked against the clock on every request. Only hashes of tokens are kept."""

    def __init__(self) -> None:
        self._cache: StoreCache[tuple[Principal | None, datetime | None]] = StoreCache("session principals",
                                                                                     maxsize=4096)

    @staticmethod
    def _key(kind: str, secret: str) -> tuple[str, str]:
        return kind, hashlib.sha256(secret.encode("utf-8")).hexdigest()

    def lookup(self, s: Store, *, token: str | None, wall: str | None, sso: str | None) -> Principal | None:
        if not (token or wall or sso):
            return None
        stamps = s.table_stamps(PRINCIPAL_TABLES)   # before any read: what is kept is at least this new
        version = tuple(sorted(stamps.items()))
        if sso:
            return self._get(s, version, self._key("sso", sso), lambda: (access.user_principal(s, sso), None))
        who = self._get(s, version, self._key("session", token), lambda: access.session_principal_until(s, token)) if token else None
        if who is None and wall:
            who = self._get(s, version, self._key("wall", wall), lambda: (access.wall_principal(s, wall), None))
        return who

    def _get(self, s: Store, version: tuple, key: tuple, compute: Callable[[], tuple]) -> Principal | None:
        who, expires = self._cache.get(s, compute, key=key, version=version)
        if who is not None and expires is not None and expires < _utcnow():
            return None   # expired since it was read (session_principal says the same of it now)
        return who

    def clear(self) -> None:
        self._cache.clear()


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


_PRINCIPALS = _Principals()


def current_user() -> dict | None:
    """``{"id", "role", "district_code", "town_code", "display_name", "demo"}`` of the user, or None."""
    p = principal()
    if p is None:
        return None
    return {"id": p.id, "role": p.role, "district_code": p.district, "town_code": p.town,
            "display_name": p.display_name, "demo": p.demo}


def authorize(action: str = "read", *, districts: str | Iterable[str] | None = None,
              towns: str | Iterable[str] | None = None) -> Access:
    """Ask the one access function for this request's user; the answer narrows every read that follows.

    Raises :class:`AccessDenied` when nobody is logged in, the role may not do ``action``, or an area asked for
    lies outside the user's.
    """
    result = access.authorize(principal(), action, districts=districts, towns=towns)
    if flask.g.get("riskmap_access") is None:
        flask.g.riskmap_access = result
    return result


def allowed_districts() -> list[str] | None:
    """District codes the user may see; None means the whole city. Raises when nobody is logged in."""
    a = authorize(action())
    return None if a.districts is None else list(a.districts)


def allowed_towns() -> list[str] | None:
    """Town codes the user may see (a town leader's one town); None means every town of its districts."""
    a = authorize(action())
    return None if a.towns is None else list(a.towns)


def scope(requested: str | Iterable[str] | None = None) -> list[str] | None:
    """The districts a query should cover: what was asked for, narrowed to what the user may see.

    Asking for a district outside the user's area raises :class:`AccessDenied`.
    """
    a = authorize(action(), districts=requested)
    return None if a.districts is None else list(a.districts)


__all__ = ["settings", "store", "open_unchecked", "principal", "current_user", "authorize", "allowed_districts",
           "allowed_towns", "scope", "checked", "action", "AccessDenied", "SESSION_KEY", "WALL_KEY"]


def checked(action: str = "read", *, denied: Callable[..., Any] | None = None
            ) -> Callable[[Callable], Callable]:
    """Decorate every callback, page layout and route that reads or writes for a user: before it runs, the one
    access function is asked whether this request's user may do ``action`` (``AccessDenied`` otherwise, or
    ``denied(exc, **kwargs)`` when given, e.g. a calm page), and what it answers narrows :func:`scope` inside. A test
    fails for any registered callback or route without it.
    """
    if action not in access.ACTIONS:
        raise ValueError(f"unknown action {action!r}; known: {sorted(access.ACTIONS)}")

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            flask.g.riskmap_action = action
            flask.g.riskmap_access = None
            try:
                authorize(action)
            except AccessDenied as exc:
                if denied is None:
                    raise
                return denied(exc, **kwargs)
            return fn(*args, **kwargs)

        inner.__riskmap_access__ = action  # type: ignore[attr-defined]
        return inner

    return wrap


def action() -> str:
    """The action the running callback declared with :func:`checked` (``read`` outside one)."""
    return flask.g.get("riskmap_action") or "read"
