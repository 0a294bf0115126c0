"""``POST /api/v1/authn``: Okta's Classic primary authentication (username and password in,
a one-time ``sessionToken`` out). No API token; CORS for trusted origins only.

The attempt is committed before a refusal is answered, so failure counts, lockouts and log
events persist; every refusal is the same 401 ``E0000004``.

The rest of the state machine (:mod:`ostiary.domain.directory.authn_flows`):
``{"token": activationToken | recoveryToken}`` and ``/recovery/token`` → RECOVERY (a recovery
question to answer at ``/recovery/answer``) or PASSWORD_RESET;
``{"stateToken"}`` → the transaction's state; ``/credentials/reset_password`` and
``/credentials/change_password`` → SUCCESS; ``/recovery/password`` (forgot password) and
``/cancel``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.context import Actor, Tx
from ostiary.domain.directory import authn as authn_domain
from ostiary.domain.directory import authn_flows, directory_json, recovery_question, user_tokens
from ostiary.domain.directory.passwords import DEFAULT_POLICY
from ostiary.domain.directory.users import NOT_ALLOWED
from ostiary.http import signin_throttle
from ostiary.http.auth import authenticate, client_info, require_scope
from ostiary.http.cors import preflight_endpoint, with_cors
from ostiary.http.errors import OktaHTTPError
from ostiary.http.management.common import base_url
from ostiary.http.requests import json_object
from ostiary.http.responses import json_response
from ostiary.http.runtime import runtime
from ostiary.timeutil import iso

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_CREDENTIAL_LENGTH = 1024


def _credential(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise OktaHTTPError(
            400, "E0000001", f"Api validation failed: {name}", [f"{name}: The field cannot be left blank"]
        )
    if len(value) > MAX_CREDENTIAL_LENGTH:
        raise OktaHTTPError(400, "E0000001", f"Api validation failed: {name}", [f"{name}: is too long"])
    return value


_NEXT_STEP = {
    authn_domain.PASSWORD_EXPIRED: ("changePassword", "/api/v1/authn/credentials/change_password"),
    authn_flows.PASSWORD_RESET: ("resetPassword", "/api/v1/authn/credentials/reset_password"),
    authn_flows.RECOVERY: ("answer", "/api/v1/authn/recovery/answer"),
}
_NEW_PASSWORD = (authn_domain.PASSWORD_EXPIRED, authn_flows.PASSWORD_RESET)


def _policy() -> dict[str, Any]:
    """``_embedded.policy`` of a transaction that asks for a new password (sign-in widgets show it)."""
    policy = DEFAULT_POLICY
    return {
        "complexity": {
            "minLength": policy.min_length,
            "minLowerCase": policy.min_lower,
            "minUpperCase": policy.min_upper,
            "minNumber": policy.min_number,
            "minSymbol": policy.min_symbol,
            "excludeUsername": policy.exclude_username,
            "excludeAttributes": list(policy.exclude_attributes),
        },
    }


def transaction_json(result: authn_domain.AuthnResult, base: str = "") -> dict[str, Any]:
    """An authentication transaction (``status``, ``stateToken``, ``expiresAt``, ``_embedded``,
    ``_links``) as Okta's Classic Authentication API answers it."""
    if result.user is None:
        return {"status": result.status}
    body: dict[str, Any] = {}
    if result.state_token is not None:
        body["stateToken"] = result.state_token
    body["expiresAt"] = iso(result.expires_at)
    body["status"] = result.status
    if result.status in (authn_flows.PASSWORD_RESET, authn_flows.RECOVERY):
        body["recoveryType"] = "PASSWORD"
    if result.session_token is not None:
        body["sessionToken"] = result.session_token
    if result.recovery_token is not None:
        body["recoveryToken"] = result.recovery_token
    embedded: dict[str, Any] = {"user": directory_json.embedded_user(result.user)}
    question = recovery_question.question_of(result.user)
    if result.status == authn_flows.RECOVERY and result.state_token is not None and question is not None:
        embedded["user"]["recovery_question"] = {"question": question}
    if result.status in _NEW_PASSWORD:
        embedded["policy"] = _policy()
    body["_embedded"] = embedded
    if result.status in _NEXT_STEP and result.state_token is not None:
        name, path = _NEXT_STEP[result.status]
        body["_links"] = {
            "next": {"name": name, "href": base + path, "hints": {"allow": ["POST"]}},
            "cancel": {"href": base + "/api/v1/authn/cancel", "hints": {"allow": ["POST"]}},
        }
    return body


