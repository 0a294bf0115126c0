"""Token revocation (RFC 7009): what a client may revoke, and what revoking does.

The token is tried as each kind this server issues, in order (``token_type_hint`` is only a
hint, §2.1): a JWT access token of this server, expired or not, is remembered by ``jti`` until
it expires (:mod:`.revoked_jtis`); a refresh token of this server ends with its whole family
(every token rotated from the same grant). Only the client the token was issued to may revoke
it (``unauthorized_client``, §2.1); a token of no kind is no error (§2.2: the answer is 200).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.domain.oauth_errors import OAuthError, invalid_request, unauthorized_client
from ostiary.domain.tokens import refresh_tokens, revoked_jtis
from ostiary.domain.tokens.verification import TokenServer, verify_ignoring_expiry
from ostiary.jose.verify import KeySet, TokenInvalid

NOT_YOURS: Final = "The token was not issued to the requesting client."
TOKEN_REQUIRED: Final = "The `token` parameter is required."


async def revoke(
    session: AsyncSession, server: TokenServer, keys: KeySet, client_id: str, token: str | None
) -> None:
    """Revoke ``token`` for ``client_id`` (authenticated by the caller); raises :class:`OAuthError`."""
    if not token:
        raise invalid_request(TOKEN_REQUIRED)
    for revoker in REVOKERS:
        if await revoker(session, server, keys, client_id, token):
            return


async def revoke_access_token(
    session: AsyncSession, server: TokenServer, keys: KeySet, client_id: str, token: str
) -> bool:
    """Revoke a JWT access token of this server (expired or not); False when it is not one."""
    try:
        claims = verify_ignoring_expiry(token, keys, issuer=server.issuer)
    except TokenInvalid:
        return False
    if claims.get("cid") != client_id:
        raise _not_yours()
    jti, exp = claims.get("jti"), claims.get("exp")
    if isinstance(jti, str) and isinstance(exp, int):
        await revoked_jtis.revoke_jti(session, server.org_id, jti, exp)
    return True


async def revoke_refresh_token(
    session: AsyncSession, server: TokenServer, keys: KeySet, client_id: str, token: str
) -> bool:
    """Revoke a refresh token of this server and its whole family; False when it is not one."""
    row = await refresh_tokens.find_refresh_token(session, server.org_id, token)
    if row is None or row.server_id != server.server_id:
        return False
    if row.client_id != client_id:
        raise _not_yours()
    await refresh_tokens.revoke_family(session, row.org_id, row.family_id)
    return True


def _not_yours() -> OAuthError:
    return unauthorized_client(NOT_YOURS)


Revoker = Callable[[AsyncSession, TokenServer, KeySet, str, str], Awaitable[bool]]

# Each kind of token this server can revoke, in the order tried.
REVOKERS: Final[tuple[Revoker, ...]] = (revoke_access_token, revoke_refresh_token)
