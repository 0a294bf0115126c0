"""/api/v1/trustedOrigins: list (``q``, ``filter``), create (200), get, replace (200), delete (204),
lifecycle activate/deactivate (200 with the TrustedOrigin)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.directory import trusted_origins
from ostiary.http.auth import management_tx
from ostiary.http.management.common import base_url, list_response, path_param
from ostiary.http.pagination import parse_after, parse_limit
from ostiary.http.requests import json_object
from ostiary.http.responses import json_response, no_content
from ostiary.timeutil import iso

READ, MANAGE = "okta.trustedOrigins.read", "okta.trustedOrigins.manage"


def trusted_origin_json(row: trusted_origins.TrustedOriginRecord, base: str) -> dict[str, Any]:
    href = f"{base}/api/v1/trustedOrigins/{row.id}"
    links: dict[str, Any] = {"self": {"href": href, "hints": {"allow": ["GET", "PUT", "DELETE"]}}}
    if row.status == trusted_origins.ACTIVE:
        links["deactivate"] = {"href": f"{href}/lifecycle/deactivate", "hints": {"allow": ["POST"]}}
    else:
        links["activate"] = {"href": f"{href}/lifecycle/activate", "hints": {"allow": ["POST"]}}
    return {
        "id": row.id,
        "name": row.name,
        "origin": row.origin,
        "scopes": row.scopes,
        "status": row.status,
        "created": iso(row.created),
        "createdBy": row.created_by,
        "lastUpdated": iso(row.last_updated),
        "lastUpdatedBy": row.last_updated_by,
        "_links": links,
    }


async def list_origins(request: Request) -> Response:
    limit = parse_limit(request, default=20, maximum=200)
    params = request.query_params
    async with management_tx(request, READ) as tx:
        page = await trusted_origins.list_origins(
            tx, q=params.get("q"), filter_text=params.get("filter"), after=parse_after(request), limit=limit
        )
    return list_response(request, page.items, trusted_origin_json, page.next_cursor)


async def create_origin(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        row = await trusted_origins.create_origin(tx, body)
        return json_response(trusted_origin_json(row, base_url(request)))


async def get_origin(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        row = await trusted_origins.get_origin(tx, path_param(request, "trustedOriginId"))
        return json_response(trusted_origin_json(row, base_url(request)))


async def replace_origin(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        row = await trusted_origins.replace_origin(tx, path_param(request, "trustedOriginId"), body)
        return json_response(trusted_origin_json(row, base_url(request)))


async def delete_origin(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await trusted_origins.delete_origin(tx, path_param(request, "trustedOriginId"))
    return no_content()


async def activate(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        row = await trusted_origins.activate(tx, path_param(request, "trustedOriginId"))
        return json_response(trusted_origin_json(row, base_url(request)))


async def deactivate(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        row = await trusted_origins.deactivate(tx, path_param(request, "trustedOriginId"))
        return json_response(trusted_origin_json(row, base_url(request)))


routes = [
    Route("/api/v1/trustedOrigins", list_origins, methods=["GET"]),
    Route("/api/v1/trustedOrigins", create_origin, methods=["POST"]),
    Route("/api/v1/trustedOrigins/{trustedOriginId}", get_origin, methods=["GET"]),
    Route("/api/v1/trustedOrigins/{trustedOriginId}", replace_origin, methods=["PUT"]),
    Route("/api/v1/trustedOrigins/{trustedOriginId}", delete_origin, methods=["DELETE"]),
    Route("/api/v1/trustedOrigins/{trustedOriginId}/lifecycle/activate", activate, methods=["POST"]),
    Route("/api/v1/trustedOrigins/{trustedOriginId}/lifecycle/deactivate", deactivate, methods=["POST"]),
]
