"""Incidents (``/incident``): the duty officer's first hour, and the incident sheet (``/incident/sheet?id=…``).

Click the place on the map (or click an object, pick one by name, or arrive with ``?target=layer:id``), choose
the kind: the nearest ready resources of each needed kind with road travel times and routes, hazchem enterprises
and gas pipelines around, venues and schools to warn, the object's plan, last drill, open hazards and
supervision show at once (:func:`layers.emergency.first_hour`). The incident is recorded with what was shown,
listed, and closed with an outcome note; its sheet prints on one page and downloads as XLSX.

A click on the map reaches the server through ``assets/incident.js`` (MapLibre's click: the place; plotly's
click on a point just before: the object) as the data of a ``dcc.Store``. Nothing the browser sends is trusted:
every callback asks ``context.checked("incident")``, and the place, the object and the incident are re-read and
authorized on their district in :mod:`layers.emergency`.
"""

from __future__ import annotations

import logging
from enum import StrEnum

import dash
from dash import Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from dashboard import context
from dashboard.components.errors import calm_message, denied_page, guarded
from dashboard.components.mapfig import graph_config
from dashboard.components.mapfig.legend import legend_box
from dashboard.components.nav import navbar
from dashboard.emergency import incident_text as _text  # noqa: F401  (the strings)
from dashboard.emergency.incident_figure import incident_figure, legend_entries, overview_figure
from dashboard.emergency.incident_panel import close_options, first_hour_panel, incidents_table, sheet_body
from dashboard.i18n import dropdown_labels, norm_lang, t, with_query
from layers import emergency
from layers.errors import AccessDenied, RiskMapError
from layers.schema import INCIDENT_KINDS, OBJECT_LAYERS, label
from layers.store import cached_read

log = logging.getLogger(__name__)

dash.register_page(__name__, path="/incident", title=lambda **_: "突发事件 · Incident", name="incident")


class Ids(StrEnum):
    MAP = "incident-map"
    CLICK = "incident-click"
    PLACE = "incident-place"
    KIND = "incident-kind"
    PICK = "incident-pick"
    PANEL = "incident-panel"
    MSG = "incident-msg"
    OPEN = "incident-open"
    LIST = "incident-list"
    CLOSE_PICK = "incident-close-pick"
    OUTCOME = "incident-outcome"
    CLOSE = "incident-close"
    VERSIONS = "incident-versions"
    LANG = "incident-lang"
    SHEET_ID = "incident-sheet-id"
    SHEET_LANG = "incident-sheet-lang"
    PRINT = "incident-sheet-print"
    XLSX = "incident-sheet-xlsx"
    DOWNLOAD = "incident-sheet-download"


DEFAULT_KIND = "fire"


def _names(lang: str) -> dict[str, str]:
    d = cached_read(context.store(), "districts", columns=["code", "name", "name_en"])
    return {str(c): (e if lang == "en" and isinstance(e, str) and e else z)
            for c, z, e in zip(d["code"], d["name"], d["name_en"], strict=True)}


def _kind(kind: object) -> str:
    return kind if isinstance(kind, str) and kind in INCIDENT_KINDS else DEFAULT_KIND


def place_from(click: object) -> dict | None:
    """The place a map click names (``{"lon", "lat", "target"}``, coordinates moved back to WGS-84 from the
    drawing CRS of this server's basemap), or None for anything else the browser may send."""
    if not isinstance(click, dict):
        return None
    target = click.get("target")
    target = target if isinstance(target, str) and target.partition(":")[0] in OBJECT_LAYERS else None
    lon, lat = click.get("lon"), click.get("lat")
    if target is None and not (isinstance(lon, int | float) and isinstance(lat, int | float)):
        return None
    if target is None:
        from layers.basemap import draw_crs

        if draw_crs(context.settings()) == "gcj02":
            from geo.crs import gcj02_to_wgs84

            x, y = gcj02_to_wgs84(float(lon), float(lat))
            lon, lat = float(x), float(y)
    return {"lon": lon if target is None else None, "lat": lat if target is None else None, "target": target}


