"""Hover texts of objects and hazards, and area names; every text from data is HTML-escaped (:func:`esc`)."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from dashboard.components.mapfig.cache import cached
from dashboard.i18n import register, t
from layers.schema import (
    CONDITION_CLASSES,
    ENTERPRISE_STATUS,
    GAS_STATION_KINDS,
    GRADES,
    HAZARD_STATUS,
    INDUSTRIES,
    PRESSURE_CLASSES,
    VENUE_KINDS,
    label,
)

register({
    "map.hover.grade": ("风险等级", "Grade"),
    "map.hover.industry": ("行业", "Industry"),
    "map.hover.area": ("区域", "Area"),
    "map.hover.last_inspection": ("最近检查", "Last inspection"),
    "map.hover.never": ("从未检查", "never"),
    "map.hover.open_hazards": ("未销号隐患", "Open hazards"),
    "map.hover.major_suffix": ("其中重大", "major"),
    "map.hover.department": ("监管部门", "Department"),
    "map.hover.none": ("无", "none"),
    "map.hover.capacity": ("容纳人数", "Capacity"),
    "map.hover.condition": ("技术状况", "Condition"),
    "map.hover.pressure": ("压力级制", "Pressure"),
    "map.hover.deadline": ("整改期限", "Deadline"),
    "map.hover.found": ("发现日期", "Found"),
    "map.hover.status": ("状态", "Status"),
    "map.hover.target": ("对象", "Object"),
    "map.hover.risk_index": ("风险指数", "Risk index"),
    "map.hover.score": ("风险分值", "Risk score"),
    "map.hover.enterprises_n": ("企业数", "Enterprises"),
    "map.hover.click_drill": ("点击进入", "click to open"),
    "map.hover.daily": ("日均客流", "Daily passengers"),
    "map.hover.phone": ("值班电话", "Duty phone"),
    "map.hover.depth": ("最大积水(cm)", "Max depth (cm)"),
    "map.legend.hazard_major": ("重大隐患", "Major hazard"),
    "map.legend.hazard_general": ("一般隐患", "General hazard"),
    "map.legend.hazard_overdue": ("逾期隐患", "Overdue hazard"),
    "map.legend.hazard_listed": ("挂牌督办", "Listed supervision"),
    "map.legend.suspended": ("停产停业整顿", "Suspended"),
    "map.legend.closed": ("依法关闭", "Closed"),
    "map.legend.blacklisted": ("黑名单", "Blacklisted"),
    "map.legend.repeat": ("屡查屡犯", "Repeat offender"),
})


def esc(value: object) -> str:
    """Data text made safe for Plotly's HTML-subset labels (``<`` shows as ``<``, never a tag)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return ""
    return html.escape(str(value), quote=False)


def area_names(city, lang: str) -> dict[str, str]:
    """District and town names by code, in ``lang`` (the Chinese name where no English one is stored)."""

    def make() -> dict[str, str]:
        out: dict[str, str] = {}
        for frame in (city.districts, city.towns):
            names = frame["name_en"].where(frame["name_en"].notna(), frame["name"]) if lang == "en" and \
                "name_en" in frame else frame["name"]
            out.update(dict(zip(frame["code"].astype(str), names.astype(str), strict=True)))
        return out

    return cached(city, ("names", lang), make)


