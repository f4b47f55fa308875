"""Enforcement on the object page of an enterprise (or venue): its state (operating, suspended, closed) and the
order behind it, its blacklist entry, its orders, and — for a user with the ``enforce`` grant on its area —
the form that issues a suspension, a resumption (only after a passed check) or a closure.

The target of the form is re-read from the store by ``layers.ledger.enforcement.issue_order``, which authorizes
the session's user on the target's own area; the page's copy of the target is only a question.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pandas as pd
from dash import dcc, html, no_update

from dashboard import context
from dashboard.components.dates import date_picker
from dashboard.components.errors import calm_message
from dashboard.i18n import dropdown_labels, norm_lang, t
from dashboard.ledger import text as _text  # noqa: F401  (registers the words)
from dashboard.ledger.ids import ObjectLedgerIds as Ids
from dashboard.ledger.layout import fmt, hazard_href
from layers.errors import AccessDenied, RiskMapError
from layers.ledger import enforcement as E
from layers.ledger.workflow import authorize_target
from layers.schema import ACCIDENT_KINDS, HAZARD_LEVELS, LAYERS, ORDER_KINDS, label

KINDS = ("suspend", "resume", "close")
GROUNDS = ("illegal", "failed_recheck")


def _orders(store, layer: str, oid: str) -> pd.DataFrame:  # noqa: ANN001
    f = store.read("orders", where={"target_layer": layer, "target_id": oid})
    return f.sort_values("date", kind="stable") if len(f) else f


def _state(store, layer: str, oid: str, today: date) -> tuple[str, Mapping | None]:  # noqa: ANN001
    st = E.enterprise_state(store, today)
    st = st[(st["target_layer"] == layer) & (st["target_id"].astype(str) == oid)] if len(st) else st
    if len(st) == 0:
        return "operating", None
    r = st.iloc[0]
    return str(r["state"]), r.to_dict()


def _blacklist(store, layer: str, oid: str, today: date) -> Mapping | None:  # noqa: ANN001
    b = E.blacklist_active(store, today)
    b = b[(b["target_layer"] == layer) & (b["target_id"].astype(str) == oid)] if len(b) else b
    return b.iloc[0].to_dict() if len(b) else None


def _may(store, action: str, layer: str, oid: str) -> bool:  # noqa: ANN001
    """Whether the session's user may do ``action`` on this object (its own area, from the store)."""
    try:
        authorize_target(store, context.principal(), action, layer, oid)
    except AccessDenied:
        return False
    return True


def _form(store, layer: str, oid: str, lang: str) -> html.Div:  # noqa: ANN001
    hz = store.read("hazards", columns=["id", "type", "status"], where={"target_layer": layer, "target_id": oid})
    hz = hz[hz["status"] != "closed"] if len(hz) else hz
    insp = store.read("inspections", columns=["id", "date", "result"], where={"target_layer": layer,
                                                                              "target_id": oid}) \
        if "target_layer" in LAYERS["inspections"].names else pd.DataFrame(columns=["id", "date", "result"])
    insp = insp[insp["result"] == "pass"].sort_values("date", ascending=False) if len(insp) else insp
    labels = dropdown_labels(lang)
    row = {"display": "flex", "gap": "8px", "flexWrap": "wrap", "alignItems": "center", "margin": "4px 0"}
    return html.Div(className="enforce-form", children=[
        html.H4(t("enf.issue", lang)),
        html.Div(style=row, children=[
            dcc.Dropdown(id=Ids.KIND, options=[{"label": t(f"enf.kind.{k}", lang), "value": k} for k in KINDS],
                         value="suspend", clearable=False, labels=labels, style={"minWidth": "200px"}),
            dcc.Input(id=Ids.DOC_NO, placeholder=LAYERS["orders"].column("doc_no").en if lang == "en"
                      else LAYERS["orders"].column("doc_no").zh, style={"width": "200px"}),
            html.Div(date_picker(lang=lang, id=Ids.DATE, date=date.today().isoformat()),
                     style={"width": "180px"}),
        ]),
        dcc.Input(id=Ids.REASON, placeholder=LAYERS["orders"].column("reason").en if lang == "en"
                  else LAYERS["orders"].column("reason").zh, style={"width": "100%"}),
        html.Div(style=row, children=[
            dcc.Dropdown(id=Ids.GROUND, options=[{"label": t(f"enf.ground.{g}", lang), "value": g} for g in GROUNDS],
                         placeholder=LAYERS["orders"].column("ground").en if lang == "en"
                         else LAYERS["orders"].column("ground").zh, labels=labels, style={"minWidth": "200px"}),
            dcc.Dropdown(id=Ids.HAZARDS, multi=True, labels=labels, placeholder=t("enf.hazards", lang),
                         options=[{"label": f"{r.id} {r.type or ''}", "value": str(r.id)} for r in
                                  hz.itertuples(index=False)], style={"minWidth": "260px"}),
            dcc.Dropdown(id=Ids.CHECK, labels=labels, placeholder=t("enf.check", lang),
                         options=[{"label": f"{r.id} · {fmt(r.date)}", "value": str(r.id)} for r in
                                  insp.itertuples(index=False)], style={"minWidth": "220px"}),
        ]),
        html.Button(t("enf.issue", lang), id=Ids.ISSUE, n_clicks=0, className="primary"),
    ])


