"""Snapshot and restore of an in-memory SQLite database (the reset of ``serve --memory --testing``)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from ostiary.store.memory_snapshot import MemorySnapshot


@pytest.fixture
async def engine():
    engine = create_async_engine("sqlite+aiosqlite:///:memory:")
    async with engine.begin() as conn:
        await conn.execute(text("create table t (v text)"))
        await conn.execute(text("insert into t values ('from the file')"))
    yield engine
    await engine.dispose()


async def _values(engine) -> list[str]:
    async with engine.connect() as conn:
        return [row[0] for row in await conn.execute(text("select v from t order by v"))]


async def test_restore_brings_back_the_saved_rows_and_drops_later_ones(engine):
    snapshot = MemorySnapshot(engine)
    await snapshot.save()
    async with engine.begin() as conn:
        await conn.execute(text("insert into t values ('made by a test')"))
        await conn.execute(text("update t set v = 'changed' where v = 'from the file'"))

    await snapshot.restore()

    assert await _values(engine) == ["from the file"]
    await snapshot.close()


async def test_a_snapshot_restores_again_and_again(engine):
    snapshot = MemorySnapshot(engine)
    await snapshot.save()
    for _ in range(2):
        async with engine.begin() as conn:
            await conn.execute(text("delete from t"))
        await snapshot.restore()

    assert await _values(engine) == ["from the file"]
    await snapshot.close()


async def test_restore_without_a_snapshot_is_refused(engine):
    with pytest.raises(LookupError):
        await MemorySnapshot(engine).restore()


def test_only_sqlite_can_be_snapshotted():
    engine = create_async_engine("postgresql+asyncpg://u@127.0.0.1/x")
    with pytest.raises(ValueError):
        MemorySnapshot(engine)
