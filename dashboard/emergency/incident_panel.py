"""The first hour as HTML beside the map, the incident list with its close form, and the sheet's body.

Plain functions from :class:`layers.emergency.FirstHour` (or the stored record) to Dash components; Dash escapes
every text it renders."""

from __future__ import annotations

import pandas as pd
from dash import dcc, html

from dashboard.emergency import incident_text as _text  # noqa: F401  (the strings)
from dashboard.i18n import t, with_query
from layers.emergency import FirstHour, IncidentSheet
from layers.schema import (
    DRILL_KINDS,
    GRADES,
    HAZARD_LEVELS,
    HAZARD_STATUS,
    INCIDENT_KINDS,
    INCIDENT_STATUS,
    LAYERS,
    PRESSURE_CLASSES,
    RESOURCE_KINDS,
    VENUE_KINDS,
    label,
)

#: rows of each list around the place shown beside the map (nearest first; the sheet and the record keep all)
LIST_LIMIT = 12


def _txt(v: object) -> str:
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
        return "—"
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    return str(v)


def _table(headers: list[str], rows: list[list], tid: str, lang: str, *, limit: int | None = None
           ) -> html.Table | html.Div:
    """A small table; beyond ``limit`` rows the nearest are shown and the rest counted (the sheet has all)."""
    if not rows:
        return html.Div(t("inc.none", lang), className="muted", id=tid)
    more = len(rows) - limit if limit is not None and len(rows) > limit else 0
    shown = rows[:limit] if more else rows
    body = [html.Tr([html.Td(c) for c in r]) for r in shown]
    if more:
        body.append(html.Tr(html.Td(t("inc.more", lang).format(n=more), colSpan=len(headers), className="muted")))
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in headers])), html.Tbody(body)], className="mini-table",
                      id=tid)


def _lang_q(lang: str) -> str | None:
    return lang if lang != "zh" else None


