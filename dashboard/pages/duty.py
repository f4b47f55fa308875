"""The duty desk (``/duty``, 值班台): the flood mode and why, the weather warning in force with its history, who
is on duty now and the roster of a week.

The command centre and administrators (the ``duty`` grant) set or lift the warning here; the server takes the
user from the session and checks the grant (``dashboard.emergency.duty_actions``), and the warning is written
with its audit row. Everyone else with ``read`` sees the page read-only; district and town users see their
district's roster only.
"""

from __future__ import annotations

import logging
from enum import StrEnum

import dash
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard import context
from dashboard.components.dates import date_picker
from dashboard.components.errors import calm_message, denied_page
from dashboard.components.nav import navbar
from dashboard.emergency import duty_actions as actions
from dashboard.i18n import norm_lang, t
from layers.errors import AccessDenied, RiskMapError
from layers.schema import WARNING_KINDS, WARNING_LEVELS, label

log = logging.getLogger(__name__)

dash.register_page(__name__, path="/duty", title="值班台 · Duty desk")


class Ids(StrEnum):
    LANG = "duty-lang"
    MODE = "duty-mode"
    WARNING = "duty-warning"
    LEVEL = "duty-level"
    KIND = "duty-kind"
    NOTE = "duty-note"
    SET = "duty-set"
    LIFT = "duty-lift"
    MSG = "duty-msg"
    HISTORY = "duty-history"
    WEEK = "duty-week"
    ROSTER = "duty-roster"
    NOW = "duty-now"


def _form(lang: str) -> html.Div:
    levels = [{"label": label(WARNING_LEVELS, k, lang), "value": k} for k in WARNING_LEVELS if k != "none"]
    kinds = [{"label": label(WARNING_KINDS, k, lang), "value": k} for k in WARNING_KINDS]
    return html.Div(className="duty-form", children=[
        html.Div(className="admin-form", children=[
            html.Label([t("duty.level", lang), dcc.RadioItems(levels, "orange", id=Ids.LEVEL, inline=True,
                                                             className="duty-levels")], className="admin-field"),
            html.Label([t("duty.kind", lang), dcc.Dropdown(kinds, "rainstorm", id=Ids.KIND, clearable=False)],
                       className="admin-field"),
            html.Label([t("duty.note", lang), dcc.Input(id=Ids.NOTE, type="text", maxLength=500, debounce=False)],
                       className="admin-field"),
        ]),
        html.Div(className="admin-buttons", children=[
            html.Button(t("duty.set", lang), id=Ids.SET, n_clicks=0, className="btn-primary"),
            html.Button(t("duty.lift", lang), id=Ids.LIFT, n_clicks=0)]),
    ])


@context.checked("read", denied=denied_page)
def layout(lang: str | None = None, **query: str) -> html.Div:
    lang = norm_lang(lang)
    head = navbar(lang, "/duty", {"lang": lang})
    try:
        mode = actions.mode_box(lang)
        warning, style = actions.warning_box(lang)
        hist = actions.history(lang)
        now = actions.on_duty_now(lang)
        week = actions.week_roster(None, lang)
    except Exception as exc:  # the edge: calm text, traceback to the log
        if isinstance(exc, AccessDenied | RiskMapError):
            log.warning("duty page: %s", exc)
        else:
            log.exception("duty page failed")
        return html.Div([head, html.Div(calm_message(lang, exc), className="page")])
    can_set = actions.may_set(context.principal())
    return html.Div([head, dcc.Store(id=Ids.LANG, data=lang), html.Div(className="page duty-page", children=[
        html.H1(t("duty.title", lang)),
        html.Section(className="panel", children=[
            html.H2(t("duty.mode", lang)), html.Div(mode, id=Ids.MODE, className="duty-mode")]),
        html.Section(className="panel", children=[
            html.H2(t("duty.warning", lang)),
            html.Div(warning, id=Ids.WARNING, className="duty-warning", style={
                **style, "padding": "10px 14px", "borderRadius": "6px", "fontSize": "1.15em"}),
            _form(lang) if can_set else html.Div(t("duty.read_only", lang), className="muted", id="duty-read-only"),
            html.Div(id=Ids.MSG, role="status"),
            html.H3(t("duty.history", lang)),
            html.Div(hist, id=Ids.HISTORY),
        ]),
        html.Section(className="panel", children=[
            html.H2(t("duty.now", lang)), html.Div(now, id=Ids.NOW, className="duty-now")]),
        html.Section(className="panel", children=[
            html.H2(t("duty.roster", lang)),
            html.Label([t("duty.week_of", lang), html.Div(date_picker(Ids.WEEK, lang, date=actions.now_local().date()),
                                                             style={"maxWidth": "14em"})],
                       className="admin-field", style={"display": "block", "marginBottom": "8px"}),
            html.Div(week, id=Ids.ROSTER),
        ]),
    ])])


@callback(Output(Ids.MSG, "children"), Output(Ids.WARNING, "children"), Output(Ids.WARNING, "style"),
          Output(Ids.HISTORY, "children"), Output(Ids.MODE, "children"),
          Input(Ids.SET, "n_clicks"), Input(Ids.LIFT, "n_clicks"),
          State(Ids.LEVEL, "value"), State(Ids.KIND, "value"), State(Ids.NOTE, "value"), State(Ids.LANG, "data"),
          prevent_initial_call=True)
@context.checked("duty")
def on_set(_set, _lift, level, kind, note, lang):
    """Set or lift the warning: the ``duty`` grant is checked for the session's user before anything runs."""
    lang = norm_lang(lang)
    trig = ctx.triggered_id
    if trig not in (Ids.SET, Ids.LIFT):
        return (no_update,) * 5
    try:
        msg, children, style, hist, mode = actions.set_or_lift(trig == Ids.LIFT, level, kind, note, lang)
    except RiskMapError as exc:   # a refused step: say why, write nothing
        log.warning("duty: warning refused: %s", exc)
        return calm_message(lang, exc), no_update, no_update, no_update, no_update
    return msg, children, {**style, "padding": "10px 14px", "borderRadius": "6px", "fontSize": "1.15em"}, hist, mode


@callback(Output(Ids.ROSTER, "children"), Input(Ids.WEEK, "date"), State(Ids.LANG, "data"),
          prevent_initial_call=True)
@context.checked("read")
def on_week(day, lang):
    """The roster of the week holding ``day``, within the user's area."""
    lang = norm_lang(lang)
    try:
        return actions.week_roster(day, lang)
    except Exception as exc:  # the edge
        if not isinstance(exc, AccessDenied | RiskMapError):
            log.exception("duty roster failed")
        return calm_message(lang, exc)
