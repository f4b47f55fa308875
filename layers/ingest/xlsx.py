"""What an XLSX sheet holds before python-calamine reads it: its used range and its formulas without values.

calamine builds a dense grid from A1 to the farthest cell that has a value, so one stray cell at XFD1048576
asks for 549 GB (the process aborts) and one at AZ400000 for about 1 GB, however small the file. The sheet's
``<dimension>`` element may be missing or wrong, so :func:`scan_sheet` reads the sheet XML itself (streamed,
with the same size limit as any zip member) and finds the farthest cell that has content (a self-closing
``<c r="…" s="1"/>``, formatting only, makes no cell in calamine's grid and is not counted).

It also lists the cells that hold a formula with no saved result (written by a program and never opened in
Excel): calamine reads them as empty, and the importer says why a field came out empty.
"""

from __future__ import annotations

import functools
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

#: the largest grid (rows x columns, counted from A1) a sheet may span: about 320 MB in calamine, e.g.
#: 500,000 rows x 20 columns; a larger registry goes in as CSV (streamed) or in parts
MAX_SHEET_CELLS = 10_000_000

_CHUNK = 1 << 22
_P = rb"(?:[A-Za-z_][\w.-]*:)?"  # an optional namespace prefix (some writers spell cells x:c)
_SHEET_DATA = re.compile(rb"<([A-Za-z_][\w.-]*:)?sheetData\b")
# the general patterns (any attribute order, any prefix, cells with no reference): exact but slow
_CELL_REF = re.compile(rb"<" + _P + rb"c\b[^>]*?\br=\"([A-Z]{1,3})([0-9]{1,7})\"[^>]*?(?<!/)>")
_CELL_ANY = re.compile(rb"<" + _P + rb"c\b[^>]*?(?<!/)>")
_ROW_REF = re.compile(rb"<" + _P + rb"row\b[^>]*?\br=\"([0-9]{1,7})\"")
_ROW_ANY = re.compile(rb"<" + _P + rb"row\b")


@functools.lru_cache(maxsize=8)
def _formula_only(prefix: bytes | None) -> re.Pattern[bytes]:
    """A cell whose only content is a formula (no ``<v>``, or an empty one); ``prefix`` None: any prefix."""
    p = _P if prefix is None else re.escape(prefix)
    return re.compile(
        rb"<" + p + rb"c\b[^>]*?\br=\"([A-Z]{1,3})([0-9]{1,7})\"[^>]*?(?<!/)>\s*"
        rb"<" + p + rb"f\b[^>]*?(?:/>|>([^<]*)</" + p + rb"f>)\s*"
        rb"(?:<" + p + rb"v\s*/>\s*|<" + p + rb"v>\s*</" + p + rb"v>\s*)?</" + p + rb"c>")


class SheetTooLarge(Exception):
    """The sheet XML unpacks beyond its declared size or the limit (a zip bomb?)."""


@dataclass
class SheetScan:
    """The used range from A1 (``rows`` x ``cols``), its farthest cell, and formula cells with no value."""

    rows: int = 0
    cols: int = 0
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) from 0 -> formula text

    @property
    def cells(self) -> int:
        return self.rows * self.cols

    @property
    def far_cell(self) -> str:
        return cell_name(self.rows - 1, self.cols - 1) if self.rows and self.cols else "A1"


def column_number(letters: bytes | str) -> int:
    """``A`` -> 1, ``Z`` -> 26, ``AA`` -> 27, ``XFD`` -> 16384."""
    n = 0
    for ch in letters if isinstance(letters, str) else letters.decode("ascii"):
        n = n * 26 + ord(ch) - 64
    return n


def cell_name(row: int, col: int) -> str:
    """``(0, 0)`` -> ``A1`` (row and column counted from 0)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _rels(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, target part path) of ``part`` (``""`` for the package)."""
    folder = PurePosixPath(part).parent if part else PurePosixPath("")
    name = (folder / "_rels" / (PurePosixPath(part).name + ".rels")) if part else PurePosixPath("_rels/.rels")
    root = ElementTree.fromstring(zf.read(str(name)))
    out = {}
    for rel in root:
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else str(folder / target)
        out[rel.get("Id", "")] = (rel.get("Type", ""), _normalise(path))
    return out


def _normalise(path: str) -> str:
    parts: list[str] = []
    for p in path.split("/"):
        if p == "..":
            if parts:
                parts.pop()
        elif p not in ("", "."):
            parts.append(p)
    return "/".join(parts)


def sheet_parts(zf: zipfile.ZipFile) -> list[str]:
    """The worksheet part of every sheet, in workbook order (the order calamine lists them in)."""
    book = next(t for typ, t in _rels(zf, "").values() if typ.endswith("/officeDocument"))
    rels = _rels(zf, book)
    root = ElementTree.fromstring(zf.read(book))
    parts = []
    for el in root.iter():
        if _local(el.tag) != "sheet":
            continue
        rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
        if rid in rels:
            parts.append(rels[rid][1])
    return parts


