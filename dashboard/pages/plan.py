"""The planner (``/plan``, 检查计划) and the printable route sheet (``/plan/sheet?plan=ID&team=T``).

Choose the day (or a week), the districts, the teams taking part (base, scope, skills, shift and break, editable
for this plan) and the candidates (by default the ranked dead corners and blind-spot objects; add by name or by
clicking an object on the map, remove in the list, draw a double-random sample). Plan: each team's route on the
map in its own colour with numbered stops, a timeline of travel / service / idle time per team, the stops and
what was left unassigned with the reason. Lock a stop, move it to another team, remove it, and plan again
keeping what is locked. Save (a new version per name and date), open, export a team's route sheet (XLSX or a
printable page) and the whole plan (CSV), and record completions against the stops of a saved plan.

Callbacks are thin adapters over ``layers.planning``, ``layers.plan_store``, ``layers.plan_export`` and
``layers.plan_random``. The area is always narrowed on the server to what the session's user may see.
An unsaved plan lives in the browser session (``dcc.Store``) as JSON; saving writes it to the store.
"""

from __future__ import annotations

import io
import math
import tempfile
from datetime import date
from enum import StrEnum
from pathlib import Path

import dash
import pandas as pd
from dash import Input, Output, State, callback, clientside_callback, ctx, dash_table, dcc, html, no_update

from dashboard import context
from dashboard.components.errors import calm_message, guarded
from dashboard.components.mapfig import esc, ring_coords, typed
from dashboard.components.nav import navbar
from dashboard.components.theme import template_dict
from dashboard.i18n import dropdown_labels, norm_lang, register, t
from layers.errors import AccessDenied, RiskMapError
from layers.planning import random_draw as plan_random
from layers.planning import routes as P
from layers.planning import saved as plan_store
from layers.planning import sheets as plan_export
from layers.schema import GRADES, INSPECTION_ACTIONS, INSPECTION_RESULTS, label
from layers.store import cached_read

dash.register_page(__name__, path="/plan", title="检查计划")

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
    DONE_ACTION = "plan-done-action"
    DONE = "plan-done"
    PRINT = "sheet-print"


register({
    "plan.heading": ("检查计划", "Inspection planning"),
    "plan.date": ("计划日期", "Plan date"),
    "plan.days": ("范围", "Span"),
    "plan.one_day": ("一天", "One day"),
    "plan.week": ("一周（5个工作日）", "A week (5 working days)"),
    "plan.districts": ("区县", "Districts"),
    "plan.all_districts": ("全部可见区县", "All districts you may see"),
    "plan.teams": ("参加的检查组", "Teams taking part"),
    "plan.team_table": ("检查组设置（本计划可修改）", "Team settings (editable for this plan)"),
    "plan.col.id": ("编号", "ID"),
    "plan.col.name": ("名称", "Name"),
    "plan.col.skills": ("专业技能", "Skills"),
    "plan.col.districts": ("负责区县", "District scope"),
    "plan.col.shift_start": ("上班", "Shift start"),
    "plan.col.shift_end": ("下班", "Shift end"),
    "plan.col.break_start": ("午休开始", "Break start"),
    "plan.col.break_minutes": ("午休分钟", "Break (min)"),
    "plan.candidates": ("候选检查对象", "Candidates"),
    "plan.load": ("载入死角与盲区", "Load dead corners and blind spots"),
    "plan.limit": ("取前 N 个", "Top N"),
    "plan.add_pick": ("按名称添加对象…", "Add an object by name…"),
    "plan.add": ("添加", "Add"),
    "plan.random": ("双随机抽查", "Double-random spot check"),
    "plan.seed": ("随机种子", "Seed"),
    "plan.fraction": ("抽取比例", "Share drawn"),
    "plan.rgrades": ("风险等级", "Grades"),
    "plan.draw": ("抽取并分派", "Draw and pair"),
    "plan.run": ("制定路线 / 重新规划", "Plan routes / plan again"),
    "plan.col.source": ("来源", "Source"),
    "plan.col.kind": ("类别", "Kind"),
    "plan.col.grade": ("风险等级", "Grade"),
    "plan.col.priority": ("优先级", "Priority"),
    "plan.col.overdue": ("超期天数", "Days overdue"),
    "plan.col.team": ("检查组", "Team"),
    "plan.col.day": ("日期", "Day"),
    "plan.col.seq": ("顺序", "No."),
    "plan.col.arrival": ("到达", "Arrive"),
    "plan.col.departure": ("离开", "Leave"),
    "plan.col.locked": ("锁定", "Locked"),
    "plan.col.status": ("状态", "Status"),
    "plan.col.reason": ("未分配原因", "Why unassigned"),
    "plan.col.lockto": ("锁定到", "Locked to"),
    "plan.stops": ("路线站点", "Route stops"),
    "plan.unassigned": ("未分配", "Unassigned"),
    "plan.lock": ("锁定", "Lock"),
    "plan.unlock": ("解锁", "Unlock"),
    "plan.move_team": ("移到检查组…", "Move to team…"),
    "plan.move": ("移动", "Move"),
    "plan.remove": ("移除", "Remove"),
    "plan.save_name": ("计划名称", "Plan name"),
    "plan.save": ("保存", "Save"),
    "plan.open_pick": ("打开已保存的计划…", "Open a saved plan…"),
    "plan.open": ("打开", "Open"),
    "plan.export_team": ("检查组路线单…", "Team route sheet…"),
    "plan.xlsx": ("路线单 XLSX", "Route sheet XLSX"),
    "plan.csv": ("整个计划 CSV", "Whole plan CSV"),
    "plan.sheet": ("打印路线单", "Printable route sheet"),
    "plan.done": ("记录完成", "Record completion"),
    "plan.done_date": ("检查日期", "Inspection date"),
    "plan.done_hazards": ("发现隐患数", "Hazards found"),
    "plan.timeline": ("时间线", "Timeline"),
    "plan.seg.travel": ("行车", "Travel"),
    "plan.seg.service": ("检查", "Service"),
    "plan.seg.idle": ("等待", "Idle"),
    "plan.seg.break": ("休息", "Break"),
    "plan.base": ("驻地", "Base"),
    "plan.objects": ("其他对象（点击添加）", "Other objects (click to add)"),
    "plan.msg.loaded": ("已载入候选对象", "Candidates loaded"),
    "plan.msg.added": ("已添加", "Added"),
    "plan.msg.drawn": ("已抽取并分派", "Drawn and paired"),
    "plan.msg.locked": ("已锁定，请重新规划", "Locked; plan again"),
    "plan.msg.unlocked": ("已解锁，请重新规划", "Unlocked; plan again"),
    "plan.msg.moved": ("已移动，请重新规划", "Moved; plan again"),
    "plan.msg.removed": ("已移除，请重新规划", "Removed; plan again"),
    "plan.msg.select": ("请先在站点表中勾选站点", "Select stops in the table first"),
    "plan.msg.no_skill": ("该检查组不具备所需专业技能", "That team lacks the skill needed"),
    "plan.msg.saved": ("已保存", "Saved"),
    "plan.msg.save_first": ("请先保存计划", "Save the plan first"),
    "plan.msg.done": ("已记录完成", "Completion recorded"),
    "plan.msg.no_plan": ("还没有计划", "No plan yet"),
    "plan.msg.no_cands": ("没有候选对象，请先载入或添加", "No candidates: load or add some first"),
    "plan.sheet.title": ("检查路线单", "Inspection route sheet"),
    "plan.sheet.sign": ("检查人员签字", "Inspectors' signatures"),
    "plan.sheet.leader": ("带队负责人", "Team leader"),
    "plan.sheet.date": ("日期", "Date"),
    "plan.sheet.print": ("打印", "Print"),
    "plan.sheet.check": ("检查要点", "What to check"),
    "plan.sheet.address": ("地址", "Address"),
    "plan.sheet.result": ("检查结果", "Result"),
    "plan.sheet.missing": ("缺少 plan 与 team 参数", "The plan and team parameters are missing"),
    "plan.status.planned": ("待检查", "Planned"),
    "plan.status.done": ("已完成", "Done"),
})


