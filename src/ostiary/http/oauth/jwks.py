"""``{issuer}/v1/keys``: the JWKS of an authorization server (ACTIVE, NEXT and retained keys)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ostiary.http.oauth.server_context import resolve_server
from ostiary.http.responses import json_response
from ostiary.http.runtime import runtime

# Verifiers cache the JWKS; the NEXT key is published ahead of rotation, so an hour is safe.
CACHE_CONTROL = "max-age=3600, must-revalidate"


async def keys(request: Request) -> Response:
    ctx = await resolve_server(request)
    ring = await runtime(request).rings.ring(ctx.org.id, ctx.server.id)
    return json_response(ring.jwks, headers={"Cache-Control": CACHE_CONTROL, "Vary": "Origin"})
