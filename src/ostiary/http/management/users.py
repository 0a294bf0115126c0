"""/api/v1/users: CRUD, lifecycle, groups of a user."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.directory import credential_revocation, field_projection, search, user_page, user_tokens
from ostiary.domain.directory import groups as groups_domain
from ostiary.domain.directory import users as users_domain
from ostiary.domain.directory.directory_json import group_json, user_json
from ostiary.http import signin_throttle
from ostiary.http.auth import management_tx
from ostiary.http.errors import OktaHTTPError
from ostiary.http.login.sessions import session_secret
from ostiary.http.management.common import base_url, list_response, path_param
from ostiary.http.pagination import link_header, parse_after, parse_limit
from ostiary.http.requests import bool_param, json_object
from ostiary.http.responses import JSON_TYPE, json_response, no_content

READ, MANAGE = "okta.users.read", "okta.users.manage"


async def list_users(request: Request) -> Response:
    limit = parse_limit(request, default=200, maximum=200)
    params = request.query_params
    projection = field_projection.parse_fields(params.get("fields"))
    async with management_tx(request, READ) as tx:
        condition = search.user_condition(filter_text=params.get("filter"), search_text=params.get("search"))
        sort_by = params.get("sortBy") if params.get("search") else None  # search queries only
        lister = users_domain.list_users if projection is not None else users_domain.list_user_rows
        page = await lister(
            tx,
            q=params.get("q"),
            condition=condition,
            after=parse_after(request),
            limit=limit,
            sort=search.user_sort(sort_by) if sort_by else None,
            descending=search.sort_order(params.get("sortOrder")) if sort_by else False,
        )
    if projection is not None:  # fields=: Okta's projection (the spec's ListUsersFieldsResponse)
        return list_response(
            request,
            page.items,
            lambda user, base: field_projection.project(user_json(user, base), projection),
            page.next_cursor,
        )
    body = user_page.render_users(page.items, base_url(request))  # no projection: the fast path
    return Response(body, media_type=JSON_TYPE, headers={"Link": link_header(request, page.next_cursor)})


def _next_login(request: Request) -> bool:
    return users_domain.parse_next_login(request.query_params.get("nextLogin"))


async def create_user(request: Request) -> Response:
    activate = bool_param(request, "activate", True)
    expire = _next_login(request)
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        user = await users_domain.create_user(tx, body, activate=activate, expire_password=expire)
        return json_response(user_json(user, base_url(request)))


async def get_user(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        user = await users_domain.get_user(tx, _me_or(request, path_param(request, "id")))
        return json_response(user_json(user, base_url(request)))


async def update_user(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        user = await users_domain.update_user(
            tx, path_param(request, "id"), body, partial=request.method == "POST"
        )
        if users_domain.sets_password(body):
            await credential_revocation.end_sign_ins(tx, user, keep_session_secret=session_secret(request))
        return json_response(user_json(user, base_url(request)))


async def delete_user(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await users_domain.delete_user(tx, path_param(request, "id"))
    return no_content()


async def user_groups(request: Request) -> Response:
    async with management_tx(request, "okta.groups.read") as tx:
        found = await groups_domain.groups_of_user(tx, path_param(request, "id"))
    return list_response(request, found, group_json, None)


def _revoke_sessions(body: dict[str, Any]) -> bool:
    """``revokeSessions`` of a change-password body; true unless the caller says false."""
    value = body.get("revokeSessions", True)
    if not isinstance(value, bool):
        raise OktaHTTPError(
            400, "E0000001", "Api validation failed: revokeSessions", ["revokeSessions: must be a boolean"]
        )
    return value


ACTIVATION_PATH = "/welcome/"  # Okta Classic's activationUrl
RESET_PASSWORD_PATH = "/signin/reset-password/"  # the spec's resetPasswordUrl
RESET_WITHOUT_EMAIL = "Reset password without sending email"


def _activation(kind: str) -> Callable[[Request], Awaitable[Response]]:
    """activate, reactivate, reset_password: a one-time token, returned when ``sendEmail`` is
    false. Ostiary sends no email: with ``sendEmail=true`` the token is in the server log at DEBUG
    (:mod:`ostiary.domain.directory.user_tokens`)."""

    async def handler(request: Request) -> Response:
        send_email = bool_param(request, "sendEmail", kind != "reactivate")  # the spec's defaults
        revoke = kind == "reset_password" and bool_param(request, "revokeSessions", True)
        expire = kind == "activate" and _next_login(request)
        async with management_tx(request, MANAGE) as tx:
            user_id = path_param(request, "id")
            if kind == "activate":
                user = await users_domain.activate(tx, user_id, expire_password=expire)
            elif kind == "reactivate":
                user = await users_domain.reactivate(tx, user_id)
            else:
                user = await users_domain.reset_password(tx, user_id)
                if revoke:  # before the new token: ending sign-ins drops the user's tokens
                    await credential_revocation.end_sign_ins(
                        tx, user, keep_session_secret=session_secret(request)
                    )
            token_kind = user_tokens.RECOVERY if kind == "reset_password" else user_tokens.ACTIVATION
            token = await user_tokens.issue(tx, user, token_kind)
        if send_email:
            return json_response({})
        if kind == "reset_password":
            url = base_url(request) + RESET_PASSWORD_PATH + token.value
            return json_response({"summary": RESET_WITHOUT_EMAIL, "resetPasswordUrl": url})
        url = base_url(request) + ACTIVATION_PATH + token.value
        return json_response({"activationUrl": url, "activationToken": token.value})

    return handler


async def forgot_password(request: Request) -> Response:
    """``POST /users/{id}/credentials/forgot_password``: a recovery token for the user, whose
    status and password stay as they are until the token is redeemed (``resetPasswordUrl`` with
    ``sendEmail=false``; with ``sendEmail=true`` the token is in the server log at DEBUG)."""
    send_email = bool_param(request, "sendEmail", True)
    async with management_tx(request, MANAGE) as tx:
        user = await users_domain.get_user(tx, path_param(request, "userId"))
        if user.status not in (users_domain.ACTIVE, users_domain.PASSWORD_EXPIRED, users_domain.LOCKED_OUT):
            raise OktaHTTPError(403, "E0000038", users_domain.NOT_ALLOWED)
        token = await user_tokens.issue(tx, user, user_tokens.RECOVERY)
    if send_email:
        return json_response({})
    return json_response({"resetPasswordUrl": base_url(request) + RESET_PASSWORD_PATH + token.value})


def _empty_transition(
    action: Callable[..., Awaitable[object]],
) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        async with management_tx(request, MANAGE) as tx:
            await action(tx, path_param(request, "id"))
        return json_response({})

    return handler


async def expire_password(request: Request) -> Response:
    """``?tempPassword=true`` (Okta Classic): a temporary password instead of the user's, already
    expired, answered as ``{"tempPassword"}``; otherwise the User, PASSWORD_EXPIRED."""
    temp = bool_param(request, "tempPassword", False)
    revoke = bool_param(request, "revokeSessions", False)
    async with management_tx(request, MANAGE) as tx:
        if temp:
            user, password = await users_domain.expire_with_temp_password(tx, path_param(request, "id"))
            # the old password no longer works
            await credential_revocation.end_sign_ins(tx, user, keep_session_secret=session_secret(request))
            return json_response({"tempPassword": password})
        user = await users_domain.expire_password(tx, path_param(request, "id"))
        if revoke:
            await credential_revocation.end_sign_ins(tx, user, keep_session_secret=session_secret(request))
        return json_response(user_json(user, base_url(request)))


async def expire_password_with_temp_password(request: Request) -> Response:
    """The okta SDK's ``expire_password_with_temp_password``: the User (PASSWORD_EXPIRED) with
    its ``tempPassword``. ``revokeSessions`` is checked but makes no difference: the password is
    replaced, and a replaced password ends the user's sessions in Ostiary (credential_revocation)."""
    bool_param(request, "revokeSessions", False)
    async with management_tx(request, MANAGE) as tx:
        user, password = await users_domain.expire_with_temp_password(tx, path_param(request, "id"))
        await credential_revocation.end_sign_ins(tx, user, keep_session_secret=session_secret(request))
        return json_response({**user_json(user, base_url(request)), "tempPassword": password})


