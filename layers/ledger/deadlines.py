"""Deadlines of the hazard ledger: days left, overdue buckets and the escalation lists.

Days are whole calendar days: ``days_left = deadline - as_of`` (negative = overdue by that many days). A hazard
that is closed (已销号) has no bucket; one without a deadline has no days left and no bucket. Buckets, exactly:

=================  ============================  ==========================
key                days left                     label
=================  ============================  ==========================
``due_7``          0 … 7 (due today counts)      7日内到期 / Due within 7 days
``overdue_1_30``   −1 … −30                      逾期1–30天 / Overdue 1–30 days
``overdue_30_90``  −31 … −90                     逾期31–90天 / Overdue 31–90 days
``overdue_90``     below −90                     逾期90天以上 / Overdue over 90 days
=================  ============================  ==========================

A hazard more than 7 days from its deadline is in no bucket.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

BUCKETS: dict[str, dict] = {
    "due_7": {"zh": "7日内到期", "en": "Due within 7 days", "color": "#F7D600"},
    "overdue_1_30": {"zh": "逾期1–30天", "en": "Overdue 1–30 days", "color": "#FF8A00"},
    "overdue_30_90": {"zh": "逾期31–90天", "en": "Overdue 31–90 days", "color": "#E5141B"},
    "overdue_90": {"zh": "逾期90天以上", "en": "Overdue over 90 days", "color": "#8B0000"},
}
BUCKET_ORDER = tuple(BUCKETS)
#: the buckets of hazards past their deadline
OVERDUE_BUCKETS = ("overdue_1_30", "overdue_30_90", "overdue_90")
#: statuses that end a hazard (no deadline applies any more)
CLOSED_STATUSES = ("closed",)

_DAY = np.timedelta64(1, "D")


def _days(values: object) -> np.ndarray:
    """Dates (anything ``pd.to_datetime`` takes) as float day numbers since 1970-01-01; NaN for missing."""
    ts = pd.to_datetime(pd.Series(values) if not isinstance(values, pd.Series) else values, errors="coerce")
    arr = ts.to_numpy(dtype="datetime64[D]")
    out = (arr - np.datetime64("1970-01-01", "D")) / _DAY
    return np.where(np.isnat(arr), np.nan, out).astype(float)


def day_number(day: date | pd.Timestamp | str) -> int:
    """One date as a day number since 1970-01-01."""
    return int((np.datetime64(pd.Timestamp(day).date(), "D") - np.datetime64("1970-01-01", "D")) / _DAY)


def days_left(deadline: object, as_of: date | pd.Timestamp | str) -> np.ndarray:
    """Whole days from ``as_of`` to each deadline (float array; negative = overdue; NaN = no deadline)."""
    return _days(deadline) - day_number(as_of)


def bucket_of(days: object, status: object) -> np.ndarray:
    """Bucket key of each hazard (object array; None = no bucket: closed, no deadline, or > 7 days left)."""
    d = np.asarray(days, dtype=float)
    closed = np.isin(np.asarray(pd.Series(status).astype(object).to_numpy(), dtype=object), CLOSED_STATUSES)
    out = np.full(len(d), None, dtype=object)
    ok = ~closed & ~np.isnan(d)
    out[ok & (d >= 0) & (d <= 7)] = "due_7"
    out[ok & (d <= -1) & (d >= -30)] = "overdue_1_30"
    out[ok & (d <= -31) & (d >= -90)] = "overdue_30_90"
    out[ok & (d < -90)] = "overdue_90"
    return out


def bucket_label(key: object, lang: str = "zh") -> str:
    """zh/en label of a bucket key ('' for none)."""
    entry = BUCKETS.get(key) if isinstance(key, str) else None
    if entry is None:
        return ""
    return entry["en"] if lang == "en" else entry["zh"]


#: columns of an escalation list, with their labels
ESCALATION_COLUMNS: dict[str, tuple[str, str]] = {
    "district_code": ("区县代码", "District"),
    "district_name": ("区县", "District name"),
    "town_code": ("镇街代码", "Town"),
    "id": ("隐患编号", "Hazard"),
    "target_layer": ("对象图层", "Object layer"),
    "target_id": ("对象编号", "Object"),
    "target_name": ("对象名称", "Object name"),
    "type": ("隐患类型", "Hazard type"),
    "level": ("隐患级别", "Level"),
    "status": ("整改状态", "Status"),
    "deadline": ("整改期限", "Deadline"),
    "days_overdue": ("逾期天数", "Days overdue"),
    "bucket": ("逾期分档", "Bucket"),
    "responsible_person": ("整改责任人", "Responsible person"),
    "department": ("监管部门编号", "Department"),
    "department_name": ("监管部门", "Supervising department"),
    "officer": ("包保责任人", "Officer"),
    "listed": ("挂牌督办", "Listed"),
}


def escalation(ledger_frame: pd.DataFrame, level: str = "district", *, district: str | None = None
               ) -> pd.DataFrame:
    """Overdue hazards to escalate, with who answers for each.

    ``ledger_frame`` is :func:`layers.ledger.query.ledger_frame` (or any frame with its columns, narrowed to the
    reader's area). ``level="district"``: the lists for district leaders, grouped by the target's district
    (``district`` = one district only), most overdue first within each; ``level="city"``: every overdue hazard
    of the city, most overdue first. Columns: :data:`ESCALATION_COLUMNS` (those the frame has).
    """
    if level not in ("district", "city"):
        raise ValueError(f"级别须为 district 或 city，而非 {level!r} (level must be district or city, got {level!r})")
    f = ledger_frame
    days = pd.to_numeric(f["days_left"], errors="coerce").to_numpy(dtype=float) if len(f) else np.zeros(0)
    over = ~np.isin(f["status"].astype(object).to_numpy(), CLOSED_STATUSES) & (days < 0)
    out = f.loc[over].copy()
    if district is not None:
        out = out[out["district_code"].astype(object).eq(district)]
    out["days_overdue"] = (-pd.to_numeric(out["days_left"])).astype("Int64")
    keys = ["district_code", "days_overdue", "id"] if level == "district" else ["days_overdue", "id"]
    asc = [True, False, True] if level == "district" else [False, True]
    out = out.sort_values(keys, ascending=asc, kind="stable", na_position="last")
    cols = [c for c in ESCALATION_COLUMNS if c in out.columns]
    return out[cols].reset_index(drop=True)


__all__ = ["BUCKETS", "BUCKET_ORDER", "OVERDUE_BUCKETS", "days_left", "bucket_of", "bucket_label", "escalation",
           "ESCALATION_COLUMNS", "day_number"]
