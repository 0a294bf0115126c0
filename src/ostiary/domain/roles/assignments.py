"""Role assignments to users, groups and client apps, and their group and app targets.

A role without targets applies to the whole org; the first target narrows it to the targets, and
the last one cannot be removed (delete the assignment instead), as Okta does. Only a super admin
assigns or removes ``SUPER_ADMIN`` (the caller's authority is checked by the caller of
:func:`assign_role` and :func:`unassign_role` through ``may_change_super_admin``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from ostiary import ids
from ostiary.domain.audit.log import Target, record
from ostiary.domain.clients.records import get_app
from ostiary.domain.context import Tx
from ostiary.domain.directory import groups as groups_domain
from ostiary.domain.directory import users as users_domain
from ostiary.domain.errors import Conflict, Forbidden, Invalid, NotFound
from ostiary.domain.roles import permissions
from ostiary.store.models import App, Group
from ostiary.store.models.roles import RoleAssignment as RoleAssignment
from ostiary.store.models.roles import RoleTarget
from ostiary.timeutil import utcnow

USER, GROUP, CLIENT = "USER", "GROUP", "CLIENT"
ASSIGNMENT_PREFIX = "ra1"
TARGET_GROUP, TARGET_APP, TARGET_CATALOG_APP = "GROUP", "APP", "CATALOG_APP"
FORBIDDEN = "You do not have permission to perform the requested action"


@dataclass(frozen=True)
class Assignee:
    type: str  # USER, GROUP, CLIENT
    id: str  # the user's or group's id, the client's client_id (the app id)
    target: Target


def not_found(assignment_id: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {assignment_id} (Role)", code="E0000007")


async def resolve_assignee(tx: Tx, assignee_type: str, key: str) -> Assignee:
    """The user (by id or login), group or client app the path names; 404 when there is none."""
    if assignee_type == USER:
        user = await users_domain.get_user(tx, key)
        return Assignee(USER, user.id, users_domain.target(user))
    if assignee_type == GROUP:
        group = await groups_domain.get_group(tx, key)
        return Assignee(GROUP, group.id, groups_domain.target(group))
    app = await get_app(tx, key)
    return Assignee(CLIENT, app.id, Target(app.id, "PublicClientApp", app.id, app.label))


def _role_target(assignment: RoleAssignment) -> Target:
    label = permissions.LABELS.get(assignment.role_type, assignment.role_type)
    return Target(assignment.id, "ROLE", assignment.role_type, label)


async def list_roles(tx: Tx, assignee: Assignee) -> list[RoleAssignment]:
    stmt = (
        select(RoleAssignment)
        .where(
            RoleAssignment.org_id == tx.org_id,
            RoleAssignment.assignee_type == assignee.type,
            RoleAssignment.assignee_id == assignee.id,
        )
        .order_by(RoleAssignment.created, RoleAssignment.id)
    )
    return list(await tx.session.scalars(stmt))


async def get_role(tx: Tx, assignee: Assignee, assignment_id: str) -> RoleAssignment:
    stmt = select(RoleAssignment).where(
        RoleAssignment.org_id == tx.org_id,
        RoleAssignment.assignee_type == assignee.type,
        RoleAssignment.assignee_id == assignee.id,
        RoleAssignment.id == assignment_id,
    )
    found = (await tx.session.scalars(stmt)).first()
    if found is None:
        raise not_found(assignment_id)
    return found


def _forbidden_super() -> Forbidden:
    return Forbidden(
        FORBIDDEN, code="E0000006", causes=["Only a super admin may assign or remove SUPER_ADMIN"]
    )


async def assign_role(
    tx: Tx, assignee: Assignee, role_type: object, *, may_change_super_admin: bool
) -> RoleAssignment:
    if not isinstance(role_type, str) or role_type not in permissions.ROLE_TYPES:
        raise Invalid(
            "Api validation failed: type",
            code="E0000001",
            causes=[f"type: must be one of {', '.join(sorted(permissions.ROLE_TYPES))}"],
        )
    if role_type == permissions.SUPER_ADMIN and not may_change_super_admin:
        raise _forbidden_super()
    existing = await list_roles(tx, assignee)
    if any(r.role_type == role_type for r in existing):
        raise _duplicate()
    now = utcnow()
    assignment = RoleAssignment(
        id=ids.new_id(ASSIGNMENT_PREFIX),
        org_id=tx.org_id,
        assignee_type=assignee.type,
        assignee_id=assignee.id,
        role_type=role_type,
        created=now,
        last_updated=now,
    )
    tx.session.add(assignment)
    try:
        await tx.session.flush()
    except IntegrityError as exc:  # a concurrent assignment of the same role: the request fails
        raise _duplicate() from exc
    record(
        tx,
        f"{_event_prefix(assignee)}.grant",
        f"Grant {_event_noun(assignee)} privilege",
        [assignee.target, _role_target(assignment)],
    )
    return assignment


def _duplicate() -> Conflict:
    return Conflict(
        "The role specified is already assigned to the user.",
        code="E0000090",
        causes=["The role specified is already assigned to the user."],
    )


def _event_prefix(assignee: Assignee) -> str:
    return {USER: "user.account.privilege", GROUP: "group.privilege", CLIENT: "app.oauth2.client.privilege"}[
        assignee.type
    ]


def _event_noun(assignee: Assignee) -> str:
    return {USER: "user", GROUP: "group", CLIENT: "client"}[assignee.type]


async def unassign_role(
    tx: Tx, assignee: Assignee, assignment_id: str, *, may_change_super_admin: bool
) -> None:
    assignment = await get_role(tx, assignee, assignment_id)
    if assignment.role_type == permissions.SUPER_ADMIN and not may_change_super_admin:
        raise _forbidden_super()
    await tx.session.execute(delete(RoleTarget).where(RoleTarget.assignment_id == assignment.id))
    await tx.session.delete(assignment)
    record(
        tx,
        f"{_event_prefix(assignee)}.revoke",
        f"Revoke {_event_noun(assignee)} privilege",
        [assignee.target, _role_target(assignment)],
    )


async def targets_of(tx: Tx, assignment_ids: Sequence[str]) -> dict[str, list[RoleTarget]]:
    """Each assignment's targets (an empty list: the role applies org-wide)."""
    out: dict[str, list[RoleTarget]] = {a: [] for a in assignment_ids}
    if not assignment_ids:
        return out
    stmt = (
        select(RoleTarget)
        .where(RoleTarget.org_id == tx.org_id, RoleTarget.assignment_id.in_(list(assignment_ids)))
        .order_by(RoleTarget.created, RoleTarget.target_id)
    )
    for row in await tx.session.scalars(stmt):
        out[row.assignment_id].append(row)
    return out