def _basis_options(store, layer: str, oid: str, lang: str) -> list[dict]:  # noqa: ANN001
    """What a blacklist entry may rest on: this target's orders, accidents and major hazards."""
    out = []
    for r in _orders(store, layer, oid).to_dict("records"):
        out.append({"label": f"{label(ORDER_KINDS, r.get('kind'), lang)} {fmt(r.get('doc_no'))} · {fmt(r.get('date'))}",
                    "value": f"order:{r['id']}"})
    if layer == "enterprises":
        acc = store.read("accidents", columns=["id", "date", "kind"], where={"enterprise_id": oid})
        out += [{"label": f"{label(ACCIDENT_KINDS, r.get('kind'), lang)} · {fmt(r.get('date'))}",
                 "value": f"accident:{r['id']}"} for r in acc.to_dict("records")]
    hz = store.read("hazards", columns=["id", "type", "level"], where={"target_layer": layer, "target_id": oid})
    out += [{"label": f"{label(HAZARD_LEVELS, 'major', lang)} {r['id']} {fmt(r.get('type'))}",
             "value": f"hazard:{r['id']}"} for r in hz[hz["level"] == "major"].to_dict("records")]
    return out


def _blacklist_form(store, layer: str, oid: str, entry: Mapping | None, lang: str) -> html.Div:  # noqa: ANN001
    row = {"display": "flex", "gap": "8px", "flexWrap": "wrap", "alignItems": "center", "margin": "4px 0"}
    labels = dropdown_labels(lang)
    if entry:
        return html.Div(className="enforce-form", children=[
            html.H4(t("enf.bl.heading", lang)),
            dcc.Store(id=Ids.BL_ENTRY, data={"id": str(entry.get("id")), "version": _int(entry.get("version"))}),
            html.Div(style=row, children=[
                dcc.Input(id=Ids.BL_REMOVE_REASON, placeholder=t("enf.bl.remove_reason", lang), style={"width": "320px"}),
                html.Button(t("enf.bl.remove", lang), id=Ids.BL_REMOVE, n_clicks=0)]),
        ])
    return html.Div(className="enforce-form", children=[
        html.H4(t("enf.bl.heading", lang)),
        dcc.Input(id=Ids.BL_REASON, placeholder=t("enf.bl.reason", lang), style={"width": "100%"}),
        html.Div(style=row, children=[
            dcc.Dropdown(id=Ids.BL_BASIS, options=_basis_options(store, layer, oid, lang), labels=labels,
                         placeholder=t("enf.bl.basis", lang), style={"minWidth": "300px"}),
            html.Div(date_picker(lang=lang, id=Ids.BL_START, date=date.today().isoformat()),
                     style={"width": "180px"}),
            html.Div(date_picker(lang=lang, id=Ids.BL_END, placeholder=t("enf.bl.until", lang),
                                          display_format="YYYY-MM-DD"), style={"width": "180px"}),
            html.Button(t("enf.bl.add", lang), id=Ids.BL_ADD, n_clicks=0, className="primary"),
        ]),
    ])


def _int(value: object) -> int:
    try:
        return 0 if value is None or pd.isna(value) else int(value)
    except (TypeError, ValueError):
        return 0


