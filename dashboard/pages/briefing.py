"""The briefing (``/briefing``, 专报): a district (or the whole city, for city users) and a period; the figures,
charts and top lists of ``layers.ledger.briefing``; printable on A4 (``assets/ledger-print.css``) and as XLSX
(the checked route ``/briefing/export.xlsx``). A district leader gets their own district, whatever is asked.
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

import dash
from dash import Input, Output, State, callback, clientside_callback, dcc, html, no_update

from dashboard import context
from dashboard.components.dates import date_range
from dashboard.components.errors import calm_message, denied_page, guarded
from dashboard.components.mapfig import graph_config
from dashboard.components.nav import navbar
from dashboard.components.theme import template_dict
from dashboard.i18n import dropdown_labels, norm_lang, t
from dashboard.ledger import actions, routes
from dashboard.ledger import layout as L
from dashboard.ledger.ids import BriefingIds as Ids
from layers.errors import AccessDenied, RiskMapError
from layers.ledger.briefing import FIGURES, HAZARD_COLUMNS, SHEETS, briefing, briefing_sheets
from layers.ledger.briefing import charts as briefing_charts
from layers.store import cached_read

dash.register_page(__name__, path="/briefing", title="专报")

#: the figures shown as cards (the rest are in the XLSX)
CARDS = ("found", "found_major", "closed", "closed_in_time", "open", "overdue", "major_open", "listed",
         "repeat_offenders", "orders", "coverage_share_in_time", "coverage_dead_corners")
#: the top lists shown (sheet keys of layers.ledger.briefing.SHEETS)
LISTS = ("major", "listed", "top_overdue", "worst_departments", "repeat", "orders")
#: of a hazard list's columns (layers.ledger.briefing.HAZARD_COLUMNS), those that fit on an A4 page
HAZARD_SHOWN = ("id", "target_name", "town_name", "type", "level", "status", "deadline", "days_left",
                "department_name", "officer")


def _parse(d: str | None, default: date) -> date:
    try:
        return date.fromisoformat(str(d)[:10]) if d else default
    except ValueError:
        return default


@context.checked("read", denied=denied_page)
def layout(lang: str | None = None, district: str | None = None, start: str | None = None, end: str | None = None,
           **query: str) -> html.Div:
    lang = norm_lang(lang)
    head = navbar(lang, "/briefing", {"lang": lang, **query})
    try:
        reach = context.authorize("read")
        d = cached_read(context.store(), "districts", columns=["code", "name", "name_en"])
    except (RiskMapError, AccessDenied) as exc:
        return html.Div([head, html.Div(calm_message(lang, exc), className="page")])
    if reach.districts is not None:
        d = d[d["code"].astype(str).isin(reach.districts)]
    options = ([{"label": t("br.city", lang), "value": ""}] if reach.districts is None else []) + [
        {"label": (r.name_en if lang == "en" and isinstance(r.name_en, str) and r.name_en else r.name) + f" ({r.code})",
         "value": str(r.code)} for r in d.itertuples(index=False)]
    chosen = district if district in {o["value"] for o in options} else options[0]["value"] if options else ""
    e = _parse(end, actions.as_of())
    s = _parse(start, e - timedelta(days=90))
    return html.Div([
        head,
        dcc.Store(id=Ids.LANG, data=lang),
        html.Div(className="page briefing-page", children=[
            html.Div(className="panel no-print briefing-controls", children=[
                html.Label(t("br.area", lang), htmlFor=Ids.DISTRICT),
                dcc.Dropdown(id=Ids.DISTRICT, options=options, value=chosen, clearable=False,
                             labels=dropdown_labels(lang), style={"minWidth": "240px"}),
                html.Label(t("br.period", lang)),
                html.Div(date_range(lang=lang, id=Ids.PERIOD, start_date=s.isoformat(), end_date=e.isoformat(),
                                             display_format="YYYY-MM-DD"), style={"width": "300px"}),
                html.A(t("br.xlsx", lang), id=Ids.XLSX, href="", className="button-link"),
                html.Button(t("br.print", lang), id=Ids.PRINT, n_clicks=0),
            ]),
            dcc.Loading(html.Div(id=Ids.BODY, className="briefing-body")),
        ]),
    ])


def _card(value: object, caption: str, key: str) -> html.Div:
    if isinstance(value, float):
        text = f"{value:.1%}" if "share" in key else f"{value:,.1f}"
    else:
        text = "—" if value is None else f"{value:,}" if isinstance(value, int) else str(value)
    return html.Div([html.Div(text, className="kpi-value"), html.Div(caption, className="kpi-caption")],
                    className="kpi", id=f"br-{key}")


def briefing_body(district: str | None, start: str | None, end: str | None, lang: str) -> tuple[list, str]:
    """The briefing's page body and its XLSX link."""
    lang = norm_lang(lang)
    reach = context.authorize("read")
    e = _parse(end, actions.as_of())
    s = _parse(start, e - timedelta(days=90))
    b = briefing(context.store(), reach, district=district or None, start=s, end=e, as_of=actions.as_of(),
                   settings=context.settings(), lang=lang)
    i = 1 if lang == "en" else 0
    cards = [_card(b.figures.get(k), FIGURES[k][i], k) for k in CARDS if k in FIGURES]
    graphs = []
    for key, fig in briefing_charts(b, lang).items():
        fig.update_layout(template=template_dict("light"), height=320)
        graphs.append(dcc.Graph(id=f"br-chart-{key}", figure=fig, config=graph_config(displayModeBar=False),
                                className="briefing-chart"))
    sheets = briefing_sheets(b, lang)
    lists = []
    for key in LISTS:
        name = SHEETS[key][i]
        frame = sheets.get(name)
        if frame is None:
            continue
        if key in ("major", "listed", "top_overdue"):    # the hazard lists: the columns a leader reads first
            frame = frame.iloc[:, [HAZARD_COLUMNS.index(c) for c in HAZARD_SHOWN]]
        lists.append(html.Section([html.H3(name), L.frame_table(frame, f"br-list-{key}", lang)],
                                  className="briefing-list"))
    area = b.name_en if lang == "en" else b.name
    body = [
        html.H1(f"{t('br.heading', lang)} · {area}", id="br-title"),
        html.Div(f"{t('br.period', lang)} {b.start} – {b.end} · {t('hz.as_of', lang).format(d=b.as_of)}",
                 className="muted"),
        html.H3(t("br.figures", lang)),
        html.Div(cards, className="kpi-row briefing-cards"),
        html.Div(graphs, className="briefing-charts"),
        html.H3(t("br.top", lang)),
        *lists,
    ]
    href = routes.BRIEFING_EXPORT + "?" + urlencode({k: v for k, v in (
        ("district", district or ""), ("start", s.isoformat()), ("end", e.isoformat()),
        ("lang", lang if lang != "zh" else "")) if v})
    return body, href


@callback(Output(Ids.BODY, "children"), Output(Ids.XLSX, "href"), Input(Ids.DISTRICT, "value"),
          Input(Ids.PERIOD, "start_date"), Input(Ids.PERIOD, "end_date"), State(Ids.LANG, "data"))
@guarded(lambda exc: (calm_message("zh", exc), no_update))
@context.checked("read")
def render(district, start, end, lang):
    return briefing_body(district, start, end, lang)


clientside_callback("function(n) { if (n) { window.print(); } return ''; }",
                    Output(Ids.PRINT, "title"), Input(Ids.PRINT, "n_clicks"), prevent_initial_call=True)
