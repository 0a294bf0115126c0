"""``migrate.create_empty`` (the schema made at once, for ``serve --memory``) equals the schema
the Alembic migrations build step by step, on SQLite: tables, columns, keys, indexes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ostiary.store import migrate


def describe(sync_conn: Any) -> dict[str, Any]:
    insp = inspect(sync_conn)
    schema: dict[str, Any] = {}
    for table in insp.get_table_names():
        schema[table] = {
            "columns": {
                c["name"]: (str(c["type"]), c["nullable"], str(c.get("default")))
                for c in insp.get_columns(table)
            },
            "pk": sorted(insp.get_pk_constraint(table)["constrained_columns"]),
            "fks": sorted(
                (
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                    str((fk.get("options") or {}).get("ondelete")),
                )
                for fk in insp.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (tuple(str(c) for c in i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(table)
            ),
            "checks": sorted(str(c["sqltext"]) for c in insp.get_check_constraints(table)),
            "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
        }
    return schema


async def schema_of(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as conn:
        return await conn.run_sync(describe)


async def versions(engine: AsyncEngine) -> set[str]:
    return await migrate._current_heads(engine)


async def test_create_empty_equals_the_migrated_schema() -> None:
    migrated = create_async_engine("sqlite+aiosqlite:///:memory:")
    created = create_async_engine("sqlite+aiosqlite:///:memory:")
    try:
        await migrate.upgrade(migrated)
        await migrate.create_empty(created)
        assert await schema_of(created) == await schema_of(migrated)
        assert await versions(created) == await versions(migrated) == migrate.expected_heads()
    finally:
        await migrated.dispose()
        await created.dispose()
