"""Saving, listing and opening plans (layers ``plans`` and ``plan_stops``), and recording completions.

A plan is saved under a name and a date; saving again under the same name and date makes the next version.
Stops keep their order, times, lock and status; unassigned candidates are saved as stops without a team, with
their reason. Everything else needed to repeat the plan (teams as they were, dates, districts, locks, the
double-random seed and draw, the travel-time mode, the timing of each leg) is in ``plans.params`` as JSON.

A completion is an inspection (layer ``inspections``) carrying the ``plan_id``; recording one in the app or
importing a results file (``python -m layers import inspections FILE``) updates the object's last-inspected
date, so the coverage figures change. A stop shows as done when such an inspection exists.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd

from layers.access.policy import Principal
from layers.errors import RiskMapError
from layers.planning.routes import (
    STOP_COLUMNS,
    TIMELINE_COLUMNS,
    Plan,
    TeamSpec,
    objects,
    summarize,
)
from layers.schema import INSPECTION_ACTIONS, INSPECTION_RESULTS
from layers.settings import Settings
from layers.store import Store


def _plan_id(name: str, plan_date: date, version: int) -> str:
    tag = hashlib.sha1(name.encode("utf-8")).hexdigest()[:6]
    return f"P{plan_date:%Y%m%d}-{tag}-v{version}"


def _iso(ts) -> str | None:
    if ts is None or (isinstance(ts, float) and np.isnan(ts)) or ts is pd.NaT:
        return None
    return pd.Timestamp(ts).isoformat()


def save_plan(store: Store, plan: Plan, *, name: str, created_by: str | None) -> str:
    """Write ``plan`` as the next version of ``name`` on its first date; returns the plan id."""
    name = (name or "").strip()
    if not name:
        raise RiskMapError("请填写计划名称 (give the plan a name)")
    plan_date = date.fromisoformat(plan.params["dates"][0])
    existing = store.read("plans", columns=["id", "name", "plan_date", "version"], where={"name": name})
    same_day = existing[existing["plan_date"].dt.date == plan_date] if len(existing) else existing
    version = int(same_day["version"].max()) + 1 if len(same_day) else 1
    pid = _plan_id(name, plan_date, version)
    created_at = datetime.now(UTC).replace(microsecond=0)
    timing = {}
    for r in plan.stops.itertuples(index=False):
        timing[r.key] = [int(r.travel_s), int(r.wait_s), int(r.service_s), _iso(r.start)]
    params = {**plan.params, "summary": plan.summary, "timing": timing,
              "timeline": _timeline_json(plan.timeline)}
    head = pd.DataFrame([{"id": pid, "name": name, "plan_date": plan_date.isoformat(), "version": version,
                          "created_by": created_by, "created_at": created_at.isoformat(),
                          "params": json.dumps(params, ensure_ascii=False, default=str)}])
    rows = []
    for i, r in enumerate(plan.stops.itertuples(index=False)):
        rows.append({"id": f"{pid}/{i + 1:04d}", "plan_id": pid, "team_id": r.team_id, "seq": int(r.seq),
                     "target_layer": r.target_layer, "target_id": r.target_id, "arrival": _iso(r.arrival),
                     "departure": _iso(r.departure), "locked": bool(r.locked), "status": "planned",
                     "unassigned_reason": None})
    n = len(rows)
    for j, r in enumerate(plan.unassigned.itertuples(index=False)):
        rows.append({"id": f"{pid}/{n + j + 1:04d}", "plan_id": pid, "team_id": None, "seq": None,
                     "target_layer": r.target_layer, "target_id": r.target_id, "arrival": None, "departure": None,
                     "locked": False, "status": "unassigned", "unassigned_reason": r.reason})
    with store.transaction() as tx:
        tx.append("plans", head)
        if rows:
            tx.append("plan_stops", pd.DataFrame(rows))
    plan.id, plan.name, plan.version = pid, name, version
    plan.created_by, plan.created_at = created_by, created_at.isoformat()
    return pid


def _timeline_json(tl: pd.DataFrame) -> list:
    if len(tl) == 0:
        return []
    return [[r.team_id, str(r.day), r.kind, _iso(r.start), _iso(r.end), r.key if isinstance(r.key, str) else None,
             r.label] for r in tl.itertuples(index=False)]


def list_plans(store: Store, *, districts: list[str] | None = None) -> pd.DataFrame:
    """Saved plans, newest first (id, name, plan_date, version, created_by, created_at, districts)."""
    plans = store.read("plans")
    if len(plans) == 0:
        return plans.assign(districts=pd.Series(dtype=object))
    dist = []
    for p in plans["params"]:
        try:
            dist.append(json.loads(p).get("districts") if isinstance(p, str) else None)
        except json.JSONDecodeError:
            dist.append(None)
    plans = plans.assign(districts=dist).drop(columns=["params"])
    if districts is not None:
        keep = [d is not None and set(d) <= set(districts) for d in plans["districts"]]
        plans = plans[keep]
    return plans.sort_values(["created_at", "id"], ascending=False).reset_index(drop=True)


def load_plan(store: Store, plan_id: str, *, settings: Settings | None = None) -> Plan:
    """Open a saved plan: its stops (with the objects' names and addresses as they are now), unassigned
    candidates with reasons, timeline, params and summary; stop status from the inspections."""
    head = store.read("plans", ids=[plan_id])
    if len(head) == 0:
        raise RiskMapError(f"计划 {plan_id} 不存在 (plan {plan_id} does not exist)")
    h = head.iloc[0]
    params = json.loads(h["params"]) if isinstance(h["params"], str) else {}
    rows = store.read("plan_stops", where={"plan_id": plan_id})
    rows["key"] = rows["target_layer"].astype(str) + ":" + rows["target_id"].astype(str)
    obj = objects(store, layers=sorted(set(rows["target_layer"])), settings=settings) if len(rows) else None
    if obj is not None and len(obj):
        rows = rows.merge(obj.drop(columns=["target_layer", "target_id"]), on="key", how="left")
    cand = {c["key"]: c.get("source") for c in params.get("candidates", [])}
    prio = params.get("priorities", {})
    rows["source"] = rows["key"].map(cand)
    rows["priority"] = rows["key"].map(lambda k: prio.get(k, [np.nan, np.nan])[0]).astype(float)
    rows["days_overdue"] = rows["key"].map(lambda k: prio.get(k, [np.nan, np.nan])[1]).astype(float)
    done = completed_keys(store, plan_id)
    timing = params.get("timing", {})
    dates = params.get("dates", [])
    assigned = rows[rows["status"] != "unassigned"].copy()
    assigned["arrival"] = pd.to_datetime(assigned["arrival"])
    assigned["departure"] = pd.to_datetime(assigned["departure"])
    assigned["day"] = assigned["arrival"].dt.date
    assigned["travel_s"] = assigned["key"].map(lambda k: timing.get(k, [0, 0, 0, None])[0]).astype(int)
    assigned["wait_s"] = assigned["key"].map(lambda k: timing.get(k, [0, 0, 0, None])[1]).astype(int)
    assigned["service_s"] = assigned["key"].map(lambda k: timing.get(k, [0, 0, 0, None])[2]).astype(int)
    assigned["start"] = pd.to_datetime(assigned["key"].map(lambda k: timing.get(k, [0, 0, 0, None])[3]))
    assigned["locked"] = assigned["locked"].fillna(False).astype(bool)
    assigned["status"] = np.where(assigned["key"].isin(done), "done", "planned")
    for c in STOP_COLUMNS:
        if c not in assigned.columns:
            assigned[c] = None
    stops = assigned[STOP_COLUMNS].sort_values(["team_id", "day", "seq"]).reset_index(drop=True)
    un = rows[rows["status"] == "unassigned"].rename(columns={"unassigned_reason": "reason"})
    un = un.drop(columns=["id", "plan_id", "team_id", "seq", "arrival", "departure", "locked", "status"])
    tl = pd.DataFrame(params.get("timeline", []), columns=TIMELINE_COLUMNS)
    if len(tl):
        tl["start"] = pd.to_datetime(tl["start"])
        tl["end"] = pd.to_datetime(tl["end"])
        tl["day"] = pd.to_datetime(tl["day"]).dt.date
    teams = [TeamSpec.from_dict(t) for t in params.get("teams", [])]
    plan = Plan(stops=stops, unassigned=un.reset_index(drop=True), timeline=tl, params=params,
                summary=params.get("summary", {}), id=plan_id, name=h["name"], version=int(h["version"]),
                created_by=h["created_by"], created_at=_iso(h["created_at"]), teams=teams)
    if not plan.summary:
        plan.summary = summarize(plan)
    plan.params.setdefault("dates", dates)
    return plan


def completed_keys(store: Store, plan_id: str) -> set[str]:
    """Object keys (``layer:id``) with an inspection recorded against ``plan_id``."""
    ins = store.read("inspections", columns=["target_layer", "target_id"], where={"plan_id": plan_id})
    return set(ins["target_layer"].astype(str) + ":" + ins["target_id"].astype(str))


def completion_hazards(text: str | None) -> pd.DataFrame:
    """The hazards typed into the completion form, one per line: a line starting with 重大/major is a major
    hazard; ``类型：描述`` (or ``type: description``) gives its type. Empty lines are skipped."""
    rows = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        level = "general"
        for word in ("重大隐患", "重大", "major"):
            if line.lower().startswith(word):
                level, line = "major", line[len(word):].lstrip(" :：,，、-")
                break
        head, sep, rest = line.replace("：", ":").partition(":")
        typ, desc = (head.strip()[:60], rest.strip()) if sep and head.strip() and rest.strip() else (None, line)
        rows.append({"type": typ, "level": level, "description": desc or line})
    return pd.DataFrame(rows, columns=["type", "level", "description"])


def record_completion(store: Store, plan_id: str, key: str, *, on: date, result: str = "pass",
                      hazards_found: int = 0, action: str = "none", team_id: str | None = None,
                      hazards: pd.DataFrame | None = None, principal: Principal | None = None) -> str:
    """Record the inspection of the planned stop ``key`` (``layer:id``) of ``plan_id`` on ``on``; the stop
    becomes done and the object's last-inspected date moves to ``on``. Returns the inspection id.

    ``hazards`` (type, level, description; see :func:`completion_hazards`) are what the visit found: they
    become open hazards of the ledger, linked to the inspection, in the same transaction (``principal`` is who
    records them; the result becomes "hazards found" and the count at least their number)."""
    if result not in INSPECTION_RESULTS:
        raise RiskMapError(f"检查结果 {result!r} 无效，可选 {list(INSPECTION_RESULTS)} "
                           f"(result {result!r} is not valid; use one of {list(INSPECTION_RESULTS)})")
    if action not in INSPECTION_ACTIONS:
        raise RiskMapError(f"处理措施 {action!r} 无效，可选 {list(INSPECTION_ACTIONS)} "
                           f"(action {action!r} is not valid; use one of {list(INSPECTION_ACTIONS)})")
    if on > date.today():
        raise RiskMapError(f"检查日期 {on} 晚于今天，不能记录未来的检查 (inspection date {on} is after today; "
                           "a completion cannot be in the future)")
    layer, _, target_id = key.partition(":")
    stops = store.read("plan_stops", where={"plan_id": plan_id, "target_layer": layer, "target_id": target_id})
    stops = stops[stops["status"] != "unassigned"]
    if len(stops) == 0:
        raise RiskMapError(f"计划 {plan_id} 中没有站点 {key} (plan {plan_id} has no stop {key})")
    team = team_id or stops["team_id"].iloc[0]
    ins_id = f"{plan_id}/{layer}/{target_id}"
    found = hazards if hazards is not None and len(hazards) else None
    if found is not None:
        result, hazards_found = "hazards_found", max(int(hazards_found or 0), len(found))
    row = pd.DataFrame([{"id": ins_id, "target_layer": layer, "target_id": target_id, "date": on.isoformat(),
                         "team_id": team, "result": result, "hazards_found": int(hazards_found),
                         "action": action, "plan_id": plan_id}])
    with store.transaction() as tx:
        tx.upsert("inspections", row)
        tx.update("plan_stops", stops["id"].tolist(), {"status": "done"})
        if found is not None:
            from layers.ledger.workflow import register_hazards

            register_hazards(store, principal, found.assign(found_date=on.isoformat()), today=date.today(),
                             inspection={"id": ins_id, "target_layer": layer, "target_id": target_id, "date": on},
                             tx=tx)
    return ins_id


# --------------------------------------------------------------------------------------------------
# a plan as JSON (the planner page keeps an unsaved plan in the browser session)
# --------------------------------------------------------------------------------------------------

def _frame_json(frame: pd.DataFrame) -> dict:
    f = frame.copy()
    for c in f.columns:
        if pd.api.types.is_datetime64_any_dtype(f[c]):
            f[c] = f[c].map(_iso)
        elif c == "day":
            f[c] = f[c].map(lambda d: None if d is None or d is pd.NaT else str(d))
    f = f.astype(object).where(pd.notna(f), None)
    return {"columns": list(f.columns), "data": f.to_numpy().tolist()}


def _frame_from(d: dict, *, times: tuple[str, ...] = (), days: tuple[str, ...] = ()) -> pd.DataFrame:
    f = pd.DataFrame(d.get("data", []), columns=d.get("columns", []))
    for c in times:
        if c in f.columns:
            f[c] = pd.to_datetime(f[c])
    for c in days:
        if c in f.columns:
            f[c] = pd.to_datetime(f[c]).dt.date
    for c in ("priority", "days_overdue", "lon", "lat"):
        if c in f.columns:
            f[c] = pd.to_numeric(f[c], errors="coerce")
    return f


def plan_to_json(plan: Plan) -> dict:
    """A JSON-able dict of ``plan`` (for a browser-side store); :func:`plan_from_json` reverses it."""
    return {"stops": _frame_json(plan.stops), "unassigned": _frame_json(plan.unassigned),
            "timeline": _frame_json(plan.timeline), "params": plan.params, "summary": plan.summary,
            "id": plan.id, "name": plan.name, "version": plan.version, "created_by": plan.created_by,
            "created_at": plan.created_at, "teams": [t.to_dict() for t in plan.teams]}


def plan_from_json(d: dict) -> Plan:
    stops = _frame_from(d["stops"], times=("arrival", "start", "departure"), days=("day",))
    if len(stops):
        stops["locked"] = stops["locked"].astype(bool)
        for c in ("seq", "travel_s", "wait_s", "service_s"):
            stops[c] = stops[c].astype(int)
    return Plan(stops=stops, unassigned=_frame_from(d["unassigned"]),
                timeline=_frame_from(d["timeline"], times=("start", "end"), days=("day",)),
                params=d.get("params", {}), summary=d.get("summary", {}), id=d.get("id"), name=d.get("name"),
                version=d.get("version"), created_by=d.get("created_by"), created_at=d.get("created_at"),
                teams=[TeamSpec.from_dict(t) for t in d.get("teams", [])])
