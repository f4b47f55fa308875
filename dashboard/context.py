"""What a callback may know about the request: settings, the store, and who is asking.

Who the user is and which districts they may see come from the server session (Flask's signed cookie,
set only by the login form), never from a callback's inputs.
"""

from __future__ import annotations

from collections.abc import Iterable

import flask

from layers.errors import AccessDenied
from layers.settings import Settings
from layers.store import Store, open_store


def settings() -> Settings:
    return flask.current_app.config["RISKMAP_SETTINGS"]


def store() -> Store:
    return open_store(settings().store, create=False)


def current_user() -> dict | None:
    """``{"id", "role", "district_code", "display_name"}`` of the logged-in user, or None."""
    if not settings().auth:
        return {"id": "kiosk", "role": "city", "district_code": None, "display_name": "kiosk"}
    user = flask.session.get("user")
    return dict(user) if user else None


def allowed_districts() -> list[str] | None:
    """District codes the user may see; None means the whole city. Raises when nobody is logged in."""
    user = current_user()
    if user is None:
        raise AccessDenied("请先登录 (please log in)")
    if user["role"] == "district":
        return [user["district_code"]] if user.get("district_code") else []
    return None


def scope(requested: str | Iterable[str] | None = None) -> list[str] | None:
    """The districts a query should cover: what was asked for, narrowed to what the user may see.

    Asking for a district outside the user's area raises :class:`AccessDenied`.
    """
    allowed = allowed_districts()
    if requested in (None, "", []):
        return allowed
    asked = [requested] if isinstance(requested, str) else list(requested)
    if allowed is not None:
        outside = [d for d in asked if d not in allowed]
        if outside:
            raise AccessDenied(f"无权查看区县 {outside} (not allowed to view districts {outside})")
    return asked
