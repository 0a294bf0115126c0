"""Inserts held back until the session next sends something (``store/write_behind.py``): on
PostgreSQL a transaction of inserts and log events commits in one statement outside a
transaction block, and a held row is still seen, kept and dropped exactly as if it had been sent
at once. On SQLite rows are sent at once; the same behaviour is checked there too."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Table, event, func, insert, select, update
from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg
from sqlalchemy.exc import IntegrityError

from ostiary.domain.audit.log import record
from ostiary.domain.context import Actor, Tx
from ostiary.ids import GROUP, USER, USER_TYPE, new_id
from ostiary.store import write_behind
from ostiary.store.cache_events import announce
from ostiary.store.db import Database
from ostiary.store.models import LogEvent, User
from ostiary.store.models.directory import Group, Org
from ostiary.store.repositories import orgs
from tests.conftest import Server
from tests.support.users import create

USERS = cast(Table, User.__table__)
EVENT = "test.write_behind"
NAMES = ("first", "second", "third", "fourth", "fifth")


@pytest.fixture
def db(any_server: Server) -> Database:
    return any_server.rt.db


@dataclass
class Sent:
    statements: list[str] = field(default_factory=list)
    begins: int = 0


@contextmanager
def sent(db: Database) -> Iterator[Sent]:
    """The statements ``db`` sends in the block, and (PostgreSQL) how many ``BEGIN``s: asyncpg's
    adapter sends one before a connection's first statement unless in autocommit."""
    seen = Sent()

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.statements.append(" ".join(sql.split()[:3]))

    begin = pg_asyncpg.AsyncAdapt_asyncpg_connection._start_transaction

    async def counted(self: Any) -> None:
        if self.isolation_level != "autocommit":
            seen.begins += 1
        await begin(self)

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", statement)
    pg_asyncpg.AsyncAdapt_asyncpg_connection._start_transaction = counted  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        pg_asyncpg.AsyncAdapt_asyncpg_connection._start_transaction = begin  # type: ignore[method-assign]
        event.remove(engine, "before_cursor_execute", statement)


def is_postgres(db: Database) -> bool:
    return not db.is_sqlite


async def _org(db: Database) -> Org:
    async with db.session() as session:
        return await orgs.ensure_default(session)


def _user(org: Org, login: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "id": new_id(USER),
        "org_id": org.id,
        "status": "ACTIVE",
        "login": login,
        "login_lower": login.lower(),
        "profile": {"login": login},
        "type_id": USER_TYPE + org.id[3:],
        "failed_logins": 0,
        "created": now,
        "last_updated": now,
    }


class Taken(Exception):
    pass


TAKEN = write_behind.Conflict("uq_users_org_login", Taken)


async def _hold(session: Any, org: Org, login: str) -> None:
    await write_behind.insert_later(session, USERS, _user(org, login), conflict=TAKEN)


async def _stored(db: Database, org: Org, login: str) -> None:
    async with db.session() as session:
        await _hold(session, org, login)


def _record(session: Any, org: Org, name: str) -> None:
    record(Tx(session=session, org=org, actor=Actor.system()), EVENT, name)


async def _logins(db: Database, org: Org) -> list[str]:
    async with db.session() as session:
        rows = await session.scalars(select(User.login).where(User.org_id == org.id).order_by(User.login))
        return list(rows)


async def _events(db: Database) -> list[str]:
    async with db.session() as session:
        rows = await session.scalars(select(LogEvent).where(LogEvent.event_type == EVENT))
        return [row.body["displayMessage"] for row in sorted(rows, key=lambda r: r.seq)]


async def test_inserts_and_log_events_alone_commit_as_one_statement(db: Database) -> None:
    org = await _org(db)
    with sent(db) as seen:
        async with db.session() as session:
            await _hold(session, org, "one@example.com")
            await _hold(session, org, "two@example.com")
            for name in NAMES:
                _record(session, org, name)
    if is_postgres(db):
        assert len(seen.statements) == 1 and seen.statements[0].startswith("WITH r0 AS")
        assert seen.begins == 0
    else:
        assert len(seen.statements) == 3  # each user at once, the events at the flush
    assert await _logins(db, org) == ["one@example.com", "two@example.com"]
    assert await _events(db) == list(NAMES)  # numbered in the order recorded


