"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class Database:
    """One engine per process; sessions are short-lived, one per request."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            _ensure_sqlite_dir(url)
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

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
