"""The planner page's layout (``/plan``) and the printable route sheet (``/plan/sheet?plan=ID&team=T``)."""

from __future__ import annotations

from datetime import date

from dash import dcc, html

from dashboard import context
from dashboard.components.dates import date_picker
from dashboard.components.errors import calm_message, denied_page
from dashboard.components.grid import grid
from dashboard.components.mapfig import graph_config
from dashboard.components.nav import navbar
from dashboard.i18n import dropdown_labels, norm_lang, t
from dashboard.planner.access import check_plan_scope
from dashboard.planner.figures import gantt, plan_map
from dashboard.planner.ids import Ids
from dashboard.planner.tables import (
    cand_columns,
    cands_frame,
    fmt_time,
    saved_plan_options,
    stop_columns,
    team_columns,
    unassigned_columns,
)
from layers.errors import AccessDenied, RiskMapError
from layers.planning import routes as P
from layers.planning import saved as plan_store
from layers.planning import sheets as plan_export
from layers.schema import GRADES, INSPECTION_ACTIONS, INSPECTION_RESULTS, label
from layers.store import cached_read

TABLE_HEIGHT = "320px"


def _opts(mapping: dict, lang: str) -> list[dict]:
    return [{"label": label(mapping, k, lang), "value": k} for k in mapping]


def _district_options(store, lang: str) -> list[dict]:
    allowed = context.allowed_districts()
    d = cached_read(store, "districts", columns=["code", "name", "name_en"])
    if allowed is not None:
        d = d[d["code"].isin(allowed)]
    return [{"label": f"{(r.name_en if lang == 'en' and isinstance(r.name_en, str) and r.name_en else r.name)} "
                      f"({r.code})", "value": r.code} for r in d.itertuples(index=False)]


