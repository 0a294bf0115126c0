"""The hosted sign-in page: ``GET``/``POST /login`` and ``GET``/``POST /login/signout``.

A server-rendered form (no JavaScript, no external assets). Credentials go through the same
domain check as ``/api/v1/authn`` (failure counts, lockout, system log); success starts a
session and sets the ``sid`` cookie, then redirects to ``fromURI`` (or ``next``) when that is
a same-origin relative path, else to ``/login``. A right password that has expired leads to the
change-password form (:mod:`ostiary.http.login.change_password_page`), which then goes on the same way.

CSRF: a double-submit token. ``GET /login`` sets a random token in a cookie (HttpOnly,
SameSite=Strict; on https named ``__Host-ostiary_csrf``, which subdomains cannot set or
overwrite) and puts the same value in a hidden field; ``POST /login`` accepts the form only
when both are present and equal (constant-time). A cross-site page can neither read the
cookie nor make the browser send it (Strict), so it cannot forge the pair, which is what
stops login CSRF (signing the victim into an attacker's account). The token is replaced
after each sign-in. No server-side state or signing key is needed, so any process of a
cluster accepts a form rendered by another.

Sign-out is protected the same way (logout CSRF: a cross-site link must not end the session):
``GET /login/signout`` only shows a page with a sign-out button, and ``POST /login/signout``
ends the session only with the CSRF pair. The sign-in page's "Sign out" is such a form.

For the authorize endpoint: :func:`login_url` (where to send the browser to sign in and come
back).
"""

from __future__ import annotations

import functools
import hmac
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ostiary import ids
from ostiary.domain.context import Tx
from ostiary.domain.directory import authn as authn_domain
from ostiary.domain.directory import sessions as sessions_domain
from ostiary.http import signin_throttle
from ostiary.http.auth import client_info
from ostiary.http.login.sessions import (
    clear_session_cookie,
    end_replaced_session,
    max_session_lifetime,
    session_secret,
    set_session_cookie,
)
from ostiary.http.runtime import runtime

LOGIN_PATH = "/login"
SIGNOUT_PATH = "/login/signout"
NEXT_PARAMS = ("fromURI", "next")
CSRF_FIELD = "csrfToken"
CSRF_COOKIE = "ostiary_csrf"
MAX_NEXT_LENGTH = 2048
MAX_FIELD_LENGTH = 1024
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
_TEMPLATES = Path(__file__).parent / "templates"

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}

MESSAGES = {
    "failed": "Unable to sign in. Check your username and password.",
    "missing": "Enter your username and password.",
    "csrf": "This sign-in form has expired. Please sign in again.",
    "throttled": "Too many sign-in attempts. Try again in a minute.",
}


# --- what the authorize endpoint uses ----------------------------------------------------------


def safe_next(value: object) -> str | None:
    """``value`` if it is a same-origin relative path to redirect to, else None.

    Refused: absolute URLs, scheme-relative ``//host``, anything with a backslash (browsers
    read ``/\\host`` as ``//host``) or a control character (browsers drop tabs and newlines,
    so ``/\\t/host`` would become ``//host``), and over-long values.
    """
    if not isinstance(value, str) or not value or len(value) > MAX_NEXT_LENGTH:
        return None
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def login_url(next_path: str) -> str:
    """The sign-in page URL that returns to ``next_path`` (a relative path) afterwards."""
    target = safe_next(next_path)
    return LOGIN_PATH if target is None else f"{LOGIN_PATH}?{urlencode({'fromURI': target})}"


async def signed_in_login(request: Request) -> str | None:
    """The login of the browser's live session (``sid`` cookie), or None."""
    secret = session_secret(request)
    if secret is None:
        return None
    rt = runtime(request)
    org = await rt.org_for(request)
    async with rt.db.session() as session:
        tx = Tx(session=session, org=org, client=client_info(request))
        found = await sessions_domain.find_by_secret(tx, secret)
        return found.login if found is not None else None


# --- CSRF --------------------------------------------------------------------------------------


def _csrf_cookie_name(request: Request) -> str:
    return f"__Host-{CSRF_COOKIE}" if request.url.scheme == "https" else CSRF_COOKIE


def _csrf_cookie(request: Request) -> str | None:
    value = request.cookies.get(_csrf_cookie_name(request))
    return value if value and _TOKEN_SHAPE.fullmatch(value) else None


def _set_csrf_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        _csrf_cookie_name(request),
        token,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )


def _csrf_ok(request: Request, submitted: object) -> bool:
    expected = _csrf_cookie(request)
    if expected is None or not isinstance(submitted, str):
        return False
    return hmac.compare_digest(submitted.encode(), expected.encode())


# --- rendering ---------------------------------------------------------------------------------


@functools.cache
def _environment() -> Any:
    import jinja2  # imported on first render: start-up stays fast

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


