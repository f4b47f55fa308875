"""What the ledger pages show: filter controls, grid columns and rows, the ledger's map, a hazard's page body.

Plain functions of frames the ``layers.ledger`` functions return (already narrowed to the user's area); nothing
here reads the store except through the callers' arguments, and nothing trusts the browser.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from urllib.parse import quote

import numpy as np
import pandas as pd
from dash import dcc, html

from dashboard.components.dates import date_picker, date_range
from dashboard.components.grid import col, grid
from dashboard.components.mapfig import esc, ring_coords, typed
from dashboard.components.mapfig.convert import on_map
from dashboard.i18n import dropdown_labels, t
from dashboard.ledger import text as _text  # noqa: F401  (registers the words)
from dashboard.ledger.ids import HazardIds, HazardsIds
from layers.ledger import deadlines
from layers.ledger.query import BUCKET_FILTERS, MISSING_FILTERS, LedgerQuery, missing_label
from layers.ledger.workflow import DETAILS, STEPS, five_elements
from layers.schema import (
    FIVE_IN_PLACE,
    HAZARD_LEVELS,
    HAZARD_STATUS,
    INDUSTRIES,
    LAYERS,
    OBJECT_LAYERS,
    label,
)

#: marker colours of the ledger map: by level, closed in grey; overdue and listed drawn around the point
LEVEL_COLOURS = {"general": "#1E6FE0", "major": "#E5141B", "closed": "#9AA5B1"}
OVERDUE_COLOUR = "#FF8A00"
LISTED_COLOUR = "#7B2CBF"
MAP_POINTS = 20_000
#: the form of each workflow step: (field, kind); kinds: text, number, date, level
STEP_FORMS: dict[str, tuple[tuple[str, str], ...]] = {
    "start": (("responsible_person", "text"), ("measures", "text"), ("funds", "number"), ("deadline", "date"),
              ("plan_ref", "text"), ("missing_note", "text"), ("note", "text")),
    "submit": (("note", "text"),),
    "close": (("checker", "text"), ("check_date", "date"), ("evidence", "text"), ("note", "text")),
    "reject": (("reject_reason", "text"), ("checker", "text"), ("check_date", "date"), ("note", "text")),
    "edit": (("description", "text"), ("level", "level"), ("responsible_person", "text"), ("measures", "text"),
             ("funds", "number"), ("deadline", "date"), ("plan_ref", "text"), ("note", "text")),
    "list": (("listed_office", "text"), ("listed_deadline", "date"), ("listed_condition", "text"),
             ("note", "text")),
    "unlist": (("note", "text"),),
}
#: fields a step's form starts with the hazard's current value (what the user confirms or corrects)
_PREFILL = {"start": ("responsible_person", "measures", "funds", "deadline", "plan_ref"),
            "edit": ("description", "level", "responsible_person", "measures", "funds", "deadline", "plan_ref")}


def lang_q(lang: str) -> str | None:
    """The ``lang`` URL parameter: none for the default language."""
    return lang if lang != "zh" else None


def missing(v: object) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


def fmt(v: object) -> str:
    """A value for people: dates as ISO days, empty as "—"."""
    if missing(v) or (isinstance(v, str) and not v.strip()):
        return "—"
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return f"{v:.0f}"
    return str(v)


def field_label(layer: str, name: str, lang: str) -> str:
    if name == "note":
        return t("hzd.note", lang)
    if name == "missing_note":
        return t("hzd.missing_note", lang)
    c = LAYERS[layer].column(name)
    return c.en if lang == "en" else c.zh


def step_label(step: str, lang: str) -> str:
    s = STEPS[step]
    return s.en[:1].upper() + s.en[1:] if lang == "en" else s.zh


def _md(text: str) -> str:
    """Text safe inside a Markdown link label."""
    return "".join("\\" + ch if ch in "\\[]()*_`<>#!|~" else ch for ch in str(text))


def hazard_href(hid: str, lang: str) -> str:
    return f"/hazard?id={quote(str(hid))}" + (f"&lang={lang}" if lang != "zh" else "")


def object_href(layer: str, oid: str, lang: str) -> str:
    return f"/object?layer={quote(str(layer))}&id={quote(str(oid))}" + (f"&lang={lang}" if lang != "zh" else "")


# --------------------------------------------------------------------------------------------------
# the ledger page: filters
# --------------------------------------------------------------------------------------------------

def _opts(mapping: Mapping, lang: str) -> list[dict]:
    return [{"label": label(mapping, k, lang), "value": k} for k in mapping]


def _areas(frame: pd.DataFrame, lang: str) -> list[dict]:
    out = []
    for r in frame.itertuples(index=False):
        name = r.name_en if lang == "en" and isinstance(r.name_en, str) and r.name_en else r.name
        out.append({"label": f"{name} ({r.code})", "value": str(r.code)})
    return out


def filter_controls(q: LedgerQuery, lang: str, *, districts: pd.DataFrame, towns: pd.DataFrame,
                    departments: pd.DataFrame) -> html.Div:
    """The filter bar, preset from the query (which came from the URL)."""
    labels = dropdown_labels(lang)

    def drop(cid: str, key: str, options: list[dict], value: tuple, width: str = "170px") -> html.Div:
        return html.Div([html.Label(t(key, lang), htmlFor=cid, className="filter-label"),
                         dcc.Dropdown(id=cid, options=options, value=list(value), multi=True, labels=labels,
                                      placeholder=t("hz.all", lang))], className="filter", style={"minWidth": width})

    buckets = [{"label": deadlines.bucket_label(b, lang) if b != "overdue" else t("hz.bucket.overdue", lang),
                "value": b} for b in BUCKET_FILTERS]
    missing_opts = [{"label": label(FIVE_IN_PLACE, k, lang) if k != "any" else t("hz.missing.any", lang),
                     "value": k} for k in MISSING_FILTERS]
    layers = [{"label": LAYERS[k].en if lang == "en" else LAYERS[k].zh, "value": k} for k in OBJECT_LAYERS]
    depts = [{"label": (r.name_en if lang == "en" and isinstance(r.name_en, str) and r.name_en else r.name),
              "value": str(r.id)} for r in departments.itertuples(index=False)]
    return html.Div(className="panel ledger-filters", children=[
        drop(HazardsIds.DISTRICT, "hz.district", _areas(districts, lang), q.district),
        drop(HazardsIds.TOWN, "hz.town", _areas(towns, lang), q.town),
        drop(HazardsIds.INDUSTRY, "hz.industry", _opts(INDUSTRIES, lang), q.industry),
        drop(HazardsIds.LAYER, "hz.layer", layers, q.layer),
        drop(HazardsIds.LEVEL, "hz.level", _opts(HAZARD_LEVELS, lang), q.level, "140px"),
        drop(HazardsIds.STATUS, "hz.status", _opts(HAZARD_STATUS, lang), q.status),
        drop(HazardsIds.BUCKET, "hz.bucket", buckets, q.bucket),
        drop(HazardsIds.MISSING, "hz.missing", missing_opts, q.missing),
        drop(HazardsIds.DEPARTMENT, "hz.department", depts, q.department, "200px"),
        html.Div([html.Label(t("hz.found", lang), className="filter-label"),
                  date_range(lang=lang, id=HazardsIds.FOUND, clearable=True,
                                      start_date_placeholder_text=t("hz.from", lang),
                                      end_date_placeholder_text=t("hz.to", lang),
                                      start_date=q.found_from.isoformat() if q.found_from else None,
                                      end_date=q.found_to.isoformat() if q.found_to else None)],
                 className="filter"),
        html.Div([html.Label(t("hz.text", lang), htmlFor=HazardsIds.TEXT, className="filter-label"),
                  dcc.Input(id=HazardsIds.TEXT, value=q.text, debounce=True, type="search",
                            placeholder=t("hz.text", lang), style={"width": "240px"})], className="filter"),
        html.Button(t("hz.reset", lang), id=HazardsIds.RESET, n_clicks=0, className="filter-reset"),
    ])


def query_of(district, town, industry, layer, level, status, bucket, missing_, found_from, found_to,
             department, text, *, base: LedgerQuery) -> LedgerQuery:
    """The query of the filter controls (sort and page size kept from ``base``), validated like a URL."""
    params: dict[str, object] = {k: v for k, v in (
        ("district", district), ("town", town), ("industry", industry), ("layer", layer), ("level", level),
        ("status", status), ("bucket", bucket), ("missing", missing_), ("department", department)) if v}
    for k, v in (("found_from", found_from), ("found_to", found_to)):
        if v:
            params[k] = str(v)[:10]
    if text:
        params["text"] = str(text)
    params["sort"] = base.sort
    params["dir"] = "desc" if base.desc else "asc"
    params["page_size"] = str(base.page_size)
    return LedgerQuery.from_url({k: (",".join(v) if isinstance(v, (list, tuple)) else v) for k, v in
                                 params.items()})


# --------------------------------------------------------------------------------------------------
# the ledger page: grid and rows
# --------------------------------------------------------------------------------------------------

def ledger_columns(lang: str) -> list[dict]:
    """Column definitions of the ledger grid; each field is a ledger column the server can sort by."""
    def c(field: str, header: str, width: int, **kw) -> dict:
        return {"field": field, "headerName": header, "width": width, **kw}

    def h(name: str) -> str:
        return field_label("hazards", name, lang)

    return [
        c("id", t("hz.col.open", lang), 130, cellRenderer="markdown", pinned="left"),
        c("target_name", t("hz.col.target", lang), 210, cellRenderer="markdown"),
        c("district_name", t("hz.district", lang), 90),
        c("type", h("type"), 170),
        c("level", h("level"), 96),
        c("status", h("status"), 90),
        c("found_date", h("found_date"), 108),
        c("deadline", h("deadline"), 108),
        c("days_left", t("hz.col.days_left", lang), 96, type="numericColumn"),
        c("n_missing", t("hz.col.missing", lang), 190),
        c("responsible_person", h("responsible_person"), 110),
        c("department_name", h("department_id"), 180),
        c("listed", t("hz.col.flags", lang), 120),
    ]


def _name_col(frame: pd.DataFrame, column: str, lang: str) -> pd.Series:
    s = frame[column].astype(object)
    if lang == "en" and column + "_en" in frame.columns:
        s = frame[column + "_en"].astype(object).where(frame[column + "_en"].notna(), s)
    return s


def flags_text(r: Mapping, lang: str) -> str:
    out = []
    if r.get("listed") is True or r.get("listed") == 1:
        out.append(t("hz.flag.listed", lang))
    if r.get("repeat") is True or r.get("repeat") == 1:
        out.append(t("hz.flag.repeat", lang))
    state = r.get("enterprise_state")
    if state in ("suspended", "closed"):
        out.append(t(f"hz.flag.{state}", lang))
    return " · ".join(out)


def ledger_rows(page: pd.DataFrame, lang: str) -> list[dict]:
    """One page of ledger rows as the grid shows them (labels in ``lang``, links to the hazard and object)."""
    if len(page) == 0:
        return []
    district = _name_col(page, "district_name", lang)
    dept = _name_col(page, "department_name", lang)
    rows = []
    for i, r in enumerate(page.to_dict("records")):
        dl = r.get("days_left")
        name = r.get("target_name") if isinstance(r.get("target_name"), str) else r.get("target_id")
        rows.append({
            "id": f"[{_md(r['id'])}]({hazard_href(r['id'], lang)})", "hazard_id": str(r["id"]),
            "target_name": f"[{_md(name)}]({object_href(r['target_layer'], r['target_id'], lang)})"
            if r.get("target_layer") in OBJECT_LAYERS else _md(str(name)),
            "district_name": fmt(district.iloc[i]), "type": fmt(r.get("type")),
            "level": label(HAZARD_LEVELS, r.get("level"), lang) if isinstance(r.get("level"), str) else "—",
            "status": label(HAZARD_STATUS, r.get("status"), lang) if isinstance(r.get("status"), str) else "—",
            "found_date": fmt(r.get("found_date")), "deadline": fmt(r.get("deadline")),
            "days_left": None if missing(dl) else int(dl),
            "n_missing": missing_label(r.get("missing"), lang) or "—",
            "responsible_person": fmt(r.get("responsible_person")), "department_name": fmt(dept.iloc[i]),
            "listed": flags_text(r, lang), "raw_level": r.get("level"), "raw_status": r.get("status"),
            "bucket": r.get("bucket"),
        })
    return rows


def sort_of(request: Mapping | None) -> tuple[str | None, bool]:
    """The (column, descending) the grid's request sorts by (None = the query's own)."""
    model = (request or {}).get("sortModel") or []
    if not isinstance(model, list) or not model or not isinstance(model[0], Mapping):
        return None, False
    return str(model[0].get("colId") or ""), model[0].get("sort") == "desc"


def ledger_grid(lang: str, page_size: int) -> object:
    row_style = {"styleConditions": [
        {"condition": "params.data && params.data.bucket && params.data.bucket.startsWith('overdue')",
         "style": {"backgroundColor": "#fff3e0"}},
        {"condition": "params.data && params.data.raw_level === 'major'", "style": {"fontWeight": "600"}}]}
    return grid(HazardsIds.GRID, None, ledger_columns(lang), lang, infinite=True, page_size=page_size,
                height="560px", row_id="hazard_id", getRowStyle=row_style, className="ledger-grid", columnSize=None,
                default_col={"autoHeight": False, "wrapText": False},
                grid_options={"rowHeight": 34, "tooltipShowDelay": 300})


def list_grid(gid: str, rows: list[dict], columns: list[dict], lang: str) -> object:
    return grid(gid, rows, columns, lang, page_size=15)


def escalation_rows(frame: pd.DataFrame, lang: str) -> list[dict]:
    """Rows of an escalation list (``layers.ledger.deadlines.escalation``): overdue hazards with who answers."""
    out = []
    for r in frame.to_dict("records"):
        out.append({"id": f"[{_md(r.get('id'))}]({hazard_href(r.get('id'), lang)})",
                    "target_name": fmt(r.get("target_name")), "type": fmt(r.get("type")),
                    "level": label(HAZARD_LEVELS, r.get("level"), lang) if isinstance(r.get("level"), str) else "—",
                    "deadline": fmt(r.get("deadline")),
                    "overdue": None if missing(r.get("days_left")) else -int(r.get("days_left")),
                    "responsible_person": fmt(r.get("responsible_person")),
                    "department": fmt(r.get("department_name_en") if lang == "en" and isinstance(
                        r.get("department_name_en"), str) else r.get("department_name")),
                    "officer": fmt(r.get("officer")), "district": fmt(r.get("district_name"))})
    return out


def escalation_columns(lang: str) -> list[dict]:
    return [col("hz.col.open", "id", lang, cellRenderer="markdown", minWidth=150),
            col("hz.col.target", "target_name", lang, minWidth=180),
            {"field": "district", "headerName": t("hz.district", lang)},
            {"field": "type", "headerName": field_label("hazards", "type", lang)},
            {"field": "level", "headerName": field_label("hazards", "level", lang)},
            {"field": "deadline", "headerName": field_label("hazards", "deadline", lang)},
            col("hzd.days_left", "overdue", lang, headerName=t("hz.map.overdue", lang), type="numericColumn",
                sort="desc"),
            {"field": "responsible_person", "headerName": field_label("hazards", "responsible_person", lang)},
            {"field": "department", "headerName": field_label("hazards", "department_id", lang)},
            col("acc.charged", "officer", lang, headerName=LAYERS["responsibilities"].column("officer").zh
                if lang != "en" else LAYERS["responsibilities"].column("officer").en)]


def major_rows(frame: pd.DataFrame, lang: str) -> list[dict]:
    out = []
    for r in frame.to_dict("records"):
        listed = bool(r.get("listed")) if not missing(r.get("listed")) else False
        out.append({"id": f"[{_md(r['id'])}]({hazard_href(r['id'], lang)})", "target_name": fmt(r.get("target_name")),
                    "type": fmt(r.get("type")), "status": label(HAZARD_STATUS, r.get("status"), lang),
                    "deadline": fmt(r.get("deadline")),
                    "days_left": None if missing(r.get("days_left")) else int(r.get("days_left")),
                    "listed": t("hz.yes" if listed else "hz.no", lang),
                    "listed_office": fmt(r.get("listed_office")), "listed_deadline": fmt(r.get("listed_deadline")),
                    "district": fmt(r.get("district_name"))})
    return out


def major_columns(lang: str) -> list[dict]:
    return [col("hz.col.open", "id", lang, cellRenderer="markdown", minWidth=150),
            col("hz.col.target", "target_name", lang, minWidth=180),
            {"field": "district", "headerName": t("hz.district", lang)},
            {"field": "type", "headerName": field_label("hazards", "type", lang)},
            {"field": "status", "headerName": field_label("hazards", "status", lang)},
            {"field": "deadline", "headerName": field_label("hazards", "deadline", lang)},
            col("hz.col.days_left", "days_left", lang, type="numericColumn"),
            {"field": "listed", "headerName": field_label("hazards", "listed", lang)},
            {"field": "listed_office", "headerName": field_label("hazards", "listed_office", lang)},
            {"field": "listed_deadline", "headerName": field_label("hazards", "listed_deadline", lang)}]


# --------------------------------------------------------------------------------------------------
# the ledger's map
# --------------------------------------------------------------------------------------------------

def ledger_map(rows: pd.DataFrame, districts: pd.DataFrame, *, lang: str, total: int | None = None) -> dict:
    """The selection on a map: district outlines; hazards by level (closed in grey), overdue ringed in orange,
    listed supervision in a purple square. Each point's ``customdata`` is its hazard id."""
    traces: list[dict] = []
    bounds = tuple(districts.total_bounds) if len(districts) else None
    if len(districts):
        x, y = ring_coords(districts.geometry.to_numpy())
        traces.append({"type": "scatter", "mode": "lines", "x": typed(x), "y": typed(y), "hoverinfo": "skip",
                       "line": {"color": "#5B6B82", "width": 1.2}, "showlegend": False, "name": "districts"})
    pts = rows[np.isfinite(rows["x"].to_numpy(dtype=float)) & np.isfinite(rows["y"].to_numpy(dtype=float))] \
        if len(rows) else rows
    pts = pts.head(MAP_POINTS)
    if len(pts):
        status = pts["status"].astype(object).to_numpy()
        level = pts["level"].astype(object).to_numpy()
        group = np.where(status == "closed", "closed", np.where(level == "major", "major", "general"))
        names = {"general": t("hz.map.general", lang), "major": t("hz.map.major", lang),
                 "closed": t("hz.map.closed", lang)}

        def hover(sel: pd.DataFrame) -> list[str]:
            return [f"{esc(i)} · {esc(n if isinstance(n, str) else '')}<br>{esc(ty if isinstance(ty, str) else '')}"
                    f"<br>{esc(label(HAZARD_STATUS, s, lang) if isinstance(s, str) else '')}"
                    for i, n, ty, s in zip(sel["id"], sel["target_name"], sel["type"], sel["status"], strict=True)]

        for g in ("closed", "general", "major"):
            sel = pts[group == g]
            if len(sel) == 0:
                continue
            traces.append({"type": "scattergl", "mode": "markers", "x": typed(sel["x"]), "y": typed(sel["y"]),
                           "name": names[g], "legendgroup": g, "meta": g,
                           "marker": {"size": 7 if g != "major" else 9, "color": LEVEL_COLOURS[g],
                                      "line": {"width": 0.5, "color": "#222"}},
                           "customdata": sel["id"].astype(str).tolist(), "text": hover(sel),
                           "hovertemplate": "%{text}<extra></extra>"})
        over = pts[pts["overdue"].fillna(False).astype(bool).to_numpy()] if "overdue" in pts else pts.iloc[0:0]
        if len(over):
            traces.append({"type": "scattergl", "mode": "markers", "x": typed(over["x"]), "y": typed(over["y"]),
                           "name": t("hz.map.overdue", lang), "meta": "overdue", "hoverinfo": "skip",
                           "customdata": over["id"].astype(str).tolist(),
                           "marker": {"size": 14, "color": "rgba(0,0,0,0)",
                                      "line": {"width": 2, "color": OVERDUE_COLOUR}}})
        listed = pts[pts["listed"].fillna(False).astype(bool).to_numpy()] if "listed" in pts else pts.iloc[0:0]
        if len(listed):
            traces.append({"type": "scattergl", "mode": "markers", "x": typed(listed["x"]), "y": typed(listed["y"]),
                           "name": t("hz.map.listed", lang), "meta": "listed", "hoverinfo": "skip",
                           "customdata": listed["id"].astype(str).tolist(),
                           "marker": {"size": 18, "symbol": "square-open", "color": LISTED_COLOUR,
                                      "line": {"width": 2, "color": LISTED_COLOUR}}})
    fig = on_map(traces, bounds, lang=lang, uirevision="ledger-map")   # MapLibre, on the basemap
    layout = fig["layout"]
    if total is not None and total > MAP_POINTS:
        layout["annotations"] = [{"text": esc(t("hz.map.capped", lang).format(n=MAP_POINTS, total=total)),
                                  "xref": "paper", "yref": "paper", "x": 0, "y": 0, "showarrow": False,
                                  "xanchor": "left", "yanchor": "bottom", "font": {"size": 11}}]
    return fig


