"""``/activate``: the hosted page of the device authorization grant (RFC 8628 §3.3).

A signed-in person (else: to the sign-in page and back) enters the ``user_code`` the device
shows — or arrives with it from ``verification_uri_complete`` — sees which app asks for which
scopes, and approves or denies. Approval needs what ``/authorize`` needs: an active user
assigned to the app, and an access policy rule of the server that allows the device grant
for them (else the device gets ``access_denied``). The form is protected as the consent form
is: a double-submit CSRF token (SameSite=Strict cookie = hidden field). Every code entered is
counted per signed-in user and per address (``http.signin_throttle.user_code_throttled``); over
the limit the page answers 429 with ``Retry-After`` and looks up no code (RFC 8628 §5.1).
"""

from __future__ import annotations

import hmac
import re
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ostiary import ids
from ostiary.domain.clients.client_cache import get_active_client
from ostiary.domain.context import Tx
from ostiary.domain.directory import sessions as sessions_domain
from ostiary.domain.oauth_errors import OAuthError
from ostiary.domain.tokens import device_codes
from ostiary.domain.tokens.user_context import SessionTokenUsers, load_user_context
from ostiary.domain.tokens.user_scopes import decide_user_scopes
from ostiary.http.auth import client_info
from ostiary.http.login.page import LOGIN_PATH
from ostiary.http.login.sessions import session_secret
from ostiary.http.oauth.pages import render_page
from ostiary.http.oauth.params import oauth_params
from ostiary.http.runtime import runtime
from ostiary.http.signin_throttle import rate_limit_headers, user_code_throttled

PATH = "/activate"
CSRF_FIELD = "csrfToken"
CSRF_COOKIE = "ostiary_activate_csrf"
INVALID_CODE = "That code is invalid, expired or already used. Check the code on your device."
TOO_MANY_CODES = "Too many codes entered. Wait a minute, then try again."
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def _cookie_name(request: Request) -> str:
    return f"__Host-{CSRF_COOKIE}" if request.url.scheme == "https" else CSRF_COOKIE


def _csrf_ok(request: Request, submitted: str | None) -> bool:
    expected = request.cookies.get(_cookie_name(request))
    if not expected or not submitted or not _TOKEN_SHAPE.fullmatch(expected):
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


async def activate(request: Request) -> Response:
    params = await oauth_params(request)
    typed = params.get("user_code", "")[:32]
    rt = runtime(request)
    org = await rt.org_for(request)
    async with rt.db.session() as session:
        tx = Tx(session=session, org=org, client=client_info(request))
        signed_in = await sessions_domain.signed_in_by_secret(tx, session_secret(request))
        if signed_in is None:
            back = f"{PATH}?{urlencode({'user_code': typed})}" if typed else PATH
            return RedirectResponse(f"{LOGIN_PATH}?{urlencode({'fromURI': back})}", status_code=302)
        if typed and (exhausted := await user_code_throttled(request, org, signed_in.user_id)):
            page = _page(request, signed_in.login, error=TOO_MANY_CODES, status=429)
            retry_after = max(1, exhausted.reset - int(rt.limiter.clock() if rt.limiter else 0))
            page.headers.update(rate_limit_headers(exhausted) | {"Retry-After": str(retry_after)})
            return page
        row = await device_codes.pending_by_user_code(session, org.id, typed) if typed else None
        client = await get_active_client(session, org.id, row.client_id) if row is not None else None
        if request.method == "GET":
            if typed and (row is None or client is None):
                return _page(request, signed_in.login, error=INVALID_CODE, user_code=typed, status=400)
            return _page(
                request, signed_in.login, user_code=typed, app=client, scopes=row.scopes if row else []
            )
        if not _csrf_ok(request, params.get(CSRF_FIELD)):
            return _page(request, signed_in.login, error="The form has expired. Try again.", status=403)
        if row is None or client is None:
            return _page(request, signed_in.login, error=INVALID_CODE, user_code=typed, status=400)
        if params.get("shown") != typed:  # approve only what the page showed: the app and scopes
            return _page(request, signed_in.login, user_code=typed, app=client, scopes=row.scopes)
        if params.get("decision") != "allow":
            device_codes.deny(row)
            return _page(request, signed_in.login, done="Access denied. You can close this window.")
        users = SessionTokenUsers(session)
        user = await users.user(org.id, signed_in.user_id)
        refusal = None
        if user is None or user.status != "ACTIVE" or not await users.is_assigned(org.id, client.id, user.id):
            refusal = "You are not assigned to this app."
        else:
            server = await rt.servers.get(org.id, row.server_id)
            context = await load_user_context(users, org.id, client, user)
            try:
                assert server is not None
                decision = await decide_user_scopes(
                    session,
                    org.id,
                    server,
                    client_id=client.id,
                    user_id=user.id,
                    group_ids=context.group_ids,
                    scopes=row.scopes,
                    grant_type=device_codes.GRANT_TYPE,
                )
            except OAuthError as exc:
                refusal = exc.description
            else:
                device_codes.approve(
                    row,
                    user_id=user.id,
                    auth_time=signed_in.auth_time,
                    amr=list(signed_in.amr or ["pwd"]),
                    decision=decision,
                )
        if refusal is not None:
            device_codes.deny(row)
            return _page(request, signed_in.login, error=refusal, status=403)
    return _page(request, signed_in.login, done="Device activated. You can return to your device.")


def _page(
    request: Request,
    login: str,
    *,
    user_code: str = "",
    app: object = None,
    scopes: list[str] | None = None,
    error: str | None = None,
    done: str | None = None,
    status: int = 200,
) -> Response:
    token = ids.random_token(32)
    response = render_page(
        "activate.html",
        status=status,
        login=login,
        user_code=user_code,
        app_label=getattr(app, "label", None),
        scopes=scopes or [],
        error=error,
        done=done,
        action=PATH,
        csrf_field=CSRF_FIELD,
        csrf_token=token,
    )
    response.set_cookie(
        _cookie_name(request),
        token,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response
