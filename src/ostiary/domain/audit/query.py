"""Reading the system log: ``since``/``until``/``filter``/``q``, ascending or descending, keyset paged.

A request without ``until``, oldest first, is Okta's *polling request*: its answer always has a
next cursor, even on an empty page, so a poller (a SIEM, the okta SDK's pagination helper) can
follow ``rel="next"`` forever and see every event once. Events are numbered (``seq``) when they
are inserted but become visible when their transaction commits, so on PostgreSQL a later number
can be visible before an earlier one; a cursor that moved past the earlier one would lose it.
So a polling page stops before the first number still missing when the event after it is
younger than :data:`POLL_SETTLE` (numbers are shared by every org, and a rolled-back insert leaves
a gap for good: after the settle time a gap is taken as such).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from ostiary.domain.context import Tx
from ostiary.store.models import LogEvent
from ostiary.timeutil import utcnow

DEFAULT_WINDOW = timedelta(days=7)
POLL_SETTLE = timedelta(seconds=5)
START_CURSOR = "0"
"""The cursor of an empty first polling page: ``since`` stays in the link and bounds the query."""


@dataclass(frozen=True)
class LogPage:
    events: list[dict[str, Any]]
    next_cursor: str | None


async def list_events(
    tx: Tx,
    *,
    since: datetime | None,
    until: datetime | None,
    condition: Any = None,
    q: str | None = None,
    descending: bool = False,
    after: str | None = None,
    limit: int = 100,
    polling: bool = False,
) -> LogPage:
    """Events of the org, oldest first unless ``descending``; ``after`` is an opaque sequence cursor.

    ``polling`` (no ``until``, ascending): the page always has a next cursor (see the module)."""
    since = since or utcnow() - DEFAULT_WINDOW
    stmt = select(LogEvent).where(LogEvent.org_id == tx.org_id, LogEvent.published >= since)
    if until is not None:
        stmt = stmt.where(LogEvent.published < until)
    if condition is not None:
        stmt = stmt.where(condition)
    for word in (q or "").split()[:10]:
        pattern = "%" + word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                func.lower(LogEvent.event_type).like(pattern, escape="\\"),
                func.lower(LogEvent.body["displayMessage"].as_string()).like(pattern, escape="\\"),
                func.lower(LogEvent.target_ids).like(pattern, escape="\\"),
                func.lower(LogEvent.body["actor"]["alternateId"].as_string()).like(pattern, escape="\\"),
            )
        )
    if after and after.isdigit():
        seq = int(after)
        stmt = stmt.where(LogEvent.seq < seq if descending else LogEvent.seq > seq)
    order = LogEvent.seq.desc() if descending else LogEvent.seq.asc()
    rows = list((await tx.session.scalars(stmt.order_by(order).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    if polling:
        start = int(after) if after and after.isdigit() else 0
        rows = await _settled(tx, rows, start)
        cursor = str(rows[-1].seq) if rows else (after or START_CURSOR)
        return LogPage([r.body for r in rows], cursor)
    return LogPage([r.body for r in rows], str(rows[-1].seq) if more and rows else None)


async def _settled(tx: Tx, rows: list[LogEvent], start: int) -> list[LogEvent]:
    """``rows`` (ascending) up to the first one preceded by a missing sequence number while that
    row is younger than :data:`POLL_SETTLE`: the missing event may be one still uncommitted."""
    if not rows:
        return rows
    low = start
    if low <= 0:
        below = await tx.session.scalar(select(func.max(LogEvent.seq)).where(LogEvent.seq < rows[0].seq))
        low = int(below or 0)
    present = set(
        (
            await tx.session.scalars(
                select(LogEvent.seq).where(LogEvent.seq > low, LogEvent.seq <= rows[-1].seq)
            )
        ).all()
    )
    recent = utcnow() - POLL_SETTLE
    previous = low
    for index, row in enumerate(rows):
        missing = any(seq not in present for seq in range(previous + 1, row.seq))
        if missing and _published(row) > recent:
            return rows[:index]
        previous = row.seq
    return rows


def _published(row: LogEvent) -> datetime:
    value = row.published
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
