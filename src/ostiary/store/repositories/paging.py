"""Keyset paging on bytewise-sortable ids: ``after`` is the last id of the previous page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


async def fetch_page(
    session: AsyncSession,
    stmt: Select[Any],
    key: InstrumentedAttribute[str],
    *,
    after: str | None,
    limit: int,
) -> Page[Any]:
    """Run ``stmt`` ordered by ``key`` and return one page plus the next cursor (or None)."""
    if after:
        stmt = stmt.where(key > after)
    rows = list((await session.scalars(stmt.order_by(key).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, getattr(rows[-1], key.key) if more and rows else None)
