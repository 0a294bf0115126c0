"""Authorization codes in SQL: the ``AuthorizationCodeStore`` of ``domain.tokens.storage``.

Redemption is one conditional UPDATE (``used_at`` still NULL, not expired), so two concurrent
requests cannot both redeem a code. Revoking a replayed code's access token is an ``INSERT …
ON CONFLICT DO NOTHING``, applied again just before the session commits so that the token
endpoint rolling back the refused grant's savepoint does not undo it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Protocol, cast

from sqlalchemy import Table, Update, bindparam, delete, event, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ostiary.store.cache_events import announce_revocation
from ostiary.store.models import RevokedToken
from ostiary.store.models.codes import AuthorizationCode
from ostiary.store.statements import insert_ignoring_duplicates
from ostiary.timeutil import utcnow

_PENDING: Final = "ostiary.codes.replayed"


class ClaimedCode(Protocol):
    """What issuing tokens for a redeemed code reads of it: an ``AuthorizationCode`` (the
    step-by-step path's :meth:`SqlAuthorizationCodes.find`), or the plain row that
    :meth:`SqlAuthorizationCodes.claim` returns. Why the plain row: building an
    ``AuthorizationCode`` from it ran the ORM's instrumented ``__init__`` and an attribute event
    per column: a redemption made 2,655 Python calls in the serving process, 2,442 without it
    (cProfile, 300 redemptions; docs/performance.md, fifth round)."""

    @property
    def code_hash(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def scopes(self) -> list[str]: ...
    @property
    def nonce(self) -> str | None: ...
    @property
    def auth_time(self) -> int: ...
    @property
    def amr(self) -> list[str]: ...
    @property
    def access_token_lifetime(self) -> int: ...
    @property
    def refresh_token_lifetime_minutes(self) -> int | None: ...
    @property
    def refresh_token_window_minutes(self) -> int | None: ...
    @property
    def access_token_jti(self) -> str | None: ...
    @property
    def access_token_expires_at(self) -> datetime | None: ...
    @property
    def refresh_token_family_id(self) -> str | None: ...


_CODES = cast(Table, AuthorizationCode.__table__)


def _claim_statement(with_challenge: bool) -> Update:
    """The claim as a Core ``UPDATE … RETURNING`` built once, with bound parameters.

    Why: built per request through the ORM (``update(AuthorizationCode)…returning(AuthorizationCode)``),
    the statement's construction, its cache key and the ORM's bulk-update and instance-loading
    machinery were half of a redemption's CPU in the serving process (py-spy, ``--gil``); the
    same statement prebuilt and sent through the session's connection cost ~45 % less CPU in
    a loop of claims (3.4 → 2.3-2.8 ms with the ``UPDATE`` that follows, SQLite, loaded VM)."""
    codes = _CODES.c
    challenge = (
        (codes.code_challenge == bindparam("challenge")) & (codes.code_challenge_method == "S256")
        if with_challenge
        else codes.code_challenge.is_(None)
    )
    return (
        update(_CODES)
        .where(
            codes.code_hash == bindparam("hash"),
            codes.org_id == bindparam("org"),
            codes.server_id == bindparam("server"),
            codes.client_id == bindparam("client"),
            codes.redirect_uri == bindparam("redirect"),
            codes.used_at.is_(None),
            codes.expires_at > bindparam("now"),
            challenge,
        )
        .values(used_at=bindparam("now"))
        .returning(*_CODES.c)
    )


_CLAIM = {with_challenge: _claim_statement(with_challenge) for with_challenge in (False, True)}
_REMEMBER = (
    update(_CODES)
    .where(_CODES.c.code_hash == bindparam("hash"))
    .values(
        access_token_jti=bindparam("jti"),
        access_token_expires_at=bindparam("token_expires"),
        refresh_token_family_id=bindparam("family"),
    )
)
_REMEMBERED = ("access_token_jti", "access_token_expires_at", "refresh_token_family_id")


class SqlAuthorizationCodes:
    """The authorization codes of one session's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: AuthorizationCode, purge_expired_before: datetime) -> None:
        """Store a new code; the org's codes that expired before ``purge_expired_before`` go."""
        await self.session.execute(
            delete(AuthorizationCode).where(
                AuthorizationCode.org_id == row.org_id, AuthorizationCode.expires_at <= purge_expired_before
            )
        )
        self.session.add(row)
        await self.session.flush()

    async def find(self, code_hash: str) -> AuthorizationCode | None:
        return await self.session.get(AuthorizationCode, code_hash)

    async def reload(self, row: AuthorizationCode) -> None:
        await self.session.refresh(row)

    async def redeem(self, row: AuthorizationCode, now: datetime) -> bool:
        result = await self.session.execute(
            update(AuthorizationCode)
            .where(
                AuthorizationCode.code_hash == row.code_hash,
                AuthorizationCode.used_at.is_(None),
                AuthorizationCode.expires_at > now,
            )
            .values(used_at=now)
            .returning(AuthorizationCode.code_hash)
            .execution_options(synchronize_session=False)
        )
        won = result.scalar_one_or_none() is not None
        if won:
            # The row already says so: a plain assignment would UPDATE it again at the next flush.
            set_committed_value(row, "used_at", now)
        return won

    async def claim(
        self,
        code_hash: str,
        *,
        org_id: str,
        server_id: str,
        client_id: str,
        redirect_uri: str,
        code_challenge: str | None,
        now: datetime,
    ) -> ClaimedCode | None:
        """One ``UPDATE … RETURNING`` instead of a ``SELECT`` then an ``UPDATE`` (SQLite ≥ 3.35
        and PostgreSQL both have it): the row comes back already marked used, as a plain row,
        in no session (:func:`_claim_statement` and :class:`ClaimedCode` say why;
        :meth:`remember_tokens` writes the tokens it became)."""
        connection = await self.session.connection()
        parameters = {
            "hash": code_hash,
            "org": org_id,
            "server": server_id,
            "client": client_id,
            "redirect": redirect_uri,
            "now": now,
        }
        if code_challenge is not None:
            parameters["challenge"] = code_challenge
        found = (await connection.execute(_CLAIM[code_challenge is not None], parameters)).first()
        return None if found is None else cast(ClaimedCode, found)  # the row has every column

    async def remember_tokens(
        self,
        row: ClaimedCode,
        access_token_jti: str | None,
        access_token_expires_at: datetime | None,
        refresh_family_id: str | None,
    ) -> None:
        """One Core ``UPDATE`` by the code's key, whether ``row`` came from :meth:`claim` (a plain
        row) or from :meth:`find` (an object of the session, which is told, so that no flush
        writes it again)."""
        values = (
            (access_token_jti, access_token_expires_at)
            if access_token_jti is not None
            else (row.access_token_jti, row.access_token_expires_at)
        ) + (refresh_family_id,)
        connection = await self.session.connection()
        await connection.execute(
            _REMEMBER,
            {"hash": row.code_hash, "jti": values[0], "token_expires": values[1], "family": values[2]},
        )
        if isinstance(row, AuthorizationCode):  # a plain row from claim is in no session
            for name, value in zip(_REMEMBERED, values, strict=True):
                set_committed_value(row, name, value)

    async def revoke_access_token(self, org_id: str, jti: str, expires_at: datetime) -> None:
        if expires_at > utcnow():
            await self.session.execute(
                insert_ignoring_duplicates(self.session, RevokedToken).values(
                    jti=jti, org_id=org_id, expires_at=expires_at
                )
            )
        _revoke_on_commit(self.session, org_id, jti, expires_at)
        announce_revocation(self.session)


def _revoke_pending(session: Session) -> None:
    for org_id, jti, expires_at in session.info.pop(_PENDING, set()):
        if expires_at > utcnow():
            session.execute(
                insert_ignoring_duplicates(session, RevokedToken).values(
                    jti=jti, org_id=org_id, expires_at=expires_at
                )
            )


def _revoke_on_commit(session: AsyncSession, org_id: str, jti: str, expires_at: datetime) -> None:
    sync = session.sync_session
    pending: set[tuple[str, str, datetime]] | None = sync.info.get(_PENDING)
    if pending is None:
        pending = sync.info[_PENDING] = set()
        event.listen(sync, "before_commit", _revoke_pending, once=True)
    pending.add((org_id, jti, expires_at))
