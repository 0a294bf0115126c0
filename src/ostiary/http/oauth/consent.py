"""The consent page: ``GET``/``POST …/v1/authorize/consent``.

It receives the authorization request's parameters (the authorize endpoint sends the browser
here), checks the client and redirect URI again, and lists the scopes that need the user's
consent. "Allow" records the consent and goes back to ``/authorize``; "Don't allow" answers the
client with ``access_denied``. The form is protected like the sign-in form: a double-submit
CSRF token (a SameSite=Strict, HttpOnly cookie equal to a hidden field), and the session
cookie is SameSite=Lax, so a cross-site POST carries neither.
"""

from __future__ import annotations

import hmac
import re

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ostiary import ids
from ostiary.domain.authz.consents import ScopeToConsent, grant_consent
from ostiary.domain.context import Tx
from ostiary.domain.directory import sessions as sessions_domain
from ostiary.http.auth import client_info
from ostiary.http.login.sessions import session_secret
from ostiary.http.oauth.authorize.consent import pending_consent
from ostiary.http.oauth.authorize.errors import AuthorizeError, ErrorPage
from ostiary.http.oauth.authorize.prompt import CONSENT, LOGIN, parse_prompt
from ostiary.http.oauth.authorize.request import parse_request
from ostiary.http.oauth.authorize.respond import error_response, form_action_source
from ostiary.http.oauth.authorize.response_type import check_response_type, choose_response_mode
from ostiary.http.oauth.authorize.scopes import check_scopes
from ostiary.http.oauth.authorize.state import Authorization
from ostiary.http.oauth.authorize.urls import with_suffix
from ostiary.http.oauth.pages import csp, error_page, render_page
from ostiary.http.runtime import runtime

CSRF_FIELD = "csrfToken"
DECISION_FIELD = "decision"
CSRF_COOKIE = "ostiary_consent_csrf"
DENIED = "The resource owner denied the request."
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
_NOT_REQUEST_PARAMS = (CSRF_FIELD, DECISION_FIELD, "sessionToken", "max_age")


def _cookie_name(request: Request) -> str:
    return f"__Host-{CSRF_COOKIE}" if request.url.scheme == "https" else CSRF_COOKIE


def _csrf_ok(request: Request, submitted: str | None) -> bool:
    expected = request.cookies.get(_cookie_name(request))
    if not expected or not submitted or not _TOKEN_SHAPE.fullmatch(expected):
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


async def consent(request: Request) -> Response:
    try:
        authz = await parse_request(request)
    except ErrorPage as exc:
        return error_page(exc.error, exc.description, status=exc.status)
    submitted = authz.params.get(CSRF_FIELD)
    decision = authz.params.get(DECISION_FIELD)
    authz.params = {k: v for k, v in authz.params.items() if k not in _NOT_REQUEST_PARAMS}
    choose_response_mode(authz)
    back = with_suffix(authz, drop_prompts=(CONSENT, LOGIN))
    rt = runtime(request)
    async with rt.db.session() as session:
        tx = Tx(session=session, org=authz.org, client=client_info(request))
        authz.user_session = await sessions_domain.signed_in_by_secret(tx, session_secret(request))
        if authz.user_session is None:
            return RedirectResponse(with_suffix(authz), status_code=303)
        try:
            check_response_type(authz)
            await check_scopes(authz, session)
            parse_prompt(authz)
        except AuthorizeError as exc:
            return error_response(authz, exc)
        pending = await pending_consent(authz, session)
        if request.method == "GET":
            return _page(request, authz, pending) if pending else RedirectResponse(back, status_code=303)
        if not _csrf_ok(request, submitted):
            return error_page(
                "invalid_request", "The consent form has expired. Start signing in again.", status=403
            )
        if decision != "allow":
            return error_response(authz, AuthorizeError("access_denied", DENIED))
        await grant_consent(
            session,
            authz.org.id,
            user_id=authz.user_session.user_id,
            client_id=authz.client.id,
            server_id=authz.server.server.id,
            scopes=[scope.name for scope in pending],
        )
    return RedirectResponse(back, status_code=303)


def _page(request: Request, authz: Authorization, pending: list[ScopeToConsent]) -> Response:
    token = ids.random_token(32)
    response = render_page(
        "consent.html",
        content_security_policy=csp(form_action=f"'self' {form_action_source(authz.redirect_uri)}"),
        app_label=authz.client.label,
        scopes=pending,
        login=authz.signed_in_session.login,
        action=request.url.path,
        csrf_field=CSRF_FIELD,
        csrf_token=token,
        fields=sorted(authz.params.items()),
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
