"""What happened in the demo city: two years of inspections, hazards, accidents, supervision links.

All vectorised over the objects (enterprises, venues, gas stations, bridges, tunnels). The gaps are real and
deliberate: objects never inspected, major enterprises overdue, two under-inspected towns, a remote area
nobody visits, hazards past their deadline, repeated hazards and accidents, objects without a supervising
department, with several and no lead, with no officer.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from layers.demo.names import make_ids, person_names

AS_OF = date(2026, 11, 28)
DAYS = 730  # two years of records

#: expected inspections in two years
GRADE_RATE = {"major": 12.0, "high": 4.5, "moderate": 2.4, "low": 1.6}
KIND_RATE = {"ktv": 2.5, "foot_massage": 2.5, "bar": 2.2, "mall": 2.2, "cinema": 2.0, "stadium": 2.0,
             "school": 2.2, "hospital": 2.2, "market": 1.4, "hotel": 1.3,
             "gate": 6.0, "storage": 6.0, "regulator": 3.0, "filling": 3.0, "fuel": 2.5,
             "bridge": 2.0, "tunnel": 3.0}
EVENING_KINDS = ("ktv", "foot_massage", "bar")

HAZARD_TYPES = {
    "hazchem": ("危化品超量储存", "储罐区防火堤破损", "可燃气体报警器失效", "动火作业未审批", "特殊作业未落实监护"),
    "mining": ("边坡未按设计放坡", "爆破器材管理不规范", "排土场无监测"),
    "metallurgy": ("煤气区域未设报警", "高温熔融金属吊运不合规", "设备防护罩缺失"),
    "industry_trade": ("粉尘防爆措施缺失", "有限空间作业未审批", "设备防护罩缺失", "电气线路私拉乱接", "安全警示标志缺失"),
    "construction": ("脚手架搭设不规范", "深基坑未监测", "临边防护缺失", "塔吊限位失效", "特种作业人员无证上岗"),
    "fireworks": ("超量储存", "仓库防雷设施失效", "违规销售"),
    "transport": ("车辆动态监控失效", "驾驶员超时驾驶", "危货车辆未按规定路线行驶"),
    "fire_key_unit": ("消防通道堵塞", "安全出口锁闭", "消防设施损坏", "电动自行车违规充电", "应急照明失效"),
    "gas": ("燃气泄漏报警器失效", "钢瓶超期未检", "管道腐蚀", "违规存放液化气"),
    "venue": ("安全出口锁闭", "疏散通道堵塞", "消防设施损坏", "超员经营", "电气线路私拉乱接"),
    "gas_station": ("燃气泄漏报警器失效", "调压设备超期未检", "静电接地失效", "防爆电器损坏"),
    "structure": ("支座病害", "伸缩缝破损", "结构裂缝", "护栏损坏", "排水不畅"),
}
ACCIDENT_KINDS_BY_INDUSTRY = {
    "hazchem": (("explosion", 0.3), ("poisoning", 0.35), ("fire", 0.35)),
    "mining": (("collapse", 0.5), ("machinery", 0.3), ("explosion", 0.2)),
    "metallurgy": (("machinery", 0.5), ("fire", 0.2), ("poisoning", 0.3)),
    "industry_trade": (("machinery", 0.5), ("electrocution", 0.2), ("fire", 0.2), ("fall", 0.1)),
    "construction": (("fall", 0.55), ("collapse", 0.3), ("electrocution", 0.15)),
    "fireworks": (("explosion", 0.8), ("fire", 0.2)),
    "transport": (("traffic", 1.0),),
    "fire_key_unit": (("fire", 0.8), ("fall", 0.2)),
    "gas": (("explosion", 0.5), ("poisoning", 0.3), ("fire", 0.2)),
}
ACCIDENT_WEIGHT = {"hazchem": 5.0, "mining": 6.0, "metallurgy": 4.0, "industry_trade": 1.5, "construction": 6.0,
                   "fireworks": 5.0, "transport": 5.0, "fire_key_unit": 1.0, "gas": 3.0}
ACCIDENT_ZH = {"fire": "火灾", "explosion": "爆炸", "poisoning": "中毒窒息", "fall": "高处坠落", "collapse": "坍塌",
               "machinery": "机械伤害", "electrocution": "触电", "traffic": "交通事故"}

#: lead department and co-departments per object category
LEAD = {
    "hazchem": ("DEPT-EM", ("DEPT-FR",)), "mining": ("DEPT-EM", ("DEPT-EI",)),
    "fireworks": ("DEPT-EM", ("DEPT-PS",)), "metallurgy": ("DISTRICT-EM", ("DEPT-EI",)),
    "industry_trade": ("DISTRICT-EM", ("DEPT-EI", "DEPT-MR")), "construction": ("DEPT-HC", ()),
    "transport": ("DEPT-TR", ("DEPT-PS",)), "fire_key_unit": ("DEPT-FR", ("DEPT-CO",)),
    "gas": ("DEPT-GAS", ("DEPT-MR",)),
    "ktv": ("DEPT-CT", ("DEPT-FR", "DEPT-PS")), "foot_massage": ("DEPT-CO", ("DEPT-FR", "DEPT-PS")),
    "bar": ("DEPT-CT", ("DEPT-FR",)), "mall": ("DEPT-CO", ("DEPT-FR",)), "cinema": ("DEPT-CT", ("DEPT-FR",)),
    "stadium": ("DEPT-CT", ("DEPT-FR",)), "school": ("DEPT-ED", ("DEPT-FR",)), "hospital": ("DEPT-HE", ("DEPT-FR",)),
    "market": ("DEPT-MR", ("DEPT-FR",)), "hotel": ("DEPT-PS", ("DEPT-CT", "DEPT-FR")),
    "gate": ("DEPT-GAS", ()), "storage": ("DEPT-GAS", ("DEPT-FR",)), "regulator": ("DEPT-GAS", ()),
    "filling": ("DEPT-GAS", ("DEPT-CO",)), "fuel": ("DEPT-CO", ("DEPT-EM",)),
    "bridge": ("DEPT-TR", ("DEPT-WA",)), "tunnel": ("DEPT-TR", ()),
}


def _isin(values: np.ndarray, options) -> np.ndarray:
    """Element-wise membership for object arrays (hash based: np.isin sorts objects, slowly)."""
    return pd.Series(values, dtype=object).isin(list(options)).to_numpy()


def _dates(offsets: np.ndarray) -> np.ndarray:
    """Day offsets from the start of the two-year window -> datetime64[D], weekends moved to weekdays."""
    start = np.datetime64(AS_OF) - np.timedelta64(DAYS - 1, "D")
    d = start + offsets.astype("timedelta64[D]")
    dow = (d.astype("datetime64[D]").view("int64") - 4) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    d = d - np.where(dow == 5, 1, 0).astype("timedelta64[D]") + np.where(dow == 6, 1, 0).astype("timedelta64[D]")
    return np.minimum(d, np.datetime64(AS_OF))


def build_inspections(rng: np.random.Generator, objects: pd.DataFrame, teams: pd.DataFrame,
                      under_towns: list[str], remote_mask: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Inspections over two years ending on :data:`AS_OF`; returns the frame and the object index per row.

    ``objects`` has columns layer, id, district_code, town_code, category, grade (or None), kind.
    """
    n = len(objects)
    grade = objects["grade"].to_numpy()
    cat = objects["category"].to_numpy()
    rate = _rates(grade, cat)
    status = objects["status"].to_numpy()
    rate = np.where(status == "closed", rate * 0.3, rate)
    town = objects["town_code"].to_numpy()
    rate = np.where(_isin(town, under_towns), rate * 0.12, rate)
    # never inspected: low grades far more often, some major ones too
    p_never = np.where(grade == "low", 0.08, np.where(grade == "moderate", 0.06, np.where(grade == "high", 0.03,
                       np.where(grade == "major", 0.015, 0.05))))
    never = (rng.uniform(0, 1, n) < p_never) | remote_mask
    counts = np.where(never, 0, rng.poisson(rate))
    counts = np.where(~never & (grade == "major") & (counts == 0), 1, counts)
    # window per object: some major ones stopped being visited a while ago (overdue)
    end = np.full(n, DAYS - 1)
    overdue = (grade == "major") & (rng.uniform(0, 1, n) < 0.2)
    end = np.where(overdue, DAYS - 1 - rng.integers(60, 260, n), end)
    obj = np.repeat(np.arange(n), counts)
    m = len(obj)
    offsets = np.floor(rng.uniform(0, 1, m) * (end[obj] + 1)).astype(np.int64)
    dates = _dates(offsets)
    order = np.lexsort((dates, obj))
    obj, dates = obj[order], dates[order]

    # teams: evening teams for KTV / foot massage / bars in their districts, else a district team,
    # specialist teams for hazchem/mining/gas/structures part of the time
    tdist = teams["district_scope"].to_numpy()
    tid = teams["id"].to_numpy()
    skills = teams["skills"].to_numpy()
    day_team = {}
    for code in sorted({c for c in tdist if isinstance(c, str)}):
        day_team[code] = [t for t, c, s in zip(tid, tdist, teams["shift_start"], strict=True)
                          if c == code and s == "08:30"]
    evening = {c: t for t, c, s in zip(tid, tdist, teams["shift_start"], strict=True) if s == "18:00"}
    spec_hazchem = [t for t, c, s in zip(tid, tdist, skills, strict=True) if not isinstance(c, str) and "hazchem" in s]
    spec_gas = [t for t, c, s in zip(tid, tdist, skills, strict=True) if not isinstance(c, str) and "gas" in s]
    codes = sorted(day_team)
    dcode = objects["district_code"].to_numpy()[obj]
    di = np.searchsorted(codes, dcode)
    team_a = np.array([day_team[c][0] for c in codes], dtype=object)
    team_b = np.array([day_team[c][1 % len(day_team[c])] for c in codes], dtype=object)
    ocat = cat[obj]
    pick_b = _isin(ocat, ["construction", "transport", "gas", "fire_key_unit", "bridge", "tunnel", "school",
                            "hospital", "mall", "cinema", "stadium", "hotel", "market", "regulator", "gate",
                            "storage", "filling", "fuel"])
    pick_b = pick_b ^ (rng.uniform(0, 1, m) < 0.15)
    team = np.where(pick_b, team_b[di], team_a[di])
    u = rng.uniform(0, 1, m)
    if spec_hazchem:
        team = np.where(_isin(ocat, ["hazchem", "mining", "fireworks"]) & (u < 0.3), spec_hazchem[0], team)
    if spec_gas:
        team = np.where(_isin(ocat, ["gate", "storage", "regulator", "bridge", "tunnel"]) & (u < 0.5),
                        spec_gas[0], team)
    eve = _isin(ocat, EVENING_KINDS)
    ev_team = np.array([evening.get(c) for c in codes], dtype=object)[di]
    team = np.where(eve & (ev_team != None) & (u < 0.8), ev_team, team)  # noqa: E711

    # results
    r = rng.uniform(0, 1, m)
    closed_door_p = np.where(eve & (team != ev_team), 0.3, 0.04)
    hazard_p = np.where(_isin(grade[obj], ["major", "high"]), 0.45, 0.3)
    # codes into small object arrays: a million rows share a handful of str objects
    result_code = np.where(r < closed_door_p, 2, np.where(r < closed_door_p + hazard_p, 1, 0))
    result = np.array(["pass", "hazards_found", "closed_door"], dtype=object)[result_code]
    found = np.where(result_code == 1, rng.geometric(0.6, m), 0).astype(np.int64)
    a = rng.uniform(0, 1, m)
    action_code = np.where(result_code != 1, 0, np.where(a < 0.80, 1, np.where(a < 0.95, 2, np.where(a < 0.99, 3, 4))))
    action = np.array(["none", "order_rectify", "fine", "suspend", "close"], dtype=object)[action_code]
    frame = pd.DataFrame({
        "id": make_ids("INS", m, 8),
        "target_layer": objects["layer"].to_numpy()[obj],
        "target_id": objects["id"].to_numpy()[obj],
        "date": dates.astype("datetime64[ns]"),
        "team_id": team,
        "result": result,
        "hazards_found": found,
        "action": action,
        "plan_id": pd.Series([None] * m, dtype=object).to_numpy(),
    })
    return frame, obj


