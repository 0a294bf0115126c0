"""``/api/v2/idps``: the Okta org (``IDP_OKTA``) the gateway signs users in with.

``apiToken`` is write-only (never returned) and sealed at rest; the gateway uses it to keep
each app's OIDC web app in the org up to date (see ``org_link``).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ostiary.access_gateway.admin import repository, schemas
from ostiary.access_gateway.admin.authorization import require_scope
from ostiary.access_gateway.admin.errors import bad_request, not_found
from ostiary.access_gateway.admin.org_sync import OrgClient
from ostiary.access_gateway.admin.scopes import IDP_MANAGE, IDP_READ
from ostiary.access_gateway.admin.validation import HOSTNAME, ORIGIN_URL, is_uuid, read_json, validate
from ostiary.access_gateway.runtime import GatewayRuntime
from ostiary.access_gateway.store import tables

_PERMISSION_NAMES = ("SUPER_ADMIN", "APP_ADMIN", "ORG_ADMIN")


def _runtime(request: Request) -> GatewayRuntime:
    runtime: GatewayRuntime = request.app.state.runtime
    return runtime


def _check_domain(domain: str) -> str:
    if HOSTNAME.fullmatch(domain) or ORIGIN_URL.fullmatch(domain):
        return domain.rstrip("/")
    raise bad_request("Request validation failed", domain="must be a host name or an http(s) URL of the org")


def _tenant(domain: str) -> str:
    return urlsplit(domain).netloc if "://" in domain else domain


async def _render(runtime: GatewayRuntime, row: dict[str, Any]) -> dict[str, Any]:
    token = runtime.secrets.open(row["api_token_encrypted"], "idps", row["id"])
    valid = await OrgClient(row["domain"], token).check()
    return {
        "id": row["id"],
        "type": row["type"],
        "name": row["name"],
        "description": row["description"] or "",
        "domain": row["domain"],
        "tenant": _tenant(row["domain"]),
        "validationStatus": {
            "valid": valid,
            "permissions": {name: valid and name == "SUPER_ADMIN" for name in _PERMISSION_NAMES},
        },
    }


async def _load(request: Request) -> dict[str, Any]:
    idp_id = request.path_params["idpId"]
    async with _runtime(request).engine.connect() as conn:
        row = await repository.get_idp(conn, idp_id) if is_uuid(idp_id) else None
    if row is None:
        raise not_found("IdP")
    return row


async def _require_working_token(domain: str, token: str) -> None:
    if not await OrgClient(domain, token).check():
        raise bad_request(
            "The IdP rejected the API token or could not be reached",
            apiToken="is not accepted by the org at domain",
        )


def _validated(body: Any, *, creating: bool) -> dict[str, Any]:
    required = ("type", "domain", "apiToken") if creating else ()
    values = validate(body, schemas.IDP, required=required, ignore=frozenset({"_links"}))
    if values.get("type", "IDP_OKTA") != "IDP_OKTA":
        raise bad_request("Request validation failed", type="only IDP_OKTA is supported")
    if "domain" in values:
        values["domain"] = _check_domain(values["domain"])
    if "apiToken" in values and not values["apiToken"].strip():
        raise bad_request("Request validation failed", apiToken="must not be empty")
    return values


async def list_idps(request: Request) -> Response:
    await require_scope(request, IDP_READ)
    runtime = _runtime(request)
    async with runtime.engine.connect() as conn:
        rows = await repository.list_idps(conn)
    return JSONResponse([await _render(runtime, row) for row in rows])


async def get_idp(request: Request) -> Response:
    await require_scope(request, IDP_READ)
    return JSONResponse(await _render(_runtime(request), await _load(request)))


async def create_idp(request: Request) -> Response:
    await require_scope(request, IDP_MANAGE)
    runtime = _runtime(request)
    values = _validated(await read_json(request), creating=True)
    async with runtime.engine.connect() as conn:
        if await repository.domain_taken(conn, values["domain"], None):
            raise bad_request("Request validation failed", domain="another IdP already uses this domain")
    await _require_working_token(values["domain"], values["apiToken"])
    idp_id = str(uuid.uuid4())
    async with runtime.engine.begin() as conn:
        await conn.execute(
            tables.idps.insert().values(
                id=idp_id,
                type="IDP_OKTA",
                name=values.get("name") or _tenant(values["domain"]),
                description=values.get("description", ""),
                domain=values["domain"],
                api_token_encrypted=runtime.secrets.seal(values["apiToken"], "idps", idp_id),
                created=int(runtime.clock()),
            )
        )
    runtime.changed()
    async with runtime.engine.connect() as conn:
        row = await repository.get_idp(conn, idp_id)
    assert row is not None
    return JSONResponse(await _render(runtime, row))


async def replace_idp(request: Request) -> Response:
    await require_scope(request, IDP_MANAGE)
    runtime = _runtime(request)
    values = _validated(await read_json(request), creating=False)
    row = await _load(request)
    domain = values.get("domain", row["domain"])
    async with runtime.engine.connect() as conn:
        if domain != row["domain"]:
            if await repository.idp_in_use(conn, row["id"]):
                raise bad_request(
                    "An IdP's domain cannot change while applications use it", domain="in use by applications"
                )
            if await repository.domain_taken(conn, domain, row["id"]):
                raise bad_request("Request validation failed", domain="another IdP already uses this domain")
    token = values.get("apiToken") or runtime.secrets.open(row["api_token_encrypted"], "idps", row["id"])
    if "apiToken" in values or domain != row["domain"]:
        await _require_working_token(domain, token)
    async with runtime.engine.begin() as conn:
        await conn.execute(
            tables.idps.update()
            .where(tables.idps.c.id == row["id"])
            .values(
                name=values.get("name", row["name"]),
                description=values.get("description", row["description"]),
                domain=domain,
                api_token_encrypted=runtime.secrets.seal(token, "idps", row["id"]),
            )
        )
        updated = await repository.get_idp(conn, row["id"])
    runtime.changed()
    assert updated is not None
    return JSONResponse(await _render(runtime, updated))


async def delete_idp(request: Request) -> Response:
    await require_scope(request, IDP_MANAGE)
    runtime = _runtime(request)
    row = await _load(request)
    async with runtime.engine.begin() as conn:
        if await repository.idp_in_use(conn, row["id"]):
            raise bad_request("Applications still use this IdP; change or delete them first", idpId=row["id"])
        await conn.execute(tables.idps.delete().where(tables.idps.c.id == row["id"]))
    runtime.changed()
    return Response(status_code=204)
