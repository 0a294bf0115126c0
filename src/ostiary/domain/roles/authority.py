"""What a caller of the management API may do: the roles it holds, with their targets.

Who holds which roles:
- a user: the roles assigned to them and to every group they are a member of;
- an API token: the roles of the admin user who created it (``userId``); a token stored without a
  user (made before tokens had one) acts as a super admin, as it always did;
- a service app (client credentials): the roles assigned to the client. An app with no role
  assignments is not limited by roles (its ``okta.*`` grants alone decide, as before roles
  existed); once it has any role, its scopes count only as far as its roles permit.

A request is allowed when one held role permits the permission and, when that role has targets
that govern the resource's kind (group targets: users and groups; app targets: apps), the resource
is among its targets: a targeted user is a member of a target group; a targeted app is a target
instance or has a target catalog name. A targeted role does not cover collection operations (list
all users, create a user): those need the role without targets.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, or_, select

from ostiary.domain.context import Tx
from ostiary.domain.errors import NotFound
from ostiary.domain.roles import permissions
from ostiary.domain.roles.assignments import CLIENT, GROUP, TARGET_APP, TARGET_CATALOG_APP, TARGET_GROUP, USER
from ostiary.store.models import App, Group, GroupMembership, User
from ostiary.store.models.roles import RoleAssignment, RoleTarget


@dataclass(frozen=True)
class Grant:
    role_type: str
    groups: frozenset[str] = frozenset()
    app_ids: frozenset[str] = frozenset()
    app_names: frozenset[str] = frozenset()

    @property
    def targeted(self) -> bool:
        return bool(self.groups or self.app_ids or self.app_names)


@dataclass(frozen=True)
class Authority:
    """The roles a caller holds. ``grants`` None: not limited by roles (an app without roles)."""

    grants: tuple[Grant, ...] | None

    @property
    def is_super_admin(self) -> bool:
        return self.grants is not None and any(g.role_type == permissions.SUPER_ADMIN for g in self.grants)


SUPER = Authority((Grant(permissions.SUPER_ADMIN),))

CONSOLE_ADMINS = "Ostiary Admins"
"""The group whose members are super admins without a role assignment: the admin console's
documented admin group (``docs/console.md``), so what an admin can do in the console and with
an API token made there is the same."""
UNLIMITED = Authority(None)


@dataclass(frozen=True)
class Resource:
    """The resources a request names in its path (ids as given: a user may be named by login)."""

    user: str | None = None
    group: str | None = None
    app: str | None = None


async def _grants(tx: Tx, where: list[tuple[str, str]]) -> tuple[Grant, ...]:
    if not where:
        return ()
    matches = [
        and_(RoleAssignment.assignee_type == kind, RoleAssignment.assignee_id == key) for kind, key in where
    ]
    stmt = select(RoleAssignment).where(RoleAssignment.org_id == tx.org_id, or_(*matches))
    assignments = list(await tx.session.scalars(stmt))
    if not assignments:
        return ()
    stmt_t = select(RoleTarget).where(
        RoleTarget.org_id == tx.org_id, RoleTarget.assignment_id.in_([a.id for a in assignments])
    )
    by_assignment: dict[str, list[RoleTarget]] = {}
    for row in await tx.session.scalars(stmt_t):
        by_assignment.setdefault(row.assignment_id, []).append(row)
    grants = []
    for a in assignments:
        rows = by_assignment.get(a.id, [])
        grants.append(
            Grant(
                a.role_type,
                groups=frozenset(r.target_id for r in rows if r.target_type == TARGET_GROUP),
                app_ids=frozenset(r.target_id for r in rows if r.target_type == TARGET_APP),
                app_names=frozenset(r.target_id for r in rows if r.target_type == TARGET_CATALOG_APP),
            )
        )
    return tuple(grants)


async def for_user(tx: Tx, user_id: str) -> Authority:
    """The user's roles: their own and their groups'. No roles: an authority that permits nothing."""
    stmt = (
        select(GroupMembership.group_id, Group.name)
        .join(Group, Group.id == GroupMembership.group_id)
        .where(GroupMembership.org_id == tx.org_id, GroupMembership.user_id == user_id)
    )
    groups = list(await tx.session.execute(stmt))
    grants = await _grants(tx, [(USER, user_id), *((GROUP, g) for g, _name in groups)])
    if any(name == CONSOLE_ADMINS for _g, name in groups):
        grants = (*grants, Grant(permissions.SUPER_ADMIN))
    return Authority(grants)


async def for_client(tx: Tx, client_id: str) -> Authority:
    """The client's roles, or :data:`UNLIMITED` when it has none (apps made before roles existed)."""
    grants = await _grants(tx, [(CLIENT, client_id)])
    return Authority(grants) if grants else UNLIMITED


