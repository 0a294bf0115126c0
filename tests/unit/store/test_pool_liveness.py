"""PostgreSQL connections are pinged at checkout only after sitting idle over a second
(``ostiary.pool_liveness``), not at every checkout as ``pool_pre_ping`` did (three round trips
each through asyncpg). A backend killed while its connection sat idle is replaced without the
request noticing; one killed within the second fails one request, and the pool recovers at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ostiary import pool_liveness
from ostiary.store.db import Database

pytestmark = pytest.mark.postgres


@pytest.fixture
async def db(postgres_database: str | None) -> AsyncIterator[Database]:
    if postgres_database is None:
        pytest.skip("OSTIARY_TEST_POSTGRES_URL is not set")
    database = Database(postgres_database)
    try:
        yield database
    finally:
        await database.engine.dispose()


@pytest.fixture
def pings(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per ping the engine's dialect sends."""
    sent: list[int] = []
    dialect = db.engine.sync_engine.dialect
    real = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        sent.append(1)
        return real(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    return sent


async def _backend_pid(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(db: Database, pid: int) -> None:
    conn = await asyncpg.connect(db.url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
        while await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
            await asyncio.sleep(0.01)
    finally:
        await conn.close()


async def test_the_pool_does_not_ping_at_every_checkout(db: Database) -> None:
    pool = db.engine.sync_engine.pool
    assert pool._pre_ping is False  # the three-round-trip ping at every checkout is off


async def test_a_connection_back_in_use_within_a_second_is_not_pinged(db: Database, pings: list[int]) -> None:
    first = await _backend_pid(db)
    for _ in range(5):
        assert await _backend_pid(db) == first  # the same pooled connection each time
    assert pings == []


async def test_a_connection_idle_over_a_second_is_pinged_and_a_dead_one_replaced_unnoticed(
    db: Database, pings: list[int]
) -> None:
    first = await _backend_pid(db)
    await asyncio.sleep(pool_liveness.IDLE_BEFORE_PING + 0.1)
    assert await _backend_pid(db) == first
    assert len(pings) == 1  # idle past the window: pinged, alive, kept

    await _terminate(db, first)
    await asyncio.sleep(pool_liveness.IDLE_BEFORE_PING + 0.1)
    replacement = await _backend_pid(db)  # no error: the ping found it dead
    assert replacement != first
    assert len(pings) == 2


async def test_a_connection_killed_within_the_second_fails_one_request_and_the_pool_recovers(
    db: Database, pings: list[int]
) -> None:
    first = await _backend_pid(db)
    await _terminate(db, first)
    with pytest.raises(DBAPIError) as failed:
        await _backend_pid(db)
    assert failed.value.connection_invalidated
    assert await _backend_pid(db) != first
    assert pings == []
