"""What the planner's controls do, as plain functions the page's callbacks call (and tests call directly).

Each takes ``trig``, the id of the control that fired, and the callback's states; each returns the
callback's outputs (``dash.no_update`` where nothing changes). Nothing here registers a callback.
"""

from __future__ import annotations

import io
import tempfile
from datetime import date
from pathlib import Path

import pandas as pd
from dash import dcc, html, no_update

from dashboard import context
from dashboard.i18n import t
from dashboard.planner.access import (
    check_in_scope,
    check_plan_scope,
    check_teams,
    narrow_objects,
    rederive,
    scope_of,
    trusted_plan,
)
from dashboard.planner.figures import gantt, plan_map
from dashboard.planner.ids import Ids
from dashboard.planner.layout import plan_summary
from dashboard.planner.tables import (
    cand_rows,
    cand_table_rows,
    cands_frame,
    saved_plan_options,
    stop_rows,
    team_rows,
    teams_from_rows,
    unassigned_rows,
)
from layers.errors import AccessDenied
from layers.planning import random_draw as plan_random
from layers.planning import routes as P
from layers.planning import saved as plan_store
from layers.planning import sheets as plan_export


def _msg(lang: str, key: str, extra: str = "") -> html.Div:
    return html.Div(f"{t(key, lang)}{(' ' + extra) if extra else ''}", className="muted")


def _user_id() -> str | None:
    u = context.current_user() or {}
    return u.get("id")


def form_of_plan(open_id: str | None) -> tuple:
    """The planning form as the saved plan ``open_id`` was made: its first day, one day or a week, its districts,
    its teams and their settings (shift, break, skills as planned). Returns (date, days, districts, team ids,
    team rows, restore data)."""
    context.authorize(context.action())
    if not open_id:
        return (no_update,) * 6
    plan = plan_store.load_plan(context.store(), str(open_id), settings=context.settings())   # from the store
    check_plan_scope(plan)
    dates = list(plan.params.get("dates") or [])
    teams = [P.TeamSpec.from_dict(t) for t in plan.params.get("teams") or []]
    ids = [tm.id for tm in teams]
    return (dates[0] if dates else no_update, 5 if len(dates) > 1 else 1, list(plan.params.get("districts") or []),
            ids, team_rows(teams), {"teams": ids})


def district_choices(districts: list[str] | None, lang: str, restore: dict | None = None
                     ) -> tuple[list[dict], list[str], list[dict]]:
    """Teams whose scope meets the districts (all selected by default, or those of a plan being opened:
    ``restore``); objects to add by name. Returns (team options, chosen team ids, add-by-name options)."""
    context.authorize(context.action())
    scope = scope_of(districts)
    store = context.store()
    teams = [tm for tm in P.teams_from_store(store)
             if scope is None or not tm.districts or set(tm.districts) & set(scope)]
    opts = [{"label": f"{tm.id} {tm.name} · {plan_export.skills_label(tm.skills, lang)}", "value": tm.id}
            for tm in teams]
    obj = narrow_objects(store, P.objects(store, districts=scope, settings=context.settings()))
    add = [{"label": f"{n} ({k})", "value": k} for n, k in zip(obj["name"], obj["key"], strict=True)]
    chosen = [tm.id for tm in teams]
    wanted = (restore or {}).get("teams") if isinstance(restore, dict) else None
    if isinstance(wanted, list):   # (ids from the browser: only the offered teams count)
        chosen = [i for i in wanted if i in set(chosen)]
    return opts, chosen, add


def team_table(team_ids: list[str] | None, current: list[dict] | None) -> list[dict]:
    """The chosen teams' settings; edits already made to a team stay while it remains chosen."""
    context.authorize(context.action())
    ids = list(team_ids or [])
    kept = {r["id"]: r for r in (current or []) if r["id"] in ids}
    missing = [i for i in ids if i not in kept]
    store = context.store()
    check_teams(store, ids, None)          # ids come from the browser: only teams this user may plan with
    fresh = {r["id"]: r for r in team_rows(P.teams_from_store(store, missing))} if missing else {}
    return [kept.get(i) or fresh[i] for i in ids]


