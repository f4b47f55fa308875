"""Plans and drills (预案与演练): the register per object and its gaps.

An object of a class with ``Settings.drills_per_year[class] = n > 0`` needs

* a contingency plan on file: an ``emergency_plans`` row naming it (``target_layer``/``target_id``) filed on or
  before ``as_of`` (a plan filed later does not count yet, and the reason says so);
* a drill in time: its last drill on or before ``as_of`` at most ``interval_days = 365 // n`` days before
  ``as_of`` (whole days, rounded down, so drills held at the interval make at least n a year). A drill exactly
  ``interval_days`` ago is in time; one day more is overdue by 1 day. No drill at all is "never drilled".

An enterprise in two classes is one object here, held to the stricter class (more drills a year; on a tie the
class listed first in ``schema.READINESS_CLASSES``). Gap kinds (``PLAN_GAP_KINDS``): ``no_plan``,
``never_drilled``, ``drill_overdue``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd

from geo import coverage as gcov
from layers.analysis.coverage.arrays import day, days, iso, obj_frame
from layers.schema import READINESS_CLASSES
from layers.settings import Settings

PLAN_GAP_KINDS: dict[str, tuple[str, str]] = {
    "no_plan": ("未备案应急预案", "No contingency plan on file"),
    "never_drilled": ("从未演练", "Never drilled"),
    "drill_overdue": ("演练逾期", "Drill overdue"),
}
_CLASS_RANK = {c: i for i, c in enumerate(READINESS_CLASSES)}


def interval_days(per_year: int) -> int:
    """Days allowed between drills for ``per_year`` drills a year: ``365 // per_year``."""
    return 365 // int(per_year)


def _latest(keys: np.ndarray, when: np.ndarray, on_or_before: int) -> pd.DataFrame:
    """Per key, the row (index into the arrays) of its latest date on or before ``on_or_before``."""
    ok = (when != gcov.NO_DAY) & (when <= on_or_before)
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return pd.DataFrame({"row": pd.Series(dtype=np.int64)}, index=pd.Index([], dtype=object))
    order = idx[np.lexsort((idx, when[idx]))]  # by date, last one wins
    f = pd.DataFrame({"key": keys[order], "row": order})
    last = f.drop_duplicates("key", keep="last")
    return last.set_index("key")


