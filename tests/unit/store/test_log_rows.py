"""System log events are held as plain rows and written by one Core statement
(``store/log_rows.py``, ``store/write_behind.py``), not by the unit of work, and keep the unit of
work's meaning: the order they were recorded in, what a rolled-back savepoint or transaction
drops, rows of the same flush, every column. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.domain.audit.log import Target, event_row, record
from ostiary.domain.context import Actor, Tx
from ostiary.ids import GROUP, new_id
from ostiary.store import log_rows
from ostiary.store.db import Database
from ostiary.store.models import LogEvent
from ostiary.store.models.directory import Group, Org
from ostiary.store.repositories import orgs
from tests.conftest import Server

EVENT = "test.log_rows"


@pytest.fixture
def db(any_server: Server) -> Database:
    return any_server.rt.db


@contextmanager
def statements(db: Database) -> Iterator[list[tuple[str, bool]]]:
    """``(SQL, executemany)`` of every statement ``db`` sends inside the block."""
    sent: list[tuple[str, bool]] = []

    def before(_conn: Any, _cursor: Any, sql: str, _params: Any, _context: Any, many: bool) -> None:
        sent.append((sql, many))

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _record(session: AsyncSession, org: Org, name: str) -> dict[str, Any]:
    tx = Tx(session=session, org=org, actor=Actor.system())
    return record(tx, EVENT, "A test event", [Target("00g" + name, "UserGroup", name, name)])


async def _names(db: Database) -> list[str]:
    async with db.session() as session:
        rows = await session.scalars(select(LogEvent).where(LogEvent.event_type == EVENT))
        return [row.body["target"][0]["displayName"] for row in sorted(rows, key=lambda r: r.seq)]


async def _org(db: Database) -> Org:
    async with db.session() as session:
        return await orgs.ensure_default(session)


async def test_the_events_of_a_transaction_are_one_insert_in_recorded_order(db: Database) -> None:
    org = await _org(db)
    with statements(db) as sent:
        async with db.session() as session:
            for name in ("one", "two", "three"):
                _record(session, org, name)
    inserts = [(sql, many) for sql, many in sent if "log_events" in sql]
    assert len(inserts) == 1
    sql, many = inserts[0]
    assert sql.lstrip().upper().startswith("INSERT") and "RETURNING" not in sql.upper()
    # SQLite: one executemany; PostgreSQL: one INSERT … SELECT … UNION ALL (store.write_behind)
    assert many if db.is_sqlite else "UNION ALL" in sql.upper()
    assert await _names(db) == ["one", "two", "three"]


async def test_an_event_row_names_every_column_but_seq() -> None:
    """A column added to ``log_events`` must be written by ``event_row`` too (a plain insert
    would leave it to its default or NULL without a word)."""
    org = Org(id="00o1", org_id="00o1", name="o", subdomain="o", created=datetime.now(UTC))
    row = event_row(Tx(session=cast(AsyncSession, None), org=org, actor=Actor.system()), EVENT, "m")
    assert (
        tuple(row) == log_rows.COLUMNS == tuple(c.key for c in LogEvent.__table__.columns if c.key != "seq")
    )


async def test_a_stored_event_has_every_column_the_unit_of_work_wrote(db: Database) -> None:
    org = await _org(db)
    async with db.session() as session:
        recorded = _record(session, org, "cols")
        untargeted = record(Tx(session=session, org=org, actor=Actor.system()), "org.check", "No target")
        expected = {key: recorded[key] for key in ("uuid", "event_type", "severity", "actor_id")}
    async with db.session() as session:
        stored = (await session.scalars(select(LogEvent).where(LogEvent.uuid == recorded["uuid"]))).one()
        assert {key: getattr(stored, key) for key in expected} == expected
        assert stored.org_id == org.id and stored.outcome_result == "SUCCESS"
        assert stored.target_ids == ",00gcols," and stored.published == recorded["published"]
        assert stored.body == recorded["body"]
        bare = (await session.scalars(select(LogEvent).where(LogEvent.uuid == untargeted["uuid"]))).one()
        assert bare.target_ids == "" and bare.body["target"] == []


async def test_a_rolled_back_savepoint_drops_its_events_flushed_or_not(db: Database) -> None:
    org = await _org(db)
    async with db.session() as session:
        _record(session, org, "before")
        savepoint = await session.begin_nested()
        _record(session, org, "flushed-in-savepoint")
        await session.flush()
        await savepoint.rollback()
        savepoint = await session.begin_nested()
        _record(session, org, "pending-in-savepoint")
        await savepoint.rollback()
        _record(session, org, "after")
    assert await _names(db) == ["before", "after"]


async def test_a_rolled_back_transaction_writes_no_event(db: Database) -> None:
    org = await _org(db)
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            _record(session, org, "lost")
            await session.flush()
            raise RuntimeError("the change fails")
    assert await _names(db) == []


async def test_events_and_other_rows_of_one_flush_are_all_written(db: Database) -> None:
    org = await _org(db)
    async with db.session() as session:
        _record(session, org, "with-a-group")
        session.add(_group(org, "Flushed together"))
    assert await _names(db) == ["with-a-group"]
    async with db.session() as session:
        assert await session.scalar(select(Group.name).where(Group.name == "Flushed together"))


async def test_events_whose_insert_fails_fail_the_commit_and_nothing_is_stored(db: Database) -> None:
    org = await _org(db)
    stray = Org(id="00oNoSuchOrg", org_id="00oNoSuchOrg", name="x", subdomain="x", created=org.created)
    with pytest.raises(DBAPIError):
        async with db.session() as session:
            session.add(_group(org, "Not without its log row"))
            _record(session, org, "kept-pending")
            _record(session, stray, "no-such-org")  # the log row's foreign key fails
            with pytest.raises(DBAPIError):
                await session.flush()
            # Caught: the transaction goes on to commit, which must fail too, not store the
            # group without its log rows.
    assert await _names(db) == []
    async with db.session() as session:
        assert await session.scalar(select(Group.name).where(Group.name == "Not without its log row")) is None


def _group(org: Org, name: str) -> Group:
    now = org.created
    return Group(
        id=new_id(GROUP),
        org_id=org.id,
        type="OKTA_GROUP",
        name=name,
        name_lower=name.lower(),
        profile={"name": name, "description": ""},
        created=now,
        last_updated=now,
        last_membership_updated=now,
    )


async def test_a_commit_of_events_alone_is_atomic(db: Database) -> None:
    """A transaction that only records events commits them all or none: on SQLite, where they
    go as an executemany, never one by one outside a transaction."""
    org = await _org(db)
    stray = Org(id="00oNoSuchOrg", org_id="00oNoSuchOrg", name="x", subdomain="x", created=org.created)
    with pytest.raises(DBAPIError):
        async with db.session() as session:
            _record(session, org, "first")
            _record(session, stray, "second")  # the log row's foreign key fails
    assert await _names(db) == []
