"""``/v1/introspect`` (RFC 7662): authenticate the client, then the domain's answer
(:mod:`ostiary.domain.tokens.introspection`) as no-store JSON."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from ostiary.domain.clients.authentication import AuthenticatedClient
from ostiary.domain.tokens import introspection
from ostiary.domain.tokens.verification import TokenServer
from ostiary.http.oauth.client_auth import with_authenticated_client
from ostiary.http.oauth.params import CLIENT_CREDENTIALS, no_store_headers, oauth_params
from ostiary.http.oauth.server_context import resolve_server
from ostiary.http.responses import json_response
from ostiary.http.runtime import runtime


async def introspect(request: Request) -> Response:
    # Okta's public demo sends ``token`` in the query string: only client credentials are refused there.
    params = await oauth_params(request, not_in_query=CLIENT_CREDENTIALS)
    ctx = await resolve_server(request)
    rings = runtime(request).rings
    server = TokenServer(ctx.org.id, ctx.server.id, ctx.issuer)

    async def answer(session: AsyncSession, caller: AuthenticatedClient) -> dict[str, Any]:
        token, hint = params.get("token"), params.get("token_type_hint")
        return await introspection.introspect(session, rings, server, caller, token, hint)

    body = await with_authenticated_client(request, ctx, params, "introspect", answer)
    return json_response(body, headers=no_store_headers())
