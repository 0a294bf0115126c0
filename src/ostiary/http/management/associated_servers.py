"""/api/v1/authorizationServers/{authServerId}/associatedServers: the servers a server trusts
(``GET ?trusted=``, ``POST {"trusted": [ids]}``, ``DELETE …/{associatedServerId}``), answered
as Okta's AuthorizationServer objects."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.authz import associated_servers as domain
from ostiary.domain.authz import server_admin
from ostiary.domain.authz.server_json import server_json
from ostiary.domain.context import Tx
from ostiary.http.auth import management_tx
from ostiary.http.management.common import base_url, path_param
from ostiary.http.requests import bool_param, json_object
from ostiary.http.responses import json_response, no_content
from ostiary.http.runtime import runtime

READ, MANAGE = "okta.authorizationServers.read", "okta.authorizationServers.manage"
ASSOCIATED = "/api/v1/authorizationServers/{authServerId}/associatedServers"


async def _render(request: Request, tx: Tx, servers: list[Any]) -> list[dict[str, Any]]:
    kids = await server_admin.active_kids(tx.session, tx.org_id, [s.id for s in servers])
    base, org_url = base_url(request), runtime(request).org_url(tx.org)
    return [server_json(s, base, org_url, kids.get(s.id)) for s in servers]


async def list_associated(request: Request) -> Response:
    trusted = bool_param(request, "trusted", True)
    async with management_tx(request, READ) as tx:
        _server, found = await domain.list_associated(
            tx, path_param(request, "authServerId"), trusted=trusted, q=request.query_params.get("q")
        )
        return json_response(await _render(request, tx, found))


async def associate(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        found = await domain.associate(tx, path_param(request, "authServerId"), body)
        return json_response(await _render(request, tx, found))


async def dissociate(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await domain.dissociate(
            tx, path_param(request, "authServerId"), path_param(request, "associatedServerId")
        )
    return no_content()


routes = [
    Route(ASSOCIATED, list_associated, methods=["GET"]),
    Route(ASSOCIATED, associate, methods=["POST"]),
    Route(ASSOCIATED + "/{associatedServerId}", dissociate, methods=["DELETE"]),
]
