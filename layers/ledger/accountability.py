"""Accountability (三管三必须, 照单追责): departments' responsibility lists, league tables per department and per
district, and the officers overdue hazards are charged to.

A hazard is charged to its supervising department (the ledger's ``department``: the hazard's own department,
else its target's lead department) and, within it, to that department's officer for the target
(``responsibilities.officer``). League figures, as of a date:

* ``open``: hazards not closed; ``major_open``: of them, major ones;
* ``overdue``: not closed and past the deadline; ``overdue_90``: of them, more than 90 days;
* ``closed``, ``closed_in_time`` (closed on or before the deadline), ``closed_late``, ``in_time_share``;
* ``repeat_offenders``: distinct targets flagged as repeat offenders;
* ``orders``: enforcement orders issued (by the department; in the district of the order's target).

Ranked worst first: most overdue, then most overdue beyond 90 days, most open, most repeat offenders, lowest
in-time share; ``rank`` 1 is the worst.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from layers.access.policy import Access, object_places
from layers.ledger.deadlines import day_number
from layers.schema import INDUSTRIES, LAYERS, label
from layers.settings import Settings
from layers.store import Store, cached_read

NO_DEPARTMENT = ("未明确监管部门", "No supervising department")
NO_OFFICER = ("未落实包保责任人", "No officer named")
LEAGUE_COLUMNS: dict[str, tuple[str, str]] = {
    "rank": ("排名", "Rank"),
    "key": ("编号", "Code"),
    "name": ("名称", "Name"),
    "open": ("未销号", "Open"),
    "major_open": ("重大隐患未销号", "Major open"),
    "overdue": ("逾期", "Overdue"),
    "overdue_90": ("逾期90天以上", "Overdue > 90 days"),
    "closed": ("已销号", "Closed"),
    "closed_in_time": ("按期销号", "Closed in time"),
    "closed_late": ("超期销号", "Closed late"),
    "in_time_share": ("按期销号率", "In-time share"),
    "repeat_offenders": ("屡查屡犯对象", "Repeat offenders"),
    "orders": ("执法指令", "Orders issued"),
}
CHARGED_COLUMNS: dict[str, tuple[str, str]] = {
    "department": ("监管部门编号", "Department"),
    "department_name": ("监管部门", "Department name"),
    "officer": ("包保责任人", "Officer"),
    "overdue": ("逾期隐患数", "Overdue hazards"),
    "max_days_overdue": ("最长逾期天数", "Longest overdue (days)"),
    "major": ("其中重大隐患", "Of which major"),
    "hazard_ids": ("隐患编号", "Hazards"),
}


def duties(store: Store) -> pd.DataFrame:
    """Every department's responsibility list (权力责任清单): one row per duty, with the department's names.

    Columns: department_id, department_name, department_name_en, department_district, target_layer,
    layer_zh, layer_en, industry (None = the whole layer), industry_zh, industry_en, duty. Departments without
    any duty are listed once with empty layer and industry (a gap in the lists).
    """
    d = cached_read(store, "department_duties")
    depts = cached_read(store, "departments", columns=["id", "name", "name_en", "district_code"])
    dd = pd.DataFrame({"department_id": d["department_id"].astype(object).to_numpy(),
                       "target_layer": d["target_layer"].astype(object).to_numpy(),
                       "industry": d["industry"].astype(object).where(d["industry"].notna() & d["industry"].ne(""),
                                                                      None).to_numpy(),
                       "duty": d["duty"].astype(object).to_numpy()})
    names = pd.DataFrame({"department_id": depts["id"].astype(object).to_numpy(),
                          "department_name": depts["name"].astype(object).to_numpy(),
                          "department_name_en": depts["name_en"].astype(object).to_numpy(),
                          "department_district": depts["district_code"].astype(object).to_numpy()})
    out = names.merge(dd, on="department_id", how="outer")
    out["layer_zh"] = out["target_layer"].map(lambda v: LAYERS[v].zh if v in LAYERS else None)
    out["layer_en"] = out["target_layer"].map(lambda v: LAYERS[v].en if v in LAYERS else None)
    out["industry_zh"] = out["industry"].map(lambda v: label(INDUSTRIES, v, "zh") if isinstance(v, str) else None)
    out["industry_en"] = out["industry"].map(lambda v: label(INDUSTRIES, v, "en") if isinstance(v, str) else None)
    cols = ["department_id", "department_name", "department_name_en", "department_district", "target_layer",
            "layer_zh", "layer_en", "industry", "industry_zh", "industry_en", "duty"]
    return out[cols].sort_values(["department_id", "target_layer", "industry"], na_position="first",
                                 kind="stable").reset_index(drop=True)


def department_of(objects: pd.DataFrame, duties: pd.DataFrame) -> pd.DataFrame:
    """Which departments supervise each object by the responsibility lists: one row per (object, department).

    ``objects`` has ``target_layer``, ``target_id`` and (for enterprises) ``industry``; a duty without an
    industry covers its whole layer, one with an industry covers the enterprises of that industry. Columns:
    target_layer, target_id, department_id, duty. Objects no list covers are absent.
    """
    o = pd.DataFrame({"target_layer": objects["target_layer"].astype(object).to_numpy(),
                      "target_id": objects["target_id"].astype(str).to_numpy(),
                      "industry": objects["industry"].astype(object).to_numpy() if "industry" in objects else None})
    d = duties[duties["target_layer"].notna()]
    whole = d[d["industry"].isna()][["target_layer", "department_id", "duty"]]
    by_ind = d[d["industry"].notna()][["target_layer", "industry", "department_id", "duty"]]
    parts = [o.merge(whole, on="target_layer", how="inner"),
             o.dropna(subset=["industry"]).merge(by_ind, on=["target_layer", "industry"], how="inner")]
    out = pd.concat(parts, ignore_index=True)[["target_layer", "target_id", "department_id", "duty"]]
    return out.drop_duplicates(["target_layer", "target_id", "department_id"]).reset_index(drop=True)


def orders_in(store: Store, access: Access, *, start: date | None = None, end: date | None = None
              ) -> pd.DataFrame:
    """Enforcement orders whose target ``access`` may read, dated in [start, end] (None = open end), with the
    target's district_code and town_code (from the object, as every ledger row)."""
    o = pd.DataFrame(cached_read(store, "orders")).copy()
    if len(o):
        d = pd.to_datetime(o["date"], errors="coerce")
        keep = pd.Series(True, index=o.index)
        if start is not None:
            keep &= d >= pd.Timestamp(start)
        if end is not None:
            keep &= d <= pd.Timestamp(end)
        o = o[keep]
    keys = (o["target_layer"].astype(str) + ":" + o["target_id"].astype(str)).tolist()
    places = object_places(store, keys)
    o["district_code"] = places["district_code"].to_numpy(dtype=object)
    o["town_code"] = places["town_code"].to_numpy(dtype=object)
    if access.districts is not None or access.towns is not None:
        o = o[access.mask(o["district_code"].to_numpy(), o["town_code"].to_numpy())]
    return o.sort_values(["date", "id"], kind="stable").reset_index(drop=True)


