"""Read an import file into a raw table: CSV, XLSX/XLS, GeoJSON, GeoPackage, zipped or bare Shapefile.

Readers check that a file is what its name says (by its first bytes; a CSV has no NUL byte anywhere), decode
text strictly (never ``errors="replace"``; a GBK/GB18030 fallback that yields what Big5 turns into is refused),
check an XLSX sheet's size before python-calamine reads it (:mod:`layers.ingest.xlsx`), unpack zips
defensively (no ``..`` or absolute member paths, no links, a size limit checked on the declared sizes and
again on the bytes actually read), and report the coordinate system the file declares (``.prj``, GeoPackage
SRS, GeoJSON = WGS-84) without guessing one.

A problem that makes the whole file unusable raises :class:`BadFile` with a bilingual message; the importer
turns it into a rejected batch.

Row numbers are what a user sees: in CSV and XLSX the header is row 1 (in XLSX, the sheet row of the header;
below a title and notes, the row among the first 30 holding the most known column names of the layer), so the
first data row is 2; in GeoJSON, GeoPackage and Shapefile it is the feature number, counted from 1.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import shutil
import stat
import struct
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.sax.saxutils import unescape

import numpy as np
import pandas as pd

from geo.crs import SourceCRS, from_pyproj
from layers.ingest import xlsx

#: default limit on what a zip may unpack to (bytes)
MAX_UNPACKED_BYTES = 1 << 30  # 1 GiB
MAX_ZIP_MEMBERS = 10_000
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")

CSV_EXT = (".csv", ".txt", ".tsv")
XLSX_EXT = (".xlsx", ".xlsm", ".xls")
GEOJSON_EXT = (".geojson", ".json")
GPKG_EXT = (".gpkg",)
ZIP_EXT = (".zip",)
SHP_EXT = (".shp",)
SUPPORTED = CSV_EXT + XLSX_EXT + GEOJSON_EXT + GPKG_EXT + ZIP_EXT + SHP_EXT

_MAGIC_ZIP = b"PK\x03\x04"
_MAGIC_EMPTY_ZIP = b"PK\x05\x06"
_MAGIC_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAGIC_SQLITE = b"SQLite format 3\x00"


class BadFile(Exception):
    """The file cannot be read as a whole; carries a Chinese and an English message."""

    def __init__(self, zh: str, en: str, *, field: str | None = None, row: int | None = None):
        super().__init__(f"{zh} ({en})")
        self.zh = zh
        self.en = en
        self.field = field
        self.row = row


@dataclass
class RawTable:
    """What a reader found: raw attribute values, user-visible row numbers, geometries and declared CRS."""

    frame: pd.DataFrame  # raw values, object dtype, positional index 0..n-1
    rows: np.ndarray  # user-visible row (or feature) number of each record
    kind: str  # csv, xlsx, geojson, gpkg, shapefile
    geometry: np.ndarray | None = None  # shapely geometries for vector formats, else None
    crs: SourceCRS | None = None  # declared by the file; None when it declares none
    encoding: str | None = None
    notes: list[tuple[str, str]] = field(default_factory=list)
    #: why a cell reads as empty though the sheet shows it: (row, header) -> (zh, en) (XLSX merged cells and
    #: formulas with no saved result)
    empty_why: dict[tuple[int, str], tuple[str, str]] = field(default_factory=dict)


def _kind_of(path: Path) -> str:
    ext = path.suffix.lower()
    if ext in CSV_EXT:
        return "csv"
    if ext in XLSX_EXT:
        return "xlsx"
    if ext in GEOJSON_EXT:
        return "geojson"
    if ext in GPKG_EXT:
        return "gpkg"
    if ext in ZIP_EXT:
        return "zip"
    if ext in SHP_EXT:
        return "shapefile"
    raise BadFile(f"不支持的文件类型 {path.suffix or '(无扩展名)'}，支持 {', '.join(SUPPORTED)}",
                  f"unsupported file type {path.suffix or '(no extension)'}; supported: {', '.join(SUPPORTED)}")


def _what_it_is(head: bytes) -> str | None:
    if head.startswith((_MAGIC_ZIP, _MAGIC_EMPTY_ZIP)):
        return "ZIP/XLSX"
    if head.startswith(_MAGIC_OLE):
        return "XLS (OLE2)"
    if head.startswith(_MAGIC_SQLITE):
        return "SQLite/GeoPackage"
    if head.startswith(b"%PDF"):
        return "PDF"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "image"
    return None


def _not_what_it_says(path: Path, expected: str, actual: str | None) -> BadFile:
    """``expected`` is ``"中文 (English)"`` or a plain name used in both languages."""
    exp_zh, _, exp_en = expected.partition(" (")
    exp_en = exp_en.rstrip(")") or exp_zh
    what = actual or "其他格式"
    what_en = actual or "something else"
    return BadFile(f"文件 {path.name} 的扩展名是 {path.suffix}，但内容不是 {exp_zh}（实际是 {what}），请检查文件或改正扩展名",
                   f"file {path.name} is named {path.suffix} but is not {exp_en} (it is {what_en}); "
                   "check the file or fix its extension")


def read_any(path: Path, *, encoding: str | None = None, layer_hint: str | None = None,
             max_unpacked_bytes: int = MAX_UNPACKED_BYTES) -> RawTable:
    """Read ``path`` by its extension after checking its content matches it."""
    path = Path(path)
    if not path.exists():
        raise BadFile(f"文件不存在：{path}", f"file not found: {path}")
    if path.is_dir():
        raise BadFile(f"{path} 是文件夹，请给出文件", f"{path} is a folder; give a file")
    kind = _kind_of(path)
    with path.open("rb") as fh:
        head = fh.read(64)
    if not head:
        raise BadFile(f"文件 {path.name} 是空的", f"file {path.name} is empty")
    actual = _what_it_is(head)
    if kind == "csv":
        if actual:
            raise _not_what_it_says(path, "CSV 文本 (CSV text)", actual)
        return read_csv(path, encoding=encoding, layer_hint=layer_hint)
    if kind == "xlsx":
        want = _MAGIC_OLE if path.suffix.lower() == ".xls" else _MAGIC_ZIP
        if not head.startswith(want):
            raise _not_what_it_says(path, "Excel 工作簿 (Excel workbook)", actual)
        return read_xlsx(path, layer_hint=layer_hint, max_unpacked_bytes=max_unpacked_bytes)
    if kind == "geojson":
        if actual or not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
            raise _not_what_it_says(path, "GeoJSON", actual)
        return read_vector(path, kind="geojson")  # RFC 7946: always UTF-8
    if kind == "gpkg":
        if not head.startswith(_MAGIC_SQLITE):
            raise _not_what_it_says(path, "GeoPackage", actual)
        return read_vector(path, kind="gpkg", layer_hint=layer_hint)  # SQLite text: always UTF-8
    if kind == "zip":
        if not head.startswith((_MAGIC_ZIP, _MAGIC_EMPTY_ZIP)) or not zipfile.is_zipfile(path):
            raise _not_what_it_says(path, "ZIP 压缩包 (a ZIP archive)", actual)
        with unpacked_shapefile(path, max_unpacked_bytes=max_unpacked_bytes) as shp:
            return read_shapefile(shp, encoding=encoding, source_name=path.name)
    return read_shapefile(path, encoding=encoding, source_name=path.name)


# --------------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------------

def _row_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


#: characters that Simplified Chinese data does not hold but that Big5 (Traditional Chinese) turns into when
#: it is read as GBK/GB18030: the private-use area (GBK's user-defined rows, where Big5 keeps many hanzi),
#: and the GBK symbol rows where Big5 keeps its commonest hanzi (ordered by strokes: 中 is A4A4, read as い):
#: Japanese kana (rows A4/A5), Cyrillic (A7), bopomofo (A8) and box drawing (A9). Greek (A6) is left out: it
#: is real in safety data (γ 射线探伤). Of 463 six-character runs of everyday text encoded as Big5, all
#: decode as GB18030 and 462 hold one of these. Only checked after a fallback: a named ``--encoding`` is taken
#: as it is.
_IMPLAUSIBLE = {"私用区字符 (private-use characters U+E000-U+F8FF)": ("\ue000", "\uf8ff"),
                "日文假名 (Japanese kana)": ("\u3040", "\u30ff"),
                "西里尔字母 (Cyrillic)": ("\u0400", "\u04ff"),
                "注音符号 (bopomofo)": ("\u3100", "\u312f"),
                "制表符 (box drawing)": ("\u2500", "\u257f")}
_IMPLAUSIBLE_RE = re.compile("[" + "".join(f"{a}-{b}" for a, b in _IMPLAUSIBLE.values()) + "]")


def implausible_fallback(text: str, codec: str, *, name: str, row_of) -> BadFile | None:
    """A :class:`BadFile` when ``text`` (decoded as ``codec`` by fallback) holds :data:`_IMPLAUSIBLE` characters.

    ``row_of(position)`` gives the user-visible row of a character position (None: not in a row).
    """
    first = _IMPLAUSIBLE_RE.search(text)
    if first is None:
        return None
    found = _IMPLAUSIBLE_RE.findall(text)
    kinds = [k for k, (a, b) in _IMPLAUSIBLE.items() if any(a <= ch <= b for ch in found)]
    kinds_zh = "、".join(k.partition(" (")[0] for k in kinds)
    kinds_en = ", ".join(k.partition(" (")[2].rstrip(")") for k in kinds)
    pos = first.start()
    line_start = text.rfind("\n", 0, pos) + 1
    sample = text[max(line_start, pos - 12): pos + 12].split("\n", 1)[0]
    row = row_of(pos)
    where_zh = f"第 {row} 行" if row is not None else "字段名"
    where_en = f"row {row}" if row is not None else "a field name"
    return BadFile(f"文件 {name} 按 {codec} 解码后有 {len(found)} 个简体中文数据中不会出现的字符（{kinds_zh}，如{where_zh}的"
                   f"“{sample}”）：多半是繁体中文 Big5 编码，请用 --encoding big5 指定；若文字确实如此，请用 --encoding {codec}",
                   f"file {name} decoded as {codec} holds {len(found)} characters that Simplified Chinese data does "
                   f"not ({kinds_en}; e.g. {where_en}: {sample!r}): it is most likely Big5 (Traditional Chinese); "
                   f"give --encoding big5, or --encoding {codec} if the text is right", row=row)


def decode_text(data: bytes, *, encoding: str | None, name: str) -> tuple[str, str]:
    """Decode ``data`` strictly: the given encoding, else UTF-8 (with or without BOM), else GB18030.

    Returns ``(text, encoding name)``; raises :class:`BadFile` naming the row of the first bad byte.
    """
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise BadFile(f"未知的编码 {encoding!r}，可用 utf-8、gbk、gb18030 等",
                          f"unknown encoding {encoding!r}; use utf-8, gbk, gb18030, ...") from None
        if codec == "utf-8" and data.startswith(codecs.BOM_UTF8):
            codec = "utf-8-sig"
        try:
            return data.decode(codec, errors="strict"), encoding
        except UnicodeDecodeError as exc:
            row = _row_of_offset(data, exc.start)
            raise BadFile(f"文件 {name} 第 {row} 行不是有效的 {encoding} 编码，请用 --encoding 指定正确编码",
                          f"file {name} row {row} is not valid {encoding}; give the right --encoding",
                          row=row) from None
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data.decode("utf-8-sig", errors="strict"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            row = _row_of_offset(data, exc.start)
            raise BadFile(f"文件 {name} 带 UTF-8 BOM，但第 {row} 行不是有效的 UTF-8，请用 --encoding 指定编码",
                          f"file {name} has a UTF-8 BOM but row {row} is not valid UTF-8; give --encoding",
                          row=row) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16", errors="strict"), "utf-16"
        except UnicodeDecodeError:
            raise BadFile(f"文件 {name} 带 UTF-16 BOM 但内容无效", f"file {name} has a UTF-16 BOM but is not valid UTF-16"
                          ) from None
    try:
        return data.decode("utf-8", errors="strict"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_row = _row_of_offset(data, exc.start)
    for codec in ("gbk", "gb18030"):  # GBK is a subset of GB18030: name the smaller one when it suffices
        try:
            text = data.decode(codec, errors="strict")
        except UnicodeDecodeError:
            continue
        bad = implausible_fallback(text, codec, name=name, row_of=lambda pos, t=text: t.count("\n", 0, pos) + 1)
        if bad is not None:
            raise bad
        return text, codec
    raise BadFile(f"无法识别文件 {name} 的编码（第 {utf8_row} 行起既不是 UTF-8 也不是 GBK/GB18030），"
                  "请用 --encoding 指定，例如 --encoding big5",
                  f"cannot tell the encoding of {name} (from row {utf8_row} it is neither UTF-8 nor GBK/GB18030); "
                  "give it with --encoding, e.g. --encoding big5", row=utf8_row)


def _sniff_sep(first_line: str) -> str:
    counts = {sep: first_line.count(sep) for sep in (",", "\t", ";", "|")}
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else ","


def header_keys(layer_hint: str | None) -> set[str] | None:
    """The header spellings that mark the header row of a file for ``layer_hint`` (None: no layer known)."""
    from layers.ingest import hazard_files, validate
    from layers.schema import LAYERS

    if layer_hint not in LAYERS:
        return None
    extra: tuple[str, ...] = ()
    if layer_hint == "hazards":
        extra = (*(a for v in hazard_files.HEADER_ALIASES.values() for a in v), *hazard_files.CREDIT_HEADERS,
                 *hazard_files.NAME_HEADERS)
    return validate.header_keys(LAYERS[layer_hint], extra=extra)


def _skipped_note(header_row: int, skipped: list[list[object]]) -> tuple[str, str]:
    """The report's note on the title and note rows above a header found below the first row."""
    texts = [" ".join(str(v).strip() for v in r if v not in (None, "") and str(v).strip()) for r in skipped]
    shown = "；".join(f"“{t[:40]}”" for t in texts if t)[:200] or "（空行）"
    shown_en = "; ".join(repr(t[:40]) for t in texts if t)[:200] or "(blank rows)"
    k = header_row - 1
    return (f"表头在第 {header_row} 行（按已知列名识别）；其上 {k} 行是标题或说明，未作为数据读取：{shown}",
            f"the header is row {header_row} (found by its known column names); the {k} rows above it are a title "
            f"or notes and were not read as data: {shown_en}")