async def change_password(request: Request) -> Response:
    """The old password is checked, so each attempt counts against the sign-in throttle of the
    user's login (and of the caller's address), as a sign-in does: not an unlimited oracle."""
    body = await json_object(request)
    revoke = _revoke_sessions(body)
    async with management_tx(request, MANAGE) as tx:
        target = await users_domain.get_user(tx, path_param(request, "userId"))
        await signin_throttle.count_attempt(request, tx.org, target.login)
        user = await users_domain.change_password(tx, target.id, body)
        if revoke:
            await credential_revocation.end_sign_ins(tx, user, keep_session_secret=session_secret(request))
        credentials = user_json(user, base_url(request))["credentials"]
    return json_response(credentials)


async def change_recovery_question(request: Request) -> Response:
    """``{"password": {"value"}, "recovery_question": {"question", "answer"}}`` → UserCredentials;
    the password is checked, so the attempt counts against the sign-in throttle."""
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        target = await users_domain.get_user(tx, path_param(request, "userId"))
        await signin_throttle.count_attempt(request, tx.org, target.login)
        user = await users_domain.change_recovery_question(tx, target.id, body)
        credentials = user_json(user, base_url(request))["credentials"]
    return json_response(credentials)


routes = [
    Route("/api/v1/users", list_users, methods=["GET"]),
    Route("/api/v1/users", create_user, methods=["POST"]),
    Route("/api/v1/users/{id}", get_user, methods=["GET"]),
    Route("/api/v1/users/{id}", update_user, methods=["POST", "PUT"]),
    Route("/api/v1/users/{id}", delete_user, methods=["DELETE"]),
    Route("/api/v1/users/{id}/groups", user_groups, methods=["GET"]),
    Route("/api/v1/users/{id}/lifecycle/activate", _activation("activate"), methods=["POST"]),
    Route("/api/v1/users/{id}/lifecycle/reactivate", _activation("reactivate"), methods=["POST"]),
    Route("/api/v1/users/{id}/lifecycle/reset_password", _activation("reset_password"), methods=["POST"]),
    Route(
        "/api/v1/users/{id}/lifecycle/deactivate",
        _empty_transition(users_domain.deactivate),
        methods=["POST"],
    ),
    Route("/api/v1/users/{id}/lifecycle/suspend", _empty_transition(users_domain.suspend), methods=["POST"]),
    Route(
        "/api/v1/users/{id}/lifecycle/unsuspend", _empty_transition(users_domain.unsuspend), methods=["POST"]
    ),
    Route("/api/v1/users/{id}/lifecycle/unlock", _empty_transition(users_domain.unlock), methods=["POST"]),
    Route("/api/v1/users/{id}/lifecycle/expire_password", expire_password, methods=["POST"]),
    Route(
        "/api/v1/users/{id}/lifecycle/expire_password_with_temp_password",
        expire_password_with_temp_password,
        methods=["POST"],
    ),
    Route("/api/v1/users/{userId}/credentials/forgot_password", forgot_password, methods=["POST"]),
    Route("/api/v1/users/{userId}/credentials/change_password", change_password, methods=["POST"]),
    Route(
        "/api/v1/users/{userId}/credentials/change_recovery_question",
        change_recovery_question,
        methods=["POST"],
    ),
]


def _me_or(request: Request, key: str) -> str:
    """``me``: the admin user the caller acts as (an API token's creator); 404 when it has none."""
    if key != "me":
        return key
    principal = getattr(request.state, "principal", None)
    user_id = getattr(principal, "user_id", None)
    if not isinstance(user_id, str):
        raise OktaHTTPError(404, "E0000007", "Not found: Resource not found: me (User)")
    return user_id