def first_hour_panel(fh: FirstHour, lang: str, *, access_kmh: float, district_name: str | None) -> list:
    """The results beside the map, in the order a duty officer reads them."""
    p = fh.place
    where = [html.Div([html.B(t("inc.place", lang) + "："), f"{p['lon']:.5f}, {p['lat']:.5f} · ",
                       t("inc.district", lang) + " ", district_name or t("inc.no_district", lang)],
                      id="inc-where")]
    if p.get("target"):
        layer, _, oid = p["target"].partition(":")
        where.append(html.Div([html.B(t("inc.object", lang) + "："),
                               dcc.Link(p.get("name") or oid, href=with_query("/object", None, layer=layer, id=oid,
                                                                              lang=_lang_q(lang))),
                               f" ({LAYERS[layer].en if lang == 'en' else LAYERS[layer].zh})"], id="inc-object"))
    method = t("inc.method.road", lang).format(kmh=access_kmh) if p.get("method") == "road" else \
        t("inc.method.straight", lang)
    where.append(html.Div(method, className="muted"))

    # resources, one block per needed kind
    blocks = []
    for kind in fh.needs:
        sub = fh.resources[fh.resources["kind"] == kind]
        head = html.H4([html.Span(className="legend-dot", style={"background": RESOURCE_KINDS[kind]["color"]}),
                        label(RESOURCE_KINDS, kind, lang)], className="inc-kind")
        if len(sub) == 0:
            blocks.append(html.Div([head, html.Div(t("inc.none_ready", lang).format(
                kind=label(RESOURCE_KINDS, kind, lang)), className="inc-missing")],
                className="inc-res-kind", **{"data-kind": kind}))
            continue
        rows = [[str(r["rank"]), r["name"], html.B(t("inc.minutes", lang).format(m=r["minutes"])),
                 f"{r['distance_m'] / 1000:.1f} km", _txt(r.get("phone"))] for r in sub.to_dict("records")]
        blocks.append(html.Div([head, _table([t(f"inc.col.{k}", lang) for k in ("rank", "name", "minutes",
                                                                                 "distance", "phone")],
                                             rows, f"inc-res-{kind}", lang)],
                               className="inc-res-kind", **{"data-kind": kind}))

    hz_rows = [[r["name"], label(GRADES, r["grade"], lang) if isinstance(r.get("grade"), str) else "—",
                f"{r['distance_m']:,.0f} m"] for r in fh.hazchem.to_dict("records")]
    pipe_rows = [[r["id"], label(PRESSURE_CLASSES, r["pressure"], lang), _txt(r.get("material")),
                  f"{r['distance_m']:,.0f} m"] for r in fh.pipelines.to_dict("records")]
    ven_rows = []
    for r in fh.venues.to_dict("records"):
        kind = label(VENUE_KINDS, r["kind"], lang)
        ven_rows.append([r["name"], html.B(kind) if r.get("school") else kind, _txt(r.get("capacity")),
                         f"{r['distance_m']:,.0f} m"])
    people = int(pd.to_numeric(fh.venues["capacity"], errors="coerce").fillna(0).sum()) if len(fh.venues) else 0
    around = [
        html.H3(t("inc.hazchem", lang).format(r=fh.radius_m)),
        _table([t("inc.col.name", lang), t("inc.col.grade", lang), t("inc.col.distance", lang)], hz_rows,
               "inc-hazchem", lang, limit=LIST_LIMIT),
        html.H3(t("inc.pipelines", lang).format(r=fh.radius_m)),
        _table(["ID", t("inc.col.pressure", lang), t("inc.col.material", lang), t("inc.col.distance", lang)],
               pipe_rows, "inc-pipelines", lang, limit=LIST_LIMIT),
        html.H3(t("inc.venues", lang).format(r=fh.warn_radius_m)),
        html.Div(t("inc.people", lang).format(n=people), className="muted") if ven_rows else None,
        _table([t("inc.col.name", lang), t("inc.col.kind", lang), t("inc.col.capacity", lang),
                t("inc.col.distance", lang)], ven_rows, "inc-venues", lang, limit=LIST_LIMIT),
    ]

    obj: list = [html.H3(t("inc.plan", lang))]
    plan, drill = fh.plan, fh.drill
    if plan:
        own = plan.get("target_layer") != "districts"
        obj.append(html.Div([f"{plan.get('title') or plan.get('id')} · {_txt(plan.get('plan_version'))} · "
                             f"{_txt(plan.get('filed_date'))}", "" if own else t("inc.district_plan", lang)],
                            id="inc-plan"))
    else:
        obj.append(html.Div(t("inc.no_plan", lang), className="inc-missing", id="inc-plan"))
    obj.append(html.H3(t("inc.drill", lang)))
    if drill:
        obj.append(html.Div(f"{_txt(drill.get('date'))} · "
                            f"{label(DRILL_KINDS, drill['kind'], lang) if drill.get('kind') else '—'} · "
                            + t("inc.days_ago", lang).format(n=drill.get("days_ago")), id="inc-drill"))
    else:
        obj.append(html.Div(t("inc.no_drill", lang), className="inc-missing", id="inc-drill"))
    if p.get("target"):
        hz = [[html.Span(label(HAZARD_LEVELS, r["level"], lang),
                         className="status-tag major" if r["level"] == "major" else "status-tag"),
               dcc.Link(_txt(r.get("description") if isinstance(r.get("description"), str) else r.get("type")),
                        href=with_query("/hazard", None, id=str(r["id"]), lang=_lang_q(lang))),
               html.Span([label(HAZARD_STATUS, r["status"], lang),
                          html.Span(t("inc.overdue", lang), className="status-tag overdue") if r["overdue"]
                          else None]), _txt(r.get("deadline"))] for r in fh.hazards.to_dict("records")]
        obj += [html.H3(t("inc.hazards", lang)),
                _table([t(f"inc.col.{k}", lang) for k in ("level", "type", "status", "deadline")], hz,
                       "inc-hazards", lang)]
        sup = [[(r["department_en"] if lang == "en" and isinstance(r.get("department_en"), str) else
                 _txt(r.get("department"))), _txt(r.get("department_phone")), t("inc.lead", lang) if r["lead"]
                else "", _txt(r.get("officer")), _txt(r.get("officer_phone"))]
               for r in fh.supervision.to_dict("records")]
        contact = " ".join(c for c in (fh.contact, fh.contact_phone) if c)
        obj += [html.H3(t("inc.supervision", lang)),
                _table([t("inc.col.department", lang), t("inc.col.duty_phone", lang), "", t("inc.col.officer", lang),
                        t("inc.col.officer_phone", lang)], sup, "inc-supervision", lang),
                html.Div(t("inc.contact", lang).format(c=contact), id="inc-contact") if contact else None]
    else:
        obj.append(html.Div(t("inc.no_object", lang), className="muted"))
    return [html.Div(where, className="inc-where"),
            html.Section([html.H3(t("inc.resources", lang)), *blocks], id="inc-resources"),
            html.Section(around, id="inc-around"), html.Section(obj, id="inc-object-file")]


