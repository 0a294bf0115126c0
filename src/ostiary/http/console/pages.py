"""What every console page shares: the console session, the admin check, CSRF, rendering.

The console session is its own cookie (``ostiary_admin``; ``__Secure-ostiary_admin`` on https),
HttpOnly, SameSite=Lax, ``Path=/admin``. It holds the secret of a user session started for the
console after the OIDC sign-in (see :mod:`ostiary.http.console.signin`), so ending the user's
sessions (``DELETE /api/v1/users/{id}/sessions``, sign-out) ends console access too.

CSRF: session-bound. Each form carries ``csrfToken`` = HMAC-SHA256(console session secret,
"ostiary-console-csrf"), base64url; every POST is refused (403 page, nothing changed) unless
the submitted token matches (constant-time). A cross-site page knows neither the secret nor
the token, and no state beyond the session is needed, so any process of a cluster accepts it.

Every page is sent with the sign-in page's security headers (no-store, no framing, same-origin
referrer), with a CSP that also allows the console's own static files (``/admin/static``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ostiary.domain.console.access import ADMIN_GROUP, console_access
from ostiary.domain.context import Actor, Tx
from ostiary.domain.directory import sessions as sessions_domain
from ostiary.domain.errors import DomainError
from ostiary.http.auth import client_info
from ostiary.http.login.page import PAGE_HEADERS, safe_next
from ostiary.http.runtime import runtime

PREFIX = "/admin"
LOGIN_PATH = f"{PREFIX}/login"
COOKIE = "ostiary_admin"
CSRF_FIELD = "csrfToken"
_TEMPLATES = Path(__file__).parent / "templates"

T = TypeVar("T")

HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


@dataclass(frozen=True)
class Admin:
    """The signed-in console user."""

    user_id: str
    login: str
    csrf: str

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, "User", self.login, self.login)


def cookie_name(request: Request) -> str:
    return f"__Secure-{COOKIE}" if request.url.scheme == "https" else COOKIE


def set_console_cookie(response: Response, request: Request, secret: str) -> None:
    response.set_cookie(
        cookie_name(request),
        secret,
        path=PREFIX,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )


def clear_console_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        cookie_name(request), path=PREFIX, secure=request.url.scheme == "https", httponly=True, samesite="lax"
    )


def csrf_for(secret: str) -> str:
    mac = hmac.new(secret.encode(), b"ostiary-console-csrf", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def csrf_ok(admin: Admin, submitted: object) -> bool:
    if not isinstance(submitted, str) or not submitted:
        return False
    return hmac.compare_digest(submitted.encode(), admin.csrf.encode())


# --- rendering ---------------------------------------------------------------------------------


@functools.cache
def _environment() -> Any:
    import jinja2  # imported on first render: start-up stays fast

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def render(
    request: Request, template: str, *, admin: Admin | None = None, status: int = 200, **context: Any
) -> Response:
    html = (
        _environment()
        .get_template(template)
        .render(
            admin=admin,
            csrf_field=CSRF_FIELD,
            csrf_token=admin.csrf if admin else "",
            prefix=PREFIX,
            path=request.url.path,
            **{"error": None, "notice": None, **context},
        )
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303, headers=HEADERS)


def forbidden(request: Request, message: str) -> Response:
    return render(request, "forbidden.html", admin=None, status=403, message=message, admin_group=ADMIN_GROUP)


def error_text(exc: DomainError) -> str:
    """A domain refusal as one line for a form's error banner."""
    return "; ".join([exc.message, *exc.causes]) if exc.causes else exc.message


def not_found(request: Request, admin: Admin, exc: DomainError) -> Response:
    """The page for a detail view whose object the domain did not find (404)."""
    return render(request, "not_found.html", admin=admin, status=404, message=error_text(exc))


# --- the admin check ---------------------------------------------------------------------------

NOT_ADMIN = (
    "You are signed in, but you are not an administrator of this org. "
    f"Only members of the '{ADMIN_GROUP}' group may use the admin console."
)
FORM_EXPIRED = (
    "This form has expired or did not come from the console. "
    "Nothing was changed; reload the page and try again."
)

Handler = Callable[[Request, Admin], Awaitable[Response]]


@asynccontextmanager
async def admin_tx(request: Request, admin: Admin) -> AsyncIterator[Tx]:
    """One transaction of the request's org, acting as the signed-in admin."""
    rt = runtime(request)
    org = await rt.org_for(request)
    async with rt.db.session() as session:
        yield Tx(session=session, org=org, actor=admin.actor, client=client_info(request))


async def _signed_in(request: Request) -> tuple[str, str, str] | None:
    """``(user id, login, session secret)`` of a live console session, or None."""
    secret = request.cookies.get(cookie_name(request))
    if not secret or len(secret) > 256:
        return None
    rt = runtime(request)
    org = await rt.org_for(request)
    async with rt.db.session() as session:
        tx = Tx(session=session, org=org, client=client_info(request))
        row = await sessions_domain.find_by_secret(tx, secret)
        if row is None:
            return None
        return row.user_id, row.login, secret


async def is_admin(request: Request, user_id: str) -> bool:
    rt = runtime(request)
    org = await rt.org_for(request)
    async with rt.db.session() as session:
        return await console_access(Tx(session=session, org=org, client=client_info(request)), user_id)


DetailPage = Callable[..., Awaitable[Response]]
"""A page's detail view, re-rendered with ``error=`` and ``status=`` when a form fails."""


async def form_action(
    request: Request,
    admin: Admin,
    work: Callable[[Tx], Awaitable[T]],
    *,
    detail: DetailPage,
    then: str | Callable[[T], str] | None = None,
    show: Callable[[T], Awaitable[Response]] | None = None,
) -> Response:
    """The shape of a console form post: ``work`` in one admin transaction, then a redirect to
    ``then`` (a URL, or one made from what ``work`` returned, inside the transaction), or, after
    the commit, the page ``show`` makes of it; a refused change re-renders ``detail`` with the
    domain's message (400)."""
    try:
        async with admin_tx(request, admin) as tx:
            result = await work(tx)
            target = then(result) if callable(then) else then
    except DomainError as exc:
        return await detail(request, admin, error=error_text(exc), status=400)
    if show is not None:
        return await show(result)
    assert target is not None, "form_action needs then= or show="
    return redirect(target)


def login_redirect(request: Request) -> Response:
    target = safe_next(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    query = f"?{urlencode({'next': target})}" if target else ""
    return redirect(LOGIN_PATH + query)


def admin_page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a console endpoint: signed in (else to sign-in), an admin (else 403 page), and on
    POST the CSRF token checked before the handler runs (else a 403 page, nothing changed)."""

    async def endpoint(request: Request) -> Response:
        found = await _signed_in(request)
        if found is None:
            return login_redirect(request) if request.method == "GET" else forbidden(request, FORM_EXPIRED)
        user_id, login, secret = found
        if not await is_admin(request, user_id):
            return forbidden(request, NOT_ADMIN)
        admin = Admin(user_id, login, csrf_for(secret))
        if request.method == "POST":
            form = await request.form()
            if not csrf_ok(admin, form.get(CSRF_FIELD)):
                return forbidden(request, FORM_EXPIRED)
        return await handler(request, admin)

    return endpoint


def field(form: Any, name: str, *, limit: int = 4096) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) and len(value) <= limit else ""
