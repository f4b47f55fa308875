"""Rail-line names in the page's language: a line's ``name_en`` when the store has one, else "Line 1" from its
number (``line_no``) or from a Chinese name such as 轨道交通1号线; Chinese pages show the name as stored."""

from __future__ import annotations

import re

import pandas as pd

_NUMBERED = re.compile(r"(\d+[A-Za-z]?)\s*号线")


def _text(value: object) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value).strip()


def line_name(row: pd.Series | dict, lang: str) -> str:
    """The name of one rail line (a row of ``rail_lines``: ``name``, ``line_no``, optional ``name_en``, ``id``)."""
    name, no = _text(row.get("name")), _text(row.get("line_no"))
    if lang != "en":
        return name or (f"{no}号线" if no else _text(row.get("id")))
    if _text(row.get("name_en")):
        return _text(row.get("name_en"))
    if no:
        return f"Line {no}"
    m = _NUMBERED.search(name)
    return f"Line {m.group(1)}" if m else (name or _text(row.get("id")))


def station_lines(lines: object, lang: str) -> str:
    """A station's lines (``rail_stations.lines``, numbers joined by commas) as words: 1号线、2号线 / Lines 1, 2."""
    nos = [n.strip() for n in _text(lines).split(",") if n.strip()]
    if not nos:
        return ""
    if lang == "en":
        return ("Line " if len(nos) == 1 else "Lines ") + ", ".join(nos)
    return "、".join(f"{n}号线" for n in nos)
