"""Database round trips of the token endpoint (issue 20, goal 6): a client_credentials token on a
warm cache costs none, and redeeming a code writes ``used_at`` once.

Several ``serve`` processes share one PostgreSQL: whatever a token costs the database, N nodes
cost it N times over. Once the client, its scope grants, the server's policies and keys are
cached, minting a token must not touch the database at all: no statement, and no connection
taken from the pool (which alone costs a round trip on PostgreSQL: the reset on return).
Runs on SQLite and, when ``OSTIARY_TEST_POSTGRES_URL`` is set, on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy import event

from ostiary.domain.tokens.pkce import s256
from tests.conftest import Server
from tests.support.authorization_servers import AS, create_server
from tests.support.authorize import code_for, exchange, user, web_app
from tests.support.oauth import basic, service_client

SCOPE = "okta.users.read"
CARL = "carl.sagan@example.com"


@dataclass
class Trips:
    statements: int = 0
    checkouts: int = 0


@contextmanager
def counted(server: Server) -> Iterator[Trips]:
    """Statements sent and pool connections taken by ``server``'s engine inside the block."""
    trips = Trips()
    engine = server.rt.db.engine.sync_engine

    def statement(*_args: object) -> None:
        trips.statements += 1

    def checkout(*_args: object) -> None:
        trips.checkouts += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine.pool, "checkout", checkout)
    try:
        yield trips
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine.pool, "checkout", checkout)


async def mint(server: Server, path: str, headers: dict[str, str], scope: str) -> None:
    async with server.client() as client:
        response = await client.post(
            path, data={"grant_type": "client_credentials", "scope": scope}, headers=headers
        )
    assert response.status_code == 200, response.text


async def client_credentials_server(admin: httpx.AsyncClient, scope: str) -> str:
    """A custom server with ``scope`` and a policy letting every client use client_credentials."""
    server_id = (await create_server(admin, audiences=[f"api://{scope}"]))["id"]
    base = f"{AS}/{server_id}"
    assert (await admin.post(f"{base}/scopes", json={"name": scope})).status_code == 201
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


async def test_org_server_tokens_on_a_warm_cache_touch_no_database(any_server: Server) -> None:
    async with any_server.client(await any_server.create_token()) as admin:
        client_id, secret = await service_client(admin, SCOPE)
    headers = basic(client_id, secret)
    with counted(any_server) as cold:
        await mint(any_server, "/oauth2/v1/token", headers, SCOPE)
    assert cold.statements > 0 and cold.checkouts > 0  # the counter sees the cold cache
    with counted(any_server) as trips:
        for _ in range(5):
            await mint(any_server, "/oauth2/v1/token", headers, SCOPE)
    assert trips == Trips(statements=0, checkouts=0)


async def test_custom_server_tokens_on_a_warm_cache_touch_no_database(any_server: Server) -> None:
    async with any_server.client(await any_server.create_token()) as admin:
        server_id = await client_credentials_server(admin, "bench")
        client_id, secret = await service_client(admin)
    headers = basic(client_id, secret)
    path = f"/oauth2/{server_id}/v1/token"
    with counted(any_server) as cold:
        await mint(any_server, path, headers, "bench")
    assert cold.statements > 0 and cold.checkouts > 0
    with counted(any_server) as trips:
        for _ in range(5):
            await mint(any_server, path, headers, "bench")
    assert trips == Trips(statements=0, checkouts=0)


async def test_redeeming_a_code_marks_it_used_with_one_statement(any_server: Server) -> None:
    """The conditional UPDATE that wins the code is the only write of ``used_at`` (the row
    object is told, not flushed again)."""
    async with any_server.client(await any_server.create_token()) as admin:
        client_id, secret = await web_app(admin)
        await user(admin, CARL)
    async with any_server.client() as anon:
        code = await code_for(anon, client_id, CARL)
        statements: list[str] = []
        engine = any_server.rt.db.engine.sync_engine

        def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            response = await exchange(anon, code, client_id, secret)
        finally:
            event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.text
    writes = [
        s for s in statements if s.lstrip().upper().startswith("UPDATE") and "used_at" in s.split("WHERE")[0]
    ]
    assert len(writes) == 1, writes


async def test_introspecting_a_token_on_a_warm_cache_touches_no_database(any_server: Server) -> None:
    """The client, the server's keys and the token's ``jti`` known unrevoked are cached: a
    resource server introspecting the same token again costs no round trip."""
    async with any_server.client(await any_server.create_token()) as admin:
        client_id, secret = await service_client(admin, SCOPE)
    headers = basic(client_id, secret)
    async with any_server.client() as anon:
        minted = await anon.post(
            "/oauth2/v1/token", data={"grant_type": "client_credentials", "scope": SCOPE}, headers=headers
        )
        token = minted.json()["access_token"]
        with counted(any_server) as cold:
            first = await anon.post("/oauth2/v1/introspect", data={"token": token}, headers=headers)
        assert first.json()["active"] is True
        assert cold.statements > 0  # the revocation table, asked once
        with counted(any_server) as trips:
            for _ in range(5):
                again = await anon.post("/oauth2/v1/introspect", data={"token": token}, headers=headers)
                assert again.json()["active"] is True, again.text
    assert trips == Trips(statements=0, checkouts=0)


