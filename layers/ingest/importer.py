"""Validated import of real data into a layer of the store.

``import_file(store, layer, path, crs=..., encoding=..., replace=...)`` reads a CSV, Excel, GeoJSON,
GeoPackage or (zipped) Shapefile, maps its columns onto the layer's schema (Chinese or English headers),
normalises coordinates to WGS-84, checks every row with whole-column (vectorised) operations, and writes the
good rows, the quarantined rows and an import log in one transaction. It returns an :class:`ImportReport`
listing every row rejected, quarantined or fixed, with file, row, field and a reason in Chinese and English.

Outcomes (what happens to a problem):

- **rejected** (the whole batch, nothing written): the file is not what its name says or cannot be decoded
  (a NUL byte anywhere in a CSV; after a GBK/GB18030 fallback, characters Big5 turns into); an unsafe or
  oversized zip; an XLSX sheet spanning more than 10 million cells; a missing required column; no coordinate
  system declared and none given; most coordinates out of range for degrees (projected metres claiming to be
  degrees) or degree-like numbers claiming to be metres; duplicate ids in the file or against the store
  (unless ``replace``), also when another import wrote them between the check and the write; a text longer
  than its column kind allows (:func:`text_limit`: nearly always a quote left open); a required date column
  in which no value parses (a format problem, not a typo); no row of the expected geometry type.
- **quarantined** (kept aside in the store's quarantine table with the reason, not on the map): empty or null
  geometry, NaN/Inf coordinates, (0, 0), coordinates out of range in a minority of rows, a point outside the
  city's districts, an empty required field (saying why when an XLSX cell is merged or a formula with no
  saved result), a value not allowed in a required column, a date that does not parse in a required date
  column, a date outside 1900..2199 in any date column, an event date in the future (inspections, hazards
  found or closed, accidents), an invalid unified social credit code, an id stored as a number that lost
  digits, a geometry of the wrong type.
  Why quarantine and not reject for an unparseable required date: one mistyped date in 50,000 inspections
  should not stop the other 49,999 from counting; the row is kept with its raw values and reason, so it can
  be corrected and re-imported. A column where *no* date parses is a format problem and rejects the batch.
- **fixed** (written, flagged): invalid polygons repaired with ``shapely.make_valid`` (the reason kept), Z/M
  coordinates dropped, unparseable or disallowed values in optional columns cleared, invisible characters
  removed from ids and codes, the district code of a hazard or accident set to that of the object it names.
  District (town) codes are filled in, with a note, from the named object, else from the location, when the
  file has none. An enterprise file without an id column is keyed by its credit codes (noted).

Hazard files (:mod:`layers.ingest.hazard_files`) may name their objects by unified social credit code (and
name: an unknown code or a name that is not the store's quarantines the row), write values in Chinese words and
carry no hazard id (then derived from credit code, found date, type and row; noted). Imported hazards start at
version 0, with one "import" row each in the audit log, in the same transaction.

Row numbers are what the user sees: header = row 1 in CSV/XLSX (first data row 2), or the header's own row when
a title and notes stand above it (found by its known column names; noted); feature number from 1 in
GeoJSON/GeoPackage/Shapefile.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo.crs import SourceCRS, parse_crs, transform_xy
from layers import credit_code
from layers.errors import ImportRejected, StoreError
from layers.ingest import hazard_files, validate
from layers.ingest.readers import MAX_UNPACKED_BYTES, BadFile, RawTable, read_any
from layers.schema import LAYERS, Column, Geom, Layer, T
from layers.store import Store, open_store

REJECTED, QUARANTINED, FIXED = "rejected", "quarantined", "fixed"

#: layers a file may be imported into (users are managed with ``python -m layers user``, never from a file)
#: the data layers a file may fill: never the bookkeeping (users, sessions, wall tokens: a file must not make a
#: login or a kiosk) nor the planner's own plans and stops (saved through the planner, checked there)
IMPORTABLE = tuple(name for name, lay in LAYERS.items() if lay.counts_as_data and
                   name not in ("plans", "plan_stops", "audit_log", "hazard_files"))

#: (layer, column) pairs that record something that already happened: a date after today is an error
EVENT_DATES = {("inspections", "date"), ("hazards", "found_date"), ("hazards", "closed_date"),
               ("accidents", "date")}

#: layers whose rows may be keyed by their unified social credit code when the file has no id column (the
#: market-regulation registry exports enterprises that way); a duplicate credit code is then a duplicate id
CREDIT_CODE_KEYED = ("enterprises",)
CREDIT_CODE = "credit_code"

#: ledger layers: an imported row starts at version 0 and gets an "import" row in the audit log
LEDGER_LAYERS = ("hazards",)
#: a hazard file may name its object by credit code (and name) instead of target_layer/target_id, and may lack
#: hazard ids (then derived from the object, found date, type and row); see layers.ingest.hazard_files
CREDIT_REF_LAYERS = ("hazards",)

#: rows that name an object: (column holding the object's layer, or None; the layer when there is no such
#: column; column holding the object's id). Such a row belongs to its object's district (DESIGN: access), so
#: the importer sets its district code from the object. Inspections carry no district code of their own.
OBJECT_REFS = {"hazards": ("target_layer", None, "target_id"), "inspections": ("target_layer", None, "target_id"),
               "accidents": (None, "enterprises", "enterprise_id")}
DISTRICT = "district_code"
#: past this many distinct objects a file names, the objects' districts are read whole rather than by id
_BY_ID_LIMIT = 5_000

#: geometry type ids (shapely) each layer geometry accepts
_ACCEPT = {Geom.POINT: {0}, Geom.LINESTRING: {1, 5}, Geom.MULTILINESTRING: {1, 5}, Geom.POLYGON: {3, 6},
           Geom.MULTIPOLYGON: {3, 6}, Geom.GEOMETRY: {0, 1, 2, 3, 4, 5, 6, 7}}
_TYPE_NAMES = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
               5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}


@dataclass
class RowIssue:
    """One problem with one row (``row`` None: the whole file)."""

    file: str
    row: int | None
    field: str | None
    outcome: str  # rejected | quarantined | fixed
    reason_zh: str
    reason_en: str

    def text(self, lang: str = "zh") -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"行 {self.row}" if lang == "zh" else f"row {self.row}")
        if self.field:
            where.append(f"字段 \"{self.field}\"" if lang == "zh" else f"field \"{self.field}\"")
        return f"{' '.join(where)}: {self.reason_zh} ({self.reason_en})"


_OUTCOME_ZH = {REJECTED: "拒绝", QUARANTINED: "隔离", FIXED: "修正"}


@dataclass
class ImportReport:
    """What an import did: counts and every row rejected, quarantined or fixed."""

    file: str
    layer: str
    mode: str = "append"  # append | replace | upsert
    status: str = "written"  # written | rejected
    read: int = 0
    written: int = 0
    quarantined: int = 0
    fixed: int = 0
    rejected: int = 0
    source_crs: str | None = None
    encoding: str | None = None
    format: str | None = None
    issues: list[RowIssue] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)  # batch-level remarks {"zh":..., "en":...}
    timings: dict[str, float] = field(default_factory=dict)  # seconds: read, validate, write

    def note(self, zh: str, en: str) -> None:
        self.notes.append({"zh": zh, "en": en})

    def add(self, row: int | None, fld: str | None, outcome: str, zh: str, en: str) -> None:
        self.issues.append(RowIssue(self.file, None if row is None else int(row), fld, outcome, zh, en))

    def add_many(self, rows: np.ndarray, fld: str | None, outcome: str, zh: str | list[str],
                 en: str | list[str]) -> None:
        """One issue per row in ``rows`` (``zh``/``en`` a single text or one per row)."""
        n = len(rows)
        zs = zh if isinstance(zh, list) else [zh] * n
        es = en if isinstance(en, list) else [en] * n
        self.issues.extend(RowIssue(self.file, int(r), fld, outcome, z, e) for r, z, e in zip(rows, zs, es,
                                                                                            strict=True))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=kw.pop("indent", 2), **kw)

    def counts(self) -> dict[str, int]:
        return {"read": self.read, "written": self.written, "quarantined": self.quarantined, "fixed": self.fixed,
                "rejected": self.rejected}

    def summary(self) -> str:
        head = (f"导入{'成功' if self.status == 'written' else '被拒绝，未写入任何数据'}：{self.file} -> {self.layer}；"
                f"读取 {self.read} 行，写入 {self.written}，隔离 {self.quarantined}，修正 {self.fixed}，拒绝 {self.rejected}")
        head_en = (f"import {'written' if self.status == 'written' else 'rejected, nothing written'}: "
                   f"{self.file} -> {self.layer}; read {self.read}, written {self.written}, quarantined "
                   f"{self.quarantined}, fixed {self.fixed}, rejected {self.rejected}")
        return f"{head} ({head_en})"

    def render(self, *, limit: int = 50) -> str:
        """Human text: summary, notes, then up to ``limit`` issues (rejections first) and a tally of the rest."""
        lines = [self.summary()]
        if self.source_crs or self.encoding or self.format:
            lines.append(f"  格式 {self.format or '-'}，编码 {self.encoding or '-'}，坐标系 {self.source_crs or '-'} "
                         f"(format {self.format or '-'}, encoding {self.encoding or '-'}, "
                         f"CRS {self.source_crs or '-'})")
        for n in self.notes:
            lines.append(f"  * {n['zh']} ({n['en']})")
        order = {REJECTED: 0, QUARANTINED: 1, FIXED: 2}
        issues = sorted(self.issues, key=lambda i: (order[i.outcome], i.row or 0))
        for i in issues[:limit]:
            lines.append(f"  [{_OUTCOME_ZH[i.outcome]} {i.outcome}] {i.text()}")
        if len(issues) > limit:
            rest: dict[tuple[str, str], int] = {}
            for i in issues[limit:]:
                rest[(i.outcome, i.reason_en)] = rest.get((i.outcome, i.reason_en), 0) + 1
            lines.append(f"  …另有 {len(issues) - limit} 条 (… {len(issues) - limit} more issues):")
            for (outcome, reason), k in sorted(rest.items(), key=lambda kv: -kv[1])[:20]:
                lines.append(f"    {k} × [{outcome}] {reason}")
        return "\n".join(lines)


class _Reject(Exception):
    """Internal: stop validating, the batch is rejected (issues are already in the report)."""


def _reject(report: ImportReport, zh: str, en: str, *, row: int | None = None, fld: str | None = None) -> _Reject:
    report.add(row, fld, REJECTED, zh, en)
    return _Reject()


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------

def import_file(store: Store | str | Path, layer: str, path: str | Path, *, crs: str | None = None,
                encoding: str | None = None, replace: bool = False, today: date | None = None,
                max_unpacked_bytes: int = MAX_UNPACKED_BYTES, user: str | None = None) -> ImportReport:
    """Import ``path`` into ``layer`` of ``store`` (a Store or a GeoPackage path, created when missing).

    Parameters
    ----------
    crs : the source coordinate system when the file declares none, or to override what it declares
        (``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09``, ``EPSG:n``). Never guessed.
    encoding : text encoding of a CSV or a Shapefile's DBF (default: detected by strict decoding).
    replace : replace the layer's rows instead of adding to them (one transaction).
    today : the date after which event dates count as "in the future" (default: today).
    user : who imports (the audit log's user of an imported hazard; None from the command line).

    Returns the :class:`ImportReport`; raises :class:`ImportRejected` (with ``.report``) when the batch is
    rejected, in which case nothing was written.
    """
    path = Path(path)
    if not isinstance(store, Store):
        store = open_store(store, create=True)
    report = ImportReport(file=path.name, layer=layer, mode="replace" if replace else "append")
    t0 = time.perf_counter()
    try:
        batch = _validate(store, layer, path, report, crs=crs, encoding=encoding, replace=replace,
                          today=today or date.today(), max_unpacked_bytes=max_unpacked_bytes)
    except _Reject:
        raise _rejected(report) from None
    t1 = time.perf_counter()
    report.timings["validate"] = round(t1 - t0 - report.timings.get("read", 0.0), 3)
    audit = None
    if layer in LEDGER_LAYERS:  # a ledger row starts at version 0 with an "import" row in the audit log
        now = pd.Timestamp.now().floor("s")
        batch.frame["version"] = pd.array(np.zeros(len(batch.frame), dtype=np.int64), dtype="Int64")
        batch.frame["updated_at"] = np.full(len(batch.frame), now.to_datetime64(), dtype="datetime64[ns]")
        batch.frame["updated_by"] = pd.Series([user] * len(batch.frame), dtype=object)
        audit = _import_audit(batch, LAYERS[layer], path.name, user, now)
    try:
        with store.transaction() as tx:
            if replace:
                report.written = tx.replace(layer, batch.frame)
            else:
                report.written = tx.append(layer, batch.frame)
            if audit is not None and len(audit):
                tx.append("audit_log", audit)
            tx.quarantine(batch.quarantine)
            tx.log_import({"layer": layer, "source": str(path), "mode": report.mode, "rows_read": report.read,
                           "written": report.written, "quarantined": report.quarantined, "fixed": report.fixed,
                           "report": {**report.counts(), "notes": report.notes, "source_crs": report.source_crs,
                                      "encoding": report.encoding, "issues": len(report.issues)}})
    except StoreError as exc:
        if not _unique_violation(exc):
            raise
        _lost_race(store, LAYERS[layer], report, batch, exc)
        raise _rejected(report) from None
    report.timings["write"] = round(time.perf_counter() - t1, 3)
    return report


def _import_audit(batch: _Batch, schema: Layer, filename: str, user: str | None, now: pd.Timestamp) -> pd.DataFrame:
    """One "import" row per imported record (its status as the new value, the file and row as the note)."""
    n = len(batch.frame)
    stamp = uuid.uuid4().hex[:10].upper()
    ids = batch.frame[schema.id_column].astype(str).to_numpy(dtype=object)
    status = (batch.frame["status"].astype(object).to_numpy() if "status" in batch.frame.columns
              else np.full(n, None, dtype=object))
    return pd.DataFrame({
        "id": pd.Series([f"AU-IMP-{stamp}-{k:07d}" for k in range(1, n + 1)], dtype=object),
        "at": np.full(n, now.to_datetime64(), dtype="datetime64[ns]"),
        "user_id": pd.Series([user] * n, dtype=object), "action": "import", "layer": schema.name,
        "record_id": pd.Series(ids, dtype=object), "field": "status", "old_value": pd.Series([None] * n, dtype=object),
        "new_value": pd.Series(status, dtype=object),
        "note": pd.Series([f"导入自 {filename} 第 {int(r)} 行 (imported from {filename} row {int(r)})"
                           for r in batch.rows], dtype=object)})


def _rejected(report: ImportReport) -> ImportRejected:
    """The batch is rejected: nothing was written, whatever validation had counted."""
    report.status = "rejected"
    report.written = report.quarantined = report.fixed = 0
    report.rejected = len({(i.row, i.field) for i in report.issues if i.outcome == REJECTED})
    return ImportRejected(_rejection_message(report), report)


def _unique_violation(exc: BaseException) -> bool:
    """True when a store write failed on a unique constraint (the DB-API ``IntegrityError`` of any driver)."""
    seen: BaseException | None = exc
    while seen is not None:
        if any(k.__name__ == "IntegrityError" for k in type(seen).__mro__):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _lost_race(store: Store, schema: Layer, report: ImportReport, batch: _Batch, exc: StoreError) -> None:
    """Another import wrote some of this batch's ids after they were checked and before the write: report
    them as the check would have (the store holds them now), not as the database's constraint message."""
    report.note("检查编号之后、写入之前，另一次导入写入了相同的编号；本次未写入任何数据",
                "another import wrote some of the same ids after this import checked them and before it wrote; "
                "nothing of this import was written")
    before = len(report.issues)
    if batch.key is not None and schema.id_column in batch.frame.columns:
        _ids(store, schema, batch.frame[schema.id_column], batch.rows, report, False, key=batch.key)
    if len(report.issues) == before:
        report.add(None, None, REJECTED, f"写入时违反了存储的唯一约束：{exc}",
                   f"the write broke a unique constraint of the store: {exc}")


def _rejection_message(report: ImportReport) -> str:
    rej = [i for i in report.issues if i.outcome == REJECTED]
    first = rej[:3]
    zh = "；".join(i.reason_zh for i in first)
    en = "; ".join(i.reason_en for i in first)
    more = f"（另有 {len(rej) - 3} 条）" if len(rej) > 3 else ""
    more_en = f" (and {len(rej) - 3} more)" if len(rej) > 3 else ""
    where = f"{report.file}" + (f" 行 {first[0].row}" if first and first[0].row is not None else "")
    where_en = f"{report.file}" + (f" row {first[0].row}" if first and first[0].row is not None else "")
    return (f"导入被拒绝，未写入任何数据：{where}：{zh}{more} "
            f"(import rejected, nothing written: {where_en}: {en}{more_en})")


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------

class _Rows:
    """Per-row outcome masks while validating."""

    def __init__(self, n: int):
        self.quarantine = np.zeros(n, dtype=bool)
        self.fixed = np.zeros(n, dtype=bool)
        self.reasons: dict[int, list[tuple[str | None, str, str]]] = {}


def _flag(report: ImportReport, st: _Rows, rows: np.ndarray, mask: np.ndarray, fld: str | None, outcome: str,
          zh: str | Callable[[int], str], en: str | Callable[[int], str]) -> None:
    """Record ``outcome`` for the rows where ``mask`` is True (one issue per row).

    ``zh``/``en`` are one text for all rows or a function of the row position that makes it (called only for
    the flagged rows, so a clean 100k-row file builds no messages).
    """
    if not mask.any():
        return
    idx = np.flatnonzero(mask)
    if callable(zh):
        zh = [zh(i) for i in idx]
    if callable(en):
        en = [en(i) for i in idx]
    report.add_many(rows[idx], fld, outcome, zh, en)
    if outcome == QUARANTINED:
        st.quarantine[idx] = True
        zs = zh if isinstance(zh, list) else [zh] * len(idx)
        es = en if isinstance(en, list) else [en] * len(idx)
        for i, z, e in zip(idx.tolist(), zs, es, strict=True):
            st.reasons.setdefault(i, []).append((fld, z, e))
    elif outcome == FIXED:
        st.fixed[idx] = True


@dataclass
class _Batch:
    """What validation leaves to write: the good rows (and their row numbers), the quarantined rows, and the
    column the ids came from (None for a layer without ids)."""

    frame: pd.DataFrame
    quarantine: pd.DataFrame
    rows: np.ndarray
    key: Column | None


def _validate(store: Store, layer_name: str, path: Path, report: ImportReport, *, crs: str | None,
              encoding: str | None, replace: bool, today: date, max_unpacked_bytes: int) -> _Batch:
    schema = LAYERS.get(layer_name) if layer_name in IMPORTABLE else None
    if schema is None:
        known = ", ".join(IMPORTABLE)
        raise _reject(report, f"没有可导入的图层 {layer_name}，可选：{known}",
                      f"no layer {layer_name} to import into; known layers: {known}")
    source: SourceCRS | None = None
    if crs:
        try:
            source = parse_crs(crs)
        except ValueError as exc:
            text = str(exc)
            zh, _, en = text.partition(" (")
            raise _reject(report, zh, en.rstrip(")") or text, fld="--crs") from None
    t0 = time.perf_counter()
    try:
        raw = read_any(path, encoding=encoding, layer_hint=layer_name, max_unpacked_bytes=max_unpacked_bytes)
    except BadFile as exc:
        raise _reject(report, exc.zh, exc.en, row=exc.row, fld=exc.field) from None
    report.timings["read"] = round(time.perf_counter() - t0, 3)
    report.format = raw.kind
    report.encoding = raw.encoding
    for zh, en in raw.notes:
        report.note(zh, en)
    n = len(raw.frame)
    report.read = n
    if n == 0:
        raise _reject(report, f"文件 {path.name} 没有数据行", f"file {path.name} has no data rows")
    rows = raw.rows
    st = _Rows(n)
    cmap = validate.map_columns(schema, raw.frame.columns, coordinates=schema.spatial and raw.geometry is None,
                                extra=hazard_files.HEADER_ALIASES if schema.name in CREDIT_REF_LAYERS else None)
    for col, used, ignored in cmap.duplicates:
        report.note(f"列“{ignored}”与“{used}”都对应字段 {col}，使用了“{used}”",
                    f"columns {ignored!r} and {used!r} both map to {col}; used {used!r}")
    refs = _credit_refs(schema, raw, cmap, report)
    if cmap.unused:
        report.note(f"未使用的列：{', '.join(cmap.unused)}", f"columns not used: {', '.join(cmap.unused)}")

    keyed_by_code = (schema.name in CREDIT_CODE_KEYED and schema.id_column not in cmap.columns
                     and CREDIT_CODE in cmap.columns)
    if keyed_by_code:
        report.note("文件没有编号列，以统一社会信用代码作为编号（同一代码出现两次即为编号重复）",
                    "the file has no id column; the unified social credit code is used as the id (a credit code "
                    "given twice is a duplicate id)")
    derive_ids = schema.name in CREDIT_REF_LAYERS and schema.id_column not in cmap.columns
    if derive_ids:
        report.note("文件没有隐患编号列：编号由（统一社会信用代码或对象、发现日期、隐患类型、文件行号）生成，同一文件再次导入会被识别为编号重复",
                    "the file has no hazard id column: ids are derived from (credit code or object, found date, type, "
                    "the file's row number), so importing the same file again is refused as duplicate ids")
    exempt = {schema.id_column} if keyed_by_code or derive_ids else set()
    if refs is not None:
        exempt |= {"target_layer", "target_id"}
    missing = [c for c in schema.columns if c.required and c.name not in cmap.columns and c.name not in exempt]
    for c in missing:
        headers = ", ".join(dict.fromkeys((c.name, c.zh, *c.aliases)))
        or_code = schema.name in CREDIT_CODE_KEYED and c.name == schema.id_column
        or_ref = schema.name in CREDIT_REF_LAYERS and c.name in ("target_layer", "target_id")
        report.add(None, c.zh, REJECTED,
                   f"缺少必填列“{c.zh}”（可用列名：{headers}）" + ("，或统一社会信用代码列（用作编号）" if or_code else "")
                   + ("，或统一社会信用代码列（按代码找到企业或场所）" if or_ref else ""),
                   f"required column {c.en!r} ({c.name}) is missing; accepted headers: {headers}"
                   + ("; or a unified social credit code column, used as the id" if or_code else "")
                   + ("; or a unified social credit code column naming the enterprise or venue" if or_ref else ""))
    geoms: np.ndarray | None = None
    if schema.spatial:
        geoms = _geometry(schema, raw, cmap, rows, report, st, source)
    if missing:
        raise _Reject()
    if any(i.outcome == REJECTED for i in report.issues):
        raise _Reject()

    values = raw.frame  # what the column checks read; the quarantine keeps the file's own raw values
    prep = None
    if schema.name in CREDIT_REF_LAYERS:
        prep = hazard_files.prepare(raw.frame, cmap.columns)
        values = prep.frame
        for zh, en in prep.notes:
            report.note(zh, en)
    if "version" in cmap.columns and schema.name in LEDGER_LAYERS:
        report.note("文件中的版本列不导入：导入的记录从版本 0 开始", "the file's version column is not imported: "
                    "imported records start at version 0")
        del cmap.columns["version"]
    out = pd.DataFrame(index=pd.RangeIndex(n))
    for c in schema.columns:
        if c.name in cmap.columns:
            header = cmap.columns[c.name]
            why = {r: hint for (r, h), hint in raw.empty_why.items() if h == header}
            out[c.name] = _column(schema, c, values[header], rows, report, st, today, why)
    if prep is not None:
        _details(out, prep)
    obj_key = None
    if refs is not None:
        obj_key = _targets(store, out, raw, refs, rows, report, st)
    if derive_ids:
        if obj_key is None:
            obj_key = (out["target_layer"].astype(object).fillna("") + ":" + out["target_id"].astype(object).fillna("")
                       ).to_numpy(dtype=object)
        out[schema.id_column] = hazard_files.derived_ids(obj_key, out["found_date"], out.get("type"), rows)
    if keyed_by_code:
        code = schema.column(CREDIT_CODE)
        out[schema.id_column] = out[CREDIT_CODE]
        _flag(report, st, rows, out[CREDIT_CODE].isna().to_numpy(dtype=bool), code.zh, QUARANTINED,
              "统一社会信用代码为空：文件没有编号列，统一社会信用代码就是编号",
              "the credit code is empty: the file has no id column, so the credit code is the id")
    key = None
    if schema.id_column and schema.id_column in out.columns:
        key = schema.column(CREDIT_CODE if keyed_by_code else schema.id_column)
        _ids(store, schema, out[schema.id_column], rows, report, replace, key=key)
    if any(i.outcome == REJECTED for i in report.issues):
        raise _Reject()

    _object_districts(store, schema, out, rows, report, st)
    if geoms is not None:
        _districts(store, schema, geoms, out, rows, report, st)
        gdf = _as_geoframe(out, geoms)
    else:
        gdf = out
    keep = ~st.quarantine
    report.quarantined = int(st.quarantine.sum())
    report.fixed = int((st.fixed & keep).sum())
    quarantine = _quarantine_rows(schema, raw, rows, st, path)
    good = gdf.loc[keep].reset_index(drop=True)
    return _Batch(good, quarantine, rows[keep], key)


@dataclass
class _CreditRefs:
    """The columns of a hazard file that name its objects by credit code (and name)."""

    code: str
    name: str | None


def _credit_refs(schema: Layer, raw: RawTable, cmap: validate.ColumnMap, report: ImportReport) -> _CreditRefs | None:
    """A hazard file without target columns but with a credit-code column names its objects by credit code."""
    if schema.name not in CREDIT_REF_LAYERS or "target_id" in cmap.columns:
        return None
    used = set(cmap.columns.values()) | {h for h in (cmap.lon, cmap.lat, cmap.wkt) if h}
    code, name = hazard_files.reference_columns(list(raw.frame.columns), used)
    if code is None:
        return None
    cmap.unused = [h for h in cmap.unused if h not in (code, name)]
    report.note(f"文件按统一社会信用代码（“{code}”列）指明企业或场所，与库中的企业、人员密集场所对照"
                + (f"，并核对单位名称（“{name}”列）" if name else "；文件没有单位名称列，未核对名称"),
                f"the file names its enterprises or venues by unified social credit code (column {code!r}), matched "
                "against the store's enterprises and venues" + (f", names checked (column {name!r})" if name
                                                               else "; it has no name column, so no name was checked"))
    if schema.id_column in cmap.columns and validate.norm_header(cmap.columns[schema.id_column]) == "序号":
        seq = cmap.columns.pop(schema.id_column)
        report.note(f"“{seq}”列是行序号，不作为隐患编号", f"the column {seq!r} counts rows; it is not used as the hazard id")
    return _CreditRefs(code, name)


def _details(out: pd.DataFrame, prep: hazard_files.Prepared) -> None:
    """Fill the five elements' details (who, how much, when, which plan) from what their flag columns said,
    where the file's own detail columns are empty or absent."""
    for detail, said in prep.details.items():
        if detail == "deadline":
            said, _bad, _far = validate.to_date(said)
        elif detail == "funds":
            said = pd.to_numeric(said, errors="coerce")
        if detail in out.columns:
            out[detail] = out[detail].where(out[detail].notna(), said)
        else:
            out[detail] = said


def _targets(store: Store, out: pd.DataFrame, raw: RawTable, refs: _CreditRefs, rows: np.ndarray,
             report: ImportReport, st: _Rows) -> np.ndarray:
    """Set each row's target from its credit code (enterprises first, then venues); quarantine a code that is
    empty, invalid, unknown or carried by several objects, and a name that is not the object's. Returns the
    credit codes (the key of derived ids)."""
    code_col = LAYERS["enterprises"].column(CREDIT_CODE)
    label = code_col.zh
    codes = _column(LAYERS["enterprises"], code_col, raw.frame[refs.code], rows, report, st, date.max, {})
    empty = codes.isna().to_numpy(dtype=bool) & ~st.quarantine
    _flag(report, st, rows, empty, label, QUARANTINED, "统一社会信用代码为空：无法确定隐患属于哪家企业或场所",
          "the credit code is empty: the hazard names no enterprise or venue")
    live = codes.where(pd.Series(~st.quarantine, index=codes.index), None)
    t = hazard_files.resolve_targets(store, live)
    shown = codes.to_numpy(dtype=object)
    _flag(report, st, rows, t.unknown, label, QUARANTINED,
          lambda i: f"统一社会信用代码“{shown[i]}”在库中没有对应的企业或人员密集场所：请先导入该企业，或核对代码",
          lambda i: f"no enterprise or venue in the store has the credit code {shown[i]!r}: import the enterprise "
                    "first, or check the code")
    _flag(report, st, rows, t.ambiguous, label, QUARANTINED,
          lambda i: f"统一社会信用代码“{shown[i]}”在库中对应多个对象，无法确定是哪一个",
          lambda i: f"several objects in the store have the credit code {shown[i]!r}; cannot tell which one is meant")
    if refs.name is not None:
        names = validate.to_text(raw.frame[refs.name]).to_numpy(dtype=object)
        found = pd.notna(t.target_id)
        differ = np.array([bool(f) and g is not None and s is not None and not hazard_files.same_name(g, s)
                           for f, g, s in zip(found, names, t.stored_name, strict=True)], dtype=bool)
        _flag(report, st, rows, differ, refs.name, QUARANTINED,
              lambda i: f"单位名称“{names[i]}”与统一社会信用代码 {shown[i]} 在库中的名称“{t.stored_name[i]}”不符：请核对代码或名称",
              lambda i: f"the name {names[i]!r} is not {t.stored_name[i]!r}, the name in the store for credit code "
                        f"{shown[i]}: check the code or the name")
    out["target_layer"] = pd.Series(t.layer, dtype=object)
    out["target_id"] = pd.Series(t.target_id, dtype=object)
    return shown


def _as_geoframe(out: pd.DataFrame, geoms: np.ndarray):
    import geopandas as gpd

    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, index=out.index, crs=4326), crs=4326)


