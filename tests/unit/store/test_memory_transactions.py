"""The in-memory database of ``serve --memory`` lives on one connection: its transactions take
turns on it, so one session's rollback (or the testing reset) never reaches another's open work."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from ostiary.memory_server import MEMORY_DATABASE_URL
from ostiary.store.db import Database, Timeouts
from ostiary.store.memory_snapshot import MemorySnapshot

PATIENCE = 0.3
"""How long the first transaction stays open once a second one has started: ample for the second
to reach the connection if nothing kept it out (the assertions never depend on it)."""


class Boom(Exception):
    pass


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    database = Database(MEMORY_DATABASE_URL, timeouts=Timeouts(pool=30.0))
    async with database.session() as session:
        await session.execute(text("create table t (v text primary key)"))
    yield database
    await database.dispose()


async def _values(db: Database) -> list[str]:
    async with db.session() as session:
        return [row[0] for row in await session.execute(text("select v from t order by v"))]


async def _stay_open_while(other: asyncio.Task[object]) -> None:
    await asyncio.wait({other}, timeout=PATIENCE)


async def test_another_sessions_rollback_leaves_an_open_transaction_alone(db: Database) -> None:
    wrote = asyncio.Event()

    async def failing() -> None:
        await wrote.wait()
        async with db.session() as session:
            await session.execute(text("insert into t values ('failed')"))
            raise Boom

    other = asyncio.create_task(failing())
    async with db.session() as session:
        await session.execute(text("insert into t values ('kept')"))
        wrote.set()
        await _stay_open_while(other)

    with pytest.raises(Boom):
        await other
    assert await _values(db) == ["kept"]


async def test_a_read_session_does_not_commit_another_sessions_half_done_work(db: Database) -> None:
    wrote = asyncio.Event()
    seen: list[list[str]] = []

    async def reader() -> None:
        await wrote.wait()
        seen.append(await _values(db))

    other = asyncio.create_task(reader())
    with pytest.raises(Boom):
        async with db.session() as session:
            await session.execute(text("insert into t values ('never committed')"))
            wrote.set()
            await _stay_open_while(other)
            raise Boom

    await other
    assert seen == [[]]
    assert await _values(db) == []


async def test_a_lazy_session_takes_its_turn_too(db: Database) -> None:
    wrote = asyncio.Event()

    async def failing() -> None:
        await wrote.wait()
        async with db.lazy_session() as session:
            await session.execute(text("insert into t values ('failed')"))
            raise Boom

    other = asyncio.create_task(failing())
    async with db.lazy_session() as session:
        await session.execute(text("insert into t values ('kept')"))
        wrote.set()
        await _stay_open_while(other)

    with pytest.raises(Boom):
        await other
    assert await _values(db) == ["kept"]


async def test_the_reset_waits_for_an_open_transaction_and_then_undoes_it(db: Database) -> None:
    snapshot = MemorySnapshot(db.engine)
    async with db.session() as session:
        await session.execute(text("insert into t values ('saved')"))
    await snapshot.save()
    wrote = asyncio.Event()

    async def reset() -> None:
        await wrote.wait()
        await snapshot.restore()

    other = asyncio.create_task(reset())
    async with db.session() as session:
        await session.execute(text("insert into t values ('after the snapshot')"))
        wrote.set()
        await _stay_open_while(other)

    await other
    assert await _values(db) == ["saved"]
    await snapshot.close()


async def test_a_session_opened_inside_another_fails_instead_of_hanging() -> None:
    """A nested session cannot have the one connection its caller holds: after the pool
    timeout it fails like any pool timeout (``db_faults`` maps it to a 503) instead of
    sharing the caller's transaction."""
    db = Database(MEMORY_DATABASE_URL, timeouts=Timeouts(pool=0.2))
    try:
        async with db.session() as outer:
            await outer.execute(text("select 1"))
            with pytest.raises(sa_exc.TimeoutError):
                async with db.session() as inner:
                    await inner.execute(text("select 1"))
    finally:
        await db.dispose()
