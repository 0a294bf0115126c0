"""Bearer authorization of admin API calls: ``Authorization: Bearer <token>`` (or the bare
token, as the seed's wording allows) carrying the operation's scope."""

from __future__ import annotations

from starlette.requests import Request

from ostiary.access_gateway.admin import access_tokens
from ostiary.access_gateway.admin.errors import forbidden, unauthorized
from ostiary.access_gateway.runtime import GatewayRuntime


def _token(request: Request) -> str | None:
    values = request.headers.getlist("authorization")
    if len(values) != 1:
        return None
    value = values[0].strip()
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() == "bearer":
        return rest.strip() or None
    return value if value and " " not in value else None


async def require_scope(request: Request, scope: str) -> access_tokens.Grant:
    runtime: GatewayRuntime = request.app.state.runtime
    token = _token(request)
    if token is None:
        raise unauthorized()
    grant = await access_tokens.lookup(runtime.engine, token, runtime.clock())
    if grant is None:
        raise unauthorized("The access token is invalid or has expired")
    if scope not in grant.scopes:
        raise forbidden(scope)
    return grant
