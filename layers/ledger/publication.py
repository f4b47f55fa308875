"""Public naming (曝光): enterprises with major hazards found in a period, or suspended or closed in it.

Only what may be published leaves this module (:data:`PUBLIC_FIELDS`): the enterprise's name, credit code,
address and district, the hazard's type, level and rectification status, the order's kind and document number,
the date and the enterprise's state. Never a person's name (responsible person, officer, checker, contact,
issuer), a phone number, a free-text description or a reason (they may name people).
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from layers.access.policy import Access
from layers.errors import ActionDenied
from layers.export import write_xlsx
from layers.ledger.accountability import orders_in
from layers.schema import ENTERPRISE_STATUS, HAZARD_LEVELS, HAZARD_STATUS, ORDER_KINDS, label
from layers.store import Store, cached_read

#: the fields of a public naming row, with their labels (zh, en); nothing else is ever returned
PUBLIC_FIELDS: dict[str, tuple[str, str]] = {
    "basis": ("曝光事由", "Basis"),
    "name": ("企业名称", "Enterprise"),
    "credit_code": ("统一社会信用代码", "Unified social credit code"),
    "address": ("地址", "Address"),
    "district_code": ("区县代码", "District code"),
    "district_name": ("区县", "District"),
    "hazard_type": ("隐患类型", "Hazard type"),
    "hazard_level": ("隐患级别", "Hazard level"),
    "hazard_status": ("整改状态", "Rectification status"),
    "order_kind": ("执法指令", "Order"),
    "doc_no": ("文书编号", "Document no."),
    "date": ("日期", "Date"),
    "state": ("企业状态", "Enterprise state"),
}
BASES = {"major_hazard": {"zh": "重大事故隐患", "en": "Major hazard"},
         "order": {"zh": "停产停业整顿或关闭", "en": "Suspension or closure"}}
#: order kinds that are published
PUBLISHED_ORDERS = ("suspend", "close")


def _require_city_grant(access: Access) -> None:
    if access.action != "ledger.city":
        raise ActionDenied("曝光名单须以 ledger.city 权限读取 (the public naming list needs the ledger.city grant)")


def public_naming(store: Store, access: Access, *, start: date, end: date) -> pd.DataFrame:
    """Rows for publication for the period [start, end] (inclusive), within ``access``'s area.

    One row per major hazard of an enterprise found in the period (basis ``major_hazard``) and one per
    suspension or closure order on an enterprise dated in it (basis ``order``); newest first. ``access`` must
    come from ``authorize(principal, "ledger.city", ...)`` (public naming is a city-level step): any other
    raises :class:`ActionDenied`. The enterprise's ``state`` is its stored status (在营, 停产整顿, 关闭).
    Columns: exactly :data:`PUBLIC_FIELDS`.
    """
    _require_city_grant(access)
    if end < start:
        start, end = end, start
    ent = pd.DataFrame(cached_read(store, "enterprises", columns=[
        "id", "name", "credit_code", "address", "district_code", "town_code", "status"]))
    ent = ent.assign(id=ent["id"].astype(str)).drop_duplicates("id").set_index("id")
    districts = cached_read(store, "districts", columns=["code", "name"])
    dnames = dict(zip(districts["code"].astype(str), districts["name"].astype(object), strict=False))

    h = cached_read(store, "hazards", columns=["id", "target_layer", "target_id", "type", "level", "status",
                                               "found_date"])
    fd = pd.to_datetime(h["found_date"], errors="coerce")
    h = h[h["target_layer"].eq("enterprises") & h["level"].eq("major") & (fd >= pd.Timestamp(start)) &
          (fd <= pd.Timestamp(end))]
    hz = pd.DataFrame({"basis": "major_hazard", "target_id": h["target_id"].astype(str).to_numpy(),
                       "hazard_type": h["type"].astype(object).to_numpy(),
                       "hazard_level": h["level"].astype(object).to_numpy(),
                       "hazard_status": h["status"].astype(object).to_numpy(),
                       "order_kind": None, "doc_no": None,
                       "date": pd.to_datetime(h["found_date"]).to_numpy(), "_id": h["id"].astype(str).to_numpy()})
    o = orders_in(store, access, start=start, end=end)
    o = o[o["target_layer"].eq("enterprises") & o["kind"].isin(PUBLISHED_ORDERS)] if len(o) else o
    od = pd.DataFrame({"basis": "order", "target_id": o["target_id"].astype(str).to_numpy(),
                       "hazard_type": None, "hazard_level": None, "hazard_status": None,
                       "order_kind": o["kind"].astype(object).to_numpy(),
                       "doc_no": o["doc_no"].astype(object).to_numpy(),
                       "date": pd.to_datetime(o["date"]).to_numpy() if len(o) else np.array([], "datetime64[ns]"),
                       "_id": o["id"].astype(str).to_numpy() if len(o) else np.array([], object)})
    rows = pd.concat([p for p in (hz, od) if len(p)], ignore_index=True) if len(hz) or len(od) else hz
    known = rows["target_id"].isin(ent.index)
    rows = rows[known.to_numpy()]
    e = ent.reindex(rows["target_id"])
    rows = rows.assign(name=e["name"].to_numpy(dtype=object), credit_code=e["credit_code"].to_numpy(dtype=object),
                       address=e["address"].to_numpy(dtype=object),
                       district_code=e["district_code"].to_numpy(dtype=object),
                       state=e["status"].to_numpy(dtype=object))
    rows["district_name"] = rows["district_code"].map(dnames)
    town = e["town_code"].to_numpy(dtype=object)
    if access.districts is not None or access.towns is not None:
        keep = access.mask(rows["district_code"].to_numpy(dtype=object), town)
        rows = rows[keep]
    rows = rows.sort_values(["date", "basis", "_id"], ascending=[False, True, True], kind="stable")
    out = rows[list(PUBLIC_FIELDS)].reset_index(drop=True)
    out["date"] = pd.to_datetime(out["date"])
    return out


def public_labelled(frame: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """The publication rows for people: values as words and headers in ``lang``."""
    words = {"basis": BASES, "hazard_level": HAZARD_LEVELS, "hazard_status": HAZARD_STATUS,
             "order_kind": ORDER_KINDS, "state": ENTERPRISE_STATUS}
    out = pd.DataFrame(index=frame.index)
    for c, (zh, en) in PUBLIC_FIELDS.items():
        s = frame[c].astype(object) if c in frame else pd.Series(None, index=frame.index, dtype=object)
        if c in words:
            s = s.map(lambda v, m=words[c]: label(m, v, lang) if isinstance(v, str) else "")
        elif c == "date":
            s = pd.to_datetime(s).dt.strftime("%Y-%m-%d").astype(object)
        s = s.where(s.notna(), "")
        out[en if lang == "en" else zh] = s.to_numpy(dtype=object)
    return out.reset_index(drop=True)


def public_naming_xlsx(frame: pd.DataFrame, lang: str = "zh") -> bytes:
    """The publication list as an XLSX workbook (formula-safe: every text is a string cell)."""
    sheet = "曝光名单" if lang != "en" else "Public naming"
    with tempfile.TemporaryDirectory() as tmp:
        path = write_xlsx({sheet: public_labelled(frame, lang)}, Path(tmp) / "public.xlsx")
        return path.read_bytes()


__all__ = ["PUBLIC_FIELDS", "public_naming", "public_labelled", "public_naming_xlsx", "BASES"]
