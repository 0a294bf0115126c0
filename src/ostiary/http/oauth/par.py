"""``/v1/par``: pushed authorization requests (RFC 9126).

The client authenticates as at ``/v1/token`` (same methods; an assertion's ``aud`` is this
endpoint's URL), then its authorization parameters go through the same checks as
``/v1/authorize`` (:func:`~ostiary.http.oauth.authorize.endpoint.check_request`: redirect URI,
response type and mode, ``state``, scopes, PKCE, prompt). A valid request is kept
(:mod:`ostiary.domain.tokens.pushed_requests`) and answered with its ``request_uri`` and
``expires_in``, status ``200`` as Okta's spec (``oauth-subset.yaml``) gives it, where RFC 9126
§2.2 says ``201``: the spec decides wire details here. The browser then goes to
``/v1/authorize?client_id=…&request_uri=…``.
Refusals are OAuth errors in JSON (400), never redirects. ``request_uri`` may not itself be
pushed (§2.1), and ``client_id``, when sent, must be the authenticated client's.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ostiary.domain.clients.authentication import AuthenticatedClient
from ostiary.domain.oauth_errors import OAuthError, invalid_request
from ostiary.domain.tokens import pushed_requests
from ostiary.http.oauth.authorize.endpoint import check_request
from ostiary.http.oauth.authorize.errors import ErrorPage
from ostiary.http.oauth.authorize.request import trusted_request
from ostiary.http.oauth.client_auth import with_authenticated_client
from ostiary.http.oauth.params import CLIENT_CREDENTIALS, no_store_headers, oauth_params
from ostiary.http.oauth.server_context import ServerContext, resolve_server

CLIENT_AUTHENTICATION = frozenset({"client_secret", "client_assertion", "client_assertion_type"})


async def par(request: Request) -> Response:
    params = await oauth_params(request, not_in_query=CLIENT_CREDENTIALS)
    ctx = await resolve_server(request)

    async def push(session: AsyncSession, caller: AuthenticatedClient) -> str:
        return await _push(request, ctx, params, session, caller)

    request_uri = await with_authenticated_client(request, ctx, params, "par", push)
    return JSONResponse(
        {"request_uri": request_uri, "expires_in": pushed_requests.LIFETIME},
        status_code=200,
        headers=no_store_headers(),
    )


async def _push(
    request: Request,
    ctx: ServerContext,
    params: dict[str, str],
    session: AsyncSession,
    caller: AuthenticatedClient,
) -> str:
    if "request_uri" in params:
        raise invalid_request("The 'request_uri' parameter can't be pushed.")
    if params.get("client_id", caller.client_id) != caller.client_id:
        raise invalid_request("The 'client_id' parameter must be the authenticated client's.")
    pushed = {k: v for k, v in params.items() if k not in CLIENT_AUTHENTICATION}
    pushed["client_id"] = caller.client_id
    try:
        authz = trusted_request(request, pushed, ctx, caller.app)
    except ErrorPage as exc:
        raise OAuthError(exc.error, exc.description, 400) from None
    await check_request(authz, session)
    return await pushed_requests.push(
        session, org_id=ctx.org.id, server_id=ctx.server.id, client_id=caller.client_id, params=pushed
    )
