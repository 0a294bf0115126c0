"""What tokens read of a user besides the user row: group memberships, the app profile of a
direct assignment, and whether the user is assigned to an app at all."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.store.models import AppGroupAssignment, AppUserAssignment, Group, GroupMembership, User

BUILT_IN: Final = "BUILT_IN"
"""The type of the Everyone group."""
DEPROVISIONED: Final = "DEPROVISIONED"


async def group_ids_and_names(session: AsyncSession, org_id: str, user_id: str) -> list[tuple[str, str]]:
    """The user's groups, Everyone included, in id order."""
    stmt = (
        select(Group.id, Group.name)
        .outerjoin(
            GroupMembership,
            (GroupMembership.group_id == Group.id) & (GroupMembership.user_id == user_id),
        )
        .where(Group.org_id == org_id)
        .where((Group.type == BUILT_IN) | (GroupMembership.user_id.is_not(None)))
        .order_by(Group.id)
    )
    return [(row.id, row.name) for row in (await session.execute(stmt)).all()]


async def app_user_profile(session: AsyncSession, org_id: str, app_id: str, user_id: str) -> dict[str, Any]:
    row = await session.get(AppUserAssignment, (app_id, user_id))
    if row is None or row.org_id != org_id:
        return {}
    return dict(row.profile or {})


async def is_user_assigned(session: AsyncSession, org_id: str, app_id: str, user_id: str) -> bool:
    """Whether ``user_id`` may use ``app_id``: assigned directly or through a group (Everyone:
    every user but a deprovisioned one)."""
    direct = await session.get(AppUserAssignment, (app_id, user_id))
    if direct is not None and direct.org_id == org_id:
        return True
    user = (await session.scalars(select(User).where(User.org_id == org_id, User.id == user_id))).first()
    return user is not None and await assigned_through_group(session, app_id, user)


async def everyone_assigned(session: AsyncSession, app_id: str) -> bool:
    stmt = select(
        exists().where(
            AppGroupAssignment.app_id == app_id,
            AppGroupAssignment.group_id == Group.id,
            Group.type == BUILT_IN,
        )
    )
    return bool(await session.scalar(stmt))


async def assigned_through_group(session: AsyncSession, app_id: str, user: User) -> bool:
    if user.status != DEPROVISIONED and await everyone_assigned(session, app_id):
        return True
    stmt = select(
        exists().where(
            AppGroupAssignment.app_id == app_id,
            GroupMembership.group_id == AppGroupAssignment.group_id,
            GroupMembership.user_id == user.id,
        )
    )
    return bool(await session.scalar(stmt))
