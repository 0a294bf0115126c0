"""Statements whose SQL differs between SQLite and PostgreSQL, and rows written by Core
statements rather than by the unit of work."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert


def insert_ignoring_duplicates(session: AsyncSession | Session, model: Any) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING`` for ``session``'s database: a row another transaction
    inserted meanwhile is kept, instead of failing this one with a duplicate key (a ``NOT EXISTS``
    guard does not see an uncommitted insert under READ COMMITTED)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":  # imported here: the package loads every PostgreSQL driver's dialect
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(model).on_conflict_do_nothing()
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(model).on_conflict_do_nothing()
    raise NotImplementedError(f"no INSERT … ON CONFLICT DO NOTHING for {dialect}")


class RowValues:
    """An ORM object's columns as a Core ``INSERT`` of ``table`` takes them, as the unit of work
    would write them: an attribute left unset (None) gets its column's scalar default. Refuses,
    when made (at import), a table with a default it could not reproduce (a server default or
    a callable one), which would be written as NULL. ``skip``: columns the database fills."""

    def __init__(self, table: Table, skip: Collection[str] = ()) -> None:
        columns = [column for column in table.columns if column.key not in skip]
        for column in columns:
            default = column.default
            if column.server_default is not None or (default is not None and not default.is_scalar):
                raise RuntimeError(f"{table.name}.{column.key} has a default a plain INSERT would not write")
        self.keys = tuple(column.key for column in columns)
        self.defaults = {
            column.key: column.default.arg  # type: ignore[attr-defined]  # a ScalarElementColumnDefault
            for column in columns
            if column.default is not None
        }

    def __call__(self, row: object) -> dict[str, Any]:
        values = {}
        for key in self.keys:
            value = getattr(row, key)
            values[key] = self.defaults.get(key) if value is None else value
        return values
