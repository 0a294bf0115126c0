"""Refresh tokens in SQL: the ``RefreshTokenStore`` of ``domain.tokens.storage``.

The rules (states, rotation, grace, reuse) are the domain's (``domain.tokens.refresh_tokens``);
this module holds what makes them safe under concurrency:

- every write to a family first locks its rows in id order (``SELECT … ORDER BY id FOR
  UPDATE`` on PostgreSQL; SQLite has one writer at a time), so a rotation and a revocation
  of one family queue up instead of deadlocking; but keeping a static token (one row, one
  conditional ``UPDATE``) needs no lock before it (:meth:`SqlRefreshTokens.keep` says why);
- rotating, keeping and spending the grace retry are conditional UPDATEs (``rotated_at`` /
  ``revoked_at`` / ``grace_used_at`` still NULL), so two concurrent uses of one token cannot
  both win;
- revoking a family's access tokens is ``INSERT … SELECT … ON CONFLICT DO NOTHING``, which
  ignores a ``jti`` another request revoked meanwhile;
- a *durable* family revocation is applied again just before the session commits, so a caller
  rolling back its own savepoint (the token endpoint does on every error) cannot undo it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import (
    BindParameter,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    event,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from ostiary.store.cache_events import announce_revocation
from ostiary.store.models import RevokedToken
from ostiary.store.models.refresh_tokens import FamilyAccessToken, RefreshToken
from ostiary.store.statements import RowValues, insert_ignoring_duplicates
from ostiary.timeutil import utcnow

_PENDING: Final = "ostiary.refresh_tokens.revoke"


class SqlRefreshTokens:
    """The refresh tokens of one session's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, org_id: str, token_hash: str) -> RefreshToken | None:
        stmt = (
            select(RefreshToken)
            .where(RefreshToken.token_hash == token_hash, RefreshToken.org_id == org_id)
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).first()

    async def add_family(
        self, first: RefreshToken, purge_dead_before: datetime, access_token: FamilyAccessToken | None = None
    ) -> None:
        """Store the first token of a new family (and the access token minted with it), after
        deleting the user's families that died (revoked or expired) before
        ``purge_dead_before``: every member, since a dead family needs no reuse detection (its
        tokens are refused as unknown).

        Core statements built once, and the rows written as plain values: ``first`` and
        ``access_token`` stay out of the session. Why: built per call through the ORM, the two
        purges' construction and the unit of work's flush were most of what ``offline_access``
        added to a code redemption (docs/performance.md, sixth round)."""
        connection = await self.session.connection()
        purge = {"org": first.org_id, "user": first.user_id, "cutoff": purge_dead_before}
        await connection.execute(_PURGE_DEAD_NOTES, purge)
        await connection.execute(_PURGE_DEAD_TOKENS, purge)
        await connection.execute(_INSERT_TOKEN, _TOKEN_VALUES(first))
        if access_token is not None:
            await connection.execute(_INSERT_NOTE, _NOTE_VALUES(access_token))

    async def locked(self, row: RefreshToken) -> RefreshToken | None:
        """Lock ``row``'s family (id order), then read ``row`` afresh (None: it is gone)."""
        await _lock(self.session, RefreshToken.family_id == row.family_id)
        return await self.reload(row.id)

    async def reload(self, token_id: str) -> RefreshToken | None:
        stmt = (
            select(RefreshToken).where(RefreshToken.id == token_id).execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).first()

    async def rotate(self, row: RefreshToken, successor: RefreshToken, seal: str, now: datetime) -> bool:
        """Mark ``row`` rotated to ``successor`` (keeping ``seal``) and store the successor;
        False when another request rotated or revoked ``row`` first. The previous token's seal
        is erased: its grace retry would answer a token that is no longer current. Core
        statements built once, the successor written as plain values (``add_family`` says why)."""
        connection = await self.session.connection()
        won = await connection.execute(
            _ROTATE, {"token": row.id, "now": now, "successor": successor.id, "seal": seal}
        )
        if won.first() is None:
            return False
        await connection.execute(_ERASE_PREDECESSOR_SEAL, {"family": row.family_id, "token": row.id})
        await connection.execute(_INSERT_TOKEN, _TOKEN_VALUES(successor))
        return True

    async def keep(
        self, row: RefreshToken, now: datetime, window_minutes: int | None, idle_expires_at: datetime | None
    ) -> bool:
        """Note a use of a static token (new idle deadline); False when it was rotated or
        revoked meanwhile. Needs no family lock before it (the one write to a family that takes
        none): it locks one row, the token's own, and its condition decides. A revocation that
        locked the row first has set ``revoked_at`` by the time this ``UPDATE`` gets it
        (PostgreSQL evaluates the condition again); one that comes after waits for this
        transaction and then revokes the access token it noted meanwhile. Holding that one lock,
        the transaction waits on no other row (the note it writes is a new one), so it cannot
        close a deadlock cycle. Measured gain: two statements (the lock and the re-read) of six
        per static refresh (docs/performance.md, sixth round)."""
        connection = await self.session.connection()
        won = await connection.execute(
            _KEEP,
            {
                "token": row.id,
                "now": now,
                "window": window_minutes or None,
                "idle": idle_expires_at,
            },
        )
        return won.first() is not None

    async def spend_grace(self, row: RefreshToken, now: datetime) -> bool:
        """Use up ``row``'s one grace retry and erase its seal; False when it was used already."""
        won = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == row.id, RefreshToken.grace_used_at.is_(None))
            .values(grace_used_at=now, successor_seal=None)
            .returning(RefreshToken.id)
            .execution_options(synchronize_session=False)
        )
        return won.scalar_one_or_none() is not None

    async def remember_access_token(
        self, org_id: str, family_id: str, jti: str, expires_at: datetime
    ) -> None:
        """Note an access token minted with a token of ``family_id``; the family's expired
        notes go at the same time. Core statements built once (``add_family`` says why)."""
        connection = await self.session.connection()
        await connection.execute(_PURGE_EXPIRED_NOTES, {"org": org_id, "family": family_id, "now": utcnow()})
        await connection.execute(
            _INSERT_NOTE, {"jti": jti, "org_id": org_id, "family_id": family_id, "expires_at": expires_at}
        )

    async def revoke_family(
        self, org_id: str, family_id: str, *, durable: bool = False, now: datetime | None = None
    ) -> int:
        """Revoke every token of the family and the access tokens noted with it; the number of
        tokens that were still unrevoked. ``durable``: again just before the session commits."""
        revoked = await self.revoke_where(
            now, RefreshToken.org_id == org_id, RefreshToken.family_id == family_id
        )
        if durable:
            _revoke_on_commit(self.session, org_id, family_id)
        return revoked

    async def revoke_client_tokens(self, org_id: str, server_id: str, client_id: str) -> int:
        return await self.revoke_where(
            None,
            RefreshToken.org_id == org_id,
            RefreshToken.server_id == server_id,
            RefreshToken.client_id == client_id,
        )

    async def revoke_user_tokens(self, org_id: str, user_id: str) -> int:
        return await self.revoke_where(None, RefreshToken.org_id == org_id, RefreshToken.user_id == user_id)

    async def revoke_where(self, now: datetime | None, *conditions: Any) -> int:
        """Revoke the refresh tokens matching ``conditions`` and every unexpired access token
        issued with a token of their families."""
        when = now or utcnow()
        await _lock(self.session, *conditions)
        await self.session.execute(_revoke_family_access_tokens(self.session, when, *conditions))
        announce_revocation(self.session)
        result = await self.session.execute(
            update(RefreshToken)
            .where(*conditions, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=when)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


_TOKENS = cast(Table, RefreshToken.__table__)
_NOTES = cast(Table, FamilyAccessToken.__table__)


def _dead_families() -> Select[tuple[str]]:
    """The ids of the user's families dead before the cutoff (bound parameters ``org``,
    ``user``, ``cutoff``)."""
    tokens = _TOKENS.c
    cutoff: BindParameter[datetime] = bindparam("cutoff")
    return select(tokens.family_id).where(
        tokens.org_id == bindparam("org"),
        tokens.user_id == bindparam("user"),
        or_(
            tokens.revoked_at <= cutoff,
            tokens.expires_at <= cutoff,
            and_(tokens.replaced_by.is_(None), tokens.idle_expires_at <= cutoff),
        ),
    )


_PURGE_DEAD_NOTES = delete(_NOTES).where(
    _NOTES.c.org_id == bindparam("org"), _NOTES.c.family_id.in_(_dead_families())
)
_PURGE_DEAD_TOKENS = delete(_TOKENS).where(
    _TOKENS.c.org_id == bindparam("org"),
    _TOKENS.c.user_id == bindparam("user"),
    _TOKENS.c.family_id.in_(_dead_families()),
)
_INSERT_TOKEN = insert(_TOKENS)
_INSERT_NOTE = insert(_NOTES)
_PURGE_EXPIRED_NOTES = delete(_NOTES).where(
    _NOTES.c.org_id == bindparam("org"),
    _NOTES.c.family_id == bindparam("family"),
    _NOTES.c.expires_at <= bindparam("now"),
)
_UNSPENT = (
    _TOKENS.c.id == bindparam("token"),
    _TOKENS.c.rotated_at.is_(None),
    _TOKENS.c.revoked_at.is_(None),
)
_ROTATE = (
    update(_TOKENS)
    .where(*_UNSPENT)
    .values(
        rotated_at=bindparam("now"),
        last_used=bindparam("now"),
        replaced_by=bindparam("successor"),
        successor_seal=bindparam("seal"),
    )
    .returning(_TOKENS.c.id)
)
_ERASE_PREDECESSOR_SEAL = (
    update(_TOKENS)
    .where(_TOKENS.c.family_id == bindparam("family"), _TOKENS.c.replaced_by == bindparam("token"))
    .values(successor_seal=None)
)
_KEEP = (
    update(_TOKENS)
    .where(*_UNSPENT)
    .values(last_used=bindparam("now"), window_minutes=bindparam("window"), idle_expires_at=bindparam("idle"))
    .returning(_TOKENS.c.id)
)


_TOKEN_VALUES = RowValues(_TOKENS)
_NOTE_VALUES = RowValues(_NOTES)


async def _lock(session: AsyncSession, *conditions: Any) -> None:
    """Lock the refresh tokens matching ``conditions`` in id order, before writing any of them:
    two transactions that lock overlapping sets in one order wait for each other instead of
    deadlocking. (A no-op on SQLite, whose writers take the whole database in turn.)"""
    await session.execute(
        select(RefreshToken.id).where(*conditions).order_by(RefreshToken.id).with_for_update()
    )


def _revoke_family_access_tokens(session: AsyncSession | Session, now: datetime, *conditions: Any) -> Any:
    """``INSERT INTO revoked_tokens SELECT … ON CONFLICT DO NOTHING``: the families' noted
    access tokens that are neither expired nor revoked already."""
    families = select(RefreshToken.family_id).where(*conditions)
    already = select(RevokedToken.jti).where(RevokedToken.jti == FamilyAccessToken.jti).exists()
    return insert_ignoring_duplicates(session, RevokedToken).from_select(
        ["jti", "org_id", "expires_at"],
        select(FamilyAccessToken.jti, FamilyAccessToken.org_id, FamilyAccessToken.expires_at).where(
            FamilyAccessToken.family_id.in_(families), FamilyAccessToken.expires_at > now, ~already
        ),
    )


def _revoke_pending(session: Session) -> None:
    now = utcnow()
    for org_id, family_id in sorted(session.info.pop(_PENDING, set())):
        family = (RefreshToken.org_id == org_id, RefreshToken.family_id == family_id)
        session.execute(select(RefreshToken.id).where(*family).order_by(RefreshToken.id).with_for_update())
        session.execute(_revoke_family_access_tokens(session, now, *family))
        session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.org_id == org_id,
                RefreshToken.family_id == family_id,
                RefreshToken.revoked_at.is_(None),
            )
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )


def _revoke_on_commit(session: AsyncSession, org_id: str, family_id: str) -> None:
    announce_revocation(session)
    sync = session.sync_session
    pending: set[tuple[str, str]] | None = sync.info.get(_PENDING)
    if pending is None:
        pending = sync.info[_PENDING] = set()
        event.listen(sync, "before_commit", _revoke_pending, once=True)
    pending.add((org_id, family_id))