# --------------------------------------------------------------------------------------------------
# one hazard
# --------------------------------------------------------------------------------------------------

def _tag(text: str, cls: str = "") -> html.Span:
    return html.Span(text, className=f"status-tag {cls}".strip())


def _mini(headers: list[str], rows: list[list], tid: str, lang: str) -> html.Table | html.Div:
    if not rows:
        return html.Div(t("hzd.none", lang), className="muted", id=tid)
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in headers])),
                       html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows])], className="mini-table",
                      id=tid)


def five_table(row: Mapping, lang: str) -> html.Table:
    """The five elements, each in place or missing, with who / what / how much / when / which plan."""
    rows = []
    for key, el in five_elements(row).items():
        detail = DETAILS[key]
        value = el["detail"]
        if detail == "funds" and value is not None:
            value = f"{value} {'万元' if lang != 'en' else '× 10k yuan'}"
        rows.append(html.Tr([html.Td(label(FIVE_IN_PLACE, key, lang)),
                             html.Td(_tag(t("hzd.present" if el["present"] else "hzd.absent", lang),
                                          "closed" if el["present"] else "overdue"),
                                     className="five-ok" if el["present"] else "five-missing"),
                             html.Td(f"{field_label('hazards', detail, lang)}: {value or '—'}")],
                            id=f"hzd-five-{key}", **{"data-present": "1" if el["present"] else "0"}))
    return html.Table(html.Tbody(rows), className="mini-table five-table", id="hzd-five")


