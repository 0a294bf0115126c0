"""store.sqlite_one_hop: a statement in one hop to aiosqlite's thread answers what SQLAlchemy's
own cursor answers: rows, row counts, last row ids, many rows, errors, transactions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from ostiary.store.db import Database
from ostiary.store.sqlite_one_hop import OneHopCursor


@pytest.fixture
async def db(sqlite_database_url: str) -> AsyncIterator[Database]:
    database = Database(sqlite_database_url)
    async with database.session() as session:
        await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT UNIQUE)"))
    yield database
    await database.dispose()


async def test_the_engine_uses_the_one_hop_cursor(db: Database) -> None:
    async with db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.dbapi_connection.cursor(), OneHopCursor)  # type: ignore[union-attr]


async def test_rows_counts_and_ids_are_the_drivers(db: Database) -> None:
    async with db.session() as session:
        inserted = await session.execute(text("INSERT INTO t (x) VALUES ('a')"))
        assert inserted.lastrowid == 1
        await session.execute(text("INSERT INTO t (x) VALUES (:x)"), [{"x": "b"}, {"x": "c"}])  # executemany
        updated = await session.execute(text("UPDATE t SET x = x || '!' WHERE id > 1"))
        assert updated.rowcount == 2
        returned = await session.execute(text("UPDATE t SET x = 'z' WHERE id = 1 RETURNING id, x"))
        assert returned.all() == [(1, "z")]
        selected = await session.execute(text("SELECT id, x FROM t ORDER BY id"))
        assert list(selected.keys()) == ["id", "x"]
        assert selected.all() == [(1, "z"), (2, "b!"), (3, "c!")]
        assert (await session.execute(text("SELECT x FROM t WHERE id = 99"))).first() is None


async def test_errors_are_sqlalchemys_and_roll_back(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            await session.execute(text("INSERT INTO t (x) VALUES ('a')"))
            await session.execute(text("INSERT INTO t (x) VALUES ('a')"))
    with pytest.raises(OperationalError):
        async with db.session() as session:
            await session.execute(text("SELECT nope FROM t"))
    async with db.session() as session:
        assert await session.scalar(text("SELECT count(*) FROM t")) == 0


async def test_many_rows_arrive_whole(db: Database) -> None:
    async with db.session() as session:
        await session.execute(text("INSERT INTO t (x) VALUES (:x)"), [{"x": str(i)} for i in range(2500)])
    async with db.session() as session:
        assert len((await session.execute(text("SELECT x FROM t"))).all()) == 2500
        streamed = await session.stream(text("SELECT x FROM t"))  # server-side: SQLAlchemy's cursor
        assert len([row async for row in streamed]) == 2500