def _csv_header_line(text: str, keys: set[str] | None) -> int:
    """Index of the header line among the first lines of a CSV text (0: the first line)."""
    from layers.ingest import validate

    if not keys:
        return 0
    starts = [0]
    for _ in range(validate.HEADER_SEARCH_ROWS):
        j = text.find("\n", starts[-1])
        if j < 0:
            break
        starts.append(j + 1)
    lines = [text[a:b].rstrip("\r\n") for a, b in zip(starts, [*starts[1:], len(text)], strict=False)]
    return validate.find_header([_line_cells(line) for line in lines], keys)


def _line_cells(line: str) -> list[str]:
    """The fields of one CSV line, for finding the header (a line the csv module cannot split is one field:
    the real parse reports it)."""
    try:
        return next(csv.reader([line], delimiter=_sniff_sep(line)), [])
    except csv.Error:
        return [line]


def read_csv(path: Path, *, encoding: str | None = None, layer_hint: str | None = None) -> RawTable:
    data = path.read_bytes()
    nul = -1 if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else data.find(b"\x00")
    if 0 <= nul < 65536:
        raise _not_what_it_says(path, "CSV 文本 (CSV text)", "二进制文件 (a binary file)")
    if nul >= 0:  # text for 64 KB, then a NUL: binary data appended, or a damaged file
        row = _row_of_offset(data, nul)
        raise BadFile(f"文件 {path.name} 第 {row} 行含有 NUL 字节（\\x00）：CSV 文本里不会有，文件可能已损坏或混入了二进制数据",
                      f"file {path.name} row {row} holds a NUL byte (\\x00), which CSV text never does: the file "
                      "is damaged or has binary data in it", row=row)
    text, enc = decode_text(data, encoding=encoding, name=path.name)
    del data
    # a title and notes above the header (a provincial system's export): the header is found by its names
    skip = _csv_header_line(text, header_keys(layer_hint))
    notes: list[tuple[str, str]] = []
    if skip:
        cut = 0
        for _ in range(skip):
            cut = text.index("\n", cut) + 1
        above = text[:cut].splitlines()
        notes.append(_skipped_note(skip + 1, [_line_cells(ln) for ln in above]))
        text = text[cut:]
    first_line = text.split("\n", 1)[0]
    sep = _sniff_sep(first_line)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=object, keep_default_na=False, na_filter=False,
                            skip_blank_lines=False, engine="c")
    except pd.errors.EmptyDataError:
        raise BadFile(f"文件 {path.name} 没有表头和数据", f"file {path.name} has no header and no data") from None
    except pd.errors.ParserError as exc:
        m = re.search(r"line (\d+), saw (\d+)", str(exc))
        row = int(m.group(1)) if m else None
        if row is not None:
            row += skip
        if m is None and (q := re.search(r"EOF inside string starting at row (\d+)", str(exc))):
            row = int(q.group(1)) + 1 + skip  # pandas counts the header as row 0
            raise BadFile(f"文件 {path.name} 第 {row} 行有一个引号没有闭合，其后的内容直到文件末尾都被当成了一个字段；请检查该行的引号",
                          f"file {path.name} row {row} opens a quote that is never closed, so everything after it "
                          "up to the end of the file reads as one field; check the quotes of that row",
                          row=row) from None
        where_zh = f"第 {row} 行" if row is not None else ""
        where_en = f"row {row} " if row is not None else ""
        raise BadFile(f"文件 {path.name} {where_zh}的列数与表头不一致（{exc}），请检查分隔符和引号",
                      f"file {path.name} {where_en}has a different number of fields than the header ({exc}); "
                      "check separators and quotes", row=row) from None
    # header is row 1; a quoted field with a line break makes a record span several lines
    n_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if n_lines != len(frame) + 1:  # some quoted field holds a line break
        rows = np.array(_csv_record_lines(text, sep)[: len(frame)], dtype=np.int64) + skip
    else:
        rows = np.arange(2 + skip, len(frame) + 2 + skip, dtype=np.int64)
    frame.columns = [str(c) for c in frame.columns]
    frame, rows = _drop_blank_rows(frame, rows)
    return RawTable(frame=frame, rows=rows, kind="csv", encoding=enc, notes=notes)