def plan_drill_register(objs: pd.DataFrame, plans: pd.DataFrame, drills: pd.DataFrame, *, as_of: date,
                        settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The register (one row per object whose class asks for drills) and its gaps (one row per object and gap
    kind, with the reason in zh and en)."""
    per_year = settings.drills_per_year
    cls = objs["class"].to_numpy(dtype=object)
    n_req = np.array([int(per_year.get(c, 0)) for c in cls], dtype=np.int64) if len(cls) else np.empty(0, np.int64)
    sel = objs[n_req > 0].assign(_n=n_req[n_req > 0])
    if len(sel):
        sel = sel.assign(_rank=sel["class"].map(_CLASS_RANK))
        classes = sel.sort_values("_rank", kind="stable").groupby("key", sort=False)["class"].agg(",".join)
        sel = sel.sort_values(["_n", "_rank"], ascending=[False, True], kind="stable").drop_duplicates("key")
        sel = sel.sort_values(["_rank"], kind="stable")
        sel = sel.assign(classes=classes.reindex(sel["key"]).to_numpy(dtype=object))
    n = len(sel)
    as_day = day(as_of)
    keys = sel["key"].to_numpy(dtype=object) if n else np.empty(0, object)

    def key_of(f: pd.DataFrame) -> np.ndarray:
        if len(f) == 0:
            return np.empty(0, object)
        return (f["target_layer"].astype(str) + ":" + f["target_id"].astype(str)).to_numpy(dtype=object)

    pk = key_of(plans)
    pday = days(plans["filed_date"]) if len(plans) else np.empty(0, np.int64)
    on_file = _latest(pk, pday, as_day).reindex(keys)["row"].to_numpy() if n else np.empty(0)
    later = _latest(pk, pday, np.iinfo(np.int64).max).reindex(keys)["row"].to_numpy() if n else np.empty(0)
    has_plan = pd.notna(on_file)
    prow = np.where(has_plan, on_file, 0).astype(np.int64)
    lrow = np.where(pd.notna(later), later, 0).astype(np.int64)

    def plan_col(col: str, rows: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if col not in plans.columns or len(plans) == 0:
            return np.full(n, None, dtype=object)
        v = plans[col].to_numpy(dtype=object)[rows]
        return np.where(mask, v, None).astype(object)

    plan_day = np.where(has_plan, pday[prow] if len(pday) else gcov.NO_DAY, gcov.NO_DAY)
    filed_later = ~has_plan & pd.notna(later)
    later_day = np.where(filed_later, pday[lrow] if len(pday) else gcov.NO_DAY, gcov.NO_DAY)

    dk = key_of(drills)
    dday = days(drills["date"]) if len(drills) else np.empty(0, np.int64)
    last_row = _latest(dk, dday, as_day).reindex(keys)["row"].to_numpy() if n else np.empty(0)
    drilled = pd.notna(last_row)
    last_day = np.where(drilled, dday[np.where(drilled, last_row, 0).astype(np.int64)] if len(dday) else
                        gcov.NO_DAY, gcov.NO_DAY)
    count_year = np.zeros(n, np.int64)
    if len(dk) and n:
        recent = (dday != gcov.NO_DAY) & (dday <= as_day) & (dday > as_day - 365)
        cnt = pd.Series(dk[recent]).value_counts()
        count_year = cnt.reindex(keys).fillna(0).to_numpy(dtype=np.int64)
    need_n = sel["_n"].to_numpy(dtype=np.int64) if n else np.empty(0, np.int64)
    interval = 365 // np.maximum(need_n, 1)
    since = np.where(drilled, as_day - last_day, -1)
    overdue = drilled & (since > interval)
    over_by = np.where(overdue, since - interval, 0)
    reg = obj_frame({
        "key": keys, "layer": sel["layer"].to_numpy(dtype=object) if n else np.empty(0, object),
        "id": sel["id"].to_numpy(dtype=object) if n else np.empty(0, object),
        "class": sel["class"].to_numpy(dtype=object) if n else np.empty(0, object),
        "classes": sel["classes"].to_numpy(dtype=object) if n else np.empty(0, object),
        "name": sel["name"].to_numpy(dtype=object) if n else np.empty(0, object),
        "district_code": sel["district_code"].to_numpy(dtype=object) if n else np.empty(0, object),
        "town_code": sel["town_code"].to_numpy(dtype=object) if n else np.empty(0, object),
        "lon": sel["lon"].to_numpy(dtype=float) if n else np.empty(0),
        "lat": sel["lat"].to_numpy(dtype=float) if n else np.empty(0),
        "drills_per_year": need_n, "interval_days": interval,
        "plan_id": plan_col("id", prow, has_plan), "plan_title": plan_col("title", prow, has_plan),
        "plan_version": plan_col("plan_version", prow, has_plan), "plan_filed": iso(plan_day),
        "plan_age_days": np.where(has_plan, as_day - plan_day, -1),
        "last_drill": iso(last_day), "days_since_drill": since, "drills_last_365_days": count_year,
        "days_overdue": over_by, "has_plan": np.asarray(has_plan, dtype=bool),
        "drill_status": np.where(~drilled, "never", np.where(overdue, "overdue", "in_time")).astype(object),
    })
    gaps = _gaps(reg, filed_later, later_day)
    return reg, gaps


def _rule(cls: str, per_year: int, interval: int) -> tuple[str, str]:
    cz, ce = READINESS_CLASSES[cls]["zh"], READINESS_CLASSES[cls]["en"].lower()
    times = "once" if per_year == 1 else f"{per_year} times"
    return (f"{cz}每年须演练 {per_year} 次（至少每 {interval} 天一次）",
            f"a {ce} must drill {times} a year (every {interval} days at most)")


def _gaps(reg: pd.DataFrame, filed_later: np.ndarray, later_day: np.ndarray) -> pd.DataFrame:
    """One row per (object, gap kind); the texts are built per distinct rule and joined column-wise."""
    parts = []
    cols = ["key", "layer", "id", "class", "name", "district_code", "town_code", "lon", "lat"]
    combos = list(zip(reg["class"], reg["drills_per_year"].astype(int), reg["interval_days"].astype(int),
                      strict=True))
    texts = {c: _rule(*c) for c in set(combos)}
    rule_zh = pd.Series([texts[c][0] for c in combos], index=reg.index, dtype=object)
    rule_en = pd.Series([texts[c][1] for c in combos], index=reg.index, dtype=object)

    def add(mask: np.ndarray, kind: str, zh: pd.Series, en: pd.Series) -> None:
        if not mask.any():
            return
        sub = reg.loc[mask, cols]
        parts.append(sub.assign(kind=kind, kind_zh=PLAN_GAP_KINDS[kind][0], kind_en=PLAN_GAP_KINDS[kind][1],
                                reason_zh=zh[mask].astype(object), reason_en=en[mask].astype(object)))

    no_plan = ~reg["has_plan"].to_numpy(dtype=bool)
    later = pd.Series(iso(later_day), index=reg.index, dtype=object).fillna("")
    fl = pd.Series(np.asarray(filed_later, dtype=bool), index=reg.index)
    add(no_plan, "no_plan",
        ("截至统计日期未备案应急预案（预案 " + later + " 才备案）").where(fl, "未备案应急预案"),
        ("no contingency plan on file by the as-of date (the plan was filed " + later + ")").where(
            fl, "no contingency plan on file"))
    status = reg["drill_status"].to_numpy(dtype=object)
    add(status == "never", "never_drilled", "从未演练；" + rule_zh, "never drilled; " + rule_en)
    last = reg["last_drill"].astype(object).fillna("")
    since = reg["days_since_drill"].astype(str)
    over = reg["days_overdue"].astype(str)
    add(status == "overdue", "drill_overdue",
        "上次演练 " + last + "，已 " + since + " 天，逾期 " + over + " 天；" + rule_zh,
        "last drill " + last + ", " + since + " days ago, " + over + " days overdue; " + rule_en)
    if not parts:
        return obj_frame({c: np.empty(0, dtype=float if c in ("lon", "lat") else object)
                          for c in [*cols, "kind", "kind_zh", "kind_en", "reason_zh", "reason_en"]})
    return pd.concat(parts, ignore_index=True)


def district_plans(plans: pd.DataFrame, drills: pd.DataFrame, *, as_of: date) -> Mapping[str, tuple]:
    """Per district code: the latest district plan filed on or before ``as_of`` (date) and the district's last
    drill (date), for the district summary (``target_layer == "districts"``)."""
    as_day = day(as_of)
    out: dict[str, list] = {}
    for f, col, slot in ((plans, "filed_date", 0), (drills, "date", 1)):
        if len(f) == 0:
            continue
        d = f[f["target_layer"].astype(str) == "districts"]
        if len(d) == 0:
            continue
        dd = days(d[col])
        last = _latest(d["target_id"].astype(str).to_numpy(dtype=object), dd, as_day)
        txt = iso(dd[last["row"].to_numpy(dtype=np.int64)])
        for code, t in zip(last.index, txt, strict=True):
            out.setdefault(code, [None, None])[slot] = t
    return {k: tuple(v) for k, v in out.items()}
