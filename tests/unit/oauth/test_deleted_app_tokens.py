"""A deleted app's access tokens stop at once: introspection (by the resource server that is
their audience) answers ``active:false`` and the management API refuses them."""

from __future__ import annotations

import httpx

from tests.conftest import Server
from tests.support.oauth import basic, client_token, service_client


async def _server_for_audience(admin: httpx.AsyncClient, audience: str) -> str:
    created = await admin.post("/api/v1/authorizationServers", json={"name": "rs", "audiences": [audience]})
    assert created.status_code == 201, created.text
    server_id = created.json()["id"]
    base = f"/api/v1/authorizationServers/{server_id}"
    assert (await admin.post(f"{base}/scopes", json={"name": "read"})).status_code == 201
    policy = await admin.post(
        f"{base}/policies",
        json={
            "type": "OAUTH_AUTHORIZATION_POLICY",
            "name": "p",
            "description": "p",
            "conditions": {"clients": {"include": ["ALL_CLIENTS"]}},
        },
    )
    rule = await admin.post(
        f"{base}/policies/{policy.json()['id']}/rules",
        json={
            "type": "RESOURCE_ACCESS",
            "name": "r",
            "conditions": {"grantTypes": {"include": ["client_credentials"]}, "scopes": {"include": ["*"]}},
        },
    )
    assert rule.status_code == 201, rule.text
    return str(server_id)


async def _delete(admin: httpx.AsyncClient, client_id: str) -> None:
    assert (await admin.post(f"/api/v1/apps/{client_id}/lifecycle/deactivate")).status_code == 200
    assert (await admin.delete(f"/api/v1/apps/{client_id}")).status_code == 204


async def test_a_deleted_apps_token_introspects_inactive_for_its_audience(
    admin: httpx.AsyncClient, server: Server
) -> None:
    resource_id, resource_secret = await service_client(admin)
    server_id = await _server_for_audience(admin, resource_id)
    client_id, secret = await service_client(admin)
    async with server.client() as anon:
        issued = await anon.post(
            f"/oauth2/{server_id}/v1/token",
            data={"grant_type": "client_credentials", "scope": "read"},
            headers=basic(client_id, secret),
        )
        assert issued.status_code == 200, issued.text
        token = issued.json()["access_token"]
        url = f"/oauth2/{server_id}/v1/introspect"
        before = await anon.post(url, data={"token": token}, headers=basic(resource_id, resource_secret))
        assert before.json()["active"] is True
        await _delete(admin, client_id)
        after = await anon.post(url, data={"token": token}, headers=basic(resource_id, resource_secret))
        assert after.json() == {"active": False}


async def test_a_deleted_apps_org_token_is_refused_by_the_management_api(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, secret = await service_client(admin, "okta.users.read")
    async with server.client() as anon:
        token = (await client_token(anon, client_id, secret, "okta.users.read")).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        assert (await anon.get("/api/v1/users", headers=bearer)).status_code == 200
        await _delete(admin, client_id)
        assert (await anon.get("/api/v1/users", headers=bearer)).status_code == 401
        assert (await client_token(anon, client_id, secret, "okta.users.read")).status_code == 401
