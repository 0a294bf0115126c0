"""Authorization codes (RFC 6749 §4.1.2, §10.5): issued by ``/authorize``, redeemed once at ``/token``.

A code is 32 random bytes; only its SHA-256 digest is stored. It lives :data:`CODE_LIFETIME`
and is bound to the client, the redirect URI, the PKCE challenge, the nonce, the granted
scopes and the session's ``auth_time``. Redemption is one conditional UPDATE (``used_at`` still
NULL, not expired), so two concurrent requests cannot both redeem a code. A code presented
again after that is a replay: the access token it became is revoked (RFC 6749 §4.1.2).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, event, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from ostiary import ids
from ostiary.domain.tokens import revoked_jtis
from ostiary.domain.tokens.access_tokens import MintedId
from ostiary.domain.tokens.refresh_tokens import revoke_family
from ostiary.store.models import RevokedToken
from ostiary.store.models.codes import AuthorizationCode
from ostiary.store.statements import insert_ignoring_duplicates
from ostiary.timeutil import utcnow

CODE_LIFETIME: Final = timedelta(seconds=60)
RETENTION: Final = timedelta(days=1)
"""How long a redeemed or expired code is kept, so that a late replay still revokes its tokens."""
MAX_CODE_LENGTH: Final = 200
_PENDING: Final = "ostiary.codes.replayed"


def digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CodeGrant:
    """What a code stands for, fixed when it is issued."""

    org_id: str
    server_id: str
    client_id: str
    user_id: str
    redirect_uri: str
    scopes: Sequence[str]
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    amr: Sequence[str]
    access_token_lifetime: int
    refresh_token_lifetime_minutes: int | None
    refresh_token_window_minutes: int | None


async def issue_code(session: AsyncSession, grant: CodeGrant) -> str:
    """A new code for ``grant``; the org's long-expired codes are purged on the way."""
    now = utcnow()
    await session.execute(
        delete(AuthorizationCode).where(
            AuthorizationCode.org_id == grant.org_id, AuthorizationCode.expires_at <= now - RETENTION
        )
    )
    code = ids.random_token(32)
    session.add(
        AuthorizationCode(
            code_hash=digest(code),
            org_id=grant.org_id,
            server_id=grant.server_id,
            client_id=grant.client_id,
            user_id=grant.user_id,
            redirect_uri=grant.redirect_uri,
            scopes=list(grant.scopes),
            nonce=grant.nonce,
            code_challenge=grant.code_challenge,
            code_challenge_method=grant.code_challenge_method,
            auth_time=grant.auth_time,
            amr=list(grant.amr),
            access_token_lifetime=grant.access_token_lifetime,
            refresh_token_lifetime_minutes=grant.refresh_token_lifetime_minutes,
            refresh_token_window_minutes=grant.refresh_token_window_minutes,
            created=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    await session.flush()
    return code


async def find_code(
    session: AsyncSession, org_id: str, server_id: str, code: str
) -> AuthorizationCode | None:
    """The code's row at this server (used, expired or not), or None."""
    if not code or len(code) > MAX_CODE_LENGTH:
        return None
    row = await session.get(AuthorizationCode, digest(code))
    if row is None or row.org_id != org_id or row.server_id != server_id:
        return None
    return row


def is_expired(row: AuthorizationCode, now: datetime | None = None) -> bool:
    return row.expires_at <= (now or utcnow())


async def mark_used(session: AsyncSession, row: AuthorizationCode) -> bool:
    """Redeem the code: True for the one request that wins, False if it was used meanwhile."""
    now = utcnow()
    result = await session.execute(
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
        row.used_at = now
    return won


async def remember_tokens(
    session: AsyncSession,
    row: AuthorizationCode,
    access_token: MintedId | None,
    refresh_family_id: str | None,
) -> None:
    """Note which tokens the code became, for :func:`revoke_replayed`."""
    if access_token is not None:
        row.access_token_jti = access_token.jti
        row.access_token_expires_at = access_token.expires_at
    row.refresh_token_family_id = refresh_family_id
    await session.flush()


async def revoke_replayed(session: AsyncSession, row: AuthorizationCode) -> None:
    """A used code came back: revoke the access token (and refresh tokens) issued from it.

    The revocation is made durable: it is applied again just before ``session`` commits, so the
    token endpoint rolling back the failed grant's savepoint does not undo it.
    """
    if row.access_token_jti is not None and row.access_token_expires_at is not None:
        exp = int(row.access_token_expires_at.timestamp())
        await revoked_jtis.revoke_jti(session, row.org_id, row.access_token_jti, exp)
        _revoke_on_commit(session, row.org_id, row.access_token_jti, row.access_token_expires_at)
    if row.refresh_token_family_id is not None:
        await revoke_family(session, row.org_id, row.refresh_token_family_id, durable=True)


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