async def test_a_user_create_on_a_warm_cache_is_one_round_trip(any_server: Server) -> None:
    db = any_server.rt.db
    async with any_server.client(await any_server.create_token()) as admin:
        assert (await create(admin, "warm@example.com", password=False)).status_code == 200
        with sent(db) as seen:
            response = await create(admin, "ann.lee@example.com", password=False)
        assert response.status_code == 200, response.text
        found = await admin.get(f"/api/v1/users/{response.json()['id']}")
        assert found.status_code == 200 and found.json()["profile"]["login"] == "ann.lee@example.com"
        logged = await admin.get("/api/v1/logs", params={"filter": 'eventType eq "user.lifecycle.create"'})
        assert len(logged.json()) == 2
    if is_postgres(db):
        assert (len(seen.statements), seen.begins) == (1, 0)
    else:
        assert seen.statements == ["INSERT INTO users", "INSERT INTO log_events"]


async def test_a_held_row_is_written_before_the_next_statement_reads(db: Database) -> None:
    org = await _org(db)
    async with db.session() as session:
        await _hold(session, org, "seen@example.com")
        found = await session.scalar(select(func.count()).where(User.login == "seen@example.com"))
        assert found == 1
        changed = await session.execute(
            update(User).where(User.login == "seen@example.com").values(status="SUSPENDED")
        )
        assert changed.rowcount == 1  # type: ignore[attr-defined]
    async with db.session() as session:
        assert (
            await session.scalar(select(User.status).where(User.login == "seen@example.com")) == "SUSPENDED"
        )


async def test_a_rolled_back_transaction_writes_no_held_row(db: Database) -> None:
    org = await _org(db)
    session = db.sessionmaker()
    with pytest.raises(RuntimeError):
        async with session.begin():
            await _hold(session, org, "lost@example.com")
            _record(session, org, "lost")
            raise RuntimeError("the change fails")
    async with session.begin():  # the same session's next transaction
        await _hold(session, org, "after@example.com")
    await session.close()
    assert await _logins(db, org) == ["after@example.com"]
    assert await _events(db) == []


async def test_a_closed_sessions_rows_do_not_reach_its_next_transaction(db: Database) -> None:
    org = await _org(db)
    session = db.sessionmaker()
    async with session.begin():
        await _hold(session, org, "abandoned@example.com")
        await session.close()  # ends the transaction without a commit
    async with session.begin():
        await session.execute(select(1))
    await session.close()
    assert await _logins(db, org) == []


async def test_a_lazy_session_commits_a_held_row_it_began_with(db: Database) -> None:
    org = await _org(db)
    async with db.lazy_session() as session:
        await _hold(session, org, "lazy@example.com")
    assert await _logins(db, org) == ["lazy@example.com"]


async def test_a_savepoint_keeps_rows_held_before_it_and_drops_rows_held_in_it(db: Database) -> None:
    org = await _org(db)
    async with db.session() as session:
        await _hold(session, org, "before@example.com")
        savepoint = await session.begin_nested()
        await _hold(session, org, "inside@example.com")
        await savepoint.rollback()
        savepoint = await session.begin_nested()
        await _hold(session, org, "released@example.com")
        await savepoint.commit()
    assert await _logins(db, org) == ["before@example.com", "released@example.com"]


async def test_a_savepoint_released_first_thing_leaves_the_transaction_atomic(db: Database) -> None:
    """Nothing sent before the savepoint, which holds the only row: its release must not commit
    on its own (PostgreSQL: outside a transaction block; SQLite: a savepoint sent first is a
    transaction of its own, ``store.db._begin_before_a_first_savepoint``), and a later failure
    rolls everything back."""
    org = await _org(db)
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            savepoint = await session.begin_nested()
            await _hold(session, org, "inside@example.com")
            await savepoint.commit()
            await _hold(session, org, "after@example.com")
            await session.execute(select(1))
            raise RuntimeError("the change fails after the savepoint")
    assert await _logins(db, org) == []


async def test_a_commit_after_a_statement_sends_the_held_row_in_its_transaction(db: Database) -> None:
    org = await _org(db)
    with sent(db) as seen:
        async with db.session() as session:
            await session.execute(select(1))
            await _hold(session, org, "late@example.com")  # nothing else to flush at the commit
    assert await _logins(db, org) == ["late@example.com"]
    if is_postgres(db):
        assert (seen.begins, len(seen.statements)) == (1, 2)


