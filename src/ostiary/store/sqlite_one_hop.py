"""SQLite statements in one hop to aiosqlite's thread instead of four.

SQLAlchemy's aiosqlite adapter runs a statement as four calls, each handed to the connection's
thread and its result handed back to the event loop: make a cursor, execute, fetch the rows,
close the cursor. Every hop is a queue put, a thread wake-up and a ``call_soon_threadsafe`` back
(a write to the loop's self-pipe and one more loop turn). :class:`OneHopCursor` does the same
four calls in one function on that thread and keeps what the cursor said (rows, description,
row count, last row id), as SQLAlchemy's cursor keeps the rows it prefetched.

Measured on this 2-core VM (``UPDATE … RETURNING`` of one row, 3,000 in a loop, CPU time):
four hops 169-224 µs a statement, one hop 43-58 µs.

Used for every SQLite engine of ``store.db`` through the DBAPI module handed to
``create_async_engine`` (:func:`one_hop_dbapi`), not by patching SQLAlchemy. Server-side
cursors (``stream``) keep SQLAlchemy's own. The cursor stands on SQLAlchemy's
``AsyncAdapt_dbapi_cursor`` (2.1) and on aiosqlite's ``Connection._execute`` and ``_conn``, so
``pyproject.toml`` bounds both packages; ``tests/unit/store/test_sqlite_one_hop.py`` compares
its answers with SQLAlchemy's own cursor's and pins the base class's slots. A cancelled
statement is interrupted on the thread (``sqlite3.Connection.interrupt``).
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy import util
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

_Outcome = tuple[list[Any], Any, int, int | None]
"""rows, description, rowcount, lastrowid."""


def _execute(conn: sqlite3.Connection, operation: str, parameters: Any) -> _Outcome:
    """On aiosqlite's thread: the statement from cursor to close."""
    cursor = conn.cursor()
    try:
        cursor.execute(operation, () if parameters is None else parameters)
        rows = cursor.fetchall() if cursor.description else []
        return rows, cursor.description, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _execute_many(conn: sqlite3.Connection, operation: str, seq_of_parameters: Any) -> _Outcome:
    cursor = conn.cursor()
    try:
        cursor.executemany(operation, seq_of_parameters)
        return [], cursor.description, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A DBAPI cursor whose ``execute`` is one hop; it holds no aiosqlite cursor at all."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:  # no aiosqlite cursor to make or enter
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = util.EMPTY_DICT  # the base's immutable empty mapping
        self._rows = collections.deque()
        self._arraysize = 1  # sqlite3's default
        self._forget()

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        return None  # the rows are already here and the thread's cursor is closed

    def close(self) -> None:
        self._rows.clear()

    def _forget(self) -> None:
        """What a new statement starts from (sqlite3 clears ``description`` at each execute)."""
        self._rows.clear()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    async def _run(self, work: Any, operation: Any, parameters: Any) -> None:
        self._forget()
        async with self._adapt_connection._execute_mutex:
            driver = self._connection
            try:
                outcome = await driver._execute(work, driver._conn, operation, parameters)
            except asyncio.CancelledError:
                # Stop the statement on the thread at its next step (a no-op if it has not
                # started or is done), as the four-hop cursor stopped between its hops; the
                # connection is invalidated after a cancelled statement anyway.
                driver._conn.interrupt()
                raise
        rows, self._description, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._run(_execute, operation, parameters)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        await self._run(_execute_many, operation, seq_of_parameters)

    def nextset(self) -> None:
        return None

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's adapted aiosqlite connection, with :class:`OneHopCursor` for its cursors."""

    __slots__ = ()
    _cursor_cls = OneHopCursor


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The aiosqlite DBAPI module SQLAlchemy would load, making :class:`OneHopConnection`\\ s."""

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        connection = super().connect(*arg, **kw)
        connection.__class__ = OneHopConnection  # same slots: only the cursor class differs
        return connection


def one_hop_dbapi() -> OneHopDBAPI:
    """The ``module`` to give ``create_async_engine`` for a ``sqlite+aiosqlite`` URL."""
    import aiosqlite

    return OneHopDBAPI(aiosqlite, sqlite3)
