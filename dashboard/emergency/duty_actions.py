"""The duty desk's server side (/duty): every function asks the access function first and reads the store
through ``layers.emergency``. Setting or lifting the warning needs the ``duty`` grant, checked here on the
server with the session's user; nothing the browser sends says who sets it or whether they may."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
from dash import html

from dashboard import context
from dashboard.emergency.duty_panels import (
    history_table,
    mode_reason,
    roster_table,
    warning_line,
    warning_style,
)
from dashboard.i18n import t
from layers.access import authorize
from layers.emergency.duty import current_warning, on_duty, roster, set_warning, warning_history, week_of
from layers.emergency.flood_season import flood_mode
from layers.errors import AccessDenied
from layers.store import cached_read


def now_local() -> datetime:
    """Now on the server's local clock (naive): the roster's times are local."""
    return datetime.now().astimezone().replace(tzinfo=None)


def may_set(principal: Any) -> bool:
    """Whether the session's user holds the ``duty`` grant (decides whether the form is drawn; the callback
    checks again)."""
    try:
        authorize(principal, "duty")
    except AccessDenied:
        return False
    return True


def district_names(lang: str) -> dict[str, str]:
    d = cached_read(context.store(), "districts", columns=["code", "name", "name_en"])
    return {str(c): (str(en) if lang == "en" and isinstance(en, str) and en else str(zh))
            for c, zh, en in zip(d["code"], d["name"], d["name_en"], strict=True)}


def mode_box(lang: str) -> list[Any]:
    """Flood mode: on or off, and why."""
    context.authorize(context.action())
    mode = flood_mode(now_local().date(), context.settings(), context.store())
    badge = {"background": "#1f77b4" if mode.on else "#5B6B82", "color": "#fff", "padding": "2px 10px",
             "borderRadius": "4px", "fontWeight": 700, "marginRight": "0.8em"}
    return [html.Span(t("duty.mode.on" if mode.on else "duty.mode.off", lang),
                      className="duty-mode-state " + ("on" if mode.on else "off"), id="duty-mode-state",
                      style=badge, **{"data-reason": mode.reason}),
            html.Span(mode_reason(mode, lang), className="duty-mode-reason", id="duty-mode-reason")]


def warning_box(lang: str) -> tuple[list[Any], dict]:
    """(children, style) of the warning in force."""
    context.authorize(context.action())
    w = current_warning(context.store())
    return warning_line(w, lang), warning_style(w.level if w is not None else "none")


def history(lang: str) -> Any:
    context.authorize(context.action())
    return history_table(warning_history(context.store(), limit=30), lang)


def set_or_lift(lift: bool, level: str | None, kind: str | None, note: str | None, lang: str
                ) -> tuple[Any, list[Any], dict, Any, list[Any]]:
    """Set the warning (``lift``: level none) as the session's user, with the ``duty`` grant checked here.
    Returns (message, warning box children, its style, history table, mode box)."""
    grant = context.authorize("duty")
    w = set_warning(context.store(), grant, "none" if lift else (level or ""), None if lift else kind, note)
    msg = t("duty.saved_lift", lang) if lift else t("duty.saved", lang).format(what=w.title(lang))
    children, style = warning_box(lang)
    return html.Div(msg, className="muted", id="duty-saved"), children, style, history(lang), mode_box(lang)


def week_roster(day: str | date | None, lang: str) -> Any:
    """The week of ``day`` (any day of it; today when empty) as a table, within the user's area."""
    grant = context.authorize(context.action())
    d = pd.Timestamp(day).date() if day else now_local().date()
    monday, sunday = week_of(d)
    frame = roster(context.store(), monday, sunday, grant)
    return roster_table(frame, lang, district_names(lang), now=now_local())


def on_duty_now(lang: str) -> list[Any]:
    """Who is on duty now: the city room for a city-wide user, the user's district for a district user."""
    from dashboard.emergency.duty_panels import duty_rows

    grant = context.authorize(context.action())
    store = context.store()
    now = now_local()
    rooms = [None] if grant.districts is None else list(grant.districts)
    names = district_names(lang)
    out = []
    for room in rooms:
        out.append(html.Div(className="duty-now-room", children=[
            html.H3(names.get(str(room), str(room)) if room else t("duty.city_room", lang)),
            html.Div(duty_rows(on_duty(store, now, room), lang, page=True), className="duty-people")]))
    return out