def _chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int):
    """The member's bytes cut after a row end (no cell is split), checked against its size and ``limit``."""
    if info.file_size > limit:
        raise SheetTooLarge(info.filename)
    carry = b""
    read = 0
    with zf.open(info) as fh:
        while True:
            data = fh.read(_CHUNK)
            read += len(data)
            if read > info.file_size or read > limit:
                raise SheetTooLarge(info.filename)
            if not data:
                if carry:
                    yield carry
                return
            buf = carry + data
            cut = buf.rfind(b"row>")
            if cut < 0:
                carry = buf
                continue
            cut += 4
            yield buf[:cut]
            carry = buf[cut:]


def scan_sheet(path: Path, index: int, *, limit: int, max_cells: int = MAX_SHEET_CELLS) -> SheetScan | None:
    """Scan sheet number ``index`` (from 0) of the XLSX/XLSM at ``path``; None when it is not an OOXML zip.

    A fast pass reads the cell references as the common writers spell them (``<c r="A1"``, first attribute),
    counting every cell; only when that range exceeds ``max_cells``, or some cell is spelled otherwise, a
    second, exact pass counts just the cells that have content, wherever their reference stands.
    Raises :class:`SheetTooLarge` when the sheet XML unpacks beyond its declared size or ``limit`` bytes.
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return None
    with zf:
        try:
            parts = sheet_parts(zf)
        except (KeyError, StopIteration, ElementTree.ParseError):
            parts = []
        names = {i.filename: i for i in zf.infolist()}
        if index < len(parts) and parts[index] in names:
            infos = [names[parts[index]]]
        else:  # cannot tell which part calamine will read: count every worksheet
            infos = [i for n, i in names.items() if "worksheets/" in n and n.endswith(".xml")]
        if not infos:
            return None
        scan = SheetScan()
        for info in infos:
            one = _scan_fast(zf, info, limit)
            if one is None or one.cells > max_cells:
                one = _scan_exact(zf, info, limit)
            scan.rows = max(scan.rows, one.rows)
            scan.cols = max(scan.cols, one.cols)
            scan.formulas.update(one.formulas)
        return scan


def _extend(scan: SheetScan, cols: set[bytes], rows: set[bytes]) -> None:
    if cols:
        scan.cols = max(scan.cols, max(column_number(c) for c in cols))
    if rows:
        scan.rows = max(scan.rows, max(int(r) for r in rows))


def _formulas(buf: bytes, scan: SheetScan, prefix: bytes | None) -> None:
    for col, row, formula in _formula_only(prefix).findall(buf):
        try:
            text = formula.decode("utf-8")
        except UnicodeDecodeError:
            text = ""
        scan.formulas[(int(row) - 1, column_number(col) - 1)] = text


def _scan_fast(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> SheetScan | None:
    """Every ``<c r="…"`` counted (formatting-only cells too); None when a cell is spelled any other way."""
    scan = SheetScan()
    ref = prefix = None
    for buf in _chunks(zf, info, limit):
        if ref is None:
            m = _SHEET_DATA.search(buf)
            if m is None:
                return None
            prefix = m.group(1) or b""
            ref = re.compile(b"<" + re.escape(prefix) + rb'c r="([A-Z]{1,3})([0-9]{1,7})"')
        assert prefix is not None
        refs = ref.findall(buf)
        if len(refs) != buf.count(b"<" + prefix + b"c ") + buf.count(b"<" + prefix + b"c>"):
            return None
        _extend(scan, {c for c, _ in refs}, {r for _, r in refs})
        if buf.count(b"<" + prefix + b"f>") or buf.count(b"<" + prefix + b"f "):
            _formulas(buf, scan, prefix)
    return scan


def _scan_exact(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> SheetScan:
    """Only cells with content, references anywhere among the attributes, cells without a reference."""
    scan = SheetScan()
    max_row_ref = rows_without_ref = widest = 0
    unreferenced = False
    for buf in _chunks(zf, info, limit):
        refs = _CELL_REF.findall(buf)
        _extend(scan, {c for c, _ in refs}, {r for _, r in refs})
        row_refs = _ROW_REF.findall(buf)
        max_row_ref = max([max_row_ref, *(int(r) for r in row_refs)])
        rows_without_ref += len(_ROW_ANY.findall(buf)) - len(row_refs)
        if len(refs) < len(_CELL_ANY.findall(buf)):  # cells without a reference: placed one after another
            unreferenced = True
            widest = max([widest, *(len(_CELL_ANY.findall(r)) for r in _ROW_ANY.split(buf))])
        _formulas(buf, scan, None)
    if unreferenced:  # an upper bound: where a cell without a reference can land
        scan.rows = max(scan.rows, max_row_ref + rows_without_ref)
        scan.cols = scan.cols + widest
    return scan


__all__ = ["MAX_SHEET_CELLS", "SheetScan", "SheetTooLarge", "scan_sheet", "sheet_parts", "cell_name",
           "column_number"]
