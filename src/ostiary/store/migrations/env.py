"""Alembic environment for developer use (`alembic revision --autogenerate`).

The server itself migrates through ``ostiary.store.migrate`` and never loads this file.
"""

from alembic import context
from sqlalchemy import create_engine

from ostiary.store.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or "sqlite:///.ostiary/dev.db"
engine = create_engine(url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg"))
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