def edit_candidates(trig, click, day, districts, limit, team_data, cand_data, state, stop_data, selected, move_team,
                    add_key, seed, fraction, rgrades, open_id, lang):
    """Every change to the candidate list and the locks (nothing is planned here); ``trig`` is the id of the
    control that fired. Returns (candidate table rows, state, message)."""
    state = dict(state or {"locks": {}, "random": None})
    locks = dict(state.get("locks") or {})
    if trig != Ids.OPEN:
        context.authorize("plan")
    store = context.store()
    settings = context.settings()
    scope = scope_of(districts)
    as_of = P.parse_date(day) if day else date.today()
    rows = [r for r in (cand_data or [])]
    raw = [{c: r.get(c) for c in P.CANDIDATE_COLUMNS} for r in rows]
    chosen = [stop_data[i]["key"] for i in (selected or []) if i < len(stop_data or [])]
    msg = None
    if trig == Ids.LOAD:
        cands = P.candidates(store, as_of=as_of, settings=settings, districts=scope, limit=int(limit or 60))
        raw, locks, state["random"] = cand_rows(cands), {}, None
        msg = _msg(lang, "plan.msg.loaded", f"({len(raw)})")
    elif trig in (Ids.ADD, Ids.MAP):
        key = add_key if trig == Ids.ADD else ((click or {}).get("points") or [{}])[0].get("customdata")
        if not key or not isinstance(key, str) or key in {r["key"] for r in raw}:
            return no_update, no_update, no_update
        check_in_scope(store, key, scope)
        cands = P.add_candidates(cands_frame(raw), store, [key], as_of=as_of, settings=settings)
        raw = cand_rows(cands)
        msg = _msg(lang, "plan.msg.added", key)
    elif trig == Ids.DRAW:
        teams = teams_from_rows(team_data)
        sample, record = plan_random.draw(store, teams, seed=int(seed if seed is not None else 0),
                                          fraction=float(fraction or 0.05), grades=rgrades or None,
                                          districts=scope, settings=settings)
        base = cands_frame(raw)
        cands = P.add_candidates(base[~base["key"].isin(sample["key"])], store, sample["key"].tolist(),
                                 as_of=as_of, settings=settings, source="random")
        raw = cand_rows(cands)
        locks.update({k: v for k, v in record["pairing"].items() if v})
        state["random"] = record
        msg = _msg(lang, "plan.msg.drawn", f"seed={record['seed']} · {len(sample)}/{record['population']}")
    elif trig in (Ids.LOCK, Ids.UNLOCK, Ids.MOVE, Ids.REMOVE):
        if not chosen:
            return no_update, no_update, _msg(lang, "plan.msg.select")
        by_key = {r["key"]: r for r in stop_data}
        if trig == Ids.LOCK:
            locks.update({k: by_key[k]["team_id"] for k in chosen})
            msg = _msg(lang, "plan.msg.locked")
        elif trig == Ids.UNLOCK:
            for k in chosen:
                locks.pop(k, None)
            msg = _msg(lang, "plan.msg.unlocked")
        elif trig == Ids.MOVE:
            team = next((tm for tm in teams_from_rows(team_data) if tm.id == move_team), None)
            if team is None:
                return no_update, no_update, _msg(lang, "plan.move_team")
            if any(by_key[k].get("skill") and by_key[k]["skill"] not in team.skills for k in chosen):
                return no_update, no_update, _msg(lang, "plan.msg.no_skill")
            locks.update({k: team.id for k in chosen})
            msg = _msg(lang, "plan.msg.moved")
        else:
            raw = [r for r in raw if r["key"] not in set(chosen)]
            for k in chosen:
                locks.pop(k, None)
            msg = _msg(lang, "plan.msg.removed")
    elif trig == Ids.OPEN:
        if not open_id:
            return no_update, no_update, no_update
        plan = plan_store.load_plan(store, open_id, settings=context.settings())
        check_plan_scope(plan, store=store)
        both = pd.concat([plan.stops, plan.unassigned], ignore_index=True)
        # the objects as they are now (own opening hours, last inspection), the ranking as it was planned
        now = P.objects(store, layers=sorted(set(both["target_layer"])), settings=settings)
        now = now[now["key"].isin(both["key"])].set_index("key")
        now["last_inspected"] = P.last_inspected(store).reindex(now.index)
        both = both.drop(columns=[c for c in ("open_hours", "last_inspected") if c in both.columns])
        both = both.join(now[["open_hours", "last_inspected"]], on="key")
        raw = cand_rows(both[P.CANDIDATE_COLUMNS])
        locks = dict(plan.params.get("locks") or {})
        state["random"] = plan.params.get("random")
    state["locks"] = locks
    return cand_table_rows(raw, locks, lang), state, msg