def _csv_record_lines(text: str, sep: str) -> list[int]:
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    out: list[int] = []
    start = 1
    for i, _rec in enumerate(reader):
        if i > 0:
            out.append(start)
        start = reader.line_num + 1
    return out


def _drop_blank_rows(frame: pd.DataFrame, rows: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    if len(frame) == 0:
        return frame.reset_index(drop=True), rows
    blank = np.ones(len(frame), dtype=bool)
    for c in frame.columns:
        vals = frame[c].to_numpy(dtype=object)
        idx = np.flatnonzero(blank)
        blank[idx] = [v is None or v is pd.NA or (type(v) is float and v != v) or (type(v) is str and not v.strip())
                      for v in vals[idx]]
        if not blank.any():
            break
    if blank.any():
        frame = frame.loc[~blank].reset_index(drop=True)
        rows = rows[~blank]
    return frame, rows


# --------------------------------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------------------------------

def read_xlsx(path: Path, *, layer_hint: str | None = None, max_unpacked_bytes: int = MAX_UNPACKED_BYTES
              ) -> RawTable:
    """First sheet (or the sheet named like the layer) read with python-calamine.

    Cells keep their types: text stays text (a credit code stored as text is never a number), real date
    cells come back as ``datetime.date``/``datetime.datetime``, numbers as float. A sheet whose grid from A1
    to its farthest cell exceeds :data:`~layers.ingest.xlsx.MAX_SHEET_CELLS` is rejected before calamine
    reads it (XLSX: from the sheet XML; XLS: from calamine's size of the sheet, before its cells are copied).
    """
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise BadFile(f"无法读取 Excel 文件 {path.name}：{exc}", f"cannot read Excel file {path.name}: {exc}") from None
    except Exception as exc:  # calamine raises its own zip/xml error types for corrupt workbooks
        raise BadFile(f"Excel 文件 {path.name} 已损坏：{type(exc).__name__}",
                      f"Excel file {path.name} is corrupt: {type(exc).__name__}: {exc}") from None
    notes: list[tuple[str, str]] = []
    try:
        names = wb.sheet_names
        chosen = 0
        if layer_hint and len(names) > 1:
            from layers.schema import LAYERS

            hints = {layer_hint}
            if layer_hint in LAYERS:
                hints |= {LAYERS[layer_hint].zh, LAYERS[layer_hint].en}
            for i, n in enumerate(names):
                if n.strip() in hints:
                    chosen = i
                    break
        if len(names) > 1:
            notes.append((f"工作簿有 {len(names)} 个工作表，读取了“{names[chosen]}”",
                          f"the workbook has {len(names)} sheets; read {names[chosen]!r}"))
        scan = None
        if path.suffix.lower() != ".xls":
            try:
                scan = xlsx.scan_sheet(path, chosen, limit=max_unpacked_bytes)
            except xlsx.SheetTooLarge:
                raise BadFile(f"Excel 文件 {path.name} 的工作表解压后超过声明的大小或上限 {max_unpacked_bytes} 字节（疑似压缩炸弹）",
                              f"a sheet of Excel file {path.name} unpacks beyond its declared size or the limit of "
                              f"{max_unpacked_bytes} bytes (a zip bomb?)") from None
            if scan is not None:
                _check_sheet_size(path, names[chosen], scan.rows, scan.cols)
        try:
            sheet = wb.get_sheet_by_index(chosen)
            _check_sheet_size(path, names[chosen], sheet.total_height + 1, sheet.total_width + 1)
            cells = sheet.to_python(skip_empty_area=False)
            merged = sheet.merged_cell_ranges or []
        except BadFile:
            raise
        except Exception as exc:  # corrupt sheet XML
            raise BadFile(f"Excel 文件 {path.name} 无法读取：{exc}",
                          f"cannot read Excel file {path.name}: {type(exc).__name__}: {exc}") from None
    finally:
        wb.close()
    # header: the first row with any non-empty cell, or below a title and notes the row holding the most known
    # column names (a provincial system's export: title in row 1, "填报单位：…" in row 2, header in row 3)
    from layers.ingest import validate

    filled = []
    for i, r in enumerate(cells):
        if any(v != "" and v is not None for v in r):
            filled.append(i)
            if len(filled) >= validate.HEADER_SEARCH_ROWS:
                break
    if not filled:
        raise BadFile(f"Excel 文件 {path.name} 的工作表是空的", f"the sheet in Excel file {path.name} is empty")
    keys = header_keys(layer_hint)
    pick = validate.find_header([cells[i] for i in filled], keys) if keys else 0
    header_idx = filled[pick]
    if pick:
        notes.append(_skipped_note(header_idx + 1, [cells[i] for i in filled[:pick]]))
    header = cells[header_idx]
    width = len(header)
    while width and (header[width - 1] == "" or header[width - 1] is None):
        width -= 1
    cols = [str(h).strip() if h not in ("", None) else f"column_{j + 1}" for j, h in enumerate(header[:width])]
    body = cells[header_idx + 1:]
    if body:
        frame = pd.DataFrame([r[:width] for r in body], columns=cols, dtype=object)
    else:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    rows = np.arange(header_idx + 2, header_idx + 2 + len(frame), dtype=np.int64)
    frame, rows = _drop_blank_rows(frame, rows)
    why = _empty_cells_why(cells, header_idx, cols, merged, scan.formulas if scan else {}, notes)
    return RawTable(frame=frame, rows=rows, kind="xlsx", notes=notes, empty_why=why)


def _empty_cells_why(cells: list[list], header_idx: int, cols: list[str], merged: list,
                     formulas: dict[tuple[int, int], str], notes: list[tuple[str, str]]
                     ) -> dict[tuple[int, str], tuple[str, str]]:
    """Hints for the data cells that read as empty because of merged cells or formulas with no saved value."""
    width = len(cols)

    def empty(r: int, c: int) -> bool:
        return r < len(cells) and c < len(cells[r]) and cells[r][c] in ("", None)

    why: dict[tuple[int, str], tuple[str, str]] = {}
    n_merged = 0
    for (r0, c0), (r1, c1) in merged:
        span = f"{xlsx.cell_name(r0, c0)}:{xlsx.cell_name(r1, c1)}"
        hit = False
        for r in range(max(r0, header_idx + 1), min(r1, len(cells) - 1) + 1):
            for c in range(c0, min(c1, width - 1) + 1):
                if (r, c) != (r0, c0) and empty(r, c):
                    hit = True
                    why[(r + 1, cols[c])] = (
                        f"单元格 {xlsx.cell_name(r, c)} 在合并单元格 {span} 内，值只在左上角 {xlsx.cell_name(r0, c0)}；"
                        "请取消合并并在每一行填上值",
                        f"cell {xlsx.cell_name(r, c)} lies in the merged cells {span}, whose value is only in the "
                        f"top-left cell {xlsx.cell_name(r0, c0)}; unmerge them and fill every row")
        n_merged += hit
    if n_merged:
        first = f"{xlsx.cell_name(*merged[0][0])}:{xlsx.cell_name(*merged[0][1])}"
        notes.append((f"工作表有 {n_merged} 处合并单元格跨越数据行（如 {first}），只有左上角有值，其余单元格读作空值",
                      f"the sheet has {n_merged} merged ranges across data rows (e.g. {first}); only their top-left "
                      "cell holds a value, the others read as empty"))
    blank = sorted((r, c) for r, c in formulas if r > header_idx and c < width and empty(r, c))
    entities = {"&quot;": '"', "&apos;": "'"}
    shown = {rc: f"{xlsx.cell_name(*rc)} ={unescape(formulas[rc], entities)}" for rc in blank}
    for r, c in blank:
        text = shown[(r, c)].partition(" =")[2]
        why[(r + 1, cols[c])] = (
            f"单元格 {xlsx.cell_name(r, c)} 是公式 ={text}，文件里没有保存计算结果（由程序生成、未在 Excel 中重新计算并保存）；"
            "请在 Excel 中打开、保存后再导入，或把公式粘贴为数值",
            f"cell {xlsx.cell_name(r, c)} holds the formula ={text} with no saved result (written by a program, "
            "never recalculated and saved in Excel); open and save it in Excel and import again, or paste the "
            "formulas as values")
    if blank:
        some = "; ".join(shown[rc] for rc in blank[:3])
        notes.append((f"{len(blank)} 个单元格是没有保存计算结果的公式，读作空值（如 {some}）：请在 Excel 中打开、保存后再导入",
                      f"{len(blank)} cells hold formulas with no saved result and read as empty (e.g. {some}); open "
                      "and save the file in Excel and import again"))
    return why


def _check_sheet_size(path: Path, sheet: str, rows: int, cols: int) -> None:
    if rows * cols <= xlsx.MAX_SHEET_CELLS:
        return
    far = xlsx.cell_name(rows - 1, cols - 1)
    raise BadFile(f"Excel 文件 {path.name} 的工作表“{sheet}”的已用区域是 A1:{far}（{rows} 行 × {cols} 列 = "
                  f"{rows * cols:,} 个单元格），超过上限 {xlsx.MAX_SHEET_CELLS:,} 个单元格；多半是数据以外有误填或残留的"
                  f"单元格（最远到 {far}）：请删掉数据以外的行和列后保存，或另存为 CSV",
                  f"the sheet {sheet!r} of Excel file {path.name} reaches {far} (A1:{far}, {rows} rows x {cols} "
                  f"columns = {rows * cols:,} cells), more than the limit of {xlsx.MAX_SHEET_CELLS:,} cells; most "
                  f"likely a stray cell far from the data: delete the rows and columns after the data and save, "
                  "or save it as CSV", field=far)


# --------------------------------------------------------------------------------------------------
# Vector formats through pyogrio
# --------------------------------------------------------------------------------------------------

def _vector_frame(path: Path, *, layer: str | None = None, encoding: str | None = None,
                  kind: str) -> tuple[pd.DataFrame, np.ndarray, SourceCRS | None]:
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    kw = {"layer": layer} if layer else {}
    if encoding:
        kw["encoding"] = gdal_encoding(encoding)
    try:
        gdf = pyogrio.read_dataframe(path, **kw)
    except (DataSourceError, DataLayerError) as exc:
        raise BadFile(f"无法读取 {kind} 文件 {path.name}：{exc}", f"cannot read {kind} file {path.name}: {exc}") from None
    except UnicodeDecodeError:
        raise BadFile(f"{kind} 文件 {path.name} 的文字无法按 {encoding} 解码，请用 --encoding 指定正确编码",
                      f"the text in {kind} file {path.name} does not decode as {encoding}; give the right --encoding"
                      ) from None
    crs = from_pyproj(gdf.crs) if gdf.crs is not None else None
    geoms = np.asarray(gdf.geometry.values, dtype=object) if "geometry" in gdf.columns else None
    frame = pd.DataFrame(gdf.drop(columns="geometry", errors="ignore"))
    frame = frame.astype(object).where(frame.notna(), None).reset_index(drop=True)
    if geoms is None:
        geoms = np.full(len(frame), None, dtype=object)
    return frame, geoms, crs


def gdal_encoding(encoding: str) -> str:
    """A Python codec name as GDAL/iconv spells it (``latin-1`` -> ``ISO-8859-1``, ``gbk`` -> ``GBK``)."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return encoding
    name = name.upper()
    if name.startswith("ISO8859-"):
        return "ISO-8859-" + name.split("-", 1)[1]
    return name


def read_vector(path: Path, *, kind: str, layer_hint: str | None = None, encoding: str | None = None) -> RawTable:
    import pyogrio
    from pyogrio.errors import DataSourceError

    notes: list[tuple[str, str]] = []
    layer = None
    if kind == "gpkg":
        try:
            layers = pyogrio.list_layers(path)
        except DataSourceError as exc:
            raise BadFile(f"无法读取 GeoPackage {path.name}：{exc}", f"cannot read GeoPackage {path.name}: {exc}"
                          ) from None
        names = [str(n) for n in layers[:, 0]] if len(layers) else []
        if not names:
            raise BadFile(f"GeoPackage {path.name} 里没有图层", f"GeoPackage {path.name} has no layers")
        if len(names) == 1:
            layer = names[0]
        elif layer_hint in names:
            layer = layer_hint
            notes.append((f"GeoPackage 有 {len(names)} 个图层，读取了同名图层 {layer}",
                          f"the GeoPackage has {len(names)} layers; read the one named {layer}"))
        else:
            listed = ", ".join(names[:20])
            raise BadFile(f"GeoPackage {path.name} 有多个图层（{listed}），没有名为 {layer_hint} 的，请只保留一个图层",
                          f"GeoPackage {path.name} has several layers ({listed}) and none is named {layer_hint}; "
                          "export the one layer to import")
    frame, geoms, crs = _vector_frame(path, layer=layer, encoding=encoding, kind=kind)
    if kind == "geojson" and crs is None:
        # RFC 7946: GeoJSON coordinates are WGS-84 longitude/latitude
        from pyproj import CRS

        crs = from_pyproj(CRS.from_epsg(4326))
    rows = np.arange(1, len(frame) + 1, dtype=np.int64)
    return RawTable(frame=frame, rows=rows, kind=kind, geometry=geoms, crs=crs, encoding=encoding, notes=notes)


# --------------------------------------------------------------------------------------------------
# Zip and Shapefile
# --------------------------------------------------------------------------------------------------

def _unsafe_member(name: str) -> bool:
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return True
    return ".." in PurePosixPath(norm).parts


@contextmanager
def unpacked_shapefile(path: Path, *, max_unpacked_bytes: int = MAX_UNPACKED_BYTES) -> Iterator[Path]:
    """Unpack the one shapefile in zip ``path`` to a temporary folder; yield the ``.shp`` path.

    Rejects member paths with ``..`` or an absolute path, symbolic links, more than one ``.shp``, and zips
    whose members declare or actually produce more than ``max_unpacked_bytes``.
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _not_what_it_says(path, "ZIP 压缩包 (a ZIP archive)", str(exc)) from None
    tmp = Path(tempfile.mkdtemp(prefix="riskmap-import-"))
    try:
        with zf:
            infos = zf.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                raise BadFile(f"压缩包 {path.name} 有 {len(infos)} 个成员，超过上限 {MAX_ZIP_MEMBERS}",
                              f"zip {path.name} has {len(infos)} members, more than the limit {MAX_ZIP_MEMBERS}")
            for info in infos:
                if _unsafe_member(info.filename):
                    raise BadFile(f"压缩包 {path.name} 含有不安全的路径 {info.filename!r}（.. 或绝对路径），已拒绝",
                                  f"zip {path.name} has an unsafe member path {info.filename!r} "
                                  "(.. or an absolute path); rejected", field=info.filename)
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise BadFile(f"压缩包 {path.name} 含有符号链接 {info.filename!r}，已拒绝",
                                  f"zip {path.name} has a symbolic link {info.filename!r}; rejected",
                                  field=info.filename)
            declared = sum(i.file_size for i in infos)
            if declared > max_unpacked_bytes:
                raise BadFile(f"压缩包 {path.name} 解压后 {declared} 字节，超过上限 {max_unpacked_bytes} 字节（疑似压缩炸弹）",
                              f"zip {path.name} would unpack to {declared} bytes, more than the limit "
                              f"{max_unpacked_bytes} (a zip bomb?)")
            members = [i for i in infos if not i.is_dir() and "__MACOSX" not in i.filename
                       and PurePosixPath(i.filename.replace("\\", "/")).suffix.lower() in SHAPEFILE_PARTS]
            shps = [i for i in members if i.filename.lower().endswith(".shp")]
            if not shps:
                raise BadFile(f"压缩包 {path.name} 里没有 .shp 文件（压缩的 Shapefile 需要 .shp、.shx、.dbf）",
                              f"zip {path.name} holds no .shp file (a zipped Shapefile needs .shp, .shx and .dbf)")
            if len(shps) > 1:
                listed = ", ".join(i.filename for i in shps[:10])
                raise BadFile(f"压缩包 {path.name} 有多个 .shp（{listed}），每个压缩包只放一个图层",
                              f"zip {path.name} holds several .shp files ({listed}); put one layer per zip")
            stem = shps[0].filename[:-4].lower()
            total = 0
            for info in members:
                fname = info.filename
                if fname[: len(fname) - len(PurePosixPath(fname).suffix)].lower() != stem:
                    continue
                target = tmp / ("data" + PurePosixPath(fname).suffix.lower())
                written = 0
                with zf.open(info) as src, target.open("wb") as dst:
                    while True:
                        chunk = src.read(1 << 20)
                        if not chunk:
                            break
                        written += len(chunk)
                        total += len(chunk)
                        if written > info.file_size or total > max_unpacked_bytes:
                            raise BadFile(
                                f"压缩包 {path.name} 的成员 {fname} 解压后超过声明的大小或上限（疑似压缩炸弹），已拒绝",
                                f"zip {path.name} member {fname} unpacks beyond its declared size or the "
                                f"limit of {max_unpacked_bytes} bytes (a zip bomb?); rejected", field=fname)
                        dst.write(chunk)
            for need in (".shx", ".dbf"):
                if not (tmp / ("data" + need)).exists():
                    raise BadFile(f"压缩包 {path.name} 缺少 {need} 文件", f"zip {path.name} lacks the {need} file")
        yield tmp / "data.shp"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise BadFile(f"压缩包 {path.name} 已损坏：{exc}", f"zip {path.name} is corrupt: {exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _dbf_text_bytes(dbf: Path) -> tuple[bytes, int, int]:
    """Field names and record bytes of a DBF (everything that holds text), for strict decoding tests.

    Returns ``(bytes, length of the field-name part, record length)``.
    """
    data = dbf.read_bytes()
    if len(data) < 32:
        raise BadFile(f"DBF 文件 {dbf.name} 太短，已损坏", f"DBF file {dbf.name} is truncated")
    header_len, record_len = struct.unpack("<HH", data[8:12])
    names = []
    for off in range(32, min(header_len, len(data)) - 31, 32):
        if data[off] == 0x0D:
            break
        names.append(data[off:off + 11].split(b"\x00", 1)[0])
    head = b"\n".join(names) + b"\n"
    return head + data[header_len:], len(head), max(record_len, 1)


_CPG_CODECS = {"936": "gbk", "ansi 936": "gbk", "65001": "utf-8", "utf8": "utf-8", "1252": "cp1252",
               "ansi 1252": "cp1252", "950": "big5", "54936": "gb18030"}


def dbf_encoding(shp: Path, *, source_name: str) -> tuple[str | None, str | None]:
    """The encoding to read a shapefile's DBF with, and its .cpg text (None when there is no .cpg).

    With a ``.cpg`` the DBF must decode strictly in it. Without one: UTF-8 when the text decodes strictly as
    UTF-8, else GB18030 when that decodes strictly, else :class:`BadFile` asking for ``--encoding``.
    """
    dbf = shp.with_suffix(".dbf")
    cpg = shp.with_suffix(".cpg")
    text, head_len, record_len = _dbf_text_bytes(dbf)
    if cpg.exists():
        declared = cpg.read_bytes().decode("ascii", errors="strict").strip() if cpg.stat().st_size < 100 else ""
        codec = _CPG_CODECS.get(declared.lower(), declared)
        try:
            codecs.lookup(codec)
        except LookupError:
            raise BadFile(f"{source_name} 的 .cpg 写的编码 {declared!r} 无法识别，请用 --encoding 指定",
                          f"the .cpg of {source_name} names an unknown encoding {declared!r}; give --encoding"
                          ) from None
        try:
            text.decode(codec, errors="strict")
        except UnicodeDecodeError:
            raise BadFile(f"{source_name} 的 .cpg 声明编码 {declared}，但属性表不是有效的 {declared}，请用 --encoding 指定",
                          f"the .cpg of {source_name} declares {declared} but the attribute table is not valid "
                          f"{declared}; give --encoding") from None
        return codec, declared
    try:
        text.decode("utf-8", errors="strict")
        return "UTF-8", None
    except UnicodeDecodeError:
        pass
    try:
        decoded = text.decode("gb18030", errors="strict")
    except UnicodeDecodeError:
        pass
    else:
        def feature(pos: int) -> int | None:  # the feature (record) number of a character position
            offset = len(decoded[:pos].encode("gb18030"))
            return None if offset < head_len else (offset - head_len) // record_len + 1

        bad = implausible_fallback(decoded, "gb18030", name=source_name, row_of=feature)
        if bad is not None:
            raise bad
        return "GB18030", None
    raise BadFile(f"{source_name} 没有 .cpg，属性表既不是 UTF-8 也不是 GBK/GB18030，请用 --encoding 指定编码",
                  f"{source_name} has no .cpg and its attribute table is neither UTF-8 nor GBK/GB18030; "
                  "give the encoding with --encoding")


def read_shapefile(shp: Path, *, encoding: str | None = None, source_name: str) -> RawTable:
    if not shp.with_suffix(".dbf").exists() or not shp.with_suffix(".shx").exists():
        raise BadFile(f"Shapefile {source_name} 缺少 .dbf 或 .shx", f"shapefile {source_name} lacks its .dbf or .shx")
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise BadFile(f"未知的编码 {encoding!r}", f"unknown encoding {encoding!r}") from None
        try:
            _dbf_text_bytes(shp.with_suffix(".dbf"))[0].decode(codec, errors="strict")
        except UnicodeDecodeError:
            raise BadFile(f"{source_name} 的属性表不是有效的 {encoding}，请检查 --encoding",
                          f"the attribute table of {source_name} is not valid {encoding}; check --encoding"
                          ) from None
        enc, notes = encoding, []
    else:
        enc, declared = dbf_encoding(shp, source_name=source_name)
        notes = [] if declared else [(f"没有 .cpg，按 {enc} 读取属性表（严格解码通过）",
                                      f"no .cpg; read the attribute table as {enc} (it decodes strictly)")]
    frame, geoms, crs = _vector_frame(shp, encoding=enc, kind="Shapefile")
    rows = np.arange(1, len(frame) + 1, dtype=np.int64)
    return RawTable(frame=frame, rows=rows, kind="shapefile", geometry=geoms, crs=crs, encoding=enc, notes=notes)


__all__ = ["BadFile", "RawTable", "read_any", "read_csv", "read_xlsx", "read_vector", "read_shapefile",
           "unpacked_shapefile", "decode_text", "dbf_encoding", "MAX_UNPACKED_BYTES", "SUPPORTED"]
