"""The planner (``/plan``, 检查计划) and the printable route sheet (``/plan/sheet?plan=ID&team=T``).

Choose the day (or a week), the districts, the teams taking part (base, scope, skills, shift and break, editable
for this plan) and the candidates (by default the ranked dead corners and blind-spot objects; add by name or by
clicking an object on the map, remove in the list, draw a double-random sample). Plan: each team's route on the
map in its own colour with numbered stops, a timeline of travel / service / idle time per team, the stops and
what was left unassigned with the reason. Lock a stop, move it to another team, remove it, and plan again
keeping what is locked. Save (a new version per name and date), open, export a team's route sheet (XLSX or a
printable page) and the whole plan (CSV), and record completions against the stops of a saved plan.

This module registers the two pages and their callbacks; each callback is a line over a plain function in
``dashboard.planner.actions`` (the layout, tables, figures and scope checks live in ``dashboard.planner``), which
calls ``layers.planning``. The area is always narrowed on the server to what the session's user may see.
An unsaved plan lives in the browser session (``dcc.Store``) as JSON; saving writes it to the store.
"""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, clientside_callback, ctx, no_update

from dashboard import context
from dashboard.components.errors import calm_message, guarded
from dashboard.components.grid import selected_indexes
from dashboard.planner import actions
from dashboard.planner.ids import Ids
from dashboard.planner.layout import plan_layout, sheet_layout

dash.register_page(__name__, path="/plan", title="检查计划", layout=plan_layout)
dash.register_page("dashboard.pages.plan_sheet", path="/plan/sheet", title="检查路线单", layout=sheet_layout)


@callback(Output(Ids.TEAMS, "options"), Output(Ids.TEAMS, "value"), Output(Ids.ADD_PICK, "options"),
          Output(Ids.RESTORE, "data"),
          Input(Ids.DISTRICTS, "value"), State(Ids.LANG, "data"), State(Ids.RESTORE, "data"))
@guarded(lambda exc: ([], [], [], None))
@context.checked("read")
def _on_districts(districts, lang, restore=None):
    return (*actions.district_choices(districts, lang, restore), None)


@callback(Output(Ids.DATE, "date"), Output(Ids.DAYS, "value"), Output(Ids.DISTRICTS, "value"),
          Output(Ids.TEAMS, "value", allow_duplicate=True), Output(Ids.TEAM_TABLE, "rowData", allow_duplicate=True),
          Output(Ids.RESTORE, "data", allow_duplicate=True),
          Input(Ids.OPEN, "n_clicks"), State(Ids.OPEN_PICK, "value"), State(Ids.DISTRICTS, "value"),
          prevent_initial_call=True)
@guarded(lambda exc: (no_update,) * 6)
@context.checked("read")
def _restore_form(_n, open_id, districts):
    """Opening a saved plan puts its form back: day, span, districts, teams and their settings."""
    out = actions.form_of_plan(open_id)
    if out[2] is not no_update and sorted(out[2] or []) == sorted(districts or []):
        out = (*out[:5], None)   # the districts stay: nothing rebuilds the team list, the teams are set here
    return out


@callback(Output(Ids.TEAM_TABLE, "rowData"), Input(Ids.TEAMS, "value"), State(Ids.TEAM_TABLE, "rowData"))
@guarded(lambda exc: [])
@context.checked("read")
def _on_teams(team_ids, current):
    return actions.team_table(team_ids, current)


@callback(Output(Ids.CANDS, "rowData"), Output(Ids.STATE, "data"), Output(Ids.MSG, "children"),
          Input(Ids.LOAD, "n_clicks"), Input(Ids.ADD, "n_clicks"), Input(Ids.DRAW, "n_clicks"),
          Input(Ids.MAP, "clickData"), Input(Ids.LOCK, "n_clicks"), Input(Ids.UNLOCK, "n_clicks"),
          Input(Ids.MOVE, "n_clicks"), Input(Ids.REMOVE, "n_clicks"), Input(Ids.OPEN, "n_clicks"),
          State(Ids.DATE, "date"), State(Ids.DISTRICTS, "value"), State(Ids.LIMIT, "value"),
          State(Ids.TEAM_TABLE, "rowData"), State(Ids.CANDS, "rowData"), State(Ids.STATE, "data"),
          State(Ids.STOPS, "rowData"), State(Ids.STOPS, "selectedRows"), State(Ids.MOVE_TEAM, "value"),
          State(Ids.ADD_PICK, "value"), State(Ids.SEED, "value"), State(Ids.FRACTION, "value"),
          State(Ids.RGRADES, "value"), State(Ids.OPEN_PICK, "value"), State(Ids.LANG, "data"),
          prevent_initial_call=True)