def _quarantine_rows(schema: Layer, raw: RawTable, rows: np.ndarray, st: _Rows, path: Path) -> pd.DataFrame:
    idx = np.flatnonzero(st.quarantine)
    if len(idx) == 0:
        return pd.DataFrame(columns=["layer", "source", "row", "field", "reason_zh", "reason_en", "raw"])
    sub = raw.frame.iloc[idx]
    records = sub.astype(object).where(sub.notna(), None).to_dict("records")
    if raw.geometry is not None:
        wkt = shapely.to_wkt(raw.geometry[idx], rounding_precision=-1)
        for r, w in zip(records, wkt, strict=True):
            r["geometry_wkt"] = w
    fields, zhs, ens = [], [], []
    for i in idx.tolist():
        reasons = st.reasons.get(i, [])
        fields.append(", ".join(dict.fromkeys(f for f, _, _ in reasons if f)) or None)
        zhs.append("；".join(z for _, z, _ in reasons))
        ens.append("; ".join(e for _, _, e in reasons))
    return pd.DataFrame({"layer": schema.name, "source": path.name, "row": rows[idx].astype(int),
                         "field": fields, "reason_zh": zhs, "reason_en": ens, "raw": records})


# --------------------------------------------------------------------------------------------------
# Columns
# --------------------------------------------------------------------------------------------------