def _rates(grade: np.ndarray, cat: np.ndarray) -> np.ndarray:
    by_grade = pd.Series(grade, dtype=object).map(GRADE_RATE)
    by_kind = pd.Series(cat, dtype=object).map(KIND_RATE).fillna(1.5)
    return by_grade.fillna(by_kind).to_numpy(dtype=float)


def _hazard_category(objects: pd.DataFrame) -> np.ndarray:
    layer = objects["layer"].to_numpy()
    cat = objects["category"].to_numpy().copy()
    cat = np.where(layer == "venues", "venue", cat)
    cat = np.where(layer == "gas_stations", "gas_station", cat)
    cat = np.where(_isin(layer, ["bridges", "tunnels"]), "structure", cat)
    return cat


def build_hazards(rng: np.random.Generator, objects: pd.DataFrame, inspections: pd.DataFrame,
                  obj: np.ndarray, xy: np.ndarray) -> pd.DataFrame:
    """Hazards found by the inspections (one row per hazard), their rectification state on :data:`AS_OF`."""
    k = inspections["hazards_found"].to_numpy()
    src = np.repeat(np.arange(len(inspections)), k)
    o = obj[src]
    m = len(o)
    found = inspections["date"].to_numpy()[src].astype("datetime64[D]")
    grade = objects["grade"].to_numpy()[o]
    major = rng.uniform(0, 1, m) < np.where(grade == "major", 0.12, np.where(grade == "high", 0.05, 0.015))
    level = np.array(["general", "major"], dtype=object)[major.astype(np.int64)]
    span = np.where(major, 90, 30)
    deadline = found + span.astype("timedelta64[D]")
    age = (np.datetime64(AS_OF) - found).astype(np.int64)

    cats = _hazard_category(objects)[o]
    htype = np.empty(m, dtype=object)
    for c, opts in HAZARD_TYPES.items():
        s = cats == c
        arr = np.array(opts, dtype=object)
        htype[s] = arr[rng.integers(0, len(arr), int(s.sum()))]
    # repeat-prone targets: every hazard there is the same kind as the first one
    uniq, first = np.unique(o, return_index=True)
    prone = np.zeros(len(objects), bool)
    prone[uniq[rng.uniform(0, 1, len(uniq)) < 0.1]] = True
    first_type = np.empty(len(objects), dtype=object)
    first_type[uniq] = htype[first]
    rep = prone[o]
    htype[rep] = first_type[o[rep]]

    u = rng.uniform(0, 1, m)
    past_deadline = age > span
    # late ones are mostly closed; some never are (overdue); recent ones spread over the open states
    status_code = np.where(past_deadline,
                           np.where(u < 0.90, 3, np.where(u < 0.94, 1, np.where(u < 0.97, 0, 2))),
                           np.where(u < 0.35, 0, np.where(u < 0.65, 1, np.where(u < 0.82, 2, 3))))
    status = np.array(["open", "rectifying", "awaiting_check", "closed"], dtype=object)[status_code]
    closed = status == "closed"
    close_after = np.minimum(np.maximum(1, np.round(rng.uniform(0.2, 1.25, m) * span)), np.maximum(age, 0))
    closed_date = np.where(closed, found + close_after.astype("timedelta64[D]"), np.datetime64("NaT"))
    five = {}
    for key in ("resp_in_place", "measures_in_place", "funds_in_place", "deadline_in_place", "plan_in_place"):
        p_ok = np.where(closed, 0.99, np.where(major, 0.7, 0.82))
        five[key] = rng.uniform(0, 1, m) < p_ok
    desc = (pd.Series(htype) + np.where(major, "，存在重大事故隐患，需挂牌督办", "，需限期整改")).to_numpy(dtype=object)
    frame = pd.DataFrame({
        "id": make_ids("HZ", m, 8),
        "target_layer": objects["layer"].to_numpy()[o],
        "target_id": objects["id"].to_numpy()[o],
        "type": htype,
        "description": desc,
        "level": level,
        "found_date": found.astype("datetime64[ns]"),
        "deadline": deadline.astype("datetime64[ns]"),
        "status": status,
        "closed_date": closed_date.astype("datetime64[ns]"),
        **five,
        "responsible_person": person_names(rng, m),
        "inspection_id": inspections["id"].to_numpy()[src],
        "district_code": objects["district_code"].to_numpy()[o],
        "x": xy[o, 0],
        "y": xy[o, 1],
    })
    return frame


