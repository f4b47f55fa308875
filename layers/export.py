"""Exports to XLSX, CSV and GeoPackage that are safe against formula injection.

A text cell that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or CR)
is written with a leading apostrophe in CSV and as a plain string cell in XLSX, so a name like
``=HYPERLINK(...)`` stays text.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: object) -> object:
    """Neutralise a text value that a spreadsheet would read as a formula (for CSV)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(frame).copy()
    if isinstance(frame, gpd.GeoDataFrame):
        geom = frame.geometry
        out = out.drop(columns=frame.geometry.name)
        out["wkt"] = geom.to_wkt()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    return out


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """CSV in UTF-8 with BOM (Excel opens it with Chinese intact); formula-like text neutralised."""
    out = _plain(frame)
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(safe_text)
    path = Path(path)
    out.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """One sheet per frame; every text cell written as a string (never a formula); header row bold, frozen."""
    import xlsxwriter

    path = Path(path)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False, "nan_inf_to_errors": True})
    try:
        head = wb.add_format({"bold": True, "bg_color": "#DDE3EA", "border": 1})
        for name, frame in sheets.items():
            ws = wb.add_worksheet(str(name)[:31])
            out = _plain(frame)
            for j, col in enumerate(out.columns):
                ws.write_string(0, j, str(col), head)
                width = max(8, min(40, len(str(col)) * 2))
                for i, v in enumerate(out[col].tolist(), start=1):
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
    finally:
        wb.close()
    return path


def write_gpkg(layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], path: str | Path) -> Path:
    """One GeoPackage layer per frame (attribute tables without geometry are written as such)."""
    import pyogrio

    path = Path(path)
    if path.exists():
        path.unlink()
    for name, frame in layers.items():
        if isinstance(frame, gpd.GeoDataFrame):
            pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG")
        else:
            pyogrio.write_dataframe(_plain(frame), path, layer=name, driver="GPKG")
    return path


def _whole_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Integer columns as nullable integers, so that sheets concatenated into one CSV (a column missing from
    some of them) still write 366, not 366.0."""
    ints = [c for c in frame.columns if frame[c].dtype.kind in "iu"]
    return frame.astype({c: "Int64" for c in ints}) if ints else frame


def write_any(sheets: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write by the file's suffix: .xlsx (one sheet each), .gpkg (one layer each), .csv (first frame, or a
    folder-less concatenation with a ``sheet`` column when several)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return write_xlsx(sheets, path)
    if suffix == ".gpkg":
        return write_gpkg(sheets, path)
    if suffix == ".csv":
        frames = [(_whole_numbers(_plain(f)).assign(sheet=name) if len(sheets) > 1 else f)
                  for name, f in sheets.items()]
        return write_csv(pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0], path)
    raise ValueError(f"不支持的导出格式 {suffix!r}，请用 .xlsx/.csv/.gpkg (unsupported export format {suffix!r}; "
                     "use .xlsx, .csv or .gpkg)")
