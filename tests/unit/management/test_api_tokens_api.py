"""/api/v1/api-tokens: tokens are listed without their secret, and revoking one stops it at once."""

from __future__ import annotations

import httpx

from tests.conftest import Server


async def test_list_shows_tokens_without_secret(server: Server) -> None:
    token = await server.create_token("ci")
    async with server.client(token) as client:
        listed = (await client.get("/api/v1/api-tokens")).json()
        assert [t["name"] for t in listed] == ["ci"]
        assert token not in (await client.get("/api/v1/api-tokens")).text
        one = (await client.get(f"/api/v1/api-tokens/{listed[0]['id']}")).json()
        assert one["network"] == {"connection": "ANYWHERE"}


async def test_token_is_stored_as_a_digest(server: Server) -> None:
    from sqlalchemy import select

    from ostiary.store.models import ApiToken

    token = await server.create_token()
    async with server.rt.db.session() as session:
        stored = (await session.scalars(select(ApiToken))).one()
    assert token not in (stored.token_hash, stored.token_hint * 10)
    assert len(stored.token_hash) == 64


async def test_revoked_token_stops_working(server: Server) -> None:
    keeper = await server.create_token("keeper")
    victim = await server.create_token("victim")
    async with server.client(keeper) as client:
        victim_id = next(
            t["id"] for t in (await client.get("/api/v1/api-tokens")).json() if t["name"] == "victim"
        )
        assert (await client.delete(f"/api/v1/api-tokens/{victim_id}")).status_code == 204
    async with server.client(victim) as client:
        assert (await client.get("/api/v1/users")).status_code == 401


async def test_revoke_current(server: Server) -> None:
    token = await server.create_token()
    async with server.client(token) as client:
        assert (await client.delete("/api/v1/api-tokens/current")).status_code == 204
        assert (await client.get("/api/v1/users")).status_code == 401


async def test_rename_with_put(admin: httpx.AsyncClient) -> None:
    token_id = (await admin.get("/api/v1/api-tokens")).json()[0]["id"]
    renamed = await admin.put(f"/api/v1/api-tokens/{token_id}", json={"name": "renamed"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "renamed"
    assert (await admin.put(f"/api/v1/api-tokens/{token_id}", json={"name": ""})).status_code == 400