def plan_action(trig, day, days, districts, team_data, cand_data, state, plan_data, save_name, open_id, stop_data,
                selected, done_date, done_result, done_hazards, done_action, lang, done_lines=None):
    """Plan, open, save, or record a completion (``trig`` says which); returns (plan JSON for the browser-side
    store, message, saved-plan options)."""
    context.authorize(context.action())
    store = context.store()
    settings = context.settings()
    if trig == Ids.RUN:
        context.authorize("plan")
        scope = scope_of(districts)
        cands = rederive(store, cands_frame(cand_data))      # the browser's list: keys only, checked
        if len(cands) == 0:
            return no_update, _msg(lang, "plan.msg.no_cands"), no_update
        check_teams(store, [r.get("id") for r in team_data or []], scope)
        start = P.parse_date(day) if day else date.today()
        dates = P.week_dates(start, int(days)) if int(days or 1) > 1 else [start]
        state = state or {}
        extra = {"as_of": start.isoformat()}
        if state.get("random"):
            extra["random"] = state["random"]
        locks = {str(k): str(v) for k, v in (state.get("locks") or {}).items()}
        # a locked stop keeps its day and its order among its team's locked stops: where it is in the plan shown
        previous = trusted_plan(store, plan_store.plan_from_json(plan_data)) if plan_data else None
        plan = P.plan_routes(store, cands, teams_from_rows(team_data), dates=dates, settings=settings,
                             locks=locks, anchors=P.lock_anchors(previous, locks), districts=scope,
                             extra_params=extra)
        return plan_store.plan_to_json(plan), None, no_update
    if trig == Ids.OPEN:
        if not open_id:
            return no_update, no_update, no_update
        plan = plan_store.load_plan(store, open_id, settings=context.settings())
        check_plan_scope(plan, store=store)
        return plan_store.plan_to_json(plan), None, no_update
    if plan_data is None:
        return no_update, _msg(lang, "plan.msg.no_plan"), no_update
    context.authorize("plan" if trig == Ids.SAVE else "complete")
    plan = trusted_plan(store, plan_store.plan_from_json(plan_data))
    if trig == Ids.SAVE:
        d = plan.params.get("districts")
        scope_of(d)  # a district user may save only inside their area
        if context.allowed_districts() is not None and not d:
            plan.params["districts"] = context.allowed_districts()
        pid = plan_store.save_plan(store, plan, name=save_name or "", created_by=_user_id())
        plans = plan_store.list_plans(store, districts=context.allowed_districts())
        opened = plan_store.load_plan(store, pid, settings=settings)
        return plan_store.plan_to_json(opened), _msg(lang, "plan.msg.saved", pid), saved_plan_options(plans)
    if trig == Ids.DONE:
        if not plan.id:
            return no_update, _msg(lang, "plan.msg.save_first"), no_update
        chosen = [stop_data[i]["key"] for i in (selected or []) if i < len(stop_data or [])]
        if not chosen:
            return no_update, _msg(lang, "plan.msg.select"), no_update
        outside = sorted(set(chosen) - set(plan.stops["key"].astype(str)))
        if outside:   # the stop list came from the browser: only the saved plan's own stops count
            raise AccessDenied(f"这些对象不是计划 {plan.id} 的站点：{outside[:5]} (not stops of plan {plan.id})")
        on = P.parse_date(done_date) if done_date else date.today()
        found = plan_store.completion_hazards(done_lines if isinstance(done_lines, str) else None)
        if len(found) and len(chosen) > 1:
            return no_update, _msg(lang, "plan.msg.one_stop"), no_update
        for k in chosen:
            plan_store.record_completion(store, plan.id, k, on=on, result=done_result or "pass",
                                         hazards_found=int(done_hazards or 0), action=done_action or "none",
                                         hazards=found if len(found) else None, principal=context.principal())
        opened = plan_store.load_plan(store, plan.id, settings=settings)
        done = html.Div(t("plan.msg.done_hazards", lang).format(n=len(found)), className="muted") if len(found) \
            else _msg(lang, "plan.msg.done")
        return plan_store.plan_to_json(opened), done, no_update
    return no_update, no_update, no_update


