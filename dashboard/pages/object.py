"""One object (``/object?layer=enterprises&id=…``): its data, hazards with their dates and five-in-place,
inspections, accidents (repeated kinds marked), supervising departments and officers, a map of its surroundings.

The page is built on the server from the URL; the user's district scope is checked against the object's
district (a district leader cannot open another district's object by editing the URL).
"""

from __future__ import annotations

import logging

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import context
from dashboard.components.errors import calm_message, denied_page, guarded
from dashboard.components.mapfig import graph_config, surroundings_map
from dashboard.components.nav import navbar
from dashboard.emergency import incident_text as _incident_text  # noqa: F401  (the incident link's text)
from dashboard.i18n import norm_lang, register, t, with_query
from dashboard.ledger import enforcement as ledger_enforcement
from dashboard.ledger.ids import ObjectLedgerIds
from layers.analysis.summary import load_city, object_detail
from layers.errors import AccessDenied, RiskMapError
from layers.schema import (
    ACCIDENT_KINDS,
    CONDITION_CLASSES,
    ENTERPRISE_STATUS,
    FIVE_IN_PLACE,
    GAS_STATION_KINDS,
    GRADES,
    HAZARD_LEVELS,
    HAZARD_STATUS,
    INDUSTRIES,
    INSPECTION_ACTIONS,
    INSPECTION_RESULTS,
    LAYERS,
    OBJECT_LAYERS,
    PRESSURE_CLASSES,
    VENUE_KINDS,
    label,
)

log = logging.getLogger(__name__)

register({
    "object.title": ("对象详情", "Object details"),
    "object.back": ("返回一张图", "Back to the map"),
    "object.facts": ("基本信息", "Facts"),
    "object.hazards": ("隐患及整改", "Hazards and their rectification"),
    "object.inspections": ("检查记录", "Inspections"),
    "object.accidents": ("事故", "Accidents"),
    "object.repeat": ("同类事故重复发生", "same kind of accident again"),
    "object.repeat_offender": ("屡查屡犯：", "Repeat offender:"),
    "object.repeat.hazard_type": ("“{what}”隐患 {n} 次（{first} 至 {last}）", "“{what}” found {n} times ({first} to {last})"),
    "object.repeat.accident_kind": ("{what}事故 {n} 次（{first} 至 {last}）", "{what} accidents {n} times ({first} to "
                                                                        "{last})"),
    "object.responsibility": ("监管责任", "Supervision"),
    "object.lead": ("牵头", "lead"),
    "object.surroundings": ("周边（{r} 米内）", "Surroundings (within {r} m)"),
    "object.nearby_n": ("周边对象", "Objects nearby"),
    "object.none": ("无记录", "No records"),
    "object.missing": ("请在地址中给出图层和编号，例如 /object?layer=enterprises&id=…",
                       "Name the layer and id in the address, e.g. /object?layer=enterprises&id=…"),
    "object.col.level": ("级别", "Level"),
    "object.col.description": ("描述", "Description"),
    "object.col.status": ("状态", "Status"),
    "object.col.found": ("发现", "Found"),
    "object.col.deadline": ("期限", "Deadline"),
    "object.col.closed": ("销号", "Closed"),
    "object.col.five": ("五到位", "Five in place"),
    "object.col.person": ("责任人", "Responsible"),
    "object.col.date": ("日期", "Date"),
    "object.col.team": ("检查组", "Team"),
    "object.col.result": ("结果", "Result"),
    "object.col.found_n": ("隐患数", "Hazards"),
    "object.col.action": ("措施", "Action"),
    "object.col.kind": ("类型", "Kind"),
    "object.col.deaths": ("死亡", "Deaths"),
    "object.col.injuries": ("受伤", "Injuries"),
    "object.col.department": ("部门", "Department"),
    "object.col.officer": ("包保责任人", "Officer"),
    "object.col.distance": ("距离(米)", "Distance (m)"),
    "object.col.name": ("名称", "Name"),
    "object.col.layer": ("图层", "Layer"),
    "object.overdue": ("逾期", "overdue"),
    "object.five_unknown": ("未填报", "not recorded"),
    "object.as_of": ("逾期按数据截至日计算", "overdue as of the data date"),
})

