"""What the session's user may plan and see, asked of the one access function (``layers.access.authorize``).

Nothing the browser sends back is trusted: a plan or a candidate list from the ``dcc.Store`` is reduced to its
keys, every key must name an object of the store inside the user's area, and the object's own columns (name,
address, place, district) are read again from the store; a saved plan is re-read by id and each of its stops
checked; a team must be one the user may plan with.
"""

from __future__ import annotations

import pandas as pd

from dashboard import context
from layers import access
from layers.errors import AccessDenied
from layers.planning import routes as P

#: the object's own columns: always taken from the store, never from the browser
OBJECT_COLUMNS = ("target_layer", "target_id", "name", "address", "kind", "skill", "district_code", "lon", "lat")


def scope_of(districts: list[str] | None) -> list[str] | None:
    """The districts asked for (none: all) narrowed to the user's area; see :func:`dashboard.context.scope`."""
    return context.scope(districts or None)


def _reach() -> access.Access:
    return context.authorize(context.action())


def narrow_objects(store, objects: pd.DataFrame) -> pd.DataFrame:  # noqa: ANN001
    """``objects`` (``P.objects`` rows, already narrowed by district) narrowed to a town leader's town."""
    reach = _reach()
    if reach.towns is None or len(objects) == 0:
        return objects
    places = access.object_places(store, objects["key"].tolist())
    return objects[reach.mask(places["district_code"].to_numpy(), places["town_code"].to_numpy())]


def check_in_scope(store, key: str, scope: list[str] | None) -> None:  # noqa: ANN001
    """An object key the user may add: it names an object of the store in ``scope`` and the user's area."""
    reach = _reach()
    if scope is not None:   # the districts asked for, themselves inside the user's area (authorize checks)
        reach = access.authorize(reach.principal, reach.action, districts=scope, towns=reach.towns)
    access.require_objects(reach, store, [key])


def rederive(store, frame: pd.DataFrame) -> pd.DataFrame:  # noqa: ANN001
    """``frame`` (candidates or stops that came from the browser) with every object column read again from the
    store; AccessDenied when a key names no object or one outside the user's area."""
    if len(frame) == 0:
        return frame
    keys = frame["key"].astype(str).tolist()
    access.require_objects(_reach(), store, keys)
    layers_ = sorted({k.split(":", 1)[0] for k in keys})
    now = P.objects(store, layers=layers_, settings=context.settings()).drop_duplicates("key").set_index("key")
    missing = sorted(set(keys) - set(now.index))
    if missing:   # e.g. a closed enterprise: not plannable
        raise AccessDenied(f"对象不可计划：{', '.join(missing[:5])} (objects that cannot be planned: "
                           f"{', '.join(missing[:5])})")
    out = frame.copy()
    rows = now.reindex(keys)
    for col in OBJECT_COLUMNS:
        if col in rows.columns:
            out[col] = rows[col].to_numpy()
    return out


def check_teams(store, team_ids: list[str], scope: list[str] | None) -> None:  # noqa: ANN001
    """Teams the user may plan with: they exist, and a district user's teams work in its area (or city-wide)."""
    reach = _reach()
    known = {tm.id: tm for tm in P.teams_from_store(store)}
    bad = [i for i in team_ids if i not in known]
    area = scope if scope is not None else (None if reach.districts is None else list(reach.districts))
    if area is not None:
        bad += [i for i in team_ids if i in known and known[i].districts and not set(known[i].districts) & set(area)]
    if bad:
        raise AccessDenied(f"无权使用检查组 {sorted(set(bad))} (not allowed to use teams {sorted(set(bad))})")


def trusted_plan(store, plan: P.Plan) -> P.Plan:  # noqa: ANN001
    """A plan from the browser, made safe: a saved one is re-read from the store by id (and checked); an unsaved
    one keeps only its keys, assignments and times, with the objects re-read and checked, and its teams
    checked."""
    if plan.id:
        from layers.planning import saved

        saved_plan = saved.load_plan(store, plan.id, settings=context.settings())
        check_plan_scope(saved_plan, store=store)
        return saved_plan
    plan.stops = rederive(store, plan.stops)
    plan.unassigned = rederive(store, plan.unassigned)
    check_teams(store, [tm.id for tm in plan.teams], plan.params.get("districts") or None)
    return plan


def check_plan_scope(plan: P.Plan, *, store=None) -> None:  # noqa: ANN001
    """A saved plan the user may open: its districts and every one of its stops lie inside the user's area."""
    reach = _reach()
    if reach.districts is None and reach.towns is None:
        return
    d = plan.params.get("districts")
    if not d or not set(d) <= set(reach.districts or ()):
        raise AccessDenied(f"无权查看计划 {plan.id} (not allowed to view plan {plan.id})")
    keys = [str(k) for f in (plan.stops, plan.unassigned) if len(f) for k in f["key"]]
    access.require_objects(reach, store or context.store(), keys)
