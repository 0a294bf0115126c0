"""Introspection remembers which access tokens it found not revoked (``DomainCaches.unrevoked``),
so that checking a token seen before takes no database round trip, and every revocation clears
that memory: in this process at commit, in the others through the ``revoked`` cache event.
Runs on SQLite and, when ``OSTIARY_TEST_POSTGRES_URL`` is set, on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import event, insert

from ostiary.http.cache_sync import cache_event_handlers
from ostiary.store.cache_events import REVOKED
from ostiary.store.models import RevokedToken
from ostiary.timeutil import utcnow
from tests.conftest import ORG_URL, Server
from tests.support.authorize import claims as minted_claims
from tests.support.oauth import basic, service_client

SCOPE = "okta.users.read"


async def setup(server: Server) -> tuple[dict[str, str], str]:
    async with server.client(await server.create_token()) as admin:
        client_id, secret = await service_client(admin, SCOPE)
    headers = basic(client_id, secret)
    async with server.client() as anon:
        minted = await anon.post(
            "/oauth2/v1/token", data={"grant_type": "client_credentials", "scope": SCOPE}, headers=headers
        )
    assert minted.status_code == 200, minted.text
    return headers, minted.json()["access_token"]


async def active(server: Server, headers: dict[str, str], token: str) -> bool:
    async with server.client() as anon:
        response = await anon.post("/oauth2/v1/introspect", data={"token": token}, headers=headers)
    assert response.status_code == 200, response.text
    return bool(response.json()["active"])


async def test_a_token_checked_before_is_checked_without_the_database(any_server: Server) -> None:
    headers, token = await setup(any_server)
    assert await active(any_server, headers, token)
    statements: list[str] = []
    engine = any_server.rt.db.engine.sync_engine

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert await active(any_server, headers, token)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements == []


async def test_revoking_here_ends_a_token_checked_before(any_server: Server) -> None:
    headers, token = await setup(any_server)
    assert await active(any_server, headers, token)
    async with any_server.client() as anon:
        revoked = await anon.post("/oauth2/v1/revoke", data={"token": token}, headers=headers)
    assert revoked.status_code == 200, revoked.text
    assert not await active(any_server, headers, token)


async def test_a_revocation_by_another_process_applies_with_its_cache_event(any_server: Server) -> None:
    headers, token = await setup(any_server)
    assert await active(any_server, headers, token)
    # Another process revokes it: the row appears, this process's caches are not told directly.
    jti = minted_claims(token)["jti"]
    async with any_server.rt.db.session() as session:
        org_id = (await any_server.rt.org_for_host(urlsplit(ORG_URL).netloc)).id
        await session.execute(
            insert(RevokedToken).values(jti=jti, org_id=org_id, expires_at=utcnow() + timedelta(hours=1))
        )
    assert await active(any_server, headers, token)  # remembered (up to the cache's TTL)
    cache_event_handlers(any_server.rt)[REVOKED]()  # the other process's announcement arrives
    assert not await active(any_server, headers, token)
