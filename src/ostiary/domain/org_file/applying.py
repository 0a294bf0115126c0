"""Bring an org to a checked org file, changing only what differs (see :mod:`.document`).

Everything goes through the domain functions the management API runs, inside the caller's
transaction, so a failure anywhere leaves the org as it was. Each change is reported as one
:class:`Change`; with ``prune`` what the file no longer has is deleted (:mod:`.pruning`); a user's
password, an app's client secret and an API token's value are set when the object is created.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select

from ostiary.domain.authz import claims, policies, scopes, server_admin
from ostiary.domain.authz.policies import (
    _policy_attributes,
    _rule_attributes,
)
from ostiary.domain.clients import apps, assignments, scope_grants
from ostiary.domain.clients.app_spec import parse_app_spec
from ostiary.domain.context import Tx
from ostiary.domain.directory import api_tokens, groups, trusted_origins, users
from ostiary.domain.errors import DomainError, NotFound
from ostiary.domain.org_file.document import KEYWORDS, OrgFileError
from ostiary.store.models import ApiToken, App, AuthorizationServer, Group
from ostiary.store.models.policies import Scope
from ostiary.store.models.sessions import TrustedOrigin

T = TypeVar("T")
APP_FIELDS = (
    "label",
    "application_type",
    "token_endpoint_auth_method",
    "pkce_required",
    "redirect_uris",
    "post_logout_redirect_uris",
    "response_types",
    "grant_types",
)


@dataclass(frozen=True)
class Change:
    verb: str  # create, update, delete
    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.verb} {self.kind} {self.name}"


class _Run:
    def __init__(self, tx: Tx, org_url: str) -> None:
        self.tx, self.org_url, self.changes = tx, org_url, list[Change]()

    def note(self, verb: str, kind: str, name: str) -> None:
        self.changes.append(Change(verb, kind, name))

    async def at(self, path: str, step: Awaitable[T]) -> T:
        """Run ``step``; a domain error becomes an :class:`OrgFileError` at ``path``."""
        try:
            return await step
        except DomainError as exc:
            causes = "; ".join(exc.causes)
            raise OrgFileError(path, exc.message + (f" ({causes})" if causes else "")) from None

    async def group_id(self, name: str, path: str) -> str:
        group = await self.tx.session.scalar(
            select(Group).where(Group.org_id == self.tx.org_id, Group.name_lower == name.lower())
        )
        if group is None:
            raise OrgFileError(path, f"no group named '{name}'")
        return group.id

    async def user_id(self, login: str, path: str) -> str:
        try:
            return (await users.get_user(self.tx, login)).id
        except NotFound:
            raise OrgFileError(path, f"no user with login '{login}'") from None

    async def app_id(self, label: str, path: str) -> str:
        app = await _app_by_label(self.tx, label)
        if app is None:
            raise OrgFileError(path, f"no app labelled '{label}'")
        return app.id


async def apply_org(
    tx: Tx, doc: Mapping[str, Any], *, org_url: str, prune: bool = False, keep_token_id: str | None = None
) -> list[Change]:
    """Apply a document already checked by :func:`document.check`; return the changes made.

    With ``prune``, then delete what the document does not hold (never built-ins, never the API
    token ``keep_token_id``).
    """
    run = _Run(tx, org_url)
    for index, group in enumerate(doc.get("groups") or []):
        await _group(run, group, f"groups[{index}]")
    for index, user in enumerate(doc.get("users") or []):
        await _user(run, user, f"users[{index}]")
    for index, app in enumerate(doc.get("apps") or []):
        await _app(run, app, f"apps[{index}]")
    for index, server in enumerate(doc.get("authorizationServers") or []):
        await _server(run, server, f"authorizationServers[{index}]")
    for index, origin in enumerate(doc.get("trustedOrigins") or []):
        await _trusted_origin(run, origin, f"trustedOrigins[{index}]")
    for index, token in enumerate(doc.get("apiTokens") or []):
        await _api_token(run, token, f"apiTokens[{index}]")
    if prune:
        from ostiary.domain.org_file.pruning import prune_org  # it builds on this module

        await prune_org(run, doc, keep_token_id=keep_token_id)
    return run.changes


# --- trusted origins and API tokens -----------------------------------------------------------


async def _trusted_origin(run: _Run, body: Mapping[str, Any], path: str) -> None:
    name = body["name"].strip()
    existing = await run.tx.session.scalar(
        select(TrustedOrigin).where(
            TrustedOrigin.org_id == run.tx.org_id, TrustedOrigin.name_lower == name.lower()
        )
    )
    if existing is None:
        await run.at(path, trusted_origins.create_origin(run.tx, body))
        run.note("create", "trustedOrigin", name)
        return
    wanted_origin = trusted_origins.canonical_origin(
        body.get("origin") if isinstance(body.get("origin"), str) else None
    )
    wanted_scopes = sorted(
        str(scope.get("type")) for scope in body.get("scopes") or [] if isinstance(scope, Mapping)
    )
    current_scopes = sorted(str(scope.get("type")) for scope in existing.scopes)
    if (existing.name, existing.origin, current_scopes) != (name, wanted_origin, wanted_scopes):
        await run.at(path, trusted_origins.replace_origin(run.tx, existing.id, body))
        run.note("update", "trustedOrigin", name)


async def _api_token(run: _Run, body: Mapping[str, Any], path: str) -> None:
    """Created when no token has the name; a fixed ``token`` must then match the stored one."""
    name = body["name"].strip()
    fixed = body.get("token")
    existing = await run.tx.session.scalar(
        select(ApiToken).where(ApiToken.org_id == run.tx.org_id, ApiToken.name == name)
    )
    if existing is None:
        await run.at(path, api_tokens.create_token(run.tx, name, plaintext=fixed))
        run.note("create", "apiToken", name)
    elif fixed is not None and not hmac.compare_digest(existing.token_hash, api_tokens.digest(fixed)):
        raise OrgFileError(
            f"{path}.token", f"the API token named '{name}' has another value (revoke it first)"
        )


# --- groups and users -------------------------------------------------------------------------


async def _group(run: _Run, body: Mapping[str, Any], path: str) -> None:
    profile = dict(body["profile"])
    name = profile["name"].strip()
    existing = await run.tx.session.scalar(
        select(Group).where(Group.org_id == run.tx.org_id, Group.name_lower == name.lower())
    )
    if existing is None:
        await run.at(path, groups.create_group(run.tx, {"profile": profile}))
        run.note("create", "group", name)
    elif any(existing.profile.get(key) != value for key, value in profile.items()):
        await run.at(
            path, groups.replace_group(run.tx, existing.id, {"profile": {**existing.profile, **profile}})
        )
        run.note("update", "group", name)


async def _user(run: _Run, body: Mapping[str, Any], path: str) -> None:
    profile = dict(body["profile"])
    login = profile["login"].strip()
    profile.setdefault("email", login)
    try:
        user = await users.get_user(run.tx, login)
    except NotFound:
        okta_body: dict[str, Any] = {"profile": profile, **({"type": body["type"]} if "type" in body else {})}
        credentials = dict(body.get("credentials") or {})
        if body.get("password") is not None:
            credentials["password"] = {"value": body["password"]}
        if credentials:
            okta_body["credentials"] = credentials
        activate = body.get("status", "ACTIVE") == "ACTIVE"
        user = await run.at(path, users.create_user(run.tx, okta_body, activate=activate))
        run.note("create", "user", login)
    else:
        if any(user.profile.get(key) != value for key, value in profile.items()):
            await run.at(path, users.update_user(run.tx, user.id, {"profile": profile}, partial=True))
            run.note("update", "user", login)
        if body.get("status", "ACTIVE") == "ACTIVE" and user.status == "STAGED":
            await run.at(f"{path}.status", users.activate(run.tx, user.id))
            run.note("update", "user", f"{login} (activate)")
    current = {group.name_lower for group in await groups.groups_of_user(run.tx, user.id)}
    for index, name in enumerate(body.get("groups") or []):
        if name.lower() not in current:
            group_id = await run.group_id(name, f"{path}.groups[{index}]")
            await run.at(f"{path}.groups[{index}]", groups.add_member(run.tx, group_id, user.id))
            run.note("create", "membership", f"{login} in {name}")


# --- apps -------------------------------------------------------------------------------------


async def _app_by_label(tx: Tx, label: str) -> App | None:
    found = await tx.session.scalars(
        select(App).where(App.org_id == tx.org_id, App.label_lower == label.strip().lower())
    )
    return found.first()


def _okta_app_body(body: Mapping[str, Any]) -> dict[str, Any]:
    okta = {key: value for key, value in body.items() if key not in ("assignments", "grants")}
    okta.setdefault("name", "oidc_client")
    okta.setdefault("signOnMode", "OPENID_CONNECT")
    return okta


async def _app(run: _Run, body: Mapping[str, Any], path: str) -> None:
    okta = _okta_app_body(body)
    label = okta["label"].strip()
    oauth = (okta.get("credentials") or {}).get("oauthClient") or {}
    client_id = oauth.get("client_id")
    existing = await _app_by_label(run.tx, label)
    if existing is None and isinstance(client_id, str):
        existing = await run.tx.session.get(App, client_id)
        if existing is not None and existing.org_id != run.tx.org_id:
            # A client_id is unique across the server's orgs.
            raise OrgFileError(f"{path}.credentials.oauthClient.client_id", "taken by an app of another org")
    if existing is None:
        # A fixed client_id comes in the body, as through the API: the app's id is another one.
        view = await run.at(path, apps.create_app(run.tx, okta))
        app_id = view.app.id
        run.note("create", "app", label)
    else:
        app_id = existing.id
        spec = await run.at(path, _spec(okta, app_id))
        if any(getattr(existing, name) != getattr(spec, name) for name in APP_FIELDS):
            without_secret = _without_secret(okta)
            await run.at(path, apps.replace_app(run.tx, app_id, without_secret))
            run.note("update", "app", label)
    await _assignments(run, app_id, label, body.get("assignments") or {}, f"{path}.assignments")
    granted = await scope_grants.okta_scopes_of(run.tx, app_id)
    for index, scope in enumerate(body.get("grants") or []):
        if scope not in granted:
            grant = {"scopeId": scope, "issuer": run.org_url}
            await run.at(
                f"{path}.grants[{index}]",
                scope_grants.grant_scope(run.tx, app_id, grant, org_url=run.org_url),
            )
            run.note("create", "grant", f"{scope} to {label}")


async def _spec(okta: Mapping[str, Any], app_id: str) -> Any:
    return parse_app_spec(okta, app_id=app_id)


def _without_secret(okta: Mapping[str, Any]) -> dict[str, Any]:
    """The body with no ``client_secret``: a secret is set when the app is created (not compared)."""
    credentials = dict(okta.get("credentials") or {})
    oauth = {k: v for k, v in (credentials.get("oauthClient") or {}).items() if k != "client_secret"}
    return {**okta, "credentials": {**credentials, "oauthClient": oauth}}


async def _assignments(run: _Run, app_id: str, label: str, wanted: Mapping[str, Any], path: str) -> None:
    for index, name in enumerate(wanted.get("groups") or []):
        group_id = await run.group_id(name, f"{path}.groups[{index}]")
        try:
            await assignments.get_group_assignment(run.tx, app_id, group_id)
        except NotFound:
            await run.at(f"{path}.groups[{index}]", assignments.assign_group(run.tx, app_id, group_id, {}))
            run.note("create", "assignment", f"group {name} to {label}")
    for index, login in enumerate(wanted.get("users") or []):
        user_id = await run.user_id(login, f"{path}.users[{index}]")
        try:
            await assignments.get_app_user(run.tx, app_id, user_id)
        except NotFound:
            await run.at(f"{path}.users[{index}]", assignments.assign_user(run.tx, app_id, {"id": user_id}))
            run.note("create", "assignment", f"user {login} to {label}")


# --- authorization servers --------------------------------------------------------------------


async def _server(run: _Run, body: Mapping[str, Any], path: str) -> None:
    name = body["name"].strip()
    fields = {k: v for k, v in body.items() if k not in ("id", "scopes", "claims", "policies")}
    fixed_id = body.get("id")
    existing = await run.tx.session.scalar(
        select(AuthorizationServer).where(
            AuthorizationServer.org_id == run.tx.org_id,
            AuthorizationServer.name == name if fixed_id is None else AuthorizationServer.id == fixed_id,
        )
    )
    if existing is None:
        server = await run.at(path, server_admin.create_server(run.tx, fields, server_id=fixed_id))
        run.note("create", "authorizationServer", name)
    else:
        server = existing
        wanted = (name, fields.get("description"), list(fields.get("audiences") or server.audiences))
        if (server.name, server.description, list(server.audiences)) != wanted:
            merged = {"audiences": server.audiences, **fields}
            await run.at(path, server_admin.replace_server(run.tx, server.id, merged))
            run.note("update", "authorizationServer", name)
    for index, scope in enumerate(body.get("scopes") or []):
        await _scope(run, server, scope, f"{path}.scopes[{index}]")
    for index, claim in enumerate(body.get("claims") or []):
        await _claim(run, server, claim, f"{path}.claims[{index}]")
    for index, policy in enumerate(body.get("policies") or []):
        await _policy(run, server, policy, f"{path}.policies[{index}]")


async def _claim(run: _Run, server: AuthorizationServer, body: Mapping[str, Any], path: str) -> None:
    """Matched by name and ``claimType`` (as Okta keeps them unique); system claims are never replaced."""
    name = body["name"].strip()
    wanted = await run.at(path, _claim_attributes(run.tx, server.id, body))
    current = await claims.list_claims(run.tx, server.id)
    existing = next((c for c in current if c.name == name and c.claim_type == wanted["claim_type"]), None)
    label = f"{server.name}/{name}"
    if existing is None:
        await run.at(path, claims.create_claim(run.tx, server.id, body))
        run.note("create", "claim", label)
    elif _differs(existing, wanted):
        await run.at(path, claims.replace_claim(run.tx, server.id, existing.id, body))
        run.note("update", "claim", label)


async def _claim_attributes(tx: Tx, server_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    return await claims._attributes(tx, server_id, body)


async def _scope(run: _Run, server: AuthorizationServer, body: Mapping[str, Any], path: str) -> None:
    name = body["name"].strip()
    existing = await run.tx.session.scalar(
        select(Scope).where(Scope.org_id == run.tx.org_id, Scope.server_id == server.id, Scope.name == name)
    )
    label = f"{server.name}/{name}"
    if existing is None:
        await run.at(path, scopes.create_scope(run.tx, server.id, body))
        run.note("create", "scope", label)
        return
    wanted = await run.at(path, _scope_attributes(body))
    if any(getattr(existing, key) != value for key, value in wanted.items()):
        await run.at(path, scopes.replace_scope(run.tx, server.id, existing.id, body))
        run.note("update", "scope", label)


async def _scope_attributes(body: Mapping[str, Any]) -> dict[str, Any]:
    return scopes._attributes(body)


async def _with_ids(run: _Run, body: Mapping[str, Any], path: str) -> dict[str, Any]:
    """``body`` with the names in its conditions (app labels, group names, logins) as ids."""
    conditions = dict(body.get("conditions") or {})
    clients = conditions.get("clients")
    if isinstance(clients, Mapping) and isinstance(clients.get("include"), list):
        ids = [
            name if name in KEYWORDS else await run.app_id(name, f"{path}.conditions.clients.include[{i}]")
            for i, name in enumerate(clients["include"])
        ]
        conditions["clients"] = {**clients, "include": ids}
    people = conditions.get("people")
    if isinstance(people, Mapping):
        resolved = dict(people)
        for key, lookup in (("groups", run.group_id), ("users", run.user_id)):
            part = people.get(key)
            if isinstance(part, Mapping):
                resolved[key] = {
                    side: [
                        name
                        if name in KEYWORDS
                        else await lookup(name, f"{path}.conditions.people.{key}.{side}[{i}]")
                        for i, name in enumerate(part.get(side) or [])
                    ]
                    for side in ("include", "exclude")
                    if side in part
                }
        conditions["people"] = resolved
    return {**body, "conditions": conditions} if body.get("conditions") is not None else dict(body)


async def _policy(run: _Run, server: AuthorizationServer, body: Mapping[str, Any], path: str) -> None:
    name = body["name"].strip()
    okta = await _with_ids(run, {k: v for k, v in body.items() if k != "rules"}, path)
    okta.setdefault("type", "OAUTH_AUTHORIZATION_POLICY")
    okta.setdefault("conditions", {"clients": {"include": ["ALL_CLIENTS"]}})
    label = f"{server.name}/{name}"
    existing = next((p for p in await policies.list_policies(run.tx, server.id) if p.name == name), None)
    if existing is None:
        policy = await run.at(path, policies.create_policy(run.tx, server.id, okta))
        run.note("create", "policy", label)
    else:
        policy = existing
        wanted = await run.at(path, _policy_attributes(run.tx, okta))
        if _differs(existing, wanted):
            await run.at(path, policies.replace_policy(run.tx, server.id, existing.id, okta))
            run.note("update", "policy", label)
    for index, rule in enumerate(body.get("rules") or []):
        await _rule(run, server, policy.id, rule, f"{path}.rules[{index}]", label)


async def _rule(
    run: _Run,
    server: AuthorizationServer,
    policy_id: str,
    body: Mapping[str, Any],
    path: str,
    policy_label: str,
) -> None:
    name = body["name"].strip()
    okta = await _with_ids(run, body, path)
    okta.setdefault("type", "RESOURCE_ACCESS")
    label = f"{policy_label}/{name}"
    current = await policies.list_rules(run.tx, server.id, policy_id)
    existing = next((r for r in current if r.name == name), None)
    if existing is None:
        await run.at(path, policies.create_rule(run.tx, server.id, policy_id, okta))
        run.note("create", "rule", label)
        return
    wanted = await run.at(path, _rule_attributes(run.tx, server.id, okta))
    if _differs(existing, wanted):
        await run.at(path, policies.replace_rule(run.tx, server.id, policy_id, existing.id, okta))
        run.note("update", "rule", label)


def _differs(row: object, wanted: Mapping[str, Any]) -> bool:
    return any(getattr(row, key) != value for key, value in wanted.items())