dash.register_page(__name__, path="/object", title=lambda **_: "对象详情 · Object", name="object")

_VALUE_LABELS = {"grade": GRADES, "industry": INDUSTRIES, "status": ENTERPRISE_STATUS, "kind": None,
                 "condition_class": CONDITION_CLASSES, "pressure": PRESSURE_CLASSES}
_KIND_LABELS = {"venues": VENUE_KINDS, "gas_stations": GAS_STATION_KINDS}


def _missing(v: object) -> bool:
    """An empty cell: None, NA, NaT or NaN (as a store read or a sheet leaves it)."""
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and pd.isna(v))


def _flag(v: object) -> bool | None:
    """A yes/no cell: True, False, or None when it was left empty."""
    return None if _missing(v) else bool(v)


def _text(*values: object) -> str:
    """The first of ``values`` that is a non-empty text, else "—"."""
    return next((v for v in values if isinstance(v, str) and v.strip()), "—")


def _five(h: pd.Series, lang: str) -> html.Span:
    """The five-in-place marks of a hazard: ✓ in place, ✗ missing, — not recorded."""
    marks = []
    for k in FIVE_IN_PLACE:
        name, flag = label(FIVE_IN_PLACE, k, lang), _flag(h.get(k))
        if flag is None:
            marks.append(html.Span("—", title=f"{name}: {t('object.five_unknown', lang)}", className="five-unknown"))
        else:
            marks.append(html.Span("✓" if flag else "✗", title=name, className="five-ok" if flag else "five-missing"))
    return html.Span(marks)


def _fmt(v: object) -> str:
    if _missing(v):
        return "—"
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    return str(v)


def _table(headers: list[str], rows: list[list], tid: str, lang: str) -> html.Table | html.Div:
    if not rows:
        return html.Div(t("object.none", lang), className="muted", id=tid)
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in headers])),
                       html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows])], className="mini-table", id=tid)


def _repeats(layer: str, object_id: str, d: dict, city) -> pd.DataFrame:  # noqa: ANN001
    """This object's repeats (屡查屡犯) as the ledger and the coverage count them: the same hazard type or accident
    kind again within the window, as of the data's date (``layers.ledger.repeat``)."""
    from layers.ledger.repeat import repeat_offenders

    hz = d["hazards"].assign(target_layer=layer, target_id=object_id)
    acc = d["accidents"].assign(enterprise_id=object_id) if layer == "enterprises" else None
    as_of = city.as_of.date() if city.as_of is not None else pd.Timestamp.today().date()
    need_h = {"type", "found_date"} <= set(hz.columns)
    need_a = acc is not None and {"kind", "date"} <= set(acc.columns)
    return repeat_offenders(hz if need_h else None, acc if need_a else None, as_of=as_of,
                            settings=context.settings())


def _repeat_banner(repeats: pd.DataFrame, lang: str) -> html.Div | None:
    if len(repeats) == 0:
        return None
    parts = []
    for r in repeats.to_dict("records"):
        what = label(ACCIDENT_KINDS, r["type"], lang) if r["basis"] == "accident_kind" else str(r["type"])
        parts.append(t(f"object.repeat.{r['basis']}", lang).format(what=what, n=int(r["count"]),
                                                                   first=_fmt(r["first"]), last=_fmt(r["last"])))
    return html.Div([html.B(t("object.repeat_offender", lang)), " ", "；".join(parts) if lang == "zh"
                     else "; ".join(parts)], className="repeat-banner", id="object-repeat")