async def test_held_rows_with_other_objects_to_flush_commit_in_a_transaction(db: Database) -> None:
    org = await _org(db)
    now = datetime.now(UTC)
    group = Group(
        id=new_id(GROUP), org_id=org.id, type="OKTA_GROUP", name="g", name_lower="g",
        profile={"name": "g"}, created=now, last_updated=now, last_membership_updated=now,
    )  # fmt: skip
    with sent(db) as seen:
        async with db.session() as session:
            await _hold(session, org, "with-a-group@example.com")
            _record(session, org, "with a group")
            session.add(group)
    assert await _logins(db, org) == ["with-a-group@example.com"]
    assert await _events(db) == ["with a group"]
    async with db.session() as session:
        assert await session.scalar(select(func.count()).where(Group.id == group.id)) == 1
    if is_postgres(db):
        assert seen.begins == 1  # the group's flush is a statement of its own: not alone


async def test_held_rows_with_an_announcement_commit_in_its_transaction(db: Database) -> None:
    """``pg_notify`` is sent in the writing transaction (at its commit), never alone."""
    org = await _org(db)
    with sent(db) as seen:
        async with db.session() as session:
            await _hold(session, org, "announced@example.com")
            announce(session, "orgs")
    assert await _logins(db, org) == ["announced@example.com"]
    if is_postgres(db):
        assert seen.begins == 1 and any("pg_notify" in s for s in seen.statements)


async def test_another_unique_violation_is_not_taken_for_the_rows_conflict(db: Database) -> None:
    org = await _org(db)
    row = _user(org, "first@example.com")
    async with db.session() as session:
        await write_behind.insert_later(session, USERS, row, conflict=TAKEN)
    with pytest.raises(IntegrityError):  # the same id, another login: the primary key, not TAKEN
        async with db.session() as session:
            again = {**row, "login": "second@example.com", "login_lower": "second@example.com"}
            await write_behind.insert_later(session, USERS, again, conflict=TAKEN)
    assert await _logins(db, org) == ["first@example.com"]


async def test_a_unique_violation_raises_the_rows_conflict_and_writes_nothing(db: Database) -> None:
    org = await _org(db)
    await _stored(db, org, "taken@example.com")
    with pytest.raises(Taken):
        async with db.session() as session:
            await _hold(session, org, "fresh@example.com")
            await _hold(session, org, "TAKEN@example.com")
            _record(session, org, "not without its users")
    assert await _logins(db, org) == ["taken@example.com"]
    assert await _events(db) == []


async def test_a_unique_violation_met_by_a_later_statement_raises_the_conflict_there(db: Database) -> None:
    org = await _org(db)
    await _stored(db, org, "taken@example.com")
    with pytest.raises(Taken):
        async with db.session() as session:
            await _hold(session, org, "taken@example.com")
            await session.scalar(select(func.count()).select_from(User))
    assert await _logins(db, org) == ["taken@example.com"]


async def test_many_rows_are_still_all_or_nothing(db: Database) -> None:
    org = await _org(db)
    await _stored(db, org, "taken@example.com")
    count = write_behind.MAX_CHAINED + 4
    with pytest.raises(Taken):
        async with db.session() as session:
            for n in range(count):
                await _hold(session, org, f"n{n:02}@example.com")
            await _hold(session, org, "taken@example.com")
    assert await _logins(db, org) == ["taken@example.com"]
    async with db.session() as session:
        for n in range(count):
            await _hold(session, org, f"n{n:02}@example.com")
    assert len(await _logins(db, org)) == count + 1


async def test_a_transaction_after_a_commit_alone_is_atomic_again(db: Database) -> None:
    """The pooled connection a commit-alone used goes back to transactions: a later failure
    rolls back what its transaction wrote before it."""
    org = await _org(db)
    for n in range(3):
        async with db.session() as session:
            await _hold(session, org, f"alone{n}@example.com")
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            await session.execute(update(User).where(User.org_id == org.id).values(status="SUSPENDED"))
            await session.execute(update(User).where(User.org_id == org.id).values(org_id="00oNoSuchOrg"))
    async with db.session() as session:
        statuses = await session.scalars(select(User.status).where(User.org_id == org.id))
        assert set(statuses) == {"ACTIVE"}


async def test_a_plain_insert_in_a_first_savepoint_rolls_back_with_its_transaction(db: Database) -> None:
    org = await _org(db)
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            async with session.begin_nested():
                await session.execute(insert(USERS), _user(org, "inside@example.com"))
            await session.execute(insert(USERS), _user(org, "after@example.com"))
            raise RuntimeError("the change fails after the savepoint")
    assert await _logins(db, org) == []
