"""What the ledger pages' controls do, as plain functions over the session's store (tests call them directly;
the pages' callbacks are one-line adapters). Nothing from the browser is trusted: the filters come back through
``LedgerQuery.from_url``, a hazard id is re-read from the store and checked against the user's area (of the
hazard's *target*), the version is checked on write, the user is the session's.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from datetime import date
from urllib.parse import parse_qsl, urlencode

import pandas as pd
from dash import html, no_update

from dashboard import context
from dashboard.components.errors import calm_message
from dashboard.i18n import norm_lang, t
from dashboard.ledger import layout as L
from layers import access
from layers.errors import AccessDenied, RiskMapError, StepRefused
from layers.ledger import audit, deadlines, files, workflow
from layers.ledger.query import SORTABLE, LedgerQuery, ledger, query_ledger
from layers.store import cached_read

#: the grid's fields that sort by another ledger column
_SORT_FIELD = {"n_missing": "n_missing", "listed": "listed", "target_name": "target_name"}
#: rows a list tab (escalation, major hazards) shows; the export has them all
LIST_ROWS = 500


def as_of() -> date:
    """The date deadlines are counted from: the data's "as of" date, the same the map, the wall and the coverage
    page count from (the store's latest inspection; today when it has none), so an overdue hazard is overdue on
    every page. A step's own dates are checked against today (``apply_step(today=date.today())``)."""
    try:
        stamp = context.store().latest("inspections", "date")
    except RiskMapError:
        stamp = None
    return pd.Timestamp(stamp).date() if stamp is not None else date.today()


def _reach(action: str = "read") -> access.Access:
    return context.authorize(action)


# --------------------------------------------------------------------------------------------------
# the ledger page
# --------------------------------------------------------------------------------------------------

def query_from(search: str | Mapping | None) -> LedgerQuery:
    """The ledger query in a URL (validated; ``lang`` ignored)."""
    if isinstance(search, Mapping):
        return LedgerQuery.from_url({k: v for k, v in search.items() if k != "lang" and isinstance(v, str)})
    return LedgerQuery.from_url(search if isinstance(search, str) else None)


def page_rows(request: Mapping | None, search: str | None, lang: str | None) -> dict:
    """One block of rows for the grid's infinite row model: the URL's filters, the grid's sort, the rows
    ``startRow``…``endRow``; narrowed on the server to the user's area. Returns ``{"rowData", "rowCount"}``."""
    lang = norm_lang(lang)
    reach = _reach()
    q = query_from(search)
    req = request if isinstance(request, Mapping) else {}
    try:
        start = max(0, int(req.get("startRow") or 0))
        end = int(req.get("endRow") or start + q.page_size)
    except (TypeError, ValueError):
        start, end = 0, q.page_size
    size = max(1, min(200, end - start))
    column, desc = L.sort_of(req)
    column = _SORT_FIELD.get(column or "", column)
    if column in SORTABLE:
        q = q.with_(sort=column, desc=desc, page=1)
    # the block as a page of its own size (AG Grid asks for whole blocks: start is a multiple of the size)
    q = q.with_(page_size=size, page=start // size + 1)
    page, total = query_ledger(context.store(), reach, q, as_of=as_of(), settings=context.settings())
    return {"rowData": L.ledger_rows(page, lang), "rowCount": int(total)}


def filters_search(values: Sequence, search: str | None) -> str | None:
    """The URL query for the filter controls' ``values`` (in the order of the page's inputs), keeping the
    language, sort and page size of ``search``; None when it says what ``search`` already says."""
    base = query_from(search)
    q = L.query_of(*values, base=base)
    params = dict(parse_qsl((search or "").lstrip("?")))
    new = q.to_url()
    lang = params.get("lang")
    new_search = "?" + new + (("&" if new else "") + urlencode({"lang": lang}) if lang else "")
    if new_search == "?":
        new_search = ""
    old = query_from(search)
    return None if old == q else new_search


def reset_search(search: str | None) -> str:
    lang = dict(parse_qsl((search or "").lstrip("?"))).get("lang")
    return f"?lang={lang}" if lang else ""


def hazards_view(query: Mapping, lang: str) -> dict:
    """Everything the ledger page shows for the URL's query: options, the map, the count, the lists."""
    reach = _reach()
    store = context.store()
    q = query_from(query)
    lf = ledger(store, as_of=as_of(), settings=context.settings())
    rows = lf.frame[lf.mask(q, reach)]
    d = cached_read(store, "districts", columns=["code", "name", "name_en", "geometry"])
    towns = cached_read(store, "towns", columns=["code", "name", "name_en", "district_code"])
    if reach.districts is not None:
        d = d[d["code"].astype(str).isin(reach.districts)]
        towns = towns[towns["district_code"].astype(str).isin(reach.districts)]
    if reach.towns is not None:
        towns = towns[towns["code"].astype(str).isin(reach.towns)]
    if q.district:
        towns = towns[towns["district_code"].astype(str).isin(q.district)]
    depts = cached_read(store, "departments", columns=["id", "name", "name_en", "district_code"])
    if reach.districts is not None:      # the city's departments and those of the user's own district
        depts = depts[depts["district_code"].isna() | depts["district_code"].astype(str).isin(reach.districts)]
    mine = lf.frame[lf.mask(LedgerQuery(), reach)]
    esc_d = deadlines.escalation(mine, "district")
    esc_c = deadlines.escalation(mine, "city")
    major = mine[(mine["level"] == "major") & (mine["status"] != "closed")].sort_values(
        ["listed", "days_left"], ascending=[False, True], na_position="last")
    return {"query": q, "count": int(len(rows)), "districts": d, "towns": towns, "departments": depts,
            "figure": L.ledger_map(rows, d, lang=lang, total=int(len(rows))),
            "esc_district": L.escalation_rows(esc_d.head(LIST_ROWS), lang),
            "esc_city": L.escalation_rows(esc_c.head(LIST_ROWS), lang), "major": L.major_rows(major.head(LIST_ROWS), lang),
            "list_totals": {"esc_district": len(esc_d), "esc_city": len(esc_c), "major": len(major)}}


def cell_target(cell: Mapping | None, lang: str | None) -> str | None:
    """Where a click on a ledger cell goes: the hazard's page (its link columns navigate by themselves)."""
    if not isinstance(cell, Mapping) or cell.get("colId") in ("id", "target_name"):
        return None
    hid = cell.get("rowId")
    if not isinstance(hid, str) or not hid or len(hid) > 64:
        return None
    return L.hazard_href(hid, norm_lang(lang))


# --------------------------------------------------------------------------------------------------
# one hazard
# --------------------------------------------------------------------------------------------------

def _clean(v: object) -> object:
    """A stored value as plain Python (numpy scalars as int/float/bool), None when missing."""
    if L.missing(v):
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes, pd.Timestamp)):
        return v.item()
    return v


