"""The sample API of the "Protect your API endpoints" guide, protected by Ostiary tokens.

- ``GET /api/hello``: anonymous, ``{"message": "Hello world!"}``;
- ``GET /api/whoami``: needs a valid access token of the configured issuer and audience
  (401 otherwise) and answers ``{"sub": ..., "scopes": [...], "claims": {...}}``;
- CORS for the configured browser origins (401s included, so a browser app can read them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ostiary.jose.verify import JwksCache
from ostiary.resource import (
    BearerError,
    JwtAuth,
    ProtectedAPIMiddleware,
    bearer_error_handler,
    current_claims,
    granted_scopes,
)


async def hello(request: Request) -> JSONResponse:
    return JSONResponse({"message": "Hello world!"})


async def whoami(request: Request) -> JSONResponse:
    claims = await current_claims(request)
    return JSONResponse({"sub": claims.get("sub"), "scopes": granted_scopes(claims), "claims": claims})


def build_protected_api_app(
    issuer: str,
    audience: str = "api://default",
    cors_origins: Sequence[str] = (),
    *,
    jwks_uri: str | None = None,
    jwks_cache: JwksCache | None = None,
) -> Starlette:
    auth = JwtAuth(issuer, audience, jwks_uri=jwks_uri, cache=jwks_cache)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await auth.close()

    middleware = [
        Middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        ),
        Middleware(ProtectedAPIMiddleware, auth=auth, public_paths=["/api/hello"]),
    ]
    return Starlette(
        routes=[Route("/api/hello", hello, methods=["GET"]), Route("/api/whoami", whoami, methods=["GET"])],
        middleware=middleware,
        exception_handlers={BearerError: bearer_error_handler},
        lifespan=lifespan,
    )