def incidents_table(frame: pd.DataFrame, lang: str) -> html.Table | html.Div:
    """The incident list: kind, status, when, who, the sheet."""
    if len(frame) == 0:
        return html.Div(t("inc.list_empty", lang), className="muted", id="inc-list-table")
    rows = []
    for r in frame.to_dict("records"):
        rows.append([r["id"], label(INCIDENT_KINDS, r["kind"], lang),
                     html.Span(label(INCIDENT_STATUS, r["status"], lang),
                               className="status-tag" if r["status"] == "open" else "status-tag closed"),
                     _txt(r.get("opened_at")), _txt(r.get("opened_by")), _txt(r.get("district_code")),
                     dcc.Link(t("inc.sheet", lang), href=with_query("/incident/sheet", None, id=str(r["id"]),
                                                                   lang=_lang_q(lang)))])
    heads = ["ID", t("inc.col.kind", lang), t("inc.col.status", lang), t("inc.col.opened", lang),
             t("inc.col.by", lang), t("inc.district", lang), t("inc.col.sheet", lang)]
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in heads])),
                       html.Tbody([html.Tr([html.Td(c) for c in r], **{"data-id": r[0]}) for r in rows])],
                      className="mini-table", id="inc-list-table")


def close_options(frame: pd.DataFrame, lang: str) -> tuple[list[dict], dict[str, int]]:
    """The open incidents to pick for closing, and the version of each as the list shows it."""
    open_ = frame[frame["status"] == "open"] if len(frame) else frame
    opts = [{"label": f"{r['id']} · {label(INCIDENT_KINDS, r['kind'], lang)} · {_txt(r.get('opened_at'))}",
             "value": str(r["id"])} for r in open_.to_dict("records")]
    versions = {str(r["id"]): int(r["version"]) if pd.notna(r.get("version")) else 0
                for r in open_.to_dict("records")}
    return opts, versions


def sheet_body(sheet: IncidentSheet) -> list:
    """The printable sheet: the summary as a definition list, then one table per section."""
    from layers.emergency.incident_sheet import SECTIONS

    lang = sheet.lang
    i = 1 if lang == "en" else 0
    dl = []
    for k, v in sheet.summary:
        dl += [html.Dt(k), html.Dd(v)]
    out: list = [html.H1(sheet.title, id="inc-sheet-title"), html.Dl(dl, className="facts inc-sheet-facts")]
    for key, frame in sheet.tables.items():
        rows = [[_txt(v) for v in r] for r in frame.itertuples(index=False)]
        out.append(html.Section([html.H3(SECTIONS[key][i]),
                                 _table(list(frame.columns), rows, f"inc-sheet-{key}", lang)],
                                className="inc-sheet-section"))
    return out


__all__ = ["first_hour_panel", "incidents_table", "close_options", "sheet_body"]