def read_hazard(hid: str) -> tuple[dict, dict | None]:
    """The hazard as stored (its own ``district_code`` replaced by its target's) and its ledger row; raises
    AccessDenied unless the target lies in the user's area, StepRefused when there is no such hazard."""
    reach = _reach()
    store = context.store()
    if not isinstance(hid, str) or not hid or len(hid) > 64:
        raise StepRefused(f"隐患 {hid!r} 不存在 (hazard {hid!r} does not exist)")
    f = store.read("hazards", ids=[hid])
    if len(f) == 0:
        raise StepRefused(f"隐患 {hid} 不存在 (hazard {hid} does not exist)")
    row = {k: _clean(v) for k, v in pd.DataFrame(f).drop(columns=["geometry"], errors="ignore").iloc[0].items()}
    key = f"{row['target_layer']}:{row['target_id']}"
    places = access.object_places(store, [key])
    district, town = places["district_code"].iloc[0], places["town_code"].iloc[0]
    district = None if L.missing(district) else str(district)
    town = None if L.missing(town) else str(town)
    if reach.districts is not None or reach.towns is not None:
        if district is None or not reach.allows(district, town):
            raise AccessDenied(f"隐患 {hid} 不在您的辖区内 (hazard {hid} is outside your area)")
    row["district_code"], row["town_code"] = district, town
    lf = ledger(store, as_of=as_of(), settings=context.settings())
    hit = lf.frame[lf.frame["id"] == hid]
    lr = {k: _clean(v) for k, v in hit.iloc[0].items()} if len(hit) else None
    return row, lr