def _figures(frame: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Per hazard: the 0/1 league figures as of ``as_of``."""
    status = frame["status"].astype(object).to_numpy()
    closed = status == "closed"
    dl = pd.to_datetime(frame["deadline"], errors="coerce").to_numpy(dtype="datetime64[D]")
    cd = pd.to_datetime(frame["closed_date"], errors="coerce").to_numpy(dtype="datetime64[D]")
    today = np.datetime64(pd.Timestamp(as_of).date(), "D")
    has_dl = ~np.isnat(dl)
    late_by = np.where(has_dl, (today - dl) / np.timedelta64(1, "D"), np.nan)
    overdue = ~closed & has_dl & (late_by > 0)
    in_time = closed & has_dl & ~np.isnat(cd) & (cd <= dl)
    late = closed & has_dl & ~np.isnat(cd) & (cd > dl)
    return pd.DataFrame({
        "open": ~closed, "major_open": ~closed & (frame["level"].astype(object).to_numpy() == "major"),
        "overdue": overdue, "overdue_90": overdue & (late_by > 90), "closed": closed, "closed_in_time": in_time,
        "closed_late": late}, index=frame.index).astype(np.int64)


def league(frame: pd.DataFrame, *, by: str = "department", as_of: date, orders: pd.DataFrame | None = None,
           names: pd.DataFrame | None = None) -> pd.DataFrame:
    """League table of ``frame`` (ledger rows, already narrowed to the reader's area) per department or per
    district (of the target), worst first; see the module docstring for the figures and the ranking.

    ``orders`` (e.g. :func:`orders_in`) adds the orders issued per department (``department_id``) or per
    district (``district_code``). ``names`` (columns key, name) adds groups without any hazard (a department
    with orders only, or an area with nothing open) and their names. Columns: :data:`LEAGUE_COLUMNS`
    plus ``name_en``.
    """
    if by not in ("department", "district"):
        raise ValueError(f"分组须为 department 或 district，而非 {by!r} (by must be department or district, got {by!r})")
    col, name_col = ("department", "department_name") if by == "department" else ("district_code", "district_name")
    fig = _figures(frame, as_of)
    keys = frame[col].astype(object).where(frame[col].notna(), "").to_numpy() if len(frame) else np.array([], object)
    fig["key"] = keys
    g = fig.groupby("key", sort=True).sum()
    rep = frame[frame["repeat"].astype(bool)] if "repeat" in frame and len(frame) else frame.iloc[0:0]
    if len(rep):
        rk = rep[col].astype(object).where(rep[col].notna(), "")
        n_rep = pd.Series(rep["target_layer"].astype(str).to_numpy() + ":" + rep["target_id"].astype(str).to_numpy(),
                          index=rk.to_numpy()).groupby(level=0).nunique()
    else:
        n_rep = pd.Series(dtype=np.int64)
    g["repeat_offenders"] = n_rep.reindex(g.index).fillna(0).astype(np.int64)
    order_col = "department_id" if by == "department" else "district_code"
    if orders is not None and len(orders) and order_col in orders:
        n_orders = orders[order_col].astype(object).where(orders[order_col].notna(), "").value_counts()
    else:
        n_orders = pd.Series(dtype=np.int64)
    index = g.index.union(pd.Index(n_orders.index, dtype=object))
    if names is not None and len(names):
        index = index.union(pd.Index(names["key"].astype(object)))
    g = g.reindex(index).fillna(0).astype(np.int64)
    g["orders"] = n_orders.reindex(g.index).fillna(0).astype(np.int64)
    g["in_time_share"] = np.where(g["closed"] > 0, g["closed_in_time"] / g["closed"].where(g["closed"] > 0, 1),
                                  np.nan)
    g = g.reset_index(names="key")
    first = {}
    first_en = {}
    if len(frame) and name_col in frame:
        nm = pd.DataFrame({"key": keys, "name": frame[name_col].astype(object).to_numpy(),
                           "name_en": frame[name_col + "_en"].astype(object).to_numpy() if name_col + "_en" in frame
                           else None}).dropna(subset=["name"]).drop_duplicates("key")
        first = dict(zip(nm["key"], nm["name"], strict=True))
        first_en = dict(zip(nm["key"], nm["name_en"], strict=True))
    if names is not None and len(names):
        first = {**dict(zip(names["key"], names["name"], strict=True)), **first}
        if "name_en" in names:
            first_en = {**dict(zip(names["key"], names["name_en"], strict=True)), **first_en}
    none_zh, none_en = NO_DEPARTMENT if by == "department" else ("未知区县", "Unknown district")
    g["name"] = [first.get(k) or (none_zh if k == "" else k) for k in g["key"]]
    g["name_en"] = [first_en.get(k) or (none_en if k == "" else first.get(k) or k) for k in g["key"]]
    g["_share"] = g["in_time_share"].fillna(1.0)
    g = g.sort_values(["overdue", "overdue_90", "open", "repeat_offenders", "_share", "key"],
                      ascending=[False, False, False, False, True, True], kind="stable").drop(columns="_share")
    g.insert(0, "rank", np.arange(1, len(g) + 1))
    cols = [c for c in LEAGUE_COLUMNS if c in g.columns] + ["name_en"]
    return g[cols].reset_index(drop=True)


def charged_officers(frame: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Overdue hazards charged to the supervising department's officer: one row per (department, officer),
    most overdue hazards first (then the longest overdue). A missing officer is its own row (``officer`` None),
    so a leader sees where nobody is named. Columns: :data:`CHARGED_COLUMNS` plus department_name_en."""
    fig = _figures(frame, as_of)
    over = frame[fig["overdue"].to_numpy(dtype=bool)]
    cols = list(CHARGED_COLUMNS) + ["department_name_en"]
    if len(over) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    days = day_number(as_of) - (pd.to_datetime(over["deadline"]).to_numpy(dtype="datetime64[D]") -
                                np.datetime64("1970-01-01", "D")) / np.timedelta64(1, "D")
    f = pd.DataFrame({
        "department": over["department"].astype(object).where(over["department"].notna(), "").to_numpy(),
        "department_name": over["department_name"].astype(object).to_numpy() if "department_name" in over else None,
        "department_name_en": over["department_name_en"].astype(object).to_numpy()
        if "department_name_en" in over else None,
        "officer": over["officer"].astype(object).where(over["officer"].notna(), "").to_numpy(),
        "days": days.astype(np.int64), "major": (over["level"].astype(object) == "major").to_numpy().astype(int),
        "id": over["id"].astype(str).to_numpy()})
    g = f.groupby(["department", "officer"], sort=True).agg(
        department_name=("department_name", "first"), department_name_en=("department_name_en", "first"),
        overdue=("id", "size"), max_days_overdue=("days", "max"), major=("major", "sum"),
        hazard_ids=("id", lambda s: ",".join(sorted(s)))).reset_index()
    g = g.sort_values(["overdue", "max_days_overdue", "department", "officer"],
                      ascending=[False, False, True, True], kind="stable")
    for c in ("department", "officer"):
        g[c] = g[c].astype(object).where(g[c] != "", None)
    g["department_name"] = g["department_name"].where(g["department_name"].notna(), NO_DEPARTMENT[0])
    return g[cols].reset_index(drop=True)


def league_for(store: Store, access: Access, *, by: str = "department", as_of: date,
               settings: Settings | None = None) -> pd.DataFrame:
    """:func:`league` of the ledger rows ``access`` may read, with the orders of its area (all dates up to
    ``as_of``) and every department (or district in reach) listed even without hazards."""
    from layers.ledger.query import ledger_rows

    rows = ledger_rows(store, access, as_of=as_of, settings=settings)
    orders = orders_in(store, access, end=as_of)
    if by == "department":
        d = cached_read(store, "departments", columns=["id", "name", "name_en", "district_code"])
        if access.districts is not None:   # a district reader: the city's departments and its own district's
            d = d[d["district_code"].isna() | d["district_code"].isin(list(access.districts))]
        names = pd.DataFrame({"key": d["id"].astype(object), "name": d["name"].astype(object),
                              "name_en": d["name_en"].astype(object)})
    else:
        d = cached_read(store, "districts", columns=["code", "name", "name_en"])
        if access.districts is not None:
            d = d[d["code"].isin(list(access.districts))]
        names = pd.DataFrame({"key": d["code"].astype(object), "name": d["name"].astype(object),
                              "name_en": d["name_en"].astype(object)})
    return league(rows, by=by, as_of=as_of, orders=orders, names=names)


__all__ = ["duties", "department_of", "orders_in", "league", "league_for", "charged_officers", "LEAGUE_COLUMNS",
           "CHARGED_COLUMNS", "NO_DEPARTMENT", "NO_OFFICER"]
