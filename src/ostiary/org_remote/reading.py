"""An org's configuration read through the management API, as :class:`OktaOrg`."""

from __future__ import annotations

from ostiary.domain.org_file.from_okta import OktaOrg, is_exported_app
from ostiary.org_remote.client import ManagementClient, RemoteError

SERVERS = "/api/v1/authorizationServers"


async def read_org(client: ManagementClient) -> OktaOrg:
    org = OktaOrg()
    org.groups = await client.get_all("/api/v1/groups")
    org.users = await client.get_all("/api/v1/users")
    for group in org.groups:
        if group.get("type") == "OKTA_GROUP":
            for user in await client.get_all(f"/api/v1/groups/{group['id']}/users"):
                org.user_groups.setdefault(user["id"], []).append(group["id"])
    org.apps = await client.get_all("/api/v1/apps")
    for app in org.apps:
        if not is_exported_app(app):
            continue
        base = f"/api/v1/apps/{app['id']}"
        org.app_groups[app["id"]] = [g["id"] for g in await client.get_all(f"{base}/groups")]
        org.app_users[app["id"]] = [
            u["id"] for u in await client.get_all(f"{base}/users") if u.get("scope", "USER") == "USER"
        ]
        grants = await client.get_all(f"{base}/grants")
        org.app_grants[app["id"]] = [g["scopeId"] for g in grants if g.get("status", "ACTIVE") == "ACTIVE"]
        org.grant_ids[app["id"]] = {g["scopeId"]: g["id"] for g in grants}
    org.servers = await client.get_all(SERVERS)
    for server in org.servers:
        base = f"{SERVERS}/{server['id']}"
        org.scopes[server["id"]] = await client.get_all(f"{base}/scopes")
        org.claims[server["id"]] = await client.get_all(f"{base}/claims")
        org.policies[server["id"]] = await client.get_all(f"{base}/policies")
        for policy in org.policies[server["id"]]:
            org.rules[policy["id"]] = await client.get_all(f"{base}/policies/{policy['id']}/rules")
    org.trusted_origins = await client.get_all("/api/v1/trustedOrigins")
    try:
        org.api_tokens = await client.get_all("/api/v1/api-tokens")
    except RemoteError:
        org.api_tokens = []  # a token without the right to list tokens: none exported
    return org
