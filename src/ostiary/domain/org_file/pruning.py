"""``apply --prune``: delete what an applied org file no longer declares.

Runs after :func:`.applying.apply_org`, in the same transaction, through the domain functions the
management API runs. Built-in objects are never deleted: the ``default`` server (its own custom
scopes, claims and policies are pruned only when the file lists it), the Everyone group, system
scopes, claims and policies. Inside an object the file lists, so are its memberships (a user's
groups), an app's assignments and ``okta.*`` grants, a server's scopes, claims, policies and rules.
Order matters: rules go before the scopes they use, apps before the groups assigned to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from ostiary.domain.authz import claims, policies, scopes, server_admin
from ostiary.domain.clients import apps, assignments, scope_grants
from ostiary.domain.directory import api_tokens, groups, trusted_origins, users
from ostiary.domain.org_file.applying import _Run
from ostiary.store.models import ApiToken, App, AuthorizationServer, Group, User
from ostiary.store.models.clients import AppGrant, AppGroupAssignment, AppUserAssignment
from ostiary.store.models.policies import Scope
from ostiary.store.models.sessions import TrustedOrigin

DEFAULT_SERVER_ID = "default"
BUILT_IN_GROUP = "BUILT_IN"


def _lower(names: Any) -> set[str]:
    return {str(name).strip().lower() for name in names or []}


async def prune_org(run: _Run, doc: Mapping[str, Any], *, keep_token_id: str | None = None) -> None:
    """Delete, noting one ``delete`` change each, what ``doc`` (already applied) does not hold."""
    await _servers(run, doc.get("authorizationServers") or [])
    await _apps(run, doc.get("apps") or [])
    await _users(run, doc.get("users") or [])
    await _groups(run, doc.get("groups") or [])
    await _trusted_origins(run, doc.get("trustedOrigins") or [])
    await _api_tokens(run, doc.get("apiTokens") or [], keep_token_id)


async def _rows(run: _Run, model: Any, *where: Any) -> list[Any]:
    found = await run.tx.session.scalars(select(model).where(model.org_id == run.tx.org_id, *where))
    return list(found.all())


# --- authorization servers --------------------------------------------------------------------


async def _servers(run: _Run, wanted: list[Mapping[str, Any]]) -> None:
    by_id = {s["id"] for s in wanted if s.get("id")}
    by_name = {s["name"].strip() for s in wanted if not s.get("id")}
    manageable = AuthorizationServer.kind.in_(server_admin.MANAGEABLE)  # not the org AS
    for server in await _rows(run, AuthorizationServer, manageable):
        if server.id in by_id or server.name in by_name:
            body = next(s for s in wanted if s.get("id") == server.id or s["name"].strip() == server.name)
            await _server_contents(run, server, body)
        elif server.id != DEFAULT_SERVER_ID:
            await server_admin.delete_server(run.tx, server.id)
            run.note("delete", "authorizationServer", server.name)


async def _server_contents(run: _Run, server: AuthorizationServer, body: Mapping[str, Any]) -> None:
    wanted_policies = {p["name"].strip(): p for p in body.get("policies") or []}
    for policy in await policies.list_policies(run.tx, server.id):
        label = f"{server.name}/{policy.name}"
        if policy.system:
            continue
        if policy.name not in wanted_policies:
            await policies.delete_policy(run.tx, server.id, policy.id)
            run.note("delete", "policy", label)
            continue
        rules = _lower(r["name"] for r in wanted_policies[policy.name].get("rules") or [])
        for rule in await policies.list_rules(run.tx, server.id, policy.id):
            if not rule.system and rule.name.lower() not in rules:
                await policies.delete_rule(run.tx, server.id, policy.id, rule.id)
                run.note("delete", "rule", f"{label}/{rule.name}")
    wanted_claims = {(c["name"].strip(), c.get("claimType")) for c in body.get("claims") or []}
    for claim in await claims.list_claims(run.tx, server.id):
        if not claim.system and (claim.name, claim.claim_type) not in wanted_claims:
            await claims.delete_claim(run.tx, server.id, claim.id)
            run.note("delete", "claim", f"{server.name}/{claim.name}")
    wanted_scopes = {s["name"].strip() for s in body.get("scopes") or []}
    for scope in await _rows(run, Scope, Scope.server_id == server.id):
        if not scope.system and scope.name not in wanted_scopes:
            await scopes.delete_scope(run.tx, server.id, scope.id)
            run.note("delete", "scope", f"{server.name}/{scope.name}")


# --- apps, users, groups ----------------------------------------------------------------------


async def _apps(run: _Run, wanted: list[Mapping[str, Any]]) -> None:
    bodies = {a["label"].strip().lower(): a for a in wanted}
    for app in await _rows(run, App):
        body = bodies.get(app.label.lower())
        if body is None:
            await apps.deactivate_app(run.tx, app.id)
            await apps.delete_app(run.tx, app.id)
            run.note("delete", "app", app.label)
        else:
            await _app_contents(run, app, body)


async def _app_contents(run: _Run, app: App, body: Mapping[str, Any]) -> None:
    wanted = body.get("assignments") or {}
    group_names = _lower(wanted.get("groups"))
    for assignment in await _rows(run, AppGroupAssignment, AppGroupAssignment.app_id == app.id):
        group = await run.tx.session.get(Group, assignment.group_id)
        if group is not None and group.name_lower not in group_names:
            await assignments.unassign_group(run.tx, app.id, group.id)
            run.note("delete", "assignment", f"group {group.name} to {app.label}")
    logins = _lower(wanted.get("users"))
    for direct in await _rows(run, AppUserAssignment, AppUserAssignment.app_id == app.id):
        user = await run.tx.session.get(User, direct.user_id)
        if user is not None and user.login_lower not in logins:
            await assignments.unassign_user(run.tx, app.id, user.id)
            run.note("delete", "assignment", f"user {user.login} to {app.label}")
    grants = set(body.get("grants") or [])
    for grant in await _rows(run, AppGrant, AppGrant.app_id == app.id):
        if grant.scope_id not in grants:
            await scope_grants.revoke_grant(run.tx, app.id, grant.id)
            run.note("delete", "grant", f"{grant.scope_id} to {app.label}")


async def _users(run: _Run, wanted: list[Mapping[str, Any]]) -> None:
    bodies = {u["profile"]["login"].strip().lower(): u for u in wanted}
    for user in await _rows(run, User):
        body = bodies.get(user.login_lower)
        if body is None:
            if user.status != "DEPROVISIONED":  # Okta's two steps: deactivate, then delete
                await users.delete_user(run.tx, user.id)
            await users.delete_user(run.tx, user.id)
            run.note("delete", "user", user.login)
            continue
        names = _lower(body.get("groups"))
        for group in await groups.groups_of_user(run.tx, user.id):
            if group.type != BUILT_IN_GROUP and group.name_lower not in names:
                await groups.remove_member(run.tx, group.id, user.id)
                run.note("delete", "membership", f"{user.login} in {group.name}")


async def _groups(run: _Run, wanted: list[Mapping[str, Any]]) -> None:
    names = _lower(g["profile"]["name"] for g in wanted)
    for group in await _rows(run, Group, Group.type != BUILT_IN_GROUP):
        if group.name_lower not in names:
            await groups.delete_group(run.tx, group.id)
            run.note("delete", "group", group.name)


# --- trusted origins and API tokens -----------------------------------------------------------


async def _trusted_origins(run: _Run, wanted: list[Mapping[str, Any]]) -> None:
    names = _lower(o["name"] for o in wanted)
    for origin in await _rows(run, TrustedOrigin):
        if origin.name.lower() not in names:
            await trusted_origins.delete_origin(run.tx, origin.id)
            run.note("delete", "trustedOrigin", origin.name)


async def _api_tokens(run: _Run, wanted: list[Mapping[str, Any]], keep_token_id: str | None) -> None:
    names = {t["name"].strip() for t in wanted}
    for token in await _rows(run, ApiToken):
        if token.name not in names and token.id != keep_token_id:
            await api_tokens.revoke_token(run.tx, token.id)
            run.note("delete", "apiToken", token.name)
