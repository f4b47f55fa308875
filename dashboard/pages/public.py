"""Public naming (``/public``, 曝光): enterprises with serious hazards or orders in a period, only the fields
allowed for publication (``layers.ledger.publication.PUBLIC_FIELDS``), with CSV/XLSX exports; and the blacklist
in force for joint punishment (联合惩戒) with its export. City level only (the ``ledger.city`` grant).
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import context
from dashboard.components.dates import date_range
from dashboard.components.errors import calm_message, guarded
from dashboard.components.nav import navbar
from dashboard.i18n import norm_lang, t
from dashboard.ledger import layout as L
from dashboard.ledger import routes
from dashboard.ledger.ids import PublicIds as Ids
from layers.errors import AccessDenied, RiskMapError
from layers.ledger import enforcement, publication

dash.register_page(__name__, path="/public", title="曝光")


def _refused(exc: AccessDenied, lang: str | None = None, **_q: str) -> html.Div:
    lang = norm_lang(lang)
    return html.Div([navbar(lang, "/public", {"lang": lang}),
                     html.Div(html.Div(t("pub.city_only", lang), className="calm-error", role="alert"),
                              className="page")])


@context.checked("ledger.city", denied=_refused)
def layout(lang: str | None = None, **query: str) -> html.Div:
    lang = norm_lang(lang)
    end = date.today()
    return html.Div([
        navbar(lang, "/public", {"lang": lang, **query}),
        dcc.Store(id=Ids.LANG, data=lang),
        html.Div(className="page", children=[
            html.H2(t("pub.heading", lang)),
            html.Div(className="panel", style={"display": "flex", "gap": "10px", "alignItems": "center"}, children=[
                html.Label(t("pub.period", lang)),
                date_range(lang=lang, id=Ids.PERIOD, start_date=(end - timedelta(days=90)).isoformat(),
                                    end_date=end.isoformat()),
                html.Span(id=Ids.LINKS),
            ]),
            html.Div(id=Ids.GRID),
            html.H3(t("pub.blacklist", lang)),
            html.A(t("pub.blacklist_export", lang), href=routes.BLACKLIST_EXPORT + (f"?lang={lang}" if lang != "zh"
                                                                                     else ""),
                   className="button-link", id="pub-blacklist-export"),
            html.Div(id=Ids.BLACKLIST),
        ]),
    ])


def public_view(start: str | None, end: str | None, lang: str) -> tuple:
    """The publication list and the blacklist as grids, and the export links."""
    lang = norm_lang(lang)
    reach = context.authorize("ledger.city")
    store = context.store()
    e = date.fromisoformat(str(end)[:10]) if end else date.today()
    s = date.fromisoformat(str(start)[:10]) if start else e - timedelta(days=90)
    frame = publication.public_naming(store, reach, start=min(s, e), end=max(s, e))
    black = enforcement.blacklist_export_rows(store, context.principal(), as_of=date.today(), lang=lang)
    query = urlencode({k: v for k, v in (("start", s.isoformat()), ("end", e.isoformat()),
                                         ("lang", lang if lang != "zh" else "")) if v})
    links = [html.A(t("pub.csv", lang), href=routes.PUBLIC_EXPORT.replace("<fmt>", "csv") + "?" + query,
                    className="button-link", id="pub-csv"),
             html.A(t("pub.xlsx", lang), href=routes.PUBLIC_EXPORT.replace("<fmt>", "xlsx") + "?" + query,
                    className="button-link", id="pub-xlsx")]
    return (L.frame_grid("pub-naming", publication.public_labelled(frame, lang), lang),
            L.frame_grid("pub-blacklist-grid", black, lang), links)


@callback(Output(Ids.GRID, "children"), Output(Ids.BLACKLIST, "children"), Output(Ids.LINKS, "children"),
          Input(Ids.PERIOD, "start_date"), Input(Ids.PERIOD, "end_date"), State(Ids.LANG, "data"))
@guarded(lambda exc: (calm_message("zh", exc), no_update, no_update))
@context.checked("ledger.city")
def render(start, end, lang):
    try:
        return public_view(start, end, lang)
    except ValueError as exc:
        raise RiskMapError(f"日期无效 (a date is not valid): {exc}") from None
