"""Accountability (``/accountability``, 照单监管、失职追责): the league table per department or per district
(hazards open, overdue, closed in time, repeat offenders, orders issued), the officers overdue hazards are
charged to, and the departments' responsibility lists; CSV/XLSX exports (formula-safe). Narrowed to the
user's area on the server (``layers.ledger.accountability.league_for``).
"""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import context
from dashboard.components.errors import calm_message, denied_page, guarded
from dashboard.components.nav import navbar
from dashboard.i18n import norm_lang, t
from dashboard.ledger import layout as L
from dashboard.ledger import routes
from dashboard.ledger.ids import AccountIds as Ids
from layers.ledger import accountability

dash.register_page(__name__, path="/accountability", title="责任追究")


@context.checked("read", denied=denied_page)
def layout(lang: str | None = None, **query: str) -> html.Div:
    lang = norm_lang(lang)
    return html.Div([
        navbar(lang, "/accountability", {"lang": lang, **query}),
        dcc.Store(id=Ids.LANG, data=lang),
        html.Div(className="page", children=[
            html.H2(t("acc.heading", lang)),
            html.Div(className="panel", style={"display": "flex", "gap": "10px", "alignItems": "center"}, children=[
                html.Label(t("acc.by", lang)),
                dcc.RadioItems(id=Ids.BY, value="department", inline=True, options=[
                    {"label": t("acc.by.department", lang), "value": "department"},
                    {"label": t("acc.by.district", lang), "value": "district"}]),
                html.Span(id=Ids.LINKS),
            ]),
            html.H3(t("acc.league", lang)), html.Div(id=Ids.LEAGUE),
            html.H3(t("acc.charged", lang)), html.Div(id=Ids.CHARGED),
            html.H3(t("acc.duties", lang)), html.Div(id=Ids.DUTIES),
        ]),
    ])


def accountability_view(by: str | None, lang: str) -> tuple:
    lang = norm_lang(lang)
    by = "district" if by == "district" else "department"
    sheets = routes.league_sheets(by, lang)
    duties = accountability.duties(context.store())
    i = 1 if lang == "en" else 0
    suffix = "_en" if lang == "en" else "_zh"
    labels = {"department_id": ("部门编号", "Department"), "department_name": ("监管部门", "Department name"),
              "layer" + suffix: ("对象图层", "Object layer"), "industry" + suffix: ("行业", "Industry"),
              "duty": ("职责", "Duty")}
    cols = [c for c in labels if c in duties.columns]
    shown = duties[cols].copy()
    if lang == "en" and "department_name_en" in duties.columns:
        shown["department_name"] = duties["department_name_en"].where(duties["department_name_en"].notna(),
                                                                      duties["department_name"])
    shown.columns = [labels[c][i] for c in cols]
    q = f"?by={by}" + (f"&lang={lang}" if lang != "zh" else "")
    links = [html.A(t("acc.csv", lang), href=routes.ACCOUNT_EXPORT.replace("<fmt>", "csv") + q,
                    className="button-link", id="acc-csv"),
             html.A(t("acc.xlsx", lang), href=routes.ACCOUNT_EXPORT.replace("<fmt>", "xlsx") + q,
                    className="button-link", id="acc-xlsx")]
    return (L.frame_grid("acc-league-grid", sheets["league"], lang),
            L.frame_grid("acc-charged-grid", sheets["charged"], lang),
            L.frame_grid("acc-duties-grid", shown, lang), links)


@callback(Output(Ids.LEAGUE, "children"), Output(Ids.CHARGED, "children"), Output(Ids.DUTIES, "children"),
          Output(Ids.LINKS, "children"), Input(Ids.BY, "value"), State(Ids.LANG, "data"))
@guarded(lambda exc: (calm_message("zh", exc), no_update, no_update, no_update))
@context.checked("read")
def render(by, lang):
    return accountability_view(by, lang)
