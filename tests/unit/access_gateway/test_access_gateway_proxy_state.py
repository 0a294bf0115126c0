"""The proxy's state in the gateway's store: sessions another process (or a restarted one)
finds, sealed at rest; the assertion and seal keys made once and shared; the JWKS and
metrics routes the command mounts on the admin origin. SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from ostiary.access_gateway.admin import repository
from ostiary.access_gateway.admin.catalog import StoreAppCatalog
from ostiary.access_gateway.assembly import assemble_proxy
from ostiary.access_gateway.bootstrap import prepare
from ostiary.access_gateway.proxy.app import make_proxy_app
from ostiary.access_gateway.proxy.catalog import StaticAppCatalog
from ostiary.access_gateway.proxy.config import parse_app
from ostiary.access_gateway.proxy.exchange import session_cookie_name
from ostiary.access_gateway.proxy.sessions import GatewaySession, digest
from ostiary.access_gateway.proxy_state import ASSERTION_KEY, SEAL_KEY, SqlSessionStore, load_proxy_keys
from ostiary.access_gateway.runtime import GatewayConfig, GatewayRuntime, make_config, open_runtime
from ostiary.access_gateway.server import build_app
from ostiary.access_gateway.store import tables


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def config(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_database: str | None
) -> AsyncIterator[GatewayConfig]:
    database_url = None
    if request.param == "postgres":
        if postgres_database is None:
            pytest.skip("OSTIARY_TEST_POSTGRES_URL is not set")
        database_url = postgres_database
    cfg = make_config(port=8090, data_dir=tmp_path, database_url=database_url)
    rt = open_runtime(cfg)
    try:
        await prepare(rt)
        async with rt.engine.begin() as conn:  # PostgreSQL tests share one database
            await conn.execute(tables.sessions.delete())
            await conn.execute(
                tables.settings.delete().where(tables.settings.c.name.in_([ASSERTION_KEY, SEAL_KEY]))
            )
    finally:
        await rt.close()
    yield cfg


@pytest.fixture
async def runtime(config: GatewayConfig) -> AsyncIterator[GatewayRuntime]:
    rt = open_runtime(config)
    try:
        yield rt
    finally:
        await rt.close()


def a_session(created: float) -> GatewaySession:
    return GatewaySession(
        app_id="app-1",
        user_id="00u1",
        login="alice@example.com",
        email="alice@example.com",
        groups=("Staff",),
        claims={"given_name": "Alice", "preferred_username": "alice@example.com"},
        id_token="eyJ.id-token.sig",
        created_at=created,
        last_seen=created,
    )


async def test_a_session_is_found_by_another_process_and_sealed_at_rest(
    config: GatewayConfig, runtime: GatewayRuntime
) -> None:
    now = time.time()
    session = a_session(now)
    await SqlSessionStore(runtime).save("d" * 64, session)
    other = open_runtime(config)
    try:
        loaded = await SqlSessionStore(other).load("d" * 64)
    finally:
        await other.close()
    assert loaded == session
    async with runtime.engine.connect() as conn:
        stored = (await conn.execute(select(tables.sessions.c.document_encrypted))).scalar_one()
    assert "alice" not in stored and "id-token" not in stored
    assert await SqlSessionStore(runtime).load("e" * 64) is None


async def test_activity_is_recorded_coarsely_and_logout_deletes_the_row(runtime: GatewayRuntime) -> None:
    store = SqlSessionStore(runtime)
    start = time.time()
    await store.save("k" * 64, a_session(start))
    await store.touch("k" * 64, start + 1)  # within TOUCH_EVERY: no write
    assert (await store.load("k" * 64)).last_seen == start  # type: ignore[union-attr]
    await store.touch("k" * 64, start + 60)
    assert (await store.load("k" * 64)).last_seen == start + 60  # type: ignore[union-attr]
    await store.delete("k" * 64)
    assert await store.load("k" * 64) is None


async def test_a_session_past_the_gateways_maximum_age_is_gone(runtime: GatewayRuntime) -> None:
    store = SqlSessionStore(runtime, max_age=3600)
    await store.save("o" * 64, a_session(time.time()))
    async with runtime.engine.begin() as conn:
        await conn.execute(update(tables.sessions).values(expires_at=int(time.time()) - 1))
    assert await store.load("o" * 64) is None
    async with runtime.engine.connect() as conn:
        assert (await conn.execute(select(tables.sessions.c.digest))).first() is None


async def test_a_session_sealed_under_another_row_does_not_open(runtime: GatewayRuntime) -> None:
    store = SqlSessionStore(runtime)
    await store.save("a" * 64, a_session(time.time()))
    await store.save("b" * 64, a_session(time.time()))
    async with runtime.engine.begin() as conn:
        sealed = (
            await conn.execute(
                select(tables.sessions.c.document_encrypted).where(tables.sessions.c.digest == "a" * 64)
            )
        ).scalar_one()
        await conn.execute(
            update(tables.sessions)
            .where(tables.sessions.c.digest == "b" * 64)
            .values(document_encrypted=sealed)
        )
    assert await store.load("b" * 64) is None


async def test_the_keys_are_made_once_sealed_and_shared(
    config: GatewayConfig, runtime: GatewayRuntime
) -> None:
    first = await load_proxy_keys(runtime)
    other = open_runtime(config)
    try:
        second = await load_proxy_keys(other)
    finally:
        await other.close()
    assert first.assertion.signing_key().kid == second.assertion.signing_key().kid
    assert first.assertion.signing_key().public_jwk() == second.assertion.signing_key().public_jwk()
    assert first.seal == second.seal and len(first.seal) == 32
    async with runtime.engine.connect() as conn:
        stored = (
            await conn.execute(select(tables.settings.c.value).where(tables.settings.c.name == ASSERTION_KEY))
        ).scalar_one()
    assert "PRIVATE KEY" not in stored


async def test_the_admin_origin_serves_the_jwks_and_metrics_only_with_the_token(
    runtime: GatewayRuntime,
) -> None:
    keys = await load_proxy_keys(runtime)
    catalog = StoreAppCatalog(runtime)
    assembled = assemble_proxy(runtime, catalog, keys, metrics_token="m-token")
    app = build_app(
        runtime, proxy_app=assembled.proxy, catalog=catalog, extra_admin_routes=assembled.admin_routes
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8090") as http:
        jwks = (await http.get("/api/v2/.well-known/jwks.json")).json()
        assert [key["kid"] for key in jwks["keys"]] == [keys.assertion.signing_key().kid]
        assert jwks["keys"][0]["crv"] == "P-256" and "d" not in jwks["keys"][0]
        assert (await http.get("/metrics")).status_code == 401
        assert (await http.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        shown = await http.get("/metrics", headers={"Authorization": "Bearer m-token"})
        assert shown.status_code == 200 and shown.headers["content-type"].startswith("text/plain")
    await assembled.proxy.aclose()

    unprotected = assemble_proxy(runtime, catalog, keys, metrics_token=None)
    app = build_app(
        runtime, proxy_app=unprotected.proxy, catalog=catalog, extra_admin_routes=unprotected.admin_routes
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://localhost:8090"
    ) as http:
        assert (await http.get("/metrics")).status_code == 404


def legacy_app(**oidc: Any) -> dict[str, Any]:
    return {
        "id": "app-1",
        "publicDomain": "legacy.localhost",
        "status": "ACTIVE",
        "_embedded": {
            "session": {"idleSession": True, "idleSessionTimeout": 60, "maxSessionTimeout": 28800},
            "protectedResources": [{"id": "r1", "hostname": "http://127.0.0.1:9", "assignedWeight": 1}],
            "policies": [{"name": "root", "resourcePath": "/", "rule": "PROTECTED"}],
        },
        "ostiaryOidc": {
            "orgUrl": "https://org.example",
            "clientId": "c1",
            "clientSecret": "s1",
            "redirectUri": "http://legacy.localhost:8090/_ostiary/callback",
            **oidc,
        },
    }


async def test_the_proxy_enforces_the_idle_timeout_and_the_group_names_from_the_store(
    runtime: GatewayRuntime,
) -> None:
    document = legacy_app(groupNames=["Staff"])
    cookie = session_cookie_name(parse_app(document))
    store = SqlSessionStore(runtime)
    now = time.time()
    await store.save(digest("idle"), replace(a_session(now - 300), last_seen=now - 120))
    await store.save(digest("outsider"), replace(a_session(now), groups=("Everyone",)))
    await store.save(digest("staff"), a_session(now))
    proxy = make_proxy_app(StaticAppCatalog([document]), public_url="http://localhost:8090", sessions=store)
    transport = httpx.ASGITransport(app=proxy)
    async with httpx.AsyncClient(transport=transport, base_url="http://legacy.localhost") as http:
        idle = await http.get("/", headers={"Cookie": f"{cookie}=idle"})
        outsider = await http.get("/", headers={"Cookie": f"{cookie}=outsider"})
        staff = await http.get("/", headers={"Cookie": f"{cookie}=staff"})
    await proxy.aclose()
    assert idle.status_code == 302
    location = httpx.URL(idle.headers["location"])
    assert (
        location.params["redirect_uri"] == "http://legacy.localhost:8090/_ostiary/callback"
    )  # as registered
    assert await store.load(digest("idle")) is None  # the idle session's row is gone
    assert outsider.status_code == 403
    assert staff.status_code == 502  # admitted: on to the (unreachable) upstream


async def test_deleting_an_app_deletes_its_sessions(runtime: GatewayRuntime) -> None:
    store = SqlSessionStore(runtime)
    await store.save("1" * 64, a_session(time.time()))
    await store.save("2" * 64, replace(a_session(time.time()), app_id="app-2"))
    async with runtime.engine.begin() as conn:
        await repository.delete_app(conn, "app-1")
    assert await store.load("1" * 64) is None
    assert await store.load("2" * 64) is not None
