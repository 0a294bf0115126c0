"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, NullPool, PoolResetState

from ostiary import pool_liveness
from ostiary.db_faults import RetryPolicy, is_disconnect, mark_disconnects, run_retrying
from ostiary.store.sqlite_one_hop import one_hop_dbapi
from ostiary.store.sqlite_writers import WriteGate

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Bounds on every wait for the database, in seconds (``OSTIARY_DB_*_TIMEOUT``)."""

    connect: float = 3.0
    """Opening a connection (PostgreSQL: TCP and start-up handshake)."""
    statement: float = 5.0
    """One statement: PostgreSQL's ``statement_timeout`` (and the driver gives up half a second
    later if the server says nothing at all); SQLite's ``busy_timeout`` for a lock."""
    pool: float = 5.0
    """Waiting for a free pooled connection."""
    idle_before_ping: float = pool_liveness.IDLE_BEFORE_PING
    """PostgreSQL: a pooled connection idle longer than this is pinged before use."""


_CLIENT_GRACE = 0.5
"""Seconds the driver waits beyond ``statement_timeout`` for the server's own cancellation."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, busy_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.close()


def _begin_before_a_first_savepoint(conn: Connection, _name: str | None) -> None:
    """``BEGIN`` first when a savepoint would be the transaction's first statement on SQLite.

    sqlite3 (in its default, legacy transaction control) sends ``BEGIN`` only before a
    data-changing statement. A ``SAVEPOINT`` sent first therefore opens a transaction of its
    own, which its ``RELEASE`` commits at once: the savepoint's writes then survive a later
    rollback of the enclosing transaction, and what follows runs outside any transaction until
    the next write. Reading ``in_transaction`` costs no hop to aiosqlite's thread."""
    driver = conn.connection.driver_connection
    if driver is not None and not driver.in_transaction:
        conn.exec_driver_sql("BEGIN")


def _reset_sqlite(_dbapi_connection: Any, record: Any, state: PoolResetState) -> None:
    """Roll back a SQLite connection going back to the pool only if a transaction is open.

    SQLAlchemy's own reset (``pool_reset_on_return="rollback"``) rolls back every connection
    a session returns, after its commit too; through aiosqlite that is one more hop to the
    connection's thread and back per transaction (one in nine of a code redemption's),
    for a ``rollback()`` that sqlite3 turns into nothing when no transaction is open. Reading
    ``in_transaction`` costs no hop. Measured: a session of one ``UPDATE`` on a SQLite file,
    2,000 in a loop, 470-483 → 418-428 µs of CPU each (least of 5 rounds, two runs); in a code
    redemption (~1.5 ms) the 3 % is inside the spread of ``bench/token_flows.py``. A connection
    that cannot be reset safely here (outside the event loop) is left to the pool, which
    closes it."""
    if record is None or state.terminate_only or state.transaction_was_reset or not state.asyncio_safe:
        return  # a detached connection (no record) is closed, not pooled
    driver = record.driver_connection
    if driver is not None and driver.in_transaction:
        record.dbapi_connection.rollback()


def is_memory_sqlite(url: str) -> bool:
    """Whether ``url`` names an in-memory SQLite database (``serve --memory``).

    Such a database exists on one connection only, so its engine gets a pool of exactly that
    one connection (not SQLAlchemy's default ``StaticPool``, which hands the same connection to
    every session at once: one request's rollback then undid another's open transaction, a read
    session's commit committed another's half-done work, and writes answered 200 were lost).
    A session holds the connection from its first statement to its commit or rollback; the
    others (reads, lazy sessions, the testing reset) wait in the pool's queue, bounded by
    ``Timeouts.pool`` like any pool wait. A session opened inside another therefore fails
    after that timeout instead of sharing its caller's transaction. File SQLite and
    PostgreSQL are not concerned.

    Rejected: a shared-cache URI (``file:x?mode=memory&cache=shared``) with a normal pool
    answers a conflict with ``SQLITE_LOCKED`` at once (no busy timeout applies to shared-cache
    table locks), so concurrent requests would fail; the ``memdb`` VFS (``file:/x?vfs=memdb``)
    has no WAL: a writer blocks every reader for its whole transaction, and waiters poll
    (the busy handler's sleeps) where the pool's queue wakes the next one at once.
    """
    return url.startswith("sqlite") and ":memory:" in url


def _engine(url: str, timeouts: Timeouts | None, echo: bool) -> AsyncEngine:
    """An engine whose waits are bounded by ``timeouts`` (None: no statement timeout, for
    migrations, which may run long)."""
    bounds = timeouts or Timeouts()
    kwargs: dict[str, Any] = {"echo": echo}
    if url.startswith("sqlite"):
        kwargs.update(pool_timeout=bounds.pool, pool_reset_on_return=None)  # _reset_sqlite does it
        if url.startswith("sqlite+aiosqlite"):
            kwargs.update(module=one_hop_dbapi())  # a statement in one hop to aiosqlite's thread
        if is_memory_sqlite(url):
            kwargs.update(poolclass=AsyncAdaptedQueuePool, pool_size=1, max_overflow=0)
    else:
        connect_args: dict[str, Any] = {"timeout": bounds.connect}
        if timeouts is not None:
            connect_args.update(
                command_timeout=timeouts.statement + _CLIENT_GRACE,
                server_settings={"statement_timeout": str(int(timeouts.statement * 1000))},
            )
        kwargs.update(connect_args=connect_args)
        if timeouts is None:
            kwargs.update(poolclass=NullPool)
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_timeout=bounds.pool, pool_use_lifo=True)
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        busy_ms = int(bounds.statement * 1000)
        event.listen(engine.sync_engine, "connect", partial(_sqlite_pragmas, busy_ms=busy_ms))
        event.listen(engine.sync_engine.pool, "reset", _reset_sqlite)
        event.listen(engine.sync_engine, "savepoint", _begin_before_a_first_savepoint)
        if ":memory:" not in url:  # one shared connection in memory: nothing to queue
            WriteGate(bounds.statement).install(engine.sync_engine)
    event.listen(engine.sync_engine, "handle_error", mark_disconnects)
    if not url.startswith("sqlite"):
        event.listen(engine.sync_engine, "invalidate", _abort_silent_connection)
        if timeouts is not None:
            pool_liveness.install(engine.sync_engine, bounds.idle_before_ping)  # not pool_pre_ping
    return engine


