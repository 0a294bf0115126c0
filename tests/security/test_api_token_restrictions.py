"""Security review F16: API-token network conditions are enforced (or refused), and tokens
expire after 30 days without use, as Okta's do."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from ostiary.domain.directory import api_tokens
from ostiary.store.models import ApiToken
from ostiary.timeutil import parse_iso, utcnow
from tests.conftest import Server

ZONE = {"connection": "ZONE", "include": ["nzoNONEXISTENT"]}


def assert_invalid_token(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.json()["errorCode"] == "E0000011"


async def token_id(client: httpx.AsyncClient) -> str:
    listed = (await client.get("/api/v1/api-tokens")).json()
    return str(listed[0]["id"])


def clock_at(monkeypatch: pytest.MonkeyPatch) -> Callable[[timedelta], None]:
    """Move the API-token module's clock to ``offset`` from now."""
    start = utcnow()

    def move(offset: timedelta) -> None:
        monkeypatch.setattr(api_tokens, "utcnow", lambda: start + offset)

    return move


# --- network -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "network",
    [
        ZONE,
        {"connection": "ZONE", "exclude": ["nzo1"]},
        {"connection": "ANYWHERE", "include": ["nzo1"]},
        {"connection": "SOMEWHERE"},
        "ANYWHERE",
    ],
)
async def test_a_network_condition_that_cannot_be_enforced_is_refused(
    server: Server, network: object
) -> None:
    token = await server.create_token("acme-admin")
    async with server.client(token) as client:
        tid = await token_id(client)
        response = await client.put(f"/api/v1/api-tokens/{tid}", json={"name": "x", "network": network})
        assert response.status_code == 400
        body = response.json()
        assert body["errorCode"] == "E0000001" and body["errorCauses"]
        after = (await client.get(f"/api/v1/api-tokens/{tid}")).json()
        assert (after["name"], after["network"]) == ("acme-admin", {"connection": "ANYWHERE"})
        assert (await client.get("/api/v1/users")).status_code == 200


async def test_anywhere_is_accepted(server: Server) -> None:
    token = await server.create_token()
    async with server.client(token) as client:
        tid = await token_id(client)
        response = await client.put(
            f"/api/v1/api-tokens/{tid}", json={"name": "ci", "network": {"connection": "ANYWHERE"}}
        )
        assert response.status_code == 200
        assert response.json()["network"] == {"connection": "ANYWHERE"}


async def test_a_stored_zone_condition_is_enforced_by_refusing_the_token(server: Server) -> None:
    token = await server.create_token()
    async with server.rt.db.session() as session:
        await session.execute(update(ApiToken).values(network=ZONE))
    async with server.client(token) as client:
        assert_invalid_token(await client.get("/api/v1/users"))


# --- inactivity expiry ---------------------------------------------------------------------------


async def test_a_new_token_expires_after_a_thirty_day_window(server: Server) -> None:
    token = await server.create_token()
    async with server.client(token) as client:
        shown = (await client.get(f"/api/v1/api-tokens/{await token_id(client)}")).json()
    assert shown["tokenWindow"] == "P30D"
    window = parse_iso(shown["expiresAt"]) - parse_iso(shown["created"])
    assert timedelta(days=30) - timedelta(minutes=1) <= window <= timedelta(days=30) + timedelta(minutes=1)


@pytest.mark.parametrize("used_before", [False, True], ids=["never used", "used and remembered"])
async def test_a_token_unused_for_thirty_days_is_invalid(
    server: Server, monkeypatch: pytest.MonkeyPatch, used_before: bool
) -> None:
    token = await server.create_token()
    move = clock_at(monkeypatch)
    async with server.client(token) as client:
        if used_before:
            assert (await client.get("/api/v1/users")).status_code == 200
        move(timedelta(days=30, minutes=1))
        assert_invalid_token(await client.get("/api/v1/users"))


