"""The user context cache (``domain.tokens.user_context_cache``) and the ``directory`` cache
event that clears it (``store.directory_events``): a cached ACTIVE user, group or assignment
never outlives the write that ends it, whichever way that write is made."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from sqlalchemy import select, text, update

from ostiary.domain.caches import caches_of
from ostiary.domain.tokens.user_context_cache import UserContextCache
from ostiary.store.models import User
from tests.conftest import Server
from tests.support.authorize import code_for, exchange, group, user, web_app
from tests.support.oauth import basic
from tests.support.policies import USER_PASSWORD

CARL = "carl.sagan@example.com"


# --- the cache ---------------------------------------------------------------------------------


async def test_forgetting_an_org_forgets_its_entries_only() -> None:
    cache = UserContextCache()

    async def load(value: str) -> str:
        return value

    await cache.get_or_load(("user", "org1", "u1"), lambda: load("one"))
    await cache.get_or_load(("user", "org2", "u2"), lambda: load("two"))
    cache.invalidate("org1")
    assert cache.lookup(("user", "org1", "u1")) == (False, None)
    assert cache.lookup(("user", "org2", "u2")) == (True, "two")
    cache.invalidate()
    assert cache.lookup(("user", "org2", "u2")) == (False, None)


async def test_a_load_overtaken_by_an_invalidation_is_not_stored() -> None:
    """A request reads ACTIVE, a suspension commits (and forgets the org) before the request
    stores what it read: the stale ACTIVE must not be cached."""
    cache = UserContextCache()
    reading = asyncio.Event()
    release = asyncio.Event()

    async def slow_load() -> str:
        reading.set()
        await release.wait()
        return "ACTIVE"

    for forget in ("org1", None):
        task = asyncio.create_task(cache.get_or_load(("user", "org1", "u1"), slow_load))
        await reading.wait()
        cache.invalidate(forget)
        release.set()
        assert await task == "ACTIVE"  # the request goes on with what it read
        assert cache.lookup(("user", "org1", "u1")) == (False, None)
        reading.clear()
        release.clear()


async def test_misses_are_not_cached() -> None:
    cache = UserContextCache()
    loads = 0

    async def load() -> None:
        nonlocal loads
        loads += 1

    for _ in range(2):
        await cache.get_or_load(("user", "org1", "nobody"), load, keep=lambda found: found is not None)
    assert loads == 2


# --- the directory event -----------------------------------------------------------------------


async def _log(server: Server) -> list[list[str]]:
    async with server.rt.db.session() as session:
        rows = (await session.execute(text("SELECT payload FROM cache_event_log ORDER BY seq"))).all()
    return [json.loads(row[0]) for row in rows]


async def _directory_events_after(server: Server, before: int) -> list[list[str]]:
    return [e for e in (await _log(server))[before:] if e[0] == "directory"]


async def test_user_writes_announce_the_directory_event_and_sign_ins_do_not(
    admin: httpx.AsyncClient, server: Server
) -> None:
    user_id = await user(admin, CARL)
    async with server.rt.db.session() as session:
        org_id = await session.scalar(select(User.org_id).where(User.id == user_id))
    before = len(await _log(server))
    async with server.client() as anon:  # right and wrong passwords: sign-in bookkeeping only
        assert (
            await anon.post("/api/v1/authn", json={"username": CARL, "password": "wrong"})
        ).status_code == 401
        assert (
            await anon.post("/api/v1/authn", json={"username": CARL, "password": USER_PASSWORD})
        ).status_code == 200
    assert await _directory_events_after(server, before) == []

    assert (await admin.post(f"/api/v1/users/{user_id}/lifecycle/suspend")).status_code == 200
    assert await _directory_events_after(server, before) == [["directory", org_id]]

    before = len(await _log(server))
    group_id = await group(admin, "Astronomers")
    assert (await admin.put(f"/api/v1/groups/{group_id}/users/{user_id}")).status_code == 204
    assert ["directory", org_id] in await _directory_events_after(server, before)


async def test_bulk_statements_announce_for_every_org_and_rollbacks_announce_nothing(
    admin: httpx.AsyncClient, server: Server
) -> None:
    user_id = await user(admin, CARL)
    before = len(await _log(server))
    with pytest.raises(RuntimeError):
        async with server.rt.db.session() as session:
            await session.execute(update(User).where(User.id == user_id).values(status="SUSPENDED"))
            raise RuntimeError("rolled back")
    assert await _directory_events_after(server, before) == []
    async with server.rt.db.session() as session:
        await session.execute(update(User).where(User.id == user_id).values(failed_logins=3))
    assert await _directory_events_after(server, before) == []
    async with server.rt.db.session() as session:
        await session.execute(update(User).where(User.id == user_id).values(status="SUSPENDED"))
    assert await _directory_events_after(server, before) == [["directory"]]


async def test_the_writing_process_forgets_at_once(admin: httpx.AsyncClient, server: Server) -> None:
    cache = caches_of(server.rt.db.sessionmaker()).user_contexts
    user_id = await user(admin, CARL)
    async with server.rt.db.session() as session:
        org_id = await session.scalar(select(User.org_id).where(User.id == user_id))

    async def cached_load() -> str:
        return "ACTIVE"

    await cache.get_or_load(("user", org_id, user_id), cached_load)
    assert cache.lookup(("user", org_id, user_id)) == (True, "ACTIVE")
    async with server.rt.db.session() as session:  # a bulk write, as sign-in's lockout makes
        await session.execute(update(User).where(User.id == user_id).values(status="LOCKED_OUT"))
    assert cache.lookup(("user", org_id, user_id)) == (False, None)


# --- through the endpoints (SQLite and PostgreSQL) ---------------------------------------------


async def _user_tokens(admin: httpx.AsyncClient, server: Server) -> tuple[str, str, dict[str, str]]:
    client_id, secret = await web_app(admin)
    assert secret is not None
    async with server.client() as anon:
        code = await code_for(anon, client_id, CARL, scope="openid offline_access")
        response = await exchange(anon, code, client_id, secret)
    assert response.status_code == 200, response.text
    return client_id, secret, response.json()


async def _active(server: Server, client_id: str, secret: str, token: str) -> bool:
    async with server.client() as anon:
        response = await anon.post(
            "/oauth2/default/v1/introspect",
            data={"token": token, "token_type_hint": "access_token"},
            headers=basic(client_id, secret),
        )
    assert response.status_code == 200, response.text
    return bool(response.json()["active"])


async def _refresh(server: Server, client_id: str, secret: str, refresh_token: str) -> httpx.Response:
    async with server.client() as anon:
        return await anon.post(
            "/oauth2/default/v1/token",
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            headers=basic(client_id, secret),
        )


async def test_a_suspension_ends_cached_user_tokens_at_once(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    user_id = await user(any_admin, CARL)
    client_id, secret, tokens = await _user_tokens(any_admin, any_server)
    assert await _active(any_server, client_id, secret, tokens["access_token"])  # cached now
    assert (await _refresh(any_server, client_id, secret, tokens["refresh_token"])).status_code == 200
    assert (await any_admin.post(f"/api/v1/users/{user_id}/lifecycle/suspend")).status_code == 200
    assert not await _active(any_server, client_id, secret, tokens["access_token"])
    assert (await _refresh(any_server, client_id, secret, tokens["refresh_token"])).status_code == 400


async def test_leaving_the_group_that_assigns_the_app_ends_refreshes_at_once(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    group_id = await group(any_admin, "Astronomers")
    user_id = await user(any_admin, CARL, group_id)
    client_id, secret = await web_app(any_admin, assign_everyone=False)
    assert secret is not None
    assigned = await any_admin.put(f"/api/v1/apps/{client_id}/groups/{group_id}", json={})
    assert assigned.status_code == 200, assigned.text
    async with any_server.client() as anon:
        code = await code_for(anon, client_id, CARL, scope="openid offline_access")
        tokens = (await exchange(anon, code, client_id, secret)).json()
    refreshed = await _refresh(any_server, client_id, secret, tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text  # the assignment is cached now
    left = await any_admin.delete(f"/api/v1/groups/{group_id}/users/{user_id}")
    assert left.status_code == 204, left.text
    refused = await _refresh(any_server, client_id, secret, refreshed.json()["refresh_token"])
    assert refused.status_code == 400 and "not assigned" in refused.text, refused.text