# --------------------------------------------------------------------------------------------------
# small pure helpers (tested as functions)
# --------------------------------------------------------------------------------------------------

def _opts(mapping: dict, lang: str) -> list[dict]:
    return [{"label": label(mapping, k, lang), "value": k} for k in mapping]


def _fmt_time(v) -> str:
    return "" if v is None or pd.isna(v) else pd.Timestamp(v).strftime("%H:%M")


def team_rows(teams: list[P.TeamSpec]) -> list[dict]:
    """Team specs as editable table rows (lists as comma-separated text)."""
    return [{**t.to_dict(), "skills": ",".join(t.skills), "districts": ",".join(t.districts)} for t in teams]


def teams_from_rows(rows: list[dict] | None) -> list[P.TeamSpec]:
    out = []
    for r in rows or []:
        out.append(P.TeamSpec.from_dict({**r, "skills": P._split_list(r.get("skills")),
                                         "districts": P._split_list(r.get("districts"))}))
    return out


def cand_rows(cands: pd.DataFrame) -> list[dict]:
    f = cands[P.CANDIDATE_COLUMNS].copy()
    f["last_inspected"] = f["last_inspected"].map(lambda v: None if v is None or pd.isna(v) else str(v)[:10])
    f["priority"] = f["priority"].astype(float).round(1)
    f = f.astype(object).where(pd.notna(f), None)
    return f.to_dict("records")


def cands_frame(rows: list[dict] | None) -> pd.DataFrame:
    f = pd.DataFrame(rows or [], columns=P.CANDIDATE_COLUMNS)
    for c in ("lon", "lat", "priority", "days_overdue"):
        f[c] = pd.to_numeric(f[c], errors="coerce")
    return f


def _cand_table_rows(rows: list[dict], locks: dict, lang: str) -> list[dict]:
    out = []
    for r in rows:
        out.append({**r, "source_label": label(P.SOURCES, r.get("source") or "", lang),
                    "kind_label": plan_export.kind_label(r["target_layer"], r.get("kind"), lang),
                    "grade_label": label(GRADES, r.get("grade") or "", lang), "lockto": locks.get(r["key"], "")})
    return out


def _scope(districts: list[str] | None) -> list[str] | None:
    return context.scope(districts or None)


def _user_id() -> str | None:
    u = context.current_user() or {}
    return u.get("id")


# --------------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------------

def _basemap(store, districts: list[str] | None) -> tuple[list[dict], tuple | None]:
    traces: list[dict] = []
    d = cached_read(store, "districts")
    bounds = None
    if len(d):
        if districts:
            d = d[d["code"].isin(districts)]
        if len(d):
            x, y = ring_coords(d.geometry.to_numpy())
            traces.append({"type": "scatter", "mode": "lines", "x": typed(x), "y": typed(y), "hoverinfo": "skip",
                           "line": {"color": "#8A96A8", "width": 1}, "showlegend": False, "name": "districts"})
            bounds = tuple(d.total_bounds)
    return traces, bounds


