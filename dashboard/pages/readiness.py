"""Emergency readiness (``/readiness``, 应急准备): a sibling of ``/coverage`` for the fourth kind of gap.

Summary cards (objects by class, reach gaps, plan gaps, drill gaps, supply shortfalls, share ready), the figures
per district and per town, the lists (reach gaps, plans and drills, flood-point supplies short, district stock
against need), a MapLibre map (the objects with a gap by kind of gap, the resources by kind, the suggested places),
"suggest k more <kind>" (greedy or exact siting over road travel time) and an XLSX export of the user's area.

Callbacks are thin adapters over ``layers.analysis.readiness`` (``compute_cached`` then ``for_access``): what a user
may see is decided on the server from the session (``dashboard.readiness.view``), never from the inputs; a
district leader asking for another district gets the calm refusal and nothing else. The city's readiness is
cached per (data version, date, settings), so the page computes in the callback with a loading indicator.
"""

from __future__ import annotations

import tempfile
from enum import StrEnum
from pathlib import Path

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import context
from dashboard.components.dates import date_picker
from dashboard.components.errors import calm_message, denied_page, guarded
from dashboard.components.grid import col, grid
from dashboard.components.mapfig import graph_config
from dashboard.components.nav import navbar
from dashboard.components.theme import template_dict
from dashboard.i18n import dropdown_labels, norm_lang, t
from dashboard.readiness import figure, tables, view
from layers.errors import AccessDenied, RiskMapError
from layers.schema import RESOURCE_KINDS, label
from layers.store import cached_read

dash.register_page(__name__, path="/readiness", title="应急准备")

PAGE_SIZE = 15
DEFAULT_KIND = "fire_station"


class Ids(StrEnum):
    LANG = "rd-lang"
    AS_OF = "rd-as-of"
    DISTRICTS = "rd-districts"
    KIND = "rd-kind"
    K = "rd-k"
    METHOD = "rd-method"
    SUMMARY = "rd-summary"
    NOTE = "rd-note"
    MAP = "rd-map"
    BY_DISTRICT = "rd-by-district"
    BY_TOWN = "rd-by-town"
    REACH = "rd-reach"
    PLAN = "rd-plan"
    SUPPLY = "rd-supply"
    STOCK = "rd-stock"
    SUGGESTED = "rd-suggested"
    EXPORT = "rd-export"
    DOWNLOAD = "rd-download"


# --------------------------------------------------------------------------------------------------
# what one request shows
# --------------------------------------------------------------------------------------------------

def _kind(kind: str | None) -> str:
    return kind if kind in RESOURCE_KINDS else DEFAULT_KIND


def _view(as_of, districts, kind, k, method, lang):
    """The narrowed result, the suggested places inside the area, why fewer, and the districts in view."""
    result = view.result_for_user(as_of, districts)
    scope = context.scope(districts or None)
    towns = context.allowed_towns()
    shown, fewer = view.suggest(result, _kind(kind), k, method, districts=None if scope is None else set(scope),
                                towns=None if towns is None else set(towns), lang=lang)
    return result, scope, shown, fewer


def _note(result, fewer: str | None, lang: str) -> list:
    out = [html.Span(t("rd.reach_road" if result.info.get("method") == "road" else "rd.reach_straight", lang))]
    data_day = view.data_as_of()
    if result.as_of > data_day:
        out.append(html.Span(" · " + t("rd.after_data", lang).format(d=data_day.isoformat()),
                             style={"color": "#b35900"}, id="rd-after-data"))
    if context.allowed_towns() is not None:
        out.append(html.Span(" · " + t("rd.town_view", lang)))
    if fewer:
        out.append(html.Span(" · " + fewer, className="rd-fewer", style={"color": "#b35900"}))
    out += [html.Span(" · " + s) for s in tables.shown_note(result, lang)]
    return out


# --------------------------------------------------------------------------------------------------
# layout
# --------------------------------------------------------------------------------------------------

def _district_options(lang: str) -> list[dict]:
    allowed = context.allowed_districts()
    d = cached_read(context.store(), "districts", columns=["code", "name", "name_en"])
    if allowed is not None:
        d = d[d["code"].isin(allowed)]
    return [{"label": f"{(r.name_en if lang == 'en' and isinstance(r.name_en, str) and r.name_en else r.name)} "
                      f"({r.code})", "value": r.code} for r in d.itertuples(index=False)]


#: wider columns (the rest share what is left)
_WIDE = {"reason": 360, "object": 170, "point": 150, "road": 150, "nearest": 130}