async def test_a_redeemed_code_is_claimed_without_reading_it_first(any_server: Server) -> None:
    """The code is won by one ``UPDATE … RETURNING`` (no ``SELECT`` of it before), and no
    other statement touches it: the tokens it becomes were named when it was issued."""
    async with any_server.client(await any_server.create_token()) as admin:
        client_id, secret = await web_app(admin)
        await user(admin, CARL)
    async with any_server.client() as anon:
        code = await code_for(anon, client_id, CARL)
        statements: list[str] = []
        engine = any_server.rt.db.engine.sync_engine

        def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            statements.append(" ".join(statement.split()).upper())

        event.listen(engine, "before_cursor_execute", record)
        try:
            response = await exchange(anon, code, client_id, secret)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert response.status_code == 200, response.text
        on_codes = [s for s in statements if "AUTHORIZATION_CODES" in s]
        assert [s.split()[0] for s in on_codes] == ["UPDATE"], on_codes
        assert "RETURNING" in on_codes[0]
        replay = await exchange(anon, code, client_id, secret)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"


async def test_a_wrong_verifier_does_not_use_up_the_code(any_server: Server) -> None:
    """The one-statement claim matches the PKCE challenge in SQL: a wrong verifier claims
    nothing, and the right one still redeems the code."""
    verifier = "v" * 43
    async with any_server.client(await any_server.create_token()) as admin:
        client_id, secret = await web_app(admin)
        await user(admin, CARL)
    async with any_server.client() as anon:
        code = await code_for(
            anon, client_id, CARL, code_challenge=s256(verifier), code_challenge_method="S256"
        )
        wrong = await exchange(anon, code, client_id, secret, code_verifier="w" * 43)
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant", wrong.text
        right = await exchange(anon, code, client_id, secret, code_verifier=verifier)
    assert right.status_code == 200, right.text


@contextmanager
def statement_kinds(server: Server) -> Iterator[list[str]]:
    """The statements ``server``'s engine sends inside the block, each as its verb and table
    (``SELECT`` as its first column)."""
    kinds: list[str] = []
    engine = server.rt.db.engine.sync_engine

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        words = statement.split()
        kinds.append(" ".join(words[:3] if words[0] in ("DELETE", "INSERT") else words[:2]).upper())

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield kinds
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _warm_redemption_statements(server: Server, scope: str) -> list[str]:
    """The statements of a redemption of a ``scope`` code after a first one warmed every cache:
    each as its verb and table."""
    async with server.client(await server.create_token()) as admin:
        client_id, secret = await web_app(admin)
        await user(admin, CARL)
    async with server.client() as anon:
        first = await exchange(anon, await code_for(anon, client_id, CARL, scope=scope), client_id, secret)
        assert first.status_code == 200, first.text  # every cache warm
        code = await code_for(anon, client_id, CARL, scope=scope)
        with statement_kinds(server) as statements:
            response = await exchange(anon, code, client_id, secret)
    assert response.status_code == 200, response.text
    return statements


async def test_a_warm_code_redemption_sends_only_the_claim(any_server: Server) -> None:
    """On a warm cache (client, keys, policies, and the user context that ``/authorize`` just
    read: ``tokens.user_context_cache``), a redemption sends the claim of the code (the one
    write that makes a code single use: never cached) and nothing else: the tokens it becomes
    were named at ``/authorize`` (for replay revocation), and nothing reads the user, their
    groups or the org."""
    assert await _warm_redemption_statements(any_server, "openid email") == ["UPDATE AUTHORIZATION_CODES"]


async def test_a_warm_offline_redemption_adds_only_the_new_family(any_server: Server) -> None:
    """With ``offline_access``: the claim, the purge of the user's dead families (their notes,
    then their tokens), the new family's first token and the note of the access token minted
    with it (so that revoking the family revokes it)."""
    assert await _warm_redemption_statements(any_server, "openid offline_access") == [
        "UPDATE AUTHORIZATION_CODES",
        "DELETE FROM REFRESH_FAMILY_ACCESS_TOKENS",
        "DELETE FROM REFRESH_TOKENS",
        "INSERT INTO REFRESH_TOKENS",
        "INSERT INTO REFRESH_FAMILY_ACCESS_TOKENS",
    ]


async def test_a_warm_static_refresh_takes_no_family_lock(any_server: Server) -> None:
    """A web app's refresh token is static: the refresh finds it, keeps it with one conditional
    ``UPDATE`` (no lock of its family, no second read of it: ``SqlRefreshTokens.keep`` says why
    that is safe) and notes the new access token in its family (after dropping the family's
    expired notes)."""
    async with any_server.client(await any_server.create_token()) as admin:
        client_id, secret = await web_app(admin)
        await user(admin, CARL)
    async with any_server.client() as anon:
        code = await code_for(anon, client_id, CARL, scope="openid offline_access")
        redeemed = await exchange(anon, code, client_id, secret)
        data = {"grant_type": "refresh_token", "refresh_token": redeemed.json()["refresh_token"]}

        async def refreshed() -> httpx.Response:
            return await anon.post("/oauth2/default/v1/token", data=data, headers=basic(client_id, secret))

        assert (await refreshed()).status_code == 200  # every cache warm
        with statement_kinds(any_server) as statements:
            response = await refreshed()
    assert response.status_code == 200, response.text
    assert response.json()["refresh_token"] == data["refresh_token"]
    assert statements == [
        "SELECT REFRESH_TOKENS.ID,",
        "UPDATE REFRESH_TOKENS",
        "DELETE FROM REFRESH_FAMILY_ACCESS_TOKENS",
        "INSERT INTO REFRESH_FAMILY_ACCESS_TOKENS",
    ], statements
