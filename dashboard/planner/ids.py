"""Component ids of the planner page and the route sheet, and the colours of the plan's figures."""

from __future__ import annotations

from enum import StrEnum

#: one colour per team route (distinct from the four grade colours)
TEAM_COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22",
                "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#31a354", "#756bb1")
SEGMENT_COLOURS = {"travel": "#8FA3BD", "service": "#0F5BD8", "idle": "#F0C36D", "break": "#C7CED8"}


class Ids(StrEnum):
    LANG = "plan-lang"
    DATE = "plan-date"
    DAYS = "plan-days"
    DISTRICTS = "plan-districts"
    TEAMS = "plan-teams"
    TEAM_TABLE = "plan-team-table"
    LOAD = "plan-load"
    LIMIT = "plan-limit"
    CANDS = "plan-cands"
    CANDS_DELETE = "plan-cands-delete"
    ADD_PICK = "plan-add-pick"
    ADD = "plan-add"
    SEED = "plan-seed"
    FRACTION = "plan-fraction"
    RGRADES = "plan-rgrades"
    DRAW = "plan-draw"
    RUN = "plan-run"
    STATE = "plan-state"
    PLAN = "plan-store"
    MSG = "plan-msg"
    SUMMARY = "plan-summary"
    MAP = "plan-map"
    GANTT = "plan-gantt"
    STOPS = "plan-stops"
    UNASSIGNED = "plan-unassigned"
    LOCK = "plan-lock"
    UNLOCK = "plan-unlock"
    LOCK_HINT = "plan-lock-hint"
    MOVE_TEAM = "plan-move-team"
    MOVE = "plan-move"
    REMOVE = "plan-remove"
    SAVE_NAME = "plan-save-name"
    SAVE = "plan-save"
    OPEN_PICK = "plan-open-pick"
    OPEN = "plan-open"
    EXPORT_TEAM = "plan-export-team"
    XLSX = "plan-xlsx"
    CSV = "plan-csv"
    SHEET_LINK = "plan-sheet-link"
    DOWNLOAD = "plan-download"
    DONE_DATE = "plan-done-date"
    DONE_RESULT = "plan-done-result"
    DONE_HAZARDS = "plan-done-hazards"
    DONE_LINES = "plan-done-lines"
    RESTORE = "plan-restore"
    DONE_ACTION = "plan-done-action"
    DONE = "plan-done"
    PRINT = "sheet-print"
