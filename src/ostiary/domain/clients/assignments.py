"""Who may use an app: user assignments (``/api/v1/apps/{appId}/users``) and group
assignments (``/api/v1/apps/{appId}/groups``).

A user is assigned directly (scope ``USER``) or through an assigned group (scope
``GROUP``); assigning the built-in Everyone group assigns every user. The authorize
endpoint asks :func:`is_user_assigned`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.domain.audit.log import record
from ostiary.domain.clients.records import Causes, app_target, get_app
from ostiary.domain.context import Tx
from ostiary.domain.directory import groups as groups_domain
from ostiary.domain.directory import users as users_domain
from ostiary.domain.errors import Forbidden, NotFound
from ostiary.store.models import AppGroupAssignment, AppUserAssignment, Group, GroupMembership, User
from ostiary.store.repositories import user_context as assignment_rows
from ostiary.store.repositories.paging import Page, fetch_page
from ostiary.timeutil import utcnow

USER_SCOPE = "USER"
GROUP_SCOPE = "GROUP"
MAX_USER_NAME = 100
MAX_PRIORITY = 1_000_000


@dataclass(frozen=True)
class AppUser:
    """A user as assigned to an app: the direct assignment, or ``None`` when only a group
    assigns the user (then ``group_assigned`` is when the first group was assigned)."""

    user: User
    assignment: AppUserAssignment | None
    group_assigned: datetime | None = None

    @property
    def scope(self) -> str:
        return USER_SCOPE if self.assignment is not None else GROUP_SCOPE

    @property
    def user_name(self) -> str | None:
        if self.assignment is not None and self.assignment.user_name:
            return self.assignment.user_name
        return self.user.login if len(self.user.login) <= MAX_USER_NAME else None


def app_user_not_found(user_id: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {user_id} (AppUser)", code="E0000007")


def group_assignment_not_found(group_id: str) -> NotFound:
    return NotFound(
        f"Not found: Resource not found: {group_id} (ApplicationGroupAssignment)", code="E0000007"
    )


# --- users -----------------------------------------------------------------------------------


def _user_input(body: Mapping[str, Any]) -> tuple[str, str | None, dict[str, Any]]:
    causes = Causes()
    user_id = body.get("id")
    if not isinstance(user_id, str) or not user_id:
        causes.add("id", "The field cannot be left blank")
    scope = body.get("scope", USER_SCOPE)
    if scope != USER_SCOPE:
        causes.add("scope", "only USER assignments can be made here; assign a group for GROUP scope")
    user_name: str | None = None
    credentials = body.get("credentials")
    if credentials is not None:
        if not isinstance(credentials, Mapping):
            causes.add("credentials", "must be an object")
        else:
            name = credentials.get("userName")
            if name is not None and (not isinstance(name, str) or not 1 <= len(name) <= MAX_USER_NAME):
                causes.add("userName", f"must be a string of 1 to {MAX_USER_NAME} characters")
            elif isinstance(name, str):
                user_name = name
            if "password" in credentials and credentials["password"] not in (None, {}):
                causes.add("password", "User level credentials should not be provided for this scheme.")
    profile = body.get("profile", {})
    if profile is None:
        profile = {}
    if not isinstance(profile, Mapping):
        causes.add("profile", "must be an object")
    causes.raise_if_any()
    assert isinstance(user_id, str) and isinstance(profile, Mapping)
    return user_id, user_name, dict(profile)


async def assign_user(tx: Tx, app_id: str, body: Mapping[str, Any]) -> AppUser:
    """POST /apps/{appId}/users: assign (or update the assignment of) a user."""
    app = await get_app(tx, app_id)
    user_id, user_name, profile = _user_input(body)
    user = await users_domain.get_user(tx, user_id)
    assignment = await tx.session.get(AppUserAssignment, (app.id, user.id))
    now = utcnow()
    if assignment is None:
        assignment = AppUserAssignment(
            app_id=app.id,
            user_id=user.id,
            org_id=tx.org_id,
            scope=USER_SCOPE,
            user_name=user_name,
            profile=profile,
            created=now,
            last_updated=now,
        )
        tx.session.add(assignment)
    else:
        assignment.user_name = user_name or assignment.user_name
        assignment.profile = profile or assignment.profile
        assignment.last_updated = now
    await tx.session.flush()
    record(
        tx,
        "application.user_membership.add",
        "Add user to application membership",
        [users_domain.target(user), app_target(app)],
    )
    return AppUser(user, assignment)


async def update_app_user(tx: Tx, app_id: str, user_id: str, body: Mapping[str, Any]) -> AppUser:
    """POST /apps/{appId}/users/{userId}: change a direct assignment's ``userName`` and profile
    (the profile is merged, as Okta's update does); no direct assignment is a 404."""
    app = await get_app(tx, app_id)
    _id, user_name, profile = _user_input({**body, "id": user_id, "scope": USER_SCOPE})
    user = (
        await tx.session.scalars(select(User).where(User.org_id == tx.org_id, User.id == user_id))
    ).first()
    assignment = await tx.session.get(AppUserAssignment, (app.id, user.id)) if user is not None else None
    if user is None or assignment is None:
        raise app_user_not_found(user_id)
    if user_name is not None:
        assignment.user_name = user_name
    if profile:
        assignment.profile = {**(assignment.profile or {}), **profile}
    assignment.last_updated = utcnow()
    await tx.session.flush()
    record(
        tx,
        "application.user_membership.change_username" if user_name else "application.user_membership.update",
        "Update application user",
        [users_domain.target(user), app_target(app)],
    )
    return AppUser(user, assignment)


async def get_app_user(tx: Tx, app_id: str, user_id: str) -> AppUser:
    app = await get_app(tx, app_id)
    user = (
        await tx.session.scalars(select(User).where(User.org_id == tx.org_id, User.id == user_id))
    ).first()
    if user is None:
        raise app_user_not_found(user_id)
    assignment = await tx.session.get(AppUserAssignment, (app.id, user.id))
    if assignment is not None:
        return AppUser(user, assignment)
    if await assignment_rows.assigned_through_group(tx.session, app.id, user):
        return AppUser(user, None, await _first_group_assignment(tx, app.id))
    raise app_user_not_found(user_id)


async def list_app_users(
    tx: Tx, app_id: str, *, q: str | None, after: str | None, limit: int
) -> Page[AppUser]:
    app = await get_app(tx, app_id)
    stmt = select(User).where(User.org_id == tx.org_id, await _assigned_condition(tx.session, app.id))
    if q:
        prefix = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(User.login_lower.like(prefix, escape="\\"), User.email_lower.like(prefix, escape="\\"))
        )
    page = await fetch_page(tx.session, stmt, User.id, after=after, limit=limit)
    users: list[User] = list(page.items)
    direct_stmt = select(AppUserAssignment).where(
        AppUserAssignment.app_id == app.id, AppUserAssignment.user_id.in_([u.id for u in users])
    )
    direct = {a.user_id: a for a in (await tx.session.scalars(direct_stmt)).all()} if users else {}
    group_assigned = await _first_group_assignment(tx, app.id) if len(direct) < len(users) else None
    items = [AppUser(u, direct.get(u.id), None if u.id in direct else group_assigned) for u in users]
    return Page(items, page.next_cursor)


