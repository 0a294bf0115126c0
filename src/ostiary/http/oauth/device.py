"""``/v1/device/authorize`` (RFC 8628 §3.1-3.2): a device without a browser asks for codes.

The client authenticates as at ``/v1/token`` (a public native app with ``client_id`` alone),
must have the ``urn:ietf:params:oauth:grant-type:device_code`` grant type, and asks for scopes
that exist on the server. The answer (200, as Okta's) carries the ``device_code`` to poll
``/v1/token`` with, the ``user_code`` (``XXXX-XXXX``) and the hosted page where a person
enters it (``{org}/activate``, :mod:`ostiary.http.oauth.activate`), ``expires_in`` and the
polling ``interval``. Rules: :mod:`ostiary.domain.tokens.device_codes`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ostiary.domain.clients.authentication import AuthenticatedClient
from ostiary.domain.oauth_errors import OAuthError
from ostiary.domain.tokens import device_codes
from ostiary.domain.tokens.grants.base import check_grant_type_allowed, requested_scopes
from ostiary.domain.tokens.user_scopes import check_requested_scopes
from ostiary.http.oauth.client_auth import with_authenticated_client
from ostiary.http.oauth.params import CLIENT_CREDENTIALS, no_store_headers, oauth_params
from ostiary.http.oauth.server_context import resolve_server

ACTIVATE_PATH = "/activate"


async def device_authorize(request: Request) -> Response:
    params = await oauth_params(request, not_in_query=CLIENT_CREDENTIALS)
    ctx = await resolve_server(request)

    async def start(session: AsyncSession, caller: AuthenticatedClient) -> dict[str, Any]:
        check_grant_type_allowed(caller.app, device_codes.GRANT_TYPE)
        requested = requested_scopes(params)
        if not requested:
            raise OAuthError("invalid_scope", "No scopes were requested.")
        scopes = await check_requested_scopes(session, ctx.org.id, ctx.server, requested)
        device_code, row = await device_codes.start(
            session,
            org_id=ctx.org.id,
            server_id=ctx.server.id,
            client_id=caller.client_id,
            scopes=list(scopes),
        )
        user_code = device_codes.display(row.user_code)
        verification_uri = ctx.org_url + ACTIVATE_PATH
        return {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification_uri,
            "verification_uri_complete": f"{verification_uri}?{urlencode({'user_code': user_code})}",
            "expires_in": device_codes.LIFETIME,
            "interval": device_codes.INTERVAL,
        }

    body = await with_authenticated_client(request, ctx, params, "device/authorize", start)
    return JSONResponse(body, headers=no_store_headers())