def object_hover(f: pd.DataFrame, layer: str, lang: str, names: Mapping[str, str]) -> np.ndarray:
    """Hover text of every row of an object frame: name, kind line, area, last inspection, open hazards,
    department and officer (all data text escaped)."""
    n = len(f)
    if n == 0:
        return np.empty(0, dtype=object)
    col = f.get

    def strs(name: str) -> list:
        return f[name].astype(object).where(f[name].notna(), None).tolist() if name in f else [None] * n

    if layer == "enterprises":
        head = [f"{label(GRADES, g, lang)} · {label(INDUSTRIES, i, lang)}" for g, i in
                zip(strs("grade"), strs("industry"), strict=True)]
    elif layer == "venues":
        cap = t("map.hover.capacity", lang)
        head = [f"{label(VENUE_KINDS, k, lang)} · {cap} {'' if c is None else int(c)}" for k, c in
                zip(strs("kind"), strs("capacity"), strict=True)]
    elif layer in ("bridges", "tunnels"):
        cond = t("map.hover.condition", lang)
        head = [f"{cond}: {label(CONDITION_CLASSES, c, lang)}" for c in strs("condition_class")]
    elif layer == "gas_stations":
        head = [f"{label(GAS_STATION_KINDS, k, lang)}" + (f" · {label(PRESSURE_CLASSES, p, lang)}" if p else "")
                for k, p in zip(strs("kind"), strs("pressure"), strict=True)]
    else:
        head = [""] * n
    area = [esc(" · ".join(x for x in (names.get(str(d), ""), names.get(str(tw), "")) if x))
            for d, tw in zip(strs("district_code"), strs("town_code"), strict=True)]
    never = t("map.hover.never", lang)
    last = col("last_inspection")
    last = last.dt.strftime("%Y-%m-%d").fillna(never).tolist() if last is not None else [never] * n
    oh = col("open_hazards").tolist() if "open_hazards" in f else [0] * n
    om = col("open_major").tolist() if "open_major" in f else [0] * n
    dep = strs("department_en" if lang == "en" else "department")
    dep_zh = strs("department")
    officer = strs("officer")
    l_area, l_last = t("map.hover.area", lang), t("map.hover.last_inspection", lang)
    l_open, l_major = t("map.hover.open_hazards", lang), t("map.hover.major_suffix", lang)
    l_dep, none = t("map.hover.department", lang), t("map.hover.none", lang)
    marks = _marks(f, lang)
    out = np.empty(n, dtype=object)
    for i, nm in enumerate(strs("name")):
        d = dep[i] or dep_zh[i]
        d = esc(d) if d else none
        if officer[i]:
            d += f" · {esc(officer[i])}"
        hz = f"{l_open}: {oh[i]}" + (f" ({l_major} {om[i]})" if om[i] else "")
        out[i] = (f"<b>{esc(nm)}</b>{marks[i]}<br>{head[i]}<br>{l_area}: {area[i]}<br>{l_last}: {last[i]}<br>{hz}"
                  f"<br>{l_dep}: {d}")
    return out


def _marks(f: pd.DataFrame, lang: str) -> list[str]:
    """`` · 停产停业整顿 · 黑名单 · 屡查屡犯`` after an object's name: its enforcement state, as words."""
    n = len(f)
    status = f["status"].astype(object).tolist() if "status" in f else [None] * n
    black = f["blacklisted"].fillna(False).astype(bool).tolist() if "blacklisted" in f else [False] * n
    rep = f["repeat_offender"].fillna(False).astype(bool).tolist() if "repeat_offender" in f else [False] * n
    words = {"suspended": label(ENTERPRISE_STATUS, "suspended", lang), "closed": t("map.legend.closed", lang)}
    l_black, l_rep = t("map.legend.blacklisted", lang), t("map.legend.repeat", lang)
    out = []
    for s, b, r in zip(status, black, rep, strict=True):
        parts = ([words[s]] if s in words else []) + ([l_black] if b else []) + ([l_rep] if r else [])
        out.append("".join(f" · <b>{p}</b>" for p in parts))
    return out


def hazard_hover(h: pd.DataFrame, lang: str, names: Mapping[str, str]) -> np.ndarray:
    """Hover text of every hazard (indexed like ``h``)."""
    stat = {k: label(HAZARD_STATUS, k, lang) for k in HAZARD_STATUS}
    l_t, l_f, l_d, l_s = (t("map.hover.target", lang), t("map.hover.found", lang), t("map.hover.deadline", lang),
                          t("map.hover.status", lang))
    over = t("map.legend.hazard_overdue", lang)
    lvl = {"major": t("map.legend.hazard_major", lang), "general": t("map.legend.hazard_general", lang)}
    found = h["found_date"].dt.strftime("%Y-%m-%d").fillna("—").tolist()
    dl = h["deadline"].dt.strftime("%Y-%m-%d").fillna("—").tolist()
    listed = t("map.legend.hazard_listed", lang)
    li = h["listed"].fillna(False).astype(bool).tolist() if "listed" in h else [False] * len(h)
    out = np.empty(len(h), dtype=object)
    for i, (desc, typ, level, tname, dist, status, od) in enumerate(zip(
            h["description"].tolist(), h["type"].tolist(), h["level"].tolist(), h["obj_name"].tolist(),
            h["district_code"].tolist(), h["status"].tolist(), h["overdue"].tolist(), strict=True)):
        head = f"<b>{lvl.get(level, esc(level))}</b>" + (f" · <b>{over}</b>" if od else "") + \
            (f" · <b>{listed}</b>" if li[i] else "")
        out[i] = "<br>".join([head, esc(desc or typ or ""), f"{l_t}: {esc(tname)} ({esc(names.get(str(dist), ''))})",
                              f"{l_f}: {found[i]} · {l_d}: {dl[i]}", f"{l_s}: {stat.get(status, esc(status))}"])
    return out
