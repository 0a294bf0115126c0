"""Apply the access gateway's Alembic migrations on start (``ostiary.alembic_runner``).

Its own script location and version table (``oag_alembic_version``), so it can share a
PostgreSQL database with the org server without touching the org's migrations.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from ostiary.alembic_runner import Migrations

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "oag_alembic_version"
HEAD = "oag_0002"
_LOCK_KEY = 0x0A6A7E01


def _metadata() -> MetaData:
    from ostiary.access_gateway.store.tables import metadata

    return metadata


_MIGRATIONS = Migrations(MIGRATIONS, _metadata, _LOCK_KEY, VERSION_TABLE)


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to the head; a database already there costs one query."""
    await _MIGRATIONS.upgrade(engine, {HEAD})
