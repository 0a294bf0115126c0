"""Verifying tokens this server minted: signature by a published key of the server (alg pinned),
exact issuer, audience, expiry, not revoked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.domain.authz.keys import KeyRings
from ostiary.domain.tokens import revocation
from ostiary.jose.verify import TokenInvalid, verify_jwt


async def verify_access_token(
    rings: KeyRings,
    session: AsyncSession,
    *,
    org_id: str,
    server_id: str,
    issuer: str,
    audience: str | Sequence[str] | None,
    token: str,
    now: float | None = None,
) -> dict[str, Any]:
    """The claims of a valid, unrevoked token of this server; ``TokenInvalid`` otherwise.

    Only public keys are used. An unknown ``kid`` re-reads them once (another process may have
    rotated), at most once per interval per server: forged kids cost no reload.
    """
    keyset = await rings.verification_keys(org_id, server_id)
    try:
        claims = verify_jwt(token, keyset, issuer=issuer, audience=audience, leeway=0, now=now)
    except TokenInvalid as exc:
        if exc.reason != "unknown_kid":
            raise
        refreshed = await rings.refresh_verification_keys(org_id, server_id)
        if refreshed is keyset:
            raise
        claims = verify_jwt(token, refreshed, issuer=issuer, audience=audience, leeway=0, now=now)
    jti = claims.get("jti")
    if not isinstance(jti, str) or await revocation.is_revoked(session, jti):
        raise TokenInvalid("revoked", "the token has been revoked")
    return claims
