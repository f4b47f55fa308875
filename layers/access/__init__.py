"""The access wing: users, roles, sessions and the one function that says what a user may read and write.

* ``policy`` — :func:`authorize` (the one access function), :class:`Principal`, :class:`Access`, and the
  look-up of the district an object lies in (a row belongs to the district of the object it names).
* ``users`` — accounts, server-side sessions and wall kiosk tokens.
* ``throttle`` — login lock-out after repeated failures.
"""

from layers.access.policy import (
    ACTIONS,
    GRANTS,
    Access,
    Principal,
    authorize,
    narrow_by_target,
    object_places,
    require_objects,
)
from layers.access.throttle import LoginThrottle
from layers.access.users import (
    LOGIN_ROLES,
    MIN_PASSWORD,
    ROLES,
    add_user,
    authenticate,
    end_session,
    issue_wall_token,
    list_users,
    list_wall_tokens,
    revoke_wall_token,
    session_principal,
    session_principal_until,
    set_disabled,
    set_password,
    set_role,
    start_session,
    user_principal,
    wall_principal,
)

__all__ = ["ACTIONS", "GRANTS", "Access", "Principal", "authorize", "narrow_by_target", "object_places",
           "require_objects", "LoginThrottle", "LOGIN_ROLES", "MIN_PASSWORD", "ROLES", "add_user", "authenticate",
           "end_session", "issue_wall_token", "list_users", "list_wall_tokens", "revoke_wall_token",
           "session_principal", "session_principal_until", "set_disabled", "set_password", "set_role", "start_session", "user_principal",
           "wall_principal"]
