"""Enforcement (执法): orders on an enterprise, its state, and the blacklist for joint punishment.

Orders (:func:`issue_order`): suspension 停产停业整顿 sets the enterprise's status to ``suspended``; resumption
复产 is refused unless a check of that enterprise passed (验收合格, inspection result ``pass``) on or after the
latest suspension and the order names it; closure 依法关闭 (for illegal operation or a failed re-check) sets
``closed``, after which nothing is suspended or resumed again. Each order carries its document number (unique
per kind) and date. Orders need the ``enforce`` grant in the target's own area (a district leader in their
district); the blacklist needs ``ledger.city``. Every write goes with its audit rows in one transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import pandas as pd

from layers.access.policy import Principal, authorize
from layers.errors import StepRefused
from layers.ledger.audit import audit_rows, now_iso, write_audit
from layers.ledger.workflow import HAZARDS, authorize_target, clean_value, is_missing
from layers.schema import BLACKLIST_BASES, CLOSE_GROUNDS, LAYERS, ORDER_KINDS, label
from layers.store import Store

ORDERS = "orders"
BLACKLIST = "blacklist"
#: objects an order or a blacklist entry may name: businesses (enterprises, and venues such as KTV)
ORDER_LAYERS = ("enterprises", "venues")
#: the state an order leaves the enterprise in
STATE_OF_KIND = {"suspend": "suspended", "resume": "operating", "close": "closed"}
_STATE_LABELS = {"operating": ("在营", "operating"), "suspended": ("停产整顿中", "suspended"),
                 "closed": ("已关闭", "closed")}
#: the layer a blacklist basis id names, and the column of that layer that names the enterprise
_BASIS_LAYERS = {"order": ("orders", "target_id"), "accident": ("accidents", "enterprise_id"),
                 "hazard": ("hazards", "target_id")}
_STATE_COLUMNS = ["target_layer", "target_id", "state", "order_id", "doc_no", "since"]


def _new_id(prefix: str, day: date) -> str:
    return f"{prefix}{day:%Y%m%d}{secrets.token_hex(4).upper()}"


def _text(layer: str, name: str, value: Any, *, required: bool = False) -> str | None:
    text = clean_value(layer, name, value)
    if required and text is None:
        col = LAYERS[layer].column(name)
        raise StepRefused(f"需要填写「{col.zh}」 (the field \"{name}\" ({col.en}) is required)")
    return text


def _target_label(layer: str, oid: str) -> str:
    return f"{layer}:{oid}"


def _check_layer(target_layer: str) -> None:
    if target_layer not in ORDER_LAYERS:
        raise StepRefused(f"执法指令和黑名单只针对企业或场所，不针对 {target_layer!r} (orders and the blacklist name "
                          f"enterprises or venues, not {target_layer!r})")


def _orders_of(store: Store, target_layer: str, target_id: str) -> pd.DataFrame:
    """The orders of one target in the order they happened (date, then the order they were recorded)."""
    o = store.read(ORDERS, columns=["id", "target_layer", "target_id", "kind", "doc_no", "date"],
                   where={"target_id": str(target_id), "target_layer": target_layer})
    return o.reset_index(drop=True).sort_values("date", kind="stable")


def _state_from(orders: pd.DataFrame, status: str | None) -> tuple[str, pd.Series | None]:
    """The state the orders leave a target in (and the order that made it); the stored status without orders."""
    state, made = (status or "operating"), None
    for _, o in orders.iterrows():
        if state == "closed" and made is not None:
            break
        state, made = STATE_OF_KIND[o["kind"]], o
    return state, made


def _status_of(store: Store, target_layer: str, target_id: str) -> str | None:
    if target_layer != "enterprises":
        return None
    e = store.read("enterprises", columns=["id", "status"], ids=[str(target_id)])
    return None if len(e) == 0 or is_missing(e["status"].iloc[0]) else str(e["status"].iloc[0])


def _hazard_list(store: Store, target_layer: str, target_id: str, hazard_ids: str | Iterable[str] | None
                 ) -> list[str]:
    if hazard_ids is None or (isinstance(hazard_ids, str) and not hazard_ids.strip()):
        return []
    ids = [h.strip() for h in hazard_ids.split(",")] if isinstance(hazard_ids, str) else \
        [str(h).strip() for h in hazard_ids]
    ids = list(dict.fromkeys(h for h in ids if h))
    if not ids:
        return []
    found = store.read(HAZARDS, columns=["id", "target_layer", "target_id"], ids=ids)
    mine = set(found["id"][(found["target_layer"] == target_layer) & (found["target_id"] == str(target_id))])
    bad = [h for h in ids if h not in mine]
    if bad:
        raise StepRefused(f"隐患 {bad} 不存在或不属于 {_target_label(target_layer, target_id)} (hazards {bad} do not "
                          f"exist or are not of {_target_label(target_layer, target_id)})")
    return ids


def issue_order(store: Store, principal: Principal | None, target_layer: str, target_id: str, kind: str, *,
                doc_no: str, date: date | str, reason: str | None, ground: str | None = None,
                hazard_ids: str | Iterable[str] = (), check_id: str | None = None,
                department_id: str | None = None) -> str:
    """Issue an order on an enterprise (or venue); returns the order's id.

    ``kind`` is ``suspend``, ``resume`` or ``close``. Raises :class:`StepRefused` (nothing written) when the
    document number is missing or already used for this kind, the date is before the target's latest order, the
    target is closed, a suspension finds it suspended already, a resumption finds it not suspended or lacks a
    passed check on or after the suspension (``check_id``), or a closure lacks its ``ground``
    (``illegal``/``failed_recheck``); :class:`AccessDenied` outside the user's area.
    """
    if kind not in ORDER_KINDS:
        raise StepRefused(f"没有指令类型 {kind!r}，可选：{', '.join(ORDER_KINDS)} (no order kind {kind!r}; known: "
                          f"{', '.join(ORDER_KINDS)})")
    _check_layer(target_layer)
    target_id = str(target_id)
    authorize_target(store, principal, "enforce", target_layer, target_id)
    kind_zh, kind_en = ORDER_KINDS[kind]["zh"], ORDER_KINDS[kind]["en"]
    doc = _text(ORDERS, "doc_no", doc_no, required=True)
    day = clean_value(ORDERS, "date", date)
    if day is None:
        raise StepRefused("需要填写指令日期 (the order's date is required)")
    why = _text(ORDERS, "reason", reason, required=kind in ("suspend", "close"))
    if kind == "close":
        if ground not in CLOSE_GROUNDS:
            raise StepRefused(f"关闭需要依据：{'、'.join(g['zh'] for g in CLOSE_GROUNDS.values())} (a closure needs its "
                              f"ground: {', '.join(CLOSE_GROUNDS)})")
    elif ground is not None:
        raise StepRefused("只有关闭指令有关闭依据 (only a closure has a ground)")
    if kind != "resume" and not is_missing(check_id):
        raise StepRefused("只有复产指令引用验收检查 (only a resumption names a passed check)")
    dept = _text(ORDERS, "department_id", department_id)
    if dept is not None and len(store.read("departments", columns=["id"], ids=[dept])) == 0:
        raise StepRefused(f"没有部门 {dept} (there is no department {dept})")
    if len(store.read(ORDERS, columns=["id"], where={"kind": kind, "doc_no": doc})):
        raise StepRefused(f"{kind_zh}文书编号 {doc} 已被使用 (the document number {doc} is already used for a "
                          f"{kind_en.lower()} order)")
    hazards = _hazard_list(store, target_layer, target_id, hazard_ids)

    orders = _orders_of(store, target_layer, target_id)
    status = _status_of(store, target_layer, target_id)
    state, made = _state_from(orders, status)
    who = _target_label(target_layer, target_id)
    if len(orders) and day < orders["date"].max().date():
        last = orders["date"].max().date()
        raise StepRefused(f"指令日期 {day} 早于该对象最近一次指令的日期 {last} (the order's date {day} is before the "
                          f"target's latest order of {last})")
    if state == "closed":
        raise StepRefused(f"{who} 已依法关闭，不能再{kind_zh} ({who} is closed: no {kind_en.lower()} order any more)")
    check = None
    if kind == "suspend" and state == "suspended":
        raise StepRefused(f"{who} 已在停产整顿中 ({who} is already suspended)")
    if kind == "resume":
        if state != "suspended":
            raise StepRefused(f"{who} 没有停产整顿，无需复产 ({who} is not suspended: there is nothing to resume)")
        since = made["date"].date() if made is not None else None
        check = _passed_check(store, target_layer, target_id, check_id, since, day)

    order_id = _new_id("O", day)
    at = now_iso()
    new_state = STATE_OF_KIND[kind]
    row = {"id": order_id, "target_layer": target_layer, "target_id": target_id, "kind": kind, "doc_no": doc,
           "date": day, "reason": why, "ground": ground if kind == "close" else None,
           "hazard_ids": ",".join(hazards) or None, "check_id": check, "department_id": dept,
           "issued_by": principal.id}
    audit = [audit_rows(principal.id, f"order.{kind}", ORDERS, order_id,
                        {k: (None, v) for k, v in row.items() if k != "id" and v is not None}, at=at)]
    with store.transaction() as tx:
        tx.append(ORDERS, pd.DataFrame([row]).astype(object))
        if target_layer == "enterprises" and status != new_state:
            tx.update("enterprises", [target_id], {"status": new_state})
            audit.append(audit_rows(principal.id, f"order.{kind}", "enterprises", target_id,
                                    {"status": (status, new_state)}, note=f"{order_id} {doc}", at=at))
        write_audit(tx, pd.concat(audit, ignore_index=True))
    return order_id


def _passed_check(store: Store, target_layer: str, target_id: str, check_id: str | None, since: date | None,
                  day: date) -> str:
    """The id of the passed check a resumption rests on; :class:`StepRefused` when there is none."""
    after = f"（{since} 停产整顿之后）" if since else ""
    after_en = f" on or after the suspension of {since}" if since else ""
    if is_missing(check_id):
        raise StepRefused(f"复产需要停产整顿后验收合格的检查记录{after}，请先组织验收检查 (a resumption needs a passed "
                          f"check{after_en}: inspect first)")
    ins = store.read("inspections", columns=["id", "target_layer", "target_id", "date", "result"],
                     ids=[str(check_id)])
    if len(ins) == 0 or ins["target_layer"].iloc[0] != target_layer or str(ins["target_id"].iloc[0]) != target_id:
        raise StepRefused(f"检查记录 {check_id} 不存在或不是该对象的检查 (inspection {check_id} does not exist or is not "
                          "of this target)")
    i = ins.iloc[0]
    if i["result"] != "pass":
        raise StepRefused(f"检查记录 {check_id} 的结果不是合格，不能复产 (inspection {check_id} did not pass: no "
                          "resumption)")
    checked = i["date"].date() if not is_missing(i["date"]) else None
    if checked is None or (since is not None and checked < since):
        raise StepRefused(f"检查记录 {check_id}（{checked}）早于停产整顿（{since}），复产需要整顿之后的验收 (inspection "
                          f"{check_id} of {checked} is before the suspension of {since}: a resumption needs a check "
                          "after it)")
    if checked > day:
        raise StepRefused(f"复产日期 {day} 早于验收检查日期 {checked} (the resumption's date {day} is before the "
                          f"check of {checked})")
    return str(check_id)


def enterprise_state(store: Store, as_of: date) -> pd.DataFrame:
    """Targets suspended or closed on ``as_of``: columns target_layer, target_id, state (``suspended`` |
    ``closed``), order_id, doc_no, since (the order's date). A target without orders keeps its stored status
    (an enterprise imported as suspended or closed), with no order and no date."""
    o = store.read(ORDERS, columns=["id", "target_layer", "target_id", "kind", "doc_no", "date"])
    with_orders = set(zip(o["target_layer"], o["target_id"], strict=True))
    o = o[o["date"] <= pd.Timestamp(as_of)].reset_index(drop=True)
    o["seq"] = range(len(o))
    o = o.sort_values(["date", "seq"], kind="stable")
    keys = ["target_layer", "target_id"]
    closed = o[o["kind"] == "close"].groupby(keys, sort=False).head(1).assign(state="closed")
    last = o.groupby(keys, sort=False).tail(1)
    last = last[last["kind"] == "suspend"].assign(state="suspended")
    if len(closed):
        shut = set(zip(closed["target_layer"], closed["target_id"], strict=True))
        last = last[[k not in shut for k in zip(last["target_layer"], last["target_id"], strict=True)]]
    parts = [f.rename(columns={"id": "order_id", "date": "since"})[_STATE_COLUMNS]
             for f in (closed, last) if len(f)]
    e = store.read("enterprises", columns=["id", "status"], where={"status": ["suspended", "closed"]})
    e = e[[("enterprises", i) not in with_orders for i in e["id"]]]
    if len(e):
        parts.append(pd.DataFrame({"target_layer": "enterprises", "target_id": e["id"].to_numpy(),
                                   "state": e["status"].to_numpy(), "order_id": None, "doc_no": None,
                                   "since": pd.NaT}))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "since" else object)
                             for c in _STATE_COLUMNS})
    out = pd.concat([p.astype({"since": "datetime64[ns]"}).astype({c: object for c in _STATE_COLUMNS[:-1]})
                     for p in parts], ignore_index=True)
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def state_label(state: str, lang: str = "zh") -> str:
    """zh/en label of an enterprise state (operating, suspended, closed)."""
    zh, en = _STATE_LABELS.get(state, (state, state))
    return en if lang == "en" else zh


# --------------------------------------------------------------------------------------------------
# Blacklist
# --------------------------------------------------------------------------------------------------

def blacklist_add(store: Store, principal: Principal | None, target_layer: str, target_id: str, *, reason: str,
                  basis: str, basis_id: str, start_date: date | str, end_date: date | str | None = None) -> str:
    """Put a target on the blacklist (黑名单); returns the entry's id. ``basis`` (order, accident, hazard) and
    ``basis_id`` name the record behind it, which must be of this target."""
    _check_layer(target_layer)
    target_id = str(target_id)
    authorize_target(store, principal, "ledger.city", target_layer, target_id)
    why = _text(BLACKLIST, "reason", reason, required=True)
    if basis not in BLACKLIST_BASES:
        raise StepRefused(f"列入依据应为 {', '.join(BLACKLIST_BASES)} 之一 (the basis must be one of "
                          f"{', '.join(BLACKLIST_BASES)})")
    bid = _text(BLACKLIST, "basis_id", basis_id, required=True)
    layer, column = _BASIS_LAYERS[basis]
    rec = store.read(layer, columns=["id", column] + (["target_layer"] if layer != "accidents" else []), ids=[bid])
    same = len(rec) and str(rec[column].iloc[0]) == target_id and \
        (layer == "accidents" and target_layer == "enterprises" or
         layer != "accidents" and rec["target_layer"].iloc[0] == target_layer)
    if not same:
        raise StepRefused(f"{BLACKLIST_BASES[basis]['zh']} {bid} 不存在或不是 {_target_label(target_layer, target_id)} "
                          f"的记录 ({BLACKLIST_BASES[basis]['en'].lower()} {bid} does not exist or is not of "
                          f"{_target_label(target_layer, target_id)})")
    start = clean_value(BLACKLIST, "start_date", start_date)
    if start is None:
        raise StepRefused("需要填写列入日期 (the start date is required)")
    end = clean_value(BLACKLIST, "end_date", end_date)
    if end is not None and end < start:
        raise StepRefused(f"移出日期 {end} 早于列入日期 {start} (the end date {end} is before the start date {start})")
    mine = store.read(BLACKLIST, columns=["id", "target_layer", "basis", "basis_id", "removed"],
                      where={"target_id": target_id, "target_layer": target_layer})
    dup = mine[(mine["basis"] == basis) & (mine["basis_id"] == bid) & ~mine["removed"].fillna(False).astype(bool)]
    if len(dup):
        raise StepRefused(f"{_target_label(target_layer, target_id)} 已因 {bid} 列入黑名单（{dup['id'].iloc[0]}） "
                          f"({_target_label(target_layer, target_id)} is already on the blacklist for {bid}: "
                          f"{dup['id'].iloc[0]})")
    entry_id = _new_id("B", start)
    row = {"id": entry_id, "target_layer": target_layer, "target_id": target_id, "reason": why, "basis": basis,
           "basis_id": bid, "start_date": start, "end_date": end, "added_by": principal.id, "removed": False,
           "version": 0}
    audit = audit_rows(principal.id, "blacklist.add", BLACKLIST, entry_id,
                       {k: (None, v) for k, v in row.items() if k not in ("id", "version") and v is not None})
    with store.transaction() as tx:
        tx.append(BLACKLIST, pd.DataFrame([row]).astype(object))
        write_audit(tx, audit)
    return entry_id


def blacklist_remove(store: Store, principal: Principal | None, entry_id: str, expected_version: int,
                     reason: str) -> int:
    """Take an entry off the blacklist (it stays on record, marked removed); returns its new version.
    :class:`EditConflict` when the entry changed since ``expected_version``."""
    authorize(principal, "ledger.city")
    why = _text(BLACKLIST, "reason", reason, required=True)
    e = store.read(BLACKLIST, columns=["id", "target_layer", "target_id", "removed", "version"], ids=[str(entry_id)])
    if len(e) == 0:
        raise StepRefused(f"黑名单记录 {entry_id} 不存在 (blacklist entry {entry_id} does not exist)")
    r = e.iloc[0]
    authorize_target(store, principal, "ledger.city", str(r["target_layer"]), str(r["target_id"]))
    if not is_missing(r["removed"]) and bool(r["removed"]):
        raise StepRefused(f"黑名单记录 {entry_id} 已移出 (blacklist entry {entry_id} was already removed)")
    at = now_iso()
    audit = audit_rows(principal.id, "blacklist.remove", BLACKLIST, str(entry_id), {"removed": (False, True)},
                       note=why, at=at)
    with store.transaction() as tx:
        version = tx.update_versioned(BLACKLIST, str(entry_id), expected_version, {"removed": True})
        write_audit(tx, audit)
    return version


def blacklist_active(store: Store, as_of: date) -> pd.DataFrame:
    """Entries in force on ``as_of``: not removed, started on or before it, ending on or after it (or never)."""
    b = store.read(BLACKLIST)
    day = pd.Timestamp(as_of)
    keep = ~b["removed"].fillna(False).astype(bool) & (b["start_date"] <= day) & \
        (b["end_date"].isna() | (b["end_date"] >= day))
    return b[keep.to_numpy()].reset_index(drop=True)


#: the columns of the joint-punishment export, with their zh/en headers
EXPORT_COLUMNS: Mapping[str, tuple[str, str]] = {
    "name": ("名称", "Name"), "credit_code": ("统一社会信用代码", "Unified social credit code"),
    "target_layer": ("对象类型", "Object type"), "target_id": ("对象编号", "Object ID"),
    "district_code": ("区县代码", "District code"), "reason": ("列入原因", "Reason"),
    "basis": ("列入依据", "Basis"), "basis_id": ("依据编号", "Basis id"),
    "start_date": ("列入日期", "From"), "end_date": ("移出日期", "Until"),
}


def blacklist_export_rows(store: Store, principal: Principal | None, *, as_of: date, lang: str = "zh"
                          ) -> pd.DataFrame:
    """The blacklist in force on ``as_of`` for joint punishment (联合惩戒): name, credit code, district, reason,
    basis and dates, headed in ``lang`` (write it with :mod:`layers.export`, which keeps text from running as a
    formula). Needs the ``ledger.city`` grant."""
    authorize(principal, "ledger.city")
    b = blacklist_active(store, as_of)
    names = []
    for layer in ORDER_LAYERS:
        ids = b.loc[b["target_layer"] == layer, "target_id"].astype(str).unique().tolist()
        if ids:
            f = store.read(layer, columns=["id", "name", "credit_code", "district_code"], ids=ids)
            names.append(f.assign(target_layer=layer).rename(columns={"id": "target_id"}))
    info = pd.concat(names, ignore_index=True) if names else \
        pd.DataFrame(columns=["target_id", "name", "credit_code", "district_code", "target_layer"])
    out = b.merge(info.astype(object), on=["target_layer", "target_id"], how="left")
    out["target_layer"] = out["target_layer"].map(lambda v: LAYERS[v].en if lang == "en" else LAYERS[v].zh)
    out["basis"] = out["basis"].map(lambda v: label(BLACKLIST_BASES, v, lang) if not is_missing(v) else None)
    out = out.reindex(columns=list(EXPORT_COLUMNS))
    return out.rename(columns={k: (v[1] if lang == "en" else v[0]) for k, v in EXPORT_COLUMNS.items()})


__all__ = ["issue_order", "enterprise_state", "state_label", "blacklist_add", "blacklist_remove",
           "blacklist_active", "blacklist_export_rows", "ORDER_LAYERS", "STATE_OF_KIND"]
