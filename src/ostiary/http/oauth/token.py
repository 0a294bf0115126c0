"""``/v1/token`` (RFC 6749 §3.2): authenticate the client, run the grant, answer no-store JSON.

Plain Starlette on purpose: this is the hot path. Grants live in ``domain/tokens/grants``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ostiary.domain.tokens.grants import GRANTS
from ostiary.domain.tokens.grants.base import GrantContext, GrantError
from ostiary.http.errors import OAuthHTTPError
from ostiary.http.oauth.client_auth import authenticated_client
from ostiary.http.oauth.params import no_store_headers, oauth_params
from ostiary.http.oauth.servers import resolve_server
from ostiary.http.responses import json_response
from ostiary.http.runtime import runtime

ASSERTION_METHODS = frozenset({"private_key_jwt", "client_secret_jwt"})


async def token(request: Request) -> Response:
    params = await oauth_params(request)
    grant_type = params.get("grant_type")
    if not grant_type:
        raise OAuthHTTPError(400, "invalid_request", "The `grant_type` parameter is required.")
    grant = GRANTS.get(grant_type)
    ctx = await resolve_server(request)
    rt = runtime(request)
    ring = await rt.rings.ring(ctx.org.id, ctx.server.id)  # before any write: keys commit on their own
    failure: OAuthHTTPError | None = None
    async with rt.db.lazy_session() as session:
        client_auth = await authenticated_client(request, session, ctx, params, "token")
        if grant is None:
            failure = OAuthHTTPError(
                400, "unsupported_grant_type", "The grant type in the request isn't supported."
            )
        else:
            grant_ctx = GrantContext(
                session=session,
                org_id=ctx.org.id,
                org_url=ctx.org_url,
                server=ctx.server,
                issuer=ctx.issuer,
                audiences=ctx.audiences,
                client=client_auth.app,
                params=params,
                ring=ring,
                signer=rt.signer,
            )
            try:
                if client_auth.method in ASSERTION_METHODS:
                    # The assertion's jti is written: a failed grant undoes only its own writes.
                    async with session.begin_nested():
                        result = await grant(grant_ctx)
                else:
                    result = await grant(grant_ctx)
            except GrantError as exc:
                failure = OAuthHTTPError(exc.status, exc.error, exc.description)
    # Committed above even on failure: a used client_assertion jti must stay used.
    if failure is not None:
        raise failure
    return json_response(result.as_json(), headers=no_store_headers())
