"""Ping a pooled database connection before use only when it has sat idle for a while.

Why not SQLAlchemy's ``pool_pre_ping``: it pings at every checkout, and the asyncpg dialect's
ping is three round trips (``BEGIN``, ``;``, ``ROLLBACK``: it opens a transaction for
pgbouncer's transaction mode). That was three of the seven round trips of a user create on
PostgreSQL (py-spy of ``bench/directory_scale.py``), and one more set on every request that
touches the database. Under load a connection is back in use milliseconds after it was
returned; what breaks one in between (a restarted or failed-over server, a killed backend) has
been away longer than that, so the connections it broke have sat idle longer than ``idle``.
A connection that breaks within ``idle`` of its last use is found by the request's own first
statement instead: ``db_faults.mark_disconnects`` invalidates it (and the pool, for an
unreachable server), so that request fails as it would have while the database was away and
the next ones reconnect. pgx's pool makes the same trade (``ShouldPing``: idle over 1 s).

Measured (``bench/directory_scale.py --compare-src``, PostgreSQL): see docs/performance.md,
"A ping only after a second idle".
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from sqlalchemy import Engine, event, exc

IDLE_BEFORE_PING = 1.0
"""Seconds a connection may sit in the pool and still be handed out without a ping."""

_RETURNED = "ostiary_returned_at"


def install(engine: Engine, idle: float = IDLE_BEFORE_PING) -> None:
    """Ping ``engine``'s connections at checkout when they have been idle over ``idle`` seconds
    (the engine must not also have ``pool_pre_ping``)."""
    event.listen(engine.pool, "connect", _stamp)
    event.listen(engine.pool, "checkin", _stamp)
    event.listen(engine.pool, "checkout", partial(_ping_if_idle, engine.dialect, idle))


def _stamp(_dbapi_connection: Any, record: Any) -> None:
    record.info[_RETURNED] = time.monotonic()


def _ping_if_idle(dialect: Any, idle: float, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    returned = record.info.get(_RETURNED)
    if returned is not None and time.monotonic() - returned <= idle:
        return
    # The pool's own pre-ping does exactly this (pool/base.py): a ping that fails for a
    # disconnect (handle_error hooks included) returns False; any other error propagates.
    if not dialect._do_ping_w_event(dbapi_connection):
        # The pool invalidates every connection older than now and hands out a new one.
        raise exc.InvalidatePoolError()
