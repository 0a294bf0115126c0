"""``/v1/introspect`` (RFC 7662): an authenticated client learns about the tokens it may see
(``domain.tokens.introspection``) while their user and client may still use them; anything else,
unknown tokens included, is ``{"active": false}``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from ostiary.domain.clients.authentication import AuthenticatedClient
from ostiary.domain.tokens import refresh_tokens
from ostiary.domain.tokens.introspection import may_introspect_access_token, may_introspect_refresh_token
from ostiary.domain.tokens.verification import active_parties, verify_access_token
from ostiary.http.errors import OAuthHTTPError
from ostiary.http.oauth.client_auth import with_authenticated_client
from ostiary.http.oauth.params import CLIENT_CREDENTIALS, no_store_headers, oauth_params
from ostiary.http.oauth.servers import resolve_server
from ostiary.http.responses import json_response
from ostiary.http.runtime import runtime
from ostiary.jose.verify import TokenInvalid

INACTIVE = {"active": False}


def introspection_body(claims: dict[str, Any]) -> dict[str, Any]:
    scopes = claims.get("scp") or []
    body: dict[str, Any] = {
        "active": True,
        "token_type": "Bearer",
        "scope": " ".join(scopes) if isinstance(scopes, list) else str(scopes),
        "client_id": claims.get("cid"),
    }
    if "uid" in claims:
        body["username"] = claims.get("sub")
    for name in ("exp", "iat", "sub", "aud", "iss", "jti", "uid"):
        if name in claims:
            body[name] = claims[name]
    return body


async def introspect(request: Request) -> Response:
    # Okta's public demo sends ``token`` in the query string: only client credentials are refused there.
    params = await oauth_params(request, not_in_query=CLIENT_CREDENTIALS)
    ctx = await resolve_server(request)
    rt = runtime(request)

    async def answer(session: AsyncSession, caller: AuthenticatedClient) -> dict[str, Any]:
        token = params.get("token")
        if not token:
            raise OAuthHTTPError(400, "invalid_request", "The `token` parameter is required.")
        hint = params.get("token_type_hint")
        if hint and hint not in ("access_token", "refresh_token", "id_token", "device_secret"):
            raise OAuthHTTPError(400, "unsupported_token_type", "The token_type_hint is not supported.")
        for introspector in INTROSPECTORS:
            found = await introspector(rt, session, ctx, caller, token)
            if found is not None:
                return found
        return INACTIVE

    body = await with_authenticated_client(request, ctx, params, "introspect", answer)
    return json_response(body, headers=no_store_headers())


async def introspect_access_token(
    rt: Any, session: AsyncSession, ctx: Any, caller: AuthenticatedClient, token: str
) -> dict[str, Any] | None:
    """A JWT access token of this server; inactive when the caller may not see it or its user
    or client may no longer use it."""
    try:
        claims = await verify_access_token(
            rt.rings,
            session,
            org_id=ctx.org.id,
            server_id=ctx.server.id,
            issuer=ctx.issuer,
            audience=None,
            token=token,
        )
    except TokenInvalid:
        return None
    if not may_introspect_access_token(caller, claims.get("cid"), claims.get("aud")):
        return INACTIVE
    if await active_parties(session, ctx.org.id, claims) is None:
        return INACTIVE
    return introspection_body(claims)


async def introspect_refresh_token(
    rt: Any, session: AsyncSession, ctx: Any, caller: AuthenticatedClient, token: str
) -> dict[str, Any] | None:
    """A current refresh token of this server, asked by its own client, whose user and client may
    still use it. ``exp`` is when it stops working if unused (the sooner of its absolute and idle
    expiry); absent when neither."""
    found = await refresh_tokens.active_token(session, ctx.org.id, ctx.server.id, token)
    if found is None:
        return None
    row, user = found
    if not may_introspect_refresh_token(caller, row.client_id):
        return INACTIVE
    body: dict[str, Any] = {
        "active": True,
        "token_type": "Bearer",
        "scope": " ".join(row.scopes),
        "client_id": row.client_id,
        "username": user.login,
    }
    expiry = refresh_tokens.expiry_of(row)
    if expiry is not None:
        body["exp"] = int(expiry.timestamp())
    body.update(iat=int(row.created.timestamp()), sub=user.login, uid=user.id)
    return body


# Each kind of token this server can introspect.
INTROSPECTORS = [introspect_access_token, introspect_refresh_token]
