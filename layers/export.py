"""Exports to XLSX, CSV and GeoPackage that are safe against formula injection.

A text cell that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or CR)
is written with a leading apostrophe in CSV and as a plain string cell in XLSX, so a name like
``=HYPERLINK(...)`` stays text.

Every writer writes a hidden file beside the target and renames it over the target only once it is complete and
closed: a failed or interrupted export leaves no half file (and an older file of that name as it was). Each takes
``progress(rows_done, rows_total)``, told as the rows go out; the file is in place when the writer returns.

CSV is assembled column by column with Arrow's compute kernels (:func:`write_csv`), byte for byte what
``DataFrame.to_csv(index=False, encoding="utf-8-sig")`` writes, about 6x as fast on a big city.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from layers.errors import RiskMapError

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: the same test as :data:`_FORMULA_START`, as an RE2 pattern for Arrow
_FORMULA_RE = "^[=+\\-@\t\r]"

#: what a progress callback is told: rows written so far, rows in all
Progress = Callable[[int, int], None]

#: Excel's limit: 1,048,576 rows a sheet, the header row included
XLSX_ROW_LIMIT = 1_048_576
#: above this many rows in one sheet an .xlsx is refused (:class:`TooBigForExcel`): Excel opens such a sheet
#: slowly and the writer needs about 30 s per million cells; CSV or GeoPackage have no such limit
XLSX_COMFORTABLE_ROWS = 200_000

_L = pa.large_string()
_EMPTY = pa.scalar("", _L)
_LINESEP = pa.scalar(os.linesep, _L)
#: a CSV field is quoted when it holds the delimiter, the quote or a character of the line ending (Python's
#: ``csv.QUOTE_MINIMAL``, which ``DataFrame.to_csv`` uses, with ``os.linesep``)
_QUOTE_RE = "[,\"" + "".join(sorted(set(os.linesep))) + "]"
_CSV_CHUNK_ROWS = 100_000


class TooBigForExcel(RiskMapError):
    """A table has more rows than an .xlsx export takes (:data:`XLSX_COMFORTABLE_ROWS`)."""

    def __init__(self, sheet: str, rows: int, limit: int):
        self.sheet, self.rows, self.limit = sheet, rows, limit
        super().__init__(
            f"表 {sheet!r} 有 {rows:,} 行，超过 Excel 导出上限 {limit:,} 行；请改用 .csv 或 .gpkg 输出"
            f"（如 --out gaps.csv）(sheet {sheet!r} has {rows:,} rows, more than the {limit:,} an .xlsx export "
            "takes; write .csv or .gpkg instead, e.g. --out gaps.csv)")


def safe_text(value: object) -> object:
    """Neutralise a text value that a spreadsheet would read as a formula (for CSV)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(frame).copy(deep=False)
    if isinstance(frame, gpd.GeoDataFrame):
        geom = frame.geometry
        out = out.drop(columns=frame.geometry.name)
        out["wkt"] = geom.to_wkt()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    return out


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A hidden path beside ``path`` to write to; renamed to ``path`` when the block ends without an error,
    removed (with any SQLite journal beside it) when it raises."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.partial{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        for extra in ("", "-journal", "-wal", "-shm"):
            Path(f"{tmp}{extra}").unlink(missing_ok=True)
        raise


# ------------------------------------------------------------------------------------------------------------
# CSV
# ------------------------------------------------------------------------------------------------------------

def _neutralised(text: pa.Array) -> pa.Array:
    """:func:`safe_text` on an Arrow string array."""
    risky = pc.match_substring_regex(text, _FORMULA_RE)
    if not pc.any(risky).as_py():
        return text
    return pc.if_else(risky, pc.binary_join_element_wise(pa.scalar("'", _L), text, _EMPTY), text)


def _float_text(values: np.ndarray) -> pa.Array:
    """Floats as ``numpy.ndarray.astype(str)`` (Python's ``repr``) writes them, which ``to_csv`` uses: Arrow's
    shortest round-trip digits where it writes them in fixed notation (with ``.0`` on whole numbers), numpy for
    the rest (exponents, inf, and floats narrower than 64 bits); NaN as empty."""
    if values.dtype != np.float64:
        return pa.array(np.where(np.isnan(values), "", values.astype(str)), type=_L)
    text = pc.cast(pa.array(values), _L)
    with np.errstate(invalid="ignore"):
        whole = np.floor(values) == values
        size = np.abs(values)
        fast = ((size >= 1e-4) & (size < 1e15)) | (values == 0)
    text = pc.if_else(pa.array(whole), pc.binary_join_element_wise(text, pa.scalar(".0", _L), _EMPTY), text)
    fast &= ~np.asarray(pc.fill_null(pc.match_substring(text, "e"), False), dtype=bool)
    slow = ~fast & ~np.isnan(values)
    if slow.any():
        out = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
        out[slow] = values[slow].astype(str)
        text = pa.array(out, type=_L)
    return pc.if_else(pa.array(np.isnan(values)), _EMPTY, text)