def compute(place: dict, kind: str, lang: str) -> tuple[dict, list]:
    """The figure and the panel for ``place`` (re-read and authorized in :func:`layers.emergency.first_hour`)."""
    reach = context.authorize("incident")
    settings = context.settings()
    fh = emergency.first_hour(context.store(), lon=place.get("lon"), lat=place.get("lat"), kind=kind,
                              target=place.get("target"), settings=settings, access=reach)
    names = _names(lang)
    dc = fh.place.get("district_code")
    panel = first_hour_panel(fh, lang, access_kmh=float(settings.access_speed_kmh),
                             district_name=f"{names.get(dc, dc)} ({dc})" if dc else None)
    return incident_figure(fh, lang=lang), panel


def _overview(lang: str) -> dict:
    reach = context.authorize("incident")
    store = context.store()
    return overview_figure(emergency.ready_resources(store, reach), emergency.area_bounds(store, reach), lang=lang)


def _list(lang: str) -> tuple[html.Table | html.Div, list[dict], dict]:
    frame = emergency.incidents_list(context.store(), context.authorize("incident"))
    opts, versions = close_options(frame, lang)
    return incidents_table(frame, lang), opts, versions


@context.checked("incident", denied=denied_page)
def layout(target: str | None = None, kind: str | None = None, lang: str | None = None, **query: str
           ) -> html.Div:
    lang = norm_lang(lang)
    kind = _kind(kind)
    head = navbar(lang, "/incident", {"lang": lang, **({"target": target} if target else {})})
    message: html.Div | None = None
    place = None
    figure, panel = None, [html.Div(t("inc.hint", lang), className="muted hint")]
    pick_opts: list[dict] = []
    if target:
        try:
            figure, panel = compute({"target": target}, kind, lang)
            place = {"target": target, "lon": None, "lat": None}
            name = emergency.object_name(context.store(), context.authorize("incident"), target)
            pick_opts = [{"label": name or target, "value": target}]
        except Exception as exc:  # the edge: calm text, the refusal or traceback to the log
            if isinstance(exc, AccessDenied | RiskMapError):
                log.warning("incident page: %s", exc)
            else:
                log.exception("incident page failed for %r", target)
            message = calm_message(lang, exc)
    try:
        if figure is None:
            figure = _overview(lang)
        table, opts, versions = _list(lang)
    except Exception as exc:  # the edge
        log.exception("incident page failed")
        return html.Div([head, html.Div(calm_message(lang, exc), className="page")])
    kinds = [{"label": label(INCIDENT_KINDS, k, lang), "value": k} for k in INCIDENT_KINDS]
    toolbar = html.Div(className="inc-toolbar no-print", children=[
        html.Label(t("inc.kind", lang), htmlFor=Ids.KIND),
        dcc.RadioItems(id=Ids.KIND, options=kinds, value=kind, inline=True, className="inc-kinds"),
        dcc.Dropdown(id=Ids.PICK, options=pick_opts, value=target if pick_opts else None, searchable=True,
                     placeholder=t("inc.pick", lang), labels=dropdown_labels(lang), className="inc-pick"),
        html.Button(t("inc.open", lang), id=Ids.OPEN, n_clicks=0, className="btn-primary inc-open"),
    ])
    graph = dcc.Graph(id=Ids.MAP, figure=figure, className="inc-map",
                      config=graph_config(scrollZoom=True, displayModeBar=False))
    close_form = html.Div(className="inc-close no-print", children=[
        dcc.Dropdown(id=Ids.CLOSE_PICK, options=opts, value=None, placeholder=t("inc.close_pick", lang),
                     labels=dropdown_labels(lang)),
        dcc.Textarea(id=Ids.OUTCOME, placeholder=t("inc.outcome", lang), className="inc-outcome"),
        html.Button(t("inc.close", lang), id=Ids.CLOSE, n_clicks=0, className="btn-reset"),
    ])
    return html.Div(className="incident-page", children=[
        head,
        dcc.Store(id=Ids.CLICK),
        dcc.Store(id=Ids.PLACE, data=place),
        dcc.Store(id=Ids.VERSIONS, data=versions),
        dcc.Store(id=Ids.LANG, data=lang),
        html.Div(className="page", children=[
            html.H2(t("inc.title", lang)),
            toolbar,
            html.Div(message, id=Ids.MSG, className="inc-msg", role="status"),
            html.Div(className="inc-body", children=[
                html.Div([graph, legend_box(legend_entries(lang), box_id="incident-legend")], className="inc-left"),
                html.Aside(panel, id=Ids.PANEL, className="inc-panel"),
            ]),
            html.Section(className="inc-list", children=[html.H3(t("inc.list", lang)),
                                                          html.Div(table, id=Ids.LIST), close_form]),
        ]),
    ])