async def is_super_admin(tx: Tx, user_id: str) -> bool:
    """Whether the user holds ``SUPER_ADMIN`` (directly or through a group) in ``tx``'s org."""
    return (await for_user(tx, user_id)).is_super_admin


async def permits(tx: Tx, authority: Authority, permission: str, resource: Resource) -> bool:
    if authority.grants is None:
        return True
    kind = permissions.resource_kind(permission)
    protected = (
        not permission.endswith(".read")
        and kind in ("user", "group")
        and not authority.is_super_admin
        and await _holds_roles(tx, kind, resource)
    )
    if protected:  # changing an admin, or a group that gives roles: super admins only
        return False
    for grant in authority.grants:
        if not permissions.role_permits(grant.role_type, permission):
            continue
        if not grant.targeted or kind is None:
            return True
        if await _within_targets(tx, grant, kind, resource):
            return True
    return False


async def may_add_to_groups(tx: Tx, authority: Authority, group_ids: list[str]) -> bool:
    """Whether the caller may put a new user in these groups (``groupIds`` of a user creation):
    only a super admin puts anyone in a group that has roles."""
    if authority.grants is None or authority.is_super_admin:
        return True
    for group_id in group_ids:
        if await _group_holds_roles(tx, group_id):
            return False
    return True


async def _group_holds_roles(tx: Tx, group_id: str) -> bool:
    """Whether the group gives its members a role: an assignment, or being the console's admins."""
    if await _grants(tx, [(GROUP, group_id)]):
        return True
    group = await tx.session.get(Group, group_id)
    return group is not None and group.org_id == tx.org_id and group.name == CONSOLE_ADMINS


async def _holds_roles(tx: Tx, kind: str, resource: Resource) -> bool:
    """Whether the user (directly or through a group) or the group holds any admin role."""
    if kind == "group":
        if resource.group is None:
            return False
        return await _group_holds_roles(tx, resource.group)
    if resource.user is None:
        return False
    user_id = await _user_id(tx, resource.user)
    if user_id is None:
        return False
    return bool((await for_user(tx, user_id)).grants)


async def _within_targets(tx: Tx, grant: Grant, kind: str, resource: Resource) -> bool:
    if grant.groups and grant.role_type in permissions.GROUP_TARGETED:
        if kind == "group":
            return resource.group is not None and resource.group in grant.groups
        if kind == "user":
            return resource.user is not None and await _member_of_any(tx, resource.user, grant.groups)
        return True  # group targets do not narrow apps
    if grant.role_type in permissions.APP_TARGETED and kind == "app":
        if resource.app is None:
            return False
        if resource.app in grant.app_ids:
            return True
        app = await tx.session.get(App, resource.app)
        return app is not None and app.org_id == tx.org_id and app.name in grant.app_names
    return True


async def _member_of_any(tx: Tx, user_key: str, groups: frozenset[str]) -> bool:
    user_id = await _user_id(tx, user_key)
    if user_id is None:
        return False
    stmt = select(GroupMembership.group_id).where(
        GroupMembership.org_id == tx.org_id,
        GroupMembership.user_id == user_id,
        GroupMembership.group_id.in_(list(groups)),
    )
    return (await tx.session.scalars(stmt)).first() is not None


async def _user_id(tx: Tx, key: str) -> str | None:
    user = await tx.session.get(User, key)
    if user is not None and user.org_id == tx.org_id:
        return user.id
    from ostiary.domain.directory import users as users_domain

    try:
        return (await users_domain.get_user(tx, key)).id
    except NotFound:
        return None
