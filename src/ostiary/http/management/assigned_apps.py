"""``GET /api/v1/users/{id}/appLinks`` and ``GET /api/v1/groups/{groupId}/apps``."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary import ids
from ostiary.domain.clients import assigned_apps
from ostiary.domain.clients.app_json import app_json
from ostiary.http.auth import management_tx
from ostiary.http.management.common import base_url, list_response, path_param
from ostiary.http.pagination import parse_after, parse_limit
from ostiary.http.responses import json_response


def _assignment_id(app_id: str, user_id: str) -> str:
    """A stable ``0ua…`` id for the (app, user) pair: Ostiary keys assignments by the pair."""
    number = int.from_bytes(hashlib.sha256(f"{app_id}:{user_id}".encode()).digest()[:13], "big")
    chars = []
    for _ in range(17):
        number, rest = divmod(number, len(ids.ALPHABET))
        chars.append(ids.ALPHABET[rest])
    return "0ua" + "".join(chars)


def _link_json(link: assigned_apps.AppLink, index: int, base: str) -> dict[str, Any]:
    app = link.app
    return {
        "id": link.user.id,
        "label": app.label,
        "linkUrl": f"{base}/home/{app.name}/{app.id}",
        "logoUrl": f"{base}/img/logos/default.png",
        "appName": app.name,
        "appInstanceId": app.id,
        "appAssignmentId": _assignment_id(app.id, link.user.id),
        "credentialsSetup": False,
        "hidden": True,  # OIDC apps are hidden from the end-user dashboard (visibility.hide.web)
        "sortOrder": index,
    }


async def app_links(request: Request) -> Response:
    async with management_tx(request, "okta.users.read") as tx:
        links = await assigned_apps.app_links(tx, path_param(request, "id"))
    base = base_url(request)
    return json_response([_link_json(link, i, base) for i, link in enumerate(links)])


async def group_apps(request: Request) -> Response:
    limit = parse_limit(request, default=20, maximum=200)
    async with management_tx(request, "okta.groups.read") as tx:
        page = await assigned_apps.group_apps(
            tx, path_param(request, "groupId"), after=parse_after(request), limit=limit
        )
    return list_response(request, page.items, app_json, page.next_cursor)


routes = [
    Route("/api/v1/users/{id}/appLinks", app_links, methods=["GET"]),
    Route("/api/v1/groups/{groupId}/apps", group_apps, methods=["GET"]),
]
