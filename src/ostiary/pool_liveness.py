"""Ping a pooled database connection before use only when it has sat idle for a while.

Why not SQLAlchemy's ``pool_pre_ping``: it pings at every checkout, and the asyncpg dialect's
ping is three round trips (``BEGIN``, ``;``, ``ROLLBACK``: it opens a transaction for
pgbouncer's transaction mode). That was three of the seven round trips of a user create on
PostgreSQL (py-spy of ``bench/directory_scale.py``), and one more set on every request that
touches the database. A checkout now costs no round trip when:

- the driver already knows the connection is closed (asyncpg's ``is_closed()``: the server
  closed it, a restart or a killed backend, and the event loop has seen the socket close): it
  is replaced, and the pool with it, as a failed ping would have it;
- it was returned within ``idle`` seconds: under load that is every checkout. A connection
  that broke silently in that time (no close seen) is found by the request's own first
  statement; the disconnect invalidates the pool (SQLAlchemy's disconnect handling, and
  ``db_faults.mark_disconnects`` where installed), so that request fails as it would have
  while the database was away, and the next ones reconnect.

Otherwise it is pinged as before. The pools hand out the most recently returned connection
first (``pool_use_lifo``), so a quiet server keeps a few connections warm instead of rotating
through all of them and pinging each. pgx's pool makes the same trade (``ShouldPing``: idle
over 1 s). Idle time is read from ``CLOCK_BOOTTIME`` where there is one: unlike the monotonic
clock it counts time the host or VM spent suspended, when connections do die.

Measured: docs/performance.md, "Round trips on PostgreSQL … (fifth round)".
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from sqlalchemy import Engine, event, exc

IDLE_BEFORE_PING = 1.0
"""Seconds a connection may sit in the pool and still be handed out without a ping."""

_RETURNED = "ostiary_returned_at"

if hasattr(time, "CLOCK_BOOTTIME"):

    def _now() -> float:
        return time.clock_gettime(time.CLOCK_BOOTTIME)

else:  # not Linux
    _now = time.monotonic


def install(engine: Engine, idle: float = IDLE_BEFORE_PING) -> None:
    """Ping ``engine``'s connections at checkout when they have been idle over ``idle`` seconds
    (the engine must not also have ``pool_pre_ping``; give it ``pool_use_lifo=True``)."""
    event.listen(engine.pool, "connect", _stamp)
    event.listen(engine.pool, "checkin", _stamp)
    event.listen(engine.pool, "checkout", partial(_ping_if_idle, engine.dialect, idle))


def _stamp(_dbapi_connection: Any, record: Any) -> None:
    record.info[_RETURNED] = _now()


def _ping_if_idle(dialect: Any, idle: float, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    if _driver_says_closed(record):
        raise exc.InvalidatePoolError()  # as for a failed ping: replace it, and every older one
    returned = record.info.get(_RETURNED)
    if returned is not None and _now() - returned <= idle:
        return
    # The pool's own pre-ping does exactly this (pool/base.py): a ping that fails for a
    # disconnect (handle_error hooks included) returns False; any other error propagates.
    if not dialect._do_ping_w_event(dbapi_connection):
        # The pool invalidates every connection older than now and hands out a new one.
        raise exc.InvalidatePoolError()


def _driver_says_closed(record: Any) -> bool:
    """asyncpg's ``is_closed()``: no round trip, true once the loop has seen the socket close."""
    is_closed = getattr(record.driver_connection, "is_closed", None)
    return bool(is_closed is not None and is_closed())