async def authn(request: Request) -> Response:
    body = await json_object(request)
    if "token" in body:  # primary authentication with an activation (or recovery) token
        token = _credential(body, "token")
        return await _in_transaction(
            request,
            lambda tx: authn_flows.authenticate_with_token(
                tx, token, kinds=(user_tokens.ACTIVATION, user_tokens.RECOVERY)
            ),
        )
    if "stateToken" in body and "username" not in body:  # the state of a transaction
        state = _credential(body, "stateToken")
        return await _in_transaction(request, lambda tx: authn_flows.transaction_state(tx, state))
    username = _credential(body, "username")
    password = _credential(body, "password")
    rt = runtime(request)
    org = await rt.org_for(request)
    exhausted = await signin_throttle.throttled(request, org, username)
    if exhausted is not None:
        raise signin_throttle.too_many_attempts(exhausted)
    async with rt.db.session() as session:
        tx = Tx(session=session, org=org, client=client_info(request))
        result = await authn_domain.primary_authentication(tx, username, password)
    if result.status == authn_domain.FAILED:
        raise authn_domain.authentication_failed()
    return json_response(transaction_json(result, base_url(request)), headers=NO_STORE)


async def _in_transaction(
    request: Request, step: Callable[[Tx], Awaitable[authn_domain.AuthnResult]]
) -> Response:
    rt = runtime(request)
    org = await rt.org_for(request)
    async with rt.db.session() as session:
        tx = Tx(session=session, org=org, client=client_info(request))
        result = await step(tx)
        rendered = transaction_json(result, base_url(request))
    return json_response(rendered, headers=NO_STORE)


def _password_field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise OktaHTTPError(
            400, "E0000001", f"Api validation failed: {name}", [f"{name}: The field cannot be left blank"]
        )
    if len(value) > MAX_CREDENTIAL_LENGTH:
        raise OktaHTTPError(400, "E0000001", f"Api validation failed: {name}", [f"{name}: is too long"])
    return value


async def reset_password(request: Request) -> Response:
    """PASSWORD_RESET → SUCCESS: ``{"stateToken", "newPassword"}``."""
    body = await json_object(request)
    state, new = _credential(body, "stateToken"), _password_field(body, "newPassword")
    return await _in_transaction(request, lambda tx: authn_flows.reset_password(tx, state, new))


async def change_password(request: Request) -> Response:
    """PASSWORD_EXPIRED → SUCCESS: ``{"stateToken", "oldPassword", "newPassword"}``. The old
    password is checked, so the attempt counts against the user's sign-in throttle."""
    body = await json_object(request)
    state = _credential(body, "stateToken")
    old, new = _password_field(body, "oldPassword"), _password_field(body, "newPassword")

    async def step(tx: Tx) -> authn_domain.AuthnResult:
        holder = await authn_flows.expired_password_holder(tx, state)
        await signin_throttle.count_attempt(request, tx.org, holder.login)
        return await authn_flows.change_password(tx, state, old, new)

    return await _in_transaction(request, step)


async def recovery_token(request: Request) -> Response:
    """``{"recoveryToken"}`` → RECOVERY (the user's recovery question) or PASSWORD_RESET."""
    body = await json_object(request)
    token = _credential(body, "recoveryToken")
    return await _in_transaction(
        request, lambda tx: authn_flows.authenticate_with_token(tx, token, kinds=(user_tokens.RECOVERY,))
    )