# -- callbacks: thin, each asks the access function and re-reads in layers.emergency -----------------------

@callback(Output(Ids.MAP, "figure"), Output(Ids.PANEL, "children"), Output(Ids.PLACE, "data"),
          Output(Ids.MSG, "children"),
          Input(Ids.CLICK, "data"), Input(Ids.PICK, "value"), Input(Ids.KIND, "value"), State(Ids.PLACE, "data"),
          State(Ids.LANG, "data"), prevent_initial_call=True)
@guarded(lambda exc: (no_update, no_update, no_update, calm_message("zh", exc)))
@context.checked("incident")
def on_place(click, pick, kind, place, lang):
    """A click, a picked object or another kind: the first hour there."""
    return place_update(ctx.triggered_id, click, pick, kind, place, lang)


def place_update(trig: str | None, click: object, pick: object, kind: object, place: object, lang: object):
    """(figure, panel, place, message) after ``trig`` (the id of the input that changed) changed."""
    lang = norm_lang(lang)
    if trig == Ids.CLICK:
        new = place_from(click)
    elif trig == Ids.PICK:
        new = {"target": pick, "lon": None, "lat": None} if isinstance(pick, str) and pick else None
    else:
        new = place if isinstance(place, dict) else None
    if new is None:
        return no_update, no_update, no_update, no_update
    try:
        figure, panel = compute(new, _kind(kind), lang)
    except (AccessDenied, RiskMapError) as exc:
        log.warning("incident place refused: %s", exc)
        return no_update, no_update, no_update, calm_message(lang, exc)
    return figure, panel, new, None


@callback(Output(Ids.PICK, "options"), Input(Ids.PICK, "search_value"), State(Ids.PICK, "value"),
          prevent_initial_call=True)
@guarded(lambda exc: no_update)
@context.checked("incident")
def on_search(text, value):
    """Objects of the reader's area whose name holds the text typed (and the one picked)."""
    reach = context.authorize("incident")
    store = context.store()
    opts = [{"label": n, "value": k} for k, n in emergency.search_objects(store, reach, text)]
    if isinstance(value, str) and value and value not in {o["value"] for o in opts}:
        name = emergency.object_name(store, reach, value)
        if name:
            opts.insert(0, {"label": name, "value": value})
    return opts if opts or text else no_update


@callback(Output(Ids.MSG, "children", allow_duplicate=True), Output(Ids.LIST, "children"),
          Output(Ids.CLOSE_PICK, "options"), Output(Ids.VERSIONS, "data"),
          Input(Ids.OPEN, "n_clicks"), State(Ids.PLACE, "data"), State(Ids.KIND, "value"), State(Ids.LANG, "data"),
          prevent_initial_call=True)
@guarded(lambda exc: (calm_message("zh", exc), no_update, no_update, no_update))
@context.checked("incident")
def on_open(n, place, kind, lang):
    """Record the incident at the place shown (what is shown is computed again on the server)."""
    lang = norm_lang(lang)
    if not n:
        return no_update, no_update, no_update, no_update
    if not isinstance(place, dict):
        return calm_message(lang, RiskMapError(t("inc.hint", lang))), no_update, no_update, no_update
    iid = emergency.open_incident(context.store(), context.principal(), kind=_kind(kind), lon=place.get("lon"),
                                  lat=place.get("lat"), target=place.get("target"), settings=context.settings())
    table, opts, versions = _list(lang)
    link = dcc.Link(t("inc.sheet", lang), href=with_query("/incident/sheet", None, id=iid,
                                                          lang=lang if lang != "zh" else None))
    return html.Div([t("inc.opened", lang).format(id=iid), " · ", link], className="inc-ok"), table, opts, versions