def detail_page(layer: str, object_id: str, lang: str) -> list:
    """The page body for one object, after the scope check (raises AccessDenied / RiskMapError)."""
    if layer not in OBJECT_LAYERS:
        raise RiskMapError(f"图层 {layer!r} 不是可检查对象 (layer {layer!r} is not an object layer; use one of "
                           f"{', '.join(OBJECT_LAYERS)})")
    reach = context.authorize("read")
    store = context.store()
    city = load_city(store)
    d = object_detail(store, city, layer, object_id, districts=reach.districts, towns=reach.towns)
    row = d["row"]
    if not reach.allows(row.get("district_code"), row.get("town_code")):
        raise AccessDenied(f"对象 {layer}:{object_id} 不在您的辖区内 (object {layer}:{object_id} is outside your area)")
    schema = LAYERS[layer]
    names = {}
    for f in (city.districts, city.towns):
        for code, zh, en in zip(f["code"], f["name"], f["name_en"], strict=True):
            names[str(code)] = en if lang == "en" and isinstance(en, str) and en else zh

    # facts: every column of the layer, labelled by the schema
    facts = []
    for c in schema.columns:
        v = row.get(c.name)
        mapping = _KIND_LABELS.get(layer) if c.name == "kind" else _VALUE_LABELS.get(c.name)
        if c.name in ("district_code", "town_code") and isinstance(v, str):
            text = f"{names.get(v, v)} ({v})"
        elif mapping and isinstance(v, str):
            text = label(mapping, v, lang)
        else:
            text = _fmt(v)
        facts += [html.Dt(c.en if lang == "en" else c.zh), html.Dd(text)]
    last = row.get("last_inspection")
    facts += [html.Dt(t("map.hover.last_inspection", lang)),
              html.Dd(t("map.hover.never", lang) if last is None or pd.isna(last) else _fmt(pd.Timestamp(last)))]

    hz_rows = []
    for _, h in d["hazards"].iterrows():
        tags = [html.Span(label(HAZARD_STATUS, h["status"], lang),
                          className="status-tag closed" if h["status"] == "closed" else "status-tag")]
        if _flag(h.get("overdue")):
            tags.append(html.Span(t("object.overdue", lang), className="status-tag overdue"))
        hz_rows.append([html.Span(label(HAZARD_LEVELS, h["level"], lang),
                                  className="status-tag major" if h["level"] == "major" else "status-tag"),
                        html.A(_text(h.get("description"), h.get("type")),
                               href=with_query("/hazard", None, id=str(h["id"]), lang=lang if lang != "zh" else None)),
                        html.Span(tags), _fmt(h.get("found_date")),
                        _fmt(h.get("deadline")), _fmt(h.get("closed_date")), _five(h, lang),
                        _fmt(h.get("responsible_person"))])
    insp_rows = [[_fmt(i.get("date")), _fmt(i.get("team_id")), label(INSPECTION_RESULTS, i.get("result"), lang)
                  if isinstance(i.get("result"), str) else "—", _fmt(i.get("hazards_found")),
                  label(INSPECTION_ACTIONS, i.get("action"), lang) if isinstance(i.get("action"), str) else "—"]
                 for _, i in d["inspections"].iterrows()]
    acc = d["accidents"]
    acc_rows = []
    repeats = _repeats(layer, str(object_id), d, city)
    again_kinds = set(repeats.loc[repeats["basis"] == "accident_kind", "type"].astype(str))
    if len(acc):
        for _, a in acc.iterrows():
            kind = label(ACCIDENT_KINDS, a.get("kind"), lang) if isinstance(a.get("kind"), str) else "—"
            again = isinstance(a.get("kind"), str) and a["kind"] in again_kinds
            acc_rows.append([_fmt(a.get("date")), html.Span([kind, html.Span(t("object.repeat", lang),
                                                                              className="status-tag overdue")
                                                             if again else None]),
                             _fmt(a.get("deaths")), _fmt(a.get("injuries")), _fmt(a.get("description"))])
    resp_rows = [[(r.get("name_en") if lang == "en" and isinstance(r.get("name_en"), str) else _fmt(r.get("name"))),
                  t("object.lead", lang) if _flag(r.get("lead")) else "", _fmt(r.get("officer"))]
                 for _, r in d["responsibilities"].iterrows()]
    near = d["nearby"]
    near_rows = [[html.A(n, href=with_query("/object", None, layer=lay, id=str(i), lang=lang if lang != "zh"
                                            else None)) if lay in OBJECT_LAYERS else n,
                  LAYERS[lay].en if lang == "en" else LAYERS[lay].zh, f"{dist:,.0f}"]
                 for lay, i, n, dist in zip(near["layer"], near["id"], near["name"], near["distance_m"], strict=True)
                 ][:25]
    radius = int(d["radius_m"])
    mini = surroundings_map(city, layer, row, near, radius_m=radius, lang=lang) if pd.notna(row.get("x")) else None

    district, town = row.get("district_code"), row.get("town_code")
    crumbs = [dcc.Link(t("nav.map", lang), href=with_query("/", None, lang=lang if lang != "zh" else None))]
    if isinstance(district, str):
        crumbs += [html.Span("›", className="crumb-sep"),
                   dcc.Link(names.get(district, district), href=with_query("/", None, district=district,
                                                                           lang=lang if lang != "zh" else None))]
    if isinstance(district, str) and isinstance(town, str):
        crumbs += [html.Span("›", className="crumb-sep"),
                   dcc.Link(names.get(town, town), href=with_query("/", None, district=district, town=town,
                                                                   lang=lang if lang != "zh" else None))]
    grade = row.get("grade")
    return [
        html.Div([
            html.Nav(crumbs, className="breadcrumb", id="object-crumb"),
            html.H2(str(row.get("name") or object_id), id="object-name"),
            _incident_link(layer, str(object_id), lang),
            _repeat_banner(repeats, lang),
            html.Div([schema.en if lang == "en" else schema.zh, " · ",
                      html.Span(label(GRADES, grade, lang), className="status-tag",
                                style={"background": GRADES[grade]["color"], "color": "#fff"})
                      if isinstance(grade, str) and grade in GRADES else None], className="sub"),
            html.Section([html.H3(t("object.facts", lang)), html.Dl(facts, className="facts", id="object-facts")]),
            html.Section([html.H3(t("object.hazards", lang)), html.Div(t("object.as_of", lang) + f" {d['as_of']}",
                                                                        className="muted"),
                          _table([t(f"object.col.{k}", lang) for k in ("level", "description", "status", "found",
                                                                        "deadline", "closed", "five", "person")],
                                 hz_rows, "object-hazards", lang)]),
            html.Section([html.H3(t("object.inspections", lang)),
                          _table([t(f"object.col.{k}", lang) for k in ("date", "team", "result", "found_n", "action")],
                                 insp_rows, "object-inspections", lang)]),
            html.Section([html.H3(t("object.accidents", lang)),
                          _table([t(f"object.col.{k}", lang) for k in ("date", "kind", "deaths", "injuries",
                                                                        "description")],
                                 acc_rows, "object-accidents", lang)]),
            ledger_enforcement.section(layer, str(object_id), lang),   # orders, state, blacklist (the ledger)
        ]),
        html.Div([
            html.Section([html.H3(t("object.responsibility", lang)),
                          _table([t("object.col.department", lang), "", t("object.col.officer", lang)], resp_rows,
                                 "object-responsibility", lang)]),
            html.Section([html.H3(t("object.surroundings", lang).format(r=radius)),
                          dcc.Graph(id="object-map", figure=mini, className="mini-map",
                                    config=graph_config(scrollZoom=True, displayModeBar=False))
                          if mini else html.Div("—"),
                          html.H3(t("object.nearby_n", lang), style={"marginTop": "10px"}),
                          _table([t("object.col.name", lang), t("object.col.layer", lang),
                                  t("object.col.distance", lang)], near_rows, "object-nearby", lang)]),
        ]),
    ]


