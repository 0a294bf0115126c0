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
    rows: bool = False,
) -> Page[Any]:
    """Run ``stmt`` ordered by ``key`` and return one page plus the next cursor (or None); the
    items are the first column's values, or with ``rows`` the rows (``key`` among their columns)."""
    if after:
        stmt = stmt.where(key > after)
    paged = stmt.order_by(key).limit(limit + 1)
    found = list((await (session.execute(paged) if rows else session.scalars(paged))).all())
    more = len(found) > limit
    found = found[:limit]
    return Page(found, getattr(found[-1], key.key) if more and found else None)


SORTED_CURSOR = "o"
"""Prefix of the cursor of a sorted search: ``o`` and the offset of the next page (ids never
start with it)."""


async def fetch_sorted_page(
    session: AsyncSession,
    stmt: Select[Any],
    sort: Any,
    key: InstrumentedAttribute[str],
    *,
    descending: bool,
    after: str | None,
    limit: int,
    rows: bool = False,
) -> Page[Any]:
    """One page of ``stmt`` ordered by ``sort`` (nulls last), then ``key``; the cursor is an
    offset (``sortBy`` may name any attribute, so there is no key to resume after)."""
    offset = int(after[1:]) if after and after.startswith(SORTED_CURSOR) and after[1:].isdigit() else 0
    order = sort.desc() if descending else sort.asc()
    ordered = stmt.order_by(sort.is_(None), order, key.desc() if descending else key.asc())
    paged = ordered.offset(offset).limit(limit + 1)
    found = list((await (session.execute(paged) if rows else session.scalars(paged))).all())
    more = len(found) > limit
    return Page(found[:limit], f"{SORTED_CURSOR}{offset + limit}" if more else None)
