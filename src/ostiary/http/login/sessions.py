"""The Sessions API.

- ``POST /api/v1/sessions`` ``{"sessionToken": ...}``: redeem a one-time token for a session;
  200 with the Session (Okta's OpenAPI maps 200) and ``Set-Cookie: sid=...``. No API token.
- ``GET``/``DELETE /api/v1/sessions/me`` and ``POST /api/v1/sessions/me/lifecycle/refresh``: the
  browser's own session by its ``sid`` cookie, with CORS (credentials) for trusted origins.
- ``GET``/``DELETE /api/v1/sessions/{id}``, ``POST .../lifecycle/refresh`` (okta.sessions.*) and
  ``DELETE /api/v1/users/{userId}/sessions`` (okta.users.manage): administration.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.context import Tx
from ostiary.domain.directory import authn as authn_domain
from ostiary.domain.directory import directory_json
from ostiary.domain.directory import sessions as sessions_domain
from ostiary.domain.tokens import refresh_token_admin
from ostiary.http.auth import client_info, management_tx
from ostiary.http.cors import origin_allowed, preflight_endpoint, with_cors
from ostiary.http.errors import OktaHTTPError
from ostiary.http.management.common import base_url, path_param
from ostiary.http.requests import bool_param, json_object
from ostiary.http.responses import json_response, no_content
from ostiary.http.runtime import runtime

SESSION_COOKIE = "sid"
READ, MANAGE = "okta.sessions.read", "okta.sessions.manage"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


# --- the cookie --------------------------------------------------------------------------------


def set_session_cookie(response: Response, request: Request, secret: str) -> None:
    """``sid``: HttpOnly, SameSite=Lax, Path=/, Secure when the request came over https. A
    browser-session cookie: the server decides when the session expires."""
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=request.url.scheme == "https", httponly=True, samesite="lax"
    )


def session_secret(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def max_session_lifetime(request: Request) -> timedelta | None:
    """The absolute session cap from ``OSTIARY_SESSION_MAX_LIFETIME_MINUTES`` (0: none)."""
    minutes = runtime(request).settings.session_max_lifetime_minutes
    return timedelta(minutes=minutes) if minutes > 0 else None


# --- JSON --------------------------------------------------------------------------------------


def _me_not_found() -> OktaHTTPError:
    return OktaHTTPError(404, "E0000007", "Not found: Resource not found: me (Session)")


async def end_replaced_session(tx: Tx, request: Request) -> None:
    """A new sign-in in this browser (``/login``, a redeemed ``sessionToken``) replaces its
    ``sid`` cookie: end the session the old cookie named, of this user or another one. A browser
    holds one session; the replaced one would otherwise live on, unseen, until it expires."""
    previous = await sessions_domain.find_by_secret(tx, session_secret(request))
    if previous is not None:
        await sessions_domain.end(sessions_domain.as_owner(tx, previous), previous)


# --- create from a session token ---------------------------------------------------------------


async def create_session(request: Request) -> Response:
    """A browser may call this only from this server's origin or a trusted origin (login CSRF:
    see :mod:`ostiary.http.login.handoff`); servers send no ``Origin``. The JSON content type
    that :func:`json_object` requires makes a cross-origin browser call preflighted."""
    if not await origin_allowed(request):
        raise OktaHTTPError(403, "E0000006", "You do not have permission to perform the requested action")
    body = await json_object(request)
    token = body.get("sessionToken")
    if not isinstance(token, str) or not token:
        raise OktaHTTPError(
            400,
            "E0000001",
            "Api validation failed: sessionToken",
            ["sessionToken: The field cannot be left blank"],
        )
    rt = runtime(request)
    org = await rt.org_for(request)
    async with rt.db.session() as session:
        tx = Tx(session=session, org=org, client=client_info(request))
        started = await sessions_domain.exchange_token(tx, token, max_lifetime=max_session_lifetime(request))
        if started is not None:
            await end_replaced_session(tx, request)
    if started is None:
        raise authn_domain.authentication_failed()
    response = json_response(
        directory_json.session_json(started.session, base_url(request)), headers=NO_STORE
    )
    set_session_cookie(response, request, started.secret)
    return response


# --- the browser's own session -----------------------------------------------------------------


async def get_me(request: Request) -> Response:
    rt = runtime(request)
    org = await rt.org_for(request)
    async with rt.db.session() as session:
        tx = Tx(session=session, org=org, client=client_info(request))
        row = await sessions_domain.find_by_secret(tx, session_secret(request))
        if row is None:
            raise _me_not_found()
        return json_response(directory_json.session_json(row, base_url(request), me=True), headers=NO_STORE)


async def refresh_me(request: Request) -> Response:
    if not await origin_allowed(request):
        raise _me_not_found()
    rt = runtime(request)
    org = await rt.org_for(request)
    async with rt.db.session() as session:
        tx = Tx(session=session, org=org, client=client_info(request))
        row = await sessions_domain.find_by_secret(tx, session_secret(request))
        if row is None:
            raise _me_not_found()
        row = await sessions_domain.refresh(tx, row, max_lifetime=max_session_lifetime(request))
        return json_response(directory_json.session_json(row, base_url(request), me=True), headers=NO_STORE)


async def delete_me(request: Request) -> Response:
    """Sign out (``signIn.session.close``). A cross-origin call from an origin that is not
    trusted cannot end the session even if the browser sent the cookie."""
    if not await origin_allowed(request):
        raise _me_not_found()
    rt = runtime(request)
    org = await rt.org_for(request)
    async with rt.db.session() as session:
        tx = Tx(session=session, org=org, client=client_info(request))
        row = await sessions_domain.find_by_secret(tx, session_secret(request))
        if row is None:
            raise _me_not_found()
        await sessions_domain.end(sessions_domain.as_owner(tx, row), row)
    response = no_content()
    clear_session_cookie(response, request)
    return response


# --- administration ----------------------------------------------------------------------------


async def get_session(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        row = await sessions_domain.get_session(tx, path_param(request, "sessionId"))
        return json_response(directory_json.session_json(row, base_url(request)))


async def refresh_session(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        row = await sessions_domain.refresh_by_id(
            tx, path_param(request, "sessionId"), max_lifetime=max_session_lifetime(request)
        )
        return json_response(directory_json.session_json(row, base_url(request)))


async def revoke_session(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await sessions_domain.end_by_id(tx, path_param(request, "sessionId"))
    return no_content()


async def revoke_user_sessions(request: Request) -> Response:
    """``oauthTokens=true`` also revokes the user's refresh tokens; ``forgetDevices`` is
    validated (there are no remembered factors to clear yet)."""
    oauth_tokens = bool_param(request, "oauthTokens", False)
    bool_param(request, "forgetDevices", True)
    async with management_tx(request, "okta.users.manage") as tx:
        await sessions_domain.end_user_sessions(tx, path_param(request, "userId"))
        if oauth_tokens:
            await refresh_token_admin.revoke_user_refresh_tokens(tx, path_param(request, "userId"))
    return no_content()


routes = [
    Route("/api/v1/sessions", create_session, methods=["POST"]),
    Route("/api/v1/sessions/me", with_cors(get_me), methods=["GET"]),
    Route("/api/v1/sessions/me", with_cors(delete_me), methods=["DELETE"]),
    Route("/api/v1/sessions/me", preflight_endpoint("GET", "DELETE"), methods=["OPTIONS"]),
    Route("/api/v1/sessions/me/lifecycle/refresh", with_cors(refresh_me), methods=["POST"]),
    Route("/api/v1/sessions/me/lifecycle/refresh", preflight_endpoint("POST"), methods=["OPTIONS"]),
    Route("/api/v1/sessions/{sessionId}", get_session, methods=["GET"]),
    Route("/api/v1/sessions/{sessionId}", revoke_session, methods=["DELETE"]),
    Route("/api/v1/sessions/{sessionId}/lifecycle/refresh", refresh_session, methods=["POST"]),
    Route("/api/v1/users/{userId}/sessions", revoke_user_sessions, methods=["DELETE"]),
]
