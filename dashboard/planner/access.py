"""What the session's user may plan and see: the districts asked for, narrowed on the server; the scope checks
on an object added to the candidates and on a saved plan."""

from __future__ import annotations

from dashboard import context
from layers.errors import AccessDenied
from layers.planning import routes as P


def scope_of(districts: list[str] | None) -> list[str] | None:
    """The districts asked for (none: all) narrowed to the user's area; see :func:`dashboard.context.scope`."""
    return context.scope(districts or None)


def check_in_scope(store, key: str, scope: list[str] | None) -> None:
    if scope is None:
        return
    layer, _, oid = key.partition(":")
    f = store.read(layer, columns=["id", "district_code"], ids=[oid])
    if len(f) == 0 or f["district_code"].iloc[0] not in scope:
        raise AccessDenied(f"对象 {key} 不在您的辖区 (object {key} is outside your area)")


def check_plan_scope(plan: P.Plan) -> None:
    allowed = context.allowed_districts()
    if allowed is None:
        return
    d = plan.params.get("districts")
    if not d or not set(d) <= set(allowed):
        raise AccessDenied(f"无权查看计划 {plan.id} (not allowed to view plan {plan.id})")