def build_accidents(rng: np.random.Generator, ent: pd.DataFrame) -> pd.DataFrame:
    """Accidents at enterprises; about a fifth are the same kind again at the same enterprise (20-220 days after
    the first; at least one pair within the last year), at least one fatal."""
    n_ent = len(ent)
    n_acc = max(12, round(0.012 * n_ent))
    ind = ent["industry"].to_numpy()
    w = _acc_weights(ind)
    w = w / w.sum()
    n_first = int(round(n_acc * 0.8))
    # weighted sample without replacement (exponential keys, top k): fast for a million enterprises
    keys = rng.exponential(1.0, n_ent) / w
    who = np.argpartition(keys, n_first - 1)[:n_first] if n_first < n_ent else np.arange(n_ent)
    who = np.sort(who)
    kinds = np.empty(n_first, dtype=object)
    for i_name, opts in ACCIDENT_KINDS_BY_INDUSTRY.items():
        s = ind[who] == i_name
        ks = [k for k, _ in opts]
        ps = np.array([p for _, p in opts])
        kinds[s] = np.array(ks, dtype=object)[rng.choice(len(ks), size=int(s.sum()), p=ps / ps.sum())]
    rep_src = rng.choice(n_first, size=n_acc - n_first, replace=True)
    who = np.concatenate([who, who[rep_src]])
    kinds = np.concatenate([kinds, kinds[rep_src]])
    offsets = rng.integers(0, DAYS, n_acc)
    # the same kind again: 20 to 220 days after the first; the first repeat within the last year
    if n_acc > n_first:
        src0 = rep_src[0]
        offsets[src0] = max(offsets[src0], DAYS - 300)
        offsets[n_first:] = np.minimum(offsets[rep_src] + 20 + offsets[n_first:] % 200, DAYS - 1)
    dates = _dates(offsets)
    deaths = np.where(rng.uniform(0, 1, n_acc) < 0.85, 0, rng.integers(1, 4, n_acc)).astype(np.int64)
    if not deaths.any():  # a fatal accident (the blacklist's basis) even in a small city
        deaths[0] = 1
    injuries = rng.poisson(1.3, n_acc).astype(np.int64)
    names = ent["name"].to_numpy(dtype=object)[who]
    desc = [f"{nm}发生{ACCIDENT_ZH[k]}事故，{_toll(d, j)}"
            for nm, k, d, j in zip(names, kinds, deaths, injuries, strict=True)]
    order = np.argsort(dates, kind="stable")
    return pd.DataFrame({
        "id": make_ids("ACC", n_acc, 6),
        "enterprise_id": ent["id"].to_numpy()[who][order],
        "date": dates[order].astype("datetime64[ns]"),
        "kind": kinds[order],
        "deaths": deaths[order],
        "injuries": injuries[order],
        "description": np.array(desc, dtype=object)[order],
        "district_code": ent["district_code"].to_numpy()[who][order],
        "x": ent["x"].to_numpy()[who][order],
        "y": ent["y"].to_numpy()[who][order],
    })


