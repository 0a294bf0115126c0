"""Who may use the admin console.

One function, :func:`console_access`, decides it: an ACTIVE user who holds the ``SUPER_ADMIN``
role (directly or through a group, ``domain.roles``); the members of the group named exactly
``Ostiary Admins`` (:data:`ADMIN_GROUP`) hold it without an assignment. No such group exists until an operator
creates it (API, CLI or the console itself once inside), so a fresh org's console admits nobody
until then: bootstrap with an SSWS token (``ostiary token create``) and
``POST /api/v1/groups`` + ``PUT /api/v1/groups/{id}/users/{userId}``.
"""

from __future__ import annotations

from ostiary.domain.context import Tx
from ostiary.domain.directory import users as users_domain
from ostiary.domain.errors import NotFound
from ostiary.domain.roles.authority import CONSOLE_ADMINS, is_super_admin

ADMIN_GROUP = CONSOLE_ADMINS


async def console_access(tx: Tx, user_id: str) -> bool:
    """True when the user may use the admin console (see the module docstring)."""
    try:
        user = await users_domain.get_user(tx, user_id)
    except NotFound:
        return False
    if user.status != "ACTIVE":
        return False
    return await is_super_admin(tx, user.id)  # members of ADMIN_GROUP are super admins
