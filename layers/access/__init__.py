"""The access wing: users, roles and what a user may read and write.

``users`` keeps the accounts (password hashes, roles, district).
"""

from layers.access.users import ROLES, add_user, authenticate

__all__ = ["ROLES", "add_user", "authenticate"]
