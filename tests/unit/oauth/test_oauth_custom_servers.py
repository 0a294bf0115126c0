"""client_credentials on the default and custom authorization servers: known scopes, access
policies, custom resource claims, lifetimes from the matched rule."""

from __future__ import annotations

import httpx
import jwt

from ostiary.domain.authz.policy_engine import POLICY_DENIED
from tests.conftest import Server
from tests.support.authorization_servers import AS
from tests.support.oauth import ORG, basic, service_client
from tests.support.policies import create_policy, create_rule, new_server


async def token(
    anon: httpx.AsyncClient, server_id: str, client_id: str, secret: str, scope: str
) -> httpx.Response:
    return await anon.post(
        f"/oauth2/{server_id}/v1/token",
        data={"grant_type": "client_credentials", "scope": scope},
        headers=basic(client_id, secret),
    )


async def test_default_server_issues_a_custom_scope_by_its_default_policy(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    assert (await any_admin.post(f"{AS}/default/scopes", json={"name": "api:read"})).status_code == 201
    client_id, secret = await service_client(any_admin)
    async with any_server.client() as anon:
        response = await token(anon, "default", client_id, secret, "api:read")
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["iss"] == f"{ORG}/oauth2/default"
    assert claims["aud"] == "api://default"
    assert claims["scp"] == ["api:read"]
    assert claims["sub"] == claims["cid"] == client_id
    assert claims["exp"] - claims["iat"] == 3600


async def test_unknown_and_missing_scopes_are_invalid_scope(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, secret = await service_client(admin)
    async with server.client() as anon:
        unknown = await token(anon, "default", client_id, secret, "nope")
        empty = await token(anon, "default", client_id, secret, "")
    assert (unknown.status_code, unknown.json()["error"]) == (400, "invalid_scope")
    assert (empty.status_code, empty.json()["error"]) == (400, "invalid_scope")


async def test_default_scope_is_used_when_none_is_requested(admin: httpx.AsyncClient, server: Server) -> None:
    scope = await admin.post(f"{AS}/default/scopes", json={"name": "api:default", "default": True})
    assert scope.status_code == 201, scope.text
    client_id, secret = await service_client(admin)
    async with server.client() as anon:
        response = await token(anon, "default", client_id, secret, "")
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "api:default"


async def test_custom_server_rules_decide_and_the_rule_sets_the_lifetime(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    silver, gold = "http://myapp.com/scp/silver", "http://myapp.com/scp/gold"
    server_id = await new_server(any_admin, silver, gold)
    client_id, secret = await service_client(any_admin)
    policy = await create_policy(any_admin, server_id, "Solar system API access")
    await create_rule(
        any_admin,
        server_id,
        policy["id"],
        "service silver",
        grants=["client_credentials"],
        scopes=[silver],
        actions={"token": {"accessTokenLifetimeMinutes": 5}},
    )
    async with any_server.client() as anon:
        granted = await token(anon, server_id, client_id, secret, silver)
        denied = await token(anon, server_id, client_id, secret, f"{silver} {gold}")
    assert granted.status_code == 200, granted.text
    claims = jwt.decode(granted.json()["access_token"], options={"verify_signature": False})
    assert claims["iss"] == f"{ORG}/oauth2/{server_id}"
    assert claims["scp"] == [silver]
    assert granted.json()["expires_in"] == 300 == claims["exp"] - claims["iat"]
    assert denied.status_code == 400
    assert denied.json() == {"error": "access_denied", "error_description": POLICY_DENIED}


async def test_a_server_without_policies_denies(admin: httpx.AsyncClient, server: Server) -> None:
    server_id = await new_server(admin, "s1")
    client_id, secret = await service_client(admin)
    async with server.client() as anon:
        response = await token(anon, server_id, client_id, secret, "s1")
    assert (response.status_code, response.json()["error"]) == (400, "access_denied")


async def test_resource_claims_are_added_to_the_access_token(
    admin: httpx.AsyncClient, server: Server
) -> None:
    assert (await admin.post(f"{AS}/default/scopes", json={"name": "api:read"})).status_code == 201
    claim = {
        "name": "client_label",
        "status": "ACTIVE",
        "claimType": "RESOURCE",
        "valueType": "EXPRESSION",
        "value": '"app-" + app.clientId',
        "conditions": {"scopes": []},
        "alwaysIncludeInToken": True,
    }
    assert (await admin.post(f"{AS}/default/claims", json=claim)).status_code == 201
    client_id, secret = await service_client(admin)
    async with server.client() as anon:
        response = await token(anon, "default", client_id, secret, "api:read")
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["client_label"] == f"app-{client_id}"


async def test_a_deactivated_server_answers_404(admin: httpx.AsyncClient, server: Server) -> None:
    server_id = await new_server(admin, "s1")
    client_id, secret = await service_client(admin)
    assert (await admin.post(f"{AS}/{server_id}/lifecycle/deactivate")).status_code == 204
    async with server.client() as anon:
        assert (await token(anon, server_id, client_id, secret, "s1")).status_code == 404
        assert (await anon.get(f"/oauth2/{server_id}/v1/keys")).status_code == 404


async def test_introspection_on_a_custom_server(admin: httpx.AsyncClient, server: Server) -> None:
    assert (await admin.post(f"{AS}/default/scopes", json={"name": "api:read"})).status_code == 201
    client_id, secret = await service_client(admin)
    async with server.client() as anon:
        access = (await token(anon, "default", client_id, secret, "api:read")).json()["access_token"]
        found = await anon.post(
            "/oauth2/default/v1/introspect", data={"token": access}, headers=basic(client_id, secret)
        )
        elsewhere = await anon.post(
            "/oauth2/v1/introspect", data={"token": access}, headers=basic(client_id, secret)
        )
    assert found.json()["active"] is True and found.json()["aud"] == "api://default"
    assert elsewhere.json() == {"active": False}


async def test_es256_is_an_opt_in_when_creating_a_server(admin: httpx.AsyncClient, server: Server) -> None:
    body = {"name": "fast", "audiences": ["api://fast"], "credentials": {"signing": {"alg": "ES256"}}}
    created = await admin.post(AS, json=body)
    assert created.status_code == 201, created.text
    server_id = created.json()["id"]
    assert created.json()["credentials"]["signing"]["alg"] == "ES256"
    assert (await admin.post(f"{AS}/{server_id}/scopes", json={"name": "s1"})).status_code == 201
    policy = await create_policy(admin, server_id, "p")
    await create_rule(admin, server_id, policy["id"], "r", grants=["client_credentials"], scopes=["s1"])
    client_id, secret = await service_client(admin)
    async with server.client() as anon:
        response = await token(anon, server_id, client_id, secret, "s1")
        keys = (await anon.get(f"/oauth2/{server_id}/v1/keys")).json()["keys"]
    assert jwt.get_unverified_header(response.json()["access_token"])["alg"] == "ES256"
    assert {k["kty"] for k in keys} == {"EC"}
    rs256 = {**body, "credentials": {"signing": {"alg": "RS256"}}}
    changed = await admin.put(f"{AS}/{server_id}", json=rs256)
    assert changed.status_code == 400
