"""``/v1/revoke`` (RFC 7009): 200 whether or not the token was known; only its own client may revoke it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from ostiary.domain.clients.authentication import AuthenticatedClient
from ostiary.domain.tokens import refresh_tokens, revocation
from ostiary.http.errors import OAuthHTTPError
from ostiary.http.oauth.client_auth import with_authenticated_client
from ostiary.http.oauth.params import CLIENT_CREDENTIALS, no_store_headers, oauth_params
from ostiary.http.oauth.servers import resolve_server
from ostiary.http.runtime import runtime
from ostiary.jose.verify import TokenInvalid, verify_jwt

REVOKE_NOT_IN_QUERY = CLIENT_CREDENTIALS | {"token"}


async def revoke(request: Request) -> Response:
    params = await oauth_params(request, not_in_query=REVOKE_NOT_IN_QUERY)
    ctx = await resolve_server(request)
    rt = runtime(request)
    ring = await rt.rings.ring(ctx.org.id, ctx.server.id)

    async def run(session: AsyncSession, caller: AuthenticatedClient) -> None:
        token = params.get("token")
        if not token:
            raise OAuthHTTPError(400, "invalid_request", "The `token` parameter is required.")
        for revoker in REVOKERS:
            if await revoker(rt, session, ctx, ring, caller.app, token):
                break

    await with_authenticated_client(request, ctx, params, "revoke", run)
    return Response(status_code=200, headers=no_store_headers())


async def revoke_access_token(rt: Any, session: Any, ctx: Any, ring: Any, client: Any, token: str) -> bool:
    """Revoke a JWT access token of this server (expired or not); False when it is not one."""
    try:
        claims = verify_jwt(token, ring.keyset, issuer=ctx.issuer, audience=None, leeway=10**9)
    except TokenInvalid:
        return False
    if claims.get("cid") != client.id:
        raise OAuthHTTPError(400, "unauthorized_client", "The token was not issued to the requesting client.")
    jti, exp = claims.get("jti"), claims.get("exp")
    if isinstance(jti, str) and isinstance(exp, int):
        await revocation.revoke_jti(session, ctx.org.id, jti, exp)
    return True


async def revoke_refresh_token(rt: Any, session: Any, ctx: Any, ring: Any, client: Any, token: str) -> bool:
    """Revoke a refresh token of this server and, with it, its whole family (every token
    rotated from the same grant); False when it is not one."""
    row = await refresh_tokens.find_refresh_token(session, ctx.org.id, token)
    if row is None or row.server_id != ctx.server.id:
        return False
    if row.client_id != client.id:
        raise OAuthHTTPError(400, "unauthorized_client", "The token was not issued to the requesting client.")
    await refresh_tokens.revoke_family(session, row.org_id, row.family_id)
    return True


# Each kind of token this server can revoke.
REVOKERS = [revoke_access_token, revoke_refresh_token]
