"""The audit log (操作日志): who changed what, when, from which old value to which new one.

The log is append-only (the store's triggers refuse UPDATE and DELETE on ``audit_log``). Every ledger write adds
its rows with :func:`write_audit` inside the same :meth:`Store.transaction` as the change itself, so a change that
fails leaves no row and a row never describes a change that did not happen.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

from layers.schema import LAYERS
from layers.store import Store, Transaction

AUDIT_LAYER = "audit_log"
_COLUMNS = LAYERS[AUDIT_LAYER].names


def now_iso() -> str:
    """Now in UTC as ISO text to the second (``2025-03-01T08:30:00+00:00``), the store's DATETIME form."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def new_id(prefix: str, length: int = 16) -> str:
    """A new random id: ``prefix`` and ``length`` upper-case hex digits."""
    return prefix + uuid.uuid4().hex[:length].upper()


def as_text(value: Any) -> str | None:
    """A value as the audit log writes it: None for missing, ISO for dates, ``true``/``false``, plain numbers."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):   # (numpy's float64 is a float too: float() makes its repr plain)
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(float(value))
    if isinstance(value, np.bool_):
        return "true" if bool(value) else "false"
    if isinstance(value, pd.Timestamp | datetime):
        if isinstance(value, pd.Timestamp) and pd.isna(value):
            return None
        if value.hour == value.minute == value.second == 0 and value.microsecond == 0 and value.tzinfo is None:
            return value.date().isoformat()
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        return as_text(value.item())
    text = str(value)
    return text


def audit_rows(user_id: str | None, action: str, layer: str, record_id: str,
               changes: Mapping[str, tuple[Any, Any]], note: str | None = None,
               at: str | datetime | None = None) -> pd.DataFrame:
    """Audit rows for one change: one row per changed field (old and new values as text).

    ``changes`` maps field -> (old, new). With no changes at all (an action that changes no field) one row with
    an empty field records the action itself. ``at`` defaults to now (UTC).
    """
    when = now_iso() if at is None else (at if isinstance(at, str) else as_text(at))
    items = list(changes.items()) or [(None, (None, None))]
    rows = [{"id": new_id("A", 20), "at": when, "user_id": user_id, "action": action, "layer": layer,
             "record_id": str(record_id), "field": field, "old_value": as_text(old), "new_value": as_text(new),
             "note": note} for field, (old, new) in items]
    return pd.DataFrame(rows, columns=_COLUMNS).astype(object)


def write_audit(tx: Transaction, frame: pd.DataFrame) -> int:
    """Append audit rows (from :func:`audit_rows`) inside the caller's transaction; returns the rows written."""
    unknown = [c for c in frame.columns if c not in _COLUMNS]
    if unknown:
        raise ValueError(f"操作日志没有列 {unknown} (the audit log has no columns {unknown})")
    if len(frame) == 0:
        return 0
    return tx.append(AUDIT_LAYER, frame.loc[:, frame.notna().any().to_numpy()])  # empty columns stay NULL


def history(store: Store, layer: str, record_id: str) -> pd.DataFrame:
    """Every audit row of one record, oldest first (rows written together keep their order)."""
    frame = store.read(AUDIT_LAYER, where={"layer": layer, "record_id": str(record_id)})
    return frame.sort_values("at", kind="stable").reset_index(drop=True)


__all__ = ["AUDIT_LAYER", "audit_rows", "write_audit", "history", "now_iso", "new_id", "as_text"]
