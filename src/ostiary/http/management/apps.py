"""/api/v1/apps: OIDC apps, their client secrets and JWKs, user and group assignments, and
scope consent grants (``okta.apps.*`` scopes; grants use ``okta.appGrants.*``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.clients import apps as apps_domain
from ostiary.domain.clients import assignments, client_jwks, client_secrets, scope_grants
from ostiary.domain.clients.app_json import (
    app_json,
    app_user_json,
    grant_json,
    group_assignment_json,
    jwk_json,
    secret_json,
)
from ostiary.domain.clients.records import public_app_id
from ostiary.domain.context import Tx
from ostiary.domain.directory import groups as groups_domain
from ostiary.domain.directory.directory_json import group_json, user_json
from ostiary.domain.errors import NotFound
from ostiary.http.auth import management_tx
from ostiary.http.management.app_authority import missing_scopes, require_app_authority
from ostiary.http.management.common import base_url, expansions, list_response, path_param
from ostiary.http.pagination import parse_after, parse_limit
from ostiary.http.requests import bool_param, json_array, json_object
from ostiary.http.responses import json_response, no_content
from ostiary.http.runtime import runtime
from ostiary.jose.key_encryption import KeyEncryptor

READ, MANAGE = "okta.apps.read", "okta.apps.manage"
GRANTS_READ, GRANTS_MANAGE = "okta.appGrants.read", "okta.appGrants.manage"

Handler = Callable[[Request], Awaitable[Response]]


def _encryptor(request: Request) -> KeyEncryptor | None:
    """The master-key encryptor (for ``client_secret_jwt`` secrets), when the runtime has one."""
    rings = getattr(runtime(request), "rings", None)
    encryptor = getattr(rings, "encryptor", None)
    return encryptor if isinstance(encryptor, KeyEncryptor) else None


def _app_id(request: Request) -> str:
    return path_param(request, "appId")


# --- apps ------------------------------------------------------------------------------------


def _expanded_user(request: Request) -> str | None:
    """The user id of ``expand=user/{userId}`` (Okta's one expansion of apps), else None."""
    for value in expansions(request.query_params.get("expand")):
        kind, _, user_id = value.partition("/")
        if kind == "user" and user_id:
            return user_id
    return None


async def _app_users_of(tx: Tx, app_ids: list[str], user_id: str | None) -> dict[str, Any]:
    """The user's app user of each app it is assigned to (directly or through a group)."""
    found: dict[str, Any] = {}
    if user_id is None:
        return found
    for app_id in app_ids:
        try:
            found[app_id] = await assignments.get_app_user(tx, app_id, user_id)
        except NotFound:
            continue
    return found


def _app_with_user(view: Any, base: str, app_users: dict[str, Any]) -> dict[str, Any]:
    """An app; with ``expand=user/{userId}`` the user's app user in ``_embedded.user``."""
    body = app_json(view, base)
    app_user = app_users.get(view.app.id)
    if app_user is not None:
        body["_embedded"] = {"user": app_user_json(app_user, public_app_id(view.app), base)}
    return body


async def list_apps(request: Request) -> Response:
    limit = parse_limit(request, default=20, maximum=200)
    params = request.query_params
    async with management_tx(request, READ) as tx:
        page = await apps_domain.list_apps(
            tx, q=params.get("q"), filter_text=params.get("filter"), after=parse_after(request), limit=limit
        )
        app_users = await _app_users_of(tx, [v.app.id for v in page.items], _expanded_user(request))
    return list_response(
        request, page.items, lambda view, base: _app_with_user(view, base, app_users), page.next_cursor
    )


async def create_app(request: Request) -> Response:
    activate = bool_param(request, "activate", True)
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        view = await apps_domain.create_app(tx, body, activate=activate, encryptor=_encryptor(request))
        return json_response(app_json(view, base_url(request)))


async def get_app(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        view = await apps_domain.get_app_view(tx, _app_id(request))
        app_users = await _app_users_of(tx, [view.app.id], _expanded_user(request))
        return json_response(_app_with_user(view, base_url(request), app_users))


async def replace_app(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        locked = bool(await missing_scopes(request, tx, _app_id(request)))
        view = await apps_domain.replace_app(
            tx, _app_id(request), body, encryptor=_encryptor(request), credentials_locked=locked
        )
        return json_response(app_json(view, base_url(request)))


async def delete_app(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await apps_domain.delete_app(tx, _app_id(request))
    return no_content()


def _lifecycle(action: Callable[..., Awaitable[object]]) -> Handler:
    async def handler(request: Request) -> Response:
        async with management_tx(request, MANAGE) as tx:
            await action(tx, _app_id(request))
        return json_response({})

    return handler


activate_app = _lifecycle(apps_domain.activate_app)
deactivate_app = _lifecycle(apps_domain.deactivate_app)


# --- client secrets --------------------------------------------------------------------------


async def list_secrets(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        rows = await client_secrets.list_secrets(tx, _app_id(request))
    base = base_url(request)
    return json_response([secret_json(row, base) for row in rows])


async def create_secret(request: Request) -> Response:
    body = await json_object(request, required=False)
    async with management_tx(request, MANAGE) as tx:
        await require_app_authority(request, tx, _app_id(request))
        row, plaintext = await client_secrets.create_secret(
            tx, _app_id(request), body, encryptor=_encryptor(request)
        )
        return json_response(secret_json(row, base_url(request), plaintext=plaintext), 201)


async def get_secret(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        row = await client_secrets.get_secret(tx, _app_id(request), path_param(request, "secretId"))
        return json_response(secret_json(row, base_url(request)))


def _secret_lifecycle(action: Callable[..., Awaitable[Any]]) -> Handler:
    async def handler(request: Request) -> Response:
        async with management_tx(request, MANAGE) as tx:
            await require_app_authority(request, tx, _app_id(request))
            row = await action(tx, _app_id(request), path_param(request, "secretId"))
            return json_response(secret_json(row, base_url(request)))

    return handler


activate_secret = _secret_lifecycle(client_secrets.activate_secret)
deactivate_secret = _secret_lifecycle(client_secrets.deactivate_secret)


async def delete_secret(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await require_app_authority(request, tx, _app_id(request))
        await client_secrets.delete_secret(tx, _app_id(request), path_param(request, "secretId"))
    return no_content()


# --- client JWKs -----------------------------------------------------------------------------


async def list_keys(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        rows = await client_jwks.list_keys(tx, _app_id(request))
    base = base_url(request)
    return json_response([jwk_json(row, base) for row in rows])


async def add_key(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        await require_app_authority(request, tx, _app_id(request))
        row = await client_jwks.add_key(tx, _app_id(request), body)
        return json_response(jwk_json(row, base_url(request)), 201)


async def get_key(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        row = await client_jwks.get_key(tx, _app_id(request), path_param(request, "keyId"))
        return json_response(jwk_json(row, base_url(request)))


def _key_lifecycle(action: Callable[..., Awaitable[Any]]) -> Handler:
    async def handler(request: Request) -> Response:
        async with management_tx(request, MANAGE) as tx:
            await require_app_authority(request, tx, _app_id(request))
            row = await action(tx, _app_id(request), path_param(request, "keyId"))
            return json_response(jwk_json(row, base_url(request)))

    return handler


activate_key = _key_lifecycle(client_jwks.activate_key)
deactivate_key = _key_lifecycle(client_jwks.deactivate_key)


async def delete_key(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await require_app_authority(request, tx, _app_id(request))
        await client_jwks.delete_key(tx, _app_id(request), path_param(request, "keyId"))
    return no_content()


# --- user assignments ------------------------------------------------------------------------


async def list_app_users(request: Request) -> Response:
    limit = parse_limit(request, default=50, maximum=500)
    app_id = _app_id(request)
    async with management_tx(request, READ) as tx:
        page = await assignments.list_app_users(
            tx, app_id, q=request.query_params.get("q"), after=parse_after(request), limit=limit
        )
    with_user = "user" in expansions(request.query_params.get("expand"))
    return list_response(
        request,
        page.items,
        lambda item, base: _app_user(item, app_id, base, with_user=with_user),
        page.next_cursor,
    )


def _app_user(app_user: Any, app_id: str, base: str, *, with_user: bool) -> dict[str, Any]:
    """An app user; ``expand=user`` embeds the user (``_embedded.user``)."""
    body = app_user_json(app_user, app_id, base)
    if with_user:
        body["_embedded"] = {"user": user_json(app_user.user, base)}
    return body


async def assign_user(request: Request) -> Response:
    body = await json_object(request)
    app_id = _app_id(request)
    async with management_tx(request, MANAGE) as tx:
        app_user = await assignments.assign_user(tx, app_id, body)
        return json_response(app_user_json(app_user, app_id, base_url(request)))


async def get_app_user(request: Request) -> Response:
    app_id = _app_id(request)
    async with management_tx(request, READ) as tx:
        app_user = await assignments.get_app_user(tx, app_id, path_param(request, "userId"))
        with_user = "user" in expansions(request.query_params.get("expand"))
        return json_response(_app_user(app_user, app_id, base_url(request), with_user=with_user))


async def update_app_user(request: Request) -> Response:
    body = await json_object(request)
    app_id = _app_id(request)
    async with management_tx(request, MANAGE) as tx:
        app_user = await assignments.update_app_user(tx, app_id, path_param(request, "userId"), body)
        return json_response(app_user_json(app_user, app_id, base_url(request)))


async def unassign_user(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await assignments.unassign_user(tx, _app_id(request), path_param(request, "userId"))
    return no_content()


# --- group assignments -----------------------------------------------------------------------


async def list_group_assignments(request: Request) -> Response:
    limit = parse_limit(request, default=20, maximum=200)
    async with management_tx(request, READ) as tx:
        page = await assignments.list_group_assignments(
            tx,
            _app_id(request),
            q=request.query_params.get("q"),
            after=parse_after(request),
            limit=limit,
        )
        groups = await _groups_if_expanded(request, tx, [a.group_id for a in page.items])
    return list_response(
        request, page.items, lambda item, base: _group_assignment(item, base, groups), page.next_cursor
    )


async def _groups_if_expanded(request: Request, tx: Tx, group_ids: list[str]) -> dict[str, Any] | None:
    """The assigned groups by id when ``expand=group`` asks for them, else None."""
    if "group" not in expansions(request.query_params.get("expand")):
        return None
    return {g.id: g for g in await groups_domain.groups_by_id(tx, group_ids)}


def _group_assignment(assignment: Any, base: str, groups: dict[str, Any] | None) -> dict[str, Any]:
    """A group assignment; ``expand=group`` embeds the group (``_embedded.group``)."""
    body = group_assignment_json(assignment, base)
    group = groups.get(assignment.group_id) if groups is not None else None
    if group is not None:
        body["_embedded"] = {"group": group_json(group, base)}
    return body


async def assign_group(request: Request) -> Response:
    body = await json_object(request, required=False)
    async with management_tx(request, MANAGE) as tx:
        assignment = await assignments.assign_group(
            tx, _app_id(request), path_param(request, "groupId"), body
        )
        return json_response(group_assignment_json(assignment, base_url(request)))


async def get_group_assignment(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        assignment = await assignments.get_group_assignment(
            tx, _app_id(request), path_param(request, "groupId")
        )
        groups = await _groups_if_expanded(request, tx, [assignment.group_id])
        return json_response(_group_assignment(assignment, base_url(request), groups))


async def patch_group_assignment(request: Request) -> Response:
    ops = await json_array(request)
    async with management_tx(request, MANAGE) as tx:
        assignment = await assignments.patch_group_assignment(
            tx, _app_id(request), path_param(request, "groupId"), ops
        )
        return json_response(group_assignment_json(assignment, base_url(request)))


async def unassign_group(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await assignments.unassign_group(tx, _app_id(request), path_param(request, "groupId"))
    return no_content()


# --- scope consent grants --------------------------------------------------------------------


async def list_grants(request: Request) -> Response:
    limit = parse_limit(request, default=200, maximum=200)
    async with management_tx(request, GRANTS_READ) as tx:
        page = await scope_grants.list_grants(tx, _app_id(request), after=parse_after(request), limit=limit)
    return list_response(request, page.items, grant_json, page.next_cursor)


async def grant_scope(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, GRANTS_MANAGE) as tx:
        scope_id = body.get("scopeId")
        await require_app_authority(
            request, tx, _app_id(request), [scope_id] if isinstance(scope_id, str) else []
        )
        org_url = runtime(request).org_url(tx.org)
        grant = await scope_grants.grant_scope(tx, _app_id(request), body, org_url=org_url)
        return json_response(grant_json(grant, base_url(request)), 201)


async def get_grant(request: Request) -> Response:
    async with management_tx(request, GRANTS_READ) as tx:
        grant = await scope_grants.get_grant(tx, _app_id(request), path_param(request, "grantId"))
        return json_response(grant_json(grant, base_url(request)))


async def revoke_grant(request: Request) -> Response:
    async with management_tx(request, GRANTS_MANAGE) as tx:
        await require_app_authority(request, tx, _app_id(request))
        await scope_grants.revoke_grant(tx, _app_id(request), path_param(request, "grantId"))
    return no_content()


_APP = "/api/v1/apps/{appId}"
_SECRET = _APP + "/credentials/secrets/{secretId}"
_KEY = _APP + "/credentials/jwks/{keyId}"

routes = [
    Route("/api/v1/apps", list_apps, methods=["GET"]),
    Route("/api/v1/apps", create_app, methods=["POST"]),
    Route(_APP, get_app, methods=["GET"]),
    Route(_APP, replace_app, methods=["PUT"]),
    Route(_APP, delete_app, methods=["DELETE"]),
    Route(_APP + "/lifecycle/activate", activate_app, methods=["POST"]),
    Route(_APP + "/lifecycle/deactivate", deactivate_app, methods=["POST"]),
    Route(_APP + "/credentials/secrets", list_secrets, methods=["GET"]),
    Route(_APP + "/credentials/secrets", create_secret, methods=["POST"]),
    Route(_SECRET, get_secret, methods=["GET"]),
    Route(_SECRET, delete_secret, methods=["DELETE"]),
    Route(_SECRET + "/lifecycle/activate", activate_secret, methods=["POST"]),
    Route(_SECRET + "/lifecycle/deactivate", deactivate_secret, methods=["POST"]),
    Route(_APP + "/credentials/jwks", list_keys, methods=["GET"]),
    Route(_APP + "/credentials/jwks", add_key, methods=["POST"]),
    Route(_KEY, get_key, methods=["GET"]),
    Route(_KEY, delete_key, methods=["DELETE"]),
    Route(_KEY + "/lifecycle/activate", activate_key, methods=["POST"]),
    Route(_KEY + "/lifecycle/deactivate", deactivate_key, methods=["POST"]),
    Route(_APP + "/users", list_app_users, methods=["GET"]),
    Route(_APP + "/users", assign_user, methods=["POST"]),
    Route(_APP + "/users/{userId}", get_app_user, methods=["GET"]),
    Route(_APP + "/users/{userId}", update_app_user, methods=["POST"]),
    Route(_APP + "/users/{userId}", unassign_user, methods=["DELETE"]),
    Route(_APP + "/groups", list_group_assignments, methods=["GET"]),
    Route(_APP + "/groups/{groupId}", get_group_assignment, methods=["GET"]),
    Route(_APP + "/groups/{groupId}", assign_group, methods=["PUT"]),
    Route(_APP + "/groups/{groupId}", patch_group_assignment, methods=["PATCH"]),
    Route(_APP + "/groups/{groupId}", unassign_group, methods=["DELETE"]),
    Route(_APP + "/grants", list_grants, methods=["GET"]),
    Route(_APP + "/grants", grant_scope, methods=["POST"]),
    Route(_APP + "/grants/{grantId}", get_grant, methods=["GET"]),
    Route(_APP + "/grants/{grantId}", revoke_grant, methods=["DELETE"]),
]
