"""Snapshot and restore of the in-memory SQLite database of ``serve --memory --testing``.

SQLite's online backup copies every page of one database into another: a few milliseconds for a
test org, where re-creating the schema and applying the org file again takes hundreds (argon2
password hashes, RSA keys). The snapshot is a second in-memory database in this process.

Both copies check the live connection out of the engine's pool like any session does (a pool of
one for ``serve --memory``, see ``store.db.is_memory_sqlite``): a reset waits for the requests'
open transactions to end, and none begins while it copies.
"""

from __future__ import annotations

from typing import Any

import aiosqlite
from sqlalchemy.ext.asyncio import AsyncEngine


class MemorySnapshot:
    """One saved copy of the live database; :meth:`save` replaces it, :meth:`restore` puts it back."""

    def __init__(self, engine: AsyncEngine) -> None:
        if engine.dialect.name != "sqlite":
            raise ValueError("snapshots are for the in-memory SQLite database")
        self.engine = engine
        self._copy: aiosqlite.Connection | None = None

    @property
    def saved(self) -> bool:
        return self._copy is not None

    async def save(self) -> None:
        if self._copy is None:
            self._copy = await aiosqlite.connect(":memory:")
        async with self.engine.connect() as conn:
            live = await _driver_connection(conn)
            await live.backup(self._copy)

    async def restore(self) -> None:
        """Copy the snapshot over the live database (callers drop their caches afterwards)."""
        if self._copy is None:
            raise LookupError("no snapshot saved")
        async with self.engine.connect() as conn:
            live = await _driver_connection(conn)
            await self._copy.backup(live)

    async def close(self) -> None:
        if self._copy is not None:
            await self._copy.close()
            self._copy = None


async def _driver_connection(conn: Any) -> aiosqlite.Connection:
    raw = await conn.get_raw_connection()
    driver: aiosqlite.Connection = raw.driver_connection
    return driver
