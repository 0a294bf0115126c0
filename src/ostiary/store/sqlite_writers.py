"""One writer at a time on a SQLite file, queued in arrival order inside the process.

SQLite admits one write transaction at a time; a connection that finds the write lock taken
polls for it (``busy_timeout``), sleeping up to 100 ms between tries. That polling is unfair:
under a steady stream of writers (concurrent ``POST /api/v1/users``) a waiter keeps waking up
to find the lock taken by a newer transaction, until its ``busy_timeout`` runs out and the
request fails with "database is locked" although the database was never stuck. Measured
before this gate: 19 of 3,000 user creations, 64 at a time, answered 503.

The gate queues a transaction's first write statement behind the others of this process on a
FIFO :class:`asyncio.Lock`, held until its connection goes back to the pool (after the commit or
rollback). SQLite's own lock then has only other processes' writers left to wait for.

The wait in the queue is bounded by progress, not by a deadline: a writer gives up (with the same
"database is locked" error as SQLite's ``busy_timeout``) only once no writer ahead of it has
finished for a whole ``busy_timeout``. A fixed deadline counted from joining the queue failed
healthy requests: 8 concurrent ``POST /api/v1/users`` on a loaded machine queued longer than
5 s in all although the lock changed hands every few milliseconds (``bench/directory.py`` died on
"database is locked by another writer"). A writer that holds the lock and stops (a stuck
transaction) still fails the queue behind it after one ``busy_timeout``.

The gate runs in SQLAlchemy's synchronous event hooks, which the asyncio engine calls inside its
greenlet, so :func:`await_only` can wait on the event loop there.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from contextlib import suppress
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.util import await_only

_HELD = "ostiary_write_gate"
_GATES: weakref.WeakKeyDictionary[Engine, WriteGate] = weakref.WeakKeyDictionary()
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")


class WriteGate:
    """The FIFO queue of this process's write transactions on one SQLite database."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
        self.handovers = 0
        """Write transactions of this process finished (the lock released) so far."""

    def install(self, engine: Engine) -> None:
        _GATES[engine] = self
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine.pool, "checkin", self._release_record)
        event.listen(engine.pool, "invalidate", self._release_invalidated)

    def _lock(self, loop: asyncio.AbstractEventLoop) -> asyncio.Lock:
        lock = self._locks.get(loop)
        if lock is None:
            for stale in [other for other in self._locks if other.is_closed()]:
                del self._locks[stale]
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    def queued(self) -> int:
        """Write transactions of the running loop waiting for their turn."""
        lock = self._locks.get(asyncio.get_running_loop())
        return len(getattr(lock, "_waiters", None) or ()) if lock is not None else 0

    def _before_execute(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        info = conn.info
        if _HELD in info or not statement.lstrip()[:7].upper().startswith(_WRITES):
            return
        loop = asyncio.get_running_loop()
        lock = self._lock(loop)
        await_only(self._acquire(lock))
        info[_HELD] = (loop, lock, self)

    async def _acquire(self, lock: asyncio.Lock) -> None:
        """Take ``lock``, waiting as long as the writers ahead keep finishing (see the module)."""
        acquiring = asyncio.ensure_future(lock.acquire())
        seen = self.handovers
        while True:
            try:
                done, _ = await asyncio.wait({acquiring}, timeout=self.timeout)
            except BaseException:  # the request was cancelled while queued: leave the queue
                _abandon(acquiring, lock)
                raise
            if done:
                acquiring.result()
                return
            if self.handovers == seen:  # no writer finished for a whole busy_timeout
                acquiring.cancel()  # not done: asyncio.Lock drops a cancelled waiter cleanly
                with suppress(asyncio.CancelledError):
                    await acquiring
                raise sqlite3.OperationalError("database is locked (queued behind other writers)")
            seen = self.handovers

    def _release_record(self, _dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            _release(record.info)

    def _release_invalidated(self, _dbapi_connection: Any, record: Any, _error: Any) -> None:
        self._release_record(_dbapi_connection, record)


def _abandon(acquiring: asyncio.Future[Any], lock: asyncio.Lock) -> None:
    """Leave the queue: cancel a pending turn, or give back a turn already granted."""
    if not acquiring.done():
        acquiring.cancel()
    elif not acquiring.cancelled() and acquiring.exception() is None:
        lock.release()


def gate_of(engine: Engine) -> WriteGate | None:
    """The gate installed on ``engine`` (``engine.sync_engine`` of an async one), if any."""
    return _GATES.get(engine)


def _release(info: dict[str, Any]) -> None:
    held = info.pop(_HELD, None)
    if held is None:
        return
    loop, lock, gate = held
    gate.handovers += 1
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        lock.release()
    elif not loop.is_closed():  # a connection given back by the garbage collector, off the loop
        loop.call_soon_threadsafe(lock.release)
