"""``/v1/revoke`` (RFC 7009): authenticate the client, then the domain revokes
(:mod:`ostiary.domain.tokens.revocation`); 200 whether or not the token was known."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from ostiary.domain.clients.authentication import AuthenticatedClient
from ostiary.domain.tokens import revocation
from ostiary.domain.tokens.verification import TokenServer
from ostiary.http.oauth.client_auth import with_authenticated_client
from ostiary.http.oauth.params import CLIENT_CREDENTIALS, no_store_headers, oauth_params
from ostiary.http.oauth.server_context import resolve_server
from ostiary.http.runtime import runtime

REVOKE_NOT_IN_QUERY = CLIENT_CREDENTIALS | {"token"}


async def revoke(request: Request) -> Response:
    params = await oauth_params(request, not_in_query=REVOKE_NOT_IN_QUERY)
    ctx = await resolve_server(request)
    ring = await runtime(request).rings.ring(ctx.org.id, ctx.server.id)
    server = TokenServer(ctx.org.id, ctx.server.id, ctx.issuer)

    async def run(session: AsyncSession, caller: AuthenticatedClient) -> None:
        await revocation.revoke(session, server, ring.keyset, caller.client_id, params.get("token"))

    await with_authenticated_client(request, ctx, params, "revoke", run)
    return Response(status_code=200, headers=no_store_headers())
