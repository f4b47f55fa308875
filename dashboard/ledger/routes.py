"""The ledger's Flask routes, each behind the access check (``context.checked``): a hazard's file, the
ledger selection, public naming, the blacklist, the league tables and the briefing as downloads.

Every export goes through ``layers.export`` (a text that a spreadsheet would run as a formula stays text).
``dashboard.app.create_app`` adds them to every app it makes (:func:`install`; Dash imports the page modules
only once per process, so a page module cannot do it for a second app).
"""

from __future__ import annotations

import logging
import tempfile
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import flask
import pandas as pd

from dashboard import context
from dashboard.i18n import norm_lang
from layers.export import write_csv, write_xlsx
from layers.ledger import accountability, enforcement, files, publication
from layers.ledger.query import labelled, ledger_rows

log = logging.getLogger(__name__)

FILE_ROUTE = "/hazard/file/<file_id>"
LEDGER_EXPORT = "/hazards/export.xlsx"
PUBLIC_EXPORT = "/public/export.<fmt>"
BLACKLIST_EXPORT = "/public/blacklist.xlsx"
ACCOUNT_EXPORT = "/accountability/export.<fmt>"
BRIEFING_EXPORT = "/briefing/export.xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _lang() -> str:
    return norm_lang(flask.request.args.get("lang"))


def _day(name: str, default: date) -> date:
    try:
        return date.fromisoformat(str(flask.request.args.get(name) or "")[:10])
    except ValueError:
        return default


def period() -> tuple[date, date]:
    """``start``/``end`` of the request (default: the last 30 days up to today)."""
    end = _day("end", date.today())
    start = _day("start", end - timedelta(days=30))
    return (start, end) if start <= end else (end, start)


def _attachment(data: bytes, filename: str, mime: str) -> flask.Response:
    resp = flask.Response(data, mimetype=mime)
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in filename) or "file"
    resp.headers["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return resp


def _xlsx(sheets: dict[str, pd.DataFrame], filename: str) -> flask.Response:
    with tempfile.TemporaryDirectory() as tmp:
        data = write_xlsx(sheets, Path(tmp) / "out.xlsx").read_bytes()
    return _attachment(data, filename, XLSX)


def _csv(frame: pd.DataFrame, filename: str) -> flask.Response:
    with tempfile.TemporaryDirectory() as tmp:
        data = write_csv(frame, Path(tmp) / "out.csv").read_bytes()
    return _attachment(data, filename, "text/csv; charset=utf-8")


@context.checked("read")
def hazard_file(file_id: str) -> flask.Response:
    """A file attached to a hazard, when the user may read the hazard's target (else 403)."""
    name, mime, data = files.file_data(context.store(), context.principal(), file_id)
    return _attachment(data, name, mime)


@context.checked("read")
def ledger_export() -> flask.Response:
    """The ledger rows the URL's filters select, in the user's area, as XLSX."""
    from dashboard.ledger.actions import as_of, query_from

    lang = _lang()
    q = query_from(flask.request.query_string.decode("utf-8", "replace"))
    rows = ledger_rows(context.store(), context.authorize("read"), as_of=as_of(), settings=context.settings(), q=q)
    return _xlsx({"hazards": labelled(rows, lang)}, f"hazards-{as_of().isoformat()}.xlsx")


@context.checked("ledger.city")
def public_export(fmt: str) -> flask.Response:
    """Public naming for the period, only the fields allowed for publication, as CSV or XLSX."""
    start, end = period()
    lang = _lang()
    frame = publication.public_naming(context.store(), context.authorize("ledger.city"), start=start, end=end)
    stem = f"public-{start.isoformat()}-{end.isoformat()}"
    if fmt == "xlsx":
        return _attachment(publication.public_naming_xlsx(frame, lang), stem + ".xlsx", XLSX)
    if fmt == "csv":
        return _csv(publication.public_labelled(frame, lang), stem + ".csv")
    flask.abort(404)


@context.checked("ledger.city")
def blacklist_export() -> flask.Response:
    """The blacklist in force today, for joint punishment, as XLSX."""
    rows = enforcement.blacklist_export_rows(context.store(), context.principal(), as_of=date.today(), lang=_lang())
    return _xlsx({"blacklist": rows}, f"blacklist-{date.today().isoformat()}.xlsx")


def league_sheets(by: str, lang: str) -> dict[str, pd.DataFrame]:
    """The league table (by department or district) and the officers charged, headed in ``lang``."""
    from dashboard.ledger.actions import as_of

    reach = context.authorize("read")
    store = context.store()
    league = accountability.league_for(store, reach, by=by, as_of=as_of(), settings=context.settings())
    rows = ledger_rows(store, reach, as_of=as_of(), settings=context.settings())
    charged = accountability.charged_officers(rows, as_of())
    i = 1 if lang == "en" else 0

    def head(frame: pd.DataFrame, labels: dict) -> pd.DataFrame:
        cols = [c for c in labels if c in frame.columns]
        out = frame[cols].copy()
        if lang == "en" and "name_en" in frame.columns and "name" in cols:
            out["name"] = frame["name_en"].where(frame["name_en"].notna(), frame["name"])
        if lang == "en" and "department_name_en" in frame.columns and "department_name" in cols:
            out["department_name"] = frame["department_name_en"].where(frame["department_name_en"].notna(),
                                                                       frame["department_name"])
        out.columns = [labels[c][i] for c in cols]
        return out

    return {"league": head(league, accountability.LEAGUE_COLUMNS),
            "charged": head(charged, accountability.CHARGED_COLUMNS)}


@context.checked("read")
def accountability_export(fmt: str) -> flask.Response:
    by = "district" if flask.request.args.get("by") == "district" else "department"
    sheets = league_sheets(by, _lang())
    stem = f"accountability-{by}-{date.today().isoformat()}"
    if fmt == "xlsx":
        return _xlsx(sheets, stem + ".xlsx")
    if fmt == "csv":
        return _csv(sheets["league"], stem + ".csv")
    flask.abort(404)


@context.checked("read")
def briefing_export() -> flask.Response:
    """The briefing of the district (or the user's whole area) and period as XLSX."""
    from dashboard.ledger.actions import as_of
    from layers.ledger.briefing import briefing, briefing_xlsx

    start, end = period()
    district = flask.request.args.get("district") or None
    b = briefing(context.store(), context.authorize("read"), district=district, start=start, end=end,
                          as_of=as_of(), settings=context.settings(), lang=_lang())
    return _attachment(briefing_xlsx(b, _lang()), f"briefing-{b.code or 'city'}-{start}-{end}.xlsx", XLSX)


ROUTES = ((FILE_ROUTE, "ledger_hazard_file", hazard_file), (LEDGER_EXPORT, "ledger_export", ledger_export),
          (PUBLIC_EXPORT, "ledger_public_export", public_export),
          (BLACKLIST_EXPORT, "ledger_blacklist_export", blacklist_export),
          (ACCOUNT_EXPORT, "ledger_accountability_export", accountability_export),
          (BRIEFING_EXPORT, "ledger_briefing_export", briefing_export))


def install(server: flask.Flask) -> None:
    """Add the ledger's routes to ``server`` (once)."""
    for rule, endpoint, view in ROUTES:
        if endpoint not in server.view_functions:
            server.add_url_rule(rule, endpoint, view)


__all__ = ["install", "ROUTES", "period", "league_sheets", "FILE_ROUTE"]
