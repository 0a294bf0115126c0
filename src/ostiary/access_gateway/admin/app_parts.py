"""An app's protected resources, attributes and policies: ``/api/v2/apps/{id}/{kind}[/{partId}]``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ostiary.access_gateway.admin import repository, schemas
from ostiary.access_gateway.admin.app_documents import with_weights
from ostiary.access_gateway.admin.apps import load_app, runtime_of
from ostiary.access_gateway.admin.authorization import require_scope
from ostiary.access_gateway.admin.errors import bad_request, not_found
from ostiary.access_gateway.admin.scopes import APP_MANAGE, APP_READ
from ostiary.access_gateway.admin.validation import Schema, compile_regex, is_uuid, read_json, validate


def _check_policy(document: dict[str, Any]) -> None:
    rule, path = document["rule"], document["resourcePath"]
    if rule == "PROTECTED_REGEX" and not document.get("regexRule"):
        raise bad_request("Request validation failed", regexRule="is required when rule is PROTECTED_REGEX")
    if rule == "CUSTOM":
        try:
            compile_regex(path)
        except ValueError:
            raise bad_request(
                "Request validation failed", resourcePath="is not a valid regular expression"
            ) from None
    elif not path.startswith("/"):
        raise bad_request("Request validation failed", resourcePath="must start with /")


def _no_check(_document: dict[str, Any]) -> None:
    return None


@dataclass(frozen=True)
class PartKind:
    kind: str
    segment: str
    id_param: str
    schema: Schema
    required: tuple[str, ...]
    defaults: dict[str, Any]
    what: str
    check: Callable[[dict[str, Any]], None] = _no_check
    render_all: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] = lambda parts: parts


RESOURCES = PartKind(
    repository.RESOURCE,
    "resources",
    "protectedResourceId",
    schemas.RESOURCE,
    schemas.RESOURCE_REQUIRED,
    schemas.RESOURCE_DEFAULTS,
    "protected resource",
    render_all=with_weights,
)
ATTRIBUTES = PartKind(
    repository.ATTRIBUTE,
    "attributes",
    "attributeId",
    schemas.ATTRIBUTE,
    schemas.ATTRIBUTE_REQUIRED,
    schemas.ATTRIBUTE_DEFAULTS,
    "attribute",
)
POLICIES = PartKind(
    repository.POLICY,
    "policies",
    "policyId",
    schemas.POLICY,
    schemas.POLICY_REQUIRED,
    schemas.POLICY_DEFAULTS,
    "policy",
    check=_check_policy,
)


def _normalize(kind: PartKind, document: dict[str, Any]) -> dict[str, Any]:
    if kind is RESOURCES:
        document["hostname"] = document["hostname"].rstrip("/")
    return document


def _one(kind: PartKind, parts: list[dict[str, Any]], part_id: str) -> dict[str, Any]:
    for part in kind.render_all(parts):
        if part["id"] == part_id:
            return part
    raise not_found(kind.what)


def routes_for(kind: PartKind) -> list[Route]:
    async def list_parts(request: Request) -> Response:
        await require_scope(request, APP_READ)
        async with runtime_of(request).engine.connect() as conn:
            row = await load_app(conn, request)
            return JSONResponse(kind.render_all(await repository.list_parts(conn, row["id"], kind.kind)))

    async def create_part(request: Request) -> Response:
        await require_scope(request, APP_MANAGE)
        runtime = runtime_of(request)
        values = validate(await read_json(request), kind.schema, required=kind.required)
        document = _normalize(kind, {**values, **{k: v for k, v in kind.defaults.items() if k not in values}})
        kind.check(document)
        part_id = str(uuid.uuid4())
        async with runtime.engine.begin() as conn:
            row = await load_app(conn, request)
            await repository.insert_part(conn, row["id"], kind.kind, part_id, document)
            parts = await repository.list_parts(conn, row["id"], kind.kind)
        runtime.changed()
        return JSONResponse(_one(kind, parts, part_id))

    async def get_part(request: Request) -> Response:
        await require_scope(request, APP_READ)
        async with runtime_of(request).engine.connect() as conn:
            row = await load_app(conn, request)
            part_id = request.path_params[kind.id_param]
            parts = await repository.list_parts(conn, row["id"], kind.kind) if is_uuid(part_id) else []
        return JSONResponse(_one(kind, parts, part_id))

    async def replace_part(request: Request) -> Response:
        await require_scope(request, APP_MANAGE)
        runtime = runtime_of(request)
        values = validate(await read_json(request), kind.schema, required=kind.required)
        document = _normalize(kind, {**values, **{k: v for k, v in kind.defaults.items() if k not in values}})
        kind.check(document)
        part_id = request.path_params[kind.id_param]
        async with runtime.engine.begin() as conn:
            row = await load_app(conn, request)
            existing = (
                await repository.get_part(conn, row["id"], kind.kind, part_id) if is_uuid(part_id) else None
            )
            if existing is None:
                raise not_found(kind.what)
            await repository.update_part(conn, part_id, document)
            parts = await repository.list_parts(conn, row["id"], kind.kind)
        runtime.changed()
        return JSONResponse(_one(kind, parts, part_id))

    async def delete_part(request: Request) -> Response:
        await require_scope(request, APP_MANAGE)
        runtime = runtime_of(request)
        part_id = request.path_params[kind.id_param]
        async with runtime.engine.begin() as conn:
            row = await load_app(conn, request)
            existing = (
                await repository.get_part(conn, row["id"], kind.kind, part_id) if is_uuid(part_id) else None
            )
            if existing is None:
                raise not_found(kind.what)
            await repository.delete_part(conn, part_id)
        runtime.changed()
        return Response(status_code=204)

    base = f"/api/v2/apps/{{applicationId}}/{kind.segment}"
    item = f"{base}/{{{kind.id_param}}}"
    return [
        Route(base, list_parts, methods=["GET"]),
        Route(base, create_part, methods=["POST"]),
        Route(item, get_part, methods=["GET"]),
        Route(item, replace_part, methods=["PUT"]),
        Route(item, delete_part, methods=["DELETE"]),
    ]


routes = [route for kind in (RESOURCES, ATTRIBUTES, POLICIES) for route in routes_for(kind)]
