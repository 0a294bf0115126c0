"""Admin roles on the management API: the permission a request needs, the resources its path
names, and the 403 when the caller's roles (``domain.roles.authority``) do not permit it.

The permission is the route's ``okta.*`` scope, made finer where Okta's standard roles differ:
a password reset, expiry or unlock needs ``okta.users.credentials.manage`` (the help desk's), and
adding or removing a group member ``okta.groups.members.manage``.
"""

from __future__ import annotations

import json
import re

from starlette.requests import Request

from ostiary.domain.context import Tx
from ostiary.domain.roles import permissions
from ostiary.domain.roles.authority import CONSOLE_ADMINS, Resource, may_add_to_groups, permits
from ostiary.http.errors import OktaHTTPError
from ostiary.http.runtime import Principal

FORBIDDEN = "You do not have permission to perform the requested action"
_CREDENTIALS = re.compile(
    r"^/api/v1/users/[^/]+/lifecycle/(reset_password|expire_password|unlock|reset_factors)$"
)
_MEMBER = re.compile(r"^/api/v1/groups/[^/]+/users/[^/]+$")


def permission_for(scope: str, request: Request) -> str:
    path = request.url.path
    if scope == permissions.USERS_MANAGE and _CREDENTIALS.match(path):
        return permissions.USERS_CREDENTIALS
    if scope == permissions.GROUPS_MANAGE and _MEMBER.match(path):
        return permissions.GROUP_MEMBERS
    return scope


def resource_of(request: Request, principal: Principal) -> Resource:
    params = request.path_params
    user = params.get("userId")
    if user is None and request.url.path.startswith("/api/v1/users/"):
        user = params.get("id")
    if user == "me":
        user = principal.user_id
    app = params.get("appId")
    if app is None and request.url.path.startswith("/oauth2/v1/clients/"):
        app = params.get("clientId")
    return Resource(user=user, group=params.get("groupId"), app=app)


async def require_role(request: Request, tx: Tx, principal: Principal, scope: str) -> None:
    """403 E0000006 unless one of the caller's roles permits this request."""
    if principal.authority.grants is None:
        return
    permission = permission_for(scope, request)
    if not await permits(tx, principal.authority, permission, resource_of(request, principal)):
        raise OktaHTTPError(403, "E0000006", FORBIDDEN)
    if request.method == "POST" and request.url.path == "/api/v1/users":
        group_ids = await _group_ids_of_new_user(request)
        if group_ids and not await may_add_to_groups(tx, principal.authority, group_ids):
            raise OktaHTTPError(403, "E0000006", FORBIDDEN)
    if (
        request.method in ("POST", "PUT")
        and request.url.path.startswith("/api/v1/groups")
        and not principal.authority.is_super_admin
        and await _names_console_admins(request)
    ):
        raise OktaHTTPError(403, "E0000006", FORBIDDEN)  # its members are super admins


async def _names_console_admins(request: Request) -> bool:
    """Whether a group create or update names the group whose members are super admins."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        return False
    profile = body.get("profile") if isinstance(body, dict) else None
    name = profile.get("name") if isinstance(profile, dict) else None
    return isinstance(name, str) and name.strip().casefold() == CONSOLE_ADMINS.casefold()


async def _group_ids_of_new_user(request: Request) -> list[str]:
    """The ``groupIds`` of a user creation (the handler has read and validated the body; Starlette
    keeps it on the request)."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        return []
    ids = body.get("groupIds") if isinstance(body, dict) else None
    return [g for g in ids if isinstance(g, str)] if isinstance(ids, list) else []
