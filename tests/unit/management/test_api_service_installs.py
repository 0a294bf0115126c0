"""Install, use and uninstall an API service integration in-process, on SQLite and PostgreSQL
(the e2e suite covers the whole API on a real server)."""

from __future__ import annotations

import httpx

from tests.conftest import Server
from tests.support.oauth import client_token

API = "/integrations/api/v1/api-services"


async def test_draft_test_install_token_and_uninstall(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    entry = {"type": "pg_sync", "name": "PG Sync", "scopes": ["okta.users.read", "okta.groups.read"]}
    assert (await any_admin.post("/integrations/api/v1/submissions", json=entry)).status_code == 201
    created = await any_admin.post(API, json={"type": "pg_sync", "grantedScopes": ["okta.users.read"]})
    assert created.status_code == 201, created.text
    cid, secret = created.json()["id"], created.json()["clientSecret"]
    async with any_server.client() as anon:
        token = await client_token(anon, cid, secret, "okta.users.read")
        assert token.status_code == 200, token.text
        assert (await client_token(anon, cid, secret, "okta.groups.read")).json()["error"] == "invalid_scope"
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert (await anon.get("/api/v1/users", headers=bearer)).status_code == 200
        assert (await any_admin.delete(f"{API}/{cid}")).status_code == 204
        assert (await anon.get("/api/v1/users", headers=bearer)).status_code == 401
        assert (await client_token(anon, cid, secret, "okta.users.read")).status_code == 401
    assert (await any_admin.get(API)).json() == []