def _toll(deaths: int, injuries: int) -> str:
    if deaths and injuries:
        return f"造成{deaths}人死亡、{injuries}人受伤"
    if deaths:
        return f"造成{deaths}人死亡"
    if injuries:
        return f"造成{injuries}人受伤"
    return "未造成人员伤亡"


def _acc_weights(ind: np.ndarray) -> np.ndarray:
    w = np.ones(len(ind))
    for k, v in ACCIDENT_WEIGHT.items():
        w[ind == k] = v
    return w


def build_responsibilities(rng: np.random.Generator, objects: pd.DataFrame,
                           department_ids: list[str]) -> pd.DataFrame:
    """Supervision links: a lead department and co-departments per object, with deliberate gaps:
    about 2% of objects have none, 3% several and no lead, 4% of links no officer."""
    n = len(objects)
    dep_index = {d: i for i, d in enumerate(department_ids)}
    cats = sorted(LEAD)
    cat = pd.Categorical(objects["category"].to_numpy(), categories=cats).codes
    # per category: lead, co1, co2 as department index (-1 none, -2 the district's own bureau)
    table = np.full((len(cats) + 1, 3), -1, dtype=np.int64)
    for i, c in enumerate(cats):
        ld, cos = LEAD[c]
        table[i, 0] = -2 if ld == "DISTRICT-EM" else dep_index[ld]
        for j, co in enumerate(cos[:2]):
            table[i, 1 + j] = dep_index[co]
    rows = table[np.where(cat >= 0, cat, len(cats))]
    lead, co1, co2 = rows[:, 0].copy(), rows[:, 1].copy(), rows[:, 2].copy()
    district_em = pd.Series("DEPT-EM-" + objects["district_code"].fillna("").astype(str)).map(dep_index)
    lead = np.where(lead == -2, district_em.fillna(dep_index["DEPT-EM"]).to_numpy(dtype=np.int64), lead)
    u = rng.uniform(0, 1, n)
    none = (u < 0.02) | (lead < 0)        # no supervising department at all
    no_lead = (u >= 0.02) & (u < 0.05) & ~none   # several departments, none leads
    has_co1 = (co1 >= 0) & ((rng.uniform(0, 1, n) < 0.6) | no_lead)
    fill = no_lead & ~has_co1  # a second department for the no-lead ones that have no co-department
    co1 = np.where(fill, np.where(lead == dep_index["DEPT-MR"], dep_index["DEPT-EM"], dep_index["DEPT-MR"]), co1)
    has_co1 = (has_co1 | fill) & ~none
    has_co2 = (co2 >= 0) & (rng.uniform(0, 1, n) < 0.3) & ~none
    obj_idx = np.concatenate([np.flatnonzero(~none), np.flatnonzero(has_co1), np.flatnonzero(has_co2)])
    dept = np.concatenate([lead[~none], co1[has_co1], co2[has_co2]])
    is_lead = np.concatenate([~no_lead[~none], np.zeros(int(has_co1.sum()), bool), np.zeros(int(has_co2.sum()), bool)])
    order = np.lexsort((~is_lead, obj_idx))
    obj_idx, dept, is_lead = obj_idx[order], dept[order], is_lead[order]
    m = len(obj_idx)
    officer = person_names(rng, m)
    officer[rng.uniform(0, 1, m) < 0.04] = None
    return pd.DataFrame({
        "id": make_ids("RSP", m, 8),
        "target_layer": objects["layer"].to_numpy()[obj_idx],
        "target_id": objects["id"].to_numpy()[obj_idx],
        "department_id": np.asarray(department_ids, dtype=object)[dept],
        "lead": is_lead,
        "officer": officer,
    })
