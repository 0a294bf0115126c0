"""``/v1/userinfo`` (OpenID Connect Core §5.3): the signed-in user's claims for a Bearer access token.

The token must be a valid, unrevoked user token of this server with ``openid``; the claims are
those its scopes release (``profile``, ``email``, ``address``, ``phone``), the server's IDENTITY
claims for those scopes, and ``groups`` for the org server's ``groups`` scope. A missing or bad
token is 401, a token without ``openid`` 403, each with ``WWW-Authenticate: Bearer`` (RFC 6750 §3).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from ostiary.domain.authz import server_lookup as servers_domain
from ostiary.domain.authz.policy_sets import IDENTITY, policy_set
from ostiary.domain.tokens.custom_claims import evaluate_claims
from ostiary.domain.tokens.oidc_claims import claims_for_scopes
from ostiary.domain.tokens.user_context import load_user_context
from ostiary.domain.tokens.user_context_cache import token_users
from ostiary.domain.tokens.verification import active_parties, verify_access_token
from ostiary.http.errors import OAuthHTTPError
from ostiary.http.oauth.params import no_store_headers
from ostiary.http.oauth.server_context import ServerContext, resolve_server
from ostiary.http.responses import json_response
from ostiary.http.runtime import runtime
from ostiary.jose.verify import TokenInvalid

INVALID_TOKEN = "The access token is invalid."
MISSING_OPENID = "The access token must provide access to at least the 'openid' scope."


def _unauthorized(error: str = "invalid_token", description: str = INVALID_TOKEN) -> OAuthHTTPError:
    challenge = f'Bearer error="{error}", error_description="{description}"'
    return OAuthHTTPError(401, error, description, {"WWW-Authenticate": challenge})


def _bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise OAuthHTTPError(
            401,
            "invalid_request",
            "The access token is missing.",
            {"WWW-Authenticate": 'Bearer realm="userinfo"'},
        )
    return token.strip()


async def userinfo(request: Request) -> Response:
    token = _bearer_token(request)
    ctx = await resolve_server(request)
    rt = runtime(request)
    async with rt.db.session() as session:
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
            raise _unauthorized() from None
        scopes = [s for s in claims.get("scp") or [] if isinstance(s, str)]
        if "openid" not in scopes:
            challenge = f'Bearer error="insufficient_scope", error_description="{MISSING_OPENID}"'
            raise OAuthHTTPError(403, "insufficient_scope", MISSING_OPENID, {"WWW-Authenticate": challenge})
        body = await _user_claims(session, ctx, claims, scopes)
    return json_response(body, headers=no_store_headers())


async def _user_claims(
    session: AsyncSession, ctx: ServerContext, claims: dict[str, Any], scopes: list[str]
) -> dict[str, Any]:
    parties = await active_parties(session, ctx.org.id, claims)
    if parties is None or parties.user is None:
        raise _unauthorized()
    client, user = parties.client, parties.user
    body: dict[str, Any] = {"sub": user.id, **claims_for_scopes(user, scopes)}
    context = await load_user_context(token_users(session), ctx.org.id, client, user)
    if ctx.server.kind == servers_domain.ORG:
        if "groups" in scopes:
            body["groups"] = [group.name for group in context.eval.groups]
        return body
    identity = (await policy_set(session, ctx.org.id, ctx.server.id)).claims_for(IDENTITY, scopes)
    for name, value in evaluate_claims(identity, context.eval).items():
        body.setdefault(name, value)
    return body