def _table(tid: str, lang: str, *pairs: tuple[str, str]):
    """One of the page's lists: an AG Grid of ``(text key, field)`` columns, sortable, 15 rows a page."""
    cols = [col(key, field, lang, minWidth=_WIDE[field], flex=3 if field == "reason" else 1) if field in _WIDE
            else col(key, field, lang, flex=1) for key, field in pairs]
    return grid(tid, [], cols, lang, page_size=PAGE_SIZE, columnSize=None)


AREA_COLS = (("rd.col.code", "code"), ("rd.col.name", "name"), ("rd.col.objects", "objects"),
             ("rd.col.reach_gaps", "reach_gaps"), ("rd.col.objects_reach_gap", "objects_reach_gap"),
             ("rd.col.plan_gaps", "plan_gaps"), ("rd.col.drill_gaps", "drill_gaps"),
             ("rd.col.supply_short", "supply_short"), ("rd.col.share_ready", "share_ready"))


@context.checked("read", denied=denied_page)
def layout(lang: str | None = None, as_of: str | None = None, **query: str) -> html.Div:
    lang = norm_lang(lang)
    try:
        options = _district_options(lang)
        day = view.parse_date(as_of).isoformat()
    except (RiskMapError, AccessDenied) as exc:
        return html.Div([navbar(lang, "/readiness", {"lang": lang, **query}),
                         html.Div(calm_message(lang, exc), className="page")])
    row = {"display": "flex", "gap": "10px", "alignItems": "center", "flexWrap": "wrap", "margin": "4px 0"}
    tabs = dcc.Tabs(id="rd-tabs", value="reach", children=[
        dcc.Tab(label=t("rd.tab.reach", lang), value="reach", children=[_table(
            Ids.REACH, lang, ("rd.col.object", "object"), ("rd.col.class", "class"), ("rd.col.district", "district"),
            ("rd.col.kind_needed", "kind"), ("rd.col.nearest", "nearest"), ("rd.col.minutes", "minutes"),
            ("rd.col.target", "target"), ("rd.col.reason", "reason"))]),
        dcc.Tab(label=t("rd.tab.plan", lang), value="plan", children=[_table(
            Ids.PLAN, lang, ("rd.col.object", "object"), ("rd.col.class", "class"), ("rd.col.district", "district"),
            ("rd.col.gap", "gap"), ("rd.col.reason", "reason"), ("rd.col.last_drill", "last_drill"),
            ("rd.col.overdue", "overdue"))]),
        dcc.Tab(label=t("rd.tab.supply", lang), value="supply", children=[_table(
            Ids.SUPPLY, lang, ("rd.col.point", "point"), ("rd.col.severity", "severity"),
            ("rd.col.district", "district"), ("rd.col.kind", "kind"), ("rd.col.need", "need"),
            ("rd.col.have", "have"), ("rd.col.short", "short"), ("rd.col.reason", "reason"))]),
        dcc.Tab(label=t("rd.tab.stock", lang), value="stock", children=[_table(
            Ids.STOCK, lang, ("rd.col.district", "district"), ("rd.col.kind", "kind"), ("rd.col.points", "points"),
            ("rd.col.need", "need"), ("rd.col.stock", "stock"), ("rd.col.oos", "oos"), ("rd.col.short", "short"),
            ("rd.col.reason", "reason"))]),
        dcc.Tab(label=t("rd.tab.district", lang), value="district", children=[_table(
            Ids.BY_DISTRICT, lang, *AREA_COLS, ("rd.col.district_plan", "district_plan"),
            ("rd.col.district_drill", "district_drill"))]),
        dcc.Tab(label=t("rd.tab.town", lang), value="town", children=[_table(Ids.BY_TOWN, lang, *AREA_COLS)]),
        dcc.Tab(label=t("rd.tab.suggest", lang), value="suggest", children=[_table(
            Ids.SUGGESTED, lang, ("rd.col.rank", "rank"), ("rd.col.district", "district"), ("rd.col.town", "town"),
            ("rd.col.road", "road"), ("rd.col.lon", "lon"), ("rd.col.lat", "lat"), ("rd.col.closed", "closed"),
            ("rd.col.cum_share", "cum_share"), ("rd.col.reason", "reason"))]),
    ])
    kinds = [{"label": label(RESOURCE_KINDS, k, lang), "value": k} for k in RESOURCE_KINDS]
    return html.Div([
        navbar(lang, "/readiness", {"lang": lang, **query}),
        dcc.Store(id=Ids.LANG, data=lang),
        html.Div(className="page", children=[
            html.H2(t("rd.heading", lang)),
            html.Div(className="panel", style=row, children=[
                html.Label(t("rd.as_of", lang), htmlFor=Ids.AS_OF),
                html.Div(date_picker(lang=lang, id=Ids.AS_OF, date=day), style={"width": "170px"}),
                html.Label(t("rd.districts", lang)),
                html.Div(dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.DISTRICTS, options=options, multi=True,
                                      placeholder=t("rd.all_districts", lang)), style={"minWidth": "260px"}),
                html.Button(t("rd.export", lang), id=Ids.EXPORT, n_clicks=0),
                dcc.Download(id=Ids.DOWNLOAD),
            ]),
            html.Div(className="panel", style=row, children=[
                html.Label(t("rd.suggest", lang), htmlFor=Ids.K),
                dcc.Input(id=Ids.K, type="number", value=3, min=1, max=view.K_MAX, step=1, style={"width": "60px"}),
                html.Span(t("rd.suggest.k", lang)),
                html.Div(dcc.Dropdown(id=Ids.KIND, options=kinds, value=DEFAULT_KIND, clearable=False,
                                      searchable=False, placeholder=t("rd.suggest.kind", lang)),
                         style={"minWidth": "200px"}),
                dcc.RadioItems(id=Ids.METHOD, value="greedy", inline=True, options=[
                    {"label": t("rd.greedy", lang), "value": "greedy"},
                    {"label": t("rd.exact", lang), "value": "exact"}]),
            ]),
            dcc.Loading(type="default", children=[
                html.Div(id=Ids.SUMMARY, style=row),
                html.Div(id=Ids.NOTE, className="muted"),
                dcc.Graph(id=Ids.MAP, figure={"data": [], "layout": {"template": template_dict("light")}},
                          style={"height": "60vh"}, config=graph_config(scrollZoom=True)),
            ]),
            tabs,
        ]),
    ])