def _abort_silent_connection(dbapi_connection: Any, _record: Any, error: BaseException | None) -> None:
    """Close a connection dropped for a timeout or a lost server at once: SQLAlchemy would first
    try a polite close, which waits another 2 s on a server that does not answer."""
    if error is not None and is_disconnect(error):
        driver = getattr(dbapi_connection, "driver_connection", None)
        if driver is not None and hasattr(driver, "terminate"):
            driver.terminate()


class Database:
    """One engine per process; sessions are short-lived, one per request."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        # Their session hooks: one announces directory writes, one writes held rows (a new
        # user's, the log's) in as few statements as it can.
        from ostiary.store import directory_events, write_behind  # noqa: F401

        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self._echo = echo
        if self.is_sqlite:
            _ensure_sqlite_dir(url)
        self.engine: AsyncEngine = _engine(url, self.timeouts, echo)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    def share(self, name: str, value: Any) -> None:
        """Hand ``value`` to every session this database makes from now on (see :func:`shared`):
        how per-process state owned by the runtime (its caches) reaches the code a session is
        passed to, without a module global."""
        info = dict(self.sessionmaker.kw.get("info") or {})
        info[name] = value
        self.sessionmaker.configure(info=info)

    async def transaction(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """``work(session)`` in one transaction, run again (a few times, after a random short
        pause) when the database aborted it for a deadlock or a serialization failure. For work
        outside a request; a request's transactions are retried by ``http.store_faults``."""

        async def attempt() -> T:
            async with self.session() as session:
                return await work(session)

        return await run_retrying(attempt, self.retry)

    async def ping(self) -> None:
        """One round trip to the database (raises when it is unreachable or too slow)."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    @asynccontextmanager
    async def unbounded_engine(self) -> AsyncIterator[AsyncEngine]:
        """A short-lived engine without the statement timeout, for migrations (SQLite: the
        usual engine)."""
        if self.is_sqlite:
            yield self.engine
            return
        engine = _engine(self.url, None, self._echo)
        try:
            yield engine
        finally:
            await engine.dispose()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on error."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    @asynccontextmanager
    async def lazy_session(self) -> AsyncIterator[AsyncSession]:
        """Like ``session()``, but a request that never touches the database costs nothing.

        For hot paths served from caches (the token endpoint): the session is created on first
        use (creating and closing an unused ``AsyncSession`` costs ~60 µs), its transaction
        begins on first use, commits on success and rolls back on error.
        """
        lazy = _LazySession(self.sessionmaker)
        try:
            yield cast(AsyncSession, lazy)
        except BaseException:
            await _end(lazy.created, commit=False)
            raise
        await _end(lazy.created, commit=True)

    async def dispose(self) -> None:
        await self.engine.dispose()


async def _end(session: AsyncSession | None, *, commit: bool) -> None:
    """Commit or roll back ``session``'s transaction, if it began one, and close it."""
    if session is None:
        return
    try:
        if session.in_transaction():
            await (session.commit() if commit else session.rollback())
    finally:
        await session.close()


def shared(source: object, name: str) -> Any:
    """What :meth:`Database.share` handed to a database (or the database that made a session)
    under ``name``, or ``None``; a lazy session is not created for it."""
    if isinstance(source, Database):
        return (source.sessionmaker.kw.get("info") or {}).get(name)
    if isinstance(source, _LazySession):
        return (source._factory.kw.get("info") or {}).get(name)
    info = getattr(source, "info", None)  # a session's
    return info.get(name) if isinstance(info, dict) else None


def is_session(source: object) -> bool:
    """``source`` is an ``AsyncSession`` or a lazy one (:meth:`Database.lazy_session`)."""
    return isinstance(source, AsyncSession | _LazySession)


class _LazySession:
    """Stands in for an ``AsyncSession`` and creates the real one on first attribute access."""

    __slots__ = ("_factory", "created")

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory
        self.created: AsyncSession | None = None

    def __getattr__(self, name: str) -> Any:
        session = self.created
        if session is None:
            session = self.created = self._factory()
        return getattr(session, name)


SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def _ensure_sqlite_dir(url: str) -> None:
    """Create the database's directory (0700) and file (0600) when absent, and make an
    existing file and its journals private: they hold password hashes, PII and the system
    log. SQLite gives the journals it creates the database file's mode."""
    path = url.split(":///", 1)[-1] if ":///" in url else ""
    if path and path != ":memory:" and not path.startswith("file:"):
        database = Path(path)
        database.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with suppress(FileExistsError):
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        for file in (database, *(Path(path + suffix) for suffix in SQLITE_COMPANIONS)):
            _make_private(file)


def _make_private(file: Path) -> None:
    try:
        if file.stat().st_mode & 0o077:
            file.chmod(0o600)
    except OSError:  # absent, or not ours to change: SQLite reports what matters
        pass
