"""Revoked JWT access tokens, remembered by ``jti`` until they expire (the store behind RFC 7009
revocation, :mod:`ostiary.domain.tokens.revocation`, and behind a replayed code's tokens)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.store.models import RevokedToken
from ostiary.store.statements import insert_ignoring_duplicates
from ostiary.timeutil import utcnow


async def is_revoked(session: AsyncSession, jti: str) -> bool:
    found = await session.scalar(select(RevokedToken.jti).where(RevokedToken.jti == jti))
    return found is not None


async def revoke_jti(session: AsyncSession, org_id: str, jti: str, exp: int) -> None:
    """Idempotent: revoking twice, or a token that already expired, is not an error."""
    expires_at = datetime.fromtimestamp(exp, UTC)
    if expires_at <= utcnow():
        return
    await session.execute(
        insert_ignoring_duplicates(session, RevokedToken).values(
            jti=jti, org_id=org_id, expires_at=expires_at
        )
    )


async def purge_expired(session: AsyncSession) -> int:
    result = await session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
