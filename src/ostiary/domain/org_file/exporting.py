"""A local org as Okta's management JSON (:class:`.from_okta.OktaOrg`), for ``ostiary export``.

Each object is rendered by the renderer its ``GET /api/v1/...`` endpoint uses, so a local export
and one read through the API go through the same converter (:func:`.from_okta.to_file`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import select

from ostiary.domain.authz import claims, policies, scopes, server_admin
from ostiary.domain.authz.server_json import claim_json, policy_json, rule_json, scope_json, server_json
from ostiary.domain.clients import apps
from ostiary.domain.clients.app_json import app_json
from ostiary.domain.clients.records import public_app_id
from ostiary.domain.context import Tx
from ostiary.domain.directory import groups, trusted_origins, users
from ostiary.domain.directory.directory_json import group_json, user_json
from ostiary.domain.org_file.from_okta import OktaOrg
from ostiary.store.models import ApiToken
from ostiary.store.models.clients import AppGrant, AppGroupAssignment, AppUserAssignment
from ostiary.store.models.directory import GroupMembership

PAGE = 200


async def _all(list_page: Callable[[str | None], Awaitable[Any]]) -> list[Any]:
    items: list[Any] = []
    after: str | None = None
    while True:
        page = await list_page(after)
        items.extend(page.items)
        if not page.next_cursor:
            return items
        after = page.next_cursor


async def _rows(tx: Tx, model: Any) -> Sequence[Any]:
    return (await tx.session.scalars(select(model).where(model.org_id == tx.org_id))).all()


async def _scopes(tx: Tx, server_id: str) -> list[Any]:
    return await _all(lambda after: scopes.list_scopes(tx, server_id, q=None, after=after, limit=PAGE))


async def read_org(tx: Tx, *, org_url: str) -> OktaOrg:
    """The org of ``tx`` as its management API would return it at ``org_url``."""
    base = org_url.rstrip("/")
    org = OktaOrg()
    org.groups = [
        group_json(g, base) for g in await _all(lambda a: groups.list_groups(tx, after=a, limit=PAGE))
    ]
    org.users = [user_json(u, base) for u in await _all(lambda a: users.list_users(tx, after=a, limit=PAGE))]
    for membership in await _rows(tx, GroupMembership):
        org.user_groups.setdefault(membership.user_id, []).append(membership.group_id)
    views = await _all(lambda a: apps.list_apps(tx, after=a, limit=PAGE))
    org.apps = [app_json(v, base) for v in views]
    public = {v.app.id: public_app_id(v.app) for v in views}  # rows name the app by its client_id
    for group_assignment in await _rows(tx, AppGroupAssignment):
        org.app_groups.setdefault(public[group_assignment.app_id], []).append(group_assignment.group_id)
    for user_assignment in await _rows(tx, AppUserAssignment):
        org.app_users.setdefault(public[user_assignment.app_id], []).append(user_assignment.user_id)
    for grant in await _rows(tx, AppGrant):
        org.app_grants.setdefault(public[grant.app_id], []).append(grant.scope_id)
    servers = await _all(lambda a: server_admin.list_servers(tx, q=None, after=a, limit=PAGE))
    for server in servers:
        org.servers.append(server_json(server, base, base, None))
        org.scopes[server.id] = [scope_json(s, base) for s in await _scopes(tx, server.id)]
        org.claims[server.id] = [claim_json(c, base) for c in await claims.list_claims(tx, server.id)]
        server_policies = await policies.list_policies(tx, server.id)
        org.policies[server.id] = [policy_json(p, base) for p in server_policies]
        for policy in server_policies:
            org.rules[policy.id] = [
                rule_json(r, base) for r in await policies.list_rules(tx, server.id, policy.id)
            ]
    org.trusted_origins = [
        {"name": o.name, "origin": o.origin, "scopes": list(o.scopes), "status": o.status}
        for o in await _all(lambda a: trusted_origins.list_origins(tx, after=a, limit=PAGE))
    ]
    org.api_tokens = [{"name": t.name} for t in await _rows(tx, ApiToken)]
    return org
