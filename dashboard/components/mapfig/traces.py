"""Trace dicts: lines, markers, legend keys (entries without data) and the area name labels."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import shapely

from dashboard.components.mapfig.coords import typed
from dashboard.components.mapfig.hover import esc
from dashboard.components.mapfig.options import ALWAYS
from dashboard.components.theme import FONT
from dashboard.i18n import t
from layers.analysis.summary import Selection


def line_trace(x: np.ndarray, y: np.ndarray, *, name: str, color: str, width: float,
               dash: str | None = None, hover: bool = False) -> dict:
    tr = {"type": "scatter", "mode": "lines", "x": typed(x), "y": typed(y), "name": name,
          "line": {"color": color, "width": width}, "hoverinfo": "name" if hover else "skip", "showlegend": False,
          "connectgaps": False}
    if dash:
        tr["line"]["dash"] = dash
    return tr


def points_trace(x: np.ndarray, y: np.ndarray, *, name: str, color: str | list | np.ndarray,
                 size: float | np.ndarray, text: list[str] | np.ndarray | None, custom: list[str] | np.ndarray,
                 symbol: str | list = "circle", line_color: str | None = None, opacity: float = 0.95,
                 gl: bool = True) -> dict:
    """Markers (WebGL unless ``gl`` is False); hover shows ``text``; no legend entry (:func:`legend_key`)."""
    marker: dict = {"color": list(color) if isinstance(color, np.ndarray) else color,
                    "size": typed(size) if isinstance(size, np.ndarray) else size,
                    "symbol": list(symbol) if isinstance(symbol, np.ndarray) else symbol, "opacity": opacity}
    if line_color:
        marker["line"] = {"color": line_color, "width": 1}
    tr = {"type": "scattergl" if gl else "scatter", "mode": "markers", "x": typed(x), "y": typed(y),
          "name": name, "marker": marker, "customdata": list(custom), "showlegend": False}
    if text is None:
        tr["hoverinfo"] = "none"      # hover events only (a dcc.Tooltip shows the details)
    else:
        tr["text"] = list(text)
        tr["hovertemplate"] = "%{text}<extra></extra>"
    return tr


def legend_key(name: str, group: str, *, marker: dict | None = None, line: dict | None = None,
               title: str | None = None) -> dict:
    """A legend entry only (no data): the legend is a key, the layer checklist shows and hides."""
    tr = {"type": "scatter", "mode": "lines" if line else "markers", "x": [None], "y": [None], "name": name,
          "legendgroup": group, "showlegend": True, "hoverinfo": "skip"}
    if line:
        tr["line"] = line
    else:
        tr["marker"] = marker or {}
    if title:
        tr["legendgrouptitle"] = {"text": title}
    return tr


def custom_ids(layer: str, f: pd.DataFrame) -> list[str]:
    return (layer + ":" + f["id"].astype(str)).tolist()


def area_labels(sel: Selection, add, names: Mapping[str, str], col: Mapping[str, str], lang: str, fs: float
                ) -> list[dict]:
    """District names (and town names inside a district): annotations to be read above the WebGL points, and
    an invisible marker trace under each for hover and click (``customdata`` ``district:<code>``)."""
    click = t("map.hover.click_drill", lang)
    groups = [("district", sel.districts, 16 if sel.level == "city" else 18, col["label"])]
    if sel.level != "city":
        groups.append(("town", sel.towns, 12, col["town_label"]))
    notes: list[dict] = []
    for kind, frame, size, color in groups:
        if not len(frame):
            continue
        pts = shapely.point_on_surface(np.asarray(frame.geometry.values))
        codes = frame["code"].astype(str).tolist()
        txt = [esc(names.get(c, c)) for c in codes]
        xs, ys = shapely.get_x(pts), shapely.get_y(pts)
        add(ALWAYS, {"type": "scatter", "mode": "markers", "x": typed(xs), "y": typed(ys), "text": txt,
                     "marker": {"size": 24 * fs, "color": "rgba(0,0,0,0)"},
                     "customdata": [f"{kind}:{c}" for c in codes],
                     "hovertemplate": "%{text}<br>" + click + "<extra></extra>", "name": kind, "showlegend": False})
        for x, y, tx in zip(xs.tolist(), ys.tolist(), txt, strict=True):
            notes.append({"x": x, "y": y, "xref": "x", "yref": "y", "text": f"<b>{tx}</b>" if kind == "district"
                          else tx, "showarrow": False, "font": {"size": size * fs, "color": color, "family": FONT},
                          "bgcolor": col["label_halo"], "borderpad": 2, "opacity": 0.95})
    return notes
