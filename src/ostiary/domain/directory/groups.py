"""Groups (OKTA_GROUP, the built-in Everyone) and their members."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from ostiary import ids
from ostiary.domain.audit.log import Target, record
from ostiary.domain.context import Tx
from ostiary.domain.directory import group_rules
from ostiary.domain.directory import users as users_domain
from ostiary.domain.errors import Forbidden, Invalid, NotFound
from ostiary.domain.roles import principal_cleanup
from ostiary.store.models import Group, GroupMembership, User
from ostiary.store.models.group_rules import GroupRuleMember
from ostiary.store.repositories.paging import Page, fetch_page, fetch_sorted_page
from ostiary.timeutil import utcnow

OKTA_GROUP = "OKTA_GROUP"
BUILT_IN = "BUILT_IN"
_MAX_NAME = 255
_MAX_DESCRIPTION = 1024


def not_found(group_id: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {group_id} (UserGroup)", code="E0000007")


def target(group: Group) -> Target:
    return Target(group.id, "UserGroup", group.name, group.name)


async def get_group(tx: Tx, group_id: str) -> Group:
    stmt = select(Group).where(Group.org_id == tx.org_id, Group.id == group_id)
    group = (await tx.session.scalars(stmt)).first()
    if group is None:
        raise not_found(group_id)
    return group


async def everyone(tx: Tx) -> Group:
    stmt = select(Group).where(Group.org_id == tx.org_id, Group.type == BUILT_IN)
    return (await tx.session.scalars(stmt)).one()


def _validate_profile(raw: object) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise Invalid(
            "Api validation failed: profile", code="E0000001", causes=["profile: must be an object"]
        )
    name = raw.get("name")
    causes = []
    if not isinstance(name, str) or not name.strip():
        causes.append("name: The field cannot be left blank")
    elif len(name) > _MAX_NAME:
        causes.append(f"name: must be at most {_MAX_NAME} characters")
    description = raw.get("description")
    if description is not None and not isinstance(description, str):
        causes.append("description: Does not match required type")
    elif description is not None and len(description) > _MAX_DESCRIPTION:
        causes.append(f"description: must be at most {_MAX_DESCRIPTION} characters")
    for key, value in raw.items():
        if not isinstance(key, str) or isinstance(value, dict):
            causes.append(f"{key}: Does not match required type")
    if causes:
        raise Invalid(f"Api validation failed: {causes[0].split(':')[0]}", code="E0000001", causes=causes)
    profile = dict(raw)
    profile["name"] = str(name).strip()
    profile.setdefault("description", None)
    return profile


def _duplicate_name() -> Invalid:
    return Invalid(
        "Api validation failed: name",
        code="E0000001",
        causes=["name: An object with this field already exists in the current organization"],
    )


async def _ensure_name_free(tx: Tx, name: str, except_id: str | None = None) -> None:
    stmt = select(Group.id).where(Group.org_id == tx.org_id, Group.name_lower == name.lower())
    existing = (await tx.session.scalars(stmt)).first()
    if existing is not None and existing != except_id:
        raise _duplicate_name()


async def create_group(tx: Tx, body: Mapping[str, Any]) -> Group:
    profile = _validate_profile(body.get("profile"))
    await _ensure_name_free(tx, profile["name"])
    now = utcnow()
    group = Group(
        id=ids.new_id(ids.GROUP),
        org_id=tx.org_id,
        type=OKTA_GROUP,
        name=profile["name"],
        name_lower=profile["name"].lower(),
        profile=profile,
        created=now,
        last_updated=now,
        last_membership_updated=now,
    )
    tx.session.add(group)
    try:
        await tx.session.flush()
    except IntegrityError as exc:
        raise _duplicate_name() from exc
    record(tx, "group.lifecycle.create", "Create Okta group", [target(group)])
    return group


async def replace_group(tx: Tx, group_id: str, body: Mapping[str, Any]) -> Group:
    group = await get_group(tx, group_id)
    if group.type != OKTA_GROUP:
        raise Forbidden("You do not have permission to perform the requested action", code="E0000006")
    profile = _validate_profile(body.get("profile"))
    await _ensure_name_free(tx, profile["name"], except_id=group.id)
    group.profile = profile
    group.name = profile["name"]
    group.name_lower = profile["name"].lower()
    group.last_updated = utcnow()
    await tx.session.flush()
    record(tx, "group.profile.update", "Update Okta group profile", [target(group)])
    return group


async def delete_group(tx: Tx, group_id: str) -> None:
    group = await get_group(tx, group_id)
    if group.type != OKTA_GROUP:
        raise Forbidden("You do not have permission to perform the requested action", code="E0000006")
    await group_rules.invalidate_for_group(tx, group.id)
    await tx.session.execute(delete(GroupMembership).where(GroupMembership.group_id == group.id))
    await principal_cleanup.forget_principal(tx, principal_cleanup.GROUP, group.id, target(group))
    await principal_cleanup.forget_target(tx, principal_cleanup.TARGET_GROUP, group.id)
    await tx.session.delete(group)
    record(tx, "group.lifecycle.delete", "Delete Okta group", [target(group)])


async def add_member(tx: Tx, group_id: str, user_id: str, *, audit: bool = True) -> None:
    """Idempotent, as Okta's PUT /groups/{gid}/users/{uid}."""
    group = await get_group(tx, group_id)
    if group.type != OKTA_GROUP:
        raise Forbidden("You do not have permission to perform the requested action", code="E0000006")
    user = await users_domain.get_user(tx, user_id)
    exists = await tx.session.get(GroupMembership, (group.id, user.id))
    if exists is None:
        tx.session.add(
            GroupMembership(group_id=group.id, user_id=user.id, org_id=tx.org_id, created=utcnow())
        )
        group.last_membership_updated = utcnow()
        await tx.session.flush()
    if audit:
        record(
            tx,
            "group.user_membership.add",
            "Add user to group membership",
            [users_domain.target(user), target(group)],
        )