async def unassign_user(tx: Tx, app_id: str, user_id: str) -> None:
    app = await get_app(tx, app_id)
    assignment = await tx.session.get(AppUserAssignment, (app.id, user_id))
    if assignment is None:
        user = (
            await tx.session.scalars(select(User).where(User.org_id == tx.org_id, User.id == user_id))
        ).first()
        if user is not None and await assignment_rows.assigned_through_group(tx.session, app.id, user):
            raise Forbidden(
                "The user is assigned to the app through a group; unassign the group instead.",
                code="E0000006",
            )
        raise app_user_not_found(user_id)
    user = await users_domain.get_user(tx, user_id)
    await tx.session.delete(assignment)
    record(
        tx,
        "application.user_membership.remove",
        "Remove user from application membership",
        [users_domain.target(user), app_target(app)],
    )


async def is_user_assigned(session: AsyncSession, org_id: str, app_id: str, user_id: str) -> bool:
    """Whether ``user_id`` may use ``app_id``: assigned directly or through a group."""
    return await assignment_rows.is_user_assigned(session, org_id, app_id, user_id)


async def _assigned_condition(session: AsyncSession, app_id: str) -> ColumnElement[bool]:
    direct = select(AppUserAssignment.user_id).where(AppUserAssignment.app_id == app_id)
    if await assignment_rows.everyone_assigned(session, app_id):
        return or_(User.status != users_domain.DEPROVISIONED, User.id.in_(direct))
    through_groups = (
        select(GroupMembership.user_id)
        .join(AppGroupAssignment, AppGroupAssignment.group_id == GroupMembership.group_id)
        .where(AppGroupAssignment.app_id == app_id)
    )
    return or_(User.id.in_(direct), User.id.in_(through_groups))


async def _first_group_assignment(tx: Tx, app_id: str) -> datetime | None:
    stmt = select(func.min(AppGroupAssignment.created)).where(AppGroupAssignment.app_id == app_id)
    value = await tx.session.scalar(stmt)
    return value if isinstance(value, datetime) else None


# --- groups ----------------------------------------------------------------------------------


