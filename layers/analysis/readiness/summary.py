"""Readiness per district and per town, and for the whole city: objects by class, reach gaps, plan gaps, drill
gaps, supply shortfalls and the share of objects ready (no gap of any kind). An object belongs to its
``district_code``/``town_code`` (the registered one; where none, the area its point lies in)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from layers.schema import READINESS_CLASSES

COUNT_COLUMNS = ("objects", *(f"n_{c}" for c in READINESS_CLASSES), "reach_gaps", "objects_reach_gap",
                 "plan_gaps", "drill_gaps", "never_drilled", "drills_overdue", "supply_short", "flood_points_short",
                 "objects_ready")


def _count(frame: pd.DataFrame, col: str, mask=None, distinct: bool = False) -> pd.Series:
    f = frame if mask is None else frame[np.asarray(mask, dtype=bool)]
    if len(f) == 0:
        return pd.Series(dtype=np.int64)
    key = f[col].astype(object).where(f[col].notna(), "\0none")
    if distinct:
        return f.assign(_a=key).drop_duplicates(["_a", "key"]).groupby("_a").size()
    return key.value_counts()


def per_area(objs: pd.DataFrame, reach: pd.DataFrame, plan_gaps: pd.DataFrame, supplies: pd.DataFrame,
             areas: pd.DataFrame, *, towns: bool, district_plans: Mapping[str, tuple] | None = None) -> pd.DataFrame:
    """One row per area (the layer's areas in order, then codes only the objects name, then objects with none),
    with the counts of :data:`COUNT_COLUMNS` and ``share_ready``."""
    col = "town_code" if towns else "district_code"
    gap_keys = set(reach.loc[~reach["in_reach"].astype(bool), "key"]) if len(reach) else set()
    gap_keys |= set(plan_gaps["key"]) if len(plan_gaps) else set()
    gap_keys |= set(supplies.loc[supplies["short"].astype(float) > 0, "key"]) if len(supplies) else set()
    objs_u = objs.drop_duplicates("key")
    reach_gap = ~reach["in_reach"].astype(bool).to_numpy() if len(reach) else np.zeros(0, bool)
    kinds = plan_gaps["kind"].to_numpy(dtype=object) if len(plan_gaps) else np.empty(0, object)
    short = supplies["short"].astype(float).to_numpy() > 0 if len(supplies) else np.zeros(0, bool)
    counts = {
        "objects": _count(objs_u, col),
        **{f"n_{c}": _count(objs, col, objs["class"].to_numpy(dtype=object) == c) for c in READINESS_CLASSES},
        "reach_gaps": _count(reach, col, reach_gap) if len(reach) else pd.Series(dtype=np.int64),
        "objects_reach_gap": _count(reach, col, reach_gap, distinct=True) if len(reach) else
        pd.Series(dtype=np.int64),
        "plan_gaps": _count(plan_gaps, col, kinds == "no_plan"),
        "drill_gaps": _count(plan_gaps, col, kinds != "no_plan"),
        "never_drilled": _count(plan_gaps, col, kinds == "never_drilled"),
        "drills_overdue": _count(plan_gaps, col, kinds == "drill_overdue"),
        "supply_short": _count(supplies, col, short) if len(supplies) else pd.Series(dtype=np.int64),
        "flood_points_short": _count(supplies, col, short, distinct=True) if len(supplies) else
        pd.Series(dtype=np.int64),
        "objects_ready": _count(objs_u, col, ~objs_u["key"].isin(gap_keys).to_numpy()),
    }
    table = pd.DataFrame(counts).fillna(0).astype(np.int64) if any(len(v) for v in counts.values()) else \
        pd.DataFrame({k: pd.Series(dtype=np.int64) for k in counts})
    table = table.reindex(columns=list(COUNT_COLUMNS), fill_value=0)
    codes = areas["code"].astype(str).tolist() if len(areas) else []
    extra = sorted(c for c in table.index if c not in codes and c != "\0none")
    order = codes + extra + (["\0none"] if "\0none" in table.index else [])
    table = table.reindex(order, fill_value=0)
    n = table["objects"].to_numpy(dtype=float)
    table["share_ready"] = np.divide(table["objects_ready"].to_numpy(dtype=float), n, out=np.full(len(n), np.nan),
                                     where=n > 0)
    names = dict(zip(codes, areas["name"].astype(str), strict=True)) if codes else {}
    names_en = dict(zip(codes, areas["name_en"].fillna(areas["name"]).astype(str), strict=True)) \
        if codes and "name_en" in areas.columns else names
    key = [None if c == "\0none" else c for c in order]
    head = pd.DataFrame({col: pd.Series(key, dtype=object),
                         "name": pd.Series([names.get(c, c) if c else "（未登记）" for c in key], dtype=object),
                         "name_en": pd.Series([names_en.get(c, c) if c else "(none)" for c in key], dtype=object)})
    if towns:
        tdist = dict(zip(codes, areas["district_code"], strict=True)) if codes and "district_code" in areas.columns \
            else {}
        head["district_code"] = pd.Series([tdist.get(c) for c in key], dtype=object)
    out = pd.concat([head, table.reset_index(drop=True)], axis=1)
    if not towns:
        dp = district_plans or {}
        out["district_plan_filed"] = pd.Series([dp.get(c, (None, None))[0] for c in key], dtype=object)
        out["district_last_drill"] = pd.Series([dp.get(c, (None, None))[1] for c in key], dtype=object)
    return out


def city_summary(by_area: pd.DataFrame, *, district_stock_short: int = 0) -> dict:
    """City-wide figures from the per-area rows (districts, or the towns of a narrowed result)."""
    tot = {c: int(by_area[c].sum()) if len(by_area) else 0 for c in COUNT_COLUMNS}
    tot["share_ready"] = tot["objects_ready"] / tot["objects"] if tot["objects"] else None
    tot["district_stock_short"] = int(district_stock_short)
    return tot
