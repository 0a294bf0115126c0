"""The gateway as a plain ASGI app: match a route, check the caller, proxy to the upstream.

One request is a :class:`~.request.GatewayRequest` that goes through these steps, in order
(:meth:`Gateway.handle`):

1. ``/metrics`` (if enabled, and public or asked for with the metrics token; else it is
   routed like any path, :mod:`.metrics_endpoint`) and unsafe paths are answered first
   (400: dot segments, also as ``..;``, ``\\``, double encoding; see
   ``ostiary.request_paths``), and ``;`` on a route without ``allow_semicolons`` right
   after the route match;
2. CORS preflight (``OPTIONS`` + ``Access-Control-Request-Method``) on a route with a
   CORS policy is answered here, without a token (:mod:`.cors`);
3. route match: 404 for an unknown path, 405 for a known path with another method
   (:mod:`.routing`);
4. :mod:`.authorize`: 400 ``invalid_request`` for more than one ``Authorization`` header
   (RFC 6750 §3.1); unless the route is public: bearer token → verification → scope check
   → rate limit (401 / 403 / 429, RFC 6750 challenges);
5. :mod:`.body`: the request body is read up to ``limits.max_request_body`` (413 beyond);
6. :mod:`.relay`: the request is proxied over pooled keep-alive connections, with the
   client's forwarding and identity headers replaced by the gateway's; the answer comes
   back as it is (502 if the upstream cannot be reached, 504 if it is too slow).

The gateway's own answers are :mod:`.answers`. The configuration is reloaded on SIGHUP or
when the file changes (:mod:`.reload`); a request uses the configuration that was current
when it arrived.
"""

from __future__ import annotations

from pathlib import Path

from ostiary.bearer import authorization_header_count
from ostiary.gateway.answers import send_bad_path, send_no_route
from ostiary.gateway.authorize import authorize, refuse_two_authorization_headers
from ostiary.gateway.body import read_body
from ostiary.gateway.config import GatewayConfig
from ostiary.gateway.cors import answer_preflight, cors_headers, is_preflight
from ostiary.gateway.metrics import GatewayMetrics
from ostiary.gateway.metrics_endpoint import MetricsEndpoint
from ostiary.gateway.relay import proxy
from ostiary.gateway.reload import Reloader
from ostiary.gateway.request import ClientDisconnected, GatewayRequest, Receive, Scope, Send
from ostiary.gateway.routing import NoMatch, path_problem
from ostiary.gateway.state import GatewayState
from ostiary.gateway.upstream import UpstreamPool
from ostiary.jose.verify import JwksCache


class Gateway:
    """The ASGI app. ``config_path`` enables hot reload (SIGHUP and file watching)."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        config_path: Path | None = None,
        jwks: JwksCache | None = None,
        metrics: GatewayMetrics | None = None,
        reload_interval: float = 2.0,
        metrics_token: str | None = None,
    ) -> None:
        self.metrics = metrics or GatewayMetrics()
        self.metrics_endpoint = MetricsEndpoint(self.metrics, metrics_token)
        self.jwks = jwks or JwksCache()
        self.reloader = Reloader(
            config, path=config_path, jwks=self.jwks, metrics=self.metrics, interval=reload_interval
        )
        self.upstream = UpstreamPool()

    @property
    def config(self) -> GatewayConfig:
        return self.reloader.state.config

    @property
    def state(self) -> GatewayState:
        return self.reloader.state

    def reload(self) -> bool:
        """Reparse the configuration file and swap it in; a bad file keeps the current one."""
        return self.reloader.reload()

    def apply(self, config: GatewayConfig) -> None:
        self.reloader.apply(config)

    def check_for_changes(self) -> bool:
        """Reload if the file's modification time, size or inode changed."""
        return self.reloader.check_for_changes()

    def serves_metrics(self, config: GatewayConfig) -> bool:
        """Metrics are served if enabled and either public or protected by a token."""
        return self.metrics_endpoint.serves(config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            try:
                await self.handle(scope, receive, send)
            except ClientDisconnected:
                return
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1008})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self) -> None:
        await self.reloader.start()

    async def aclose(self) -> None:
        await self.reloader.stop()
        await self.upstream.close()
        await self.jwks.close()

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.reloader.state
        path: str = scope["path"]
        # The first of a repeated header wins; dict() over the reversed pairs runs in C where a
        # comprehension is a Python call per request (bench/gateway_calls.py).
        headers = dict(reversed(scope["headers"]))
        request = GatewayRequest(scope, receive, send, state, self.metrics, scope["method"], path, headers)
        if path == state.config.metrics.path and self.metrics_endpoint.serves(state.config):
            await self.metrics_endpoint.answer(request)
            return
        problem = path_problem(path, allow_semicolons=True)
        if problem:
            await send_bad_path(request, problem)
            return
        request.origin = headers.get(b"origin", b"").decode("latin-1") or None
        # `method == "OPTIONS"` first (is_preflight checks it too): one call fewer per request.
        if request.method == "OPTIONS" and is_preflight(request) and await answer_preflight(request):
            return

        found = state.router.match(request.method, path)
        if isinstance(found, NoMatch):
            await send_no_route(request, found)
            return
        route = found.route
        if ";" in path and not route.allow_semicolons:
            await send_bad_path(request, "has a ';' parameter")
            return
        if state.router.shadowing(request.method, path, found) is not None:
            await send_bad_path(request, "can be read as the path of an earlier route")
            return
        request.route, request.label = route, route.path
        if route.cors is not None:  # without a policy there are none: two calls fewer per request
            request.extra = cors_headers(request)

        if authorization_header_count(scope["headers"]) > 1:
            await refuse_two_authorization_headers(request)
            return
        if not route.public and not await authorize(request):
            return
        # read_body's own first test, inline: a GET or HEAD without a length or chunking has
        # no body, and most calls are such (a coroutine call fewer each, bench/gateway_calls.py).
        bodiless = (
            request.method in ("GET", "HEAD")
            and b"content-length" not in headers
            and b"transfer-encoding" not in headers
        )
        if not bodiless and not await read_body(request):
            return
        await proxy(request, self.upstream)


def build_gateway_app(
    config: GatewayConfig,
    *,
    config_path: Path | None = None,
    jwks: JwksCache | None = None,
    metrics_token: str | None = None,
) -> Gateway:
    return Gateway(config, config_path=config_path, jwks=jwks, metrics_token=metrics_token)