def section(layer: str, oid: str, lang: str) -> html.Section | None:
    """The enforcement section of an object page (None for a layer that takes no orders). The caller has checked
    that the user may read the object."""
    if layer not in E.ORDER_LAYERS:
        return None
    lang = norm_lang(lang)
    context.authorize("read")
    store = context.store()
    authorize_target(store, context.principal(), "read", layer, oid)     # the object's own area, from the store
    today = date.today()
    state, order = _state(store, layer, oid, today)
    entry = _blacklist(store, layer, oid, today)
    since = t("enf.since", lang).format(d=fmt(order.get("since")), doc=fmt(order.get("doc_no"))) if order else ""
    orders = _orders(store, layer, oid)
    order_rows = [html.Tr([html.Td(fmt(r.get("date"))), html.Td(label(ORDER_KINDS, r.get("kind"), lang)),
                           html.Td(fmt(r.get("doc_no"))), html.Td(fmt(r.get("reason"))),
                           html.Td([html.A(h, href=hazard_href(h, lang)) for h in str(r.get("hazard_ids") or "")
                                    .split(",") if h.strip()])])
                  for r in orders.to_dict("records")]
    lines = [
        html.Div([html.Span(t("enf.state", lang) + "：", className="card-key"),
                  html.Span(E.state_label(state, lang), className=f"status-tag state-{state}", id="obj-state"),
                  html.Span(" " + since, className="muted")]),
        html.Div(t("enf.blacklisted", lang).format(reason=fmt(entry.get("reason")), start=fmt(entry.get("start_date")),
                                                   end=fmt(entry.get("end_date")) if not pd.isna(
                                                       entry.get("end_date")) else t("enf.open_end", lang))
                 if entry else t("enf.not_blacklisted", lang), id="obj-blacklist",
                 className="status-tag overdue" if entry else "muted"),
        html.H4(t("enf.orders", lang)),
        html.Table([html.Tbody(order_rows)], className="mini-table", id="obj-orders") if order_rows
        else html.Div("—", className="muted", id="obj-orders"),
    ]
    tail = []
    may_order, may_list = _may(store, "enforce", layer, oid), _may(store, "ledger.city", layer, oid)
    if may_order:
        lines.append(_form(store, layer, oid, lang))
    if may_list:
        lines.append(_blacklist_form(store, layer, oid, entry, lang))
    if may_order or may_list:
        tail = [dcc.Store(id=Ids.TARGET, data={"layer": layer, "id": oid}), html.Div(id=Ids.MSG, role="status")]
    return html.Section([html.H3(t("enf.heading", lang)), html.Div(lines, id=Ids.SECTION), *tail],
                        className="enforcement")


def issue(kind, doc_no, day, reason, ground, hazard_ids, check_id, target: Mapping | None, lang) -> tuple:
    """Issue the order of the form on the page's object. Returns (message, section body)."""
    lang = norm_lang(lang)
    if not isinstance(target, Mapping):
        return no_update, no_update
    context.authorize("enforce")
    layer, oid = str(target.get("layer") or ""), str(target.get("id") or "")
    try:
        order_id = E.issue_order(context.store(), context.principal(), layer, oid, str(kind or ""),
                                 doc_no=doc_no or "", date=day or date.today().isoformat(), reason=reason or None,
                                 ground=ground or None if kind == "close" else None,
                                 hazard_ids=[h for h in (hazard_ids or []) if isinstance(h, str)],
                                 check_id=check_id or None if kind == "resume" else None)
    except RiskMapError as exc:
        return calm_message(lang, exc), no_update
    sec = section(layer, oid, lang)
    body = sec.children[1].children if sec is not None else no_update
    return html.Div(t("enf.issued", lang).format(id=order_id), className="ok-message"), body


def blacklist(add_clicked: bool, reason, basis, start, end, remove_reason, entry: Mapping | None,
              target: Mapping | None, lang) -> tuple:
    """Put the page's object on the blacklist, or take its entry off (the entry's id and version as the page
    showed them: a stale version is refused). Returns (message, section body)."""
    lang = norm_lang(lang)
    if not isinstance(target, Mapping):
        return no_update, no_update
    context.authorize("ledger.city")
    layer, oid = str(target.get("layer") or ""), str(target.get("id") or "")
    store = context.store()
    try:
        if add_clicked:
            kind, _, bid = str(basis or "").partition(":")
            entry_id = E.blacklist_add(store, context.principal(), layer, oid, reason=reason or "", basis=kind,
                                       basis_id=bid, start_date=start or "", end_date=end or None)
            msg = t("enf.bl.added", lang).format(id=entry_id)
        else:
            if not isinstance(entry, Mapping):
                return no_update, no_update
            E.blacklist_remove(store, context.principal(), str(entry.get("id") or ""), _int(entry.get("version")),
                               remove_reason or "")
            msg = t("enf.bl.removed", lang)
    except RiskMapError as exc:
        return calm_message(lang, exc), no_update
    sec = section(layer, oid, lang)
    body = sec.children[1].children if sec is not None else no_update
    return html.Div(msg, className="ok-message"), body


__all__ = ["section", "issue", "blacklist", "KINDS", "GROUNDS"]
