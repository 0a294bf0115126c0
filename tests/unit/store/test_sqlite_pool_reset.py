"""store.db's SQLite pool reset: a connection goes back to the pool without a rollback after its
transaction ended (a hop to aiosqlite's thread for nothing), and with one when a transaction
is still open, as SQLAlchemy's own reset would."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from ostiary.store.db import Database


@pytest.fixture
async def db(sqlite_database_url: str) -> Any:
    database = Database(sqlite_database_url)
    yield database
    await database.dispose()


def driver_rollbacks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the rollbacks sent to aiosqlite's thread."""
    import aiosqlite

    calls: list[int] = []
    original = aiosqlite.Connection.rollback

    async def rollback(self: aiosqlite.Connection) -> None:
        calls.append(1)
        await original(self)

    monkeypatch.setattr(aiosqlite.Connection, "rollback", rollback)
    return calls


async def test_a_committed_session_returns_its_connection_without_a_rollback(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with db.session() as session:  # the pool's first connection: made before counting
        await session.execute(text("SELECT 1"))
    rollbacks = driver_rollbacks(monkeypatch)
    for _ in range(3):
        async with db.session() as session:
            await session.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
            await session.execute(text("INSERT INTO t VALUES (1)"))
    assert rollbacks == []
    async with db.session() as session:
        assert await session.scalar(text("SELECT count(*) FROM t")) == 3


async def test_a_connection_returned_in_a_transaction_is_rolled_back(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written on the driver's connection behind SQLAlchemy's back, so only the pool's reset
    can end that transaction."""
    async with db.session() as session:
        await session.execute(text("CREATE TABLE t (x INTEGER)"))
    rollbacks = driver_rollbacks(monkeypatch)
    async with db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        await driver.execute("INSERT INTO t VALUES (1)")
        assert driver.in_transaction
    assert rollbacks == [1]
    async with db.session() as session:
        assert await session.scalar(text("SELECT count(*) FROM t")) == 0
