"""store.cache_events: announcements go out with the commit that made them, never with a
rollback; the listener dispatches them and forgets everything when it (re)connects."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from ostiary.domain.caches import FOLLOWING_TTL
from ostiary.store.cache_events import CacheEventListener, CacheEventPoller, announce, parse
from ostiary.store.db import Database
from tests.conftest import Server


def test_payloads_parse_back_and_strangers_are_ignored() -> None:
    assert parse('["client","0oa1"]') == ("client", ["0oa1"])
    assert parse('["policy_set","00o1","aus1"]') == ("policy_set", ["00o1", "aus1"])
    for stranger in ("", "hello", "[]", '{"a":1}', "[1,2]"):
        assert parse(stranger) is None


@pytest.fixture
async def pg(postgres_database: str | None) -> AsyncIterator[Database]:
    if postgres_database is None:
        pytest.skip("OSTIARY_TEST_POSTGRES_URL is not set")
    db = Database(postgres_database)
    try:
        yield db
    finally:
        await db.dispose()


async def _listening(
    db: Database,
    seen: list[tuple[str, tuple[str, ...]]],
    forgotten: list[int],
    tag: str,
    application_name: str | None = None,
) -> CacheEventListener:
    """A started listener that records the events whose last key ends with ``tag``: the test
    session's database is shared by the tests of this worker, and what they announce is not ours."""

    def record(kind: str):  # type: ignore[no-untyped-def]
        def handler(*key: str) -> None:
            if key and key[-1].endswith(tag):
                seen.append((kind, key))

        return handler

    handlers = {"client": record("client"), "policy_set": record("policy_set")}
    url = db.url if application_name is None else f"{db.url}?application_name={application_name}"
    listener = CacheEventListener(url, handlers, lambda: forgotten.append(1))
    listener.start()
    await asyncio.wait_for(listener.listening.wait(), 10)
    return listener


def _tag() -> str:
    return "-" + uuid.uuid4().hex[:12]


async def _eventually(condition, seconds: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.02)):
        if condition():
            return True
        await asyncio.sleep(0.02)
    return bool(condition())


@pytest.mark.postgres
async def test_a_commit_announces_and_a_rollback_does_not(pg: Database) -> None:
    seen: list[tuple[str, tuple[str, ...]]] = []
    forgotten: list[int] = []
    tag = _tag()
    listener = await _listening(pg, seen, forgotten, tag)
    try:
        assert forgotten == [1]  # on connecting: whatever was missed is dropped
        with pytest.raises(RuntimeError):
            async with pg.session() as session:
                announce(session, "client", "0oa-rolled-back" + tag)
                await session.execute(text("SELECT 1"))
                raise RuntimeError("the write fails")
        async with pg.session() as session:
            announce(session, "client", "0oa-committed" + tag)
            announce(session, "client", "0oa-committed" + tag)  # said twice, sent once
            announce(session, "policy_set", "00o1", "aus1" + tag)
        async with pg.session() as session:  # delivered in commit order: after anything earlier
            announce(session, "client", "0oa-sentinel" + tag)
        assert await _eventually(lambda: ("client", ("0oa-sentinel" + tag,)) in seen)
        assert seen == [
            ("client", ("0oa-committed" + tag,)),
            ("policy_set", ("00o1", "aus1" + tag)),
            ("client", ("0oa-sentinel" + tag,)),
        ]
    finally:
        await listener.stop()


@pytest.mark.postgres
async def test_unknown_kinds_are_ignored(pg: Database) -> None:
    seen: list[tuple[str, tuple[str, ...]]] = []
    tag = _tag()
    listener = await _listening(pg, seen, [], tag)
    try:
        async with pg.session() as session:
            announce(session, "no-such-kind", "x" + tag)
            announce(session, "client", "0oa-after" + tag)
        assert await _eventually(lambda: ("client", ("0oa-after" + tag,)) in seen)
        assert seen == [("client", ("0oa-after" + tag,))]
    finally:
        await listener.stop()