@context.checked("read", denied=denied_page)
def plan_layout(lang: str | None = None, **query: str) -> html.Div:
    """The planner page: controls on the left; summary, map, timeline, stops and saving on the right."""
    lang = norm_lang(lang)
    try:
        store = context.store()
        district_options = _district_options(store, lang)
        plans = plan_store.list_plans(store, districts=context.allowed_districts())
    except (RiskMapError, AccessDenied) as exc:
        return html.Div([navbar(lang, "/plan", {"lang": lang, **query}), html.Div(calm_message(lang, exc),
                                                                                   className="page")])
    row = {"display": "flex", "gap": "6px", "alignItems": "center", "flexWrap": "wrap", "margin": "4px 0"}
    controls = html.Div(className="panel", style={"width": "440px", "flex": "0 0 440px", "overflowY": "auto"}, children=[
        html.Label(t("plan.date", lang)),
        html.Div(style=row, children=[
            date_picker(lang=lang, id=Ids.DATE, date=date.today().isoformat()),
            dcc.RadioItems(id=Ids.DAYS, value=1, inline=True, options=[
                {"label": t("plan.one_day", lang), "value": 1}, {"label": t("plan.week", lang), "value": 5}]),
        ]),
        html.Label(t("plan.districts", lang)),
        dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.DISTRICTS, options=district_options, multi=True,
                     placeholder=t("plan.all_districts", lang)),
        html.Label(t("plan.teams", lang)),
        dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.TEAMS, multi=True),
        html.Details([html.Summary(t("plan.team_table", lang)),
                      grid(Ids.TEAM_TABLE, [], team_columns(lang), lang, height="220px", row_id="id",
                           grid_options={"singleClickEdit": True, "stopEditingWhenCellsLoseFocus": True})]),
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
        grid(Ids.CANDS, [], cand_columns(lang), lang, height=TABLE_HEIGHT, selection="multi", row_id="key"),
        html.Div(style=row, children=[html.Button(t("plan.delete_selected", lang), id=Ids.CANDS_DELETE,
                                                  n_clicks=0)]),
        html.Div(style=row, children=[html.Button(t("plan.run", lang), id=Ids.RUN, n_clicks=0,
                                                  className="primary")]),
        html.Div(id=Ids.MSG, role="status"),
    ])
    right = html.Div(style={"flex": 1, "minWidth": 0, "display": "flex", "flexDirection": "column", "gap": "8px"},
                     children=[
        html.Div(id=Ids.SUMMARY, className="panel"),
        dcc.Graph(id=Ids.MAP, figure=plan_map(store, None, cands_frame([]), None, lang=lang, districts=None),
                  style={"height": "56vh"}, config=graph_config(scrollZoom=True)),
        html.Div(className="panel", children=[html.H4(t("plan.timeline", lang)),
                                              dcc.Graph(id=Ids.GANTT, figure=gantt(None, lang),
                                                        config=graph_config())]),
        html.Div(className="panel", children=[
            html.H4(t("plan.stops", lang)),
            html.Div(style=row, children=[
                html.Button(t("plan.lock", lang), id=Ids.LOCK, n_clicks=0),
                html.Button(t("plan.unlock", lang), id=Ids.UNLOCK, n_clicks=0),
                dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.MOVE_TEAM, placeholder=t("plan.move_team", lang), style={"minWidth": "160px"}),
                html.Button(t("plan.move", lang), id=Ids.MOVE, n_clicks=0),
                html.Button(t("plan.remove", lang), id=Ids.REMOVE, n_clicks=0),
            ]),
            html.Div(t("plan.lock_hint", lang), id=Ids.LOCK_HINT, className="muted"),
            grid(Ids.STOPS, [], stop_columns(lang), lang, height=TABLE_HEIGHT, selection="multi", selectedRows=[]),
            html.Div(style=row, children=[
                html.Span(t("plan.done_date", lang)),
                date_picker(lang=lang, id=Ids.DONE_DATE, date=date.today().isoformat()),
                dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.DONE_RESULT, options=_opts(INSPECTION_RESULTS, lang), value="pass",
                             clearable=False, style={"minWidth": "130px"}),
                html.Span(t("plan.done_hazards", lang)),
                dcc.Input(id=Ids.DONE_HAZARDS, type="number", value=0, min=0, style={"width": "60px"}),
                dcc.Textarea(id=Ids.DONE_LINES, placeholder=t("plan.done_lines", lang), value="",
                             style={"width": "340px", "height": "3.2em"}),
                dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.DONE_ACTION, options=_opts(INSPECTION_ACTIONS, lang), value="none",
                             clearable=False, style={"minWidth": "130px"}),
                html.Button(t("plan.done", lang), id=Ids.DONE, n_clicks=0),
            ]),
        ]),
        html.Div(className="panel", children=[
            html.H4(t("plan.unassigned", lang)),
            grid(Ids.UNASSIGNED, [], unassigned_columns(lang), lang, height=TABLE_HEIGHT),
        ]),
        html.Div(className="panel", children=[html.Div(style=row, children=[
            dcc.Input(id=Ids.SAVE_NAME, placeholder=t("plan.save_name", lang), style={"width": "180px"}),
            html.Button(t("plan.save", lang), id=Ids.SAVE, n_clicks=0),
            dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.OPEN_PICK, options=saved_plan_options(plans), placeholder=t("plan.open_pick", lang),
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
        dcc.Store(id=Ids.RESTORE, data=None),   # the teams of a plan being opened, until the team list is rebuilt
        dcc.Store(id=Ids.PLAN, data=None),
        html.Div(className="page", children=[
            html.H2(t("plan.heading", lang)),
            html.Div(style={"display": "flex", "gap": "12px", "alignItems": "flex-start"},
                     children=[controls, right]),
        ]),
    ])


def plan_summary(plan: P.Plan, lang: str) -> list[html.Div]:
    """The lines above the map: name, id, version and author of a saved plan, its dates, the random draw, and
    what the plan serves."""
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
    sm = plan.summary
    mode = {"roads": t("plan.sum.roads", lang), "straight": t("plan.sum.straight", lang)}.get(
        sm.get("travel_mode"), str(sm.get("travel_mode") or ""))
    head.append(html.Div(t("plan.sum.line", lang).format(stops=sm.get("stops", 0), served=sm.get("priority_served", 0),
                                                          total=sm.get("priority_total", 0), mode=mode)))
    head.append(summary_table(plan, lang))
    released = plan.params.get("order_released") or []
    if released:
        names = dict(zip(plan.stops["key"], plan.stops["name"], strict=True)) if len(plan.stops) else {}
        head.append(html.Div(t("plan.sum.order_released", lang) + "、".join(str(names.get(k, k)) for k in released),
                             className="muted"))
    if sm.get("unassigned"):
        head.append(html.Div(t("plan.sum.unassigned", lang).format(n=sm["unassigned"]) + "；".join(
            f"{label(P.REASONS, r, lang)} {n}" for r, n in sm.get("unassigned_by_reason", {}).items()),
            className="muted"))
    return head


def summary_table(plan: P.Plan, lang: str) -> html.Table:
    """One row per team (stops, priority served, minutes of travel, inspection and idle time) and the totals."""
    keys = ("stops", "priority", "travel_min", "service_min", "idle_min")
    rows, total = [], dict.fromkeys(keys, 0)
    for tid, v in (plan.summary.get("teams") or {}).items():
        rows.append(html.Tr([html.Td(f"{tid} {v.get('name') or ''}"), *[html.Td(_num(v.get(k))) for k in keys]]))
        for k in keys:
            total[k] += v.get(k) or 0
    rows.append(html.Tr([html.Th(t("plan.sum.total", lang)), *[html.Th(_num(total[k])) for k in keys]],
                        className="total"))
    head = html.Tr([html.Th(t("plan.col.team", lang)), *[html.Th(t(f"plan.sum.{k}", lang)) for k in keys]])
    return html.Table([html.Thead(head), html.Tbody(rows)], className="mini-table plan-summary-table",
                      id="plan-summary-table")


def _num(v: object) -> str:
    if v is None:
        return "—"
    f = float(v)
    return f"{f:,.0f}" if f.is_integer() else f"{f:,.1f}"


@context.checked("read", denied=denied_page)
def sheet_layout(plan: str | None = None, team: str | None = None, lang: str | None = None, **_q: str) -> html.Div:
    """One team's route in a saved plan as a printable page: a map, the stops in order, room to sign."""
    lang = norm_lang(lang)
    if not plan or not team:
        return html.Div(calm_message(lang, RiskMapError(t("plan.sheet.missing", lang))), className="page")
    try:
        store = context.store()
        p = plan_store.load_plan(store, plan, settings=context.settings())
        check_plan_scope(p)
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
                             html.Td(fmt_time(r.arrival), style=td), html.Td(fmt_time(r.departure), style=td),
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
        dcc.Graph(figure=fig, config=graph_config(staticPlot=True), style={"height": "360px", "margin": "8px 0"}),
        html.Table([html.Thead(html.Tr([html.Th(h, style={**td, "background": "#eee"}) for h in head_cells])),
                    html.Tbody(body)], style={"borderCollapse": "collapse", "width": "100%"}),
        html.Div(style={"marginTop": "28px", "display": "flex", "gap": "40px", "flexWrap": "wrap"}, children=[
            html.Div([html.Span(t("plan.sheet.sign", lang) + ": "), html.Span(style={**sign, "minWidth": "300px"})]),
            html.Div([html.Span(t("plan.sheet.leader", lang) + ": "), html.Span(style=sign)]),
            html.Div([html.Span(t("plan.sheet.date", lang) + ": "), html.Span(style=sign)]),
        ]),
    ])
