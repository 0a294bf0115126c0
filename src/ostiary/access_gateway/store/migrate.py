"""Apply the access gateway's Alembic migrations on start.

Its own script location and version table (``oag_alembic_version``), so it can share a
PostgreSQL database with the org server without touching the org's migrations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "oag_alembic_version"
HEAD = "oag_0002"
_LOCK_KEY = 0x0A6A7E01
_SELECT_VERSION = "SELECT version_num FROM oag_alembic_version"


async def _current(engine: AsyncEngine) -> set[str]:
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text(_SELECT_VERSION))
            return {row[0] for row in rows}
    except DBAPIError:
        return set()


def _upgrade(connection: Connection) -> None:
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory

    from ostiary.access_gateway.store.tables import metadata

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)

    def steps(rev: Any, _context: Any) -> Any:
        return script._upgrade_revs("heads", rev)

    with EnvironmentContext(cfg, script, fn=steps, destination_rev="heads") as env:
        env.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=VERSION_TABLE,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with env.begin_transaction():
            env.run_migrations()


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to the head; a database already there costs one query."""
    if await _current(engine) == {HEAD}:
        return
    async with engine.connect() as conn:
        is_pg = conn.dialect.name == "postgresql"
        if is_pg:
            await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
        try:
            await conn.run_sync(_upgrade)
            await conn.commit()
        finally:
            if is_pg:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
                await conn.commit()