# --------------------------------------------------------------------------------------------------
# callbacks
# --------------------------------------------------------------------------------------------------

def _outputs_for_error(exc: BaseException) -> tuple:
    return (calm_message("zh", exc), "", dash.no_update, [], [], [], [], [], [], [])


@callback(Output(Ids.SUMMARY, "children"), Output(Ids.NOTE, "children"), Output(Ids.MAP, "figure"),
          Output(Ids.BY_DISTRICT, "rowData"), Output(Ids.BY_TOWN, "rowData"), Output(Ids.REACH, "rowData"),
          Output(Ids.PLAN, "rowData"), Output(Ids.SUPPLY, "rowData"), Output(Ids.STOCK, "rowData"),
          Output(Ids.SUGGESTED, "rowData"),
          Input(Ids.AS_OF, "date"), Input(Ids.DISTRICTS, "value"), Input(Ids.KIND, "value"), Input(Ids.K, "value"),
          Input(Ids.METHOD, "value"), State(Ids.LANG, "data"))
@guarded(_outputs_for_error)
@context.checked("read")
def update(as_of, districts, kind, k, method, lang):
    """Everything on the page for one date, district selection and suggestion request."""
    lang = norm_lang(lang)
    result, scope, shown, fewer = _view(as_of, districts, kind, k, method, lang)
    return (tables.summary_cards(result, lang), _note(result, fewer, lang),
            figure.readiness_map(result, shown, _kind(kind), lang=lang, districts=scope),
            tables.area_rows(result.by_district, lang, "district_code"),
            tables.area_rows(result.by_town, lang, "town_code"), tables.reach_rows(result, lang),
            tables.plan_rows(result, lang), tables.supply_rows(result, lang), tables.stock_rows(result, lang),
            tables.suggestion_rows(shown, result, lang))


@callback(Output(Ids.DOWNLOAD, "data"), Input(Ids.EXPORT, "n_clicks"), State(Ids.AS_OF, "date"),
          State(Ids.DISTRICTS, "value"), State(Ids.LANG, "data"), State(Ids.KIND, "value"), State(Ids.K, "value"),
          State(Ids.METHOD, "value"), prevent_initial_call=True)
@guarded(lambda exc: dash.no_update)
@context.checked("read")
def export(_n, as_of, districts, lang, kind=DEFAULT_KIND, k=3, method="greedy"):
    """The user's area as an XLSX file (formula-like text stays text, headers in ``lang``), with the suggested
    places as shown."""
    from layers.export import write_xlsx

    lang = norm_lang(lang)
    result, _scope, shown, _fewer = _view(as_of, districts, kind, k, method, lang)
    sheets = tables.export_sheets(result, shown, lang)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"readiness-{result.as_of.isoformat()}.xlsx"
        write_xlsx(sheets, path)
        return dcc.send_bytes(path.read_bytes(), path.name)