def history_table(hist: pd.DataFrame, lang: str) -> html.Table | html.Div:
    rows = []
    for r in hist.to_dict("records"):
        action = r.get("action")
        what = step_label(action, lang) if action in STEPS else fmt(action)
        fieldname = r.get("field")
        try:
            flabel = field_label("hazards", fieldname, lang) if isinstance(fieldname, str) else "—"
        except KeyError:
            flabel = str(fieldname)
        words = {"status": HAZARD_STATUS, "level": HAZARD_LEVELS}.get(fieldname)

        def value(v: object, words: Mapping | None = words) -> str:
            if v in ("true", "false"):
                return t("hz.yes" if v == "true" else "hz.no", lang)
            return label(words, v, lang) if words and isinstance(v, str) and v in words else fmt(v)

        rows.append([fmt(r.get("at"))[:19].replace("T", " "), fmt(r.get("user_id")), what, flabel,
                     value(r.get("old_value")), value(r.get("new_value")), fmt(r.get("note"))])
    return _mini([t(f"hzd.col.{k}", lang) for k in ("at", "user", "action", "field", "old", "new", "note")], rows,
                 "hzd-history", lang)


def files_table(files: pd.DataFrame, lang: str) -> html.Table | html.Div:
    rows = [[html.A(str(f["filename"]), href=f"/hazard/file/{quote(str(f['id']))}", className="file-link"),
             f"{int(f['size']) / 1024:,.0f} KB", fmt(f.get("uploaded_by")), fmt(f.get("uploaded_at"))[:19]]
            for f in files.to_dict("records")]
    return _mini([t("hzd.col.file", lang), t("hzd.col.size", lang), t("hzd.col.by", lang), t("hzd.col.at", lang)],
                 rows, "hzd-files", lang)


