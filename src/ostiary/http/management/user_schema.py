"""``/api/v1/meta/schemas/user/{default|schemaId}`` (GET, POST custom properties) and
``/api/v1/meta/types/user`` (the org's one, default, user type)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.context import Tx
from ostiary.domain.directory import user_schema
from ostiary.domain.directory.users import default_type_id
from ostiary.http.auth import management_tx
from ostiary.http.errors import OktaHTTPError
from ostiary.http.management.common import base_url, path_param
from ostiary.http.requests import json_object
from ostiary.http.responses import json_response
from ostiary.timeutil import iso

SCHEMA_READ, SCHEMA_MANAGE = "okta.schemas.read", "okta.schemas.manage"
TYPES_READ = "okta.userTypes.read"


def _check_schema_id(tx: Tx, request: Request) -> None:
    requested = path_param(request, "schemaId")
    if requested not in ("default", user_schema.schema_id(tx.org_id)):
        raise OktaHTTPError(404, "E0000007", f"Not found: Resource not found: {requested} (UserSchema)")


async def get_schema(request: Request) -> Response:
    async with management_tx(request, SCHEMA_READ) as tx:
        _check_schema_id(tx, request)
        return json_response(await user_schema.schema_json(tx, base_url(request)))


async def update_schema(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, SCHEMA_MANAGE) as tx:
        _check_schema_id(tx, request)
        await user_schema.update_custom(tx, body)
        return json_response(await user_schema.schema_json(tx, base_url(request)))


def _type_json(tx: Tx, base: str) -> dict[str, Any]:
    type_id = default_type_id(tx)
    created = iso(tx.org.created)
    return {
        "id": type_id,
        "displayName": "User",
        "name": "user",
        "description": "Okta user profile template with default permission settings",
        "createdBy": "system",
        "lastUpdatedBy": "system",
        "created": created,
        "lastUpdated": created,
        "default": True,
        "_links": {
            "self": {"href": f"{base}/api/v1/meta/types/user/{type_id}", "hints": {"allow": ["GET"]}},
            "schema": {
                "href": f"{base}/api/v1/meta/schemas/user/{user_schema.schema_id(tx.org_id)}",
                "hints": {"allow": ["GET", "POST"]},
            },
        },
    }


async def list_types(request: Request) -> Response:
    async with management_tx(request, TYPES_READ) as tx:
        return json_response([_type_json(tx, base_url(request))])


async def get_type(request: Request) -> Response:
    async with management_tx(request, TYPES_READ) as tx:
        requested = path_param(request, "typeId")
        if requested not in ("default", default_type_id(tx)):
            raise OktaHTTPError(404, "E0000007", f"Not found: Resource not found: {requested} (UserType)")
        return json_response(_type_json(tx, base_url(request)))


routes = [
    Route("/api/v1/meta/schemas/user/{schemaId}", get_schema, methods=["GET"]),
    Route("/api/v1/meta/schemas/user/{schemaId}", update_schema, methods=["POST"]),
    Route("/api/v1/meta/types/user", list_types, methods=["GET"]),
    Route("/api/v1/meta/types/user/{typeId}", get_type, methods=["GET"]),
]