def _incident_link(layer: str, object_id: str, lang: str) -> dcc.Link | None:
    """"Incident here" (/incident?target=…) for a user who may open incidents."""
    from layers.access import GRANTS
    from layers.access.policy import LEGACY_ROLES

    role = (context.current_user() or {}).get("role") or ""
    if "incident" not in GRANTS.get(LEGACY_ROLES.get(role, role), frozenset()):
        return None
    return dcc.Link(t("inc.here", lang), href=with_query("/incident", None, target=f"{layer}:{object_id}",
                                                         lang=lang if lang != "zh" else None),
                    id="object-incident", className="object-incident no-print")


@context.checked("read", denied=denied_page)
def layout(layer: str | None = None, id: str | None = None, lang: str | None = None, **query: str  # noqa: A002
           ) -> html.Div:
    lang = norm_lang(lang)
    head = navbar(lang, "/object", {"lang": lang, "layer": layer or "", "id": id or ""})
    if not layer or not id:
        return html.Div([head, html.Div(calm_message(lang, RiskMapError(t("object.missing", lang))),
                                        className="page")], className="object-page")
    try:
        body = detail_page(layer, id, lang)
    except Exception as exc:  # the edge: calm text, traceback (or refusal) to the log
        if isinstance(exc, AccessDenied):
            log.warning("object page refused: %s", exc)
        else:
            log.exception("object page failed for %s:%s", layer, id)
        return html.Div([head, html.Div(calm_message(lang, exc), className="page")], className="object-page")
    return html.Div([head, html.Div(body, className="page")], className="object-page")