async def group_targets(tx: Tx, assignment: RoleAssignment) -> list[Group]:
    ids_ = [
        t.target_id
        for t in (await targets_of(tx, [assignment.id]))[assignment.id]
        if t.target_type == TARGET_GROUP
    ]
    if not ids_:
        return []
    stmt = select(Group).where(Group.org_id == tx.org_id, Group.id.in_(ids_)).order_by(Group.id)
    return list(await tx.session.scalars(stmt))


async def app_targets(tx: Tx, assignment: RoleAssignment) -> list[tuple[str, App | None]]:
    """(catalog app name, the instance or None for every instance of that name)."""
    rows = (await targets_of(tx, [assignment.id]))[assignment.id]
    out: list[tuple[str, App | None]] = []
    for row in rows:
        if row.target_type == TARGET_CATALOG_APP:
            out.append((row.target_id, None))
        elif row.target_type == TARGET_APP:
            app = await tx.session.get(App, row.target_id)
            if app is not None and app.org_id == tx.org_id:
                out.append((app.name, app))
    return out


def _wrong_role(kind: str, allowed: frozenset[str]) -> Invalid:
    return Invalid(
        f"Api validation failed: {kind} target",
        code="E0000001",
        causes=[f"{kind} targets apply only to {', '.join(sorted(allowed))} role assignments"],
    )


async def _add_target(tx: Tx, assignment: RoleAssignment, target_type: str, target_id: str) -> None:
    exists = await tx.session.get(RoleTarget, (assignment.id, target_type, target_id))
    if exists is None:
        tx.session.add(
            RoleTarget(
                assignment_id=assignment.id,
                target_type=target_type,
                target_id=target_id,
                org_id=tx.org_id,
                created=utcnow(),
            )
        )
        assignment.last_updated = utcnow()
        await tx.session.flush()


async def _remove_target(tx: Tx, assignment: RoleAssignment, target_type: str, target_id: str) -> None:
    row = await tx.session.get(RoleTarget, (assignment.id, target_type, target_id))
    if row is None:
        raise NotFound(f"Not found: Resource not found: {target_id} (Target)", code="E0000007")
    kinds = (TARGET_GROUP,) if target_type == TARGET_GROUP else (TARGET_APP, TARGET_CATALOG_APP)
    count = await tx.session.scalar(
        select(func.count()).where(
            RoleTarget.assignment_id == assignment.id, RoleTarget.target_type.in_(kinds)
        )
    )
    if (count or 0) <= 1:
        raise Invalid(
            "Api validation failed: target",
            code="E0000001",
            causes=["The last target of a role assignment cannot be removed: unassign the role instead"],
        )
    await tx.session.delete(row)
    assignment.last_updated = utcnow()


async def add_group_target(tx: Tx, assignment: RoleAssignment, group_id: str) -> None:
    if assignment.role_type not in permissions.GROUP_TARGETED:
        raise _wrong_role("Group", permissions.GROUP_TARGETED)
    group = await groups_domain.get_group(tx, group_id)
    await _add_target(tx, assignment, TARGET_GROUP, group.id)


async def remove_group_target(tx: Tx, assignment: RoleAssignment, group_id: str) -> None:
    await _remove_target(tx, assignment, TARGET_GROUP, group_id)


async def add_app_target(tx: Tx, assignment: RoleAssignment, app_name: str, app_id: str | None) -> None:
    """An app instance target (``app_id``) or every instance of a catalog app name."""
    if assignment.role_type not in permissions.APP_TARGETED:
        raise _wrong_role("App", permissions.APP_TARGETED)
    if app_id is None:
        if not app_name or len(app_name) > 100:
            raise NotFound(f"Not found: Resource not found: {app_name} (App)", code="E0000007")
        await _add_target(tx, assignment, TARGET_CATALOG_APP, app_name)
        return
    app = await get_app(tx, app_id)
    if app.name != app_name:
        raise NotFound(f"Not found: Resource not found: {app_name}/{app_id} (AppInstance)", code="E0000007")
    await _add_target(tx, assignment, TARGET_APP, app.id)


async def remove_app_target(tx: Tx, assignment: RoleAssignment, app_name: str, app_id: str | None) -> None:
    if app_id is None:
        await _remove_target(tx, assignment, TARGET_CATALOG_APP, app_name)
    else:
        await _remove_target(tx, assignment, TARGET_APP, app_id)
