"""System log rows written with one Core ``INSERT`` at flush, not by the unit of work.

Why: every write through the management API records one or more log events, and the ORM's
unit of work (state tracking, the identity map, an ``INSERT … RETURNING seq`` for each batch)
made a session of two events (``BEGIN``, the insert, ``COMMIT``) cost 2.66 M instructions on
PostgreSQL against 1.92 M with this hook (1.38 x fewer; callgrind, 300 sessions; Python calls
851 -> 618 a session). Nothing reads a new event's ``seq`` back in its transaction.

How: ``domain.audit.log.record`` adds ``LogEvent`` objects to the session as before, so the
ORM still decides what survives a rolled-back savepoint (pending objects added in it are
dropped; rows written in it are rolled back with it; ``begin_nested`` flushes what was pending
before the savepoint exists). When a flush begins, this hook inserts the pending events in one
statement, in the order they were recorded, and only then takes them out of the session: an
``INSERT`` that fails leaves them pending, so the flush fails, and so does any later flush or
commit of that transaction, rather than committing the change without its log rows. The events
are written ahead of the flush's other rows; a log row references only its org, which must be
flushed first (as the unit of work, which orders ``log_events`` before ``orgs``, needed too).
An event numbered by hand (a test's late commit) is left to the unit of work.

With inserts held back (``store.write_behind``: a new user's row), the events go in the same
statement as those rows, and at a commit that sends nothing else, outside a transaction block
(:func:`_write_held_at_commit`).
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, event, insert
from sqlalchemy.orm import Session

from ostiary.store import write_behind
from ostiary.store.cache_events import has_announcements
from ostiary.store.models import LogEvent
from ostiary.store.statements import RowValues

_TABLE = cast(Table, LogEvent.__table__)
_VALUES = RowValues(_TABLE, skip=("seq",))  # what the unit of work would have written
_INSERT = insert(_TABLE)


def _pending_events(session: Session) -> list[LogEvent]:
    return [obj for obj in session.new if type(obj) is LogEvent]


def _ordered(events: list[LogEvent]) -> write_behind.Ordered:
    return write_behind.Ordered(_TABLE, [_VALUES(obj) for obj in events])


@event.listens_for(Session, "before_flush")
def _insert_log_rows(session: Session, _context: Any, _instances: Any) -> None:
    events = _pending_events(session)
    if any(obj.seq is not None for obj in events):
        events = []
    if write_behind.held(session):  # inserts held back (store.write_behind): one statement with them
        write_behind.write_held(session, _ordered(events))
    elif events:
        rows = [_VALUES(obj) for obj in events]
        session.connection(bind_arguments={"mapper": LogEvent}).execute(_INSERT, rows)
    for obj in events:  # written: only now out of the session (see "How")
        session.expunge(obj)


@event.listens_for(Session, "before_commit", insert=True)
def _write_held_at_commit(session: Session) -> None:
    """Rows still held (``store.write_behind``) at a commit are written now, ahead of
    ``store.cache_events``' flush: with the log events, in one statement outside a transaction
    block when the transaction has sent nothing yet and there is nothing else to flush or
    announce; else by that flush (:func:`_insert_log_rows`) when it has objects to write, or
    here, alone, when it has none (a clean session's flush sends nothing, not even a hook)."""
    if not write_behind.held(session):
        return
    events = _pending_events(session)
    if any(obj.seq is not None for obj in events):
        return  # the flush writes them with the rest
    others = len(session.new) > len(events) or session.dirty or session.deleted
    if others:
        return  # the flush is not clean: _insert_log_rows writes the held rows with the events
    alone = (
        session.get_nested_transaction() is None
        and write_behind.may_commit_alone(session)
        and not has_announcements(session)
    )
    write_behind.write_held(session, _ordered(events), autocommit=alone)
    for obj in events:
        session.expunge(obj)
