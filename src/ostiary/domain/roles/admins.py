"""The admin user an API token acts as (``ostiary token create --user LOGIN``)."""

from __future__ import annotations

from ostiary.domain.context import Actor, Tx
from ostiary.domain.directory import users as users_domain
from ostiary.domain.errors import Invalid, NotFound
from ostiary.domain.roles import assignments, permissions
from ostiary.domain.roles.authority import is_super_admin
from ostiary.store.models import User

TOKEN_USER_STATUSES = frozenset({"ACTIVE", "PROVISIONED", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT"})
"""A token works while its admin is in one of these; deactivating or suspending the admin stops it."""


async def ensure_super_admin(tx: Tx, login: str) -> User:
    """The user ``login`` names, who must be a super admin; created (without a password, activated)
    and given ``SUPER_ADMIN`` when no such user exists."""
    try:
        user = await users_domain.get_user(tx, login)
    except NotFound:
        local = login.split("@")[0] or login
        profile = {"login": login, "email": login, "firstName": local, "lastName": "Admin"}
        user = await users_domain.create_user(tx, {"profile": profile}, activate=True)
        assignee = await assignments.resolve_assignee(tx, assignments.USER, user.id)
        await assignments.assign_role(tx, assignee, permissions.SUPER_ADMIN, may_change_super_admin=True)
        return user
    if not await is_super_admin(tx, user.id):
        raise Invalid(
            f"{login} is not a super admin",
            code="E0000001",
            causes=["user: a token made here acts as a super admin; name one, or a new login"],
        )
    return user


async def token_admin_actor(tx: Tx, user_id: str) -> Actor | None:
    """The admin an API token acts as, as the actor of what it does; None when that user is
    gone, in another org, or in a status that stops their tokens (deactivated, suspended)."""
    user = await tx.session.get(User, user_id)
    if user is None or user.org_id != tx.org_id or user.status not in TOKEN_USER_STATUSES:
        return None
    who = users_domain.target(user)
    return Actor(user.id, "User", who.alternate_id, who.display_name)
