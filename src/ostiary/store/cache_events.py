"""Cache invalidations that reach every process sharing a PostgreSQL database.

Each process keeps clients, grants, policy sets, servers, key rings and trusted origins in
memory, and forgets an entry when its own writes change it. With ``serve --workers N`` the
other processes would go on with their copy until its TTL ran out (5 to 30 s): a deactivated
app would keep its tokens working there. So a write also *announces* what it changed, inside
its own transaction: ``pg_notify`` is transactional, so the message goes out at commit and
never for a rolled-back write. Every process listens on one connection of its own
(:class:`CacheEventListener`) and drops the named entries. If that connection is lost, the
process drops everything once it listens again, since it may have missed messages.

On SQLite (one process, or several on one file) there is no channel: a write adds its
announcements to the ``cache_event_log`` table in its transaction instead, and every process
reads the new rows every :data:`POLL_INTERVAL` (:class:`CacheEventPoller`, one small query).

Either way, while a process receives the events its caches keep entries for
``domain.caches.FOLLOWING_TTL`` (a safety net), not their short TTLs: 1,000 orgs' clients, servers and
keys then stay cached instead of being reloaded every few seconds.

In the writing process itself, :func:`forget_after_commit` drops an entry now and again when
the transaction ends (every cache of the runtime uses it; see ``domain.caches``).

Kinds and keys (what ``announce`` takes and the handlers receive):

- ``client`` — ``client_id``: the app, its secrets, keys and grants;
- ``policy_set`` — ``org_id, server_id``: the server, its scopes, claims and policies;
- ``ring`` — ``org_id, server_id``: its signing keys;
- ``trusted_origins`` — ``org_id``;
- ``orgs`` — no key: an org or a custom domain was added (hosts that named none may name one now);
- ``revoked`` — no key: access tokens were revoked (:func:`announce_revocation`);
- ``directory`` — ``org_id``, or no key for every org: users, groups, memberships, app
  assignments or the org changed, i.e. what user tokens are minted and checked with
  (announced by ``store.directory_events``' session hook, never by hand);
- ``directory_facts`` — ``org_id``: its user schema or group rules (``domain.directory.directory_facts``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from ostiary.store.db import Database, shared
from ostiary.store.models.cache_log import CacheEventRow

log = logging.getLogger("ostiary.cache_events")

CHANNEL = "ostiary_cache"
KEEPALIVE = 30.0
POLL_INTERVAL = 0.5
LOG_RETENTION = timedelta(minutes=10)
PRUNE_EVERY = 120
"""Polls between two deletions of log rows older than :data:`LOG_RETENTION`."""
STOP_GRACE = 2.0
"""Seconds :meth:`CacheEventPoller.stop` lets a poll in progress finish before cancelling it."""
_PENDING = "ostiary.cache_events"
_FORGET = "ostiary.cache_events.forget"

Handler = Callable[..., None]
"""Called with the announced key, on the event loop; must not block."""


def announce(session: AsyncSession | Session, kind: str, *key: str) -> None:
    """Tell the other processes, when ``session`` commits, that ``kind``/``key`` changed."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    pending: dict[str, None] = sync.info.setdefault(_PENDING, {})
    pending[json.dumps([kind, *key], separators=(",", ":"))] = None


REVOKED = "revoked"
UNREVOKED_CACHE = "ostiary.unrevoked_jtis"
"""The name the runtime shares its cache of access tokens known not to be revoked under
(``domain.tokens.revoked_jtis``), for :func:`announce_revocation`."""


def announce_revocation(session: AsyncSession) -> None:
    """Access tokens are revoked in ``session``'s transaction (by ``jti`` or by a query whose
    ids are not known here): every process forgets, at commit, all the tokens it knew
    as not revoked. Revocations are rare next to the checks they save."""
    announce(session, REVOKED)
    cache = shared(session, UNREVOKED_CACHE)
    if cache is not None:
        forget_after_commit(session, cache, None)


