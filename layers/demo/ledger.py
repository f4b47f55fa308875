"""The demo city's hazard ledger (隐患台账) as of :data:`~layers.demo.activity.AS_OF`.

:func:`build_ledger` takes the hazards, inspections, accidents and supervision links that
:mod:`layers.demo.activity` generated and makes the ledger around them consistent:

- hazards in every state (open, rectifying, awaiting check, closed and rejected with its reason), the five
  elements (五到位) with their details where the element is in place (responsible person, measures, funds in
  10k yuan, deadline, contingency plan) and missing otherwise; closed ones with checker, check date, evidence
  and closed date; the supervising (lead) department, the inspection that found the hazard, version, last
  change; hazards due within 7 days and overdue by 1-30, 31-90 and over 90 days;
- major hazards, some under listed supervision (挂牌督办: office, deadline, closing condition);
- every hazard's history in the audit log: register (version 0), then one version per step (list, start,
  submit, reject, close), one row per step (and the reason of each failed check), by the demo users (``t<town>`` registers, starts and
  submits; ``d<district>`` checks major hazards; ``admin`` lists), between the found date and AS_OF;
- enforcement orders: suspensions of enterprises with open major hazards (status "suspended"), resumptions
  after a passed re-check inspection (added on the day the hazard was closed; the order's ``check_id`` names
  it), closures for a failed re-check or illegal operation (status "closed"), with unique document numbers;
- a blacklist (closed enterprises, enterprises with fatal accidents), some entries ended;
- repeat offenders: enterprises with the same hazard type three times within a year;
- each department's responsibility list (权力责任清单), derived from the supervision links.

Vectorised over hazards (no Python loop per hazard): about 0.3 s at 5,000 enterprises, 2 s at 50,000.
The generator is its own stream (seeded from the city's seed), so the layers built before it are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from layers.demo.activity import ACCIDENT_ZH, AS_OF
from layers.demo.names import concat, make_ids, person_names
from layers.schema import CLOSE_GROUNDS, FIVE_IN_PLACE, GAS_STATION_KINDS, INDUSTRIES, VENUE_KINDS

#: the ledger's own random stream: ``default_rng([seed, LEDGER_STREAM])``
LEDGER_STREAM = 11

STATUSES = ("open", "rectifying", "awaiting_check", "closed", "rejected")
FIVE = tuple(FIVE_IN_PLACE)
#: detail column of each of the five elements
FIVE_DETAIL = {"resp_in_place": "responsible_person", "measures_in_place": "measures", "funds_in_place": "funds",
               "deadline_in_place": "deadline", "plan_in_place": "plan_ref"}
#: probability that each element is in place, per status (order as FIVE)
FIVE_P = {"open": (0.75, 0.6, 0.5, 0.93, 0.55), "rectifying": (0.93, 0.92, 0.8, 0.98, 0.85),
          "awaiting_check": (0.99, 0.99, 0.97, 1.0, 0.98), "rejected": (0.99, 0.99, 0.97, 1.0, 0.98),
          "closed": (0.99, 0.99, 0.97, 1.0, 0.98)}
#: overdue buckets: (name, days left when forced into it); the ledger's own bounds are in layers.ledger.deadlines
BUCKET_TARGETS = (("due_7", 3), ("overdue_1_30", -15), ("overdue_30_90", -60), ("overdue_90", -150))

MEASURES = ("立即停止相关作业，限期整改到位", "更换损坏设施，加强日常巡查", "制定专项整改方案，落实专人负责",
            "修订安全操作规程并组织全员培训", "增设安全警示标志，落实现场监护", "委托专业机构检测维修，整改后复查")
PLAN_KINDS = ("专项应急预案", "现场处置方案", "综合应急预案")
EVIDENCE = ("现场复查，隐患已整改到位，同意销号", "经复查，整改措施落实，资料齐全，同意销号",
            "验收合格：整改资金、措施落实到位，现场无同类问题")
REJECT_REASONS = ("整改不彻底，现场仍存在同类问题", "整改资料不全，缺少资金投入凭证", "整改措施与方案不符，需重新整改",
                  "复查发现隐患仍未消除")
LISTED_CONDITIONS = ("隐患整改完成并经验收合格后摘牌", "完成整改并经组织专家复核验收合格后摘牌",
                     "停产整改到位，经督办单位验收合格后摘牌")
CITY_OFFICE = "市安委办"
#: seconds of a working day on the ledger's clock (steps happen between 09:00 and 17:00)
WORK = 8 * 3600

# hazard workflow steps and the fields each writes to the audit log (one row per changed field)
REGISTER, LIST, START, SUBMIT, REJECT, CLOSE = range(6)
STEP_ACTION = ("register", "list", "start", "submit", "reject", "close")
#: one row per step (its state field) and the reason of each failed check, which the hazard keeps only for the
#: last one; what a close or a listing set besides is on the hazard, and its note names the checker or office
#: (a row per changed field would make the demo's log 600,000 rows at 50,000 enterprises, twice the store)
STEP_FIELDS = (("status",), ("listed",), ("status",), ("status",), ("status", "reject_reason"), ("status",))

ORDER_WORD = {"suspend": "责停", "resume": "复产", "close": "关闭"}
ORDER_REASON = {"resume": "经复查验收合格，准予恢复生产经营",
                "illegal": "非法违法生产经营，依法予以关闭", "failed_recheck": "停产停业整顿后复查仍不合格，依法予以关闭"}
BLACKLIST_YEARS = {"order": 3, "accident": 1}
_KIND_RANK = {"suspend": 0, "resume": 1, "close": 2}
#: the enterprise status an order leaves
_KIND_STATUS = {"suspend": "suspended", "resume": "operating", "close": "closed"}


@dataclass
class Ledger:
    hazards: pd.DataFrame          # the hazards frame, every ledger column filled
    inspections: pd.DataFrame      # with the re-check inspections added and "suspend" actions set
    enterprise_status: np.ndarray  # per enterprise (the objects' first rows), from the orders
    orders: pd.DataFrame
    blacklist: pd.DataFrame
    audit_log: pd.DataFrame
    department_duties: pd.DataFrame


def _day(ts) -> np.ndarray:
    return np.asarray(ts, dtype="datetime64[ns]").astype("datetime64[D]")


def _iso(days: np.ndarray) -> np.ndarray:
    out = np.datetime_as_string(days.astype("datetime64[D]"), unit="D").astype(object)
    out[np.isnat(days)] = None
    return out


def _weekday_back(days: np.ndarray) -> np.ndarray:
    """Saturday and Sunday moved back to the Friday before (inspections happen on weekdays)."""
    dow = (days.view("int64") - 4) % 7  # 0 = Monday
    return days - np.where(dow == 5, 1, np.where(dow == 6, 2, 0)).astype("timedelta64[D]")


def _pick(rng: np.random.Generator, options, n: int) -> np.ndarray:
    arr = np.asarray(options, dtype=object)
    return arr[rng.integers(0, len(arr), n)]


def _choose(rng: np.random.Generator, candidates: np.ndarray, share: float, *, at_least: int = 1) -> np.ndarray:
    """A random ``share`` of ``candidates`` (at least ``at_least`` of them where there are that many), sorted."""
    k = min(len(candidates), max(at_least, int(round(share * len(candidates)))))
    if k == 0:
        return candidates[:0]
    return np.sort(rng.choice(candidates, size=k, replace=False))


def build_ledger(rng: np.random.Generator, *, objects: pd.DataFrame, hazards: pd.DataFrame,
                 inspections: pd.DataFrame, accidents: pd.DataFrame, responsibilities: pd.DataFrame,
                 district_names: dict[str, str], n_enterprises: int) -> Ledger:
    """The ledger of the demo city (see module doc).

    ``objects`` is the activity frame of inspectable objects (layer, id, district_code, town_code, category,
    grade, status; the enterprises first, in their order); ``hazards`` comes from
    :func:`~layers.demo.activity.build_hazards` (with ``inspection_id``).
    """
    A = np.datetime64(AS_OF, "D")
    hz = hazards.reset_index(drop=True).copy()
    m = len(hz)
    o = pd.Index(objects["id"]).get_indexer(hz["target_id"])
    found = _day(hz["found_date"])
    age = (A - found).astype(np.int64)
    major = (hz["level"] == "major").to_numpy()
    is_ent = (hz["target_layer"] == "enterprises").to_numpy()

    _repeat_types(rng, hz, found, is_ent, A)

    # ---- states: some checks failed (rejected), some passed only at the second try
    status = hz["status"].to_numpy(dtype=object).copy()
    awaiting = np.flatnonzero(status == "awaiting_check")
    status[awaiting[rng.uniform(0, 1, len(awaiting)) < 0.35]] = "rejected"
    u = rng.uniform(0, 1, m)
    cycles = np.where(status == "rejected", np.where(u < 0.8, 1, 2),
                      np.where((status == "awaiting_check") & (u < 0.2), 1, np.where((status == "closed") & (u < 0.12), 1, 0)))
    closed_day = _day(hz["closed_date"])
    anchor = np.full(m, np.datetime64("NaT"), dtype="datetime64[D]")  # the day of the last step, when fixed

    # ---- enforcement (may fix a hazard's state and closing day)
    ent_status = objects["status"].to_numpy(dtype=object)[:n_enterprises].copy()
    ent_status[ent_status == "suspended"] = "operating"  # suspension comes from orders, below
    enf = _enforcement(rng, objects, hz, inspections, o, found, age, major, is_ent, status, cycles, closed_day,
                       anchor, ent_status, district_names, A)

    # ---- the five elements and their details
    five = {}
    for j, key in enumerate(FIVE):
        p = np.zeros(m)
        for s, probs in FIVE_P.items():
            p[status == s] = probs[j]
        five[key] = rng.uniform(0, 1, m) < p
    person = hz["responsible_person"].to_numpy(dtype=object).copy()
    person[~five["resp_in_place"]] = None
    measures = concat("针对“", hz["type"].to_numpy(dtype=object), "”：", _pick(rng, MEASURES, m))
    measures[~five["measures_in_place"]] = None
    funds = np.round(np.where(major, rng.lognormal(np.log(15.0), 0.8, m), rng.lognormal(np.log(0.8), 0.9, m)), 1)
    funds = np.maximum(funds, 0.1)
    funds[~five["funds_in_place"]] = np.nan
    plan = concat(_pick(rng, PLAN_KINDS, m), "（YA", found.astype("datetime64[Y]").astype(str).astype(object), "-",
                  hz["id"].str[-5:].to_numpy(dtype=object), "）")
    plan[~five["plan_in_place"]] = None
    deadline = _day(hz["deadline"])
    deadline[~five["deadline_in_place"]] = np.datetime64("NaT")
    _fill_buckets(rng, status, deadline, found, m, A)

    # ---- listed supervision of major hazards
    listed = major & (rng.uniform(0, 1, m) < np.where(status == "closed", 0.3, 0.5))
    open_major = np.flatnonzero(major & (status != "closed"))
    if len(open_major) and not (listed & (status != "closed")).any():
        listed[open_major[: min(2, len(open_major))]] = True
    dcode = hz["district_code"].to_numpy(dtype=object)
    city_office = rng.uniform(0, 1, m) < 0.4
    office = np.where(city_office, CITY_OFFICE,
                      concat(pd.Series(dcode).map(district_names).fillna("").to_numpy(dtype=object), "安委办"))
    office = np.where(listed, office, None).astype(object)
    l_deadline = np.where(np.isnat(deadline), found + np.timedelta64(90, "D"), deadline)
    l_deadline = np.where(listed, l_deadline, np.datetime64("NaT"))
    l_condition = np.where(listed, _pick(rng, LISTED_CONDITIONS, m), None).astype(object)

    # ---- the check: closed ones passed it; the history (paths, audit rows)
    closed = status == "closed"
    checker = np.where(closed, person_names(rng, m), None).astype(object)
    evidence = np.where(closed, _pick(rng, EVIDENCE, m), None).astype(object)
    closed_day = np.where(closed, closed_day, np.datetime64("NaT"))
    anchor = np.where(closed, closed_day, anchor)
    lead = responsibilities[responsibilities["lead"].to_numpy(dtype=bool)]
    department = hz["target_id"].map(pd.Series(lead["department_id"].to_numpy(), index=lead["target_id"]))
    town = objects["town_code"].to_numpy(dtype=object)[o]
    hist = _history(rng, status=status, cycles=cycles, listed=listed, found=found, anchor=anchor, major=major,
                    town=town, district=dcode, A=A)
    reject_reason = hist.pop("reject_reason")
    missing_note = _missing_note(five)

    hz["status"] = status
    for key in FIVE:
        hz[key] = five[key]
    hz["responsible_person"] = person
    hz["measures"] = measures
    hz["funds"] = funds
    hz["plan_ref"] = plan
    hz["deadline"] = deadline.astype("datetime64[ns]")
    hz["closed_date"] = closed_day.astype("datetime64[ns]")
    hz["department_id"] = department.to_numpy(dtype=object)
    hz["checker"] = checker
    hz["check_date"] = closed_day.astype("datetime64[ns]")
    hz["evidence"] = evidence
    hz["reject_reason"] = reject_reason
    hz["listed"] = listed
    hz["listed_office"] = office
    hz["listed_deadline"] = l_deadline.astype("datetime64[ns]")
    hz["listed_condition"] = l_condition
    hz["version"] = hist["version"]
    hz["updated_at"] = hist["updated_at"]
    hz["updated_by"] = hist["updated_by"]

    blacklist = _blacklist(rng, enf.closed_orders, accidents, A)
    audit_log = _audit_frame([_hazard_audit(hist, hz, missing_note), enf.audit, _blacklist_audit(blacklist)])
    return Ledger(hazards=hz, inspections=enf.inspections, enterprise_status=ent_status, orders=enf.orders,
                  blacklist=blacklist, audit_log=audit_log,
                  department_duties=department_duties(objects, responsibilities))


AUDIT_COLUMNS = ("at", "user_id", "action", "layer", "record_id", "field", "old_value", "new_value", "note")


def _audit_frame(parts: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """The audit log from its parts (columns as arrays), in time order, with ids in that order."""
    cols = {c: np.concatenate([np.asarray(p[c], dtype="datetime64[ns]" if c == "at" else object) for p in parts])
            for c in AUDIT_COLUMNS}
    order = np.argsort(cols["at"], kind="stable")
    # text columns stay object arrays: converting 600,000 rows x 8 columns to pandas' Arrow strings would cost
    # more than building them (the store writes either)
    data = {"id": pd.Series(make_ids("AU", len(order), 9), dtype=object)}
    data.update({c: v[order] if c == "at" else pd.Series(v[order], dtype=object) for c, v in cols.items()})
    return pd.DataFrame(data)


def _columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: frame[c].to_numpy(dtype="datetime64[ns]" if c == "at" else object) for c in AUDIT_COLUMNS}


# --------------------------------------------------------------------------------------------------
# Repeat offenders
# --------------------------------------------------------------------------------------------------

def _repeat_types(rng: np.random.Generator, hz: pd.DataFrame, found: np.ndarray, is_ent: np.ndarray,
                  A: np.datetime64) -> None:
    """Make sure some enterprises have the same hazard type three times within the last 365 days (the
    generator's repeat-prone targets usually do; a small city may have too few)."""
    recent = is_ent & (found > A - np.timedelta64(365, "D"))
    sub = hz.loc[recent, ["target_id", "type"]]
    have = int((sub.groupby(["target_id", "type"]).size() >= 3).sum())
    want = max(3, int(round(0.002 * len(hz))))
    if have >= want:
        return
    per = sub.groupby("target_id").size()
    cands = np.asarray(per.index[per.to_numpy() >= 3], dtype=object)
    pick = _choose(rng, cands, 1.0, at_least=0)[: want - have]
    rows = np.flatnonzero(recent & hz["target_id"].isin(set(pick)).to_numpy())
    first = hz.iloc[rows].groupby("target_id")["type"].transform("first")
    hz.loc[hz.index[rows], "type"] = first.to_numpy(dtype=object)


# --------------------------------------------------------------------------------------------------
# Deadlines
# --------------------------------------------------------------------------------------------------

def _fill_buckets(rng: np.random.Generator, status: np.ndarray, deadline: np.ndarray, found: np.ndarray, m: int,
                  A: np.datetime64) -> None:
    """At least a few unclosed hazards in each overdue bucket (deadlines moved, never before the found date)."""
    want = max(3, int(round(0.002 * m)))
    live = status != "closed"
    for _, days in BUCKET_TARGETS:
        left = (deadline - A).astype("timedelta64[D]").astype(np.int64)
        has = live & ~np.isnat(deadline)
        lo, hi = {3: (0, 7), -15: (-30, -1), -60: (-90, -31), -150: (-10_000, -91)}[days]
        inside = has & (left >= lo) & (left <= hi)
        short = want - int(inside.sum())
        if short <= 0:
            continue
        target = A + np.timedelta64(days, "D")
        cands = np.flatnonzero(has & ~inside & (found < target))
        pick = _choose(rng, cands, 0.0, at_least=short)
        deadline[pick] = target


# --------------------------------------------------------------------------------------------------
# Hazard history
# --------------------------------------------------------------------------------------------------

def _paths(status: np.ndarray, cycles: np.ndarray, listed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step codes of every hazard's history as a table (one row per path variant) and each hazard's row."""
    variants: dict[tuple, int] = {}
    table: list[list[int]] = []
    combo = np.empty(len(status), dtype=np.int64)
    keys = pd.DataFrame({"s": status, "c": cycles, "l": listed})
    for (s, c, li), idx in keys.groupby(["s", "c", "l"], sort=True).indices.items():
        path = [REGISTER] + ([LIST] if li else [])
        if s != "open":
            path.append(START)
        if s in ("awaiting_check", "rejected", "closed"):
            path.append(SUBMIT)
            path += [REJECT, SUBMIT] * (c - 1 if s == "rejected" else c)
            path.append({"awaiting_check": None, "rejected": REJECT, "closed": CLOSE}[s])
            path = [p for p in path if p is not None]
        variants[(s, c, li)] = len(table)
        table.append(path)
        combo[idx] = variants[(s, c, li)]
    width = max((len(p) for p in table), default=1)
    out = np.full((max(len(table), 1), width), -1, dtype=np.int64)
    for i, p in enumerate(table):
        out[i, : len(p)] = p
    return out, combo


def _history(rng: np.random.Generator, *, status, cycles, listed, found, anchor, major, town, district,
             A: np.datetime64) -> dict:
    """Every step of every hazard: code, time, user; the hazard's version, last change and reject reason."""
    m = len(status)
    table, combo = _paths(status, cycles, listed)
    k = (table[combo] >= 0).sum(axis=1)
    hz_idx = np.repeat(np.arange(m), k)
    starts = np.cumsum(k) - k
    pos = np.arange(len(hz_idx)) - starts[hz_idx]
    code = table[combo[hz_idx], pos]

    # times on a working clock (09:00-17:00 each day, weekends included: the ledger is kept every day)
    w0 = found.view(np.int64) * WORK + np.round(rng.uniform(0, WORK - 1800, m)).astype(np.int64)
    w_as_of = (A.view(np.int64) + 1) * WORK - 1800
    fixed = ~np.isnat(anchor)
    w_anchor = np.where(fixed, anchor.view(np.int64), 0) * WORK + np.round(rng.uniform(0, WORK - 1800, m)).astype(
        np.int64)
    w_free = w0 + (rng.uniform(0.05, 1.0, m) * (w_as_of - w0)).astype(np.int64)
    w_end = np.where(fixed, np.maximum(w_anchor, w0), w_free)
    # intermediate steps at sorted random points between the register and the last step, a minute apart
    frac = rng.uniform(0, 1, len(hz_idx))
    frac = frac[np.lexsort((frac, hz_idx))]
    last = pos == k[hz_idx] - 1
    w = w0[hz_idx] + (frac * (w_end - w0)[hz_idx]).astype(np.int64)
    w = np.where(last, w_end[hz_idx], w)
    w = np.where(pos == 0, w0[hz_idx], w) + pos * 60
    at = (w // WORK).astype("datetime64[D]").astype("datetime64[s]") + (9 * 3600 + w % WORK) * np.timedelta64(1, "s")
    # who: the town registers, starts and submits; major hazards are checked by the district; the city lists
    t_user = concat("t", town)
    d_user = concat("d", district)
    user = np.where(code == LIST, "admin", t_user[hz_idx])
    check = (code == CLOSE) | (code == REJECT)
    user = np.where(check & major[hz_idx], d_user[hz_idx], user).astype(object)
    reason = np.where(code == REJECT, _pick(rng, REJECT_REASONS, len(code)), None).astype(object)
    rj = np.flatnonzero(code == REJECT)
    last_reason = np.full(m, None, dtype=object)
    rev = rj[::-1]  # the last failure's reason: the first reject seen from the end
    who, first = np.unique(hz_idx[rev], return_index=True)
    last_reason[who] = reason[rev[first]]
    last_step = starts + k - 1
    return {"hz": hz_idx, "code": code, "at": at, "user": user, "reason": reason,
            "version": (k - 1).astype(np.int64), "updated_at": at[last_step].astype("datetime64[ns]"),
            "updated_by": user[last_step], "reject_reason": last_reason}


def _missing_note(five: dict[str, np.ndarray]) -> np.ndarray:
    """Per hazard: the note of its start step, naming the missing elements (None when all are in place)."""
    m = len(five[FIVE[0]])
    missing = pd.Series([""] * m, dtype=object)
    for key in FIVE:
        missing = missing + np.where(five[key], "", FIVE_IN_PLACE[key]["zh"] + "、")
    text = missing.str.rstrip("、")
    return np.where(text == "", None, "未到位：" + text).astype(object)


def _hazard_audit(hist: dict, hz: pd.DataFrame, missing_note: np.ndarray) -> dict[str, np.ndarray]:
    """One audit row per changed field of every step."""
    code, hz_idx = hist["code"], hist["hz"]
    nfields = np.array([len(f) for f in STEP_FIELDS])[code]
    step = np.repeat(np.arange(len(code)), nfields)
    fpos = np.arange(len(step)) - (np.cumsum(nfields) - nfields)[step]
    c = code[step]
    h = hz_idx[step]
    n = len(step)
    field = np.empty(n, dtype=object)
    old = np.full(n, None, dtype=object)
    new = np.full(n, None, dtype=object)
    note = np.full(n, None, dtype=object)
    prev_status = {REGISTER: None, START: "open", CLOSE: "awaiting_check", REJECT: "awaiting_check"}
    next_status = {REGISTER: "open", START: "rectifying", SUBMIT: "awaiting_check", REJECT: "rejected",
                   CLOSE: "closed"}
    # a submit follows a start (rectifying) or a failed check (rejected): the step before it says which
    prev_code = np.r_[-1, code[:-1]][step]
    cols = {name: hz[name].to_numpy(dtype=object) for name in ("listed_office", "listed_condition", "checker",
                                                              "evidence", "inspection_id")}
    iso = {name: _iso(hz[name].to_numpy(dtype="datetime64[ns]")) for name in ("listed_deadline", "check_date",
                                                                               "closed_date")}
    reason = hist["reason"][step]
    # the reason a reject replaced: the previous reject's of the same hazard (two steps back: reject, submit)
    back2 = np.r_[None, None, hist["reason"][:-2]].astype(object)[step]
    same2 = np.r_[False, False, hz_idx[2:] == hz_idx[:-2]][step]
    for cc, names in enumerate(STEP_FIELDS):
        for fp, name in enumerate(names):
            s = (c == cc) & (fpos == fp)
            if not s.any():
                continue
            field[s] = name
            if name == "status":
                if cc == SUBMIT:
                    old[s] = np.where(prev_code[s] == REJECT, "rejected", "rectifying")
                else:
                    old[s] = prev_status[cc]
                new[s] = next_status[cc]
            elif name == "listed":
                old[s], new[s] = "false", "true"
            elif name == "reject_reason":
                new[s] = reason[s]
                old[s] = np.where(same2[s], back2[s], None)
            elif name in iso:
                new[s] = iso[name][h[s]]
            else:
                new[s] = cols[name][h[s]]
    st = (c == START) & (fpos == 0)
    note[st] = missing_note[h[st]]
    cl = c == CLOSE
    note[cl] = concat("验收人：", cols["checker"][h[cl]])
    ls = c == LIST
    note[ls] = concat("督办单位：", cols["listed_office"][h[ls]])
    return {"at": hist["at"][step].astype("datetime64[ns]"), "user_id": hist["user"][step],
            "action": np.asarray(STEP_ACTION, dtype=object)[c], "layer": np.full(n, "hazards", dtype=object),
            "record_id": hz["id"].to_numpy(dtype=object)[h], "field": field, "old_value": old, "new_value": new,
            "note": note}


# --------------------------------------------------------------------------------------------------
# Enforcement: orders, re-check inspections, enterprise states
# --------------------------------------------------------------------------------------------------

@dataclass
class _Enforcement:
    orders: pd.DataFrame
    inspections: pd.DataFrame
    audit: dict[str, np.ndarray]
    closed_orders: pd.DataFrame  # close orders (the blacklist's basis)


def _enforcement(rng, objects, hz, inspections, o, found, age, major, is_ent, status, cycles, closed_day, anchor,
                 ent_status, district_names, A) -> _Enforcement:
    """Suspend enterprises with open major hazards, resume some after a passed re-check, close some (a failed
    re-check or illegal operation). Changes ``status``, ``cycles``, ``closed_day``, ``anchor`` and
    ``ent_status`` in place."""
    n_ent = len(ent_status)
    ent_o = np.where(is_ent, o, -1)
    operating = np.zeros(len(objects), bool)
    operating[:n_ent] = ent_status == "operating"
    sel = is_ent & major & operating[np.maximum(ent_o, 0)]
    frame = pd.DataFrame({"h": np.arange(len(hz)), "ent": ent_o, "found": found})

    def first_per_enterprise(mask: np.ndarray) -> pd.DataFrame:
        sub = frame[mask].sort_values(["ent", "found", "h"], kind="stable")
        return sub.drop_duplicates("ent")

    # suspended now: the first unclosed major hazard of the enterprise
    open_first = first_per_enterprise(sel & (status != "closed"))
    susp = open_first.iloc[_choose(rng, np.arange(len(open_first)), 0.6, at_least=min(2, len(open_first)))]
    # of those, some failed the re-check and were closed
    old = susp[age[susp["h"].to_numpy()] >= 20]
    fail = old.iloc[_choose(rng, np.arange(len(old)), 0.25, at_least=1 if len(susp) >= 3 else 0)]
    # resumed: the enterprise's first closed major hazard was closed on a passed re-check
    taken = set(susp["ent"])
    closed_first = first_per_enterprise(sel & (status == "closed"))
    closed_first = closed_first[~closed_first["ent"].isin(taken)]
    res = closed_first.iloc[_choose(rng, np.arange(len(closed_first)), 0.5, at_least=min(2, len(closed_first)))]

    ins = inspections
    ins_index = pd.Index(ins["id"])
    action = ins["action"].to_numpy(dtype=object).copy()
    hz_ins = hz["inspection_id"].to_numpy(dtype=object)
    suspend_h = np.r_[susp["h"].to_numpy(), res["h"].to_numpy()].astype(np.int64)
    action[ins_index.get_indexer(hz_ins[suspend_h])] = "suspend"  # the inspection that found it ordered it

    rows = []  # (kind, ent object index, date, hazard index or -1, ground, check_id)
    s_day = found[suspend_h]
    for h, d in zip(suspend_h.tolist(), s_day, strict=True):
        rows.append(("suspend", int(ent_o[h]), d, h, None, None))
    # failed re-check: the hazard's check failed (rejected) and the enterprise was closed a few days later
    fh = fail["h"].to_numpy(dtype=np.int64)
    if len(fh):
        # the failed check: 8 days after the finding at the earliest, 4 days before AS_OF at the latest
        r = found[fh] + (8 + np.floor(rng.uniform(0, 1, len(fh)) * (age[fh] - 12))).astype("timedelta64[D]")
        status[fh] = "rejected"
        cycles[fh] = 1
        anchor[fh] = r
        c_day = np.minimum(r + rng.integers(3, 11, len(fh)).astype("timedelta64[D]"), A)
        for h, d in zip(fh.tolist(), c_day, strict=True):
            rows.append(("close", int(ent_o[h]), d, h, "failed_recheck", None))
    # resumed: a re-check inspection (pass) on the (weekday) closing day, the resumption a few days later
    rh = res["h"].to_numpy(dtype=np.int64)
    new_ins = ins.iloc[:0]
    if len(rh):
        v = np.maximum(_weekday_back(closed_day[rh]), found[rh])
        closed_day[rh] = v
        base = ins.iloc[ins_index.get_indexer(hz_ins[rh])]
        m0 = len(ins)
        width = max(8, len(str(m0 + len(rh))))
        new_ins = pd.DataFrame({
            "id": np.array([f"INS{m0 + 1 + j:0{width}d}" for j in range(len(rh))], dtype=object),
            "target_layer": "enterprises", "target_id": hz["target_id"].to_numpy(dtype=object)[rh],
            "date": v.astype("datetime64[ns]"), "team_id": base["team_id"].to_numpy(dtype=object),
            "result": "pass", "hazards_found": np.zeros(len(rh), dtype=np.int64), "action": "none",
            "plan_id": np.full(len(rh), None, dtype=object)})
        r_day = np.minimum(v + rng.integers(0, 6, len(rh)).astype("timedelta64[D]"), A)
        for h, d, cid in zip(rh.tolist(), r_day, new_ins["id"], strict=True):
            rows.append(("resume", int(ent_o[h]), d, h, None, cid))
    # enterprises already closed: illegal operation, closed a few days after their last inspection
    closed_e = np.flatnonzero(ent_status == "closed")
    if len(closed_e):
        ent_ins = ins[ins["target_layer"] == "enterprises"]
        last = ent_ins.groupby("target_id")["date"].max()
        ids = objects["id"].to_numpy(dtype=object)[closed_e]
        last_day = _day(last.reindex(ids).to_numpy())
        rand_day = A - rng.integers(30, 700, len(closed_e)).astype("timedelta64[D]")
        c_day = np.where(np.isnat(last_day), rand_day,
                         np.minimum(last_day + rng.integers(1, 21, len(closed_e)).astype("timedelta64[D]"), A))
        for e, d in zip(closed_e.tolist(), c_day, strict=True):
            rows.append(("close", e, d, -1, "illegal", None))
    inspections = pd.concat([ins.assign(action=action), new_ins], ignore_index=True) if len(new_ins) else \
        ins.assign(action=action)

    orders, audit = _orders(rng, rows, objects, hz, district_names)
    # enterprise state: the last order's
    for kind, e, _d, _h, _g, _c in sorted(rows, key=lambda r: (r[2], _KIND_RANK[r[0]])):
        ent_status[e] = _KIND_STATUS[kind]
    return _Enforcement(orders=orders, inspections=inspections, audit=audit,
                        closed_orders=orders[orders["kind"] == "close"])


def _orders(rng, rows, objects, hz, district_names) -> tuple[pd.DataFrame, pd.DataFrame]:
    cols = ["id", "target_layer", "target_id", "kind", "doc_no", "date", "reason", "ground", "hazard_ids",
            "check_id", "department_id", "issued_by"]
    if not rows:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in cols}).astype({"date": "datetime64[ns]"})
        return empty, _columns(pd.DataFrame({c: pd.Series(dtype=object) for c in AUDIT_COLUMNS}))
    f = pd.DataFrame(rows, columns=["kind", "e", "date", "h", "ground", "check_id"])
    f["date"] = pd.to_datetime(f["date"].to_numpy(dtype="datetime64[D]")).astype("datetime64[ns]")
    f["rank"] = f["kind"].map(_KIND_RANK)
    f = f.sort_values(["date", "rank", "e"], kind="stable").reset_index(drop=True)
    e = f["e"].to_numpy()
    dcode = objects["district_code"].to_numpy(dtype=object)[e]
    f["target_id"] = objects["id"].to_numpy(dtype=object)[e]
    h = f["h"].to_numpy()
    types = hz["type"].to_numpy(dtype=object)
    hids = hz["id"].to_numpy(dtype=object)
    f["hazard_ids"] = np.where(h >= 0, hids[np.maximum(h, 0)], None)
    suspend_reason = concat("存在重大事故隐患（", types[np.maximum(h, 0)], "），责令停产停业整顿")
    f["reason"] = np.where(f["kind"] == "suspend", suspend_reason,
                           np.where(f["kind"] == "resume", ORDER_REASON["resume"],
                                    f["ground"].map(ORDER_REASON).fillna("")))
    year = f["date"].dt.year.to_numpy()
    seq = f.assign(d=dcode, y=year).groupby(["d", "kind", "y"], sort=False).cumcount().to_numpy() + 1
    dname = pd.Series(dcode).map(district_names).fillna("").to_numpy(dtype=object)
    f["doc_no"] = concat("（", dname, "）应急", f["kind"].map(ORDER_WORD).to_numpy(dtype=object), "〔",
                         year.astype(str).astype(object), "〕", seq.astype(str).astype(object), "号")
    f["id"] = make_ids("ORD", len(f), 6)
    f["target_layer"] = "enterprises"
    f["department_id"] = concat("DEPT-EM-", dcode)
    f["issued_by"] = concat("d", dcode)
    orders = f[cols].copy()
    # audit: the order itself and the enterprise's status it changed
    prev = {}
    old_status = []
    for kind, target in zip(f["kind"], f["target_id"], strict=True):
        old_status.append(prev.get(target, "operating"))
        prev[target] = _KIND_STATUS[kind]
    hours = 9 + 3 * f["rank"].to_numpy() + rng.uniform(0, 2.5, len(f))  # a suspension before a same-day resumption
    at = (f["date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[s]")
          + np.round(hours * 3600).astype(np.int64) * np.timedelta64(1, "s"))
    a1 = pd.DataFrame({"at": at, "user_id": f["issued_by"].to_numpy(dtype=object), "action": f["kind"].to_numpy(),
                       "layer": "orders", "record_id": f["id"].to_numpy(dtype=object), "field": None,
                       "old_value": None, "new_value": f["doc_no"].to_numpy(dtype=object),
                       "note": f["reason"].to_numpy(dtype=object)})
    a2 = pd.DataFrame({"at": at + np.timedelta64(1, "s"), "user_id": f["issued_by"].to_numpy(dtype=object),
                       "action": f["kind"].to_numpy(), "layer": "enterprises",
                       "record_id": f["target_id"].to_numpy(dtype=object), "field": "status",
                       "old_value": np.array(old_status, dtype=object),
                       "new_value": f["kind"].map(_KIND_STATUS).to_numpy(dtype=object),
                       "note": f["doc_no"].to_numpy(dtype=object)})
    audit = pd.concat([a1, a2], ignore_index=True)
    audit["at"] = audit["at"].astype("datetime64[ns]")
    return orders, _columns(audit)


# --------------------------------------------------------------------------------------------------
# Blacklist
# --------------------------------------------------------------------------------------------------

def _blacklist(rng, closed_orders: pd.DataFrame, accidents: pd.DataFrame, A) -> pd.DataFrame:
    """Closed enterprises (basis: the close order) and enterprises with a fatal accident (basis: the accident);
    an entry lasts 3 years (order) or 1 year (accident); some ended, a few removed early after credit repair."""
    fatal = accidents[accidents["deaths"].to_numpy() > 0]
    n_o, n_a = len(closed_orders), len(fatal)
    o_start = _day(closed_orders["date"])
    a_start = np.minimum(_day(fatal["date"]) + rng.integers(15, 46, n_a).astype("timedelta64[D]"), A)
    ground = closed_orders["ground"].map({k: v["zh"] for k, v in CLOSE_GROUNDS.items()}).fillna("").to_numpy(dtype=object)
    kinds = fatal["kind"].map(ACCIDENT_ZH).fillna("").to_numpy(dtype=object)
    f = pd.DataFrame({
        "target_layer": "enterprises",
        "target_id": np.r_[closed_orders["target_id"].to_numpy(dtype=object), fatal["enterprise_id"].to_numpy(dtype=object)],
        "reason": np.r_[concat("被依法关闭（", ground, "），文书 ", closed_orders["doc_no"].to_numpy(dtype=object)),
                        concat("发生", kinds, "事故，造成", fatal["deaths"].astype(str).to_numpy(dtype=object), "人死亡")],
        "basis": np.r_[np.full(n_o, "order", dtype=object), np.full(n_a, "accident", dtype=object)],
        "basis_id": np.r_[closed_orders["id"].to_numpy(dtype=object), fatal["id"].to_numpy(dtype=object)],
        "start": np.r_[o_start, a_start],
    })
    years = f["basis"].map(BLACKLIST_YEARS).to_numpy()
    end = f["start"].to_numpy() + (years * 365).astype("timedelta64[D]")
    ended = end <= A
    removed = np.zeros(len(f), bool)
    # credit repair: some active entries older than half a year were removed early
    early = np.flatnonzero(~ended & (f["start"].to_numpy() < A - np.timedelta64(180, "D")))
    early = _choose(rng, early, 0.3, at_least=1 if len(f) >= 3 else 0)
    removed[early] = True
    end[early] = np.minimum(f["start"].to_numpy()[early] + rng.integers(180, 365, len(early)).astype("timedelta64[D]"),
                            A - np.timedelta64(1, "D"))
    if len(f) >= 2 and not (end <= A).any():  # at least one entry ended
        i = int(np.argmin(f["start"].to_numpy()))
        end[i] = max(f["start"].to_numpy()[i] + np.timedelta64(1, "D"), A - np.timedelta64(1, "D"))
        end[i] = min(end[i], A)
        removed[i] = True
    f = f.assign(end=end, removed=removed).sort_values(["start", "basis", "basis_id"], kind="stable")
    f = f.reset_index(drop=True)
    return pd.DataFrame({
        "id": make_ids("BL", len(f), 5), "target_layer": f["target_layer"].to_numpy(dtype=object),
        "target_id": f["target_id"].to_numpy(dtype=object), "reason": f["reason"].to_numpy(dtype=object),
        "basis": f["basis"].to_numpy(dtype=object), "basis_id": f["basis_id"].to_numpy(dtype=object),
        "start_date": f["start"].to_numpy().astype("datetime64[ns]"),
        "end_date": f["end"].to_numpy().astype("datetime64[ns]"), "added_by": "admin",
        "removed": f["removed"].to_numpy(dtype=bool),
        "version": f["removed"].to_numpy(dtype=bool).astype(np.int64)})


def _blacklist_audit(bl: pd.DataFrame) -> dict[str, np.ndarray]:
    if len(bl) == 0:
        return _columns(pd.DataFrame({c: pd.Series(dtype=object) for c in AUDIT_COLUMNS}))
    sec = np.timedelta64(1, "s")
    start = bl["start_date"].to_numpy().astype("datetime64[s]") + 10 * 3600 * sec
    add = pd.DataFrame({"at": start, "user_id": "admin", "action": "blacklist_add", "layer": "blacklist",
                        "record_id": bl["id"].to_numpy(dtype=object), "field": None, "old_value": None,
                        "new_value": bl["reason"].to_numpy(dtype=object),
                        "note": concat(bl["basis"].to_numpy(dtype=object), " ", bl["basis_id"].to_numpy(dtype=object))})
    rm = bl[bl["removed"].to_numpy(dtype=bool)]
    out = pd.DataFrame({"at": rm["end_date"].to_numpy().astype("datetime64[s]") + 11 * 3600 * sec,
                        "user_id": "admin", "action": "blacklist_remove", "layer": "blacklist",
                        "record_id": rm["id"].to_numpy(dtype=object), "field": "removed", "old_value": "false",
                        "new_value": "true", "note": "信用修复，提前移出"})
    f = pd.concat([add, out], ignore_index=True)
    f["at"] = f["at"].astype("datetime64[ns]")
    return _columns(f)


# --------------------------------------------------------------------------------------------------
# Responsibility lists
# --------------------------------------------------------------------------------------------------

_LAYER_WORD = {"venues": "人员密集场所", "gas_stations": "燃气场站", "bridges": "桥梁", "tunnels": "隧道"}


def department_duties(objects: pd.DataFrame, responsibilities: pd.DataFrame) -> pd.DataFrame:
    """Each department's responsibility list: the (object layer, industry) pairs its supervision links cover,
    led or assisted. Enterprises are listed by industry; the other layers as a whole (the duty names the
    kinds: the list's industry column holds industries only)."""
    idx = pd.Index(objects["id"]).get_indexer(responsibilities["target_id"])
    layer = objects["layer"].to_numpy(dtype=object)[idx]
    cat = objects["category"].to_numpy(dtype=object)[idx]
    ind = np.where(layer == "enterprises", cat, None)
    f = pd.DataFrame({"department_id": responsibilities["department_id"].to_numpy(dtype=object), "target_layer": layer,
                      "industry": pd.Series(ind, dtype=object).fillna(""), "cat": cat,
                      "lead": responsibilities["lead"].to_numpy(dtype=bool)})
    keys = ["department_id", "target_layer", "industry"]
    agg = f.groupby(keys, sort=True)["lead"].any().reset_index()
    kinds = f.drop_duplicates(keys + ["cat"]).sort_values("cat").groupby(keys, sort=True)["cat"].agg(tuple)
    agg["cats"] = kinds.to_numpy()
    names = {**{k: v["zh"] for k, v in VENUE_KINDS.items()}, **{k: v["zh"] for k, v in GAS_STATION_KINDS.items()}}
    duty = []
    for lay, ind_, lead, cats in zip(agg["target_layer"], agg["industry"], agg["lead"], agg["cats"], strict=True):
        role = "牵头监管" if lead else "配合监管"
        if lay == "enterprises":
            duty.append(f"{INDUSTRIES[ind_]['zh']}企业安全生产{role}")
        elif lay in ("venues", "gas_stations"):
            kinds = "、".join(names.get(c, c) for c in cats)
            duty.append(f"{_LAYER_WORD[lay]}（{kinds}）安全{role}")
        else:
            duty.append(f"{_LAYER_WORD[lay]}结构安全{role}")
    return pd.DataFrame({"id": make_ids("DD", len(agg), 4), "department_id": agg["department_id"].to_numpy(dtype=object),
                         "target_layer": agg["target_layer"].to_numpy(dtype=object),
                         "industry": agg["industry"].where(agg["industry"] != "", None).to_numpy(dtype=object),
                         "duty": np.array(duty, dtype=object)})
