"""Apply a set of Alembic migrations on start, without going through ``env.py``.

The org server (``store/migrate.py``) and the access gateway (``access_gateway/store/migrate.py``)
each have their own migrations, version table and advisory lock key; this is the runner both
use. On PostgreSQL the advisory lock serialises concurrent starts of several processes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Connection


@dataclass(frozen=True)
class Migrations:
    script_location: Path
    metadata: Callable[[], MetaData]
    """The models' metadata, imported only when migrations run."""
    lock_key: int
    version_table: str = "alembic_version"

    def config(self) -> Config:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(self.script_location))
        return cfg

    async def current_heads(self, engine: AsyncEngine) -> set[str]:
        """The revisions the database is at (none when the version table does not exist)."""
        try:
            async with engine.connect() as conn:
                query = f"SELECT version_num FROM {self.version_table}"  # noqa: S608 (a name from code)
                rows = await conn.execute(text(query))
                return {row[0] for row in rows}
        except DBAPIError:
            return set()

    async def upgrade(self, engine: AsyncEngine, heads: set[str]) -> None:
        """Bring the schema to the shipped ``heads``; a database already there costs one query."""
        if await self.current_heads(engine) == heads:
            return
        async with engine.connect() as conn:
            is_pg = conn.dialect.name == "postgresql"
            if is_pg:
                await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": self.lock_key})
            try:
                await conn.run_sync(self._upgrade)
                await conn.commit()
            finally:
                if is_pg:
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.lock_key})
                    await conn.commit()

    def _upgrade(self, connection: Connection) -> None:
        from alembic.runtime.environment import EnvironmentContext
        from alembic.script import ScriptDirectory

        cfg = self.config()
        script = ScriptDirectory.from_config(cfg)

        def steps(rev: Any, _context: Any) -> Any:
            return script._upgrade_revs("heads", rev)

        with EnvironmentContext(cfg, script, fn=steps, destination_rev="heads") as env:
            env.configure(
                connection=connection,
                target_metadata=self.metadata(),
                version_table=self.version_table,
                render_as_batch=connection.dialect.name == "sqlite",
            )
            with env.begin_transaction():
                env.run_migrations()
