"""``/api/v2/settings/authentication-service`` and its health check.

Ostiary's authentication service is the gateway itself signing users in at the IdP, so the
setting defaults to the gateway's public host and certificate, and the health check reports
the connection to every configured IdP.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, insert, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ostiary.access_gateway.admin import repository, schemas
from ostiary.access_gateway.admin.authorization import require_scope
from ostiary.access_gateway.admin.certificates import certificate_exists, ensure_public_host_certificate
from ostiary.access_gateway.admin.errors import bad_request
from ostiary.access_gateway.admin.org_sync import OrgClient
from ostiary.access_gateway.admin.scopes import AUTH_SERVICE_MANAGE, AUTH_SERVICE_READ
from ostiary.access_gateway.admin.validation import Field, read_json, validate
from ostiary.access_gateway.runtime import GatewayRuntime
from ostiary.access_gateway.store import tables

_DATABASE = {
    "type": Field("string", enum=("mysql",)),
    "host": Field("string"),
    "port": Field("integer", minimum=1, maximum=65535),
    "name": Field("string"),
    "username": Field("string"),
    "password": Field("string"),
}
_WRITE_ONLY = ("username", "password")


def _runtime(request: Request) -> GatewayRuntime:
    runtime: GatewayRuntime = request.app.state.runtime
    return runtime


async def _default(runtime: GatewayRuntime) -> dict[str, Any]:
    host = (urlsplit(runtime.config.public_url).hostname or "localhost").lower()
    return {
        "serverNodes": [host],
        "publicDomain": host,
        "certificateId": await ensure_public_host_certificate(runtime),
    }


async def get_setting(request: Request) -> Response:
    await require_scope(request, AUTH_SERVICE_READ)
    runtime = _runtime(request)
    async with runtime.engine.connect() as conn:
        row = (await conn.execute(select(tables.authentication_service))).first()
    return JSONResponse(row.document if row else await _default(runtime))


async def enable_setting(request: Request) -> Response:
    await require_scope(request, AUTH_SERVICE_MANAGE)
    runtime = _runtime(request)
    values = validate(await read_json(request), schemas.AUTHENTICATION_SERVICE)
    database = validate(values.get("database", {}), _DATABASE)
    if "certificateId" in values and not await certificate_exists(runtime.engine, values["certificateId"]):
        raise bad_request("Request validation failed", certificateId="no certificate has this id")
    secrets = {name: database.pop(name) for name in _WRITE_ONLY if name in database}
    document = {**await _default(runtime), **values}
    if database:
        document["database"] = database
    else:
        document.pop("database", None)
    async with runtime.engine.begin() as conn:
        await conn.execute(delete(tables.authentication_service))
        await conn.execute(
            insert(tables.authentication_service).values(
                id=1,
                document=document,
                secrets_encrypted=runtime.secrets.seal(json.dumps(secrets), "authentication_service")
                if secrets
                else None,
            )
        )
    return JSONResponse(document)


async def disable_setting(request: Request) -> Response:
    await require_scope(request, AUTH_SERVICE_MANAGE)
    async with _runtime(request).engine.begin() as conn:
        await conn.execute(delete(tables.authentication_service))
    return Response(status_code=204)


async def health_check(request: Request) -> Response:
    await require_scope(request, AUTH_SERVICE_READ)
    runtime = _runtime(request)
    async with runtime.engine.connect() as conn:
        idps = await repository.list_idps(conn)
    results = []
    for idp in idps:
        token = runtime.secrets.open(idp["api_token_encrypted"], "idps", idp["id"])
        results.append((idp["domain"], await OrgClient(idp["domain"], token).check()))
    healthy = [domain for domain, ok in results if ok]
    if not results:
        status, details = "UNKNOWN", "no IdP is configured"
    elif len(healthy) == len(results):
        status, details = "HEALTHY", f"{len(results)} IdP connection(s) working"
    elif healthy:
        status, details = "DEGRADED", "unreachable: " + ", ".join(d for d, ok in results if not ok)
    else:
        status, details = "UNHEALTHY", "unreachable: " + ", ".join(d for d, _ in results)
    checked = dt.datetime.fromtimestamp(int(runtime.clock()), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return JSONResponse({"status": status, "lastChecked": checked, "details": details})