#: the longest text a column kind may hold (characters): ids and codes, notes, everything else (names,
#: addresses, contacts). Past it the batch is rejected: such a value is nearly always a quote left open that
#: swallowed the rows after it (so the row count is wrong too), and a 10 MB name would be sent with every
#: reply that shows its district.
KEY_CHARS, NOTE_CHARS, TEXT_CHARS = 200, 20_000, 2_000
NOTE_COLUMNS = ("description",)


def text_limit(schema: Layer, c: Column) -> int:
    if _is_key(schema, c):
        return KEY_CHARS
    return NOTE_CHARS if c.name in NOTE_COLUMNS else TEXT_CHARS


def _too_long(schema: Layer, c: Column, text: pd.Series, rows: np.ndarray, report: ImportReport) -> None:
    limit = text_limit(schema, c)
    vals = text.to_numpy(dtype=object)
    for i in np.flatnonzero([v is not None and len(v) > limit for v in vals]):
        n = len(vals[i])
        report.add(int(rows[i]), c.zh, REJECTED,
                   f"字段“{c.zh}”有 {n:,} 个字符，超过上限 {limit:,}（“{vals[i][:20]}…”）：多半是前面有引号没有闭合，"
                   "把后面的行都吞进了这一格；请检查该行的引号",
                   f"field {c.en!r} holds {n:,} characters, more than the limit of {limit:,} ({vals[i][:20]!r}…): "
                   "most likely a quote left open earlier swallowed the rows after it; check the quotes of that row")