def _field_input(step: str, name: str, kind: str, row: Mapping, lang: str) -> html.Div:
    value = row.get(name) if name in _PREFILL.get(step, ()) else None
    lab = field_label("hazards", name, lang)
    fid = {"type": HazardIds.FIELD, "step": step, "field": name}
    if kind == "date":
        d = value.date().isoformat() if isinstance(value, pd.Timestamp) and not pd.isna(value) else \
            (value.isoformat() if isinstance(value, date) else (str(value)[:10] if isinstance(value, str) else None))
        if name == "check_date":
            d = date.today().isoformat()
        control = date_picker(lang=lang, id={"type": HazardIds.DATE, "step": step, "field": name}, date=d,
                                       display_format="YYYY-MM-DD", clearable=True)
    elif kind == "level":
        control = dcc.Dropdown(id=fid, options=_opts(HAZARD_LEVELS, lang), value=value, clearable=False,
                               labels=dropdown_labels(lang), style={"minWidth": "140px"})
    else:
        control = dcc.Input(id=fid, type="number" if kind == "number" else "text", min=0 if kind == "number" else None,
                            value=None if missing(value) else value, style={"width": "100%"},
                            debounce=False)
    return html.Div([html.Label(lab), control], className="step-field")


def step_forms(row: Mapping, steps: list[str], lang: str) -> html.Div:
    """One panel per step the user may take now: its inputs and its button."""
    if not steps:
        return html.Div(t("hzd.no_actions", lang), className="muted", id="hzd-no-actions")
    panels = []
    for step in steps:
        fields = [_field_input(step, name, kind, row, lang) for name, kind in STEP_FORMS.get(step, ())]
        panels.append(html.Details([
            html.Summary(step_label(step, lang)),
            html.Div(fields, className="step-fields"),
            html.Button(step_label(step, lang), id={"type": HazardIds.STEP, "step": step}, n_clicks=0,
                        className="primary step-button"),
        ], open=step in ("start", "submit", "close"), className="step-form", id=f"hzd-form-{step}"))
    return html.Div(panels, className="step-forms")