def render_plan(trig, plan_data, cand_data, districts, lang) -> tuple:
    """The plan (or, with none yet, the candidates) shown: summary, map, timeline, stops, selection,
    unassigned, and the team options of the export and move dropdowns. A change of candidates alone redraws
    only the map."""
    context.authorize(context.action())
    store = context.store()
    scope = scope_of(districts)
    plan = trusted_plan(store, plan_store.plan_from_json(plan_data)) if plan_data else None
    cands = cands_frame(cand_data)
    objs = narrow_objects(store, P.objects(store, districts=scope, settings=context.settings()))
    fig = plan_map(store, plan, cands, objs, lang=lang, districts=scope)
    if trig == Ids.CANDS and plan_data is not None:
        return no_update, fig, no_update, no_update, no_update, no_update, no_update, no_update
    if plan is None:
        return "", fig, gantt(None, lang), [], [], [], [], []
    team_opts = [{"label": f"{tm.id} {tm.name}", "value": tm.id} for tm in plan.teams]
    return (plan_summary(plan, lang), fig, gantt(plan, lang), stop_rows(plan, lang), [], unassigned_rows(plan, lang),
            team_opts, team_opts)


def sheet_href(plan_data, team, lang) -> str:
    """The printable route sheet's address for a saved plan and a team; empty until both are chosen."""
    if not plan_data or not plan_data.get("id") or not team:
        return ""
    return f"/plan/sheet?plan={plan_data['id']}&team={team}&lang={lang}"


def export_plan(trig, plan_data, team, lang) -> tuple:
    """A team's route sheet (XLSX) or the whole plan (CSV) to download. Returns (download, message)."""
    context.authorize(context.action())
    if not plan_data:
        return no_update, _msg(lang, "plan.msg.no_plan")
    plan = trusted_plan(context.store(), plan_store.plan_from_json(plan_data))
    stem = plan.id or "plan"
    with tempfile.TemporaryDirectory() as tmp:
        if trig == Ids.XLSX:
            if not team:
                return no_update, _msg(lang, "plan.export_team")
            path = plan_export.write_route_sheet_xlsx(plan, team, Path(tmp) / f"{stem}-{team}.xlsx", lang=lang)
        else:
            path = plan_export.write_plan_csv(plan, Path(tmp) / f"{stem}.csv", lang=lang)
        data = path.read_bytes()
    return dcc.send_bytes(io.BytesIO(data).getvalue(), path.name), None