@callback(Output(Ids.MSG, "children", allow_duplicate=True), Output(Ids.LIST, "children", allow_duplicate=True),
          Output(Ids.CLOSE_PICK, "options", allow_duplicate=True), Output(Ids.VERSIONS, "data", allow_duplicate=True),
          Output(Ids.OUTCOME, "value"),
          Input(Ids.CLOSE, "n_clicks"), State(Ids.CLOSE_PICK, "value"), State(Ids.OUTCOME, "value"),
          State(Ids.VERSIONS, "data"), State(Ids.LANG, "data"), prevent_initial_call=True)
@guarded(lambda exc: (calm_message("zh", exc), no_update, no_update, no_update, no_update))
@context.checked("incident")
def on_close(n, incident_id, outcome, versions, lang):
    """Close the picked incident with its outcome, at the version the list showed (a stale one is refused)."""
    lang = norm_lang(lang)
    if not n or not isinstance(incident_id, str):
        return no_update, no_update, no_update, no_update, no_update
    version = (versions or {}).get(incident_id) if isinstance(versions, dict) else None
    emergency.close_incident(context.store(), context.authorize("incident"), incident_id, version, outcome)
    table, opts, new_versions = _list(lang)
    return (html.Div(t("inc.closed", lang).format(id=incident_id), className="inc-ok"), table, opts, new_versions,
            "")


# -- the sheet -------------------------------------------------------------------------------------------

@context.checked("incident", denied=denied_page)
def sheet_layout(id: str | None = None, lang: str | None = None, **query: str) -> html.Div:  # noqa: A002
    """One incident's sheet, printable on one page (``assets/incident.css``), with its XLSX."""
    lang = norm_lang(lang)
    head = navbar(lang, "/incident", {"lang": lang, **({"id": id} if id else {})})
    if not id:
        return html.Div([head, html.Div(calm_message(lang, RiskMapError(t("inc.missing_id", lang))),
                                        className="page")])
    try:
        sheet = emergency.incident_sheet(context.store(), context.authorize("incident"), id, lang=lang)
    except Exception as exc:  # the edge
        if isinstance(exc, AccessDenied | RiskMapError):
            log.warning("incident sheet refused: %s", exc)
        else:
            log.exception("incident sheet failed for %r", id)
        return html.Div([head, html.Div(calm_message(lang, exc), className="page")])
    tools = html.Div(className="no-print inc-sheet-tools", children=[
        dcc.Link(t("inc.back", lang), href=with_query("/incident", None, lang=lang if lang != "zh" else None)),
        html.Button(t("inc.print", lang), id=Ids.PRINT, n_clicks=0, className="btn-reset"),
        html.Button(t("inc.xlsx", lang), id=Ids.XLSX, n_clicks=0, className="btn-export"),
        dcc.Download(id=Ids.DOWNLOAD),
    ])
    return html.Div(className="incident-sheet-page", children=[
        head, dcc.Store(id=Ids.SHEET_ID, data=sheet.id), dcc.Store(id=Ids.SHEET_LANG, data=lang),
        html.Div([tools, html.Div(sheet_body(sheet), className="incident-sheet", id="incident-sheet")],
                 className="page")])


dash.register_page(__name__ + "_sheet", path="/incident/sheet", title=lambda **_: "突发事件处置单 · Incident sheet",
                   name="incident sheet", layout=sheet_layout)


@callback(Output(Ids.DOWNLOAD, "data"), Input(Ids.XLSX, "n_clicks"), State(Ids.SHEET_ID, "data"),
          State(Ids.SHEET_LANG, "data"), prevent_initial_call=True)
@guarded(lambda exc: no_update)
@context.checked("incident")
def on_xlsx(n, incident_id, lang):
    """The sheet as XLSX (the incident re-read and authorized on its district)."""
    if not n:
        return no_update
    sheet = emergency.incident_sheet(context.store(), context.authorize("incident"), incident_id,
                                     lang=norm_lang(lang))
    data = emergency.incident_sheet_xlsx(sheet)
    return dcc.send_bytes(data, f"incident-{sheet.id}.xlsx")


clientside_callback("function(n) { if (n) { window.print(); } return ''; }",
                    Output(Ids.PRINT, "title"), Input(Ids.PRINT, "n_clicks"), prevent_initial_call=True)


__all__ = ["layout", "sheet_layout", "compute", "place_from", "place_update", "on_place", "on_open", "on_close", "on_search",
           "on_xlsx", "Ids"]