@pytest.mark.postgres
async def test_the_listener_reconnects_and_forgets_everything(pg: Database) -> None:
    seen: list[tuple[str, tuple[str, ...]]] = []
    forgotten: list[int] = []
    tag = _tag()
    name = "ostiary-test" + tag  # only this listener's connection, no other listener of the database
    listener = await _listening(pg, seen, forgotten, tag, application_name=name)
    try:
        async with pg.session() as session:  # end the listener's connection from the server side
            ended = await session.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :n"
                ),
                {"n": name},
            )
        assert ended == 1
        assert await _eventually(lambda: len(forgotten) >= 2, seconds=10)
        await asyncio.wait_for(listener.listening.wait(), 10)
        async with pg.session() as session:
            announce(session, "client", "0oa-after-reconnect" + tag)
        assert await _eventually(lambda: ("client", ("0oa-after-reconnect" + tag,)) in seen)
    finally:
        await listener.stop()


async def test_sqlite_sessions_commit_their_announcements_to_the_log(sqlite_database_url: str) -> None:
    db = Database(sqlite_database_url)
    try:
        async with db.session() as session:
            announce(session, "client", "0oa1")
            await session.execute(text("SELECT 1"))
            await session.commit()
        async with db.session() as session:  # nothing left pending for the next transaction
            assert not session.sync_session.info
            rows = (await session.execute(text("SELECT payload FROM cache_event_log"))).all()
        assert [row[0] for row in rows] == ['["client","0oa1"]']
    finally:
        await db.dispose()


async def test_a_poller_dispatches_what_other_processes_commit_and_never_a_rollback(
    sqlite_database_url: str,
) -> None:
    """Two ``Database`` objects on one file stand for two processes."""
    writer, reader = Database(sqlite_database_url), Database(sqlite_database_url)
    seen: list[tuple[str, ...]] = []
    states: list[bool] = []
    forgotten: list[int] = []
    poller = CacheEventPoller(
        reader,
        {"client": lambda *key: seen.append(key)},
        lambda: forgotten.append(1),
        interval=0.02,
        on_state=states.append,
    )
    poller.start()
    try:
        await asyncio.wait_for(poller.listening.wait(), 10)
        assert states == [True] and forgotten == [1]
        async with writer.session() as session:
            announce(session, "client", "0oa-rolled-back")
            await session.execute(text("SELECT 1"))
            await session.rollback()
        async with writer.session() as session:
            announce(session, "client", "0oa-committed")
            await session.execute(text("SELECT 1"))
            await session.commit()
        assert await _eventually(lambda: ("0oa-committed",) in seen)
        assert ("0oa-rolled-back",) not in seen
    finally:
        await poller.stop()
        await writer.dispose()
        await reader.dispose()


async def test_caches_keep_entries_long_only_while_events_arrive(server: Server) -> None:
    rt = server.rt
    short = (rt.caches.clients.entries.ttl, rt.servers.ttl, rt.rings.ttl)
    rt.follow_cache_events(True)
    assert (rt.caches.clients.entries.ttl, rt.servers.ttl, rt.rings.ttl) == (FOLLOWING_TTL,) * 3
    assert rt.caches.policy_sets.ttl == FOLLOWING_TTL
    rt.follow_cache_events(False)
    assert (rt.caches.clients.entries.ttl, rt.servers.ttl, rt.rings.ttl) == short