def _fallback_text(column: pd.Series) -> pa.Array:
    """Any other column as ``to_csv`` renders it (pandas' own conversion of a block for CSV, then ``str``)."""
    values = column.map(safe_text) if pd.api.types.is_object_dtype(column.dtype) else column
    rendered = values.to_frame()._get_values_for_csv(na_rep="", float_format=None, date_format=None,
                                                      decimal=".", quoting=None)
    return pa.array([v if isinstance(v, str) else ("" if v is None else str(v))
                     for v in rendered.iloc[:, 0].tolist()], type=_L)


def _csv_text(column: pd.Series) -> pa.Array | pa.Scalar:
    """One column's CSV fields (quoted where needed, never null), formula-like text neutralised; a scalar when
    every field is empty."""
    dtype = column.dtype
    values = column.to_numpy() if isinstance(dtype, np.dtype) else None
    if values is not None and dtype.kind == "b":
        return pc.if_else(pa.array(values), pa.scalar("True", _L), pa.scalar("False", _L))
    if values is not None and dtype.kind in "iu":
        return pc.cast(pa.array(values), _L)
    if values is not None and dtype.kind == "f":
        return _float_text(values)
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "iu":
        return pc.fill_null(pc.cast(pa.array(column.array), _L), _EMPTY)
    if pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype):
        try:
            text = pa.array(column, type=_L, from_pandas=True)
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            text = None                  # not text alone
        if text is not None:
            if text.null_count == len(text):
                return _EMPTY
            text = _neutralised(text)
            return _quoted(pc.fill_null(text, _EMPTY) if text.null_count else text)
    return _quoted(_fallback_text(column))


def _quoted(text: pa.Array) -> pa.Array:
    """CSV fields: text that holds a comma, a quote or a line ending quoted, its quotes doubled."""
    needs = pc.match_substring_regex(text, _QUOTE_RE)
    if not pc.any(needs).as_py():
        return text
    quoted = pc.binary_join_element_wise(pa.scalar('"', _L), pc.replace_substring(text, '"', '""'),
                                         pa.scalar('"', _L), _EMPTY)
    return pc.if_else(needs, quoted, text)


def _lines(fields: list[pa.Array | pa.Scalar], rows: int) -> memoryview:
    """Rows of fields (an array each, or a scalar for the same field in every row) joined into CSV lines, as
    the bytes of one buffer."""
    if not any(isinstance(f, pa.Array) for f in fields):
        fields = [pa.array([fields[0].as_py()] * rows, type=_L), *fields[1:]]
    if len(fields) == 1:   # Python's csv quotes a row that is one empty field, so that it is not an empty line
        fields = [pc.if_else(pc.equal(fields[0], _EMPTY), pa.scalar('""', _L), fields[0])]
    last = pc.binary_join_element_wise(fields[-1], _EMPTY, _LINESEP)
    lines = pc.binary_join_element_wise(*fields[:-1], last, pa.scalar(",", _L)) if len(fields) > 1 else last
    if len(lines) == 0:
        return memoryview(b"")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    start, end = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
    return memoryview(lines.buffers()[2])[start:end]


def _write_csv(parts: list[pd.DataFrame], columns: pd.Index, path: Path, progress: Progress | None,
               dtypes: Mapping[str, object] | None = None) -> Path:
    """``parts`` one after the other under ``columns``: the first part alone by position; several by name, a
    column a part lacks left empty, each column cast to ``dtypes`` (what ``pd.concat`` would give it)."""
    total = sum(len(p) for p in parts)
    done = 0
    header = _lines([_quoted(pa.array([str(c)], type=_L)) for c in columns], 1) if len(columns) else b""
    with _replacing(path) as tmp, open(tmp, "wb") as f:
        f.write("\ufeff".encode())
        f.write(header)
        for part in parts:
            if dtypes is None:
                picks = list(range(part.shape[1]))
            else:
                where = {c: j for j, c in enumerate(part.columns)}
                picks = [where.get(c) for c in columns]
            for start in range(0, len(part), _CSV_CHUNK_ROWS):
                chunk = part.iloc[start:start + _CSV_CHUNK_ROWS]
                fields = []
                for c, j in zip(columns, picks, strict=True):
                    if j is None:
                        fields.append(_EMPTY)
                        continue
                    col = chunk.iloc[:, j]
                    if dtypes is not None and col.dtype != dtypes[c]:
                        col = col.astype(dtypes[c])
                    fields.append(_csv_text(col))
                if fields:
                    f.write(_lines(fields, len(chunk)))
                done += len(chunk)
                if progress:
                    progress(done, total)
    return path


