"""What kind of database failure an exception is, and the bounded retry of a transaction that
lost a deadlock or a serialization check.

The kinds are what the HTTP layer answers 503 for (the store is unavailable, not the request
wrong) and what the log reports, one line per kind and interval instead of a traceback each.
A library module: it knows the drivers' exceptions (SQLAlchemy, asyncpg, sqlite3), not Ostiary's
schema, so ``store/`` retries with it and ``http/`` answers with it without reaching into storage.
"""

from __future__ import annotations

import asyncio
import enum
import errno
import random
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc

T = TypeVar("T")


class Fault(enum.Enum):
    CONFLICT = "conflict"
    """A deadlock or a serialization failure: the transaction was rolled back; run it again."""
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    LOCKED = "locked"
    DISK_FULL = "disk full"
    READ_ONLY = "read-only"
    IO_ERROR = "I/O error"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    Fault.CONFLICT: "the database kept aborting the transaction (deadlock or serialization failure)",
    Fault.UNREACHABLE: "the database is not reachable",
    Fault.TIMEOUT: "the database did not answer in time",
    Fault.LOCKED: "the database is locked by another writer",
    Fault.DISK_FULL: "the database's disk is full",
    Fault.READ_ONLY: "the database is read-only",
    Fault.IO_ERROR: "the database had an I/O error",
}

_SQLSTATE_CLASSES = {"08": Fault.UNREACHABLE, "53": Fault.UNREACHABLE, "58": Fault.IO_ERROR}
_SQLSTATES = {
    "40P01": Fault.CONFLICT,  # deadlock_detected
    "40001": Fault.CONFLICT,  # serialization_failure
    "57P01": Fault.UNREACHABLE,  # admin_shutdown
    "57P02": Fault.UNREACHABLE,  # crash_shutdown
    "57P03": Fault.UNREACHABLE,  # cannot_connect_now (starting up, shutting down)
    "57014": Fault.TIMEOUT,  # query_canceled (statement_timeout)
    "55P03": Fault.LOCKED,  # lock_not_available (lock_timeout)
    "53100": Fault.DISK_FULL,
    "25006": Fault.READ_ONLY,  # read_only_sql_transaction (a hot standby)
}
_SQLITE_MESSAGES = (
    ("database is locked", Fault.LOCKED),
    ("database table is locked", Fault.LOCKED),
    ("database or disk is full", Fault.DISK_FULL),
    ("readonly database", Fault.READ_ONLY),
    ("disk i/o error", Fault.IO_ERROR),
    ("unable to open database file", Fault.UNREACHABLE),
)
_OS_ERRORS = {errno.ENOSPC: Fault.DISK_FULL, errno.EDQUOT: Fault.DISK_FULL, errno.EROFS: Fault.READ_ONLY}
_ASYNCPG_DISCONNECTS = {"ConnectionDoesNotExistError", "ConnectionFailureError"}


def classify(error: BaseException) -> Fault | None:
    """The database failure behind ``error`` (or its causes), or None for any other error."""
    for cause in _causes(error):
        fault = _classify_one(cause)
        if fault is not None:
            return fault
    return None


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending and len(seen) < 12:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [getattr(current, "orig", None), current.__cause__, current.__context__]


def _classify_one(error: BaseException) -> Fault | None:
    sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if isinstance(sqlstate, str) and sqlstate:
        return _SQLSTATES.get(sqlstate) or _SQLSTATE_CLASSES.get(sqlstate[:2])
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection free in time
        return Fault.TIMEOUT
    if isinstance(error, sqlite3.Error):
        message = str(error).lower()
        return next((fault for text, fault in _SQLITE_MESSAGES if text in message), None)
    if isinstance(error, TimeoutError):  # a connect or command timeout
        return Fault.TIMEOUT
    if isinstance(error, ConnectionError):
        return Fault.UNREACHABLE
    if isinstance(error, OSError):
        return _OS_ERRORS.get(error.errno or 0)
    if type(error).__name__ in _ASYNCPG_DISCONNECTS:
        return Fault.UNREACHABLE
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return Fault.UNREACHABLE
    return None


def is_disconnect(error: BaseException) -> bool:
    """Whether the connection that raised ``error`` must be dropped rather than rolled back:
    after a timeout or a lost connection a rollback would only wait again."""
    return classify(error) in (Fault.TIMEOUT, Fault.UNREACHABLE) and not isinstance(
        error, sa_exc.TimeoutError
    )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a transaction that hit :attr:`Fault.CONFLICT` runs again, and after how long:
    full jitter (a random delay up to an exponentially growing cap), so that the transactions
    that collided do not collide again."""

    attempts: int = 3
    base_delay: float = 0.01
    max_delay: float = 0.2

    def should_retry(self, fault: Fault | None, attempt: int) -> bool:
        """``attempt`` counts from 0: the first run."""
        return fault is Fault.CONFLICT and attempt + 1 < self.attempts

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


async def run_retrying(work: Callable[[], Awaitable[T]], policy: RetryPolicy) -> T:
    """``await work()``, again (up to the policy's attempts) while it fails with a conflict.
    ``work`` must run its whole transaction, so that a retry starts from a clean state."""
    attempt = 0
    while True:
        try:
            return await work()
        except Exception as error:
            if not policy.should_retry(classify(error), attempt):
                raise
        await asyncio.sleep(policy.delay(attempt))
        attempt += 1


def mark_disconnects(context: Any) -> None:
    """SQLAlchemy ``handle_error`` hook: drop a connection that timed out or was lost."""
    if not context.is_disconnect and is_disconnect(context.original_exception):
        context.is_disconnect = True
        context.invalidate_pool_on_disconnect = classify(context.original_exception) is Fault.UNREACHABLE
