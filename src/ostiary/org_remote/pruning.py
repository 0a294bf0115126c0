"""``apply --org-url --prune``: what the file no longer has, deleted through the API.

The same rules as the local prune (:mod:`ostiary.domain.org_file.pruning`): never the ``default``
server, the Everyone group, system scopes, claims or policies, Okta's own apps, nor the API token
the run is using (``GET /api/v1/api-tokens/current``; with no answer there, no token is deleted).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ostiary.org_remote.applying import DEFAULT_SERVER_ID, _Run, _server_of
from ostiary.org_remote.reading import SERVERS


def _lower(names: Any) -> set[str]:
    return {str(name).strip().lower() for name in names or []}


async def prune_remote(run: _Run, doc: Mapping[str, Any], keep_token: str | None) -> None:
    await _servers(run, doc.get("authorizationServers") or [])
    await _apps(run, doc.get("apps") or [])
    await _users(run, doc.get("users") or [])
    names = _lower(g["profile"]["name"] for g in doc.get("groups") or [])
    for group in run.org.groups:
        if group.get("type") == "OKTA_GROUP" and group["profile"]["name"].lower() not in names:
            await run.call("groups", "DELETE", f"/api/v1/groups/{group['id']}")
            run.note("delete", "group", group["profile"]["name"])
    names = _lower(o["name"] for o in doc.get("trustedOrigins") or [])
    for origin in run.org.trusted_origins:
        if origin["name"].lower() not in names:
            await run.call("trustedOrigins", "DELETE", f"/api/v1/trustedOrigins/{origin['id']}")
            run.note("delete", "trustedOrigin", origin["name"])
    if keep_token is None:
        return  # the token in use is unknown: delete none
    names = {t["name"].strip() for t in doc.get("apiTokens") or []}
    for token in run.org.api_tokens:
        if token["name"] not in names and token["id"] != keep_token:
            await run.call("apiTokens", "DELETE", f"/api/v1/api-tokens/{token['id']}")
            run.note("delete", "apiToken", token["name"])


async def _servers(run: _Run, wanted: list[Mapping[str, Any]]) -> None:
    kept = {id(s): body for body in wanted if (s := _server_of(run, body)) is not None}
    for server in run.org.servers:
        url = f"{SERVERS}/{server['id']}"
        body = kept.get(id(server))
        if body is None:
            if server["id"] != DEFAULT_SERVER_ID:
                await run.call("authorizationServers", "POST", f"{url}/lifecycle/deactivate")
                await run.call("authorizationServers", "DELETE", url)
                run.note("delete", "authorizationServer", server["name"])
            continue
        policies = {p["name"].strip(): p for p in body.get("policies") or []}
        for policy in run.org.policies.get(server["id"], []):
            label = f"{server['name']}/{policy['name']}"
            if policy.get("system"):
                continue
            if policy["name"] not in policies:
                await run.call("authorizationServers", "DELETE", f"{url}/policies/{policy['id']}")
                run.note("delete", "policy", label)
                continue
            rules = _lower(r["name"] for r in policies[policy["name"]].get("rules") or [])
            for rule in run.org.rules.get(policy["id"], []):
                if not rule.get("system") and rule["name"].lower() not in rules:
                    await run.call(
                        "authorizationServers", "DELETE", f"{url}/policies/{policy['id']}/rules/{rule['id']}"
                    )
                    run.note("delete", "rule", f"{label}/{rule['name']}")
        claims = {(c["name"].strip(), c.get("claimType")) for c in body.get("claims") or []}
        for claim in run.org.claims.get(server["id"], []):
            if not claim.get("system") and (claim["name"], claim.get("claimType")) not in claims:
                await run.call("authorizationServers", "DELETE", f"{url}/claims/{claim['id']}")
                run.note("delete", "claim", f"{server['name']}/{claim['name']}")
        scopes = {s["name"].strip() for s in body.get("scopes") or []}
        for scope in run.org.scopes.get(server["id"], []):
            if not scope.get("system") and scope["name"] not in scopes:
                await run.call("authorizationServers", "DELETE", f"{url}/scopes/{scope['id']}")
                run.note("delete", "scope", f"{server['name']}/{scope['name']}")


async def _apps(run: _Run, wanted: list[Mapping[str, Any]]) -> None:
    bodies = {a["label"].strip().lower(): a for a in wanted}
    group_names = {g["id"]: g["profile"]["name"] for g in run.org.groups}
    logins = {u["id"]: u["profile"]["login"] for u in run.org.users}
    for label, app in list(run.apps.items()):
        url = f"/api/v1/apps/{app['id']}"
        body = bodies.get(label)
        if body is None:
            await run.call("apps", "POST", f"{url}/lifecycle/deactivate")
            await run.call("apps", "DELETE", url)
            run.note("delete", "app", app["label"])
            continue
        assignments = body.get("assignments") or {}
        keep_groups = _lower(assignments.get("groups"))
        for group_id in run.org.app_groups.get(app["id"], []):
            name = group_names.get(group_id, group_id)
            if name.lower() not in keep_groups:
                await run.call("apps", "DELETE", f"{url}/groups/{group_id}")
                run.note("delete", "assignment", f"group {name} to {app['label']}")
        keep_users = _lower(assignments.get("users"))
        for user_id in run.org.app_users.get(app["id"], []):
            login = logins.get(user_id, user_id)
            if login.lower() not in keep_users:
                await run.call("apps", "DELETE", f"{url}/users/{user_id}")
                run.note("delete", "assignment", f"user {login} to {app['label']}")
        grants = set(body.get("grants") or [])
        for scope, grant_id in run.org.grant_ids.get(app["id"], {}).items():
            if scope not in grants:
                await run.call("apps", "DELETE", f"{url}/grants/{grant_id}")
                run.note("delete", "grant", f"{scope} to {app['label']}")


async def _users(run: _Run, wanted: list[Mapping[str, Any]]) -> None:
    bodies = {u["profile"]["login"].strip().lower(): u for u in wanted}
    group_names = {g["id"]: g for g in run.org.groups}
    for user in run.org.users:
        login = user["profile"]["login"]
        url = f"/api/v1/users/{user['id']}"
        body = bodies.get(login.lower())
        if body is None:
            if user.get("status") != "DEPROVISIONED":  # Okta's two steps: deactivate, then delete
                await run.call("users", "DELETE", url)
            await run.call("users", "DELETE", url)
            run.note("delete", "user", login)
            continue
        keep = _lower(body.get("groups"))
        for group_id in run.org.user_groups.get(user["id"], []):
            group = group_names.get(group_id)
            if group is not None and group["profile"]["name"].lower() not in keep:
                await run.call("users", "DELETE", f"/api/v1/groups/{group_id}/users/{user['id']}")
                run.note("delete", "membership", f"{login} in {group['profile']['name']}")
