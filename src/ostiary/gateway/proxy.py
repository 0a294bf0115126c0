"""The gateway as a plain ASGI app: match a route, check the caller, proxy to the upstream.

One request goes through these steps, each a small method below:

1. ``/metrics`` (if enabled, and public or asked for with the metrics token; else it is
   routed like any path) and unsafe paths are answered first (400: dot segments, also
   as ``..;``, ``\\``, double encoding; see ``ostiary.request_paths``), and ``;`` on a route
   without ``allow_semicolons`` right after the route match;
2. route match: 404 for an unknown path, 405 for a known path with another method; 400
   ``invalid_request`` for more than one ``Authorization`` header (RFC 6750 §3.1);
3. CORS preflight (``OPTIONS`` + ``Access-Control-Request-Method``) on a route with a
   CORS policy is answered here, without a token;
4. unless the route is public: bearer token → verification → scope check → rate limit
   (401 / 403 / 429, RFC 6750 challenges);
5. the request body is read up to ``limits.max_request_body`` (413 beyond);
6. the request is proxied over pooled keep-alive connections (``gateway/upstream.py``), with
   hop-by-hop headers and client-supplied copies of the identity headers, ``Forwarded``,
   ``X-Real-IP`` and ``X-Forwarded-*`` removed (``_`` read as ``-``), the gateway's own
   ``X-Forwarded-For/-Proto/-Host`` and the configured claims added; the answer's status,
   headers and body come back as they are (502 if the upstream cannot be reached, 504 if
   it is too slow).

The configuration is reloaded on SIGHUP or when the file changes (checked every 2 s);
a request uses the configuration that was current when it arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ostiary.bearer import (
    TWO_AUTHORIZATION_HEADERS,
    BearerError,
    authorization_header_count,
    bearer_token,
    insufficient_scope,
    invalid_request,
    invalid_token,
    missing_token,
)
from ostiary.cors_policy import PREFLIGHT_VARY, preflight_headers
from ostiary.cors_policy import response_headers as cors_response_headers
from ostiary.gateway.config import (
    HOP_BY_HOP,
    HTTP_METHODS,
    ConfigError,
    CorsPolicy,
    GatewayConfig,
    RouteConfig,
    load_config,
)
from ostiary.gateway.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from ostiary.gateway.metrics import GatewayMetrics
from ostiary.gateway.ratelimit import RateLimiter, build_rate_limiter
from ostiary.gateway.routing import NoMatch, Router, path_problem
from ostiary.gateway.upstream import (
    Origin,
    UpstreamError,
    UpstreamPool,
    UpstreamResponse,
    UpstreamTimeout,
)
from ostiary.gateway.verifier import GatewayVerifier, Principal
from ostiary.jose.verify import JwksCache, KeysUnavailable, TokenInvalid
from ostiary.timeutil import http_date

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

STREAM_THRESHOLD = 64 * 1024
METRICS_REALM = "ostiary-metrics"
PATH_SAFE = "/:@!$&'()*+,;=-._~"
REQUEST_HEADERS_NOT_FORWARDED = HOP_BY_HOP | {
    "host",
    "content-length",
    "expect",
    "forwarded",
    "x-real-ip",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
}
"""Never forwarded as the client sent them; nor is any ``x-forwarded-*``, nor any header whose
name with ``_`` read as ``-`` is one of these or an identity header (CGI/WSGI stacks map both
to the same environ key)."""
RESPONSE_HEADERS_NOT_FORWARDED = frozenset(name.encode() for name in HOP_BY_HOP)


class ClientDisconnected(Exception):
    pass


class UpstreamBodyTooLarge(Exception):
    """Raised after the answer has started, so the server aborts the connection."""


@dataclass
class GatewayState:
    """Everything derived from one configuration; replaced as a whole on reload."""

    config: GatewayConfig
    router: Router
    verifier: GatewayVerifier
    limiter: RateLimiter | None
    strip_headers: frozenset[bytes]
    origins: dict[str, Origin]


def json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def claim_header_value(value: Any) -> str | None:
    """A claim as a header value: lists space-separated, objects as JSON, and anything outside
    printable ASCII percent-encoded (a header can never be split or smuggled by a claim)."""
    if value is None:
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value
    elif isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        text = " ".join(value)
    else:
        text = json.dumps(value, separators=(",", ":"))
    if not (text.isascii() and text.isprintable()):
        text = quote(text, safe=" !\"#$&'()*+,-./:;<=>?@[\\]^_`{|}~")
    return text


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
        self._metrics_token_digest = (
            hashlib.sha256(metrics_token.encode()).digest() if metrics_token else None
        )
        self.jwks = jwks or JwksCache()
        self.config_path = config_path
        self.reload_interval = reload_interval
        self._state = self._build_state(config, previous=None)
        self.upstream = UpstreamPool()
        self._watcher: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._file_signature = self._signature()

    @property
    def config(self) -> GatewayConfig:
        return self._state.config

    @property
    def state(self) -> GatewayState:
        return self._state

    # ------------------------------------------------------------------ ASGI

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
        if self.config_path is None:
            return
        self._watcher = asyncio.get_running_loop().create_task(self._watch())
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError, AttributeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._on_sighup)

    async def aclose(self) -> None:
        if self.config_path is not None:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError, AttributeError):
                asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        if self._state.limiter is not None:
            await self._state.limiter.close()
        await self.upstream.close()
        await self.jwks.close()

    # ------------------------------------------------------------------ reload

    def reload(self) -> bool:
        """Reparse the configuration file and swap it in; a bad file keeps the current one."""
        if self.config_path is None:
            return False
        self._file_signature = self._signature()
        try:
            config = load_config(self.config_path)
        except ConfigError as exc:
            log.error("configuration not reloaded, keeping the current one: %s", exc)
            self.metrics.count_reload("error")
            return False
        self.apply(config)
        self.metrics.count_reload("ok")
        log.info("configuration reloaded from %s", self.config_path)
        return True

    def apply(self, config: GatewayConfig) -> None:
        previous = self._state
        if config.listen != previous.config.listen:
            log.warning("listen settings change only on restart")
        self._state = self._build_state(config, previous=previous)
        if previous.limiter is not None and previous.limiter is not self._state.limiter:
            self._spawn(previous.limiter.close())

    def check_for_changes(self) -> bool:
        """Reload if the file's modification time, size or inode changed."""
        if self.config_path is None or self._signature() == self._file_signature:
            return False
        return self.reload()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.reload_interval)
            try:
                self.check_for_changes()
            except Exception:
                log.exception("configuration watcher failed")

    def _on_sighup(self) -> None:
        log.info("SIGHUP: reloading the configuration")
        self.reload()

    def _signature(self) -> tuple[int, int, int] | None:
        if self.config_path is None:
            return None
        try:
            stat = os.stat(self.config_path)
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def _build_state(self, config: GatewayConfig, previous: GatewayState | None) -> GatewayState:
        limiter = (
            previous.limiter
            if previous is not None and previous.config.rate_limit == config.rate_limit
            else build_rate_limiter(config.rate_limit)
        )
        return GatewayState(
            config=config,
            router=Router(config.routes),
            verifier=GatewayVerifier(config.issuers, self.jwks, config.token_cache),
            limiter=limiter,
            strip_headers=frozenset(
                name.encode("latin-1") for name in REQUEST_HEADERS_NOT_FORWARDED | config.identity_headers
            ),
            origins={route.upstream: Origin.from_url(route.upstream) for route in config.routes},
        )

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        try:
            task = asyncio.ensure_future(coroutine)
        except RuntimeError:
            return
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ------------------------------------------------------------------ request pipeline

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self._state
        config = state.config
        method: str = scope["method"]
        path: str = scope["path"]
        headers = {name: value for name, value in reversed(scope["headers"])}

        if path == config.metrics.path and self.serves_metrics(config):
            await self._send_metrics(send, method, scope["headers"], config.metrics.public)
            return
        problem = path_problem(path, allow_semicolons=True)
        if problem:
            await self._send_bad_path(send, method, problem)
            return

        origin = headers.get(b"origin", b"").decode("latin-1") or None
        preflight_method = headers.get(b"access-control-request-method")
        if (
            method == "OPTIONS"
            and origin
            and preflight_method
            and await self._answer_preflight(send, state, path, origin, preflight_method, headers)
        ):
            return

        found = state.router.match(method, path)
        if isinstance(found, NoMatch):
            await self._send_no_route(send, method, found)
            return
        route = found.route
        if ";" in path and not route.allow_semicolons:
            await self._send_bad_path(send, method, "has a ';' parameter")
            return
        if state.router.shadowing(method, path, found) is not None:
            await self._send_bad_path(send, method, "can be read as the path of an earlier route")
            return
        extra = self._cors_headers(route.cors, origin)
        if authorization_header_count(scope["headers"]) > 1:
            error = invalid_request(TWO_AUTHORIZATION_HEADERS)
            await self._send_bearer_error(send, route.path, method, error, extra)
            return

        principal: Principal | None = None
        if not route.public:
            outcome = await self._authorize(send, state, route, method, headers, extra)
            if outcome is None:
                return
            principal, rate_headers = outcome
            extra = extra + rate_headers

        body = await self._read_body(send, scope, receive, route, method, headers, state, extra)
        if body is None:
            return
        await self._proxy(scope, send, state, route, method, body, principal, extra)

    async def _authorize(
        self,
        send: Send,
        state: GatewayState,
        route: RouteConfig,
        method: str,
        headers: dict[bytes, bytes],
        extra: Headers,
    ) -> tuple[Principal, Headers] | None:
        authorization = headers.get(b"authorization")
        token = bearer_token(authorization.decode("latin-1") if authorization else None)
        if token is None:
            await self._send_bearer_error(send, route.path, method, missing_token(), extra)
            return None
        try:
            if not token:
                raise TokenInvalid("malformed", "the bearer token is empty")
            principal = await state.verifier.authenticate(token)
        except KeysUnavailable as exc:
            self.metrics.count_token_failure(exc.reason)
            await self._send_error(
                send,
                route.path,
                method,
                503,
                "temporarily_unavailable",
                "The token issuer's signing keys cannot be fetched; try again shortly.",
                [(b"retry-after", b"5"), *extra],
            )
            return None
        except TokenInvalid as exc:
            self.metrics.count_token_failure(exc.reason)
            await self._send_bearer_error(send, route.path, method, invalid_token(exc.description), extra)
            return None
        if not route.scopes.allows(principal.scopes):
            self.metrics.count_token_failure("insufficient_scope")
            await self._send_bearer_error(
                send, route.path, method, insufficient_scope(route.scopes.needed), extra
            )
            return None
        if state.limiter is None:
            return principal, []
        decision = await state.limiter.hit(principal.client_id or "anonymous")
        rate_headers = decision.headers()
        if not decision.allowed:
            retry = str(decision.retry_after).encode()
            await self._send_error(
                send,
                route.path,
                method,
                429,
                "rate_limit_exceeded",
                "Too many requests from this client; retry after the rate limit window resets.",
                [(b"retry-after", retry), *rate_headers, *extra],
            )
            return None
        return principal, rate_headers

    async def _read_body(
        self,
        send: Send,
        scope: Scope,
        receive: Receive,
        route: RouteConfig,
        method: str,
        headers: dict[bytes, bytes],
        state: GatewayState,
        extra: Headers,
    ) -> bytes | None:
        limit = state.config.limits.max_request_body
        declared = headers.get(b"content-length")
        if declared is None and b"transfer-encoding" not in headers and method in ("GET", "HEAD"):
            return b""  # HTTP/1.1: no length and no chunking means no body
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await self._send_error(
                    send, route.path, method, 400, "invalid_request", "Bad Content-Length."
                )
                return None
            if length > limit:
                await self._send_too_large(send, route.path, method, extra)
                return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._send_too_large(send, route.path, method, extra)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    # ------------------------------------------------------------------ proxying

    @staticmethod
    def upstream_target(route: RouteConfig, origin: Origin, scope: Scope) -> bytes:
        """The request target at the upstream: its base path, the request path (less
        ``strip_prefix``, re-encoded from the checked, decoded path) and the raw query."""
        path: str = scope["path"]
        if route.strip_prefix:
            path = path[len(route.strip_prefix) :] or "/"
            if not path.startswith("/"):
                path = "/" + path
        target = (origin.base_path + quote(path, safe=PATH_SAFE)).encode("ascii")
        query: bytes = scope.get("query_string", b"")
        return target + b"?" + query if query else target

    def upstream_headers(
        self, scope: Scope, state: GatewayState, route: RouteConfig, principal: Principal | None
    ) -> Headers:
        strip = state.strip_headers
        connection_tokens: set[bytes] = set()
        host = b""
        result: Headers = []
        for name, value in scope["headers"]:
            if name == b"connection":
                connection_tokens.update(token.strip().lower() for token in value.split(b","))
            elif name == b"host":
                host = value
            elif not self._set_by_gateway(name, strip):
                result.append((name, value))
        if connection_tokens:
            result = [(n, v) for n, v in result if n not in connection_tokens]
        client = scope.get("client")
        if client:
            result.append((b"x-forwarded-for", str(client[0]).encode("latin-1")))
        result.append((b"x-forwarded-proto", scope.get("scheme", "http").encode("latin-1")))
        if host:
            result.append((b"x-forwarded-host", host))
        if principal is not None:
            result.extend(self.claim_headers(principal, route))
        return result

    @staticmethod
    def _set_by_gateway(name: bytes, strip: frozenset[bytes]) -> bool:
        if b"_" in name:
            name = name.replace(b"_", b"-").lower()
        return name in strip or name.startswith(b"x-forwarded-")

    @staticmethod
    def claim_headers(principal: Principal, route: RouteConfig) -> Headers:
        rendered = principal.forwarded.get(id(route.forward_claims))
        if rendered is None:
            rendered = []
            for header, claim in route.forward_claims.items():
                value = claim_header_value(principal.claims.get(claim))
                if value is not None:
                    rendered.append((header.lower().encode("latin-1"), value.encode("latin-1")))
            principal.forwarded[id(route.forward_claims)] = rendered
        return rendered

    async def _proxy(
        self,
        scope: Scope,
        send: Send,
        state: GatewayState,
        route: RouteConfig,
        method: str,
        body: bytes,
        principal: Principal | None,
        extra: Headers,
    ) -> None:
        origin = state.origins[route.upstream]
        timeouts = state.config.timeouts
        started = time.perf_counter()
        try:
            response = await self.upstream.request(
                origin,
                method.encode("ascii"),
                self.upstream_target(route, origin, scope),
                self.upstream_headers(scope, state, route, principal),
                body,
                connect_timeout=timeouts.connect,
                read_timeout=timeouts.read,
            )
        except UpstreamError as error:
            await self._send_upstream_error(send, route, method, error, extra)
            return
        self.metrics.observe_upstream(route.path, time.perf_counter() - started)
        answered = False

        async def send_tracked(message: Message) -> None:
            nonlocal answered
            answered = True
            await send(message)

        try:
            await self._relay(send_tracked, state, route, method, response, extra)
        except UpstreamBodyTooLarge:
            log.warning("%s %s: upstream answer over the size limit, connection aborted", method, route.path)
            raise
        except UpstreamError as error:
            if answered:
                raise
            await self._send_upstream_error(send, route, method, error, extra)
        finally:
            response.release()

    async def _send_upstream_error(
        self, send: Send, route: RouteConfig, method: str, error: UpstreamError, extra: Headers
    ) -> None:
        if isinstance(error, UpstreamTimeout):
            await self._send_error(
                send,
                route.path,
                method,
                504,
                "upstream_timeout",
                "The upstream did not answer in time.",
                extra,
            )
            return
        log.warning("%s %s: upstream %s failed: %s", method, route.path, route.upstream, error)
        await self._send_error(
            send, route.path, method, 502, "bad_gateway", "The upstream could not be reached.", extra
        )

    async def _relay(
        self,
        send: Send,
        state: GatewayState,
        route: RouteConfig,
        method: str,
        response: UpstreamResponse,
        extra: Headers,
    ) -> None:
        limit = state.config.limits.max_response_body
        length = response.content_length
        if length is not None and length > limit and method != "HEAD":
            await self._send_error(
                send, route.path, method, 502, "bad_gateway", "The upstream answer is too large.", extra
            )
            return
        drop = RESPONSE_HEADERS_NOT_FORWARDED
        replaced = {name for name, _ in extra if name != b"vary"}  # Vary is merged, the others replaced
        cors = route.cors is not None
        headers: Headers = [
            (name, value)
            for name, value in response.headers
            if name not in drop
            and name not in replaced
            and not (cors and name.startswith(b"access-control-"))
        ]
        headers.extend(extra)
        status = response.status
        if length is not None or method == "HEAD" or status in (204, 304):
            data = await response.read()
            self.metrics.count_request(route.path, method, status)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": data})
            return
        await self._relay_stream(send, route, method, response, headers, limit, extra)

    async def _relay_stream(
        self,
        send: Send,
        route: RouteConfig,
        method: str,
        response: UpstreamResponse,
        headers: Headers,
        limit: int,
        extra: Headers,
    ) -> None:
        """A body of unknown length: buffered up to 64 KiB (then sent with a length), streamed beyond."""
        status = response.status
        buffered: list[bytes] = []
        size = 0
        streaming = False
        async for chunk in response.iter_chunks():
            size += len(chunk)
            if size > limit:
                if streaming:
                    raise UpstreamBodyTooLarge
                await self._send_error(
                    send, route.path, method, 502, "bad_gateway", "The upstream answer is too large.", extra
                )
                return
            if streaming:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                continue
            buffered.append(chunk)
            if size >= STREAM_THRESHOLD:
                self.metrics.count_request(route.path, method, status)
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": b"".join(buffered), "more_body": True})
                buffered, streaming = [], True
        if streaming:
            await send({"type": "http.response.body", "body": b""})
            return
        data = b"".join(buffered)
        headers = [*headers, (b"content-length", str(len(data)).encode())]
        self.metrics.count_request(route.path, method, status)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    # ------------------------------------------------------------------ CORS

    @staticmethod
    def _cors_headers(policy: CorsPolicy | None, origin: str | None) -> Headers:
        return cors_response_headers(policy, origin)

    async def _answer_preflight(
        self,
        send: Send,
        state: GatewayState,
        path: str,
        origin: str,
        requested: bytes,
        headers: dict[bytes, bytes],
    ) -> bool:
        """Answer a CORS preflight if the route for the requested method has a CORS policy.
        Returns False to let the OPTIONS request go on as an ordinary request."""
        requested_method = requested.decode("latin-1").strip().upper()
        found = state.router.match(requested_method, path)
        if isinstance(found, NoMatch) or found.route.cors is None:
            return False
        route, policy = found.route, found.route.cors
        methods = policy.methods or tuple(sorted(HTTP_METHODS if route.any_method else route.methods))
        raw_headers = headers.get(b"access-control-request-headers", b"").decode("latin-1")
        answer = preflight_headers(policy, origin, requested_method, raw_headers, methods)
        if answer is None:
            await self._send_error(
                send,
                route.path,
                "OPTIONS",
                403,
                "cors_denied",
                "This cross-origin request is not allowed.",
                [PREFLIGHT_VARY],
            )
            return True
        self.metrics.count_request(route.path, "OPTIONS", 204)
        await send(
            {"type": "http.response.start", "status": 204, "headers": [*answer, (b"date", http_date())]}
        )
        await send({"type": "http.response.body", "body": b""})
        return True

    # ------------------------------------------------------------------ gateway answers

    @staticmethod
    def _json_headers(body: bytes, extra: Iterable[tuple[bytes, bytes]] = ()) -> Headers:
        return [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
            (b"date", http_date()),
            *extra,
        ]

    async def _send_error(
        self,
        send: Send,
        route: str,
        method: str,
        status: int,
        error: str,
        description: str,
        extra: Iterable[tuple[bytes, bytes]] = (),
    ) -> None:
        self.metrics.count_request(route, method, status)
        body = json_bytes({"error": error, "error_description": description})
        await send(
            {"type": "http.response.start", "status": status, "headers": self._json_headers(body, extra)}
        )
        await send({"type": "http.response.body", "body": body})

    async def _send_bearer_error(
        self, send: Send, route: str, method: str, error: BearerError, extra: Headers
    ) -> None:
        self.metrics.count_request(route, method, error.status_code)
        headers = error.raw_headers([(b"date", http_date()), *extra])
        await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": error.body})

    async def _send_too_large(self, send: Send, route: str, method: str, extra: Headers) -> None:
        await self._send_error(
            send,
            route,
            method,
            413,
            "request_too_large",
            "The request body is too large.",
            [(b"connection", b"close"), *extra],
        )

    async def _send_bad_path(self, send: Send, method: str, problem: str) -> None:
        """400 for a path an upstream could read as another path (``ostiary.request_paths``)."""
        await self._send_error(
            send, "invalid", method, 400, "invalid_request", f"The request path is not valid: it {problem}."
        )

    async def _send_no_route(self, send: Send, method: str, found: NoMatch) -> None:
        if not found.allowed:
            await self._send_error(
                send, "(unmatched)", method, 404, "not_found", "No route matches this request."
            )
            return
        allow = ", ".join(sorted(found.allowed)).encode()
        await self._send_error(
            send,
            "(unmatched)",
            method,
            405,
            "method_not_allowed",
            "This method is not allowed here.",
            [(b"allow", allow)],
        )

    def serves_metrics(self, config: GatewayConfig) -> bool:
        """Metrics are served if enabled and either public or protected by a token."""
        return config.metrics.enabled and (config.metrics.public or self._metrics_token_digest is not None)

    def _metrics_caller_ok(self, headers: Headers) -> bool:
        values = [value for name, value in headers if name == b"authorization"]
        token = bearer_token(values[0].decode("latin-1")) if len(values) == 1 else None
        if not token or self._metrics_token_digest is None:
            return False
        return hmac.compare_digest(hashlib.sha256(token.encode()).digest(), self._metrics_token_digest)

    async def _send_metrics(self, send: Send, method: str, headers: Headers, public: bool) -> None:
        if not public and not self._metrics_caller_ok(headers):
            error = invalid_token("The metrics token is missing or wrong.", realm=METRICS_REALM)
            await self._send_bearer_error(send, "(metrics)", method, error, [])
            return
        if method not in ("GET", "HEAD"):
            await self._send_error(
                send, "(metrics)", method, 405, "method_not_allowed", "Use GET.", [(b"allow", b"GET, HEAD")]
            )
            return
        self.metrics.count_request("(metrics)", method, 200)
        body = self.metrics.render().encode()
        headers = [
            (b"content-type", METRICS_CONTENT_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


def build_gateway_app(
    config: GatewayConfig,
    *,
    config_path: Path | None = None,
    jwks: JwksCache | None = None,
    metrics_token: str | None = None,
) -> Gateway:
    return Gateway(config, config_path=config_path, jwks=jwks, metrics_token=metrics_token)
