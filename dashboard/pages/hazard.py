"""One hazard (``/hazard?id=…``): its data, the five elements (who, what, how much, when, which plan), its
history from the audit log, its files, and the workflow steps its status allows the user.

The id in the URL is only a question: the hazard is read from the store and its *target's* area checked
against the session's user. A step posts the version the page was opened at; ``layers.ledger.workflow``
re-reads the hazard, authorizes the user on the target's area and refuses a stale version (EditConflict) or a
step the state does not allow (StepRefused): the page says so calmly and writes nothing. After a step the page
shows the record again as stored.
"""

from __future__ import annotations

import logging

import dash
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard import context
from dashboard.components.errors import calm_message, denied_page, guarded
from dashboard.components.nav import navbar
from dashboard.i18n import norm_lang, t
from dashboard.ledger import actions
from dashboard.ledger.ids import HazardIds as Ids
from layers.errors import AccessDenied, RiskMapError

log = logging.getLogger(__name__)

dash.register_page(__name__, path="/hazard", title="隐患详情")


@context.checked("read", denied=denied_page)
def layout(id: str | None = None, lang: str | None = None, **query: str) -> html.Div:  # noqa: A002
    lang = norm_lang(lang)
    head = navbar(lang, "/hazard", {"lang": lang, "id": id or ""})
    if not id:
        return html.Div([head, html.Div(calm_message(lang, RiskMapError(t("hzd.missing_id", lang))),
                                        className="page")])
    try:
        body, record = actions.hazard_view(id, lang)
    except (RiskMapError, AccessDenied) as exc:
        log.warning("hazard page refused for %r: %s", id, exc)
        return html.Div([head, html.Div(calm_message(lang, exc), className="page")])
    return html.Div([
        head,
        dcc.Store(id=Ids.LANG, data=lang),
        dcc.Store(id=Ids.RECORD, data=record),
        html.Div(className="page", children=[
            html.Div(id=Ids.MSG, role="status"),
            html.Div(body, id=Ids.BODY, className="hazard-page"),
        ]),
    ])


@callback(Output(Ids.MSG, "children"), Output(Ids.BODY, "children"), Output(Ids.RECORD, "data"),
          Input({"type": Ids.STEP, "step": ALL}, "n_clicks"),
          State({"type": Ids.FIELD, "step": ALL, "field": ALL}, "id"),
          State({"type": Ids.FIELD, "step": ALL, "field": ALL}, "value"),
          State({"type": Ids.DATE, "step": ALL, "field": ALL}, "id"),
          State({"type": Ids.DATE, "step": ALL, "field": ALL}, "date"),
          State(Ids.RECORD, "data"), State(Ids.LANG, "data"), prevent_initial_call=True)
@guarded(lambda exc: (calm_message("zh", exc), no_update, no_update))
@context.checked("hazard.edit")
def on_step(clicks, field_ids, field_values, date_ids, date_values, record, lang):
    """Take the step whose button was pressed, at the version the page opened."""
    trig = ctx.triggered_id
    step = trig.get("step") if isinstance(trig, dict) else None
    if not step or not any(clicks or []):
        return no_update, no_update, no_update
    return actions.take_step(step, field_ids, field_values, date_ids, date_values, record, lang)


@callback(Output(Ids.MSG, "children", allow_duplicate=True), Output(Ids.BODY, "children", allow_duplicate=True),
          Input(Ids.UPLOAD, "contents"), State(Ids.UPLOAD, "filename"), State(Ids.RECORD, "data"),
          State(Ids.LANG, "data"), prevent_initial_call=True)
@guarded(lambda exc: (calm_message("zh", exc), no_update))
@context.checked("hazard.edit")
def on_upload(contents, filename, record, lang):
    return actions.upload(contents, filename, record, lang)
