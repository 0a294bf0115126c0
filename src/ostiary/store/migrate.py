"""Apply Alembic migrations on start, without going through ``env.py``.

On PostgreSQL an advisory lock serialises concurrent starts of several ``serve`` processes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from ostiary.store.models import Base

MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK_KEY = 0x05717A27


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _upgrade(connection: Connection) -> None:
    cfg = _config()
    script = ScriptDirectory.from_config(cfg)

    def steps(rev: Any, _context: Any) -> Any:
        return script._upgrade_revs("heads", rev)

    with EnvironmentContext(cfg, script, fn=steps, destination_rev="heads") as env:
        env.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with env.begin_transaction():
            env.run_migrations()


async def upgrade(engine: AsyncEngine) -> None:
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