def _is_key(schema: Layer, c: Column) -> bool:
    """Ids, codes and references to ids: compared exactly, so kept free of invisible characters."""
    return c.name in (schema.id_column, CREDIT_CODE, "district_code", "town_code") or c.name.endswith("_id")


def _key(schema: Layer, c: Column, raw: pd.Series, rows: np.ndarray, report: ImportReport,
         st: _Rows) -> pd.Series:
    label = c.zh
    text, lost = validate.key_text(raw)
    if lost.any() and c.name != CREDIT_CODE:  # a credit code has its own message (_credit_codes)
        vals = raw.to_numpy(dtype=object)
        _flag(report, st, rows, lost, label, QUARANTINED,
              lambda i: f"{label}“{vals[i]!r}”在 Excel 或文件中存成了数字，位数已丢失（超过 15 位的数字无法精确保存）；"
                        "请把该列设为文本后重新导出",
              lambda i: f"{c.en} {vals[i]!r} was stored as a number and lost digits (a number past 15 digits cannot "
                        "be kept exactly); format the column as text and export again")
    text, hidden = validate.drop_invisible(text)
    if hidden:
        mask = np.zeros(len(text), dtype=bool)
        mask[list(hidden)] = True
        shown = text.to_numpy(dtype=object)
        _flag(report, st, rows, mask, label, FIXED,
              lambda i: f"{label}“{shown[i]}”含不可见字符 {hidden[i]}，已删除（否则与看起来相同的编号不相等）",
              lambda i: f"{c.en} {shown[i]!r} held invisible characters {hidden[i]}; removed (they make an id "
                        "that looks the same but is not equal)")
    return text


