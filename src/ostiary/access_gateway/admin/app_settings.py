"""An app's single-document settings: ``/session``, ``/behavior``, ``/health-check``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ostiary.access_gateway.admin import org_link, repository, schemas
from ostiary.access_gateway.admin.apps import load_app, runtime_of
from ostiary.access_gateway.admin.authorization import require_scope
from ostiary.access_gateway.admin.errors import bad_request
from ostiary.access_gateway.admin.scopes import APP_MANAGE, APP_READ
from ostiary.access_gateway.admin.validation import Schema, read_json, validate


def _check_session(document: dict[str, Any]) -> None:
    idle, longest = document["idleSessionTimeout"], document["maxSessionTimeout"]
    if longest and idle > longest:
        raise bad_request("Request validation failed", idleSessionTimeout="must be at most maxSessionTimeout")


def _check_behavior(document: dict[str, Any]) -> None:
    for method, url in (
        ("noSession", "noSessionUrl"),
        ("policyDenied", "policyDeniedUrl"),
        ("maintenance", "maintenanceUrl"),
        ("inactive", "inactiveUrl"),
        ("sessionIntegrityFailure", "sessionIntegrityFailureUrl"),
        ("error", "postErrorUrl"),
    ):
        if document.get(method) == "CUSTOM_URL" and not document.get(url):
            raise bad_request(
                "Request validation failed", **{url: f"is required when {method} is CUSTOM_URL"}
            )
    path = document.get("logoutPath")
    if path is not None and not path.startswith("/"):
        raise bad_request("Request validation failed", logoutPath="must start with /")


def _no_check(_document: dict[str, Any]) -> None:
    return None


def _setting_routes(
    segment: str,
    column: str,
    schema: Schema,
    defaults: dict[str, Any],
    check: Callable[[dict[str, Any]], None],
) -> list[Route]:
    async def get_setting(request: Request) -> Response:
        await require_scope(request, APP_READ)
        async with runtime_of(request).engine.connect() as conn:
            return JSONResponse((await load_app(conn, request))[column])

    async def replace_setting(request: Request) -> Response:
        await require_scope(request, APP_MANAGE)
        runtime = runtime_of(request)
        values = validate(await read_json(request), schema)
        document = {**defaults, **values}
        check(document)
        async with runtime.engine.connect() as conn:
            row = await load_app(conn, request)
            idp = await repository.get_idp(conn, row["idp_id"]) if row["idp_id"] else None
        changes: dict[str, Any] = {column: document}
        if column == "behavior" and idp is not None and row["org_app_id"]:
            changes["group_names"] = list(
                await org_link.update_org_app(
                    runtime,
                    idp,
                    row["org_app_id"],
                    label=row["label"],
                    public_domain=row["public_domain"],
                    behavior=document,
                    groups=row["document"].get("groups", []),
                )
            )
        async with runtime.engine.begin() as conn:
            await repository.update_app(conn, row["id"], **changes)
        runtime.changed()
        return JSONResponse(document)

    path = f"/api/v2/apps/{{applicationId}}/{segment}"
    return [Route(path, get_setting, methods=["GET"]), Route(path, replace_setting, methods=["PUT"])]


routes = [
    *_setting_routes("session", "session", schemas.SESSION, schemas.SESSION_DEFAULTS, _check_session),
    *_setting_routes("behavior", "behavior", schemas.BEHAVIOR, schemas.BEHAVIOR_DEFAULTS, _check_behavior),
    *_setting_routes(
        "health-check", "health_check", schemas.HEALTH_CHECK, schemas.HEALTH_CHECK_DEFAULTS, _no_check
    ),
]
