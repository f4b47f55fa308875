"""The hazard ledger (``/hazards``, 隐患台账): every hazard of the user's area in a server-side grid, with
filters kept in the URL, a map of the same selection, and the escalation and major-hazard lists.

The grid uses AG Grid's infinite row model: it asks for a block of rows (``getRowsRequest``) and a callback
answers with ``getRowsResponse`` from ``layers.ledger.query.query_ledger``, reading the filters from the URL
(validated by ``LedgerQuery.from_url``) and the user's area from the session. A filter change writes the URL;
the page is built again from it (links, reload and the back button work). Clicking a row opens the hazard;
its object's name opens the object page.
"""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import context
from dashboard.components.errors import calm_message, denied_page, guarded
from dashboard.components.mapfig import graph_config
from dashboard.components.nav import navbar
from dashboard.i18n import norm_lang, t
from dashboard.ledger import actions, routes
from dashboard.ledger import layout as L
from dashboard.ledger.ids import HazardsIds as Ids
from layers.errors import AccessDenied, RiskMapError

dash.register_page(__name__, path="/hazards", title="隐患台账")

FILTERS = (Ids.DISTRICT, Ids.TOWN, Ids.INDUSTRY, Ids.LAYER, Ids.LEVEL, Ids.STATUS, Ids.BUCKET, Ids.MISSING)


@context.checked("read", denied=denied_page)
def layout(lang: str | None = None, **query: str) -> html.Div:
    lang = norm_lang(lang)
    head = navbar(lang, "/hazards", {"lang": lang, **query})
    try:
        v = actions.hazards_view(query, lang)
    except (RiskMapError, AccessDenied) as exc:
        return html.Div([head, html.Div(calm_message(lang, exc), className="page")])
    q = v["query"]
    export = routes.LEDGER_EXPORT + "?" + "&".join(x for x in (q.to_url(), f"lang={lang}" if lang != "zh" else "")
                                                   if x)
    totals = v["list_totals"]
    ledger_tab = html.Div(className="ledger-split", children=[
        html.Div(L.ledger_grid(lang, q.page_size), className="ledger-table"),
        html.Div(dcc.Graph(id=Ids.MAP, figure=v["figure"], config=graph_config(scrollZoom=True),
                           style={"height": "560px"}), className="ledger-map"),
    ])
    return html.Div([
        head,
        dcc.Store(id=Ids.LANG, data=lang),
        html.Div(className="page ledger-page", children=[
            html.Div(className="ledger-head", children=[
                html.H2(t("hz.heading", lang)),
                html.Span(t("hz.count", lang).format(n=f"{v['count']:,}"), id=Ids.COUNT, className="ledger-count"),
                html.Span(t("hz.as_of", lang).format(d=actions.as_of().isoformat()), className="muted"),
                html.A(t("hz.export", lang), href=export, id=Ids.EXPORT, className="button-link"),
            ]),
            L.filter_controls(q, lang, districts=v["districts"], towns=v["towns"], departments=v["departments"]),
            dcc.Tabs(id=Ids.TABS, value="ledger", children=[
                dcc.Tab(label=t("hz.tab.ledger", lang), value="ledger", children=[ledger_tab]),
                dcc.Tab(label=f"{t('hz.tab.esc_district', lang)} ({totals['esc_district']})", value="esc_district",
                        children=[L.list_grid(Ids.ESC_DISTRICT, v["esc_district"], L.escalation_columns(lang),
                                              lang)]),
                dcc.Tab(label=f"{t('hz.tab.esc_city', lang)} ({totals['esc_city']})", value="esc_city",
                        children=[L.list_grid(Ids.ESC_CITY, v["esc_city"], L.escalation_columns(lang), lang)]),
                dcc.Tab(label=f"{t('hz.tab.major', lang)} ({totals['major']})", value="major",
                        children=[L.list_grid(Ids.MAJOR, v["major"], L.major_columns(lang), lang)]),
            ]),
        ]),
    ])


@callback(Output(Ids.GRID, "getRowsResponse"), Input(Ids.GRID, "getRowsRequest"), State("url", "search"),
          State(Ids.LANG, "data"))
@guarded(lambda exc: {"rowData": [], "rowCount": 0})
@context.checked("read")
def rows(request, search, lang):
    """A block of ledger rows for the grid (filters from the URL, area from the session)."""
    if not request:
        return no_update
    return actions.page_rows(request, search, lang)


@callback(Output("url", "search", allow_duplicate=True),
          *[Input(i, "value") for i in FILTERS], Input(Ids.FOUND, "start_date"), Input(Ids.FOUND, "end_date"),
          Input(Ids.DEPARTMENT, "value"), Input(Ids.TEXT, "value"), State("url", "search"),
          prevent_initial_call=True)
@guarded(lambda exc: no_update)
@context.checked("read")
def on_filters(district, town, industry, layer, level, status, bucket, missing, found_from, found_to, department,
               text, search):
    """The filters into the URL (the page is built again from it)."""
    new = actions.filters_search((district, town, industry, layer, level, status, bucket, missing, found_from,
                                  found_to, department, text), search)
    return no_update if new is None else new


@callback(Output("url", "search", allow_duplicate=True), Input(Ids.RESET, "n_clicks"), State("url", "search"),
          prevent_initial_call=True)
@context.checked("read")
def on_reset(n, search):
    return actions.reset_search(search) if n else no_update


@callback(Output("url", "href", allow_duplicate=True), Input(Ids.GRID, "cellClicked"), State(Ids.LANG, "data"),
          prevent_initial_call=True)
@context.checked("read")
def on_cell(cell, lang):
    """A click on a row opens its hazard (the page checks the user's area again)."""
    href = actions.cell_target(cell, lang)
    return no_update if href is None else href
