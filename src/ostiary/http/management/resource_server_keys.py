"""/api/v1/authorizationServers/{authServerId}/resourceservercredentials/keys: the resource
server's public JWT encryption keys (read with ``okta.authorizationServers.read``, changed with
``okta.authorizationServers.manage``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.authz import resource_server_keys as domain
from ostiary.http.auth import management_tx
from ostiary.http.management.common import base_url, path_param
from ostiary.http.requests import json_object
from ostiary.http.responses import json_response, no_content

READ, MANAGE = "okta.authorizationServers.read", "okta.authorizationServers.manage"
KEYS = "/api/v1/authorizationServers/{authServerId}/resourceservercredentials/keys"
KEY = KEYS + "/{keyId}"


def _server_id(request: Request) -> str:
    return path_param(request, "authServerId")


async def list_keys(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        keys = await domain.list_keys(tx, _server_id(request))
        return json_response([domain.key_json(key, base_url(request)) for key in keys])


async def add_key(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        key = await domain.add_key(tx, _server_id(request), body)
        return json_response(domain.key_json(key, base_url(request)), 201)


async def get_key(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        key = await domain.get_key(tx, _server_id(request), path_param(request, "keyId"))
        return json_response(domain.key_json(key, base_url(request)))


async def delete_key(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await domain.delete_key(tx, _server_id(request), path_param(request, "keyId"))
    return no_content()


def _lifecycle(status: str) -> Callable[[Request], Awaitable[Response]]:
    async def change(request: Request) -> Response:
        async with management_tx(request, MANAGE) as tx:
            key = await domain.set_status(tx, _server_id(request), path_param(request, "keyId"), status)
            return json_response(domain.key_json(key, base_url(request)))

    return change


routes = [
    Route(KEYS, list_keys, methods=["GET"]),
    Route(KEYS, add_key, methods=["POST"]),
    Route(KEY, get_key, methods=["GET"]),
    Route(KEY, delete_key, methods=["DELETE"]),
    Route(KEY + "/lifecycle/activate", _lifecycle(domain.ACTIVE), methods=["POST"]),
    Route(KEY + "/lifecycle/deactivate", _lifecycle(domain.INACTIVE), methods=["POST"]),
]