async def test_each_use_moves_the_expiry_a_full_window_ahead(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await server.create_token()
    move = clock_at(monkeypatch)
    async with server.client(token) as client:
        for day in (20, 45, 70):
            move(timedelta(days=day))
            assert (await client.get("/api/v1/users")).status_code == 200, day
        move(timedelta(days=101))
        assert_invalid_token(await client.get("/api/v1/users"))


async def stored_expiry(server: Server) -> datetime | None:
    async with server.rt.db.session() as session:
        return (await session.scalars(select(ApiToken.expires_at))).one()


async def test_uses_within_the_hour_do_not_rewrite_the_expiry(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await server.create_token()
    created_expiry = await stored_expiry(server)
    move = clock_at(monkeypatch)
    move(timedelta(minutes=30))
    async with server.client(token) as client:
        assert (await client.get("/api/v1/users")).status_code == 200
    assert await stored_expiry(server) == created_expiry


async def test_a_token_from_before_expiry_starts_its_window_at_its_next_use(server: Server) -> None:
    token = await server.create_token()
    async with server.rt.db.session() as session:
        await session.execute(update(ApiToken).values(expires_at=None, token_window=None))
    async with server.client(token) as client:
        assert (await client.get("/api/v1/users")).status_code == 200
    expiry = await stored_expiry(server)
    assert expiry is not None and expiry > utcnow() + timedelta(days=29)


# --- the cache of authenticated tokens -----------------------------------------------------------


def api_token_selects(server: Server) -> list[str]:
    """The SELECTs of ``api_tokens`` the server's engine sends from now on."""
    from sqlalchemy import event

    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM api_tokens" in statement:
            seen.append(statement)

    event.listen(server.rt.db.engine.sync_engine, "before_cursor_execute", record)
    return seen


async def test_a_token_is_read_once_and_then_remembered(server: Server) -> None:
    token = await server.create_token()
    selects = api_token_selects(server)
    async with server.client(token) as client:
        for _ in range(3):
            assert (await client.get("/api/v1/users")).status_code == 200
    assert len(selects) == 1


async def test_a_remembered_token_is_refused_once_a_stored_condition_forbids_it(server: Server) -> None:
    """A write through any session (here a bulk UPDATE, as a script would) forgets it."""
    token = await server.create_token()
    async with server.client(token) as client:
        assert (await client.get("/api/v1/users")).status_code == 200
        async with server.rt.db.session() as session:
            await session.execute(update(ApiToken).values(network=ZONE))
            await session.commit()
        assert_invalid_token(await client.get("/api/v1/users"))


async def test_a_remembered_token_still_moves_its_expiry_each_hour(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await server.create_token()
    created_expiry = await stored_expiry(server)
    assert created_expiry is not None
    move = clock_at(monkeypatch)
    async with server.client(token) as client:
        assert (await client.get("/api/v1/users")).status_code == 200
        move(timedelta(hours=2))
        assert (await client.get("/api/v1/users")).status_code == 200
    moved = await stored_expiry(server)
    assert moved is not None and moved - created_expiry >= timedelta(hours=2) - timedelta(minutes=1)


async def test_a_remembered_token_of_one_org_does_not_open_another(server: Server) -> None:
    """The cache is keyed by org and digest, as the query was."""
    from ostiary.domain.directory.api_tokens import authenticate
    from ostiary.store.repositories import orgs

    token = await server.create_token()
    async with server.rt.db.session() as session:
        org = await orgs.ensure_default(session)
        assert await authenticate(session, org.id, token) is not None
        assert await authenticate(session, "00o" + "x" * 17, token) is None


async def test_a_remembered_token_of_a_deactivated_admin_is_refused(server: Server) -> None:
    """The token is remembered, its admin is not: the user is read on every request."""
    from ostiary.domain.context import Actor, Tx
    from ostiary.store.repositories import orgs

    admin_token = await server.create_token("keeper")
    async with server.client(admin_token) as admin:
        body = {
            "profile": {"login": "x@example.com", "email": "x@example.com", "firstName": "X", "lastName": "Y"}
        }
        user_id = (await admin.post("/api/v1/users", json=body)).json()["id"]
        granted = await admin.post(f"/api/v1/users/{user_id}/roles", json={"type": "SUPER_ADMIN"})
        assert granted.status_code in (200, 201), granted.text
        async with server.rt.db.session() as session:
            org = await orgs.ensure_default(session)
            _, token = await api_tokens.create_token(
                Tx(session=session, org=org, actor=Actor.system()), "theirs", user_id=user_id
            )
        async with server.client(token) as client:
            assert (await client.get("/api/v1/users")).status_code == 200
            assert (org.id, api_tokens.digest(token)) in server.rt.caches.api_tokens._entries
            assert (await admin.post(f"/api/v1/users/{user_id}/lifecycle/deactivate")).status_code == 200
            assert_invalid_token(await client.get("/api/v1/users"))


async def test_a_read_overtaken_by_a_change_is_not_remembered(server: Server) -> None:
    """A token changed while its row was being read (generations): the read is not kept."""
    from sqlalchemy import event

    from ostiary.store.repositories import orgs

    token = await server.create_token()
    cache = server.rt.caches.api_tokens

    def change_meanwhile(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "FROM api_tokens" in statement:
            cache.invalidate()  # as a revocation committing in another request would

    event.listen(server.rt.db.engine.sync_engine, "before_cursor_execute", change_meanwhile)
    async with server.rt.db.session() as session:
        org = await orgs.ensure_default(session)
        assert await api_tokens.authenticate(session, org.id, token) is not None
    assert len(cache) == 0


async def test_remembered_tokens_keep_a_short_life_while_events_arrive(server: Server) -> None:
    """A token deleted behind the session's back (psql) stops working within UNREVOKED_TTL."""
    from ostiary.domain.caches import UNREVOKED_TTL

    server.rt.follow_cache_events(True)
    try:
        assert server.rt.caches.api_tokens.ttl == UNREVOKED_TTL
    finally:
        server.rt.follow_cache_events(False)