def plan_map(store, plan: P.Plan | None, cands: pd.DataFrame, objects: pd.DataFrame | None, *, lang: str,
             districts: list[str] | None) -> dict:
    """The plan on a map: district outlines, other objects (click to add), candidates, each team's route in
    its own colour with numbered stops, unassigned candidates as grey crosses, team bases as squares."""
    traces, bounds = _basemap(store, districts)
    if objects is not None and len(objects):
        o = objects[~objects["key"].isin(cands["key"])]
        traces.append({"type": "scattergl", "mode": "markers", "x": typed(o["lon"]), "y": typed(o["lat"]),
                       "marker": {"size": 4, "color": "#AAB4C3", "opacity": 0.6},
                       "name": t("plan.objects", lang), "customdata": o["key"].tolist(),
                       "text": [esc(n) for n in o["name"]], "hovertemplate": "%{text}<extra></extra>"})
    planned = set(plan.stops["key"]) if plan is not None and len(plan.stops) else set()
    c = cands[~cands["key"].isin(planned)]
    if len(c):
        traces.append({"type": "scatter", "mode": "markers", "x": typed(c["lon"]), "y": typed(c["lat"]),
                       "marker": {"size": 9, "color": [GRADES.get(g, {}).get("color", "#888") for g in c["grade"]],
                                  "symbol": "circle-open", "line": {"width": 2}},
                       "name": t("plan.candidates", lang), "customdata": c["key"].tolist(),
                       "text": [f"{esc(n)} · {esc(label(GRADES, g or '', lang))}" for n, g in zip(c["name"], c["grade"],
                                                                                                   strict=True)],
                       "hovertemplate": "%{text}<extra></extra>"})
    if plan is not None:
        colours = {tm.id: TEAM_COLOURS[i % len(TEAM_COLOURS)] for i, tm in enumerate(plan.teams)}
        for (tid, day), (lon, lat) in P.route_lines(store, plan).items():
            traces.append({"type": "scatter", "mode": "lines", "x": typed(lon), "y": typed(lat),
                           "line": {"color": colours.get(tid, "#333"), "width": 3}, "hoverinfo": "name",
                           "name": f"{tid} {day}" if len(plan.params.get("dates", [])) > 1 else tid,
                           "legendgroup": tid})
        for tid, g in plan.stops.groupby("team_id", sort=True):
            traces.append({"type": "scatter", "mode": "markers+text", "x": typed(g["lon"]), "y": typed(g["lat"]),
                           "marker": {"size": 18, "color": colours.get(tid, "#333"),
                                      "line": {"color": "#fff", "width": 1.5},
                                      "symbol": ["diamond" if lk else "circle" for lk in g["locked"]]},
                           "text": [str(s) for s in g["seq"]], "textfont": {"color": "#fff", "size": 10},
                           "customdata": g["key"].tolist(), "showlegend": False, "legendgroup": tid,
                           "hovertext": [f"{tid} #{s} {esc(n)} {_fmt_time(a)}–{_fmt_time(d)}" for s, n, a, d in
                                         zip(g["seq"], g["name"], g["arrival"], g["departure"], strict=True)],
                           "hovertemplate": "%{hovertext}<extra></extra>", "name": tid})
        if len(plan.unassigned):
            u = plan.unassigned
            traces.append({"type": "scatter", "mode": "markers", "x": typed(u["lon"]), "y": typed(u["lat"]),
                           "marker": {"size": 9, "color": "#6b7685", "symbol": "x"},
                           "name": t("plan.unassigned", lang), "customdata": u["key"].tolist(),
                           "text": [f"{esc(n)}: {esc(label(P.REASONS, r, lang))}" for n, r in
                                    zip(u["name"], u["reason"], strict=True)],
                           "hovertemplate": "%{text}<extra></extra>"})
        traces.append({"type": "scatter", "mode": "markers+text",
                       "x": [tm.lon for tm in plan.teams], "y": [tm.lat for tm in plan.teams],
                       "marker": {"size": 14, "symbol": "square", "color": [colours[tm.id] for tm in plan.teams],
                                  "line": {"color": "#000", "width": 1}},
                       "text": [tm.id for tm in plan.teams], "textposition": "top center",
                       "name": t("plan.base", lang), "hovertext": [esc(tm.name) for tm in plan.teams],
                       "hovertemplate": "%{hovertext}<extra></extra>"})
    lat0 = (bounds[1] + bounds[3]) / 2 if bounds else (float(cands["lat"].mean()) if len(cands) else 30.0)
    layout = {"template": template_dict("light"), "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
              "xaxis": {"visible": False}, "dragmode": "pan", "clickmode": "event",
              "yaxis": {"visible": False, "scaleanchor": "x", "scaleratio": 1 / math.cos(math.radians(lat0))},
              "legend": {"orientation": "h", "y": 1.0, "x": 0, "bgcolor": "rgba(255,255,255,0.7)"},
              "uirevision": "plan-map", "plot_bgcolor": "#eef2f6", "paper_bgcolor": "#eef2f6"}
    return {"data": traces, "layout": layout}


def gantt(plan: P.Plan | None, lang: str) -> dict:
    """Timeline per team (and day): travel, service, idle and break as horizontal bars."""
    layout = {"template": template_dict("light"), "barmode": "overlay", "margin": {"l": 90, "r": 10, "t": 10, "b": 30},
              "xaxis": {"type": "date", "tickformat": "%H:%M"}, "yaxis": {"autorange": "reversed"},
              "legend": {"orientation": "h", "y": 1.12}, "height": 120 + 36 * max(1, len(plan.teams) if plan else 1)}
    if plan is None or len(plan.timeline) == 0:
        return {"data": [], "layout": layout}
    tl = plan.timeline.copy()
    multi = len(plan.params.get("dates", [])) > 1
    tl["row"] = tl["team_id"] + ((" " + tl["day"].astype(str).str[5:]) if multi else "")
    if multi:  # one row per team and day: show hours of the day on a common axis
        tl["end"] = pd.to_datetime(tl["day"].astype(str)).dt.normalize().rsub(tl["end"]) + pd.Timestamp("2000-01-01")
        tl["start"] = pd.to_datetime(tl["day"].astype(str)).dt.normalize().rsub(tl["start"]) + pd.Timestamp("2000-01-01")
    traces = []
    for kind in ("travel", "service", "idle", "break"):
        g = tl[tl["kind"] == kind]
        if len(g) == 0:
            continue
        dur_ms = ((g["end"] - g["start"]).dt.total_seconds() * 1000).round().astype(int).tolist()
        traces.append({"type": "bar", "orientation": "h", "y": g["row"].tolist(), "x": dur_ms,
                       "base": [pd.Timestamp(v).isoformat() for v in g["start"]],
                       "marker": {"color": SEGMENT_COLOURS[kind]}, "name": t(f"plan.seg.{kind}", lang),
                       "text": [esc(x) if isinstance(x, str) else "" for x in g["label"]],
                       "hovertemplate": "%{text} %{base|%H:%M}<extra>" + t(f"plan.seg.{kind}", lang) + "</extra>",
                       "textposition": "inside", "insidetextanchor": "start"})
    return {"data": traces, "layout": layout}


def stop_rows(plan: P.Plan | None, lang: str) -> list[dict]:
    if plan is None:
        return []
    rows = []
    for r in plan.stops.sort_values(["team_id", "day", "seq"]).itertuples(index=False):
        rows.append({"key": r.key, "team_id": r.team_id, "day": str(r.day), "seq": int(r.seq),
                     "name": r.name, "kind": plan_export.kind_label(r.target_layer, r.kind, lang),
                     "grade": label(GRADES, r.grade or "", lang), "arrival": _fmt_time(r.arrival),
                     "departure": _fmt_time(r.departure), "locked": "🔒" if r.locked else "",
                     "status": t(f"plan.status.{r.status}", lang) if r.status in ("planned", "done") else r.status,
                     "skill": r.skill})
    return rows


def unassigned_rows(plan: P.Plan | None, lang: str) -> list[dict]:
    if plan is None:
        return []
    return [{"key": r.key, "name": r.name, "kind": plan_export.kind_label(r.target_layer, r.kind, lang),
             "grade": label(GRADES, r.grade or "", lang),
             "priority": None if pd.isna(r.priority) else round(float(r.priority), 1),
             "reason": label(P.REASONS, r.reason, lang)} for r in plan.unassigned.itertuples(index=False)]


