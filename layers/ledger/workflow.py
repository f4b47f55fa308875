"""The hazard workflow (隐患整改闭环): register, rectify with the five elements, check and close.

States: 待整改 ``open`` → 整改中 ``rectifying`` → 待验收 ``awaiting_check`` → 已销号 ``closed``; a failed check
goes to 已驳回 ``rejected`` and is submitted again. Each step (:data:`STEPS`) says from which states it may run,
where it leads, what it needs and which grant of :mod:`layers.access.policy` it asks for.

Every step (:func:`apply_step`) re-reads the hazard from the store, authorizes the user on the district and town
of the hazard's *target* (read from the store, never taken from the caller or the hazard's own code), checks the
version the user opened, validates the values, and then writes the change and its audit rows in one transaction.
A refused step raises (:class:`StepRefused`, :class:`EditConflict`, :class:`AccessDenied`) and writes nothing.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.access.policy import GRANTS, LEGACY_ROLES, Access, Principal, authorize
from layers.errors import AccessDenied, EditConflict, StepRefused
from layers.ledger.audit import as_text, audit_rows, now_iso, write_audit
from layers.schema import FIVE_IN_PLACE, HAZARD_STATUS, LAYERS, OBJECT_LAYERS, T
from layers.store import Store
from layers.store.base import Transaction

HAZARDS = "hazards"
MAX_TEXT = 2000
#: each of the five elements and the detail that shows it is in place (who, what, how much, when, which plan)
DETAILS: dict[str, str] = {
    "resp_in_place": "responsible_person",
    "measures_in_place": "measures",
    "funds_in_place": "funds",
    "deadline_in_place": "deadline",
    "plan_in_place": "plan_ref",
}
DETAIL_FIELDS = tuple(DETAILS.values())
FIVE_KEYS = tuple(FIVE_IN_PLACE)
OPEN_STATES = ("open", "rectifying", "awaiting_check", "rejected")
ALL_STATES = tuple(HAZARD_STATUS)
#: fields an edit may change (not the status, the check or the listing: those have their own steps)
EDIT_FIELDS = ("type", "description", "level", *DETAIL_FIELDS, *FIVE_KEYS, "department_id")
REGISTER_FIELDS = ("target_layer", "target_id", "type", "level", "description", "found_date", *DETAIL_FIELDS,
                   *FIVE_KEYS, "department_id")
#: values every step accepts besides its fields: a note for the audit log
NOTE = "note"
MISSING_NOTE = "missing_note"


@dataclass(frozen=True)
class Step:
    """One workflow step: from which states, to which state (None = the status stays), what it needs."""

    name: str
    zh: str
    en: str
    from_states: tuple[str, ...]
    to_state: str | None
    needs: tuple[str, ...]
    fields: tuple[str, ...]
    grant: str


STEPS: dict[str, Step] = {s.name: s for s in (
    Step("register", "登记", "register", (), "open", ("target_layer", "target_id", "level", "found_date"),
         REGISTER_FIELDS, "hazard.edit"),
    Step("start", "开始整改", "start rectifying", ("open",), "rectifying", (),
         (*DETAIL_FIELDS, *FIVE_KEYS, "department_id"), "hazard.edit"),
    Step("submit", "提交验收", "submit for the check", ("rectifying", "rejected"), "awaiting_check", (), (),
         "hazard.edit"),
    Step("close", "验收销号", "pass the check and close", ("awaiting_check",), "closed",
         ("checker", "check_date", "evidence"), ("checker", "check_date", "evidence"), "hazard.edit"),
    Step("reject", "验收驳回", "fail the check", ("awaiting_check",), "rejected", ("reject_reason",),
         ("reject_reason", "checker", "check_date"), "hazard.edit"),
    Step("edit", "修改", "edit", OPEN_STATES, None, (), EDIT_FIELDS, "hazard.edit"),
    Step("list", "挂牌督办", "put under listed supervision", OPEN_STATES, None,
         ("listed_office", "listed_deadline", "listed_condition"),
         ("listed_office", "listed_deadline", "listed_condition"), "ledger.city"),
    Step("unlist", "摘牌", "lift listed supervision", ALL_STATES, None, (), (), "ledger.city"),
)}
#: how far along the way each state is (a step that jumps more than one place ahead skips a step)
_RANK = {"open": 0, "rectifying": 1, "awaiting_check": 2, "closed": 3, "rejected": 3}
_NEXT = {"open": "start", "rectifying": "submit", "rejected": "submit", "awaiting_check": "close"}
_BASE_COLUMNS = ("id", "target_layer", "target_id", "status", "version")
_YES = {"true", "1", "yes", "y", "是", "有", "到位", "已到位", "√", "✓"}
_NO = {"false", "0", "no", "n", "否", "无", "未到位", "×", "✗"}


# --------------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------------

def is_missing(value: Any) -> bool:
    """None, NaN, NA, NaT or blank text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    try:
        return bool(pd.isna(value)) if np.ndim(value) == 0 else False
    except (TypeError, ValueError):
        return False


