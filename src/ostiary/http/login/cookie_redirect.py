"""``GET /login/sessionCookieRedirect?token=…&redirectUrl=…``: Okta's documented handoff of a
session token to the browser (okta-auth-js ``session.setCookieAndRedirect``): redeem the token,
set the ``sid`` cookie, and send the browser on to ``redirectUrl``.

``redirectUrl`` must be a relative path on this server, this server's origin, or an ACTIVE
trusted origin with the REDIRECT scope (no open redirect); anything else is an error page and
the token stays unused. The token is redeemed only when the navigation came from the app, a
trusted origin or this server (:mod:`ostiary.http.login.handoff`: login CSRF); otherwise, or
when the token is not valid, the browser still goes to ``redirectUrl``, without a session.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ostiary.domain.context import Tx
from ostiary.domain.directory import sessions as sessions_domain
from ostiary.domain.directory import trusted_origins
from ostiary.domain.orgs import Org
from ostiary.http.auth import client_info
from ostiary.http.login.handoff import browser_may_redeem, own_origin
from ostiary.http.login.page import PAGE_HEADERS, safe_next
from ostiary.http.login.sessions import max_session_lifetime, set_session_cookie
from ostiary.http.oauth.pages import error_page
from ostiary.http.runtime import runtime

PATH = "/login/sessionCookieRedirect"
MAX_URL_LENGTH = 2048


async def _allowed_target(request: Request, org: Org, url: str | None) -> str | None:
    """``url`` if the browser may be sent there, else None."""
    if not url or len(url) > MAX_URL_LENGTH:
        return None
    if safe_next(url) is not None:
        return url
    origin = trusted_origins.origin_of(url)
    if origin is None or any(ord(c) < 0x21 or c == "\\" for c in url):
        return None
    if origin == own_origin(request):
        return url
    if await trusted_origins.is_trusted(runtime(request).db, org.id, origin, trusted_origins.REDIRECT):
        return url
    return None


async def session_cookie_redirect(request: Request) -> Response:
    rt = runtime(request)
    org = await rt.org_for(request)
    target = await _allowed_target(request, org, request.query_params.get("redirectUrl"))
    if target is None:
        return error_page("invalid_request", "The redirectUrl is not a trusted origin.")
    response = RedirectResponse(target, status_code=302, headers=PAGE_HEADERS)
    token = request.query_params.get("token")
    if not token or not await browser_may_redeem(
        request, org.id, app_origin=trusted_origins.origin_of(target)
    ):
        return response
    async with rt.db.session() as session:
        tx = Tx(session=session, org=org, client=client_info(request))
        started = await sessions_domain.exchange_token(tx, token, max_lifetime=max_session_lifetime(request))
    if started is not None:
        set_session_cookie(response, request, started.secret)
    return response


routes = [Route(PATH, session_cookie_redirect, methods=["GET"])]
