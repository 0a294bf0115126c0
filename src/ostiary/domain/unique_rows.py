"""Writing rows that a unique constraint guards: the domain checks first for a friendly error,
and the constraint refuses what a concurrent request wrote since; both answer the same."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession


async def flush_unique(session: AsyncSession, duplicate: Callable[[], Exception]) -> None:
    """Flush ``session``'s pending writes; a unique constraint's refusal raises ``duplicate()``."""
    try:
        await session.flush()
    except IntegrityError as exc:
        raise duplicate() from exc