def _field_label(layer: str, name: str) -> tuple[str, str]:
    try:
        col = LAYERS[layer].column(name)
    except KeyError:
        return name, name
    return col.zh, col.en


def _bad(layer: str, name: str, zh: str, en: str, where: tuple[str, str] | None = None) -> StepRefused:
    fzh, fen = _field_label(layer, name)
    pre_zh, pre_en = where or ("", "")
    return StepRefused(f"{pre_zh}字段「{fzh}」{zh} ({pre_en}field \"{name}\" ({fen}) {en})")


def _parse_date(value: Any) -> date | None:
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).date()
    if isinstance(value, str):
        text = value.strip().replace("/", "-").replace(".", "-")
        try:
            return date.fromisoformat(text[:10]) if len(text) >= 10 and (len(text) == 10 or text[10] in "T ") \
                else date.fromisoformat(text)
        except ValueError:
            return None
    return None


def clean_value(layer: str, name: str, value: Any, *, where: tuple[str, str] | None = None) -> Any:
    """``value`` for column ``name`` of ``layer``, checked by the column's type; None when missing.

    Text is stripped (at most :data:`MAX_TEXT` characters, from the allowed values when the column has them),
    dates parse (``YYYY-MM-DD``, 1900..2199), numbers are finite and not negative, booleans are true/false
    (or 是/否). Raises :class:`StepRefused` naming the field.
    """
    col = LAYERS[layer].column(name)
    if is_missing(value):
        return None
    t = col.type
    if t is T.TEXT:
        if isinstance(value, bool) or not isinstance(value, str | int | float | np.integer | np.floating):
            raise _bad(layer, name, "应为文字", "must be text", where)
        text = str(value).replace("\x00", "").strip()
        if len(text) > MAX_TEXT:
            raise _bad(layer, name, f"过长（{len(text)} 字，最多 {MAX_TEXT} 字）",
                       f"is too long ({len(text)} characters, at most {MAX_TEXT})", where)
        if col.allowed is not None and text not in col.allowed:
            allowed = ", ".join(col.allowed)
            raise _bad(layer, name, f"的值 {text!r} 不在可选值（{allowed}）之内",
                       f"value {text!r} is not one of {allowed}", where)
        return text or None
    if t in (T.DATE, T.DATETIME):
        d = _parse_date(value)
        if d is None or not 1900 <= d.year <= 2199:
            raise _bad(layer, name, f"的值 {value!r} 不是有效日期（YYYY-MM-DD）",
                       f"value {value!r} is not a valid date (YYYY-MM-DD)", where)
        return d
    if t in (T.REAL, T.INT):
        if isinstance(value, bool | np.bool_):
            raise _bad(layer, name, "应为数字", "must be a number", where)
        try:
            num = float(str(value).strip().replace(",", "")) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            raise _bad(layer, name, f"的值 {value!r} 不是数字", f"value {value!r} is not a number", where) from None
        if not math.isfinite(num) or num < 0:
            raise _bad(layer, name, f"的值 {value!r} 应为不小于 0 的数字",
                       f"value {value!r} must be a number not below 0", where)
        if t is T.INT:
            if not num.is_integer():
                raise _bad(layer, name, f"的值 {value!r} 应为整数", f"value {value!r} must be a whole number",
                           where)
            return int(num)
        return num
    if t is T.BOOL:
        if isinstance(value, bool | np.bool_):
            return bool(value)
        if isinstance(value, int | np.integer) and value in (0, 1):
            return bool(value)
        text = str(value).strip().lower()
        if text in _YES:
            return True
        if text in _NO:
            return False
        raise _bad(layer, name, f"的值 {value!r} 应为 是/否", f"value {value!r} must be yes/no", where)
    raise _bad(layer, name, "不能在此修改", "cannot be set here", where)


