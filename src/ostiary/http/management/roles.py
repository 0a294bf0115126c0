"""Admin role assignments: ``/api/v1/users/{userId}/roles``, ``/api/v1/groups/{groupId}/roles``,
``/oauth2/v1/clients/{clientId}/roles``, each with group and app targets.

Reading needs ``okta.roles.read`` and changing ``okta.roles.manage``: in the role table
(``domain.roles.permissions``) only super admins hold them. Assigning or removing ``SUPER_ADMIN``
needs a super admin caller even when roles do not limit the caller (an app without roles).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.context import Tx
from ostiary.domain.directory.directory_json import group_json
from ostiary.domain.roles import assignments, permissions
from ostiary.domain.roles.assignments import CLIENT, GROUP, USER, Assignee, RoleAssignment
from ostiary.http.auth import management_tx
from ostiary.http.management.common import base_url, path_param
from ostiary.http.requests import json_object
from ostiary.http.responses import json_response, no_content
from ostiary.http.runtime import Principal
from ostiary.timeutil import iso

READ, MANAGE = permissions.ROLES_READ, permissions.ROLES_MANAGE
_PATHS = {
    USER: ("/api/v1/users/{userId}/roles", "userId"),
    GROUP: ("/api/v1/groups/{groupId}/roles", "groupId"),
    CLIENT: ("/oauth2/v1/clients/{clientId}/roles", "clientId"),
}
Handler = Callable[[Request], Awaitable[Response]]


def _assignee_href(assignment: RoleAssignment, base: str) -> str:
    if assignment.assignee_type == USER:
        return f"{base}/api/v1/users/{assignment.assignee_id}"
    if assignment.assignee_type == GROUP:
        return f"{base}/api/v1/groups/{assignment.assignee_id}"
    return f"{base}/oauth2/v1/clients/{assignment.assignee_id}/roles"


def role_json(assignment: RoleAssignment, base: str) -> dict[str, Any]:
    return {
        "id": assignment.id,
        "label": permissions.LABELS.get(assignment.role_type, assignment.role_type),
        "type": assignment.role_type,
        "status": "ACTIVE",
        "created": iso(assignment.created),
        "lastUpdated": iso(assignment.last_updated),
        "assignmentType": assignment.assignee_type,
        "_links": {"assignee": {"href": _assignee_href(assignment, base)}},
    }


def _may_change_super_admin(request: Request) -> bool:
    principal = request.state.principal
    return isinstance(principal, Principal) and principal.authority.is_super_admin


async def _assignee(request: Request, tx: Tx, kind: str) -> Assignee:
    return await assignments.resolve_assignee(tx, kind, path_param(request, _PATHS[kind][1]))


def _handlers(kind: str) -> dict[str, Handler]:
    async def list_roles(request: Request) -> Response:
        async with management_tx(request, READ) as tx:
            found = await assignments.list_roles(tx, await _assignee(request, tx, kind))
            base = base_url(request)
            return json_response([role_json(a, base) for a in found])

    async def assign(request: Request) -> Response:
        body = await json_object(request)
        async with management_tx(request, MANAGE) as tx:
            assignee = await _assignee(request, tx, kind)
            made = await assignments.assign_role(
                tx, assignee, body.get("type"), may_change_super_admin=_may_change_super_admin(request)
            )
            return json_response(role_json(made, base_url(request)), status_code=201 if kind == USER else 200)

    async def get_role(request: Request) -> Response:
        async with management_tx(request, READ) as tx:
            assignee = await _assignee(request, tx, kind)
            found = await assignments.get_role(tx, assignee, path_param(request, "roleAssignmentId"))
            return json_response(role_json(found, base_url(request)))

    async def unassign(request: Request) -> Response:
        async with management_tx(request, MANAGE) as tx:
            assignee = await _assignee(request, tx, kind)
            await assignments.unassign_role(
                tx,
                assignee,
                path_param(request, "roleAssignmentId"),
                may_change_super_admin=_may_change_super_admin(request),
            )
        return no_content()

    async def _role(request: Request, tx: Tx) -> RoleAssignment:
        assignee = await _assignee(request, tx, kind)
        return await assignments.get_role(tx, assignee, path_param(request, "roleAssignmentId"))

    async def list_group_targets(request: Request) -> Response:
        async with management_tx(request, READ) as tx:
            groups = await assignments.group_targets(tx, await _role(request, tx))
            base = base_url(request)
            return json_response([group_json(g, base) for g in groups])

    async def add_group_target(request: Request) -> Response:
        async with management_tx(request, MANAGE) as tx:
            await assignments.add_group_target(
                tx, await _role(request, tx), path_param(request, "targetGroupId")
            )
        return no_content()

    async def remove_group_target(request: Request) -> Response:
        async with management_tx(request, MANAGE) as tx:
            await assignments.remove_group_target(
                tx, await _role(request, tx), path_param(request, "targetGroupId")
            )
        return no_content()

    async def list_app_targets(request: Request) -> Response:
        async with management_tx(request, READ) as tx:
            targets = await assignments.app_targets(tx, await _role(request, tx))
            base = base_url(request)
            out: list[dict[str, Any]] = []
            for name, app in targets:
                if app is None:
                    out.append({"name": name, "displayName": name, "status": "ACTIVE", "_links": {}})
                else:
                    out.append(
                        {
                            "name": app.name,
                            "displayName": app.label,
                            "status": app.status,
                            "id": app.id,
                            "_links": {"self": {"href": f"{base}/api/v1/apps/{app.id}"}},
                        }
                    )
            return json_response(out)

    def _app_target(change: Callable[..., Awaitable[None]]) -> Handler:
        async def handler(request: Request) -> Response:
            async with management_tx(request, MANAGE) as tx:
                await change(
                    tx,
                    await _role(request, tx),
                    path_param(request, "appName"),
                    request.path_params.get("targetAppId"),
                )
            return no_content()

        return handler

    return {
        "list": list_roles,
        "assign": assign,
        "get": get_role,
        "unassign": unassign,
        "list_groups": list_group_targets,
        "add_group": add_group_target,
        "remove_group": remove_group_target,
        "list_apps": list_app_targets,
        "add_app": _app_target(assignments.add_app_target),
        "remove_app": _app_target(assignments.remove_app_target),
    }


def _routes(kind: str) -> list[Route]:
    base = _PATHS[kind][0]
    one = base + "/{roleAssignmentId}"
    h = _handlers(kind)
    return [
        Route(base, h["list"], methods=["GET"]),
        Route(base, h["assign"], methods=["POST"]),
        Route(one, h["get"], methods=["GET"]),
        Route(one, h["unassign"], methods=["DELETE"]),
        Route(one + "/targets/groups", h["list_groups"], methods=["GET"]),
        Route(one + "/targets/groups/{targetGroupId}", h["add_group"], methods=["PUT"]),
        Route(one + "/targets/groups/{targetGroupId}", h["remove_group"], methods=["DELETE"]),
        Route(one + "/targets/catalog/apps", h["list_apps"], methods=["GET"]),
        Route(one + "/targets/catalog/apps/{appName}", h["add_app"], methods=["PUT"]),
        Route(one + "/targets/catalog/apps/{appName}", h["remove_app"], methods=["DELETE"]),
        Route(one + "/targets/catalog/apps/{appName}/{targetAppId}", h["add_app"], methods=["PUT"]),
        Route(one + "/targets/catalog/apps/{appName}/{targetAppId}", h["remove_app"], methods=["DELETE"]),
    ]


routes = [*_routes(USER), *_routes(GROUP), *_routes(CLIENT)]
