"""The one access function: what a user may read and which writes are allowed.

Everything that reads or writes for a user asks :func:`authorize` first: every Dash callback and Flask route,
export, route sheet, tooltip, surroundings list, team list, plan save/open/complete and ledger step. It gets
the user from the server session (:class:`Principal`, re-read from the store on every request), never from what
the browser sent, and returns an :class:`Access` that narrows the query.

Roles and what they may do:

==========  ==========================================================================================
admin       everything, the whole city: users, imports, settings, plans, completions, every ledger step
command     the whole city, read; the ledger's city-level steps (listed supervision, blacklist, public naming)
planner     plans and assignments within its scope (the whole city, or its district when it has one)
district    one district and its towns: read, edit hazards, record completions, enforcement orders
town        one town: read, edit hazards, record completions
wall        a kiosk: the wall and its data only (city-wide or one district), read-only
==========  ==========================================================================================

A row belongs to the district of the object it names (a hazard, inspection, accident or plan stop), not to a
district code it carries: :func:`object_places` re-derives it from the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from layers.errors import AccessDenied, ActionDenied
from layers.schema import OBJECT_LAYERS
from layers.store import Store, cached_read

#: what each role may do; ``wall.read`` is the wall page and its data, the only grant of the wall kiosk;
#: ``incident`` opens and closes incidents (in the user's area); ``duty`` sets the weather warning and the roster
GRANTS: dict[str, frozenset[str]] = {
    "admin": frozenset({"read", "wall.read", "plan", "complete", "hazard.edit", "enforce", "ledger.city", "admin",
                        "incident", "duty"}),
    "command": frozenset({"read", "wall.read", "ledger.city", "incident", "duty"}),
    "planner": frozenset({"read", "wall.read", "plan", "complete"}),
    "district": frozenset({"read", "wall.read", "complete", "hazard.edit", "enforce", "incident"}),
    "town": frozenset({"read", "wall.read", "complete", "hazard.edit"}),
    "wall": frozenset({"wall.read"}),
}
ACTIONS = frozenset().union(*GRANTS.values())
#: roles from before the roles issue: ``city`` was the whole city with every step
LEGACY_ROLES = {"city": "admin"}


@dataclass(frozen=True)
class Principal:
    """Who is asking, as the server knows it (never as the browser says)."""

    id: str
    role: str
    district: str | None = None
    town: str | None = None
    display_name: str = ""
    demo: bool = False

    @property
    def city_wide(self) -> bool:
        return self.role in ("admin", "command") or (self.role in ("planner", "wall") and not self.district)


@dataclass(frozen=True)
class Access:
    """The answer of :func:`authorize`: which districts (and towns) a read may return. ``None`` = all."""

    principal: Principal
    action: str
    districts: tuple[str, ...] | None
    towns: tuple[str, ...] | None = None

    def allows(self, district: object, town: object = None) -> bool:
        """Whether a row of ``district`` (and ``town``) is in reach."""
        if self.districts is not None and district not in self.districts:
            return False
        return self.towns is None or town in self.towns

    def mask(self, districts: Iterable[object], towns: Iterable[object] | None = None) -> np.ndarray:
        """Per row: in reach or not."""
        d = np.asarray(list(districts), dtype=object)
        keep = np.ones(len(d), dtype=bool) if self.districts is None else np.isin(d, list(self.districts))
        if self.towns is not None:
            t = np.full(len(d), None, dtype=object) if towns is None else np.asarray(list(towns), dtype=object)
            keep &= np.isin(t, list(self.towns))
        return keep

    def narrow(self, frame: pd.DataFrame, *, district: str = "district_code", town: str = "town_code"
               ) -> pd.DataFrame:
        """The rows of ``frame`` in reach (by its district and town columns)."""
        if self.districts is None and self.towns is None:
            return frame
        towns = frame[town] if town in frame.columns else None
        return frame[self.mask(frame[district], towns)]

    def require(self, district: object, town: object = None) -> None:
        """Raise :class:`AccessDenied` unless a row of ``district``/``town`` is in reach."""
        if not self.allows(district, town):
            raise AccessDenied(f"无权访问区县 {district!r} 的数据 (not allowed to access data of district "
                               f"{district!r})")


def authorize(principal: Principal | None, action: str = "read", *,
              districts: str | Iterable[str] | None = None, towns: str | Iterable[str] | None = None) -> Access:
    """The one access function: may ``principal`` do ``action``, on ``districts``/``towns`` when named?

    Returns the :class:`Access` that narrows every read (the districts asked for, or all the user may see when
    none are asked for). Raises :class:`AccessDenied` when nobody is logged in, the role lacks the action, or a
    district or town asked for lies outside the user's area.
    """
    if principal is None:
        raise AccessDenied("请先登录 (please log in)")
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; known: {sorted(ACTIONS)}")
    role = LEGACY_ROLES.get(principal.role, principal.role)
    if action not in GRANTS.get(role, frozenset()):
        raise ActionDenied(f"角色 {role} 无权执行 {action} (role {role} may not do {action})")
    own_d: tuple[str, ...] | None
    own_t: tuple[str, ...] | None = None
    if role in ("admin", "command"):
        own_d = None
    elif role in ("planner", "wall"):
        own_d = (principal.district,) if principal.district else None
    elif role == "district":
        own_d = (principal.district,) if principal.district else ()
    elif role == "town":
        own_d = (principal.district,) if principal.district and principal.town else ()
        own_t = (principal.town,) if principal.town else ()
    else:
        raise AccessDenied(f"未知角色 {role!r} (unknown role {role!r})")
    own_d = _within(_codes(districts), own_d, "区县", "districts")
    own_t = _within(_codes(towns), own_t, "镇街", "towns")
    return Access(principal=principal, action=action, districts=own_d, towns=own_t)


def _within(asked: list[str] | None, own: tuple[str, ...] | None, zh: str, en: str) -> tuple[str, ...] | None:
    """The codes asked for when all lie inside ``own`` (None = no limit); ``own`` when none are asked for."""
    if asked is None:
        return own
    outside = [c for c in asked if own is not None and c not in own]
    if outside:
        raise AccessDenied(f"无权查看{zh} {outside} (not allowed to view {en} {outside})")
    return tuple(asked)


def _codes(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None or value == "" or value == []:
        return None
    out = [value] if isinstance(value, str) else [str(v) for v in value if v not in (None, "")]
    return out or None


def object_places(store: Store, keys: Sequence[str]) -> pd.DataFrame:
    """District and town of the objects named by ``keys`` (``layer:id``), read from the store.

    Index: the key; columns ``district_code``, ``town_code`` (missing for keys that name no object).
    """
    keys = [str(k) for k in keys]
    by_layer: dict[str, list[str]] = {}
    for k in keys:
        layer, _, oid = k.partition(":")
        if layer in OBJECT_LAYERS and oid:
            by_layer.setdefault(layer, []).append(oid)
    parts = []
    for layer in by_layer:
        f = cached_read(store, layer, columns=["id", "district_code", "town_code"])
        f = f[f["id"].astype(str).isin(set(by_layer[layer]))]
        parts.append(pd.DataFrame({"key": layer + ":" + f["id"].astype(str),
                                   "district_code": f["district_code"].astype(object).to_numpy(),
                                   "town_code": f["town_code"].astype(object).to_numpy()}))
    found = pd.concat(parts, ignore_index=True).set_index("key") if parts else \
        pd.DataFrame(columns=["district_code", "town_code"], index=pd.Index([], name="key"))
    return found.reindex(pd.Index(keys, name="key"))


def require_objects(access: Access, store: Store, keys: Sequence[str]) -> None:
    """Raise :class:`AccessDenied` unless every key names an object of the store within ``access``."""
    if not keys:
        return
    places = object_places(store, keys)
    missing = places.index[places["district_code"].isna() & places["town_code"].isna()].tolist()
    outside = places.index[~access.mask(places["district_code"], places["town_code"])].tolist()
    bad = sorted(set(missing) | set(outside))
    if bad:
        shown = ", ".join(bad[:5]) + (" …" if len(bad) > 5 else "")
        raise AccessDenied(f"无权访问这些对象或对象不存在：{shown} (objects outside your area or unknown: {shown})")


def narrow_by_target(access: Access, store: Store, frame: pd.DataFrame, *, layer: str = "target_layer",
                     oid: str = "target_id") -> pd.DataFrame:
    """Rows of ``frame`` (hazards, inspections, accidents, plan stops) whose target object is in reach; a row
    naming no known object is kept only for a city-wide user."""
    if access.districts is None and access.towns is None:
        return frame
    keys = (frame[layer].astype(str) + ":" + frame[oid].astype(str)).tolist()
    places = object_places(store, keys)
    return frame[access.mask(places["district_code"].to_numpy(), places["town_code"].to_numpy())]


__all__ = ["Principal", "Access", "authorize", "object_places", "require_objects", "narrow_by_target", "GRANTS",
           "ACTIONS"]