def _flag_empty(report: ImportReport, st: _Rows, rows: np.ndarray, mask: np.ndarray, c: Column,
                why: dict[int, tuple[str, str]]) -> None:
    """Quarantine rows whose required field ``c`` is empty, saying why where the reader knows (``why``: row ->
    zh/en, e.g. a merged cell or a formula with no saved value)."""
    if not why:
        _flag(report, st, rows, mask, c.zh, QUARANTINED, f"必填字段“{c.zh}”为空", f"required field {c.en!r} is empty")
        return
    _flag(report, st, rows, mask, c.zh, QUARANTINED,
          lambda i: f"必填字段“{c.zh}”为空" + (f"：{why[rows[i]][0]}" if rows[i] in why else ""),
          lambda i: f"required field {c.en!r} is empty" + (f": {why[rows[i]][1]}" if rows[i] in why else ""))


def _column(schema: Layer, c: Column, raw: pd.Series, rows: np.ndarray, report: ImportReport, st: _Rows,
            today: date, why: dict[int, tuple[str, str]]) -> pd.Series:
    """The stored values of column ``c`` from the file's ``raw`` values; ``why`` explains empty cells."""
    label = c.zh
    if c.type is T.TEXT:
        text = _key(schema, c, raw, rows, report, st) if _is_key(schema, c) else validate.to_text(raw)
        _too_long(schema, c, text, rows, report)
        bad = np.zeros(len(text), dtype=bool)
        if c.allowed:
            keys, bad = validate.to_enum(text, c)
            if bad.any():
                vals = text.to_numpy(dtype=object)
                allowed = validate.allowed_labels(c)
                if c.required:
                    _flag(report, st, rows, bad, label, QUARANTINED,
                          lambda i: f"值“{vals[i]}”不是允许的{label}（可选：{allowed}）",
                          lambda i: f"value {vals[i]!r} is not an allowed {c.en} (allowed: {allowed})")
                else:
                    _flag(report, st, rows, bad, label, FIXED,
                          lambda i: f"值“{vals[i]}”不是允许的{label}（可选：{allowed}），已清空",
                          lambda i: f"value {vals[i]!r} is not an allowed {c.en} (allowed: {allowed}); cleared")
            text = keys
        elif c.name == CREDIT_CODE:
            text = _credit_codes(raw, text, rows, report, st, label)
        if c.required:
            _flag_empty(report, st, rows, text.isna().to_numpy(dtype=bool) & ~bad, c, why)
        return text
    if c.type in (T.INT, T.REAL):
        vals, bad = validate.to_number(raw, integer=c.type is T.INT)
        if bad.any():
            text = validate.to_text(raw).to_numpy(dtype=object)
            kind_zh = "整数" if c.type is T.INT else "数字"
            kind_en = "a whole number" if c.type is T.INT else "a number"
            if c.required:
                _flag(report, st, rows, bad, label, QUARANTINED,
                      lambda i: f"值“{text[i]}”不是{kind_zh}{validate.number_hint(text[i])[0]}",
                      lambda i: f"value {text[i]!r} is not {kind_en}{validate.number_hint(text[i])[1]}")
            else:
                _flag(report, st, rows, bad, label, FIXED,
                      lambda i: f"值“{text[i]}”不是{kind_zh}{validate.number_hint(text[i])[0]}，已清空",
                      lambda i: f"value {text[i]!r} is not {kind_en}{validate.number_hint(text[i])[1]}; cleared")
        if c.required:
            _flag_empty(report, st, rows, vals.isna().to_numpy(dtype=bool) & ~bad, c, why)
        return vals
    if c.type is T.BOOL:
        vals, bad = validate.to_bool(raw)
        if bad.any():
            text = validate.to_text(raw).to_numpy(dtype=object)
            _flag(report, st, rows, bad, label, FIXED,
                  lambda i: f"值“{text[i]}”不是是/否，已清空", lambda i: f"value {text[i]!r} is not yes/no; cleared")
        return vals
    # dates
    vals, bad, far = validate.to_date(raw, with_time=c.type is T.DATETIME)
    text = None
    if far.any():
        shown = validate.to_text(raw).to_numpy(dtype=object)
        span = f"{validate.MIN_YEAR}-01-01..{validate.MAX_YEAR}-12-31"
        _flag(report, st, rows, far, label, QUARANTINED,
              lambda i: f"{label} {shown[i]} 超出可用范围 {span}（年份写错了？）",
              lambda i: f"{c.en} {shown[i]} is outside the usable range {span} (a mistyped year?)")
    if bad.any():
        text = validate.to_text(raw).to_numpy(dtype=object)
        if c.required and bad.sum() == (validate.to_text(raw).notna()).sum():
            sample = text[np.flatnonzero(bad)[0]]
            raise _reject(report, f"必填日期列“{label}”没有一个值能识别为日期（如“{sample}”），"
                                  "请使用 2024-03-15、2024/3/15 或 2024年3月15日 格式，或 Excel 日期单元格",
                          f"no value in the required date column {c.en!r} is a date (e.g. {sample!r}); use "
                          "2024-03-15, 2024/3/15, 2024年3月15日 or real Excel date cells",
                          row=int(rows[np.flatnonzero(bad)[0]]), fld=label)
        def zh(i: int) -> str:
            return f"值“{text[i]}”不是日期（应为 2024-03-15、2024/3/15 或 2024年3月15日）" + \
                ("" if c.required else "，已清空")

        def en(i: int) -> str:
            return f"value {text[i]!r} is not a date (use 2024-03-15, 2024/3/15 or 2024年3月15日)" + \
                ("" if c.required else "; cleared")

        _flag(report, st, rows, bad, label, QUARANTINED if c.required else FIXED, zh, en)
    if c.required:
        _flag_empty(report, st, rows, vals.isna().to_numpy(dtype=bool) & ~bad & ~far, c, why)
    if (schema.name, c.name) in EVENT_DATES:
        future = (vals > pd.Timestamp(today)).to_numpy(dtype=bool)
        if future.any():
            days = vals.to_numpy()
            _flag(report, st, rows, future, label, QUARANTINED,
                  lambda i: f"{label} {str(days[i])[:10]} 晚于今天 {today.isoformat()}，不能是未来日期",
                  lambda i: f"{c.en} {str(days[i])[:10]} is after today {today.isoformat()}; it cannot be in the future")
    return vals


def _credit_codes(raw: pd.Series, text: pd.Series, rows: np.ndarray, report: ImportReport, st: _Rows,
                  label: str) -> pd.Series:
    vals = text.to_numpy(dtype=object)
    upper = pd.Series([v.upper().replace(" ", "") if v is not None else None for v in vals], index=text.index,
                      dtype=object)
    present = upper.notna().to_numpy(dtype=bool)
    bad = present & ~credit_code.valid_mask(upper)
    if bad.any():
        numeric = validate.numeric_raw(raw)

        def zh(i: int) -> str:
            if numeric[i]:
                return f"统一社会信用代码“{vals[i]}”在 Excel 中存成了数字（如 9.1E+17），位数已丢失；请把该列设为文本后重新导出"
            return f"统一社会信用代码“{vals[i]}”无效（GB 32100-2015：应为 18 位且校验位正确）"

        def en(i: int) -> str:
            if numeric[i]:
                return (f"credit code {vals[i]!r} was stored as a number in Excel (e.g. 9.1E+17) and lost digits; "
                        "format the column as text and export again")
            return (f"unified social credit code {vals[i]!r} is invalid (GB 32100-2015: 18 characters with a "
                    "correct check character)")

        _flag(report, st, rows, bad, label, QUARANTINED, zh, en)
    return upper