# --------------------------------------------------------------------------------------------------
# Access: the target's place, from the store
# --------------------------------------------------------------------------------------------------

def target_places(store: Store, layer: str, ids: Sequence[str], *,
                  geometry: bool = False) -> pd.DataFrame | gpd.GeoDataFrame:
    """District and town (and the geometry when asked) of objects of ``layer``, read from the store by id.

    The same facts as :func:`layers.access.policy.object_places`, read for these ids only (not the whole
    layer), so a workflow step stays fast right after another step changed the data version.
    """
    if layer not in OBJECT_LAYERS:
        raise AccessDenied(f"对象图层 {layer!r} 不存在 (no object layer {layer!r})")
    cols = ["id", "district_code", "town_code"] + (["geometry"] if geometry else [])
    return store.read(layer, columns=cols, ids=[str(i) for i in ids])


def authorize_target(store: Store, principal: Principal | None, action: str, layer: str, oid: str) -> Access:
    """Authorize ``action`` on the district/town of the object ``layer:oid`` as the store has it."""
    places = target_places(store, layer, [oid])
    if len(places) == 0:
        authorize(principal, action)  # a role without the grant hears that first
        raise AccessDenied(f"对象 {layer}:{oid} 不存在或无权访问 (object {layer}:{oid} is unknown or outside "
                           "your area)")
    district = _opt(places["district_code"].iloc[0])
    town = _opt(places["town_code"].iloc[0])
    access = authorize(principal, action, districts=district, towns=town)
    access.require(district, town)
    return access


def _opt(value: Any) -> str | None:
    return None if is_missing(value) else str(value)


# --------------------------------------------------------------------------------------------------
# The five elements
# --------------------------------------------------------------------------------------------------

def five_elements(row: Mapping[str, Any] | pd.Series) -> dict[str, dict[str, Any]]:
    """Each of the five elements: present (its flag is true or its detail is filled) and its detail as text."""
    out: dict[str, dict[str, Any]] = {}
    for key, detail in DETAILS.items():
        flag = row.get(key)
        value = row.get(detail)
        text = None if is_missing(value) else as_text(value)
        present = text is not None or (not is_missing(flag) and bool(flag))
        out[key] = {"present": bool(present), "detail": text}
    return out


def missing_elements(row: Mapping[str, Any] | pd.Series) -> list[str]:
    """The keys of the five elements not in place, in their usual order."""
    return [k for k, v in five_elements(row).items() if not v["present"]]


def _element_names(keys: Sequence[str]) -> tuple[str, str]:
    return ("、".join(FIVE_IN_PLACE[k]["zh"] for k in keys), ", ".join(FIVE_IN_PLACE[k]["en"] for k in keys))


def allowed_steps(row: Mapping[str, Any] | pd.Series, principal: Principal | None) -> list[str]:
    """The steps ``principal`` may take on this hazard now (for the buttons; :func:`apply_step` checks again).

    When the row carries ``district_code``/``town_code`` of its target (as the ledger frame gives them) the
    user's area is checked too.
    """
    if principal is None:
        return []
    role = LEGACY_ROLES.get(principal.role, principal.role)
    grants = GRANTS.get(role, frozenset())
    status = row.get("status")
    listed = not is_missing(row.get("listed")) and bool(row.get("listed"))
    out = []
    for name, spec in STEPS.items():
        if name == "register" or status not in spec.from_states or spec.grant not in grants:
            continue
        if name == "list" and (row.get("level") != "major" or listed):
            continue
        if name == "unlist" and not listed:
            continue
        if "district_code" in row:
            try:
                access = authorize(principal, spec.grant)
            except AccessDenied:
                continue
            if not access.allows(_opt(row.get("district_code")), _opt(row.get("town_code"))):
                continue
        out.append(name)
    return out


# --------------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------------