def hazard_body(row: Mapping, ledger_row: Mapping | None, hist: pd.DataFrame, files: pd.DataFrame,
                steps: list[str], lang: str, *, upload_mb: float, can_attach: bool) -> list:
    """The hazard page below the top bar (``row``: the hazard as stored; ``ledger_row``: its ledger row with the
    target's name, area, department and days left)."""
    lr = dict(ledger_row or {})
    hid = str(row["id"])
    level, status = row.get("level"), row.get("status")
    tags = [_tag(label(HAZARD_LEVELS, level, lang), "major" if level == "major" else ""),
            _tag(label(HAZARD_STATUS, status, lang), "closed" if status == "closed" else "")]
    dl = lr.get("days_left")
    if not missing(dl) and dl is not None and int(dl) < 0:
        tags.append(_tag(t("hzd.overdue_by", lang).format(n=-int(dl)), "overdue"))
    if row.get("listed") is True:
        tags.append(_tag(t("hz.map.listed", lang), "listed"))
    layer, oid = str(row.get("target_layer")), str(row.get("target_id"))
    tname = lr.get("target_name") if isinstance(lr.get("target_name"), str) else oid
    target = dcc.Link(f"{tname} ({LAYERS[layer].en if lang == 'en' else LAYERS[layer].zh})",
                      href=object_href(layer, oid, lang), id="hzd-target") if layer in OBJECT_LAYERS else \
        html.Span(oid)
    facts = [("hzd.target", target)]
    for name in ("type", "description", "found_date", "deadline", "closed_date", "department_id", "inspection_id",
                 "checker", "check_date", "evidence", "reject_reason"):
        v = row.get(name)
        if name == "department_id" and isinstance(lr.get("department_name"), str):
            v = lr.get("department_name_en") if lang == "en" and isinstance(lr.get("department_name_en"), str) \
                else lr["department_name"]
        if missing(v) or v == "":
            continue
        facts.append((name, fmt(v)))
    if not missing(dl) and dl is not None:
        facts.append(("hzd.days_left", str(int(dl))))
    if isinstance(lr.get("district_name"), str):
        facts.append(("hz.district", " · ".join(x for x in (lr.get("district_name"), lr.get("town_name"))
                                               if isinstance(x, str))))
    dl_items = []
    for key, v in facts:
        name = t(key, lang) if "." in key else field_label("hazards", key, lang)
        dl_items += [html.Dt(name), html.Dd(v)]
    listed = None
    if row.get("listed") is True:
        listed = html.Div(t("hzd.listed", lang).format(office=fmt(row.get("listed_office")),
                                                       deadline=fmt(row.get("listed_deadline")),
                                                       condition=fmt(row.get("listed_condition"))),
                          className="listed-note", id="hzd-listed")
    return [
        html.Div(className="hazard-main", children=[
            html.Nav([dcc.Link(t("hzd.back", lang), href="/hazards" + (f"?lang={lang}" if lang != "zh" else ""))],
                     className="breadcrumb"),
            html.H2([f"{t('hzd.title', lang)} {hid} ", html.Span(tags, id="hzd-tags")], id="hzd-title"),
            html.Div(t("hzd.version", lang).format(v=int(row.get("version") or 0)), className="muted",
                     id="hzd-version", **{"data-status": str(status)}),
            listed,
            html.Section([html.H3(t("hzd.facts", lang)), html.Dl(dl_items, className="facts", id="hzd-facts")]),
            html.Section([html.H3(t("hzd.five", lang)), five_table(row, lang)]),
            html.Section([html.H3(t("hzd.history", lang)), history_table(hist, lang)]),
        ]),
        html.Div(className="hazard-side", children=[
            html.Section([html.H3(t("hzd.actions", lang)), step_forms(row, steps, lang)], id="hzd-actions"),
            html.Section([html.H3(t("hzd.files", lang)), files_table(files, lang),
                          dcc.Upload(id=HazardIds.UPLOAD, children=html.Div(t("hzd.upload", lang).format(
                              mb=f"{upload_mb:g}")), className="upload-box", multiple=False,
                              max_size=int(upload_mb * 1024 * 1024),
                              accept="image/jpeg,image/png,image/webp,application/pdf")
                          if can_attach else None]),
        ]),
    ]