# --------------------------------------------------------------------------------------------------
# layout
# --------------------------------------------------------------------------------------------------

def _col(key: str, lang: str, id_: str, **kw) -> dict:
    return {"name": t(key, lang), "id": id_, **kw}


_TABLE_STYLE = {"style_table": {"overflowX": "auto", "maxHeight": "320px", "overflowY": "auto"},
                "style_cell": {"fontSize": 12, "padding": "3px 6px", "textAlign": "left", "whiteSpace": "normal",
                               "height": "auto", "maxWidth": 240},
                "style_header": {"fontWeight": "bold", "background": "#eef2f6"}, "page_action": "none"}


def _district_options(store, lang: str) -> list[dict]:
    allowed = context.allowed_districts()
    d = cached_read(store, "districts", columns=["code", "name", "name_en"])
    if allowed is not None:
        d = d[d["code"].isin(allowed)]
    return [{"label": f"{(r.name_en if lang == 'en' and isinstance(r.name_en, str) and r.name_en else r.name)} "
                      f"({r.code})", "value": r.code} for r in d.itertuples(index=False)]


def layout(lang: str | None = None, **query: str) -> html.Div:
    lang = norm_lang(lang)
    try:
        store = context.store()
        district_options = _district_options(store, lang)
        plans = plan_store.list_plans(store, districts=context.allowed_districts())
    except (RiskMapError, AccessDenied) as exc:
        return html.Div([navbar(lang, "/plan", {"lang": lang, **query}), html.Div(calm_message(lang, exc),
                                                                                   className="page")])
    plan_opts = [{"label": f"{r.name} · {str(r.plan_date)[:10]} · v{r.version}", "value": r.id}
                 for r in plans.itertuples(index=False)]
    team_cols = [_col("plan.col.id", lang, "id", editable=False), _col("plan.col.name", lang, "name", editable=False),
                 _col("plan.col.skills", lang, "skills"), _col("plan.col.districts", lang, "districts"),
                 _col("plan.col.shift_start", lang, "shift_start"), _col("plan.col.shift_end", lang, "shift_end"),
                 _col("plan.col.break_start", lang, "break_start"),
                 _col("plan.col.break_minutes", lang, "break_minutes", type="numeric")]
    cand_cols = [_col("plan.col.source", lang, "source_label"), _col("plan.col.name", lang, "name"),
                 _col("plan.col.kind", lang, "kind_label"), _col("plan.col.grade", lang, "grade_label"),
                 _col("plan.col.overdue", lang, "days_overdue", type="numeric"),
                 _col("plan.col.priority", lang, "priority", type="numeric"), _col("plan.col.lockto", lang, "lockto")]
    stop_cols = [_col("plan.col.team", lang, "team_id"), _col("plan.col.day", lang, "day"),
                 _col("plan.col.seq", lang, "seq"), _col("plan.col.name", lang, "name"),
                 _col("plan.col.kind", lang, "kind"), _col("plan.col.grade", lang, "grade"),
                 _col("plan.col.arrival", lang, "arrival"), _col("plan.col.departure", lang, "departure"),
                 _col("plan.col.locked", lang, "locked"), _col("plan.col.status", lang, "status")]
    un_cols = [_col("plan.col.name", lang, "name"), _col("plan.col.kind", lang, "kind"),
               _col("plan.col.grade", lang, "grade"), _col("plan.col.priority", lang, "priority"),
               _col("plan.col.reason", lang, "reason")]
    row = {"display": "flex", "gap": "6px", "alignItems": "center", "flexWrap": "wrap", "margin": "4px 0"}
    controls = html.Div(className="panel", style={"width": "440px", "flex": "0 0 440px", "overflowY": "auto"}, children=[
        html.Label(t("plan.date", lang)),
        html.Div(style=row, children=[
            dcc.DatePickerSingle(id=Ids.DATE, date=date.today().isoformat(), display_format="YYYY-MM-DD"),
            dcc.RadioItems(id=Ids.DAYS, value=1, inline=True, options=[
                {"label": t("plan.one_day", lang), "value": 1}, {"label": t("plan.week", lang), "value": 5}]),
        ]),
        html.Label(t("plan.districts", lang)),
        dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.DISTRICTS, options=district_options, multi=True,
                     placeholder=t("plan.all_districts", lang)),
        html.Label(t("plan.teams", lang)),
        dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.TEAMS, multi=True),
        html.Details([html.Summary(t("plan.team_table", lang)),
                      dash_table.DataTable(id=Ids.TEAM_TABLE, columns=team_cols, data=[], editable=True,
                                           **_TABLE_STYLE)]),
        html.H4(t("plan.candidates", lang)),
        html.Div(style=row, children=[
            html.Button(t("plan.load", lang), id=Ids.LOAD, n_clicks=0),
            html.Span(t("plan.limit", lang)),
            dcc.Input(id=Ids.LIMIT, type="number", value=60, min=1, max=2000, style={"width": "70px"}),
        ]),
        html.Div(style=row, children=[
            html.Div(dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.ADD_PICK, placeholder=t("plan.add_pick", lang)), style={"flex": 1}),
            html.Button(t("plan.add", lang), id=Ids.ADD, n_clicks=0),
        ]),
        html.Details([html.Summary(t("plan.random", lang)), html.Div(style=row, children=[
            html.Span(t("plan.seed", lang)),
            dcc.Input(id=Ids.SEED, type="number", value=int(date.today().strftime("%Y%m%d")), style={"width": "100px"}),
            html.Span(t("plan.fraction", lang)),
            dcc.Input(id=Ids.FRACTION, type="number", value=0.05, min=0.001, max=1, step=0.01,
                      style={"width": "70px"}),
            dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.RGRADES, options=_opts(GRADES, lang), value=["low"], multi=True,
                         style={"minWidth": "160px"}),
            html.Button(t("plan.draw", lang), id=Ids.DRAW, n_clicks=0),
        ])]),
        dash_table.DataTable(id=Ids.CANDS, columns=cand_cols, data=[], row_deletable=True, sort_action="native",
                             **_TABLE_STYLE),
        html.Div(style=row, children=[html.Button(t("plan.run", lang), id=Ids.RUN, n_clicks=0,
                                                  className="primary")]),
        html.Div(id=Ids.MSG, role="status"),
    ])
    right = html.Div(style={"flex": 1, "minWidth": 0, "display": "flex", "flexDirection": "column", "gap": "8px"},
                     children=[
        html.Div(id=Ids.SUMMARY, className="panel"),
        dcc.Graph(id=Ids.MAP, figure=plan_map(store, None, cands_frame([]), None, lang=lang, districts=None),
                  style={"height": "56vh"}, config={"scrollZoom": True, "displaylogo": False}),
        html.Div(className="panel", children=[html.H4(t("plan.timeline", lang)),
                                              dcc.Graph(id=Ids.GANTT, figure=gantt(None, lang),
                                                        config={"displaylogo": False})]),
        html.Div(className="panel", children=[
            html.H4(t("plan.stops", lang)),
            html.Div(style=row, children=[
                html.Button(t("plan.lock", lang), id=Ids.LOCK, n_clicks=0),
                html.Button(t("plan.unlock", lang), id=Ids.UNLOCK, n_clicks=0),
                dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.MOVE_TEAM, placeholder=t("plan.move_team", lang), style={"minWidth": "160px"}),
                html.Button(t("plan.move", lang), id=Ids.MOVE, n_clicks=0),
                html.Button(t("plan.remove", lang), id=Ids.REMOVE, n_clicks=0),
            ]),
            dash_table.DataTable(id=Ids.STOPS, columns=stop_cols, data=[], row_selectable="multi",
                                 selected_rows=[], **_TABLE_STYLE),
            html.Div(style=row, children=[
                html.Span(t("plan.done_date", lang)),
                dcc.DatePickerSingle(id=Ids.DONE_DATE, date=date.today().isoformat(), display_format="YYYY-MM-DD"),
                dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.DONE_RESULT, options=_opts(INSPECTION_RESULTS, lang), value="pass",
                             clearable=False, style={"minWidth": "130px"}),
                html.Span(t("plan.done_hazards", lang)),
                dcc.Input(id=Ids.DONE_HAZARDS, type="number", value=0, min=0, style={"width": "60px"}),
                dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.DONE_ACTION, options=_opts(INSPECTION_ACTIONS, lang), value="none",
                             clearable=False, style={"minWidth": "130px"}),
                html.Button(t("plan.done", lang), id=Ids.DONE, n_clicks=0),
            ]),
        ]),
        html.Div(className="panel", children=[
            html.H4(t("plan.unassigned", lang)),
            dash_table.DataTable(id=Ids.UNASSIGNED, columns=un_cols, data=[], **_TABLE_STYLE),
        ]),
        html.Div(className="panel", children=[html.Div(style=row, children=[
            dcc.Input(id=Ids.SAVE_NAME, placeholder=t("plan.save_name", lang), style={"width": "180px"}),
            html.Button(t("plan.save", lang), id=Ids.SAVE, n_clicks=0),
            dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.OPEN_PICK, options=plan_opts, placeholder=t("plan.open_pick", lang),
                         style={"minWidth": "260px"}),
            html.Button(t("plan.open", lang), id=Ids.OPEN, n_clicks=0),
        ]), html.Div(style=row, children=[
            dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.EXPORT_TEAM, placeholder=t("plan.export_team", lang), style={"minWidth": "180px"}),
            html.Button(t("plan.xlsx", lang), id=Ids.XLSX, n_clicks=0),
            html.A(t("plan.sheet", lang), id=Ids.SHEET_LINK, href="", target="_blank"),
            html.Button(t("plan.csv", lang), id=Ids.CSV, n_clicks=0),
            dcc.Download(id=Ids.DOWNLOAD),
        ])]),
    ])
    return html.Div([
        navbar(lang, "/plan", {"lang": lang, **query}),
        dcc.Store(id=Ids.LANG, data=lang),
        dcc.Store(id=Ids.STATE, data={"locks": {}, "random": None}),
        dcc.Store(id=Ids.PLAN, data=None),
        html.Div(className="page", children=[
            html.H2(t("plan.heading", lang)),
            html.Div(style={"display": "flex", "gap": "12px", "alignItems": "flex-start"},
                     children=[controls, right]),
        ]),
    ])


