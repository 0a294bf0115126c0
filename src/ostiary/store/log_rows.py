"""System log rows held in the session and written by one Core statement, not by the unit of work.

Why: every write through the management API records one or more log events, and the ORM's
unit of work (state tracking, the identity map, an ``INSERT … RETURNING seq`` for each batch)
made a session of two events (``BEGIN``, the insert, ``COMMIT``) cost 2.66 M instructions on
PostgreSQL against 1.92 M with one Core ``INSERT`` at flush (1.38 x fewer; callgrind, 300
sessions; Python calls 851 -> 618 a session). An ORM object per event, added to the session
and taken out again at the flush, still cost a user create about a tenth of its Python calls;
now an event is a plain row from the start. Nothing reads a new event's ``seq`` back in its
transaction.

How: :func:`hold` hands the row to ``store.write_behind`` as an *ordered* row: written in the
order recorded, where the unit of work would have flushed a pending object (before an ORM
statement, at a flush with ORM objects to write, before a savepoint begins, at the commit; an
explicit ``flush()`` of a session without ORM changes does not write them), dropped with a rolled-back
transaction or savepoint, and written ahead of the flush's other rows (a log row references only
its org, which must exist by then). A write that fails leaves the rows held, so the commit fails
too rather than committing the change without its log rows. On PostgreSQL the events go in the
same statement as the inserts ``write_behind`` holds (a new user's row), and at a commit that
sends nothing else, outside a transaction block.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.store import write_behind
from ostiary.store.models import LogEvent

TABLE = cast(Table, LogEvent.__table__)
COLUMNS = tuple(column.key for column in TABLE.columns if column.key != "seq")
"""What a log row names: every column but ``seq``, which the database numbers."""


def hold(session: AsyncSession, row: dict[str, Any]) -> None:
    """Write ``row`` (every column of :data:`COLUMNS`) with ``session``'s transaction."""
    write_behind.hold_ordered(session.sync_session, TABLE, row)
