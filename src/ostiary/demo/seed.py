"""The seed scenario, created through the domain services (the same code the management API runs).

Groups silverSubscribers/goldSubscribers, each filled by an ACTIVE group rule on the user's
``division``; users clark.kent (division silver) and lois.lane (division gold); a custom
authorization server "Solar System API" with the silver and gold scopes and one access policy with
a rule per group; the API Center web client; a trusted origin for the demo app; and on the
``default`` server a custom scope and a service client for the protected sample API.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from ostiary.domain.authz import policies, scopes, server_admin
from ostiary.domain.clients import apps, assignments
from ostiary.domain.context import Tx
from ostiary.domain.directory import api_tokens, group_rules, groups, trusted_origins, users

SILVER = "http://myapp.com/scp/silver"
GOLD = "http://myapp.com/scp/gold"
OIDC_SCOPES = ["openid", "profile", "email", "address", "phone", "offline_access"]
PROTECTED_SCOPE = "api:whoami"


@dataclass(frozen=True)
class DemoPorts:
    org: int = 8080
    gateway: int = 8081
    upstream: int = 8082
    protected_api: int = 8083
    app: int = 3090

    def offset(self, by: int) -> DemoPorts:
        return DemoPorts(
            self.org + by, self.gateway + by, self.upstream + by, self.protected_api + by, self.app + by
        )


def demo_password() -> str:
    """A random password that satisfies the default password policy."""
    return "Solar-" + secrets.token_urlsafe(9) + "-7a"


def _oidc_app(app_url: str) -> dict[str, Any]:
    return {
        "name": "oidc_client",
        "label": "API Center demo app",
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
        "settings": {
            "oauthClient": {
                "application_type": "web",
                "grant_types": ["authorization_code", "implicit", "refresh_token"],
                "response_types": ["code", "token", "id_token"],
                "redirect_uris": [f"{app_url}/authorization-code/callback", f"{app_url}/implicit/callback"],
                "post_logout_redirect_uris": [f"{app_url}/"],
            }
        },
    }


def _service_app() -> dict[str, Any]:
    return {
        "name": "oidc_client",
        "label": "Protected API service client",
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
        "settings": {
            "oauthClient": {
                "application_type": "service",
                "grant_types": ["client_credentials"],
                "response_types": ["token"],
            }
        },
    }


def _rule(name: str, group_id: str, granted: list[str]) -> dict[str, Any]:
    return {
        "type": "RESOURCE_ACCESS",
        "name": name,
        "conditions": {
            "people": {"groups": {"include": [group_id]}},
            "grantTypes": {"include": ["authorization_code", "implicit", "refresh_token"]},
            "scopes": {"include": [*OIDC_SCOPES, *granted]},
        },
        "actions": {"token": {"accessTokenLifetimeMinutes": 60, "refreshTokenWindowMinutes": 10080}},
    }


async def _tier_rule(tx: Tx, tier: str, group_id: str) -> None:
    """An ACTIVE group rule: users whose ``division`` is the tier join the tier's group."""
    spec = await group_rules.validate(
        tx,
        {
            "type": "group_rule",
            "name": f"{tier} subscribers",
            "conditions": {"expression": {"value": f'user.division=="{tier}"'}},
            "actions": {"assignUserToGroups": {"groupIds": [group_id]}},
        },
    )
    rule = await group_rules.create_rule(tx, spec)
    await group_rules.activate(tx, rule.id)


async def seed(
    tx: Tx, *, org_url: str, ports: DemoPorts, password: str, host: str = "localhost"
) -> dict[str, Any]:
    """Create the scenario and return everything a script needs (the body of ``demo.json``)."""
    app_url = f"http://{host}:{ports.app}"
    silver_group = await groups.create_group(
        tx, {"profile": {"name": "silverSubscribers", "description": "silver subscribers"}}
    )
    gold_group = await groups.create_group(
        tx, {"profile": {"name": "goldSubscribers", "description": "gold subscribers"}}
    )
    for tier, group in (("silver", silver_group), ("gold", gold_group)):
        await _tier_rule(tx, tier, group.id)
    people = [
        ("clark.kent@example.com", "Clark", "Kent", silver_group, "silver"),
        ("lois.lane@example.com", "Lois", "Lane", gold_group, "gold"),
    ]
    users_out = []
    for login, first, last, group, tier in people:
        body = {
            "profile": {
                "login": login,
                "email": login,
                "firstName": first,
                "lastName": last,
                "division": tier,  # the tier's group rule makes the user a member
            },
            "credentials": {"password": {"value": password}},
        }
        user = await users.create_user(tx, body, activate=True)
        users_out.append(
            {"login": login, "password": password, "groups": [group.name], "tier": tier, "id": user.id}
        )

    server = await server_admin.create_server(
        tx,
        {
            "name": "Solar System API",
            "description": "Solar system API access",
            "audiences": ["api://solarsystem"],
        },
    )
    for name, description in ((SILVER, "silver scope"), (GOLD, "gold scope")):
        await scopes.create_scope(
            tx, server.id, {"name": name, "description": description, "metadataPublish": "ALL_CLIENTS"}
        )
    policy = await policies.create_policy(
        tx,
        server.id,
        {
            "type": "OAUTH_AUTHORIZATION_POLICY",
            "name": "Solar system API access",
            "description": "Solar system API access",
            "conditions": {"clients": {"include": ["ALL_CLIENTS"]}},
        },
    )
    await policies.create_rule(
        tx, server.id, policy.id, _rule("gold access to solar system API", gold_group.id, [GOLD, SILVER])
    )
    await policies.create_rule(
        tx, server.id, policy.id, _rule("silver access to solar system API", silver_group.id, [SILVER])
    )

    web = await apps.create_app(tx, _oidc_app(app_url))
    for group in (silver_group, gold_group):
        await assignments.assign_group(tx, web.app.id, group.id, {})
    await trusted_origins.create_origin(
        tx,
        {
            "name": "API Center demo app",
            "origin": app_url,
            "scopes": [{"type": "CORS"}, {"type": "REDIRECT"}],
        },
    )

    await scopes.create_scope(
        tx, "default", {"name": PROTECTED_SCOPE, "description": "Call the protected sample API"}
    )
    service = await apps.create_app(tx, _service_app())
    _token, api_token = await api_tokens.create_token(tx, "demo admin")

    issuer = f"{org_url}/oauth2/{server.id}"
    return {
        "org_url": org_url,
        "gateway_url": f"http://{host}:{ports.gateway}",
        "upstream_url": f"http://{host}:{ports.upstream}",
        "protected_api_url": f"http://{host}:{ports.protected_api}",
        "app_url": app_url,
        "api_token": api_token,
        "authorization_server": {"id": server.id, "issuer": issuer, "audience": "api://solarsystem"},
        "default_authorization_server": {
            "id": "default",
            "issuer": f"{org_url}/oauth2/default",
            "audience": "api://default",
        },
        "web_client": {
            "client_id": web.app.id,
            "client_secret": web.new_secret,
            "redirect_uri": f"{app_url}/authorization-code/callback",
        },
        "service_client": {
            "client_id": service.app.id,
            "client_secret": service.new_secret,
            "scope": PROTECTED_SCOPE,
        },
        "users": users_out,
        "scopes": {"silver": SILVER, "gold": GOLD},
    }
