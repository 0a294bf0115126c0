"""The hosted change-password form: where a sign-in on ``/login`` that meets an expired password
(PASSWORD_EXPIRED) leads, instead of a dead end.

``POST /login`` answers such a sign-in with this form (the current password, the new one twice)
carrying the transaction's ``stateToken`` in a hidden field, never in a URL; ``POST
/login/change-password`` completes it through the same step as ``/api/v1/authn/credentials/
change_password`` (old password checked, policy applied, the user ACTIVE, other sign-ins ended),
starts a session (the ``sid`` cookie) and continues where the sign-in was going (``fromURI``).
A refused attempt shows the form again with the same, still open, transaction. Each attempt
counts against the sign-in throttle of the user's login and the address, as a sign-in does.
CSRF: the sign-in page's double-submit token.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ostiary import ids
from ostiary.domain.context import Tx
from ostiary.domain.directory import authn_flows
from ostiary.domain.directory import sessions as sessions_domain
from ostiary.domain.directory.passwords import DEFAULT_POLICY
from ostiary.domain.errors import DomainError
from ostiary.domain.orgs import Org
from ostiary.http import signin_throttle
from ostiary.http.auth import client_info
from ostiary.http.login import page
from ostiary.http.login.sessions import end_replaced_session, max_session_lifetime, set_session_cookie
from ostiary.http.runtime import runtime

CHANGE_PASSWORD_PATH = "/login/change-password"
EXPIRED_NOTICE = "Your password has expired: choose a new one to continue."
MISMATCH = "The two new passwords are not the same."
GONE = "This form has expired. Please sign in again."


async def render(
    request: Request,
    org: Org,
    *,
    state_token: str,
    login: str,
    from_uri: str | None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    token = page._csrf_cookie(request) or ids.random_token(32)
    html = (
        page._environment()
        .get_template("change_password.html")
        .render(
            heading="Change your password",
            org_name=org.name,
            error=error,
            login=login,
            notice=EXPIRED_NOTICE,
            requirements=DEFAULT_POLICY.describe(),
            action=CHANGE_PASSWORD_PATH,
            csrf_field=page.CSRF_FIELD,
            csrf_token=token,
            state_token=state_token,
            from_uri=from_uri,
        )
    )
    response = HTMLResponse(html, status_code=status, headers=page.PAGE_HEADERS)
    page._set_csrf_cookie(response, request, token)
    return response


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) and len(value) <= page.MAX_FIELD_LENGTH else ""


async def submit(request: Request) -> Response:
    form = await request.form()
    from_uri = page._next_from(form)
    state = _field(form, "stateToken")
    rt = runtime(request)
    org = await rt.org_for(request)
    async with rt.db.session() as session:
        tx = Tx(session=session, org=org, client=client_info(request))
        try:
            login = (await authn_flows.expired_password_holder(tx, state)).login
        except DomainError:
            login = None
    if login is None:
        return await page._render(request, status=400, error=GONE, from_uri=from_uri)

    async def again(error: str, status: int) -> Response:
        return await render(
            request, org, state_token=state, login=login, from_uri=from_uri, error=error, status=status
        )

    if not page._csrf_ok(request, form.get(page.CSRF_FIELD)):
        return await again(page.MESSAGES["csrf"], 403)
    old, new = _field(form, "oldPassword"), _field(form, "newPassword")
    if not old or not new:
        return await again(page.MESSAGES["missing"], 400)
    if new != _field(form, "confirmPassword"):
        return await again(MISMATCH, 400)
    if await signin_throttle.throttled(request, org, login) is not None:
        return await again(page.MESSAGES["throttled"], 429)
    try:
        async with rt.db.session() as session:
            tx = Tx(session=session, org=org, client=client_info(request))
            changed = await authn_flows.change_password(tx, state, old, new)
            assert changed.user is not None
            await sessions_domain.redeem_token(tx, changed.session_token)  # the browser gets a session
            await end_replaced_session(tx, request)
            started = await sessions_domain.start_session(
                tx, changed.user, max_lifetime=max_session_lifetime(request)
            )
    except DomainError as error:  # rolled back: the transaction is still open
        message = " ".join([error.message, *error.causes]) if error.causes else error.message
        return await again(message, 401 if error.code == "E0000011" else 400)
    response = RedirectResponse(from_uri or page.LOGIN_PATH, status_code=303, headers=page.PAGE_HEADERS)
    set_session_cookie(response, request, started.secret)
    page._set_csrf_cookie(response, request, ids.random_token(32))
    return response


routes = [Route(CHANGE_PASSWORD_PATH, submit, methods=["POST"])]