# --------------------------------------------------------------------------------------------------
# callbacks
# --------------------------------------------------------------------------------------------------

def _msg(lang: str, key: str, extra: str = "") -> html.Div:
    return html.Div(f"{t(key, lang)}{(' ' + extra) if extra else ''}", className="muted")


@callback(Output(Ids.TEAMS, "options"), Output(Ids.TEAMS, "value"), Output(Ids.ADD_PICK, "options"),
          Input(Ids.DISTRICTS, "value"), State(Ids.LANG, "data"))
@guarded(lambda exc: ([], [], []))
def _on_districts(districts, lang):
    """Teams whose scope meets the districts (all selected by default); objects to add by name."""
    scope = _scope(districts)
    store = context.store()
    teams = [tm for tm in P.teams_from_store(store)
             if scope is None or not tm.districts or set(tm.districts) & set(scope)]
    opts = [{"label": f"{tm.id} {tm.name} · {plan_export.skills_label(tm.skills, lang)}", "value": tm.id}
            for tm in teams]
    obj = P.objects(store, districts=scope, settings=context.settings())
    add = [{"label": f"{n} ({k})", "value": k} for n, k in zip(obj["name"], obj["key"], strict=True)]
    return opts, [tm.id for tm in teams], add


@callback(Output(Ids.TEAM_TABLE, "data"), Input(Ids.TEAMS, "value"), State(Ids.TEAM_TABLE, "data"))
@guarded(lambda exc: [])
def _on_teams(team_ids, current):
    """The chosen teams' settings; edits already made to a team stay while it remains chosen."""
    ids = list(team_ids or [])
    kept = {r["id"]: r for r in (current or []) if r["id"] in ids}
    missing = [i for i in ids if i not in kept]
    fresh = {r["id"]: r for r in team_rows(P.teams_from_store(context.store(), missing))} if missing else {}
    return [kept.get(i) or fresh[i] for i in ids]


