"""The duty desk (值班): the weather warning in force (预警) and the duty roster (值班表).

Warnings are append-only (``warnings`` layer): every change, lifting included, is a new row, and the newest row
(by ``set_at``, then the order written) is the one in force. Lifting a warning is a row of level ``none``. Only a
user with the ``duty`` grant (admin, command centre: both city-wide) may set one: :func:`set_warning` takes the
:class:`~layers.access.Access` that ``authorize(principal, "duty")`` returned on the server, never a user name
from the browser, and writes the warning with its audit row in one transaction.

The roster (``duty_roster`` layer, imported with ``python -m layers import duty_roster FILE``): a row is one
person in one role (``leader`` 带班领导, ``officer`` 值班员) for one shift. The shift starts on ``date`` at
``start`` (``HH:MM``; empty = 00:00) and ends at ``end``; an ``end`` at or before ``start`` (``08:00``–``08:00``,
``20:00``–``08:00``) ends the next day; an empty ``end`` is 24 hours after the start. A shift covers
``[start, end)``: at exactly a handover time the incoming person is on duty. Times are the server's local
wall-clock time (run the server with ``TZ`` set to the city's zone, e.g. ``TZ=Asia/Shanghai``). A row without a
district is the city's own duty room (市值班室).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from layers.access.policy import Access
from layers.errors import ActionDenied, StepRefused
from layers.ledger.audit import audit_rows, new_id, write_audit
from layers.schema import DUTY_ROLES, WARNING_KINDS, WARNING_LEVELS, label
from layers.store import Store, cached_read

log = logging.getLogger(__name__)

WARNINGS = "warnings"
ROSTER = "duty_roster"
#: warning levels from none to the highest (the order of :data:`layers.schema.WARNING_LEVELS`)
LEVEL_ORDER = tuple(WARNING_LEVELS)
#: a warning's note is kept to this many characters
NOTE_CHARS = 500
_HHMM = re.compile(r"^\s*(\d{1,2})\s*[:：]\s*(\d{2})(?:\s*[:：]\s*\d{2})?\s*$")


def level_rank(level: str | None) -> int:
    """0 for none (or unknown), 1 blue … 4 red."""
    return LEVEL_ORDER.index(level) if level in LEVEL_ORDER else 0


# --------------------------------------------------------------------------------------------------
# Warnings
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WeatherWarning:
    """One row of the ``warnings`` layer. ``set_at`` is an aware UTC datetime (None when the row has none)."""

    id: str
    level: str
    kind: str | None
    set_at: datetime | None
    set_by: str | None
    note: str | None

    @property
    def active(self) -> bool:
        """A warning is in force (any level but ``none``)."""
        return self.level != "none" and self.level in WARNING_LEVELS

    @property
    def alert(self) -> bool:
        """Orange or red: the wall puts flood risk first."""
        return level_rank(self.level) >= level_rank("orange")

    @property
    def color(self) -> str:
        return WARNING_LEVELS.get(self.level, WARNING_LEVELS["none"])["color"]

    def title(self, lang: str) -> str:
        """``橙色预警 · 暴雨`` / ``Orange warning · Rainstorm``."""
        words = [label(WARNING_LEVELS, self.level, lang)]
        if self.kind:
            words.append(label(WARNING_KINDS, self.kind, lang))
        return " · ".join(words)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "level": self.level, "kind": self.kind,
                "set_at": self.set_at.isoformat() if self.set_at else None, "set_by": self.set_by, "note": self.note}


def _text(v: Any) -> str | None:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    s = str(v).strip()
    return s or None


def _utc(v: Any) -> datetime | None:
    ts = pd.Timestamp(v) if v is not None and not pd.isna(v) else None
    if ts is None:
        return None
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


def _warnings_frame(store: Store) -> pd.DataFrame:
    """Every warning row, oldest first (by ``set_at``; rows without one first; ties in the order written)."""
    f = cached_read(store, WARNINGS)
    f = pd.DataFrame(f).reset_index(drop=True)
    if not len(f):
        return f
    f = f.assign(_at=pd.to_datetime(f["set_at"], errors="coerce"), _n=np.arange(len(f)))
    return f.sort_values(["_at", "_n"], na_position="first", kind="stable").drop(columns=["_at", "_n"]) \
        .reset_index(drop=True)


def _warning_of(row: pd.Series) -> WeatherWarning:
    return WeatherWarning(id=str(row["id"]), level=_text(row.get("level")) or "none", kind=_text(row.get("kind")),
                   set_at=_utc(row.get("set_at")), set_by=_text(row.get("set_by")), note=_text(row.get("note")))


def current_warning(store: Store) -> WeatherWarning | None:
    """The warning in force: the newest row of ``warnings`` (level ``none`` when the last one was lifted);
    None when no warning was ever set."""
    f = _warnings_frame(store)
    return _warning_of(f.iloc[-1]) if len(f) else None


def warning_history(store: Store, *, limit: int | None = 50) -> list[WeatherWarning]:
    """Warnings newest first (the first is the one in force), at most ``limit``."""
    f = _warnings_frame(store)
    rows = f.iloc[::-1] if limit is None else f.iloc[::-1].head(limit)
    return [_warning_of(r) for _, r in rows.iterrows()]


def require_duty(access: Access) -> None:
    """Raise :class:`ActionDenied` unless ``access`` was granted for ``duty`` city-wide (a warning and the
    roster are the city's)."""
    if access.action != "duty" or access.districts is not None or access.towns is not None:
        raise ActionDenied("设置预警和值班表须有 duty 权限（管理员、指挥中心） (setting the warning and the roster "
                           "needs the duty grant: administrator or command centre)")


def set_warning(store: Store, access: Access, level: str, kind: str | None, note: str | None = None, *,
                at: datetime | None = None) -> WeatherWarning:
    """Set the weather warning in force (level ``none`` lifts it) and write its audit row, in one transaction.

    ``access`` must come from ``authorize(principal, "duty")`` on the server (the user is its principal);
    anything else raises :class:`ActionDenied` and writes nothing. A level other than ``none`` needs a kind
    (rainstorm, typhoon, …); lifting keeps the kind of the warning it lifts when none is given. Raises
    :class:`StepRefused` for an unknown level or kind, or a note longer than :data:`NOTE_CHARS`.
    """
    require_duty(access)
    level = (level or "").strip()
    if level not in WARNING_LEVELS:
        raise StepRefused(f"预警等级 {level!r} 无效，可选：{'、'.join(WARNING_LEVELS)} (unknown warning level "
                          f"{level!r}; one of {', '.join(WARNING_LEVELS)})")
    kind = _text(kind)
    if kind is not None and kind not in WARNING_KINDS:
        raise StepRefused(f"预警类型 {kind!r} 无效，可选：{'、'.join(WARNING_KINDS)} (unknown warning kind {kind!r}; "
                          f"one of {', '.join(WARNING_KINDS)})")
    before = current_warning(store)
    if level != "none" and kind is None:
        raise StepRefused("发布预警须选择预警类型（暴雨、台风……） (a warning needs a kind: rainstorm, typhoon, …)")
    if level == "none" and kind is None and before is not None:
        kind = before.kind
    note = _text(note)
    if note is not None and len(note) > NOTE_CHARS:
        raise StepRefused(f"说明最多 {NOTE_CHARS} 个字符 (the note may be at most {NOTE_CHARS} characters)")
    when = (at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    user = access.principal.id
    wid = new_id("W")
    row = pd.DataFrame([{"id": wid, "level": level, "kind": kind, "set_at": when.isoformat(), "set_by": user,
                         "note": note}]).astype(object)
    changes = {"level": (before.level if before else None, level), "kind": (before.kind if before else None, kind)}
    audit = audit_rows(user, "warning.lift" if level == "none" else "warning.set", WARNINGS, wid, changes,
                       note=note, at=when.isoformat())
    with store.transaction() as tx:
        tx.append(WARNINGS, row.loc[:, row.notna().any().to_numpy()])
        write_audit(tx, audit)
    log.info("warning %s set by %s: %s %s", wid, user, level, kind)
    return WeatherWarning(id=wid, level=level, kind=kind, set_at=when, set_by=user, note=note)


# --------------------------------------------------------------------------------------------------
# The duty roster
# --------------------------------------------------------------------------------------------------

def parse_hhmm(text: Any) -> tuple[int, int] | None:
    """``"8:00"``, ``"08:00"``, ``"20：30"`` -> (hour, minute); ``"24:00"`` is accepted as the day's end; None
    when empty or not a time."""
    s = _text(text)
    if s is None:
        return None
    m = _HHMM.match(s)
    if not m:
        return None
    h, mi = int(m.group(1)), int(m.group(2))
    if mi > 59 or h > 24 or (h == 24 and mi):
        return None
    return h, mi


def local_naive(when: datetime) -> datetime:
    """``when`` as the server's local wall-clock time without a zone (an aware time is converted first)."""
    return when.astimezone().replace(tzinfo=None) if when.tzinfo is not None else when


def shifts(frame: pd.DataFrame) -> pd.DataFrame:
    """Roster rows with ``starts`` and ``ends`` (naive local datetimes) of each shift, by the rules in the
    module's docstring. Rows whose date is missing or whose times cannot be read are dropped (and logged)."""
    f = pd.DataFrame(frame).reset_index(drop=True)
    cols = ["id", "date", "role", "name", "phone", "start", "end", "district_code"]
    for c in cols:
        if c not in f:
            f[c] = None
    starts, ends, ok = [], [], []
    for d, s, e in zip(pd.to_datetime(f["date"], errors="coerce"), f["start"], f["end"], strict=True):
        st, en = parse_hhmm(s), parse_hhmm(e)
        bad = pd.isna(d) or (st is None and _text(s) is not None) or (en is None and _text(e) is not None)
        if bad:
            starts.append(pd.NaT)
            ends.append(pd.NaT)
            ok.append(False)
            continue
        day = pd.Timestamp(d).normalize()
        t0 = day + pd.Timedelta(hours=st[0], minutes=st[1]) if st else day
        if en is None:
            t1 = t0 + pd.Timedelta(hours=24)
        else:
            t1 = day + pd.Timedelta(hours=en[0], minutes=en[1])
            if t1 <= t0:
                t1 += pd.Timedelta(days=1)
        starts.append(t0)
        ends.append(t1)
        ok.append(True)
    f["starts"] = pd.to_datetime(pd.Series(starts, dtype="datetime64[ns]"))
    f["ends"] = pd.to_datetime(pd.Series(ends, dtype="datetime64[ns]"))
    keep = np.asarray(ok, dtype=bool)
    if (~keep).any():
        log.warning("duty roster: %d rows with no date or an unreadable time were left out: %s", int((~keep).sum()),
                    ", ".join(f["id"].astype(str)[~keep].head(5)))
    return f[keep].reset_index(drop=True)


def _district_mask(frame: pd.DataFrame, district: str | None) -> np.ndarray:
    d = frame["district_code"].astype(object).where(frame["district_code"].notna(), None).to_numpy()
    if not district:
        return np.array([v is None or v == "" for v in d], dtype=bool)
    return d == district


def on_duty(store: Store, when: datetime, district: str | None = None) -> pd.DataFrame:
    """Who is on duty at ``when`` (local time; see the module docstring) for ``district`` (None or "" = the city's
    duty room): one row per role (leader first, then officer), the shift that started last where shifts overlap
    (so at a handover the incoming person). Columns: role, name, phone, starts, ends, district_code, id. A role
    nobody covers is absent."""
    t = pd.Timestamp(local_naive(when))
    f = cached_read(store, ROSTER)
    # only rows that can cover ``t``: shifts start at most a day (plus a few hours) before
    dates = pd.to_datetime(f["date"], errors="coerce")
    f = f[(dates >= t.normalize() - pd.Timedelta(days=2)) & (dates <= t.normalize())]
    f = f[_district_mask(f, district)]
    s = shifts(f)
    s = s[(s["starts"] <= t) & (t < s["ends"])]
    s = s.sort_values(["starts", "id"], kind="stable").drop_duplicates("role", keep="last")
    order = {r: i for i, r in enumerate(DUTY_ROLES)}
    s = s.assign(_o=s["role"].map(order).fillna(len(order))).sort_values("_o", kind="stable")
    return s[["role", "name", "phone", "starts", "ends", "district_code", "id"]].reset_index(drop=True)


def roster(store: Store, start: date, end: date, access: Access) -> pd.DataFrame:
    """The roster's shifts dated ``start`` … ``end`` (inclusive) that ``access`` may read: a city-wide user every
    row, a district or town user their district's rows (the roster carries no town). Sorted by shift start,
    district (the city's room first), role. Columns as :func:`shifts`."""
    if end < start:
        start, end = end, start
    f = cached_read(store, ROSTER)
    dates = pd.to_datetime(f["date"], errors="coerce")
    f = f[(dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))]
    if access.districts is not None:
        f = f[f["district_code"].isin(list(access.districts)).to_numpy()]
    s = shifts(f)
    order = {r: i for i, r in enumerate(DUTY_ROLES)}
    s = s.assign(_d=s["district_code"].fillna(""), _o=s["role"].map(order).fillna(len(order)))
    return s.sort_values(["starts", "_d", "_o", "id"], kind="stable").drop(columns=["_d", "_o"]) \
        .reset_index(drop=True)


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of the week holding ``day``."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


__all__ = ["WeatherWarning", "current_warning", "warning_history", "set_warning", "require_duty", "level_rank",
           "LEVEL_ORDER", "on_duty", "roster", "shifts", "parse_hhmm", "week_of", "local_naive"]