async def test_a_poller_that_could_not_read_forgets_everything_once_it_can(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Polls fail while the log is unreadable (here: not created yet); the first that succeeds
    drops every cached entry (events may have been missed) and makes the long TTLs apply."""
    from ostiary.settings import sqlite_url
    from ostiary.store import migrate

    db = Database(sqlite_url(tmp_path))
    states: list[bool] = []
    forgotten: list[int] = []
    poller = CacheEventPoller(db, {}, lambda: forgotten.append(1), interval=0.02, on_state=states.append)
    poller.start()
    try:
        assert await _eventually(lambda: "cache event log unavailable" in caplog.text)
        assert not poller.listening.is_set() and forgotten == [] and states == []
        await migrate.upgrade(db.engine)
        await asyncio.wait_for(poller.listening.wait(), 10)
        assert forgotten == [1] and states == [True]
    finally:
        await poller.stop()
        await db.dispose()


async def test_stopping_a_poller_lets_a_poll_in_progress_finish(sqlite_database_url: str) -> None:
    """Shutdown during a poll: cancelling it would cancel its session's rollback on the way
    back to the pool ("Exception during reset", seen as a flaky SIGTERM test); the poller
    stops between polls instead."""
    db = Database(sqlite_database_url)
    poller = CacheEventPoller(db, {}, lambda: None, interval=0.01)
    in_poll, release = asyncio.Event(), asyncio.Event()
    outcomes: list[str] = []

    async def slow_poll() -> None:
        async with db.session() as session:
            in_poll.set()
            try:
                await release.wait()  # stands for a query still running
                await session.execute(text("SELECT 1"))
            except asyncio.CancelledError:
                outcomes.append("cancelled")
                raise
            outcomes.append("finished")

    poller.poll = slow_poll  # type: ignore[method-assign]
    poller.start()
    try:
        await asyncio.wait_for(in_poll.wait(), 10)
        stopping = asyncio.create_task(poller.stop())
        await asyncio.sleep(0.05)
        assert not stopping.done()
        release.set()
        await asyncio.wait_for(stopping, 10)
        assert outcomes == ["finished"]
    finally:
        release.set()
        await poller.stop()
        await db.dispose()


async def test_a_poll_that_outlasts_the_grace_is_cancelled(sqlite_database_url: str) -> None:
    db = Database(sqlite_database_url)
    poller = CacheEventPoller(db, {}, lambda: None, interval=0.01)
    in_poll = asyncio.Event()
    outcomes: list[str] = []

    async def hung_poll() -> None:
        in_poll.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            outcomes.append("cancelled")
            raise

    poller.poll = hung_poll  # type: ignore[method-assign]
    poller.start()
    try:
        await asyncio.wait_for(in_poll.wait(), 10)
        await asyncio.wait_for(poller.stop(grace=0.05), 10)
        assert outcomes == ["cancelled"]
    finally:
        await db.dispose()


async def test_what_only_the_commits_own_flush_writes_is_announced(server: Server) -> None:
    """SQLAlchemy runs ``before_commit`` before the commit's flush: a change left for that flush
    (a suspended user, a revoked API token) must still reach the other processes."""
    from sqlalchemy import select

    from ostiary.store.models import ApiToken, User

    token = await server.create_token("victim")
    async with server.client(token) as admin:
        created = await admin.post(
            "/api/v1/users",
            json={
                "profile": {
                    "login": "a@example.com",
                    "email": "a@example.com",
                    "firstName": "A",
                    "lastName": "B",
                }
            },
        )
        assert created.status_code == 200, created.text
    async with server.rt.db.session() as session:
        await session.execute(text("DELETE FROM cache_event_log"))
    async with server.rt.db.session() as session:
        user = (await session.scalars(select(User))).one()
        stored_token = (await session.scalars(select(ApiToken))).one()
        user.status = "SUSPENDED"  # nothing flushes these two before the commit
        await session.delete(stored_token)
        org_id = user.org_id
    async with server.rt.db.session() as session:
        payloads = [
            row[0] for row in (await session.execute(text("SELECT payload FROM cache_event_log"))).all()
        ]
    assert f'["directory","{org_id}"]' in payloads
    assert '["api_tokens"]' in payloads


async def test_a_text_delete_of_orgs_announces_the_api_tokens_event(server: Server) -> None:
    """The database deletes an org's API tokens with it: every process forgets its tokens."""
    async with server.rt.db.session() as session:
        await session.execute(text("DELETE FROM cache_event_log"))
    async with server.rt.db.session() as session:
        await session.execute(text("DELETE FROM orgs WHERE id = 'nope'"))
    async with server.rt.db.session() as session:
        payloads = [
            row[0] for row in (await session.execute(text("SELECT payload FROM cache_event_log"))).all()
        ]
    assert '["api_tokens"]' in payloads


async def test_an_announcement_made_after_the_commit_began_is_reported(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    """A before_commit listener that announces after _notify ran: its event cannot go out with
    the commit any more; that is logged, not silent."""
    from sqlalchemy import event

    async with server.rt.db.session() as session:
        await session.execute(text("SELECT 1"))
        event.listen(
            session.sync_session, "before_commit", lambda s: announce(s, "client", "0oa-late"), once=True
        )
    assert 'lost: ["client","0oa-late"]' in caplog.text
