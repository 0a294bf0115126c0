"""``/v1/logout`` (OpenID Connect RP-Initiated Logout): end the browser's session and go back.

``id_token_hint`` must be an ID token this server issued (expired is fine) to an active app;
``post_logout_redirect_uri``, when given, must be one of that app's registered logout URIs,
compared exactly. Anything else is an error page — never a redirect. The session ends only if
it belongs to the token's subject; then the browser goes to ``post_logout_redirect_uri`` (with
``state``) or to the sign-in page.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ostiary.domain.clients.client_cache import get_active_client
from ostiary.domain.context import Actor, Tx
from ostiary.domain.directory import sessions as sessions_domain
from ostiary.http.auth import client_info
from ostiary.http.errors import OAuthHTTPError
from ostiary.http.login.page import LOGIN_PATH
from ostiary.http.login.sessions import clear_session_cookie, session_secret
from ostiary.http.oauth.pages import error_page
from ostiary.http.oauth.params import oauth_params
from ostiary.http.oauth.server_context import resolve_server
from ostiary.http.runtime import runtime
from ostiary.jose.verify import TokenInvalid, verify_jwt

HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache", "Referrer-Policy": "no-referrer"}
BAD_HINT = "The 'id_token_hint' parameter is not a valid ID token of this authorization server."
BAD_REDIRECT = (
    "The 'post_logout_redirect_uri' parameter must be a Logout redirect URI in the client app settings."
)


async def logout(request: Request) -> Response:
    try:
        params = await oauth_params(request)
        ctx = await resolve_server(request)
    except OAuthHTTPError as exc:
        return error_page(exc.error, exc.description, status=exc.status)
    hint = params.get("id_token_hint")
    if not hint:
        return error_page("invalid_request", "The 'id_token_hint' parameter is required.")
    rt = runtime(request)
    ring = await rt.rings.ring(ctx.org.id, ctx.server.id)
    claims = _id_token_claims(hint, ring.keyset, ctx.issuer)
    if claims is None:
        return error_page("invalid_request", BAD_HINT)
    async with rt.db.session() as session:
        client = await get_active_client(session, ctx.org.id, str(claims.get("aud")))
        if client is None:
            return error_page("invalid_client", BAD_HINT)
        target = params.get("post_logout_redirect_uri")
        if target is not None and target not in client.post_logout_redirect_uris:
            return error_page("invalid_request", BAD_REDIRECT)
        tx = Tx(session=session, org=ctx.org, client=client_info(request))
        ended = await _end_session_of(tx, request, str(claims.get("sub")))
    location = _with_state(target, params.get("state")) if target else LOGIN_PATH
    response = RedirectResponse(location, status_code=302, headers=HEADERS)
    if ended:
        clear_session_cookie(response, request)
    return response


def _id_token_claims(token: str, keyset: Any, issuer: str) -> dict[str, Any] | None:
    """The claims of an ID token of this server, signature and issuer checked, expiry not."""
    try:
        claims = verify_jwt(token, keyset, issuer=issuer, audience=None, leeway=10**9)
    except TokenInvalid:
        return None
    jti, aud = claims.get("jti"), claims.get("aud")
    if not isinstance(jti, str) or not jti.startswith("ID.") or not isinstance(aud, str):
        return None
    return claims


async def _end_session_of(tx: Tx, request: Request, subject: str) -> bool:
    current = await sessions_domain.find_by_secret(tx, session_secret(request))
    if current is None or current.user_id != subject:
        return False
    owner = Actor(current.user_id, "User", current.login, current.login)
    await sessions_domain.end(dataclasses.replace(tx, actor=owner), current)
    return True


def _with_state(uri: str, state: str | None) -> str:
    if not state:
        return uri
    separator = "&" if "?" in uri else "?"
    return f"{uri}{separator}{urlencode({'state': state})}"