async def recovery_answer(request: Request) -> Response:
    """RECOVERY → PASSWORD_RESET: ``{"stateToken", "answer"}``. Each answer counts against the
    user's sign-in throttle (an answer is a secret too); a wrong one is 403 E0000087."""
    body = await json_object(request)
    state, answer = _credential(body, "stateToken"), _password_field(body, "answer")

    async def step(tx: Tx) -> authn_domain.AuthnResult:
        holder = await authn_flows.question_holder(tx, state)
        await signin_throttle.count_attempt(request, tx.org, holder.login)
        return await authn_flows.answer_recovery_question(tx, state, answer)

    return await _in_transaction(request, step)


async def forgot_password(request: Request) -> Response:
    """Forgot password: ``{"username", "factorType": "EMAIL"}``. Anyone gets the same
    RECOVERY_CHALLENGE answer, whether the user exists or not; the recovery token is written to
    the server log at DEBUG (Ostiary sends no email). An admin caller (an API token or an
    ``okta.users.manage`` Bearer token, Okta's trusted application) gets the token itself: status
    RECOVERY with ``recoveryToken``."""
    body = await json_object(request)
    username = _credential(body, "username")
    factor = body.get("factorType", "EMAIL")
    if factor != "EMAIL":
        raise OktaHTTPError(
            400,
            "E0000001",
            "Api validation failed: factorType",
            ["factorType: only EMAIL recovery is available"],
        )
    rt = runtime(request)
    org = await rt.org_for(request)
    admin = request.headers.get("authorization") is not None
    async with rt.db.session() as session:
        actor = Actor.system()
        if admin:
            principal = await authenticate(request, session, org, rt)
            require_scope(principal, "okta.users.manage")
            actor = principal.actor
        tx = Tx(session=session, org=org, actor=actor, client=client_info(request))
        started = await authn_flows.forgot_password(tx, username)
        if admin:
            if started is None:
                raise OktaHTTPError(403, "E0000038", NOT_ALLOWED)
            user, token = started
            result = authn_domain.AuthnResult(
                authn_flows.RECOVERY, user, expires_at=token.expires_at, recovery_token=token.value
            )
            return json_response(transaction_json(result, base_url(request)), headers=NO_STORE)
    base = base_url(request)
    return json_response(
        {
            "status": authn_flows.RECOVERY_CHALLENGE,
            "factorResult": "WAITING",
            "factorType": "EMAIL",
            "recoveryType": "PASSWORD",
            "_links": {"cancel": {"href": base + "/api/v1/authn/cancel", "hints": {"allow": ["POST"]}}},
        },
        headers=NO_STORE,
    )


async def cancel(request: Request) -> Response:
    """End a transaction: its state token stops working (an unknown one: 401 E0000011)."""
    body = await json_object(request)
    state = _credential(body, "stateToken")
    rt = runtime(request)
    org = await rt.org_for(request)
    async with rt.db.session() as session:
        tx = Tx(session=session, org=org, client=client_info(request))
        await authn_flows.cancel(tx, state)
    return json_response({}, headers=NO_STORE)


def _post(path: str, endpoint: Callable[[Request], Awaitable[Response]]) -> list[Route]:
    return [
        Route(path, with_cors(endpoint), methods=["POST"]),
        Route(path, preflight_endpoint("POST"), methods=["OPTIONS"]),
    ]


routes = [
    *_post("/api/v1/authn", authn),
    *_post("/api/v1/authn/credentials/reset_password", reset_password),
    *_post("/api/v1/authn/credentials/change_password", change_password),
    *_post("/api/v1/authn/recovery/password", forgot_password),
    *_post("/api/v1/authn/recovery/token", recovery_token),
    *_post("/api/v1/authn/recovery/answer", recovery_answer),
    *_post("/api/v1/authn/cancel", cancel),
]
