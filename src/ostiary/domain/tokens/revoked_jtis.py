"""Revoked JWT access tokens, remembered by ``jti`` until they expire (the store behind RFC 7009
revocation, :mod:`ostiary.domain.tokens.revocation`, and behind a replayed code's tokens).

Every check of a token (introspection, userinfo) asks whether it was revoked. The answer "not
revoked" is cached per ``jti`` (``DomainCaches.unrevoked``) and every revocation, in any
process, clears that cache (``store.cache_events.announce_revocation``): a check of a token
seen before then takes no database round trip. Measured with ``bench/verify_paths.py``: the
query was half of an introspection's CPU.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.domain.caches import caches_of
from ostiary.store.cache_events import announce_revocation
from ostiary.store.models import RevokedToken
from ostiary.store.statements import insert_ignoring_duplicates
from ostiary.timeutil import utcnow


async def is_revoked(session: AsyncSession, jti: str) -> bool:
    unrevoked = caches_of(session).unrevoked
    if unrevoked.get(jti):
        return False
    generation = unrevoked.generation  # a revocation meanwhile forgets this answer
    found = await session.scalar(select(RevokedToken.jti).where(RevokedToken.jti == jti))
    if found is None:
        unrevoked.put(jti, True, generation)
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
    announce_revocation(session)


async def purge_expired(session: AsyncSession) -> int:
    result = await session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
