"""Reading the system log: ``since``/``until``/``filter``/``q``, ascending or descending, keyset paged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from ostiary.domain.context import Tx
from ostiary.store.models import LogEvent
from ostiary.timeutil import utcnow

DEFAULT_WINDOW = timedelta(days=7)


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
) -> LogPage:
    """Events of the org, oldest first unless ``descending``; ``after`` is an opaque sequence cursor."""
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
    return LogPage([r.body for r in rows], str(rows[-1].seq) if more and rows else None)