@callback(Output(Ids.CANDS, "data"), Output(Ids.STATE, "data"), Output(Ids.MSG, "children"),
          Input(Ids.LOAD, "n_clicks"), Input(Ids.ADD, "n_clicks"), Input(Ids.DRAW, "n_clicks"),
          Input(Ids.MAP, "clickData"), Input(Ids.LOCK, "n_clicks"), Input(Ids.UNLOCK, "n_clicks"),
          Input(Ids.MOVE, "n_clicks"), Input(Ids.REMOVE, "n_clicks"), Input(Ids.OPEN, "n_clicks"),
          State(Ids.DATE, "date"), State(Ids.DISTRICTS, "value"), State(Ids.LIMIT, "value"),
          State(Ids.TEAM_TABLE, "data"), State(Ids.CANDS, "data"), State(Ids.STATE, "data"),
          State(Ids.STOPS, "data"), State(Ids.STOPS, "selected_rows"), State(Ids.MOVE_TEAM, "value"),
          State(Ids.ADD_PICK, "value"), State(Ids.SEED, "value"), State(Ids.FRACTION, "value"),
          State(Ids.RGRADES, "value"), State(Ids.OPEN_PICK, "value"), State(Ids.LANG, "data"),
          prevent_initial_call=True)
@guarded(lambda exc: (no_update, no_update, calm_message("zh", exc)))
def _edit(_load, _add, _draw, click, _lock, _unlock, _move, _remove, _open, *args):
    return edit_candidates(ctx.triggered_id, click, *args)


def edit_candidates(trig, click, day, districts, limit, team_data, cand_data, state, stop_data, selected, move_team,
                    add_key, seed, fraction, rgrades, open_id, lang):
    """Every change to the candidate list and the locks (nothing is planned here); ``trig`` is the id of the
    control that fired. Returns (candidate table rows, state, message)."""
    state = dict(state or {"locks": {}, "random": None})
    locks = dict(state.get("locks") or {})
    store = context.store()
    settings = context.settings()
    scope = _scope(districts)
    as_of = P.parse_date(day) if day else date.today()
    rows = [r for r in (cand_data or [])]
    raw = [{c: r.get(c) for c in P.CANDIDATE_COLUMNS} for r in rows]
    chosen = [stop_data[i]["key"] for i in (selected or []) if i < len(stop_data or [])]
    msg = None
    if trig == Ids.LOAD:
        cands = P.candidates(store, as_of=as_of, settings=settings, districts=scope, limit=int(limit or 60))
        raw, locks, state["random"] = cand_rows(cands), {}, None
        msg = _msg(lang, "plan.msg.loaded", f"({len(raw)})")
    elif trig in (Ids.ADD, Ids.MAP):
        key = add_key if trig == Ids.ADD else ((click or {}).get("points") or [{}])[0].get("customdata")
        if not key or not isinstance(key, str) or key in {r["key"] for r in raw}:
            return no_update, no_update, no_update
        _check_in_scope(store, key, scope)
        cands = P.add_candidates(cands_frame(raw), store, [key], as_of=as_of, settings=settings)
        raw = cand_rows(cands)
        msg = _msg(lang, "plan.msg.added", key)
    elif trig == Ids.DRAW:
        teams = teams_from_rows(team_data)
        sample, record = plan_random.draw(store, teams, seed=int(seed if seed is not None else 0),
                                          fraction=float(fraction or 0.05), grades=rgrades or None,
                                          districts=scope, settings=settings)
        base = cands_frame(raw)
        cands = P.add_candidates(base[~base["key"].isin(sample["key"])], store, sample["key"].tolist(),
                                 as_of=as_of, settings=settings, source="random")
        raw = cand_rows(cands)
        locks.update({k: v for k, v in record["pairing"].items() if v})
        state["random"] = record
        msg = _msg(lang, "plan.msg.drawn", f"seed={record['seed']} · {len(sample)}/{record['population']}")
    elif trig in (Ids.LOCK, Ids.UNLOCK, Ids.MOVE, Ids.REMOVE):
        if not chosen:
            return no_update, no_update, _msg(lang, "plan.msg.select")
        by_key = {r["key"]: r for r in stop_data}
        if trig == Ids.LOCK:
            locks.update({k: by_key[k]["team_id"] for k in chosen})
            msg = _msg(lang, "plan.msg.locked")
        elif trig == Ids.UNLOCK:
            for k in chosen:
                locks.pop(k, None)
            msg = _msg(lang, "plan.msg.unlocked")
        elif trig == Ids.MOVE:
            team = next((tm for tm in teams_from_rows(team_data) if tm.id == move_team), None)
            if team is None:
                return no_update, no_update, _msg(lang, "plan.move_team")
            if any(by_key[k].get("skill") and by_key[k]["skill"] not in team.skills for k in chosen):
                return no_update, no_update, _msg(lang, "plan.msg.no_skill")
            locks.update({k: team.id for k in chosen})
            msg = _msg(lang, "plan.msg.moved")
        else:
            raw = [r for r in raw if r["key"] not in set(chosen)]
            for k in chosen:
                locks.pop(k, None)
            msg = _msg(lang, "plan.msg.removed")
    elif trig == Ids.OPEN:
        if not open_id:
            return no_update, no_update, no_update
        plan = plan_store.load_plan(store, open_id, settings=context.settings())
        _check_plan_scope(plan)
        both = pd.concat([plan.stops, plan.unassigned], ignore_index=True)
        # the objects as they are now (own opening hours, last inspection), the ranking as it was planned
        now = P.objects(store, layers=sorted(set(both["target_layer"])), settings=settings)
        now = now[now["key"].isin(both["key"])].set_index("key")
        now["last_inspected"] = P.last_inspected(store).reindex(now.index)
        both = both.drop(columns=[c for c in ("open_hours", "last_inspected") if c in both.columns])
        both = both.join(now[["open_hours", "last_inspected"]], on="key")
        raw = cand_rows(both[P.CANDIDATE_COLUMNS])
        locks = dict(plan.params.get("locks") or {})
        state["random"] = plan.params.get("random")
    state["locks"] = locks
    return _cand_table_rows(raw, locks, lang), state, msg


def _check_in_scope(store, key: str, scope: list[str] | None) -> None:
    if scope is None:
        return
    layer, _, oid = key.partition(":")
    f = store.read(layer, columns=["id", "district_code"], ids=[oid])
    if len(f) == 0 or f["district_code"].iloc[0] not in scope:
        raise AccessDenied(f"对象 {key} 不在您的辖区 (object {key} is outside your area)")


def _check_plan_scope(plan: P.Plan) -> None:
    allowed = context.allowed_districts()
    if allowed is None:
        return
    d = plan.params.get("districts")
    if not d or not set(d) <= set(allowed):
        raise AccessDenied(f"无权查看计划 {plan.id} (not allowed to view plan {plan.id})")