__all__ = ["filter_controls", "query_of", "ledger_columns", "ledger_rows", "ledger_grid", "ledger_map",
           "escalation_rows", "escalation_columns", "major_rows", "major_columns", "hazard_body", "step_forms",
           "five_table", "history_table", "files_table", "sort_of", "STEP_FORMS", "LEVEL_COLOURS", "list_grid",
           "hazard_href", "object_href", "fmt", "field_label", "step_label", "lang_q"]


# --------------------------------------------------------------------------------------------------
# frames already labelled for people (briefing sheets, publication, league tables) as grids and tables
# --------------------------------------------------------------------------------------------------

def _cell(v: object) -> object:
    if missing(v):
        return None
    if isinstance(v, (pd.Timestamp, date)):
        return fmt(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return round(float(v), 4)
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    return str(v)


def frame_rows(frame: pd.DataFrame) -> tuple[list[dict], list[dict]]:
    """(rows, column definitions) of a frame whose headers are already words: fields ``c0``, ``c1`` …"""
    cols = [{"field": f"c{i}", "headerName": str(c)} for i, c in enumerate(frame.columns)]
    rows = [{f"c{i}": _cell(v) for i, v in enumerate(r)} for r in frame.itertuples(index=False, name=None)]
    return rows, cols


def frame_grid(gid: str, frame: pd.DataFrame, lang: str, **options) -> object:
    rows, cols = frame_rows(frame)
    return grid(gid, rows, cols, lang, page_size=options.pop("page_size", 15), **options)


def frame_table(frame: pd.DataFrame, tid: str, lang: str, *, limit: int = 10) -> html.Table | html.Div:
    """A small printable table of the first ``limit`` rows (the briefing's top lists)."""
    if len(frame) == 0:
        return html.Div(t("hzd.none", lang), className="muted", id=tid)
    head = [str(c) for c in frame.columns]
    body = [[fmt(_cell(v)) for v in r] for r in frame.head(limit).itertuples(index=False, name=None)]
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in head])),
                       html.Tbody([html.Tr([html.Td(c) for c in r]) for r in body])], className="mini-table", id=tid)
