"""Statements whose SQL differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

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
