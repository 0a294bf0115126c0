"""``expand=stats`` on group lists: members, app assignments and admin privilege of each group."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, select

from ostiary.domain.context import Tx
from ostiary.domain.roles.assignments import GROUP
from ostiary.domain.roles.authority import CONSOLE_ADMINS
from ostiary.store.models import AppGroupAssignment, Group, GroupMembership, User
from ostiary.store.models.roles import RoleAssignment

_BUILT_IN = "BUILT_IN"
_DEPROVISIONED = "DEPROVISIONED"


@dataclass(frozen=True)
class GroupStats:
    users_count: int
    apps_count: int
    has_admin_privilege: bool


async def stats_of(tx: Tx, groups: Sequence[Group]) -> dict[str, GroupStats]:
    """Stats of each group, in four queries whatever the page size. Everyone counts every user
    but the deprovisioned (its members are not stored)."""
    ids = [g.id for g in groups]
    if not ids:
        return {}
    members = await _counts(
        tx,
        select(GroupMembership.group_id, func.count())
        .where(GroupMembership.org_id == tx.org_id, GroupMembership.group_id.in_(ids))
        .group_by(GroupMembership.group_id),
    )
    apps = await _counts(
        tx,
        select(AppGroupAssignment.group_id, func.count())
        .where(AppGroupAssignment.org_id == tx.org_id, AppGroupAssignment.group_id.in_(ids))
        .group_by(AppGroupAssignment.group_id),
    )
    admins = set(
        await tx.session.scalars(
            select(RoleAssignment.assignee_id).where(
                RoleAssignment.org_id == tx.org_id,
                RoleAssignment.assignee_type == GROUP,
                RoleAssignment.assignee_id.in_(ids),
            )
        )
    )
    everyone_count = 0
    if any(g.type == _BUILT_IN for g in groups):
        everyone_count = int(
            await tx.session.scalar(
                select(func.count()).where(User.org_id == tx.org_id, User.status != _DEPROVISIONED)
            )
            or 0
        )
    return {
        g.id: GroupStats(
            users_count=everyone_count if g.type == _BUILT_IN else int(members.get(g.id, 0)),
            apps_count=int(apps.get(g.id, 0)),
            has_admin_privilege=g.id in admins or g.name == CONSOLE_ADMINS,
        )
        for g in groups
    }


async def _counts(tx: Tx, stmt: Select[str, int]) -> dict[str, int]:
    return {str(key): int(count) for key, count in (await tx.session.execute(stmt)).all()}
