"""The apps a user or a group is assigned to: ``GET /api/v1/users/{id}/appLinks`` and
``GET /api/v1/groups/{groupId}/apps``.

A user's apps are those assigned to the user directly, to a group the user belongs to, or to
Everyone (not for a deactivated user); only active apps give app links, as in Okta's dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from ostiary.domain.clients import client_jwks
from ostiary.domain.clients.apps import ACTIVE, AppView
from ostiary.domain.context import Tx
from ostiary.domain.directory import groups as groups_domain
from ostiary.domain.directory import users as users_domain
from ostiary.store.models import App, AppGroupAssignment, AppUserAssignment, Group, GroupMembership, User
from ostiary.store.repositories.paging import Page, fetch_page


@dataclass(frozen=True)
class AppLink:
    user: User
    app: App
    direct: bool


async def app_links(tx: Tx, user_id: str) -> list[AppLink]:
    """The active apps ``user_id`` may use, by label then id (404 for an unknown user)."""
    user = await users_domain.get_user(tx, user_id)
    direct = select(AppUserAssignment.app_id).where(
        AppUserAssignment.org_id == tx.org_id, AppUserAssignment.user_id == user.id
    )
    member_of = select(GroupMembership.group_id).where(GroupMembership.user_id == user.id)
    groups = [AppGroupAssignment.group_id.in_(member_of)]
    if user.status != users_domain.DEPROVISIONED:
        everyone = select(Group.id).where(Group.org_id == tx.org_id, Group.type == groups_domain.BUILT_IN)
        groups.append(AppGroupAssignment.group_id.in_(everyone))
    through_groups = select(AppGroupAssignment.app_id).where(
        AppGroupAssignment.org_id == tx.org_id, or_(*groups)
    )
    stmt = (
        select(App)
        .where(App.org_id == tx.org_id, App.status == ACTIVE)
        .where(or_(App.id.in_(direct), App.id.in_(through_groups)))
        .order_by(App.label_lower, App.id)
    )
    apps = list((await tx.session.scalars(stmt)).all())
    directly = set((await tx.session.scalars(direct)).all())
    return [AppLink(user, app, app.id in directly) for app in apps]


async def group_apps(tx: Tx, group_id: str, *, after: str | None, limit: int) -> Page[AppView]:
    """The apps assigned to a group (404 for an unknown group), paged by app id."""
    group = await groups_domain.get_group(tx, group_id)
    assigned = select(AppGroupAssignment.app_id).where(
        AppGroupAssignment.org_id == tx.org_id, AppGroupAssignment.group_id == group.id
    )
    stmt = select(App).where(App.org_id == tx.org_id, App.id.in_(assigned))
    page = await fetch_page(tx.session, stmt, App.id, after=after, limit=limit)
    apps: list[App] = list(page.items)
    keys = await client_jwks.keys_of(tx, [a.id for a in apps])
    return Page([AppView(a, keys[a.id]) for a in apps], page.next_cursor)
