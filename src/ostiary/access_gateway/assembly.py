"""The proxy as ``ostiary access-gateway`` runs it: over the admin side's
:class:`StoreAppCatalog`, with sessions and keys in the gateway's store
(:mod:`.proxy_state`), and on the admin origin its JWKS
(``/api/v2/.well-known/jwks.json``) and Prometheus metrics (``/metrics``, only with the
bearer token from ``OSTIARY_ACCESS_GATEWAY_METRICS_TOKEN``; without it the path is a 404,
as the API gateway keeps its metrics private unless told)."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ostiary.access_gateway.admin.catalog import StoreAppCatalog
from ostiary.access_gateway.proxy.app import AccessGatewayProxy, make_proxy_app
from ostiary.access_gateway.proxy.assertion import JWKS_PATH, AssertionKeys, jwks_document
from ostiary.access_gateway.proxy.metrics import CONTENT_TYPE, ProxyMetrics
from ostiary.access_gateway.proxy_state import ProxyKeys, SqlSessionStore
from ostiary.access_gateway.runtime import GatewayRuntime
from ostiary.bearer import bearer_token

METRICS_TOKEN_ENV: Final = "OSTIARY_ACCESS_GATEWAY_METRICS_TOKEN"
METRICS_PATH: Final = "/metrics"


@dataclass
class AssembledProxy:
    proxy: AccessGatewayProxy
    admin_routes: list[BaseRoute]
    on_shutdown: list[Callable[[], Awaitable[None]]]


def jwks_route(keys: AssertionKeys) -> Route:
    async def jwks(_request: Request) -> Response:
        return JSONResponse(jwks_document(keys), headers={"Cache-Control": "max-age=300"})

    return Route(JWKS_PATH, jwks, methods=["GET"])


def metrics_route(metrics: ProxyMetrics, token: str | None) -> Route | None:
    """``/metrics`` for a caller with ``Authorization: Bearer <token>`` (SHA-256 digests
    compared in constant time); no token configured, no route."""
    if not token:
        return None
    expected = hashlib.sha256(token.encode()).digest()

    async def render(request: Request) -> Response:
        given = bearer_token(request.headers.get("authorization", "")) or ""
        if not hmac.compare_digest(hashlib.sha256(given.encode()).digest(), expected):
            return JSONResponse(
                {"errorCode": "UNAUTHORIZED", "message": "The metrics token is missing or wrong"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="ostiary-metrics"'},
            )
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    return Route(METRICS_PATH, render, methods=["GET"])


def assemble_proxy(
    runtime: GatewayRuntime,
    catalog: StoreAppCatalog,
    keys: ProxyKeys,
    *,
    metrics_token: str | None = None,
) -> AssembledProxy:
    """The proxy sharing ``catalog`` (whose cache every admin write empties: the proxy's own
    parsed-app cache is kept as short), plus what the admin origin serves for it and what
    shutdown must close (its HTTP client and health-check tasks)."""
    proxy = make_proxy_app(
        catalog,
        public_url=runtime.config.public_url,
        assertion_keys=keys.assertion,
        sessions=SqlSessionStore(runtime),
        seal_key=keys.seal,
        catalog_ttl=0.5,
    )
    runtime.write_listeners.append(proxy.catalog.invalidate)
    routes: list[BaseRoute] = [jwks_route(proxy.assertion_keys)]
    metrics = metrics_route(proxy.metrics, metrics_token)
    if metrics is not None:
        routes.append(metrics)
    return AssembledProxy(proxy, routes, [proxy.aclose])


def metrics_token_from_env() -> str | None:
    return os.environ.get(METRICS_TOKEN_ENV) or None