def _ids(store: Store, schema: Layer, ids: pd.Series, rows: np.ndarray, report: ImportReport, replace: bool, *,
         key: Column) -> None:
    """Reject duplicate ids in the file and ids already in the store; ``key`` is the column they came from."""
    label = key.zh
    what_zh, what_en = ("编号", "id") if key.name == schema.id_column else (f"{key.zh}（即编号）", "credit code (the id)")
    present = ids.notna().to_numpy(dtype=bool)
    dup = ids.duplicated(keep=False).to_numpy(dtype=bool) & present
    if dup.any():
        vals = ids.to_numpy(dtype=object)
        first_row: dict[object, list[int]] = {}
        for i in np.flatnonzero(dup):
            first_row.setdefault(vals[i], []).append(int(rows[i]))
        for i in np.flatnonzero(dup):
            others = [r for r in first_row[vals[i]] if r != rows[i]][:5]
            report.add(int(rows[i]), label, REJECTED,
                       f"{what_zh}“{vals[i]}”在文件中重复（也在第 {', '.join(map(str, others))} 行），编号必须唯一",
                       f"{what_en} {vals[i]!r} is duplicated in the file (also row {', '.join(map(str, others))}); "
                       "ids must be unique")
    if replace or not present.any():
        return
    existing = store.read(schema.name, columns=[schema.id_column])[schema.id_column]
    if len(existing) == 0:
        return
    clash = ids.isin(set(existing.dropna().astype(str))).to_numpy(dtype=bool) & present
    if clash.any():
        vals = ids.to_numpy(dtype=object)
        report.add_many(rows[clash], label, REJECTED,
                        [f"{what_zh}“{v}”已在图层 {schema.zh} 中存在；要整体替换请用 --replace" for v in vals[clash]],
                        [f"{what_en} {v!r} already exists in layer {schema.name}; use --replace to replace the layer"
                         for v in vals[clash]])


# --------------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------------

def _geometry(schema: Layer, raw: RawTable, cmap: validate.ColumnMap, rows: np.ndarray, report: ImportReport,
              st: _Rows, source: SourceCRS | None) -> np.ndarray | None:
    """WGS-84 geometries for every row (None where missing); flags and rejects as it goes."""
    n = len(raw.frame)
    geom_label = "几何" if raw.geometry is not None or cmap.wkt else "经度/纬度"
    geom_label_en = "geometry" if raw.geometry is not None or cmap.wkt else "longitude/latitude"
    if raw.geometry is not None:
        geoms = np.asarray(raw.geometry, dtype=object)
        tabular_xy = None
    elif cmap.lon and cmap.lat:
        x, bad_x = validate.to_number(raw.frame[cmap.lon], integer=False)
        y, bad_y = validate.to_number(raw.frame[cmap.lat], integer=False)
        # NaN/Inf typed as text ("nan", "inf") are not numbers for to_number: mark them explicitly
        lon_txt = raw.frame[cmap.lon].to_numpy(dtype=object)
        lat_txt = raw.frame[cmap.lat].to_numpy(dtype=object)
        nonfinite_txt = np.zeros(n, dtype=bool)
        for i in np.flatnonzero(bad_x | bad_y):  # only the few rows that did not convert
            nonfinite_txt[i] = _nonfinite_text(lon_txt[i]) or _nonfinite_text(lat_txt[i])
        bad_num = (bad_x | bad_y) & ~nonfinite_txt
        def hint(i: int, lang: int) -> str:
            return validate.number_hint(lon_txt[i])[lang] or validate.number_hint(lat_txt[i])[lang]

        _flag(report, st, rows, bad_num, geom_label, QUARANTINED,
              lambda i: f"坐标“{lon_txt[i]}, {lat_txt[i]}”不是数字{hint(i, 0)}",
              lambda i: f"coordinates {lon_txt[i]!r}, {lat_txt[i]!r} are not numbers{hint(i, 1)}")
        _flag(report, st, rows, nonfinite_txt, geom_label, QUARANTINED, "坐标含 NaN 或无穷大",
              "coordinates contain NaN or infinity")
        tabular_xy = (x.to_numpy(dtype=float), y.to_numpy(dtype=float))
        geoms = None
        lon_missing = x.isna().to_numpy(dtype=bool) & ~bad_x
        lat_missing = y.isna().to_numpy(dtype=bool) & ~bad_y
        both_missing = lon_missing & lat_missing
        one_missing = lon_missing ^ lat_missing
        _flag(report, st, rows, one_missing, geom_label, QUARANTINED, "经度或纬度缺一个",
              "one of longitude/latitude is empty")
        if schema.geometry_required:
            _flag(report, st, rows, both_missing, geom_label, QUARANTINED, "没有坐标（空几何）",
                  "no coordinates (empty geometry)")
    elif cmap.wkt:
        text = validate.to_text(raw.frame[cmap.wkt])
        arr = text.to_numpy(dtype=object)
        geoms = shapely.from_wkt(arr, on_invalid="ignore")
        bad = text.notna().to_numpy(dtype=bool) & shapely.is_missing(geoms)
        _flag(report, st, rows, bad, geom_label, QUARANTINED, lambda i: f"几何文本无法解析：{str(arr[i])[:60]}",
              lambda i: f"cannot parse the geometry text: {str(arr[i])[:60]}")
        tabular_xy = None
    else:
        if schema.geometry_required:
            report.add(None, "经度/纬度", REJECTED,
                       "缺少坐标列：需要经度和纬度两列（经度/lng/lon/longitude/X，纬度/lat/latitude/Y）或 WKT 列",
                       "coordinate columns are missing: need a longitude and a latitude column "
                       "(经度/lng/lon/longitude/X, 纬度/lat/latitude/Y) or a WKT column")
        return None if not schema.geometry_required else np.full(n, None, dtype=object)

    # ---- which coordinate system ----
    has_any = (np.isfinite(tabular_xy[0]).any() or np.isfinite(tabular_xy[1]).any()) if tabular_xy is not None \
        else bool((~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)).any())
    if source is not None:
        if raw.crs is not None and raw.crs.name != source.name:
            report.note(f"文件声明的坐标系是 {raw.crs.name}，按 --crs 指定的 {source.name} 处理",
                        f"the file declares {raw.crs.name}; treated as {source.name} as given by --crs")
    else:
        source = raw.crs
    if source is None:
        if has_any:
            report.add(None, geom_label, REJECTED,
                       "文件没有声明坐标系（无 .prj / SRS），请用 --crs 指定：wgs84、cgcs2000、gcj02（高德/腾讯）、"
                       "bd09（百度）或 EPSG:代码；坐标系不会被猜测",
                       "the file declares no coordinate system (no .prj / SRS); give --crs: wgs84, cgcs2000, "
                       "gcj02 (Amap/Tencent), bd09 (Baidu) or EPSG:code; it is never guessed")
            return None
        source = parse_crs("wgs84")
    report.source_crs = source.name

    if tabular_xy is not None:
        return _points_from_xy(schema, tabular_xy, rows, report, st, source, geom_label, geom_label_en)
    return _transform_geoms(schema, geoms, rows, report, st, source, geom_label, raw.kind)


def _nonfinite_text(v: object) -> bool:
    return isinstance(v, str) and v.strip().lower().lstrip("+-") in ("nan", "inf", "infinity")