@callback(Output(Ids.PLAN, "data"), Output(Ids.MSG, "children", allow_duplicate=True),
          Output(Ids.OPEN_PICK, "options"),
          Input(Ids.RUN, "n_clicks"), Input(Ids.OPEN, "n_clicks"), Input(Ids.SAVE, "n_clicks"),
          Input(Ids.DONE, "n_clicks"),
          State(Ids.DATE, "date"), State(Ids.DAYS, "value"), State(Ids.DISTRICTS, "value"),
          State(Ids.TEAM_TABLE, "data"), State(Ids.CANDS, "data"), State(Ids.STATE, "data"), State(Ids.PLAN, "data"),
          State(Ids.SAVE_NAME, "value"), State(Ids.OPEN_PICK, "value"), State(Ids.STOPS, "data"),
          State(Ids.STOPS, "selected_rows"), State(Ids.DONE_DATE, "date"), State(Ids.DONE_RESULT, "value"),
          State(Ids.DONE_HAZARDS, "value"), State(Ids.DONE_ACTION, "value"), State(Ids.LANG, "data"),
          prevent_initial_call=True)
@guarded(lambda exc: (no_update, calm_message("zh", exc), no_update))
def _plan(_run, _open, _save, _done, *args):
    return plan_action(ctx.triggered_id, *args)


def plan_action(trig, day, days, districts, team_data, cand_data, state, plan_data, save_name, open_id, stop_data,
                selected, done_date, done_result, done_hazards, done_action, lang):
    """Plan, open, save, or record a completion (``trig`` says which); returns (plan JSON for the browser-side
    store, message, saved-plan options)."""
    store = context.store()
    settings = context.settings()
    if trig == Ids.RUN:
        scope = _scope(districts)
        cands = cands_frame(cand_data)
        if len(cands) == 0:
            return no_update, _msg(lang, "plan.msg.no_cands"), no_update
        start = P.parse_date(day) if day else date.today()
        dates = P.week_dates(start, int(days)) if int(days or 1) > 1 else [start]
        state = state or {}
        extra = {"as_of": start.isoformat()}
        if state.get("random"):
            extra["random"] = state["random"]
        plan = P.plan_routes(store, cands, teams_from_rows(team_data), dates=dates, settings=settings,
                             locks=state.get("locks") or {}, districts=scope, extra_params=extra)
        return plan_store.plan_to_json(plan), None, no_update
    if trig == Ids.OPEN:
        if not open_id:
            return no_update, no_update, no_update
        plan = plan_store.load_plan(store, open_id, settings=context.settings())
        _check_plan_scope(plan)
        return plan_store.plan_to_json(plan), None, no_update
    if plan_data is None:
        return no_update, _msg(lang, "plan.msg.no_plan"), no_update
    plan = plan_store.plan_from_json(plan_data)
    if trig == Ids.SAVE:
        d = plan.params.get("districts")
        _scope(d)  # a district user may save only inside their area
        if context.allowed_districts() is not None and not d:
            plan.params["districts"] = context.allowed_districts()
        pid = plan_store.save_plan(store, plan, name=save_name or "", created_by=_user_id())
        plans = plan_store.list_plans(store, districts=context.allowed_districts())
        opts = [{"label": f"{r.name} · {str(r.plan_date)[:10]} · v{r.version}", "value": r.id}
                for r in plans.itertuples(index=False)]
        opened = plan_store.load_plan(store, pid, settings=settings)
        return plan_store.plan_to_json(opened), _msg(lang, "plan.msg.saved", pid), opts
    if trig == Ids.DONE:
        if not plan.id:
            return no_update, _msg(lang, "plan.msg.save_first"), no_update
        chosen = [stop_data[i]["key"] for i in (selected or []) if i < len(stop_data or [])]
        if not chosen:
            return no_update, _msg(lang, "plan.msg.select"), no_update
        on = P.parse_date(done_date) if done_date else date.today()
        for k in chosen:
            plan_store.record_completion(store, plan.id, k, on=on, result=done_result or "pass",
                                         hazards_found=int(done_hazards or 0), action=done_action or "none")
        opened = plan_store.load_plan(store, plan.id, settings=settings)
        return plan_store.plan_to_json(opened), _msg(lang, "plan.msg.done"), no_update
    return no_update, no_update, no_update


@callback(Output(Ids.SUMMARY, "children"), Output(Ids.MAP, "figure"), Output(Ids.GANTT, "figure"),
          Output(Ids.STOPS, "data"), Output(Ids.STOPS, "selected_rows"), Output(Ids.UNASSIGNED, "data"),
          Output(Ids.EXPORT_TEAM, "options"), Output(Ids.MOVE_TEAM, "options"),
          Input(Ids.PLAN, "data"), Input(Ids.CANDS, "data"), State(Ids.DISTRICTS, "value"), State(Ids.LANG, "data"))
@guarded(lambda exc: (calm_message("zh", exc), no_update, no_update, no_update, no_update, no_update, no_update,
                      no_update))
def _render(plan_data, cand_data, districts, lang):
    store = context.store()
    scope = _scope(districts)
    plan = plan_store.plan_from_json(plan_data) if plan_data else None
    cands = cands_frame(cand_data)
    objs = P.objects(store, districts=scope, settings=context.settings())
    fig = plan_map(store, plan, cands, objs, lang=lang, districts=scope)
    if ctx.triggered_id == Ids.CANDS and plan_data is not None:
        return no_update, fig, no_update, no_update, no_update, no_update, no_update, no_update
    if plan is None:
        return "", fig, gantt(None, lang), [], [], [], [], []
    head = []
    if plan.id:
        head.append(html.Div(f"{plan.name} · {plan.id} · v{plan.version} · {plan.created_by or ''} "
                             f"{plan.created_at or ''}", className="muted"))
    dates = ", ".join(plan.params.get("dates", []))
    head.append(html.Div(dates, className="muted"))
    if plan.params.get("random"):
        r = plan.params["random"]
        head.append(html.Div(f"{t('plan.random', lang)}: seed={r['seed']} · {len(r['drawn'])}/{r['population']}",
                             className="muted"))
    head += [html.Div(line) for line in P.summary_lines(plan, lang)]
    team_opts = [{"label": f"{tm.id} {tm.name}", "value": tm.id} for tm in plan.teams]
    return (head, fig, gantt(plan, lang), stop_rows(plan, lang), [], unassigned_rows(plan, lang), team_opts,
            team_opts)


@callback(Output(Ids.SHEET_LINK, "href"), Input(Ids.PLAN, "data"), Input(Ids.EXPORT_TEAM, "value"),
          State(Ids.LANG, "data"))
