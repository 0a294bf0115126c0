"""The access gateway's ASGI app: the admin origin, or an app's public domain, by ``Host``.

- ``Host`` = the public URL's host (``host[:port]``): the admin app — ``/api/v2/*`` and an
  unauthenticated ``GET /healthz`` (plus ``extra_admin_routes``, e.g. the proxy's JWKS).
- ``Host`` = some app's ``publicDomain`` (as host, or host:port): ``proxy_app`` when given.
- anything else: 404 JSON.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ostiary.access_gateway.admin.catalog import StoreAppCatalog
from ostiary.access_gateway.admin.errors import AdminError, admin_error_handler, internal_error_handler
from ostiary.access_gateway.admin.routes import routes as admin_routes
from ostiary.access_gateway.runtime import GatewayRuntime, host_key

Hook = Callable[[], Awaitable[None]]


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        body = {"errorCode": "METHOD_NOT_ALLOWED", "message": "The method is not allowed here", "details": {}}
    else:
        body = {
            "errorCode": "NOT_FOUND",
            "message": "The requested resource could not be found",
            "details": {},
        }
    return JSONResponse(body, status_code=exc.status_code)


def _not_found_response() -> Response:
    return JSONResponse(
        {"errorCode": "NOT_FOUND", "message": "No application is configured for this host", "details": {}},
        status_code=404,
    )


def build_admin_app(
    runtime: GatewayRuntime,
    *,
    extra_admin_routes: Sequence[BaseRoute] = (),
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        for hook in on_startup:
            await hook()
        try:
            yield
        finally:
            for hook in on_shutdown:
                await hook()
            await runtime.close()

    app = Starlette(
        routes=[Route("/healthz", healthz, methods=["GET"]), *extra_admin_routes, *admin_routes],
        exception_handlers={
            AdminError: admin_error_handler,
            HTTPException: _http_error,
            Exception: internal_error_handler,
        },
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app


class HostDispatcher:
    """Routes each request by its ``Host`` header (see the module docstring)."""

    def __init__(
        self, runtime: GatewayRuntime, admin: ASGIApp, catalog: StoreAppCatalog, proxy_app: ASGIApp | None
    ) -> None:
        self.runtime = runtime
        self.admin = admin
        self.catalog = catalog
        self.proxy_app = proxy_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.admin(scope, receive, send)
            return
        if scope["type"] not in ("http", "websocket"):
            return
        host = _host_header(scope)
        key = host_key(host, "https" if scope.get("scheme") in ("https", "wss") else "http")
        if key == self.runtime.config.admin_host:
            await self.admin(scope, receive, send)
            return
        if self.proxy_app is not None and key and await self.catalog.app_for_host(key) is not None:
            await self.proxy_app(scope, receive, send)
            return
        if scope["type"] == "http":
            await _not_found_response()(scope, receive, send)


def _host_header(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            return str(value.decode("latin-1")).strip().lower()
    return ""


def build_app(
    runtime: GatewayRuntime,
    *,
    proxy_app: ASGIApp | None = None,
    extra_admin_routes: Sequence[BaseRoute] = (),
    catalog: StoreAppCatalog | None = None,
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
) -> HostDispatcher:
    """The gateway's ASGI app. ``catalog`` defaults to a new :class:`StoreAppCatalog` on
    ``runtime``; pass the one the proxy was built with so both share its cache. Lifespan
    events go to the admin app, which runs ``on_startup``/``on_shutdown`` (e.g. the proxy's
    health checks) and closes the database engine last."""
    admin = build_admin_app(
        runtime, extra_admin_routes=extra_admin_routes, on_startup=on_startup, on_shutdown=on_shutdown
    )
    return HostDispatcher(runtime, admin, catalog or StoreAppCatalog(runtime), proxy_app)
