"""/api/v1/apps/{appId}/credentials/keys: an app's X.509 key credentials (JsonWebKey with
``x5c``): listed and read with ``okta.apps.read``, generated (``validityYears``) and cloned
(``targetAid``) with ``okta.apps.manage``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.clients import key_credentials as domain
from ostiary.http.auth import management_tx
from ostiary.http.management.common import path_param
from ostiary.http.responses import json_response

READ, MANAGE = "okta.apps.read", "okta.apps.manage"
KEYS = "/api/v1/apps/{appId}/credentials/keys"


async def list_keys(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        keys = await domain.list_keys(tx, path_param(request, "appId"))
        return json_response([domain.key_json(key) for key in keys])


async def generate_key(request: Request) -> Response:
    years = domain.parse_years(request.query_params.get("validityYears"))
    async with management_tx(request, MANAGE) as tx:
        key = await domain.generate_key(tx, path_param(request, "appId"), years)
        return json_response(domain.key_json(key), 201)


async def get_key(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        key = await domain.get_key(tx, path_param(request, "appId"), path_param(request, "keyId"))
        return json_response(domain.key_json(key))


async def clone_key(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        key = await domain.clone_key(
            tx,
            path_param(request, "appId"),
            path_param(request, "keyId"),
            request.query_params.get("targetAid"),
        )
        return json_response(domain.key_json(key), 201)


routes = [
    Route(KEYS, list_keys, methods=["GET"]),
    Route(KEYS + "/generate", generate_key, methods=["POST"]),
    Route(KEYS + "/{keyId}", get_key, methods=["GET"]),
    Route(KEYS + "/{keyId}/clone", clone_key, methods=["POST"]),
]