# -- the ledger's enforcement section: issuing an order (dashboard.ledger.enforcement) -------------------------

@callback(Output(ObjectLedgerIds.MSG, "children"), Output(ObjectLedgerIds.SECTION, "children"),
          Input(ObjectLedgerIds.ISSUE, "n_clicks"), State(ObjectLedgerIds.KIND, "value"),
          State(ObjectLedgerIds.DOC_NO, "value"), State(ObjectLedgerIds.DATE, "date"),
          State(ObjectLedgerIds.REASON, "value"), State(ObjectLedgerIds.GROUND, "value"),
          State(ObjectLedgerIds.HAZARDS, "value"), State(ObjectLedgerIds.CHECK, "value"),
          State(ObjectLedgerIds.TARGET, "data"), State("url", "search"), prevent_initial_call=True)
@guarded(lambda exc: (calm_message("zh", exc), no_update))
@context.checked("enforce")
def issue_order(n, kind, doc_no, day, reason, ground, hazard_ids, check_id, target, search):
    """Issue the order of the form (the target is re-read and the user's area checked in layers.ledger)."""
    from dashboard.i18n import lang_from_search

    if not n:
        return no_update, no_update
    return ledger_enforcement.issue(kind, doc_no, day, reason, ground, hazard_ids, check_id, target,
                                    lang_from_search(search))


@callback(Output(ObjectLedgerIds.MSG, "children", allow_duplicate=True),
          Output(ObjectLedgerIds.SECTION, "children", allow_duplicate=True),
          Input(ObjectLedgerIds.BL_ADD, "n_clicks"), State(ObjectLedgerIds.BL_REASON, "value"),
          State(ObjectLedgerIds.BL_BASIS, "value"), State(ObjectLedgerIds.BL_START, "date"),
          State(ObjectLedgerIds.BL_END, "date"), State(ObjectLedgerIds.TARGET, "data"), State("url", "search"),
          prevent_initial_call=True)
@guarded(lambda exc: (calm_message("zh", exc), no_update))
@context.checked("ledger.city")
def blacklist_add(n, reason, basis, start, end, target, search):
    """Put the object on the blacklist (the target and the basis are re-read and checked in layers.ledger)."""
    from dashboard.i18n import lang_from_search

    if not n:
        return no_update, no_update
    return ledger_enforcement.blacklist(True, reason, basis, start, end, None, None, target, lang_from_search(search))


@callback(Output(ObjectLedgerIds.MSG, "children", allow_duplicate=True),
          Output(ObjectLedgerIds.SECTION, "children", allow_duplicate=True),
          Input(ObjectLedgerIds.BL_REMOVE, "n_clicks"), State(ObjectLedgerIds.BL_REMOVE_REASON, "value"),
          State(ObjectLedgerIds.BL_ENTRY, "data"), State(ObjectLedgerIds.TARGET, "data"), State("url", "search"),
          prevent_initial_call=True)
@guarded(lambda exc: (calm_message("zh", exc), no_update))
@context.checked("ledger.city")
def blacklist_remove(n, reason, entry, target, search):
    """Take the object's entry off the blacklist (its version as the page showed it)."""
    from dashboard.i18n import lang_from_search

    if not n:
        return no_update, no_update
    return ledger_enforcement.blacklist(False, None, None, None, None, reason, entry, target,
                                        lang_from_search(search))
