"""The org server's Alembic migrations, applied on start (``ostiary.alembic_runner``; on
PostgreSQL an advisory lock serialises concurrent starts of several ``serve`` processes)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ostiary.alembic_runner import Migrations

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK_KEY = 0x05717A27


_REVISION = re.compile(r"^revision\s*=\s*[\"']([^\"']+)[\"']", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*[\"']([^\"']+)[\"']", re.M)


def expected_heads() -> set[str]:
    """Head revisions of the shipped migrations, read from the files without importing Alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        if match := _REVISION.search(source):
            revisions.add(match.group(1))
        parents.update(_DOWN.findall(source))
    return revisions - parents


def _metadata() -> MetaData:
    from ostiary.store.models import Base

    return Base.metadata


_MIGRATIONS = Migrations(MIGRATIONS, _metadata, _LOCK_KEY)


async def _current_heads(engine: AsyncEngine) -> set[str]:
    return await _MIGRATIONS.current_heads(engine)


def _config() -> Config:
    return _MIGRATIONS.config()


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to the shipped heads; a database already there costs one query."""
    await _MIGRATIONS.upgrade(engine, expected_heads())


async def create_empty(engine: AsyncEngine) -> None:
    """Make the current schema at once on a new, empty database (``serve --memory``) and stamp
    it at the shipped heads: one ``CREATE`` per table instead of every migration step, which on
    SQLite rebuilds tables in batch mode. ``tests/unit/test_schema_create_all.py`` checks that
    the result equals the migrated schema."""
    from ostiary.store.models import Base

    heads = sorted(expected_heads())
    async with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            await _create_all_in_one_script(conn, Base.metadata)
        else:
            await conn.run_sync(Base.metadata.create_all)
        await conn.execute(
            text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        )
        for head in heads:
            await conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head})


async def _create_all_in_one_script(conn: AsyncConnection, metadata: MetaData) -> None:
    """``metadata.create_all`` on a new SQLite database as one ``executescript``.

    Why: ``create_all`` asks SQLite whether each table exists and then creates each table and
    index with a statement of its own, every one a round trip to aiosqlite's thread (about 130
    of them); the DDL itself is compiled in a few milliseconds. One script is one round trip:
    ``bench``-style timing of ``create_empty`` on this 2-core VM went from 45 ms of CPU (140 ms
    wall, loaded) to 13 ms (45-55 ms). The statements are the ones ``create_all`` emits
    (``CreateTable``/``CreateIndex`` in dependency order); ``tests/unit/store/
    test_schema_create_all.py`` checks the result against the migrated schema.
    """
    from sqlalchemy.schema import CreateIndex, CreateTable

    statements: list[str] = []
    for table in metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=conn.dialect)).strip())
        statements.extend(
            str(CreateIndex(index).compile(dialect=conn.dialect)).strip()
            for index in sorted(table.indexes, key=lambda index: index.name or "")
            if _for_dialect(index, conn.dialect.name)
        )
    raw = await conn.get_raw_connection()
    await raw.driver_connection.executescript(";\n".join(statements) + ";")  # type: ignore[union-attr]


def _for_dialect(index: Any, dialect: str) -> bool:
    """Whether ``index`` is made on ``dialect`` (``Index.ddl_if(dialect=…)``, as ``create_all`` checks)."""
    condition = getattr(index, "_ddl_if", None)
    wanted = getattr(condition, "dialect", None)
    return wanted is None or wanted == dialect or (isinstance(wanted, tuple | list) and dialect in wanted)