def _read_hazard(store: Store, hazard_id: str, columns: Sequence[str]) -> dict[str, Any]:
    frame = store.read(HAZARDS, columns=list(dict.fromkeys(columns)), ids=[str(hazard_id)])
    if len(frame) == 0:
        raise StepRefused(f"隐患 {hazard_id} 不存在 (hazard {hazard_id} does not exist)")
    return {k: (None if is_missing(v) else v) for k, v in frame.iloc[0].to_dict().items()}


def _status_label(status: str | None) -> tuple[str, str]:
    entry = HAZARD_STATUS.get(str(status), {"zh": str(status), "en": str(status)})
    return entry["zh"], entry["en"]


def _refuse_state(hazard_id: str, spec: Step, status: str | None) -> StepRefused:
    szh, sen = _status_label(status)
    nxt = STEPS.get(_NEXT.get(str(status), ""))
    if spec.to_state is not None and status in _RANK and _RANK[spec.to_state] > _RANK[status] + 1 and nxt:
        return StepRefused(
            f"隐患 {hazard_id} 当前为「{szh}」，不能直接{spec.zh}：跳过了步骤，应先{nxt.zh} (hazard {hazard_id} is "
            f"{sen}: it cannot {spec.en} yet, that skips a step; first {nxt.en})")
    return StepRefused(f"隐患 {hazard_id} 当前为「{szh}」，不能{spec.zh} (hazard {hazard_id} is {sen}: it cannot "
                       f"{spec.en} from this state)")


def _take_values(spec: Step, values: Mapping[str, Any], extra: Sequence[str] = ()) -> tuple[dict[str, Any], dict]:
    """Split ``values`` into the step's fields (cleaned) and its notes; unknown keys are refused."""
    allowed = set(spec.fields)
    notes = {NOTE, *extra}
    unknown = sorted(k for k in values if k not in allowed and k not in notes)
    if unknown:
        raise StepRefused(f"「{spec.zh}」不能修改字段 {unknown} (the step \"{spec.name}\" cannot set {unknown})")
    fields = {k: clean_value(HAZARDS, k, v) for k, v in values.items() if k in allowed}
    note = {k: _clean_note(k, values[k]) for k in notes if k in values}
    for k in spec.needs:
        if fields.get(k) is None:
            zh, en = _field_label(HAZARDS, k)
            raise StepRefused(f"「{spec.zh}」需要填写「{zh}」 (the step \"{spec.name}\" needs the field \"{k}\" ({en}))")
    return fields, note


def _clean_note(name: str, value: Any) -> str | None:
    if is_missing(value):
        return None
    text = str(value).replace("\x00", "").strip()
    if len(text) > MAX_TEXT:
        raise StepRefused(f"「{name}」过长（{len(text)} 字，最多 {MAX_TEXT} 字） (\"{name}\" is too long: "
                          f"{len(text)} characters, at most {MAX_TEXT})")
    return text


def _follow_details(fields: dict[str, Any]) -> None:
    """The five flags follow their details: a filled detail puts its element in place, a cleared one takes it
    out (unless the flag itself is given true)."""
    for key, detail in DETAILS.items():
        if detail in fields:
            given = fields.get(key)
            fields[key] = fields[detail] is not None or bool(given)


def _check_dates(row: Mapping[str, Any], fields: Mapping[str, Any], today: date) -> None:
    found = _parse_date(row.get("found_date"))
    for name in ("deadline", "listed_deadline", "check_date"):
        d = fields.get(name)
        if d is None:
            continue
        if found is not None and d < found:
            raise _bad(HAZARDS, name, f"（{d}）不能早于发现日期 {found}", f"({d}) cannot be before the found date {found}")
    check = fields.get("check_date")
    if check is not None and check > today:
        raise _bad(HAZARDS, "check_date", f"（{check}）不能晚于今天 {today}", f"({check}) cannot be after today {today}")


def _check_department(store: Store, department_id: Any) -> None:
    if department_id is None:
        return
    if len(store.read("departments", columns=["id"], ids=[str(department_id)])) == 0:
        raise _bad(HAZARDS, "department_id", f"：没有部门 {department_id}", f": there is no department {department_id}")


