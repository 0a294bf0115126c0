"""PostgreSQL connections are pinged at checkout only after sitting idle (``ostiary.pool_liveness``),
not at every checkout as ``pool_pre_ping`` did (three round trips each through asyncpg). A
connection whose server end the driver saw close is replaced without a ping; a silently dead one
is found by the ping once idle, and within the idle window fails one request, after which the pool
recovers at once. For the org server's engine (``store.db``) and the access gateway's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from ostiary import pool_liveness
from ostiary.access_gateway.store.engine import make_engine
from ostiary.store.db import Database, Timeouts

pytestmark = pytest.mark.postgres

LONG = 60.0
"""An idle window no test outlasts: a checkout within it is never pinged."""
SHORT = 0.05


@pytest.fixture
def pg_url(postgres_database: str | None) -> str:
    if postgres_database is None:
        pytest.skip("OSTIARY_TEST_POSTGRES_URL is not set")
    return postgres_database


@pytest.fixture
async def databases(pg_url: str) -> AsyncIterator[Callable[[float], Database]]:
    made: list[Database] = []

    def make(idle: float) -> Database:
        made.append(Database(pg_url, timeouts=Timeouts(idle_before_ping=idle)))
        return made[-1]

    yield make
    for database in made:
        await database.engine.dispose()


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per ping any asyncpg engine's dialect sends."""
    from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

    sent: list[int] = []
    real = PGDialect_asyncpg.do_ping

    def counted(self: Any, dbapi_connection: Any) -> bool:
        sent.append(1)
        return real(self, dbapi_connection)

    monkeypatch.setattr(PGDialect_asyncpg, "do_ping", counted)
    return sent


@pytest.fixture
def unnoticed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Connections never look closed to the pool's check: as a connection dropped before the
    driver saw it (a silent network path), until a statement or a ping runs into it."""
    monkeypatch.setattr(pool_liveness, "_driver_says_closed", lambda _record: False)


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(pg_url: str, pid: int) -> None:
    conn = await asyncpg.connect(pg_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
        while await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # the closed socket reaches the pooled connection's protocol
    finally:
        await conn.close()


async def test_the_pool_does_not_ping_at_every_checkout(databases: Callable[[float], Database]) -> None:
    pool = databases(LONG).engine.sync_engine.pool
    assert pool._pre_ping is False  # the three-round-trip ping at every checkout is off


async def test_a_connection_back_in_use_within_the_window_is_not_pinged(
    databases: Callable[[float], Database], pings: list[int]
) -> None:
    engine = databases(LONG).engine
    first = await _backend_pid(engine)
    for _ in range(5):
        assert await _backend_pid(engine) == first  # the same pooled connection each time
    assert pings == []


async def test_a_connection_idle_past_the_window_is_pinged_and_kept_when_alive(
    databases: Callable[[float], Database], pings: list[int]
) -> None:
    engine = databases(SHORT).engine
    first = await _backend_pid(engine)
    await asyncio.sleep(SHORT * 3)
    assert await _backend_pid(engine) == first
    assert len(pings) == 1


@pytest.mark.parametrize("idle", [LONG, SHORT])
async def test_a_connection_the_server_closed_is_replaced_without_a_ping_or_an_error(
    databases: Callable[[float], Database], pings: list[int], pg_url: str, idle: float
) -> None:
    engine = databases(idle).engine
    first = await _backend_pid(engine)
    await _terminate(pg_url, first)
    await asyncio.sleep(SHORT * 3)
    assert await _backend_pid(engine) != first
    assert pings == []


@pytest.mark.usefixtures("unnoticed")
async def test_a_silently_dead_connection_idle_past_the_window_is_found_by_the_ping(
    databases: Callable[[float], Database], pings: list[int], pg_url: str
) -> None:
    engine = databases(SHORT).engine
    first = await _backend_pid(engine)
    await _terminate(pg_url, first)
    await asyncio.sleep(SHORT * 3)
    assert await _backend_pid(engine) != first  # no error: the ping found it dead
    assert len(pings) == 1


@pytest.mark.usefixtures("unnoticed")
async def test_a_silently_dead_connection_within_the_window_fails_one_request_then_the_pool_recovers(
    databases: Callable[[float], Database], pings: list[int], pg_url: str
) -> None:
    engine = databases(LONG).engine
    first = await _backend_pid(engine)
    await _terminate(pg_url, first)
    with pytest.raises(DBAPIError) as failed:
        await _backend_pid(engine)
    assert failed.value.connection_invalidated
    assert await _backend_pid(engine) != first
    assert pings == []


async def test_the_access_gateway_engine_replaces_a_closed_connection_without_a_ping(
    pg_url: str, pings: list[int]
) -> None:
    engine = make_engine(pg_url)
    try:
        assert engine.sync_engine.pool._pre_ping is False
        first = await _backend_pid(engine)
        assert await _backend_pid(engine) == first
        await _terminate(pg_url, first)
        assert await _backend_pid(engine) != first
        assert pings == []
    finally:
        await engine.dispose()
