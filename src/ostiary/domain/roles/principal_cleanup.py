"""Role assignments leave with what they name: deleting a user, a group or an app deletes the
roles assigned to it, and the targets that name it.

A target narrows a role; an assignment whose last target is deleted is deleted too, since an
assignment without targets applies to the whole org and must not widen because its group or app
went away. Each removal is logged as the matching ``*.privilege.revoke`` event.

Imported by the directory and the clients (their delete operations), so it imports neither.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select

from ostiary.domain.audit.log import Target, record
from ostiary.domain.context import Tx
from ostiary.domain.roles import permissions
from ostiary.store.models.roles import RoleAssignment, RoleTarget

USER, GROUP, CLIENT = "USER", "GROUP", "CLIENT"  # RoleAssignment.assignee_type
TARGET_GROUP, TARGET_APP = "GROUP", "APP"  # RoleTarget.target_type
_EVENTS = {
    USER: ("user.account.privilege.revoke", "Revoke user privilege", "User"),
    GROUP: ("group.privilege.revoke", "Revoke group privilege", "UserGroup"),
    CLIENT: ("app.oauth2.client.privilege.revoke", "Revoke client privilege", "PublicClientApp"),
}


def _revoke(tx: Tx, assignment: RoleAssignment, assignee: Target | None) -> None:
    event, message, kind = _EVENTS.get(assignment.assignee_type, _EVENTS[USER])
    who = assignee or Target(assignment.assignee_id, kind, assignment.assignee_id, assignment.assignee_id)
    label = permissions.LABELS.get(assignment.role_type, assignment.role_type)
    record(tx, event, message, [who, Target(assignment.id, "ROLE", assignment.role_type, label)])


async def _delete(tx: Tx, assignment: RoleAssignment, assignee: Target | None) -> None:
    await tx.session.execute(delete(RoleTarget).where(RoleTarget.assignment_id == assignment.id))
    await tx.session.delete(assignment)
    _revoke(tx, assignment, assignee)


async def forget_principal(tx: Tx, assignee_type: str, assignee_id: str, assignee: Target) -> None:
    """Delete every role assigned to the user, group or client being deleted."""
    rows = await tx.session.scalars(
        select(RoleAssignment).where(
            RoleAssignment.org_id == tx.org_id,
            RoleAssignment.assignee_type == assignee_type,
            RoleAssignment.assignee_id == assignee_id,
        )
    )
    for assignment in list(rows):
        await _delete(tx, assignment, assignee)
    await tx.session.flush()


async def forget_target(tx: Tx, target_type: str, target_id: str) -> None:
    """Remove the group or app being deleted from every role's targets; an assignment left
    without targets is deleted (it would otherwise cover the whole org)."""
    narrowed = list(
        await tx.session.scalars(
            select(RoleTarget.assignment_id).where(
                RoleTarget.org_id == tx.org_id,
                RoleTarget.target_type == target_type,
                RoleTarget.target_id == target_id,
            )
        )
    )
    if not narrowed:
        return
    await tx.session.execute(
        delete(RoleTarget).where(
            RoleTarget.org_id == tx.org_id,
            RoleTarget.target_type == target_type,
            RoleTarget.target_id == target_id,
        )
    )
    for assignment_id in narrowed:
        left = await tx.session.scalar(
            select(func.count()).select_from(RoleTarget).where(RoleTarget.assignment_id == assignment_id)
        )
        assignment = await tx.session.get(RoleAssignment, assignment_id)
        if not left and assignment is not None:
            await _delete(tx, assignment, None)
    await tx.session.flush()
