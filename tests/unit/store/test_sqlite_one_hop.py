"""store.sqlite_one_hop: a statement in one hop to aiosqlite's thread answers what SQLAlchemy's
own cursor answers: rows, row counts, last row ids, many rows, errors, transactions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

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


STATEMENTS: list[tuple[str, object]] = [
    ("INSERT INTO t (x) VALUES ('a')", None),
    ("INSERT INTO t (x) VALUES (:x)", [{"x": "b"}, {"x": "c"}]),
    ("UPDATE t SET x = x || '!' WHERE id > 1", None),
    ("UPDATE t SET x = x || '?' RETURNING id, x", None),
    ("DELETE FROM t WHERE id = 99 RETURNING id", None),
    ("INSERT OR IGNORE INTO t (x) VALUES ('a')", None),
    ("INSERT INTO t (x) VALUES ('q') RETURNING id", None),
    ("SELECT id, x FROM t ORDER BY id", None),
    ("SELECT 1 WHERE 0", None),
    ("PRAGMA foreign_keys", None),
    ("INSERT INTO t (x) VALUES ('a?')", None),  # taken: IntegrityError
    ("INSERT INTO t (x) VALUES (:x)", [{"x": "zz"}, {"x": "zz"}]),  # taken within the batch
    ("SELEC 1", None),
    ("SELECT nope FROM t", None),
]


async def _answers(url: str, module: object | None) -> list[object]:
    """What each statement of STATEMENTS gives on an engine with ``module`` (None: SQLAlchemy's)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, **({} if module is None else {"module": module}))
    answers: list[object] = []
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT UNIQUE)"))
        for sql, parameters in STATEMENTS:
            try:
                async with engine.begin() as connection:
                    result = await connection.execute(text(sql), parameters)  # type: ignore[arg-type]
                    rows = result.all() if result.returns_rows else None
                    keys = list(result.keys()) if result.returns_rows else None
                    answers.append((rows, keys, result.rowcount, getattr(result, "lastrowid", None)))
            except Exception as error:  # the error's kind and message are the answer
                answers.append((type(error).__name__, str(error.orig)))  # type: ignore[attr-defined]
    finally:
        await engine.dispose()
    return answers


async def test_answers_equal_sqlalchemys_own_cursor(tmp_path: Path) -> None:
    from ostiary.store.sqlite_one_hop import one_hop_dbapi

    stock = await _answers(f"sqlite+aiosqlite:///{tmp_path / 'stock.db'}", None)
    one_hop = await _answers(f"sqlite+aiosqlite:///{tmp_path / 'one_hop.db'}", one_hop_dbapi())
    assert one_hop == stock
    assert ("IntegrityError", "UNIQUE constraint failed: t.x") in one_hop


def test_the_base_cursor_has_the_slots_it_fills() -> None:
    """OneHopCursor fills SQLAlchemy's cursor's slots itself: a release that adds one must be
    looked at (pyproject bounds SQLAlchemy to 2.1.x)."""
    from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_cursor

    assert set(AsyncAdapt_dbapi_cursor.__slots__) == {
        "_adapt_connection",
        "_connection",
        "_cursor",
        "_rows",
        "_soft_closed_memoized",
    }


async def test_a_cancelled_statement_is_interrupted_on_the_thread(db: Database) -> None:
    """A read cancelled mid-way stops there (sqlite3's interrupt), not after every row."""
    calls: list[int] = []

    def slow(value: int) -> int:
        calls.append(value)
        time.sleep(0.2)
        return value

    async with db.session() as session:
        await session.execute(text("INSERT INTO t (x) VALUES ('1'), ('2'), ('3'), ('4'), ('5')"))
    async with db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        await raw.driver_connection.create_function("slow", 1, slow)  # type: ignore[union-attr]
        query = asyncio.ensure_future(connection.execute(text("SELECT slow(id) FROM t")))
        await asyncio.sleep(0.1)
        query.cancel()
        with pytest.raises(asyncio.CancelledError):
            await query
    assert len(calls) < 5