def _columns_for(spec: Step, values: Mapping[str, Any]) -> list[str]:
    """The hazard's columns a step reads: the few it checks and the fields it may change (an edit reads only
    the fields it was given and the flags and details that follow them). Fewer columns, a faster step."""
    cols = list(_BASE_COLUMNS)
    if spec.name == "edit":
        given = [k for k in values if k in spec.fields]
        cols += given
        cols += [DETAILS[k] for k in given if k in DETAILS] + [k for k, d in DETAILS.items() if d in given]
        if "deadline" in given:
            cols.append("found_date")
        if "level" in given:
            cols.append("listed")
    elif spec.name == "start":
        cols += ["found_date", *DETAIL_FIELDS, *FIVE_KEYS]
        cols += ["department_id"] if "department_id" in values else []
    else:
        cols += list(spec.fields)
    if spec.name in ("close", "reject", "list"):
        cols.append("found_date")
    if spec.name in ("list", "unlist"):
        cols += ["level", "listed", "listed_office", "listed_deadline", "listed_condition"]
    if spec.name == "close":
        cols.append("closed_date")
    return cols


def apply_step(store: Store, principal: Principal | None, hazard_id: str, step: str, values: Mapping[str, Any],
               expected_version: int, *, today: date) -> int:
    """Take workflow ``step`` on hazard ``hazard_id``; returns the hazard's new version.

    ``values`` holds the step's fields (see :data:`STEPS`) and optionally ``note`` (and, for ``start``,
    ``missing_note`` naming why the missing elements are missing). ``expected_version`` is the version the
    user opened. Raises :class:`StepRefused` (wrong state, skipped step, missing or invalid field),
    :class:`EditConflict` (someone saved first) or :class:`AccessDenied`; nothing is written then.
    """
    spec = STEPS.get(step)
    if spec is None or spec.name == "register":
        known = ", ".join(n for n in STEPS if n != "register")
        raise StepRefused(f"没有步骤 {step!r}，可选：{known} (no step {step!r}; known: {known})")
    values = dict(values or {})
    row = _read_hazard(store, hazard_id, _columns_for(spec, values))
    authorize_target(store, principal, spec.grant, str(row["target_layer"]), str(row["target_id"]))
    expected = int(expected_version or 0)
    current = int(row.get("version") or 0)
    if expected != current:
        raise EditConflict(
            f"隐患 {hazard_id} 已被他人修改（您打开的是第 {expected} 版，现在是第 {current} 版），您的修改未保存；"
            f"请重新打开后再改 (hazard {hazard_id} was changed by someone else (you opened version {expected}, it "
            f"is now version {current}); your change was not saved: reopen it and try again)")
    status = row.get("status")
    if status not in spec.from_states:
        raise _refuse_state(hazard_id, spec, status)

    fields, notes = _take_values(spec, values, (MISSING_NOTE,) if spec.name == "start" else ())
    note = notes.get(NOTE)
    listed = bool(row.get("listed") or False)
    if spec.name in ("start", "edit"):
        _follow_details(fields)
        _check_department(store, fields.get("department_id"))
    if spec.name == "start":
        merged = {**row, **fields}
        missing = missing_elements(merged)
        if missing:
            zh, en = _element_names(missing)
            why = notes.get(MISSING_NOTE)
            if why is None:
                raise StepRefused(
                    f"开始整改需要五到位（责任、措施、资金、时限、预案）；缺少：{zh}。请补齐，或在「缺项说明」中写明缺少的原因 "
                    f"(starting the rectification needs the five elements in place; missing: {en}. Fill them in, or "
                    "name the missing ones and why in the note on missing elements)")
            note = f"缺少：{zh} (missing: {en})：{why}" + (f"；{note}" if note else "")
    if spec.name == "edit" and fields.get("level") == "general" and listed:
        raise StepRefused(f"隐患 {hazard_id} 正在挂牌督办，改为一般隐患前请先摘牌 (hazard {hazard_id} is under listed "
                          "supervision: lift it before making the hazard general)")
    if spec.name == "list":
        if row.get("level") != "major":
            raise StepRefused(f"只有重大隐患可以挂牌督办，隐患 {hazard_id} 是一般隐患 (only major hazards can be put "
                              f"under listed supervision; hazard {hazard_id} is general)")
        if listed:
            raise StepRefused(f"隐患 {hazard_id} 已在挂牌督办 (hazard {hazard_id} is already under listed supervision)")
        fields["listed"] = True
    if spec.name == "unlist":
        if not listed:
            raise StepRefused(f"隐患 {hazard_id} 没有挂牌督办 (hazard {hazard_id} is not under listed supervision)")
        fields["listed"] = False
    _check_dates(row, fields, today)
    if spec.to_state is not None:
        fields["status"] = spec.to_state
    if spec.name == "close":
        fields["closed_date"] = fields["check_date"]

    changes = {k: (row.get(k), v) for k, v in fields.items() if as_text(row.get(k)) != as_text(v)}
    if not changes:
        raise StepRefused(f"隐患 {hazard_id} 没有要修改的内容 (hazard {hazard_id}: nothing to change)")
    at = now_iso()
    write = {k: new for k, (_old, new) in changes.items()}
    write.update({"updated_at": at, "updated_by": principal.id})
    audit = audit_rows(principal.id, spec.name, HAZARDS, str(hazard_id), changes, note=note, at=at)
    with store.transaction() as tx:
        version = tx.update_versioned(HAZARDS, str(hazard_id), expected, write)
        write_audit(tx, audit)
    return version


