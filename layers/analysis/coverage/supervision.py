"""Supervision gaps (监管空白), per object (``GAP_KINDS``):

* ``no_department``: no supervising department (or only ones not in the department list);
* ``no_lead``: several departments and none of them the lead;
* ``no_officer``: a department link without an officer (包保责任人);
* ``district_mismatch``: the registered district differs from the district the point lies in (a point on the
  registered district's border lies in it);
* ``outside_districts``: a point outside every district, or no point at all.

The district checks are made only when the store has districts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from layers.analysis.coverage.arrays import blank, combo_codes, decode, obj_frame
from layers.analysis.coverage.result import GAP_KINDS
from layers.analysis.coverage.rules import Objects


def _group_texts(n: int, obj: np.ndarray, dcode: np.ndarray, rows: np.ndarray,
                 fmt: Callable[[list[int]], tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    """Texts for each object in ``rows`` (sorted, unique) from the set of department codes linked to it:
    ``fmt(sorted codes) -> (zh, en)``, called once per distinct set."""
    if len(rows) == 0:
        return np.empty(0, object), np.empty(0, object)
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    want = mask[obj]
    k = int(dcode.max()) + 2 if len(dcode) else 2
    pairs = np.sort(pd.unique(obj[want] * k + dcode[want]))
    o, d = pairs // k, pairs % k
    starts = np.flatnonzero(np.r_[True, o[1:] != o[:-1]])
    counts = np.diff(np.r_[starts, len(o)])
    owners = o[starts]  # == rows, sorted
    if counts.max() <= 6 and float(k) ** 6 < 2.0 ** 62:
        pos = np.arange(len(o)) - np.repeat(starts, counts)
        key = np.zeros(len(owners), dtype=np.int64)
        np.add.at(key, np.repeat(np.arange(len(owners)), counts), (d + 1) * k ** pos)
        codes, uniq = pd.factorize(key)
        sets = []
        for u in uniq:
            parts, u = [], int(u)
            while u:
                parts.append(u % k - 1)
                u //= k
            sets.append(parts)
    else:
        sets_t = [tuple(d[s:s + c].tolist()) for s, c in zip(starts, counts, strict=True)]
        codes, uniq = pd.factorize(np.array(sets_t + [()], dtype=object)[:-1])
        sets = [list(u) for u in uniq]
    texts = [fmt(x) for x in sets]
    zh = np.array([t[0] for t in texts], dtype=object)[codes]
    en = np.array([t[1] for t in texts], dtype=object)[codes]
    out_zh = np.empty(len(rows), dtype=object)
    out_en = np.empty(len(rows), dtype=object)
    at = np.searchsorted(rows, owners)
    out_zh[at] = zh
    out_en[at] = en
    return out_zh, out_en


def supervision_gaps(objs: Objects, resp: pd.DataFrame, obj: np.ndarray, depts: pd.DataFrame,
                     districts: pd.DataFrame, *,
                     reg_dc: np.ndarray, loc_dc: np.ndarray, d_vocab: list[str], has_xy: np.ndarray,
                     check_districts: bool) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """One row per (object, gap kind), and per kind the object rows that have it (``obj``: the object row of
    each supervision link, -1 for none)."""
    n = len(objs)
    reg_d = decode(reg_dc, d_vocab)
    located_d = decode(loc_dc, d_vocab)
    dep_ids = depts["id"].astype(str).to_numpy(dtype=object) if len(depts) else np.empty(0, object)
    n_links = np.zeros(n, dtype=np.int64)
    n_dept = np.zeros(n, dtype=np.int64)
    n_lead = np.zeros(n, dtype=np.int64)
    link_obj = np.empty(0, np.int64)
    link_d = np.empty(0, np.int64)
    no_off = np.empty(0, bool)
    d_names = np.empty(0, object)
    d_names_en = np.empty(0, object)
    if len(resp) and n:
        dcodes, duniq = pd.factorize(resp["department_id"].to_numpy(dtype=object) if "department_id" in
                                     resp.columns else np.full(len(resp), None, dtype=object))
        duniq = np.array([str(u) for u in duniq], dtype=object)
        if (duniq == "").any():  # empty text names no department
            dcodes = np.where(dcodes == int(np.flatnonzero(duniq == "")[0]), -1, dcodes)
        if len(depts):
            known = pd.Index(dep_ids, dtype=object).get_indexer(duniq) >= 0
        else:  # no department list to check against: any named department counts
            known = np.ones(len(duniq), dtype=bool)
        valid = (obj >= 0) & (dcodes >= 0)
        valid[valid] = known[dcodes[valid]]
        n_links = np.bincount(obj[obj >= 0], minlength=n)
        lead = resp["lead"].astype("boolean").fillna(False).to_numpy(dtype=bool) if "lead" in resp.columns else \
            np.zeros(len(resp), bool)
        off_missing = blank(resp, "officer")
        link_obj, link_d, no_off = obj[valid], dcodes[valid], off_missing[valid]
        if len(duniq) <= 64:  # distinct departments per object: one bit each, OR-ed per object and counted
            bits = np.zeros(n, dtype=np.uint64)
            np.bitwise_or.at(bits, link_obj, np.left_shift(np.uint64(1), link_d.astype(np.uint64)))
            n_dept = np.bitwise_count(bits).astype(np.int64)
        else:
            uniq_pairs = pd.unique(link_obj * (len(duniq) + 1) + link_d)
            n_dept = np.bincount(uniq_pairs // (len(duniq) + 1), minlength=n)
        n_lead = np.bincount(link_obj[lead[valid]], minlength=n)
        dn = dict(zip(dep_ids, depts["name"].astype(str), strict=True)) if len(depts) else {}
        dn_en = dict(zip(dep_ids, depts["name_en"].fillna(depts["name"]).astype(str), strict=True)) \
            if len(depts) and "name_en" in depts.columns else dn
        d_names = np.array([dn.get(u, u) for u in duniq], dtype=object)
        d_names_en = np.array([dn_en.get(u, u) for u in duniq], dtype=object)

    parts: list[pd.DataFrame] = []
    kinds: dict[str, np.ndarray] = {k: np.empty(0, np.int64) for k in GAP_KINDS}

    def add(rows: np.ndarray, kind: str, zh: Any, en: Any) -> None:
        kinds[kind] = rows
        if len(rows) == 0:
            return
        parts.append(obj_frame({
            "layer": objs.layer_of(rows), "id": objs.texts("id", rows), "name": objs.texts("name", rows),
            "district_code": reg_d[rows], "located_district": located_d[rows], "town_code": objs.texts("town", rows),
            "kind": np.full(len(rows), kind, dtype=object), "kind_zh": np.full(len(rows), GAP_KINDS[kind][0],
                                                                                dtype=object),
            "kind_en": np.full(len(rows), GAP_KINDS[kind][1], dtype=object),
            "reason_zh": np.asarray(zh, dtype=object), "reason_en": np.asarray(en, dtype=object),
            "lon": objs.lon[rows], "lat": objs.lat[rows]}))

    rows = np.flatnonzero(n_dept == 0)
    had = n_links[rows] > 0
    add(rows, "no_department", np.where(had, "登记的监管部门不在部门表中", "没有监管部门").astype(object),
        np.where(had, "its supervising department is not in the department list",
                 "no supervising department").astype(object))

    rows = np.flatnonzero((n_dept >= 2) & (n_lead == 0))
    if len(rows):
        zh, en = _group_texts(n, link_obj, link_d, rows, lambda ds: (
            f"有 {len(ds)} 个监管部门（{'、'.join(d_names[ds])}）但没有牵头部门",
            f"{len(ds)} supervising departments ({', '.join(d_names_en[ds])}) and no lead"))
        add(rows, "no_lead", zh, en)

    if len(link_obj) and no_off.any():
        rows = np.sort(pd.unique(link_obj[no_off]))
        zh, en = _group_texts(n, link_obj[no_off], link_d[no_off], rows, lambda ds: (
            f"监管部门 {'、'.join(d_names[ds])} 未落实包保责任人", f"no officer named for {', '.join(d_names_en[ds])}"))
        add(rows, "no_officer", zh, en)

    if check_districts:
        dcode = districts["code"].astype(str).tolist()
        dn = dict(zip(dcode, districts["name"].astype(str), strict=True))
        dn_en = dict(zip(dcode, districts["name_en"].fillna(districts["name"]).astype(str), strict=True)) \
            if "name_en" in districts.columns else dn
        outside = loc_dc < 0
        rows = np.flatnonzero(outside)
        lon, lat = objs.lon, objs.lat
        add(rows, "outside_districts",
            [f"坐标 ({lon[r]:.5f}, {lat[r]:.5f}) 不在任何区县范围内" if has_xy[r] else "没有坐标" for r in rows],
            [f"the point ({lon[r]:.5f}, {lat[r]:.5f}) lies outside every district" if has_xy[r] else
             "no location" for r in rows])
        rows = np.flatnonzero(~outside & (reg_dc != loc_dc))
        if len(rows):
            codes, combos = combo_codes(reg_d[rows], located_d[rows])
            zh, en = [], []
            for reg, loc in combos:
                if pd.isna(reg):
                    zh.append(f"未登记区县，实际位于 {loc}（{dn.get(loc, loc)}）")
                    en.append(f"no registered district; located in {loc} ({dn_en.get(loc, loc)})")
                else:
                    zh.append(f"登记区县 {reg}（{dn.get(reg, '区县表中没有')}），实际位于 {loc}（{dn.get(loc, loc)}）")
                    en.append(f"registered in {reg} ({dn_en.get(reg, 'not in the district list')}) but located in "
                              f"{loc} ({dn_en.get(loc, loc)})")
            add(rows, "district_mismatch", np.array(zh, dtype=object)[codes], np.array(en, dtype=object)[codes])
    if not parts:
        return obj_frame({c: np.empty(0, dtype=object) for c in (
            "layer", "id", "name", "district_code", "located_district", "town_code", "kind", "kind_zh",
            "kind_en", "reason_zh", "reason_en", "lon", "lat")}), kinds
    return pd.concat(parts, ignore_index=True), kinds