def _range_checks(report: ImportReport, st: _Rows, rows: np.ndarray, x: np.ndarray, y: np.ndarray,
                  ok: np.ndarray, source: SourceCRS, geom_label: str) -> np.ndarray:
    """Check source coordinates (per row: x, y of one representative vertex or the worst vertex).

    Returns a mask of rows with bad coordinates (already flagged); raises _Reject for batch-level problems.
    """
    n_ok = int(ok.sum())
    if source.is_geographic:
        out = ok & ((np.abs(x) > 180) | (np.abs(y) > 90))
        if n_ok and out.sum() * 2 > n_ok:
            swapped = ok & (np.abs(y) <= 180) & (np.abs(x) <= 90)
            if swapped.sum() * 2 > n_ok:
                hint_zh, hint_en = "经度和纬度两列可能填反了", "the longitude and latitude columns may be swapped"
            else:
                hint_zh = ("这些数值像是投影坐标（米），不是经纬度（度）；请用 --crs 指定投影坐标系，例如 CGCS2000 3 度带 "
                           "EPSG:4547（中央经线 114°E）或 UTM EPSG:32650")
                hint_en = ("these numbers look like projected metres, not degrees; give the projected system with "
                           "--crs, e.g. CGCS2000 3-degree zone EPSG:4547 (central meridian 114E) or UTM EPSG:32650")
            first = int(rows[np.flatnonzero(out)[0]])
            raise _reject(report, f"{int(out.sum())}/{n_ok} 行坐标超出经纬度范围（经度 -180..180，纬度 -90..90，"
                                  f"如第 {first} 行 {x[out][0]:g}, {y[out][0]:g}），坐标系声明为 {source.name}；{hint_zh}",
                          f"{int(out.sum())}/{n_ok} rows have coordinates outside the degree ranges (lon -180..180, "
                          f"lat -90..90; e.g. row {first}: {x[out][0]:g}, {y[out][0]:g}) but the system is "
                          f"{source.name}; {hint_en}", fld=geom_label)
        _flag(report, st, rows, out, geom_label, QUARANTINED,
              lambda i: f"坐标 {x[i]:g}, {y[i]:g} 超出经纬度范围（经度 -180..180，纬度 -90..90）",
              lambda i: f"coordinates {x[i]:g}, {y[i]:g} are outside -180..180 / -90..90")
        return out
    degree_like = ok & (np.abs(x) <= 180) & (np.abs(y) <= 90)
    if n_ok and degree_like.sum() == n_ok:
        raise _reject(report, f"坐标系 {source.name} 是投影坐标（米），但所有坐标都像经纬度（度）；"
                              "请检查 --crs 或 .prj，经纬度数据请用 --crs wgs84/cgcs2000/gcj02/bd09",
                      f"the system {source.name} is projected (metres) but every coordinate looks like degrees; "
                      "check --crs or the .prj; for longitude/latitude use --crs wgs84/cgcs2000/gcj02/bd09",
                      fld=geom_label)
    return np.zeros(len(x), dtype=bool)


def _surveying_order(report: ImportReport, x: np.ndarray, y: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                     ok: np.ndarray, source: SourceCRS, geom_label: str) -> None:
    """Reject when projected X/Y land outside the system's area of use but swapped land inside it.

    Chinese surveying names the northing X and the easting Y, the reverse of GIS order; the numbers cannot
    say which is meant, so the batch is rejected with the hint rather than swapped silently.
    """
    if source.is_geographic or source.crs is None or source.crs.area_of_use is None or not ok.any():
        return
    w, s, e, n = source.crs.area_of_use.bounds
    margin = 1.0
    inside = ok & (lon >= w - margin) & (lon <= e + margin) & (lat >= s - margin) & (lat <= n + margin)
    if inside.sum() * 2 >= ok.sum():
        return
    sw_lon, sw_lat = transform_xy(y[ok], x[ok], source)
    inside_sw = (sw_lon >= w - margin) & (sw_lon <= e + margin) & (sw_lat >= s - margin) & (sw_lat <= n + margin)
    if inside_sw.sum() * 2 > ok.sum():
        raise _reject(report, f"按 {source.name} 换算，大部分坐标落在该坐标系的适用范围之外，而把 X、Y 两列对调后落在范围内："
                              "测量习惯中 X 是北坐标、Y 是东坐标，请把北坐标列命名为“纬度/Y”、东坐标列命名为“经度/X”后重新导入",
                      f"in {source.name} most coordinates fall outside the system's area of use, but inside it with "
                      "the X and Y columns swapped: in Chinese surveying X is the northing and Y the easting; name the "
                      "easting column X (经度) and the northing column Y (纬度) and import again", fld=geom_label)


def _points_from_xy(schema: Layer, xy: tuple[np.ndarray, np.ndarray], rows: np.ndarray, report: ImportReport,
                    st: _Rows, source: SourceCRS, geom_label: str, geom_label_en: str) -> np.ndarray:
    x, y = xy
    n = len(x)
    ok = np.isfinite(x) & np.isfinite(y) & ~st.quarantine
    zero = ok & (x == 0) & (y == 0)
    _flag(report, st, rows, zero, geom_label, QUARANTINED, "坐标为 (0, 0)，不是有效位置",
          "coordinates are (0, 0), not a real location")
    ok &= ~zero
    bad = _range_checks(report, st, rows, x, y, ok, source, geom_label)
    ok &= ~bad
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    if ok.any():
        tx, ty = transform_xy(x[ok], y[ok], source)
        lon[ok], lat[ok] = tx, ty
    _surveying_order(report, x, y, lon, lat, ok, source, geom_label)
    fail = ok & ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    _flag(report, st, rows, fail, geom_label, QUARANTINED, f"坐标无法从 {source.name} 转换到 WGS-84",
          f"coordinates cannot be transformed from {source.name} to WGS-84")
    ok &= ~fail
    geoms = np.full(n, None, dtype=object)
    if ok.any():
        geoms[ok] = shapely.points(lon[ok], lat[ok])
    if schema.geometry != Geom.POINT and schema.geometry != Geom.GEOMETRY:
        report.add(None, geom_label, REJECTED, f"图层 {schema.zh} 需要线或面几何，经纬度列只能表示点；请用 WKT 列或空间文件",
                   f"layer {schema.name} needs line or polygon geometries; longitude/latitude columns only give "
                   "points; use a WKT column or a spatial file")
        raise _Reject()
    return geoms


def _transform_geoms(schema: Layer, geoms: np.ndarray, rows: np.ndarray, report: ImportReport, st: _Rows,
                     source: SourceCRS, geom_label: str, kind: str) -> np.ndarray:
    n = len(geoms)
    geoms = geoms.copy()
    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(geoms)
    if schema.geometry_required:
        _flag(report, st, rows, missing | empty, geom_label, QUARANTINED, "几何为空", "the geometry is empty or null")
    present = ~missing & ~empty
    geoms[~present] = None
    # geometry type
    tid = np.where(present, shapely.get_type_id(np.where(present, geoms, shapely.Point(0, 0))), -1)
    accept = _ACCEPT[schema.geometry]
    right = np.isin(tid, list(accept))
    wrong = present & ~right
    if present.any() and not (present & right).any():
        found = ", ".join(sorted({_TYPE_NAMES.get(int(t), str(t)) for t in tid[present]}))
        raise _reject(report, f"文件里的几何是 {found}，图层 {schema.zh} 需要 {schema.geometry.value}",
                      f"the file holds {found} geometries; layer {schema.name} needs {schema.geometry.value}",
                      fld=geom_label)
    _flag(report, st, rows, wrong, geom_label, QUARANTINED,
          lambda i: f"几何类型 {_TYPE_NAMES.get(int(tid[i]), tid[i])} 不符合图层要求的 {schema.geometry.value}",
          lambda i: f"geometry type {_TYPE_NAMES.get(int(tid[i]), tid[i])} does not fit the layer's "
                    f"{schema.geometry.value}")
    present &= right
    # Z / M dropped
    has_zm = present & (shapely.has_z(np.where(present, geoms, None)) | shapely.has_m(np.where(present, geoms, None)))
    if has_zm.any():
        _flag(report, st, rows, has_zm, geom_label, FIXED, "含 Z/M 坐标，已去掉（只保存平面坐标）",
              "had Z/M coordinates; dropped (only x/y are stored)")
        geoms[has_zm] = shapely.force_2d(geoms[has_zm])
    if not present.any():
        return geoms
    # coordinates, per vertex
    g = geoms[present]
    coords, idx = shapely.get_coordinates(g, return_index=True)
    rows_present = np.flatnonzero(present)
    m = len(g)
    finite_v = np.isfinite(coords).all(axis=1)
    nonfinite = np.bincount(idx, weights=~finite_v, minlength=m) > 0
    zero_v = finite_v & (coords[:, 0] == 0) & (coords[:, 1] == 0)
    zero = np.bincount(idx, weights=zero_v, minlength=m) > 0
    full_nonfinite = np.zeros(n, dtype=bool)
    full_nonfinite[rows_present[nonfinite]] = True
    full_zero = np.zeros(n, dtype=bool)
    full_zero[rows_present[zero & ~nonfinite]] = True
    _flag(report, st, rows, full_nonfinite, geom_label, QUARANTINED, "坐标含 NaN 或无穷大",
          "coordinates contain NaN or infinity")
    _flag(report, st, rows, full_zero, geom_label, QUARANTINED, "坐标为 (0, 0)，不是有效位置",
          "coordinates are (0, 0), not a real location")
    # worst vertex per geometry for range checks: first vertex outside range, else the first vertex
    fx = np.full(m, np.nan)
    fy = np.full(m, np.nan)
    if source.is_geographic:
        badv = finite_v & ((np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90))
    else:
        badv = finite_v & ~((np.abs(coords[:, 0]) <= 180) & (np.abs(coords[:, 1]) <= 90))
    order = np.lexsort((~badv, idx))  # per geometry, bad vertices first
    first = np.unique(idx[order], return_index=True)[1]
    pick = order[first]
    fx[idx[pick]] = coords[pick, 0]
    fy[idx[pick]] = coords[pick, 1]
    full_x = np.full(n, np.nan)
    full_y = np.full(n, np.nan)
    full_x[rows_present] = fx
    full_y[rows_present] = fy
    ok = np.isfinite(full_x) & np.isfinite(full_y) & ~full_nonfinite & ~full_zero
    out_range = _range_checks(report, st, rows, full_x, full_y, ok, source, geom_label)
    # transform all vertices at once
    tx, ty = transform_xy(coords[:, 0], coords[:, 1], source)
    new = np.column_stack([tx, ty])
    badt_v = ~(np.isfinite(new).all(axis=1) & (np.abs(new[:, 0]) <= 180) & (np.abs(new[:, 1]) <= 90)) & finite_v
    badt = np.zeros(n, dtype=bool)
    badt[rows_present[np.bincount(idx, weights=badt_v, minlength=m) > 0]] = True
    badt &= ok & ~out_range
    _flag(report, st, rows, badt, geom_label, QUARANTINED, f"坐标无法从 {source.name} 转换到 WGS-84",
          f"coordinates cannot be transformed from {source.name} to WGS-84")
    new = np.where(np.isfinite(new), new, 0.0)
    g2 = shapely.set_coordinates(np.array(g, dtype=object), new)
    geoms[rows_present] = g2
    bad_rows = full_nonfinite | full_zero | out_range | badt
    geoms[bad_rows] = None
    # validity: repair polygons (and lines with too few points cannot be repaired: quarantine)
    live = present & ~bad_rows
    if live.any():
        valid = np.ones(n, dtype=bool)
        valid[live] = shapely.is_valid(geoms[live])
        inval = live & ~valid
        if inval.any():
            reasons = np.full(n, "", dtype=object)
            reasons[inval] = shapely.is_valid_reason(geoms[inval])
            fixed = np.full(n, None, dtype=object)
            fixed[inval] = [_repair(gm, schema.geometry) for gm in geoms[inval]]
            repaired = inval & ~shapely.is_missing(fixed)
            _flag(report, st, rows, repaired, geom_label, FIXED,
                  lambda i: f"几何无效（{reasons[i]}），已用 make_valid 修复",
                  lambda i: f"invalid geometry ({reasons[i]}); repaired with make_valid")
            _flag(report, st, rows, inval & ~repaired, geom_label, QUARANTINED,
                  lambda i: f"几何无效（{reasons[i]}），无法修复",
                  lambda i: f"invalid geometry ({reasons[i]}); cannot be repaired")
            geoms[repaired] = fixed[repaired]
            geoms[inval & ~repaired] = None
        if schema.geometry == Geom.MULTIPOLYGON:
            polys = live & (shapely.get_type_id(np.where(live, geoms, shapely.Point(0, 0))) == 3)
            if polys.any():
                geoms[polys] = [shapely.MultiPolygon([p]) for p in geoms[polys]]
    return geoms


