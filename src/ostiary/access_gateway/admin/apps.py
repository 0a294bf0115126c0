"""``/api/v2/apps``: header-based (and no-auth) apps, their status and ``_embedded`` parts."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ostiary.access_gateway.admin import org_link, repository, schemas
from ostiary.access_gateway.admin.app_documents import ALL_EXPANSIONS, parse_expand, render_app
from ostiary.access_gateway.admin.authorization import require_scope
from ostiary.access_gateway.admin.certificates import certificate_exists
from ostiary.access_gateway.admin.errors import bad_request, not_found
from ostiary.access_gateway.admin.scopes import APP_MANAGE, APP_READ
from ostiary.access_gateway.admin.validation import is_uuid, read_json, validate
from ostiary.access_gateway.runtime import GatewayRuntime

DEFAULT_PARTS: dict[str, dict[str, list[dict[str, Any]]]] = {
    "OAG_HEADER_BASED": {
        repository.POLICY: [
            {
                "name": "root",
                "description": "Protect all application resources",
                "resourcePath": "/",
                "rule": "PROTECTED",
            }
        ],
        repository.ATTRIBUTE: [
            {"name": "sampleheader", "source": "IDP", "value": "firstName", "type": "HEADER"}
        ],
    },
    "OAG_NOAUTH": {
        repository.POLICY: [
            {
                "name": "root",
                "description": "All application resources are public",
                "resourcePath": "/",
                "rule": "NO_AUTH",
            }
        ],
    },
}


def runtime_of(request: Request) -> GatewayRuntime:
    runtime: GatewayRuntime = request.app.state.runtime
    return runtime


async def load_app(conn: AsyncConnection, request: Request) -> dict[str, Any]:
    app_id = request.path_params["applicationId"]
    row = await repository.get_app(conn, app_id) if is_uuid(app_id) else None
    if row is None:
        raise not_found("application")
    return row


def _name_from_label(label: str) -> str:
    return re.sub(r"[^a-z0-9]", "", label.lower()) or "app"


def _check_type(app_type: str) -> None:
    if app_type not in schemas.SUPPORTED_APP_TYPES:
        raise bad_request(
            "Request validation failed",
            type=f"{app_type} is not supported; use OAG_HEADER_BASED or OAG_NOAUTH",
        )


def _check_not_admin_host(runtime: GatewayRuntime, public_domain: str) -> None:
    """The admin origin's host answers the admin API, so no app can live there."""
    admin_hostname = (urlsplit(runtime.config.public_url).hostname or "").lower()
    if public_domain.split(":")[0] == admin_hostname:
        raise bad_request("Request validation failed", publicDomain="is the gateway's own admin host")


async def _check_references(
    conn: AsyncConnection, runtime: GatewayRuntime, values: dict[str, Any]
) -> dict[str, Any]:
    idp = await repository.get_idp(conn, values["idpId"])
    if idp is None:
        raise bad_request("Request validation failed", idpId="no IdP has this id")
    if not await certificate_exists(runtime.engine, values["certificateId"]):
        raise bad_request("Request validation failed", certificateId="no certificate has this id")
    return idp


async def list_apps(request: Request) -> Response:
    await require_scope(request, APP_READ)
    expand = parse_expand(request.query_params.getlist("expand"))
    async with runtime_of(request).engine.connect() as conn:
        return JSONResponse([await render_app(conn, row, expand) for row in await repository.list_apps(conn)])


async def get_app(request: Request) -> Response:
    await require_scope(request, APP_READ)
    expand = parse_expand(request.query_params.getlist("expand"))
    async with runtime_of(request).engine.connect() as conn:
        return JSONResponse(await render_app(conn, await load_app(conn, request), expand))


async def create_app(request: Request) -> Response:
    await require_scope(request, APP_MANAGE)
    runtime = runtime_of(request)
    values = validate(
        await read_json(request),
        schemas.APP_CREATE,
        required=schemas.APP_CREATE_REQUIRED,
        ignore=schemas.APP_IGNORED,
    )
    _check_type(values["type"])
    use_defaults = values.pop("useDefaultHeadersAndPolicies", True)
    values["publicDomain"] = values["publicDomain"].lower()
    _check_not_admin_host(runtime, values["publicDomain"])
    app_id = str(uuid.uuid4())
    document = {**schemas.APP_DEFAULTS, **values, "name": _name_from_label(values["label"])}
    async with runtime.engine.connect() as conn:
        idp = await _check_references(conn, runtime, values)
        conflict = await repository.conflicting_app(
            conn, label=values["label"], public_domain=values["publicDomain"], except_id=None
        )
    if conflict:
        raise bad_request(
            "Request validation failed", **{conflict: "another application already uses this value"}
        )
    behavior = dict(schemas.BEHAVIOR_DEFAULTS)
    org_app = await org_link.create_org_app(
        runtime,
        idp,
        label=values["label"],
        public_domain=values["publicDomain"],
        behavior=behavior,
        groups=document["groups"],
    )
    try:
        async with runtime.engine.begin() as conn:
            await repository.insert_app(
                conn,
                {
                    "id": app_id,
                    "label": values["label"],
                    "public_domain": values["publicDomain"],
                    "status": "CREATED",
                    "idp_id": idp["id"],
                    "document": document,
                    "session": dict(schemas.SESSION_DEFAULTS),
                    "behavior": behavior,
                    "health_check": dict(schemas.HEALTH_CHECK_DEFAULTS),
                    "org_app_id": org_app.app_id,
                    "org_client_secret_encrypted": runtime.secrets.seal(
                        f"{org_app.client_id}\n{org_app.client_secret}", "apps", app_id
                    ),
                    "created": int(runtime.clock()),
                    "group_names": list(org_app.group_names),
                },
            )
            if use_defaults:
                await _add_default_parts(conn, app_id, values["type"])
    except BaseException as exc:
        await org_link.remove_org_app(runtime, idp, org_app.app_id)
        if isinstance(exc, IntegrityError):  # a concurrent create took the label or domain
            raise bad_request(
                "Request validation failed", label="another application uses this label or domain"
            ) from None
        raise
    runtime.changed()
    async with runtime.engine.connect() as conn:
        row = await load_app_by_id(conn, app_id)
        return JSONResponse(await render_app(conn, row, ALL_EXPANSIONS))