def write_csv(frame: pd.DataFrame, path: str | Path, *, progress: Progress | None = None) -> Path:
    """CSV in UTF-8 with BOM (Excel opens it with Chinese intact); formula-like text neutralised.

    The same bytes as ``DataFrame.to_csv(path, index=False, encoding="utf-8-sig")`` of the frame with every text
    value passed through :func:`safe_text` (geometries as a ``wkt`` column, dates as ``YYYY-MM-DD``), built by
    Arrow column by column, ``100_000`` rows at a time."""
    out = _plain(frame)
    return _write_csv([out], out.columns, Path(path), progress)


# ------------------------------------------------------------------------------------------------------------
# XLSX and GeoPackage
# ------------------------------------------------------------------------------------------------------------

def check_xlsx_size(sheets: Mapping[str, pd.DataFrame], *, limit: int = XLSX_COMFORTABLE_ROWS) -> None:
    """Raise :class:`TooBigForExcel` when a sheet has more than ``limit`` rows (never more than Excel's own
    limit), before anything is written."""
    limit = min(limit, XLSX_ROW_LIMIT - 1)
    for name, frame in sheets.items():
        if len(frame) > limit:
            raise TooBigForExcel(str(name), len(frame), limit)


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: str | Path, *, progress: Progress | None = None,
               limit: int = XLSX_ROW_LIMIT - 1) -> Path:
    """One sheet per frame; every text cell written as a string (never a formula); header row bold, frozen.

    A sheet of more than ``limit`` rows (default: what Excel holds) is refused before anything is written
    (:class:`TooBigForExcel`)."""
    import xlsxwriter

    check_xlsx_size(sheets, limit=limit)
    path = Path(path)
    total = sum(len(f) for f in sheets.values())
    done = 0
    with _replacing(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False,
                                            "strings_to_numbers": False, "nan_inf_to_errors": True})
        try:
            head = wb.add_format({"bold": True, "bg_color": "#DDE3EA", "border": 1})
            for name, frame in sheets.items():
                ws = wb.add_worksheet(str(name)[:31])
                out = _plain(frame)
                for j, col in enumerate(out.columns):
                    ws.write_string(0, j, str(col), head)
                    width = max(8, min(40, len(str(col)) * 2))
                    for i, v in enumerate(out.iloc[:, j].tolist(), start=1):
                        if v is None or (isinstance(v, float) and v != v) or v is pd.NA or v is pd.NaT:
                            continue
                        if isinstance(v, bool):
                            ws.write_boolean(i, j, v)
                        elif isinstance(v, (int, float)):
                            ws.write_number(i, j, v)
                        else:
                            text = str(v)
                            ws.write_string(i, j, text)
                            width = max(width, min(60, len(text) * 2))
                    ws.set_column(j, j, width)
                ws.freeze_panes(1, 0)
                done += len(frame)
                if progress:
                    progress(done, total)
        finally:
            wb.close()
    return path


def write_gpkg(layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], path: str | Path, *,
               progress: Progress | None = None) -> Path:
    """One GeoPackage layer per frame (attribute tables without geometry are written as such), through GDAL's
    Arrow interface (about twice as fast as feature by feature at a million rows, the same fields and values)."""
    import pyogrio

    path = Path(path)
    total = sum(len(f) for f in layers.values())
    done = 0
    with _replacing(path) as tmp:
        for name, frame in layers.items():
            plain = frame if isinstance(frame, gpd.GeoDataFrame) else _plain(frame)
            pyogrio.write_dataframe(plain, tmp, layer=name, driver="GPKG", use_arrow=True)
            done += len(frame)
            if progress:
                progress(done, total)
    return path


def _whole_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Integer columns as nullable integers, so that sheets concatenated into one CSV (a column missing from
    some of them) still write 366, not 366.0."""
    ints = [c for c in frame.columns if frame[c].dtype.kind in "iu"]
    return frame.astype({c: "Int64" for c in ints}) if ints else frame


def write_any(sheets: Mapping[str, pd.DataFrame], path: str | Path, *, progress: Progress | None = None) -> Path:
    """Write by the file's suffix: .xlsx (one sheet each), .gpkg (one layer each), .csv (first frame, or a
    folder-less concatenation with a ``sheet`` column when several)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return write_xlsx(sheets, path, progress=progress)
    if suffix == ".gpkg":
        return write_gpkg(sheets, path, progress=progress)
    if suffix == ".csv":
        if len(sheets) == 1:
            return write_csv(next(iter(sheets.values())), path, progress=progress)
        # as pd.concat of the sheets would be written, without making it: its columns and dtypes from the
        # sheets' empty heads, the rows sheet by sheet
        frames = [_whole_numbers(_plain(f)).assign(sheet=name) for name, f in sheets.items()]
        head = pd.concat([f.iloc[:0] for f in frames], ignore_index=True)
        return _write_csv(frames, head.columns, path, progress, dtypes=head.dtypes.to_dict())
    raise ValueError(f"不支持的导出格式 {suffix!r}，请用 .xlsx/.csv/.gpkg (unsupported export format {suffix!r}; "
                     "use .xlsx, .csv or .gpkg)")