async def _render(
    request: Request,
    *,
    status: int = 200,
    error: str | None = None,
    username: str = "",
    from_uri: str | None = None,
    token: str | None = None,
    confirm_signout: bool = False,
) -> Response:
    rt = runtime(request)
    org = await rt.org_for(request)
    token = token or _csrf_cookie(request) or ids.random_token(32)
    signed_in_as = await signed_in_login(request)
    html = (
        _environment()
        .get_template("login.html")
        .render(
            org_name=org.name,
            action=LOGIN_PATH,
            csrf_field=CSRF_FIELD,
            csrf_token=token,
            error=error,
            username=username,
            from_uri=from_uri,
            signed_in_as=signed_in_as,
            signout_url=SIGNOUT_PATH,
            confirm_signout=confirm_signout,
        )
    )
    response = HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
    _set_csrf_cookie(response, request, token)
    return response


def _next_from(values: Any) -> str | None:
    for name in NEXT_PARAMS:
        target = safe_next(values.get(name))
        if target is not None:
            return target
    return None


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) and len(value) <= MAX_FIELD_LENGTH else ""


# --- endpoints ---------------------------------------------------------------------------------


async def login_form(request: Request) -> Response:
    hint = _field(request.query_params, "login_hint").strip()  # from /authorize's login_hint
    return await _render(request, from_uri=_next_from(request.query_params), username=hint)


async def login_submit(request: Request) -> Response:
    form = await request.form()
    from_uri = _next_from(form) or _next_from(request.query_params)
    if not _csrf_ok(request, form.get(CSRF_FIELD)):
        return await _render(
            request, status=403, error=MESSAGES["csrf"], from_uri=from_uri, token=ids.random_token(32)
        )
    username, password = _field(form, "username").strip(), _field(form, "password")
    if not username or not password:
        return await _render(
            request, status=400, error=MESSAGES["missing"], username=username, from_uri=from_uri
        )
    rt = runtime(request)
    org = await rt.org_for(request)
    if await signin_throttle.throttled(request, org, username) is not None:
        return await _render(
            request, status=429, error=MESSAGES["throttled"], username=username, from_uri=from_uri
        )
    async with rt.db.session() as session:
        tx = Tx(session=session, org=org, client=client_info(request))
        verdict = await authn_domain.verify_credentials(tx, username, password)
        started = expired = None
        if verdict.status == authn_domain.SUCCESS and verdict.user is not None:
            await end_replaced_session(tx, request)
            started = await sessions_domain.start_session(
                tx, verdict.user, max_lifetime=max_session_lifetime(request)
            )
        elif verdict.status == authn_domain.PASSWORD_EXPIRED and verdict.user is not None:
            expired = await sessions_domain.issue_token(tx, verdict.user, sessions_domain.STATE_TOKEN)
    if expired is not None and verdict.user is not None:  # on to the change-password form
        from ostiary.http.login import change_password_page

        return await change_password_page.render(
            request, org, state_token=expired.value, login=verdict.user.login, from_uri=from_uri
        )
    if started is None:
        return await _render(request, error=MESSAGES["failed"], username=username, from_uri=from_uri)
    response = RedirectResponse(from_uri or LOGIN_PATH, status_code=303, headers=PAGE_HEADERS)
    set_session_cookie(response, request, started.secret)
    _set_csrf_cookie(response, request, ids.random_token(32))
    return response


SIGNOUT_EXPIRED = "This sign-out form has expired. Please try again."


async def signout_form(request: Request) -> Response:
    """A page with a sign-out button; without a session, just where ``fromURI`` points."""
    from_uri = _next_from(request.query_params)
    if await signed_in_login(request) is None:
        return _signed_out(request, from_uri)
    return await _render(request, from_uri=from_uri, confirm_signout=True)


async def signout(request: Request) -> Response:
    """End the browser's session, clear the cookie, and go to ``fromURI`` or the sign-in page;
    only with the page's CSRF token (see the module docstring)."""
    form = await request.form()
    from_uri = _next_from(form) or _next_from(request.query_params)
    if not _csrf_ok(request, form.get(CSRF_FIELD)):
        return await _render(
            request,
            status=403,
            error=SIGNOUT_EXPIRED,
            from_uri=from_uri,
            token=ids.random_token(32),
            confirm_signout=True,
        )
    if session_secret(request) is not None:
        rt = runtime(request)
        org = await rt.org_for(request)
        async with rt.db.session() as session:
            tx = Tx(session=session, org=org, client=client_info(request))
            await end_replaced_session(tx, request)
    response = _signed_out(request, from_uri)
    _set_csrf_cookie(response, request, ids.random_token(32))
    return response


def _signed_out(request: Request, from_uri: str | None) -> Response:
    response = RedirectResponse(from_uri or LOGIN_PATH, status_code=303)
    response.headers.update(PAGE_HEADERS)
    clear_session_cookie(response, request)
    return response


routes = [
    Route(LOGIN_PATH, login_form, methods=["GET"]),
    Route(LOGIN_PATH, login_submit, methods=["POST"]),
    Route(SIGNOUT_PATH, signout_form, methods=["GET"]),
    Route(SIGNOUT_PATH, signout, methods=["POST"]),
]
