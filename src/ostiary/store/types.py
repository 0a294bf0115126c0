"""Column types shared by every model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def id_type(length: int = 32) -> TypeEngine[str]:
    """Object ids compare bytewise everywhere (PostgreSQL's locale collation would not)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class JSONDocument(TypeDecorator[Any]):
    """JSON, stored as ``JSONB`` on PostgreSQL: what ``JSON().with_variant(JSONB(), "postgresql")``
    is, without importing ``sqlalchemy.dialects.postgresql`` where the models are defined.

    Why: that package imports the dialects of all five PostgreSQL drivers, 50 ms of CPU on this
    2-core VM (``serve --memory``'s start, which never talks to PostgreSQL, paid it). The
    PostgreSQL type is now loaded by the dialect that needs it. The comparator, ``None`` handling
    (JSON ``null``, as ``JSON()`` does) and processors are the ``JSON`` ones, as before.
    """

    impl = JSON
    cache_ok = True
    hashable = False
    should_evaluate_none = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


JSONDoc: TypeEngine[Any] = JSONDocument()