async def remove_member(tx: Tx, group_id: str, user_id: str) -> None:
    group = await get_group(tx, group_id)
    if group.type != OKTA_GROUP:
        raise Forbidden("You do not have permission to perform the requested action", code="E0000006")
    user = await users_domain.get_user(tx, user_id)
    await tx.session.execute(
        delete(GroupMembership).where(
            GroupMembership.group_id == group.id, GroupMembership.user_id == user.id
        )
    )
    # an admin's removal ends the rules' hold too: a later manual add is the admin's, not a rule's
    await tx.session.execute(
        delete(GroupRuleMember).where(
            GroupRuleMember.group_id == group.id, GroupRuleMember.user_id == user.id
        )
    )
    group.last_membership_updated = utcnow()
    record(
        tx,
        "group.user_membership.remove",
        "Remove user from group membership",
        [users_domain.target(user), target(group)],
    )


async def list_members(tx: Tx, group_id: str, *, after: str | None, limit: int) -> Page[User]:
    """Members of a group; every user belongs to the built-in Everyone group."""
    group = await get_group(tx, group_id)
    stmt = select(User).where(User.org_id == tx.org_id)
    if group.type == BUILT_IN:
        stmt = stmt.where(User.status != users_domain.DEPROVISIONED)
    else:
        stmt = stmt.join(GroupMembership, GroupMembership.user_id == User.id).where(
            GroupMembership.group_id == group.id
        )
    return await fetch_page(tx.session, stmt, User.id, after=after, limit=limit)


async def list_groups(
    tx: Tx,
    *,
    q: str | None = None,
    condition: Any = None,
    after: str | None = None,
    limit: int = 200,
    sort: Any = None,
    descending: bool = False,
) -> Page[Group]:
    """Groups of the org; ``sort`` (a ``search``'s ``sortBy``) orders them, ties by id."""
    stmt = select(Group).where(Group.org_id == tx.org_id)
    if q:
        escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Group.name_lower.like(escaped + "%", escape="\\"))
    if condition is not None:
        stmt = stmt.where(condition)
    if sort is not None:
        return await fetch_sorted_page(
            tx.session, stmt, sort, Group.id, descending=descending, after=after, limit=limit
        )
    return await fetch_page(tx.session, stmt, Group.id, after=after, limit=limit)


async def groups_of_user(tx: Tx, user_id: str) -> list[Group]:
    """A user's groups, Everyone included."""
    user = await users_domain.get_user(tx, user_id)
    stmt = (
        select(Group)
        .outerjoin(
            GroupMembership,
            (GroupMembership.group_id == Group.id) & (GroupMembership.user_id == user.id),
        )
        .where(Group.org_id == tx.org_id)
        .where((Group.type == BUILT_IN) | (GroupMembership.user_id.is_not(None)))
        .order_by(Group.id)
    )
    return list((await tx.session.scalars(stmt)).all())


async def count_members(tx: Tx, group_id: str) -> int:
    stmt = select(func.count()).select_from(GroupMembership).where(GroupMembership.group_id == group_id)
    return int((await tx.session.scalar(stmt)) or 0)


async def groups_by_id(tx: Tx, group_ids: list[str]) -> list[Group]:
    """The org's groups among ``group_ids`` (for ``expand=group``)."""
    if not group_ids:
        return []
    stmt = select(Group).where(Group.org_id == tx.org_id, Group.id.in_(group_ids))
    return list(await tx.session.scalars(stmt))
