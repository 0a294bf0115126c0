"""Access policies and rules of an authorization server, and the users, groups and apps they name."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.authorization_servers import AS, create_server

USER_PASSWORD = "Tr1cky-Secret!"


async def new_server(client: httpx.AsyncClient, *scopes: str) -> str:
    server_id = str((await create_server(client))["id"])
    for scope in scopes:
        assert (await client.post(f"{AS}/{server_id}/scopes", json={"name": scope})).status_code == 201
    return server_id


def policy_body(name: str = "Vendor2 Policy", **extra: Any) -> dict[str, Any]:
    return {
        "type": "OAUTH_AUTHORIZATION_POLICY",
        "name": name,
        "description": f"{name} description",
        "conditions": {"clients": {"include": ["ALL_CLIENTS"]}},
        **extra,
    }


async def create_policy(
    client: httpx.AsyncClient, server_id: str, name: str = "p", **extra: Any
) -> dict[str, Any]:
    response = await client.post(f"{AS}/{server_id}/policies", json=policy_body(name, **extra))
    assert response.status_code == 201, response.text
    return dict(response.json())


def rule_body(
    name: str = "r",
    *,
    grants: list[str] | None = None,
    scopes: list[str] | None = None,
    people: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    conditions: dict[str, Any] = {
        "grantTypes": {"include": grants or ["client_credentials"]},
        "scopes": {"include": scopes or ["*"]},
    }
    if people is not None:
        conditions["people"] = people
    return {"type": "RESOURCE_ACCESS", "name": name, "conditions": conditions, **extra}


async def create_rule(
    client: httpx.AsyncClient, server_id: str, policy_id: str, name: str = "r", **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        f"{AS}/{server_id}/policies/{policy_id}/rules", json=rule_body(name, **extra)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def create_group(client: httpx.AsyncClient, name: str) -> str:
    response = await client.post("/api/v1/groups", json={"profile": {"name": name}})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def create_user(client: httpx.AsyncClient, login: str, *group_ids: str) -> str:
    first, last = login.split("@")[0].split(".")
    body = {
        "profile": {"login": login, "email": login, "firstName": first.title(), "lastName": last.title()},
        "credentials": {"password": {"value": USER_PASSWORD}},
        "groupIds": list(group_ids),
    }
    response = await client.post("/api/v1/users?activate=true", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def create_service_app(client: httpx.AsyncClient, label: str = "Service") -> str:
    body = {
        "name": "oidc_client",
        "label": label,
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
        "settings": {
            "oauthClient": {
                "application_type": "service",
                "grant_types": ["client_credentials"],
                "response_types": ["token"],
                "redirect_uris": [],
            }
        },
    }
    response = await client.post("/api/v1/apps", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])