@guarded(lambda exc: (no_update, no_update, calm_message("zh", exc)))
@context.checked("read")
def _edit(_load, _add, _draw, click, _lock, _unlock, _move, _remove, _open, day, districts, limit, team_data,
          cand_data, state, stop_data, selected, *rest):
    return actions.edit_candidates(ctx.triggered_id, click, day, districts, limit, team_data, cand_data, state,
                                   stop_data, selected_indexes(stop_data, selected), *rest)


@callback(Output(Ids.PLAN, "data"), Output(Ids.MSG, "children", allow_duplicate=True),
          Output(Ids.OPEN_PICK, "options"),
          Input(Ids.RUN, "n_clicks"), Input(Ids.OPEN, "n_clicks"), Input(Ids.SAVE, "n_clicks"),
          Input(Ids.DONE, "n_clicks"),
          State(Ids.DATE, "date"), State(Ids.DAYS, "value"), State(Ids.DISTRICTS, "value"),
          State(Ids.TEAM_TABLE, "rowData"), State(Ids.CANDS, "rowData"), State(Ids.STATE, "data"), State(Ids.PLAN, "data"),
          State(Ids.SAVE_NAME, "value"), State(Ids.OPEN_PICK, "value"), State(Ids.STOPS, "rowData"),
          State(Ids.STOPS, "selectedRows"), State(Ids.DONE_DATE, "date"), State(Ids.DONE_RESULT, "value"),
          State(Ids.DONE_HAZARDS, "value"), State(Ids.DONE_ACTION, "value"), State(Ids.LANG, "data"),
          State(Ids.DONE_LINES, "value"), prevent_initial_call=True)
@guarded(lambda exc: (no_update, calm_message("zh", exc), no_update))
@context.checked("read")
def _plan(_run, _open, _save, _done, day, days, districts, team_data, cand_data, state, plan_data, save_name,
          open_id, stop_data, selected, *rest):
    return actions.plan_action(ctx.triggered_id, day, days, districts, team_data, cand_data, state, plan_data,
                               save_name, open_id, stop_data, selected_indexes(stop_data, selected), *rest)


@callback(Output(Ids.SUMMARY, "children"), Output(Ids.MAP, "figure"), Output(Ids.GANTT, "figure"),
          Output(Ids.STOPS, "rowData"), Output(Ids.STOPS, "selectedRows"), Output(Ids.UNASSIGNED, "rowData"),
          Output(Ids.EXPORT_TEAM, "options"), Output(Ids.MOVE_TEAM, "options"),
          Input(Ids.PLAN, "data"), Input(Ids.CANDS, "rowData"), State(Ids.DISTRICTS, "value"), State(Ids.LANG, "data"))
@guarded(lambda exc: (calm_message("zh", exc), no_update, no_update, no_update, no_update, no_update, no_update,
                      no_update))
@context.checked("read")
def _render(plan_data, cand_data, districts, lang):
    # opening a plan changes the plan and the candidates in one go: when the plan is among what changed it is
    # drawn whole (ctx.triggered_id names only the first, and "candidates only" kept the old summary)
    plan_changed = any(k.split(".")[0] == Ids.PLAN for k in (ctx.triggered_prop_ids or {}))
    return actions.render_plan(Ids.PLAN if plan_changed else ctx.triggered_id, plan_data, cand_data, districts, lang)


@callback(Output(Ids.SHEET_LINK, "href"), Input(Ids.PLAN, "data"), Input(Ids.EXPORT_TEAM, "value"),
          State(Ids.LANG, "data"))
@context.checked("read")
def _sheet_link(plan_data, team, lang):
    return actions.sheet_href(plan_data, team, lang)


@callback(Output(Ids.DOWNLOAD, "data"), Output(Ids.MSG, "children", allow_duplicate=True),
          Input(Ids.XLSX, "n_clicks"), Input(Ids.CSV, "n_clicks"),
          State(Ids.PLAN, "data"), State(Ids.EXPORT_TEAM, "value"), State(Ids.LANG, "data"), prevent_initial_call=True)
@guarded(lambda exc: (no_update, calm_message("zh", exc)))
@context.checked("read")
def _export(_x, _c, plan_data, team, lang):
    return actions.export_plan(ctx.triggered_id, plan_data, team, lang)


clientside_callback("function(n) { return !!n; }", Output(Ids.CANDS, "deleteSelectedRows"),
                    Input(Ids.CANDS_DELETE, "n_clicks"), prevent_initial_call=True)
clientside_callback("function(n) { if (n) { window.print(); } return ''; }",
                    Output(Ids.PRINT, "title"), Input(Ids.PRINT, "n_clicks"), prevent_initial_call=True)
