"""The hosted pages behind an ``activationUrl`` and a ``resetPasswordUrl``.

``GET /welcome/{token}`` (activation) and ``GET /signin/reset-password/{token}`` (also
``/reset_password/{token}``, the spec's other example) show a form for a new password when the
token is good; ``POST`` sets it through the same steps as ``/api/v1/authn`` (redeem the token,
PASSWORD_RESET, ``reset_password``), starts a session (the ``sid`` cookie) and goes to the
sign-in page, signed in. A refused password leaves the token unused, so the user can try again.
A reset link of a user with a recovery question asks its answer on the same form (RECOVERY, then
``recovery/answer``); each answer counts against the user's sign-in throttle.
CSRF: the sign-in page's double-submit token (:mod:`ostiary.http.login.page`).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ostiary import ids
from ostiary.domain.context import Tx
from ostiary.domain.directory import authn_flows, recovery_question, user_tokens
from ostiary.domain.directory import sessions as sessions_domain
from ostiary.domain.directory.passwords import DEFAULT_POLICY
from ostiary.domain.errors import DomainError
from ostiary.http import signin_throttle
from ostiary.http.auth import client_info
from ostiary.http.login.page import (
    CSRF_FIELD,
    LOGIN_PATH,
    PAGE_HEADERS,
    _csrf_cookie,
    _csrf_ok,
    _environment,
    _set_csrf_cookie,
)
from ostiary.http.login.sessions import end_replaced_session, max_session_lifetime, set_session_cookie
from ostiary.http.runtime import runtime

ACTIVATION_PATHS = ("/welcome/{token}",)
RECOVERY_PATHS = ("/signin/reset-password/{token}", "/reset_password/{token}")
MAX_FIELD_LENGTH = 1024
GONE = "This link has expired or has already been used. Ask your administrator for a new one."
MISMATCH = "The two passwords are not the same."
EXPIRED_FORM = "This form has expired. Please try again."
THROTTLED = "Too many attempts. Try again in a minute."


def _kinds(activation: bool) -> tuple[str, ...]:
    return (user_tokens.ACTIVATION,) if activation else (user_tokens.RECOVERY,)


async def _render(
    request: Request,
    *,
    activation: bool,
    login: str | None,
    error: str | None = None,
    status: int = 200,
    question: str | None = None,
) -> Response:
    org = await runtime(request).org_for(request)
    token = _csrf_cookie(request) or ids.random_token(32)
    html = (
        _environment()
        .get_template("set_password.html")
        .render(
            heading="Activate your account" if activation else "Reset your password",
            org_name=org.name,
            error=error,
            login=login,
            requirements=DEFAULT_POLICY.describe(),
            action=request.url.path,
            csrf_field=CSRF_FIELD,
            csrf_token=token,
            login_url=LOGIN_PATH,
            question=question,
        )
    )
    response = HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
    _set_csrf_cookie(response, request, token)
    return response


async def _holder(request: Request, activation: bool) -> tuple[str, str | None] | None:
    """The login of the token's user, and the recovery question to ask (reset links only)."""
    rt = runtime(request)
    org = await rt.org_for(request)
    async with rt.db.session() as session:
        tx = Tx(session=session, org=org, client=client_info(request))
        found = await user_tokens.peek(tx, request.path_params["token"], _kinds(activation))
        if found is None:
            return None
        user = found[0]
        return user.login, None if activation else recovery_question.question_of(user)


def _form_page(activation: bool) -> Any:
    async def show(request: Request) -> Response:
        holder = await _holder(request, activation)
        if holder is None:
            return await _render(request, activation=activation, login=None, error=GONE, status=404)
        login, question = holder
        return await _render(request, activation=activation, login=login, question=question)

    return show


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) and len(value) <= MAX_FIELD_LENGTH else ""


def _submit(activation: bool) -> Any:
    async def submit(request: Request) -> Response:
        form = await request.form()
        holder = await _holder(request, activation)
        if holder is None:
            return await _render(request, activation=activation, login=None, error=GONE, status=404)
        login, question = holder

        async def again(error: str, status: int) -> Response:
            return await _render(
                request, activation=activation, login=login, error=error, status=status, question=question
            )

        if not _csrf_ok(request, form.get(CSRF_FIELD)):
            return await again(EXPIRED_FORM, 403)
        new, repeated = _field(form, "newPassword"), _field(form, "confirmPassword")
        if new != repeated:
            return await again(MISMATCH, 400)
        rt = runtime(request)
        org = await rt.org_for(request)
        if question is not None and await signin_throttle.throttled(request, org, login) is not None:
            return await again(THROTTLED, 429)
        try:
            async with rt.db.session() as session:
                tx = Tx(session=session, org=org, client=client_info(request))
                opened = await authn_flows.authenticate_with_token(
                    tx, request.path_params["token"], kinds=_kinds(activation)
                )
                if opened.status == authn_flows.RECOVERY and opened.state_token is not None:
                    answer = _field(form, "answer")
                    opened = await authn_flows.answer_recovery_question(tx, opened.state_token, answer)
                if opened.state_token is not None:
                    await authn_flows.reset_password(tx, opened.state_token, new)
                assert opened.user is not None
                await end_replaced_session(tx, request)
                started = await sessions_domain.start_session(
                    tx, opened.user, max_lifetime=max_session_lifetime(request)
                )
        except DomainError as error:  # rolled back: the token still works
            if error.code == "E0000087":
                return await again(error.message, 403)
            message = " ".join([error.message, *error.causes]) if error.causes else error.message
            return await again(message, 400)
        response = RedirectResponse(LOGIN_PATH, status_code=303, headers=PAGE_HEADERS)
        set_session_cookie(response, request, started.secret)
        _set_csrf_cookie(response, request, ids.random_token(32))
        return response

    return submit


routes = [
    *(Route(path, _form_page(True), methods=["GET"]) for path in ACTIVATION_PATHS),
    *(Route(path, _submit(True), methods=["POST"]) for path in ACTIVATION_PATHS),
    *(Route(path, _form_page(False), methods=["GET"]) for path in RECOVERY_PATHS),
    *(Route(path, _submit(False), methods=["POST"]) for path in RECOVERY_PATHS),
]
