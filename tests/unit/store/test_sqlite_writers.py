"""Concurrent writers on a SQLite file wait their turn instead of failing with "database is
locked" (``store.sqlite_writers``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from ostiary.store.db import Database, Timeouts
from ostiary.store.sqlite_writers import gate_of


async def test_a_writer_gets_its_turn_during_a_stream_of_other_writers(tmp_path: Path) -> None:
    # SQLite's busy handler polls for the lock, sleeping longer the longer it has waited; the
    # writers of a busy stream keep taking the lock first, and the late one failed after its
    # busy_timeout.
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", timeouts=Timeouts(statement=0.5))
    async with db.session() as session:
        await session.execute(text("CREATE TABLE t (who TEXT)"))
    stop = asyncio.Event()

    async def stream() -> int:
        done = 0
        while not stop.is_set():
            async with db.session() as session:
                await session.execute(text("INSERT INTO t VALUES ('stream')"))
                await asyncio.sleep(0.02)
            done += 1
        return done

    streams = [asyncio.create_task(stream()) for _ in range(4)]
    await asyncio.sleep(0.05)
    async with db.session() as session:
        await session.execute(text("INSERT INTO t VALUES ('late')"))
    stop.set()
    assert all(done > 0 for done in await asyncio.gather(*streams))
    async with db.session() as session:
        assert (await session.execute(text("SELECT count(*) FROM t WHERE who = 'late'"))).scalar() == 1
    await db.dispose()


async def test_writers_queue_in_arrival_order_and_readers_do_not_queue(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", timeouts=Timeouts(statement=5))
    async with db.session() as session:
        await session.execute(text("CREATE TABLE t (who TEXT)"))
    holding = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with db.session() as session:
            await session.execute(text("INSERT INTO t VALUES ('first')"))
            holding.set()
            await release.wait()

    async def writer(name: str) -> None:
        async with db.session() as session:
            await session.execute(text(f"INSERT INTO t VALUES ('{name}')"))

    holder = asyncio.create_task(first())
    await holding.wait()
    gate = gate_of(db.engine.sync_engine)
    assert gate is not None
    waiters = []
    for queued, name in enumerate(("a", "b", "c"), start=1):
        waiters.append(asyncio.create_task(writer(name)))
        while gate.queued() < queued:
            await asyncio.sleep(0.005)
    async with db.session() as session:  # a reader is not held up by the queued writers
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar() == 0
    release.set()
    await asyncio.gather(holder, *waiters)
    async with db.session() as session:
        order = (await session.execute(text("SELECT who FROM t ORDER BY rowid"))).scalars().all()
    assert order == ["first", "a", "b", "c"]
    await db.dispose()


async def test_a_queue_longer_than_busy_timeout_waits_while_writers_keep_finishing(tmp_path: Path) -> None:
    # 12 writers each holding the lock 0.1 s queue 1.2 s in all, past the 0.6 s bound: the bound
    # is on the wait for the next writer to finish, not on the whole queue.
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", timeouts=Timeouts(statement=0.6))
    async with db.session() as session:
        await session.execute(text("CREATE TABLE t (who TEXT)"))

    async def writer(n: int) -> None:
        async with db.session() as session:
            await session.execute(text(f"INSERT INTO t VALUES ('{n}')"))
            await asyncio.sleep(0.1)

    await asyncio.gather(*(writer(n) for n in range(12)))
    async with db.session() as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar() == 12
    await db.dispose()


async def test_a_writer_that_never_finishes_still_fails_the_queue_after_busy_timeout(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", timeouts=Timeouts(statement=0.2))
    async with db.session() as session:
        await session.execute(text("CREATE TABLE t (who TEXT)"))
    holding, release = asyncio.Event(), asyncio.Event()

    async def stuck() -> None:
        async with db.session() as session:
            await session.execute(text("INSERT INTO t VALUES ('stuck')"))
            holding.set()
            await release.wait()

    holder = asyncio.create_task(stuck())
    await holding.wait()
    with pytest.raises(OperationalError, match="database is locked"):
        async with db.session() as session:
            await session.execute(text("INSERT INTO t VALUES ('late')"))
    release.set()
    await holder
    async with db.session() as session:  # the queue is usable again: the failed waiter left it
        await session.execute(text("INSERT INTO t VALUES ('after')"))
    await db.dispose()


async def test_a_writer_cancelled_while_queued_leaves_the_queue(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", timeouts=Timeouts(statement=5))
    async with db.session() as session:
        await session.execute(text("CREATE TABLE t (who TEXT)"))
    holding, release = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with db.session() as session:
            await session.execute(text("INSERT INTO t VALUES ('first')"))
            holding.set()
            await release.wait()

    async def writer() -> None:
        async with db.session() as session:
            await session.execute(text("INSERT INTO t VALUES ('cancelled')"))

    holder = asyncio.create_task(first())
    await holding.wait()
    gate = gate_of(db.engine.sync_engine)
    assert gate is not None
    waiter = asyncio.create_task(writer())
    while gate.queued() < 1:
        await asyncio.sleep(0.005)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release.set()
    await holder
    async with db.session() as session:
        await asyncio.wait_for(session.execute(text("INSERT INTO t VALUES ('next')")), 2)
        assert (await session.execute(text("SELECT who FROM t ORDER BY rowid"))).scalars().all() == [
            "first",
            "next",
        ]
    await db.dispose()