class Forgetful(Protocol):
    """A cache (``bounded_cache.BoundedTTLCache`` or a domain view over one)."""

    def invalidate(self, key: Any = None) -> None: ...


def forget_after_commit(session: AsyncSession | Session, cache: Forgetful, key: Any) -> None:
    """Forget ``key`` in ``cache`` now, and again when ``session``'s transaction commits or
    rolls back: a concurrent request could otherwise re-cache the state it read before the
    commit, or a snapshot of the rolled-back state could survive the rollback."""
    cache.invalidate(key)
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    pending: dict[tuple[int, Any], tuple[Forgetful, Any]] = sync.info.setdefault(_FORGET, {})
    pending[(id(cache), key)] = (cache, key)


def _forget(pending: dict[tuple[int, Any], tuple[Forgetful, Any]] | None) -> None:
    for cache, key in (pending or {}).values():
        cache.invalidate(key)


@event.listens_for(Session, "after_commit")
def _forget_committed(session: Session) -> None:
    _forget(session.info.pop(_FORGET, None))
    late = session.info.pop(_PENDING, None)
    if late:  # announced after _notify's flush (a hook that writes once the commit began)
        log.warning("cache events announced after the commit was sent were lost: %s", ", ".join(late))


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, _previous_transaction: Any) -> None:
    if session.in_transaction():
        _forget(session.info.get(_FORGET))
    else:
        _forget(session.info.pop(_FORGET, None))


def has_announcements(session: Session) -> bool:
    """Has ``session``'s transaction announced something not sent yet?"""
    return bool(session.info.get(_PENDING))


@event.listens_for(Session, "before_commit")
def _notify(session: Session) -> None:
    """Emit the pending announcements in the committing transaction: ``pg_notify`` on
    PostgreSQL, rows of the cache event log on SQLite (read by :class:`CacheEventPoller`).

    Runs inside the ``AsyncSession``'s greenlet, so the synchronous ``execute`` is fine.
    SQLAlchemy calls ``before_commit`` *before* the commit's own flush, so this flushes first:
    the announcements that flush makes (``store.directory_events``' ``after_flush``: a
    revoked API token, a suspended user, whose change nothing flushed earlier) would
    otherwise stay behind in the session and never reach the other processes."""
    session.flush()
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        for payload in pending:
            session.execute(select(func.pg_notify(CHANNEL, payload)))
    elif dialect == "sqlite":
        now = datetime.now(UTC)
        session.execute(insert(CacheEventRow), [{"payload": p, "created": now} for p in pending])


@event.listens_for(Session, "after_soft_rollback")
def _drop(session: Session, _previous_transaction: Any) -> None:
    if not session.in_transaction():
        session.info.pop(_PENDING, None)


def parse(payload: str) -> tuple[str, list[str]] | None:
    """``(kind, key)`` of a notification, or ``None`` if it is not one of ours."""
    try:
        decoded = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(decoded, list) or not decoded or not all(isinstance(p, str) for p in decoded):
        return None
    return decoded[0], decoded[1:]


class CacheEventListener:
    """Listens on :data:`CHANNEL` and calls ``handlers[kind](*key)`` for each message;
    ``forget_all`` when (re)connected. Reconnects with a capped backoff."""

    def __init__(
        self,
        database_url: str,
        handlers: Mapping[str, Handler],
        forget_all: Callable[[], None],
        *,
        max_backoff: float = 5.0,
        on_state: Callable[[bool], None] | None = None,
    ) -> None:
        self.dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.handlers = handlers
        self.forget_all = forget_all
        self.max_backoff = max_backoff
        self.on_state = on_state
        """Called with True once listening, False when the connection is lost."""
        self.listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="ostiary-cache-events")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def dispatch(self, payload: str) -> None:
        dispatch(self.handlers, payload)

    async def _run(self) -> None:
        import asyncpg  # only PostgreSQL deployments listen

        backoff = 0.1
        while True:
            try:
                await self._listen(asyncpg)
                backoff = 0.1
                log.warning("cache event connection lost; reconnecting")
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("cache events unavailable (%s); retrying in %.1f s", type(exc).__name__, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)

    async def _listen(self, asyncpg: Any) -> None:
        """Listen until the connection is lost; a ``SELECT 1`` every ``KEEPALIVE`` seconds
        notices a connection that died without closing."""
        connection = await asyncpg.connect(self.dsn, timeout=10)
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(CHANNEL, lambda _c, _pid, _channel, payload: self.dispatch(payload))
            self.forget_all()  # whatever was announced while nobody listened
            self.listening.set()
            if self.on_state is not None:
                self.on_state(True)
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), KEEPALIVE)
                if not lost.is_set():
                    await connection.fetchval("SELECT 1", timeout=5)
        finally:
            self.listening.clear()
            if self.on_state is not None:
                self.on_state(False)
            if not connection.is_closed():
                with contextlib.suppress(Exception):
                    await connection.close(timeout=1)