# --------------------------------------------------------------------------------------------------
# Registering hazards
# --------------------------------------------------------------------------------------------------

def _new_hazard_ids(store: Store, n: int, today: date) -> list[str]:
    """``n`` new hazard ids, ``H`` + the day + a random code, none of them already in the store."""
    out: list[str] = []
    while len(out) < n:
        cands = list(dict.fromkeys(f"H{today:%Y%m%d}{secrets.token_hex(4).upper()}" for _ in range(n - len(out))))
        cands = [c for c in cands if c not in out]
        taken = set(store.read(HAZARDS, columns=["id"], ids=cands)["id"].astype(str)) if cands else set()
        out.extend(c for c in cands if c not in taken)
    return out


def register_hazards(store: Store, principal: Principal | None, frame: pd.DataFrame, *, today: date,
                     inspection_id: str | None = None, inspection: Mapping[str, Any] | None = None,
                     tx: Transaction | None = None) -> list[str]:
    """Register new hazards (status open, version 0) from ``frame``; returns their new ids in row order.

    ``frame`` has ``target_layer``, ``target_id``, ``type``, ``level``, ``description``, ``found_date``,
    ``deadline`` and optionally the five elements' details, their flags and ``department_id``. Each target must
    exist and lie in the user's area. With ``inspection_id`` the hazards link to that inspection (its target and
    date fill in what the frame leaves out; a hazard of another target is refused), and recording what an
    inspection found needs only the ``complete`` grant (a planner recording a visit), not ``hazard.edit``.
    ``inspection`` (id, target_layer, target_id, date) is an inspection being written in the open transaction
    ``tx``: the hazards are written in it too, so the visit and what it found are one write. All rows or none.
    """
    spec = STEPS["register"]
    grant = "complete" if inspection_id is not None or inspection is not None else spec.grant
    frame = pd.DataFrame(frame).reset_index(drop=True)
    unknown = sorted(c for c in frame.columns if c not in REGISTER_FIELDS)
    if unknown:
        raise StepRefused(f"登记隐患时不能填写字段 {unknown} (registering hazards cannot set {unknown})")
    authorize(principal, grant)
    if len(frame) == 0:
        return []
    if inspection is not None:
        inspection = pd.Series(dict(inspection))
        inspection["date"] = pd.Timestamp(inspection["date"])
        inspection_id = str(inspection["id"])
    elif inspection_id is not None:
        ins = store.read("inspections", columns=["id", "target_layer", "target_id", "date"], ids=[str(inspection_id)])
        if len(ins) == 0:
            raise StepRefused(f"检查记录 {inspection_id} 不存在 (inspection {inspection_id} does not exist)")
        inspection = ins.iloc[0]
    if inspection is not None:  # the inspection's target and date fill in what the rows leave out
        for col, value in (("target_layer", inspection["target_layer"]), ("target_id", inspection["target_id"]),
                           ("found_date", inspection["date"])):
            if col not in frame.columns:
                frame[col] = value
            else:
                frame[col] = frame[col].astype(object).where(~frame[col].map(is_missing), value)

    rows: list[dict[str, Any]] = []
    for i, rec in enumerate(frame.to_dict("records"), start=1):
        where = (f"第 {i} 行 ", f"row {i}, ")
        clean = {k: clean_value(HAZARDS, k, v, where=where) for k, v in rec.items()}
        for k in spec.needs:
            if clean.get(k) is None:
                raise _bad(HAZARDS, k, "必填", "is required", where)
        if clean["found_date"] > today:
            raise _bad(HAZARDS, "found_date", f"（{clean['found_date']}）不能晚于今天 {today}",
                       f"({clean['found_date']}) cannot be after today {today}", where)
        if clean.get("deadline") is not None and clean["deadline"] < clean["found_date"]:
            raise _bad(HAZARDS, "deadline", f"（{clean['deadline']}）不能早于发现日期 {clean['found_date']}",
                       f"({clean['deadline']}) cannot be before the found date {clean['found_date']}", where)
        if inspection is not None and (clean["target_layer"], clean["target_id"]) != \
                (inspection["target_layer"], str(inspection["target_id"])):
            raise StepRefused(f"第 {i} 行：隐患对象 {clean['target_layer']}:{clean['target_id']} 不是检查记录 "
                              f"{inspection_id} 的对象 (row {i}: the hazard's target is not the target of "
                              f"inspection {inspection_id})")
        _follow_details(clean)
        for key in FIVE_KEYS:
            clean[key] = bool(clean.get(key) or False)
        rows.append(clean)

    # every target from the store, its district and town checked against the user's area
    places: dict[tuple[str, str], tuple[str | None, str | None, Any]] = {}
    for layer in sorted({r["target_layer"] for r in rows}):
        ids = sorted({r["target_id"] for r in rows if r["target_layer"] == layer})
        found = target_places(store, layer, ids, geometry=True)
        points = found.geometry.representative_point() if len(found) else []
        for oid, d, t, g in zip(found["id"].astype(str), found["district_code"], found["town_code"], points,
                                strict=True):
            places[(layer, oid)] = (_opt(d), _opt(t), g)
    unknown_targets = sorted({f"{r['target_layer']}:{r['target_id']}" for r in rows
                              if (r["target_layer"], r["target_id"]) not in places})
    if unknown_targets:
        shown = ", ".join(unknown_targets[:5])
        raise AccessDenied(f"对象不存在或无权访问：{shown} (objects unknown or outside your area: {shown})")
    access = authorize(principal, grant, districts=sorted({p[0] for p in places.values() if p[0]}) or None,
                       towns=sorted({p[1] for p in places.values() if p[1]}) or None)
    for d, t, _g in places.values():
        access.require(d, t)
    for dep in sorted({r["department_id"] for r in rows if r.get("department_id")}):
        _check_department(store, dep)

    ids = _new_hazard_ids(store, len(rows), today)
    at = now_iso()
    records = []
    audit = []
    for hid, r in zip(ids, rows, strict=True):
        d, _t, _g = places[(r["target_layer"], r["target_id"])]
        rec = {**{c: r.get(c) for c in REGISTER_FIELDS}, "id": hid,
               "status": "open", "listed": False, "version": 0, "inspection_id": inspection_id,
               "district_code": d, "updated_at": at, "updated_by": principal.id}
        records.append(rec)
        changes = {k: (None, v) for k, v in rec.items()
                   if k not in ("id", "version", "updated_at", "updated_by") and v is not None}
        audit.append(audit_rows(principal.id, spec.name, HAZARDS, hid, changes, at=at))
    geoms = [places[(r["target_layer"], r["target_id"])][2] for r in rows]
    new = gpd.GeoDataFrame(pd.DataFrame(records).astype(object), geometry=geoms, crs="EPSG:4326")
    if tx is not None:
        tx.append(HAZARDS, new)
        write_audit(tx, pd.concat(audit, ignore_index=True))
        return ids
    with store.transaction() as own:
        own.append(HAZARDS, new)
        write_audit(own, pd.concat(audit, ignore_index=True))
    return ids


__all__ = ["STEPS", "Step", "DETAILS", "five_elements", "missing_elements", "allowed_steps", "apply_step",
           "register_hazards", "clean_value", "is_missing", "target_places", "authorize_target"]
