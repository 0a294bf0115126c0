"""The unit-of-work port: where the HTTP layer opens a request's transactions.

``store.db.Database`` implements it; the wiring builds one and hands it to the runtime, so
``http/`` names this type and never storage's. Migrations, disposal and the engine stay with the
wiring, which knows the concrete database (``app.database_of``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


class UnitOfWork(Protocol):
    def session(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session whose transaction commits on success and rolls back on error."""
        ...

    def lazy_session(self) -> AbstractAsyncContextManager[AsyncSession]:
        """Like :meth:`session`, but created (and its transaction begun) on first use."""
        ...

    async def ping(self) -> None:
        """One round trip to the database (raises when it is unreachable or too slow)."""
        ...

    def share(self, name: str, value: Any) -> None:
        """Hand ``value`` (the runtime's caches) to every session made from now on."""
        ...

    async def transaction(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """``work(session)`` in one transaction, run again when it lost a deadlock."""
        ...

    async def dispose(self) -> None: ...


if TYPE_CHECKING:  # mypy checks that the store's database implements the port
    from ostiary.store.db import Database

    _IMPLEMENTED_BY: type[UnitOfWork] = Database