def hazard_view(hid: str, lang: str) -> tuple[list, dict]:
    """The hazard page's body and its record (``{"id", "version"}``: what a step is checked against)."""
    row, lr = read_hazard(hid)
    store = context.store()
    who = context.principal()
    steps = workflow.allowed_steps(row, who)
    try:       # may this user attach files (the hazard.edit grant on the target's area)?
        workflow.authorize_target(store, who, "hazard.edit", str(row["target_layer"]), str(row["target_id"]))
        can_attach = True
    except AccessDenied:
        can_attach = False
    body = L.hazard_body(row, lr, audit.history(store, "hazards", hid), files.files_of(store, hid), steps, lang,
                         upload_mb=float(context.settings().upload_max_mb), can_attach=can_attach)
    return body, {"id": str(row["id"]), "version": int(row.get("version") or 0)}


def step_values(step: str, field_ids: Sequence[Mapping], field_values: Sequence, date_ids: Sequence[Mapping],
                date_values: Sequence) -> dict:
    """The values of one step's form (the pattern-matched inputs of every form, picked by step); empty inputs
    are left out. Only the fields of the step's form are taken."""
    allowed = {name for name, _ in L.STEP_FORMS.get(step, ())}
    out: dict = {}
    for ids, values in ((field_ids, field_values), (date_ids, date_values)):
        for i, v in zip(ids or [], values or [], strict=False):
            if not isinstance(i, Mapping) or i.get("step") != step or i.get("field") not in allowed:
                continue
            if v is None or (isinstance(v, str) and not v.strip()):
                continue
            out[str(i["field"])] = v.strip() if isinstance(v, str) else v
    return out


def take_step(step: str | None, field_ids, field_values, date_ids, date_values, record: Mapping | None,
              lang: str | None) -> tuple:
    """Take ``step`` on the hazard the page opened, at the version it opened. Returns (message, body, record);
    a refused step (EditConflict, StepRefused, AccessDenied) answers a calm message and changes nothing."""
    lang = norm_lang(lang)
    if step not in workflow.STEPS or not isinstance(record, Mapping):
        return no_update, no_update, no_update
    context.authorize("hazard.edit" if workflow.STEPS[step].grant == "hazard.edit" else "ledger.city")
    hid = str(record.get("id") or "")
    try:
        version = int(record.get("version"))
    except (TypeError, ValueError):
        version = -1
    values = step_values(step, field_ids, field_values, date_ids, date_values)
    try:
        new = workflow.apply_step(context.store(), context.principal(), hid, step, values, version,
                                  today=date.today())
    except RiskMapError as exc:      # EditConflict, StepRefused, AccessDenied: said calmly, nothing written
        return calm_message(lang, exc), no_update, no_update
    body, rec = hazard_view(hid, lang)
    msg = html.Div(t("hzd.done", lang).format(step=L.step_label(step, lang), v=new), className="ok-message",
                   role="status")
    return msg, body, rec


def upload(contents: str | None, filename: str | None, record: Mapping | None, lang: str | None) -> tuple:
    """Attach an uploaded file to the hazard the page opened. Returns (message, body)."""
    lang = norm_lang(lang)
    if not contents or not isinstance(record, Mapping):
        return no_update, no_update
    context.authorize("hazard.edit")
    hid = str(record.get("id") or "")
    try:
        _head, _, b64 = str(contents).partition(",")
        data = base64.b64decode(b64, validate=False)
    except (binascii.Error, ValueError):
        return calm_message(lang, StepRefused("文件无法读取 (the file cannot be read)")), no_update
    try:
        files.attach(context.store(), context.principal(), hid, str(filename or "file"), data,
                     settings=context.settings())
    except RiskMapError as exc:
        return calm_message(lang, exc), no_update
    body, _ = hazard_view(hid, lang)
    return html.Div(f"{t('hzd.uploaded', lang)}: {filename}", className="ok-message", role="status"), body


__all__ = ["page_rows", "filters_search", "reset_search", "hazards_view", "cell_target", "read_hazard",
           "hazard_view", "take_step", "upload", "step_values", "query_from", "as_of"]