def _group_input(body: Mapping[str, Any]) -> tuple[int | None, dict[str, Any] | None]:
    causes = Causes()
    priority = body.get("priority")
    if priority is not None and (
        isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= MAX_PRIORITY
    ):
        causes.add("priority", f"must be an integer from 0 to {MAX_PRIORITY}")
    profile = body.get("profile")
    if profile is not None and not isinstance(profile, Mapping):
        causes.add("profile", "must be an object")
    causes.raise_if_any()
    return priority, dict(profile) if isinstance(profile, Mapping) else None


async def assign_group(tx: Tx, app_id: str, group_id: str, body: Mapping[str, Any]) -> AppGroupAssignment:
    """PUT /apps/{appId}/groups/{groupId}: assign a group (idempotent); without a ``priority``
    a new assignment goes after the existing ones."""
    app = await get_app(tx, app_id)
    priority, profile = _group_input(body)
    group = await groups_domain.get_group(tx, group_id)
    assignment = await tx.session.get(AppGroupAssignment, (app.id, group.id))
    now = utcnow()
    if assignment is None:
        if priority is None:
            highest = await tx.session.scalar(
                select(func.max(AppGroupAssignment.priority)).where(AppGroupAssignment.app_id == app.id)
            )
            priority = 0 if highest is None else int(highest) + 1
        assignment = AppGroupAssignment(
            app_id=app.id,
            group_id=group.id,
            org_id=tx.org_id,
            priority=priority,
            profile=profile or {},
            created=now,
            last_updated=now,
        )
        tx.session.add(assignment)
    else:
        if priority is not None:
            assignment.priority = priority
        if profile is not None:
            assignment.profile = profile
        assignment.last_updated = now
    await tx.session.flush()
    record(
        tx,
        "group.application_assignment.add",
        "Add assigned application to group",
        [groups_domain.target(group), app_target(app)],
    )
    return assignment


async def get_group_assignment(tx: Tx, app_id: str, group_id: str) -> AppGroupAssignment:
    app = await get_app(tx, app_id)
    assignment = await tx.session.get(AppGroupAssignment, (app.id, group_id))
    if assignment is None or assignment.org_id != tx.org_id:
        raise group_assignment_not_found(group_id)
    return assignment


async def patch_group_assignment(tx: Tx, app_id: str, group_id: str, ops: list[Any]) -> AppGroupAssignment:
    """PATCH /apps/{appId}/groups/{groupId}: JSON Patch ``replace`` of ``/priority`` or
    ``/profile/<name>``, ``remove`` of ``/profile/<name>``; all or nothing."""
    assignment = await get_group_assignment(tx, app_id, group_id)
    priority, profile = assignment.priority, dict(assignment.profile or {})
    for op in ops:
        causes = Causes()
        if not isinstance(op, Mapping) or op.get("op") not in ("replace", "remove"):
            causes.add("op", "must be replace or remove")
            causes.raise_if_any()
        assert isinstance(op, Mapping)
        path = op.get("path")
        if op["op"] == "replace" and path == "/priority":
            new_priority, _ = _group_input({"priority": op.get("value")})
            priority = new_priority if new_priority is not None else priority
        elif isinstance(path, str) and path.startswith("/profile/") and len(path) > len("/profile/"):
            name = path[len("/profile/") :]
            if op["op"] == "replace":
                profile[name] = op.get("value")
            else:
                profile.pop(name, None)
        else:
            causes.add("path", "must be /priority (replace) or /profile/<attribute>")
            causes.raise_if_any()
    assignment.priority, assignment.profile = priority, profile
    assignment.last_updated = utcnow()
    await tx.session.flush()
    return assignment


async def list_group_assignments(
    tx: Tx, app_id: str, *, q: str | None, after: str | None, limit: int
) -> Page[AppGroupAssignment]:
    app = await get_app(tx, app_id)
    stmt = select(AppGroupAssignment).where(
        AppGroupAssignment.org_id == tx.org_id, AppGroupAssignment.app_id == app.id
    )
    if q:
        prefix = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.join(Group, Group.id == AppGroupAssignment.group_id).where(
            Group.name_lower.like(prefix, escape="\\")
        )
    return await fetch_page(tx.session, stmt, AppGroupAssignment.group_id, after=after, limit=limit)


async def unassign_group(tx: Tx, app_id: str, group_id: str) -> None:
    assignment = await get_group_assignment(tx, app_id, group_id)
    app = await get_app(tx, app_id)
    group = await groups_domain.get_group(tx, group_id)
    await tx.session.delete(assignment)
    record(
        tx,
        "group.application_assignment.remove",
        "Remove assigned application from group",
        [groups_domain.target(group), app_target(app)],
    )