def _repair(g: Any, want: Geom) -> Any:
    fixed = shapely.make_valid(g)
    if want in (Geom.POLYGON, Geom.MULTIPOLYGON):
        parts = [p for p in shapely.get_parts(fixed) if shapely.get_type_id(p) in (3, 6)]
        if not parts:
            return None
        u = shapely.union_all(parts)
        return u if shapely.get_type_id(u) in (3, 6) and not u.is_empty else None
    if want in (Geom.LINESTRING, Geom.MULTILINESTRING):
        parts = [p for p in shapely.get_parts(fixed) if shapely.get_type_id(p) in (1, 5)]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else shapely.MultiLineString(parts)
    return fixed if not fixed.is_empty else None


def _object_districts(store: Store, schema: Layer, out: pd.DataFrame, rows: np.ndarray, report: ImportReport,
                      st: _Rows) -> None:
    """Set each row's district code to the district of the object it names (a hazard's target, an accident's
    enterprise): flagged as fixed where the file gave another code, noted where it gave none. Rows whose object
    is not in the store, or has no district, keep what the file says."""
    ref = OBJECT_REFS.get(schema.name)
    if ref is None or DISTRICT not in schema.names:
        return
    layer_col, layer_name, id_col = ref
    if id_col not in out.columns or (layer_col is not None and layer_col not in out.columns):
        return
    n = len(out)
    ids = out[id_col].to_numpy(dtype=object)
    targets = out[layer_col].to_numpy(dtype=object) if layer_col else np.full(n, layer_name, dtype=object)
    live = ~st.quarantine & pd.notna(ids) & pd.notna(targets)
    found = np.full(n, None, dtype=object)
    for target in pd.unique(targets[live]):
        tschema = LAYERS.get(target)
        if tschema is None or DISTRICT not in tschema.names:
            continue
        sel = live & (targets == target)
        wanted = pd.unique(ids[sel])
        objects = store.read(target, columns=[tschema.id_column, DISTRICT],
                             ids=wanted.tolist() if len(wanted) <= _BY_ID_LIMIT else None)
        lookup = dict(zip(objects[tschema.id_column].astype(str), objects[DISTRICT], strict=True))
        found[sel] = [lookup.get(v) for v in ids[sel]]
    has = pd.notna(found)
    if not has.any():
        return
    given = out[DISTRICT].to_numpy(dtype=object, copy=True) if DISTRICT in out.columns else np.full(n, None, object)
    empty = has & pd.isna(given)
    differ = has & ~empty & (given != found)
    label = schema.column(DISTRICT).zh
    _flag(report, st, rows, differ, label, FIXED,
          lambda i: f"区县代码 {given[i]} 与所指对象（{LAYERS[targets[i]].zh} {ids[i]}）所在区县 {found[i]} 不符，已改为 "
                    f"{found[i]}：记录归属其对象所在的区县",
          lambda i: f"district code {given[i]} differs from {found[i]}, the district of the object it names "
                    f"({targets[i]} {ids[i]}); set to {found[i]}: a record belongs to the district of the object it "
                    "names")
    given[has] = found[has]
    out[DISTRICT] = given
    if empty.any():
        k = int(empty.sum())
        report.note(f"{k} 行的区县代码按所属对象补全", f"filled district_code from the object each row names for {k} rows")


def _districts(store: Store, schema: Layer, geoms: np.ndarray, out: pd.DataFrame, rows: np.ndarray,
               report: ImportReport, st: _Rows) -> None:
    """Quarantine rows outside the city's districts; fill empty district/town codes from the location."""
    if schema.name in ("districts", "towns") or store.count("districts") == 0:
        return
    districts = store.read("districts", columns=["code", "geometry"])
    live = ~shapely.is_missing(geoms) & ~st.quarantine
    if not live.any():
        return
    city = shapely.union_all(districts.geometry.values)
    shapely.prepare(city)
    inside = np.ones(len(geoms), dtype=bool)
    g = geoms[live]
    if schema.geometry == Geom.POINT:
        inside[live] = shapely.intersects_xy(city, shapely.get_x(g), shapely.get_y(g))
    else:
        inside[live] = shapely.intersects(city, g)
    outside = live & ~inside
    _flag(report, st, rows, outside, "几何", QUARANTINED, "位置不在本市任何区县范围内",
          "the location is outside every district of the city")
    live &= inside
    for col, layer_name in (("district_code", "districts"), ("town_code", "towns")):
        if col not in schema.names:
            continue
        current = out[col] if col in out.columns else pd.Series([None] * len(out), dtype=object)
        need = live & current.isna().to_numpy(dtype=bool)
        if not need.any():
            continue
        areas = districts if layer_name == "districts" else store.read("towns", columns=["code", "geometry"])
        if len(areas) == 0:
            continue
        probe = geoms[need]
        if schema.geometry != Geom.POINT:
            probe = shapely.point_on_surface(probe)
        tree = shapely.STRtree(areas.geometry.values)
        src, hit = tree.query(probe, predicate="intersects")
        codes = np.full(len(probe), None, dtype=object)
        first = np.unique(src, return_index=True)
        codes[first[0]] = areas["code"].to_numpy(dtype=object)[hit[first[1]]]
        filled = current.astype(object).to_numpy(copy=True)
        filled[np.flatnonzero(need)] = codes
        out[col] = filled
        k = int(pd.notna(codes).sum())
        if k:
            report.note(f"{k} 行的{'区县' if col == 'district_code' else '镇街'}代码按位置补全",
                        f"filled {col} from the location for {k} rows")


__all__ = ["import_file", "ImportReport", "RowIssue", "ImportRejected", "EVENT_DATES"]