class CacheEventPoller:
    """:class:`CacheEventListener` for SQLite: reads the cache event log every ``interval``
    seconds and calls ``handlers[kind](*key)`` for each new row. Its ``listening`` is set
    while polls succeed; after a failed poll it calls ``forget_all`` once polls succeed again."""

    def __init__(
        self,
        db: Database,
        handlers: Mapping[str, Handler],
        forget_all: Callable[[], None],
        *,
        interval: float = POLL_INTERVAL,
        on_state: Callable[[bool], None] | None = None,
    ) -> None:
        self.db = db
        self.handlers = handlers
        self.forget_all = forget_all
        self.interval = interval
        self.on_state = on_state
        self.listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._last: int | None = None

    def start(self) -> None:
        self._stopping = asyncio.Event()  # of the loop that runs this start
        self._task = asyncio.get_running_loop().create_task(self._run(), name="ostiary-cache-poll")

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop between two polls. Cancelling a poll in progress would cancel its session's
        rollback on the way back to the pool (SQLAlchemy logs "Exception during reset" and
        the connection is lost), so a poll in progress may finish within ``grace`` seconds;
        only one that takes longer is cancelled."""
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    def _state(self, listening: bool) -> None:
        if listening == self.listening.is_set():
            return
        if listening:
            self.forget_all()  # what was written while we could not read
            self.listening.set()
        else:
            self.listening.clear()
        if self.on_state is not None:
            self.on_state(listening)

    async def poll(self) -> None:
        """Dispatch the rows written since the last poll (the first poll only finds the end)."""
        async with self.db.session() as session:
            if self._last is None:
                self._last = (await session.scalar(select(func.max(CacheEventRow.seq)))) or 0
                return
            rows = (
                await session.execute(
                    select(CacheEventRow.seq, CacheEventRow.payload)
                    .where(CacheEventRow.seq > self._last)
                    .order_by(CacheEventRow.seq)
                )
            ).all()
        for seq, payload in rows:
            self._last = seq
            dispatch(self.handlers, payload)

    async def prune(self) -> None:
        cutoff = datetime.now(UTC) - LOG_RETENTION
        await self.db.transaction(
            lambda session: session.execute(delete(CacheEventRow).where(CacheEventRow.created < cutoff))
        )

    async def _run(self) -> None:
        polls, failing = 0, False
        while not self._stopping.is_set():
            try:
                await self.poll()
                self._state(True)
                failing = False
                polls += 1
                if polls % PRUNE_EVERY == 0 and not self._stopping.is_set():
                    await self.prune()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not failing:  # once per outage, not twice a second
                    log.warning("cache event log unavailable (%s)", type(exc).__name__)
                failing = True
                self._state(False)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)


def dispatch(handlers: Mapping[str, Handler], payload: str) -> None:
    parsed = parse(payload)
    handler = handlers.get(parsed[0]) if parsed else None
    if parsed is None or handler is None:
        log.warning("ignored cache event %.80r", payload)
        return
    handler(*parsed[1])
