"""The access gateway's database engine: SQLite in its data dir by default, PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ostiary import pool_liveness

SQLITE_FILE = "access-gateway.db"


def default_database_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / SQLITE_FILE}"


def normalize_url(url: str) -> str:
    """Plain ``postgresql://`` and ``sqlite://`` URLs get the async drivers."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> AsyncEngine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(url, pool_size=5, max_overflow=10, pool_use_lifo=True)
    pool_liveness.install(engine.sync_engine)  # a ping after a second idle, not every checkout
    return engine