async def load_app_by_id(conn: AsyncConnection, app_id: str) -> dict[str, Any]:
    row = await repository.get_app(conn, app_id)
    if row is None:
        raise not_found("application")
    return row


async def _add_default_parts(conn: AsyncConnection, app_id: str, app_type: str) -> None:
    defaults = {repository.POLICY: schemas.POLICY_DEFAULTS, repository.ATTRIBUTE: schemas.ATTRIBUTE_DEFAULTS}
    for kind, documents in DEFAULT_PARTS.get(app_type, {}).items():
        for document in documents:
            ordered = {**document, **{k: v for k, v in defaults[kind].items() if k not in document}}
            await repository.insert_part(conn, app_id, kind, str(uuid.uuid4()), ordered)


async def replace_app(request: Request) -> Response:
    await require_scope(request, APP_MANAGE)
    runtime = runtime_of(request)
    values = validate(await read_json(request), schemas.APP_UPDATE, ignore=schemas.APP_IGNORED)
    async with runtime.engine.connect() as conn:
        row = await load_app(conn, request)
        current = dict(row["document"])
        if "type" in values and values["type"] != current["type"]:
            raise bad_request("Request validation failed", type="an application's type cannot change")
        if "publicDomain" in values:
            values["publicDomain"] = values["publicDomain"].lower()
            _check_not_admin_host(runtime, values["publicDomain"])
        merged = {
            **current,
            "label": row["label"],
            "publicDomain": row["public_domain"],
            "idpId": row["idp_id"],
            **values,
        }
        idp = await _check_references(conn, runtime, merged)
        conflict = await repository.conflicting_app(
            conn, label=merged["label"], public_domain=merged["publicDomain"], except_id=row["id"]
        )
        old_idp = await repository.get_idp(conn, row["idp_id"]) if row["idp_id"] else None
    if conflict:
        raise bad_request(
            "Request validation failed", **{conflict: "another application already uses this value"}
        )
    if "label" in values:
        merged["name"] = _name_from_label(merged["label"])
    sync = {
        "label": merged["label"],
        "public_domain": merged["publicDomain"],
        "behavior": row["behavior"],
        "groups": merged["groups"],
    }
    org_app_id, sealed = row["org_app_id"], row["org_client_secret_encrypted"]
    if old_idp is not None and old_idp["id"] == idp["id"] and org_app_id:
        group_names = await org_link.update_org_app(runtime, idp, org_app_id, **sync)
    else:
        created = await org_link.create_org_app(runtime, idp, **sync)
        group_names = created.group_names
        if old_idp is not None and org_app_id:
            await org_link.remove_org_app(runtime, old_idp, org_app_id)
        org_app_id = created.app_id
        sealed = runtime.secrets.seal(f"{created.client_id}\n{created.client_secret}", "apps", row["id"])
    document = {k: v for k, v in merged.items() if k not in ("label", "publicDomain", "idpId")}
    async with runtime.engine.begin() as conn:
        await repository.update_app(
            conn,
            row["id"],
            label=merged["label"],
            public_domain=merged["publicDomain"],
            idp_id=idp["id"],
            document=document,
            org_app_id=org_app_id,
            org_client_secret_encrypted=sealed,
            group_names=list(group_names),
        )
    runtime.changed()
    async with runtime.engine.connect() as conn:
        return JSONResponse(await render_app(conn, await load_app_by_id(conn, row["id"]), frozenset()))


async def delete_app(request: Request) -> Response:
    await require_scope(request, APP_MANAGE)
    runtime = runtime_of(request)
    async with runtime.engine.connect() as conn:
        row = await load_app(conn, request)
        idp = await repository.get_idp(conn, row["idp_id"]) if row["idp_id"] else None
    if row["status"] != "INACTIVE":
        raise bad_request("An application must be deactivated before it is deleted", status=row["status"])
    if idp is not None and row["org_app_id"]:
        await org_link.remove_org_app(runtime, idp, row["org_app_id"])
    async with runtime.engine.begin() as conn:
        await repository.delete_app(conn, row["id"])
    runtime.changed()
    return Response(status_code=204)


def _lifecycle(target: str) -> Any:
    async def change_status(request: Request) -> Response:
        await require_scope(request, APP_MANAGE)
        runtime = runtime_of(request)
        async with runtime.engine.begin() as conn:
            row = await load_app(conn, request)
            if target == "ACTIVE" and not await repository.list_parts(conn, row["id"], repository.RESOURCE):
                raise bad_request(
                    "An application needs at least one protected resource before it is activated",
                    resources="none configured",
                )
            await repository.update_app(conn, row["id"], status=target)
        runtime.changed()
        return Response(status_code=200)

    return change_status


activate_app = _lifecycle("ACTIVE")
deactivate_app = _lifecycle("INACTIVE")
maintenance_app = _lifecycle("MAINTENANCE")