def _sheet_link(plan_data, team, lang):
    if not plan_data or not plan_data.get("id") or not team:
        return ""
    return f"/plan/sheet?plan={plan_data['id']}&team={team}&lang={lang}"


@callback(Output(Ids.DOWNLOAD, "data"), Output(Ids.MSG, "children", allow_duplicate=True),
          Input(Ids.XLSX, "n_clicks"), Input(Ids.CSV, "n_clicks"),
          State(Ids.PLAN, "data"), State(Ids.EXPORT_TEAM, "value"), State(Ids.LANG, "data"), prevent_initial_call=True)
@guarded(lambda exc: (no_update, calm_message("zh", exc)))
def _export(_x, _c, plan_data, team, lang):
    if not plan_data:
        return no_update, _msg(lang, "plan.msg.no_plan")
    plan = plan_store.plan_from_json(plan_data)
    stem = plan.id or "plan"
    with tempfile.TemporaryDirectory() as tmp:
        if ctx.triggered_id == Ids.XLSX:
            if not team:
                return no_update, _msg(lang, "plan.export_team")
            path = plan_export.write_route_sheet_xlsx(plan, team, Path(tmp) / f"{stem}-{team}.xlsx", lang=lang)
        else:
            path = plan_export.write_plan_csv(plan, Path(tmp) / f"{stem}.csv", lang=lang)
        data = path.read_bytes()
    return dcc.send_bytes(io.BytesIO(data).getvalue(), path.name), None


# --------------------------------------------------------------------------------------------------
# the printable route sheet: /plan/sheet?plan=ID&team=T
# --------------------------------------------------------------------------------------------------

def sheet_layout(plan: str | None = None, team: str | None = None, lang: str | None = None, **_q: str) -> html.Div:
    lang = norm_lang(lang)
    if not plan or not team:
        return html.Div(calm_message(lang, RiskMapError(t("plan.sheet.missing", lang))), className="page")
    try:
        store = context.store()
        p = plan_store.load_plan(store, plan, settings=context.settings())
        _check_plan_scope(p)
    except (RiskMapError, AccessDenied) as exc:
        return html.Div(calm_message(lang, exc), className="page")
    sheet = p.stops[p.stops["team_id"] == team].sort_values(["day", "seq"])
    sub = P.Plan(stops=sheet, unassigned=p.unassigned.iloc[0:0], timeline=p.timeline, params=p.params,
                 summary=p.summary, teams=[tm for tm in p.teams if tm.id == team])
    fig = plan_map(store, sub, sheet, None, lang=lang, districts=None)
    fig["layout"]["showlegend"] = False
    if len(sheet):
        pad = 0.01
        fig["layout"]["xaxis"]["range"] = [float(min(sheet["lon"].min(), *(tm.lon for tm in sub.teams))) - pad,
                                           float(max(sheet["lon"].max(), *(tm.lon for tm in sub.teams))) + pad]
        fig["layout"]["yaxis"]["range"] = [float(min(sheet["lat"].min(), *(tm.lat for tm in sub.teams))) - pad,
                                           float(max(sheet["lat"].max(), *(tm.lat for tm in sub.teams))) + pad]
    td = {"border": "1px solid #333", "padding": "4px 6px", "verticalAlign": "top", "fontSize": "12px"}
    head_cells = [t(k, lang) for k in ("plan.col.seq", "plan.col.day", "plan.col.arrival", "plan.col.departure",
                                       "plan.col.name", "plan.sheet.address", "plan.sheet.check",
                                       "plan.sheet.result")]
    body = []
    for r in sheet.itertuples(index=False):
        body.append(html.Tr([html.Td(str(r.seq), style=td), html.Td(str(r.day), style=td),
                             html.Td(_fmt_time(r.arrival), style=td), html.Td(_fmt_time(r.departure), style=td),
                             html.Td([html.B(str(r.name or "")), html.Br(),
                                      html.Span(f"{plan_export.kind_label(r.target_layer, r.kind, lang)} · "
                                                f"{label(GRADES, r.grade or '', lang)} · {r.target_id}")], style=td),
                             html.Td(str(r.address or ""), style=td),
                             html.Td(plan_export.check_text(r.skill, lang), style=td),
                             html.Td("", style={**td, "width": "18%", "height": "42px"})]))
    team_spec = sub.teams[0] if sub.teams else None
    title = f"{t('plan.sheet.title', lang)} · {team} {team_spec.name if team_spec else ''}"
    skills = plan_export.skills_label(team_spec.skills, lang) if team_spec else ""
    sign = {"borderBottom": "1px solid #333", "minWidth": "180px", "display": "inline-block", "height": "28px"}
    return html.Div(className="route-sheet", style={"background": "#fff", "color": "#000", "padding": "16px",
                                                    "maxWidth": "1100px", "margin": "0 auto"}, children=[
        html.Div(className="no-print", style={"textAlign": "right"},
                 children=html.Button(t("plan.sheet.print", lang), id=Ids.PRINT, n_clicks=0)),
        html.H2(title, style={"margin": "4px 0"}),
        html.Div(f"{p.name or ''} · {p.id} · v{p.version} · {', '.join(p.params.get('dates', []))} · "
                 f"{team_spec.shift_start if team_spec else ''}–{team_spec.shift_end if team_spec else ''} · {skills}"),
        dcc.Graph(figure=fig, config={"staticPlot": True}, style={"height": "360px", "margin": "8px 0"}),
        html.Table([html.Thead(html.Tr([html.Th(h, style={**td, "background": "#eee"}) for h in head_cells])),
                    html.Tbody(body)], style={"borderCollapse": "collapse", "width": "100%"}),
        html.Div(style={"marginTop": "28px", "display": "flex", "gap": "40px", "flexWrap": "wrap"}, children=[
            html.Div([html.Span(t("plan.sheet.sign", lang) + ": "), html.Span(style={**sign, "minWidth": "300px"})]),
            html.Div([html.Span(t("plan.sheet.leader", lang) + ": "), html.Span(style=sign)]),
            html.Div([html.Span(t("plan.sheet.date", lang) + ": "), html.Span(style=sign)]),
        ]),
    ])


dash.register_page("dashboard.pages.plan_sheet", path="/plan/sheet", title="检查路线单", layout=sheet_layout)

clientside_callback("function(n) { if (n) { window.print(); } return ''; }",
                    Output(Ids.PRINT, "title"), Input(Ids.PRINT, "n_clicks"), prevent_initial_call=True)
