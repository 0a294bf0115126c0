"""The gateway's fast path: a cached-token ``GET``/``HEAD`` relayed from the HTTP protocol.

Seam for speed. Most calls through the gateway are a ``GET`` without a body, on a route,
with a bearer token it verified a moment ago. Through ASGI each one cost uvicorn's request
cycle (an ``asyncio.Event``, the scope, two ``send`` messages checked header by header) and
about ten coroutine frames of the gateway's steps (``proxy.Gateway.handle`` → ``authorize`` →
``relay.proxy`` → ``_relay`` → ``send``). :class:`GatewayHttpProtocol` answers such a call
itself, without a task: the same upstream request (``relay.upstream_target`` and
``relay.upstream_headers`` build it) goes out on an idle pooled connection, whose answer comes
back to a callback (``upstream._Connection.start``), and the client gets the bytes uvicorn
would have written, in one ``send`` (at the end of the loop iteration, as every answer:
sending it at once from the callback was not cheaper, median +9 % CPU in 10 rounds).
Measured: Python calls per proxied call through uvicorn 81 → 52 (``bench/gateway_calls.py
--server``, deterministic); CPU per proxied call, gateway ÷ the commit before per CPU 0.96-1.27
(medians of 5 alternating rounds, four runs of ``bench/gateway_goals.py --compare-src``, load
average 9-15), gateway ÷ HAProxy ``jwt_verify`` per CPU 0.75-0.81.

A request takes this path only if all of these hold, else it goes to the ASGI app unchanged:

- the connection: the app is the bare :class:`~.proxy.Gateway` (no uvicorn wrapper: trace
  logging, proxy headers), no access log, no ``root_path``, no concurrency limit;
- the request: HTTP/1.1 ``GET`` or ``HEAD``, no ``Content-Length``/``Transfer-Encoding``/
  ``Expect``, no upgrade, not pipelined behind an unfinished answer, no ``%`` in the path,
  at most one ``Authorization`` header, a bearer token whose verification is still cached
  (:meth:`~.verifier.GatewayVerifier.cached`: unexpired, same cache the ASGI path uses);
- the route: not ``/metrics``, no path problem or ``;``, not shadowed by an earlier route,
  not public; the token grants its scopes; the rate limit, if any, is the
  in-process one (counted here as ``authorize`` counts it; a refusal is the ASGI path's 429).

What it remembers: nothing of its own about tokens (it asks the verifier's cache, whose
entries end at the token's ``exp`` plus leeway or the cache TTL, whichever is first: the same
answer the ASGI path gets), and the routes it resolved per configuration
(``GatewayState.fast_routes``, dropped with the state on every reload).

An upstream failure, an answer without ``Content-Length`` (or 204/304, or over the size
limit) is handed to a real uvicorn cycle running the ASGI path's own code
(``relay.upstream_failed`` / ``relay.relay_answer``), so those answers are the same by
construction. ``tests/unit/gateway/test_gateway_fast_path.py`` sends the same requests
through both paths to a recording upstream and compares what it saw and what the client got.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from functools import partial
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    RequestResponseCycle,
)

from ostiary.bearer import authorization_header_count, bearer_token
from ostiary.cors_policy import response_headers as cors_response_headers
from ostiary.gateway.authorize import refuse_rate_limit
from ostiary.gateway.config import RouteConfig
from ostiary.gateway.proxy import Gateway
from ostiary.gateway.ratelimit import InProcessRateLimiter, RateDecision
from ostiary.gateway.relay import (
    RESPONSE_HEADERS_NOT_FORWARDED,
    relay_answer,
    upstream_failed,
    upstream_headers,
    upstream_target,
)
from ostiary.gateway.request import ClientDisconnected, GatewayRequest, Headers, Receive, Scope, Send
from ostiary.gateway.routing import RouteMatch, path_problem
from ostiary.gateway.state import GatewayState
from ostiary.gateway.upstream import UpstreamError, UpstreamPool, UpstreamResponse, _Connection
from ostiary.gateway.verifier import Principal
from ostiary.serving.uvicorn_protocol import CoalescingHttpToolsProtocol

log = logging.getLogger(__name__)

_Call = tuple["FastCycle", Scope, Gateway, GatewayState, RouteConfig, Principal, str, Headers]
"""What one fast-path request carries from step to step."""

MAX_FAST_ROUTES = 1024
"""Entries of ``GatewayState.fast_routes`` before it is emptied (paths with parameters are many)."""

_FRAMING = frozenset({b"connection", b"content-length", b"transfer-encoding"})
"""Default headers that would change uvicorn's framing of an answer: none on the fast path."""


class _NoEvent:
    """The ``message_event`` of a :class:`FastCycle`: nothing waits for the request body, so
    ``set`` does nothing; ``tuple`` is a C-level no-op where a method is a Python call."""

    __slots__ = ()
    set = staticmethod(tuple)


class FastCycle:
    """What uvicorn's protocol reads and writes of ``self.cycle`` while the fast path answers
    (pipelining, disconnects, shutdown, the read timeout)."""

    __slots__ = ("disconnected", "keep_alive", "more_body", "response_complete", "response_started")
    message_event = _NoEvent()

    def __init__(self, keep_alive: bool) -> None:
        self.keep_alive = keep_alive
        self.disconnected = False
        self.more_body = True
        self.response_started = False
        self.response_complete = False


def _is_simple(response: UpstreamResponse, method: str, state: GatewayState) -> bool:
    """An answer ``relay._relay`` sends whole, with its ``Content-Length`` (uvicorn then frames
    it by that length), and which is not refused as too large."""
    length = response.content_length
    return (
        length is not None
        and response.status != 204
        and response.status != 304
        and (length <= state.config.limits.max_response_body or method == "HEAD")
    )


def fast_route(state: GatewayState, method: str, path: str) -> RouteConfig | None:
    """The route the ASGI path would proxy ``method path`` to with no further answer of its
    own (metrics, bad path, 404/405, public route), else None; remembered in ``state``."""
    if path == state.config.metrics.path or ";" in path or path_problem(path, allow_semicolons=True):
        return None
    found = state.router.match(method, path)
    if not isinstance(found, RouteMatch):
        return None
    route = found.route
    if route.public or state.router.shadowing(method, path, found) is not None:
        return None
    if len(state.fast_routes) >= MAX_FAST_ROUTES:
        state.fast_routes.clear()
    state.fast_routes[(method, path)] = route
    return route


class GatewayHttpProtocol(CoalescingHttpToolsProtocol):
    """The gateway's HTTP protocol: :class:`CoalescingHttpToolsProtocol` with the fast path."""

    fast_gateway: Gateway | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        app = self.app
        eligible = (
            isinstance(app, Gateway)
            and self.limit_concurrency is None
            and not self.access_log
            and not self.root_path
            and not getattr(self.config, "reset_contextvars", False)
            and not any(name.lower() in _FRAMING for name, _ in self.server_state.default_headers)
        )
        self.fast_gateway = app if eligible else None  # type: ignore[assignment]

    def on_headers_complete(self) -> None:
        if self._start_fast():
            self.read_deadline = None  # the request is whole: no body follows
        else:
            super().on_headers_complete()

    def _start_fast(self) -> bool:
        """Start answering this request on the fast path; False to leave it to ASGI."""
        gateway = self.fast_gateway
        if gateway is None:
            return False
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            return False  # pipelined: uvicorn queues it
        parser = self.parser
        method_bytes = parser.get_method()
        if method_bytes != b"GET" and method_bytes != b"HEAD":
            return False
        if parser.get_http_version() != "1.1" or parser.should_upgrade() or self.expect_100_continue:
            return False
        raw_headers = self.headers
        headers = dict(reversed(raw_headers))  # the first of a repeated header, as the ASGI path
        if b"content-length" in headers or b"transfer-encoding" in headers or b"expect" in headers:
            return False
        authorization = headers.get(b"authorization")
        if authorization is None:
            return False
        if len(headers) != len(raw_headers) and authorization_header_count(raw_headers) > 1:
            return False
        token = bearer_token(authorization.decode("latin-1"))
        if not token:
            return False
        state = gateway.reloader.state
        principal = state.verifier.cached(token)
        if principal is None:
            return False
        url = httptools.parse_url(self.url)
        raw_path: bytes = url.path
        path = raw_path.decode("ascii")
        if "%" in path:
            return False
        method = "GET" if method_bytes == b"GET" else "HEAD"
        route = state.fast_routes.get((method, path)) or fast_route(state, method, path)
        if route is None or not route.scopes.allows(principal.scopes):
            return False
        # The headers every answer on the route carries, as Gateway.handle and authorize()
        # set request.extra: CORS (on a route with a policy), then the rate limit's.
        extra: Headers = []
        if route.cors is not None:
            origin = headers.get(b"origin", b"").decode("latin-1") or None
            extra = cors_response_headers(route.cors, origin)
        decision = None
        limiter = state.limiter
        if limiter is not None:  # counted here as authorize() counts it: after the scope check
            if type(limiter) is not InProcessRateLimiter:
                return False  # Redis: a round trip, the ASGI path's
            decision = limiter.decide(principal.client_id or "anonymous")
            if decision.allowed:
                extra = extra + decision.headers()

        scope = self.scope  # completed as uvicorn would: a hand-over runs the ASGI code on it
        scope["method"] = method
        scope["path"] = path
        scope["raw_path"] = raw_path
        scope["query_string"] = url.query or b""
        fast = FastCycle(keep_alive=parser.should_keep_alive())
        self.cycle = fast  # type: ignore[assignment]
        call = (fast, scope, gateway, state, route, principal, method, extra)
        if decision is not None and not decision.allowed:
            self._spawn(self._hand_over(*call, decision))
            return True
        try:  # the usual case: a pooled connection is idle, and no task is needed
            origin = state.origins[route.upstream]
            pool = gateway.upstream
            request = pool.prepare(
                origin,
                method_bytes,
                upstream_target(route, origin, scope),
                upstream_headers(scope, state.strip_headers, route, principal),
                b"",
            )
            connection = pool.take_idle(origin)
        except Exception:  # _answer meets it again and answers as the ASGI path would
            connection = None
        if connection is None:
            self._spawn(self._answer(*call))
        else:
            done = partial(self._upstream_done, call, connection, time.perf_counter())
            try:
                connection.start(request, method_bytes == b"HEAD", state.config.timeouts.read, done)
            except Exception as exc:  # as UpstreamPool.request: the connection goes, a 500
                connection.close()
                self._spawn(self._hand_over(*call, exc))
        return True

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """A task uvicorn waits for on shutdown, as it does for its ASGI tasks."""
        task = self.loop.create_task(coroutine)
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)

    def _upstream_done(self, call: _Call, connection: _Connection, started: float) -> None:
        """The upstream answered (or failed) a request sent from :meth:`_start_fast`: relay a
        small complete answer now; leave anything else to a task, as ``UpstreamPool.request``
        and ``relay.proxy`` would go on (a second attempt, a 502/504, a streamed body).

        It runs from the upstream connection's ``data_received``: nothing may escape it (the
        client would never be answered), so an unexpected error is answered as uvicorn's
        ``run_asgi`` would (500, or the connection closed once the answer has started)."""
        try:
            self._relay_now(call, connection, started)
        except Exception as exc:
            if connection.in_exchange:
                connection.close()
            if not call[0].response_started:
                self._spawn(self._hand_over(*call, exc))
            else:
                self.logger.error("Exception in ASGI application\n", exc_info=exc)
                self.transport.close()

    def _relay_now(self, call: _Call, connection: _Connection, started: float) -> None:
        fast, _, gateway, state, route, _, method, extra = call
        error = connection.error
        if error is not None:
            connection.close()
            if UpstreamPool.may_retry(connection, method.encode("ascii"), error):
                self._spawn(self._answer(*call, retry=False))
            else:
                self._spawn(self._hand_over(*call, error))
            return
        gateway.metrics.observe_upstream(route.path, time.perf_counter() - started)
        response = UpstreamResponse(connection)
        data = None
        if _is_simple(response, method, state) and not self.flow.write_paused:
            data = response.body_if_complete()
        if data is None:
            self._spawn(self._finish(call, response))
            return
        try:
            gateway.metrics.count_request(route.path, method, response.status)
            self._send(fast, response.status, response, method, data, extra, route.cors is not None)
        finally:
            response.release()

    async def _answer(
        self,
        fast: FastCycle,
        scope: Scope,
        gateway: Gateway,
        state: GatewayState,
        route: RouteConfig,
        principal: Principal,
        method: str,
        extra: Headers,
        retry: bool = True,
    ) -> None:
        """``relay.proxy`` for this case, in a task: no idle pooled connection (or a second
        attempt, ``retry=False``), then :meth:`_finish`."""
        call = (fast, scope, gateway, state, route, principal, method, extra)
        try:
            origin = state.origins[route.upstream]
            timeouts = state.config.timeouts
            started = time.perf_counter()
            try:
                response = await gateway.upstream.request(
                    origin,
                    method.encode("ascii"),
                    upstream_target(route, origin, scope),
                    upstream_headers(scope, state.strip_headers, route, principal),
                    b"",
                    connect_timeout=timeouts.connect,
                    read_timeout=timeouts.read,
                    retry=retry,
                )
            except UpstreamError as error:
                await self._hand_over(*call, error)
                return
            gateway.metrics.observe_upstream(route.path, time.perf_counter() - started)
        except BaseException as exc:  # as uvicorn's RequestResponseCycle.run_asgi
            await self._hand_over(*call, exc)
            return
        await self._finish(call, response)

    async def _finish(self, call: _Call, response: UpstreamResponse) -> None:
        """``relay._relay`` for this case, then uvicorn's ``send``; anything but a small answer
        with a ``Content-Length`` goes to :meth:`_hand_over`."""
        fast, _, gateway, state, route, _, method, extra = call
        try:
            if not _is_simple(response, method, state):
                await self._hand_over(*call, response)
                return
            try:
                data = response.body_if_complete()
                if data is None:
                    data = await response.read()
            except UpstreamError as error:
                response.release()
                await self._hand_over(*call, error)
                return
            try:
                gateway.metrics.count_request(route.path, method, response.status)
                if self.flow.write_paused and not fast.disconnected:
                    await self.flow.drain()
                self._send(fast, response.status, response, method, data, extra, route.cors is not None)
            finally:
                response.release()
        except BaseException as exc:  # as uvicorn's RequestResponseCycle.run_asgi
            if not fast.response_started:
                await self._hand_over(*call, exc)
                return
            self.logger.error("Exception in ASGI application\n", exc_info=exc)
            self.transport.close()

    def _send(
        self,
        fast: FastCycle,
        status: int,
        response: UpstreamResponse,
        method: str,
        data: bytes,
        extra: Headers,
        cors: bool,
    ) -> None:
        """What uvicorn's ``RequestResponseCycle.send`` writes for ``http.response.start`` with
        the relayed headers and one ``http.response.body`` (header checks included). ``extra``
        (CORS and rate-limit headers) replaces the upstream's headers of the same names but
        ``Vary`` and comes last; on a route with CORS (``cors``) the upstream's
        ``Access-Control-*`` headers are dropped: as in ``relay._relay``."""
        if fast.disconnected:
            return
        drop = RESPONSE_HEADERS_NOT_FORWARDED
        if extra:
            drop = drop | {name for name, _ in extra if name != b"vary"}
        fast.response_started = True
        content = [STATUS_LINE[status]]
        names: list[bytes] = []
        values: list[bytes] = []
        for headers in (self.server_state.default_headers, response.headers, extra):  # loops, not
            for name, value in headers:  # comprehensions: each of those is a Python call
                if headers is response.headers and (
                    name in drop or (cors and name.startswith(b"access-control-"))
                ):
                    continue
                names.append(name)
                values.append(value)
                content += [name.lower(), b": ", value, b"\r\n"]
        if HEADER_RE.search(b"".join(names)):  # uvicorn checks each header; one character class
            raise RuntimeError("Invalid HTTP header name.")  # finds the same over the joined ones
        if HEADER_VALUE_RE.search(b"".join(values)):
            raise RuntimeError("Invalid HTTP header value.")
        keep_alive = fast.keep_alive  # no Connection header: hop-by-hop, dropped
        if not keep_alive:
            content.append(b"connection: close\r\n")
        content.append(b"\r\n")
        if method != "HEAD":
            if len(data) != response.content_length:  # uvicorn's check (llhttp allows one length)
                self.transport.write(b"".join(content))
                raise RuntimeError("Response content does not match Content-Length")
            content.append(data)
        self.transport.write(b"".join(content))
        fast.response_complete = True
        if not keep_alive:
            self.transport.close()
        self.on_response_complete()

    async def _hand_over(
        self,
        fast: FastCycle,
        scope: Scope,
        gateway: Gateway,
        state: GatewayState,
        route: RouteConfig,
        principal: Principal,
        method: str,
        extra: Headers,
        outcome: UpstreamResponse | UpstreamError | RateDecision | BaseException,
    ) -> None:
        """Finish the request on the ASGI path's code in a real uvicorn cycle: relay an
        unusual answer, answer an upstream failure, or treat an exception as uvicorn does."""
        cycle = RequestResponseCycle(
            scope=scope,  # type: ignore[arg-type]
            transport=self.transport,
            flow=self.flow,
            logger=self.logger,
            access_logger=self.access_logger,
            access_log=self.access_log,
            default_headers=self.server_state.default_headers,
            message_event=asyncio.Event(),
            expect_100_continue=False,
            keep_alive=fast.keep_alive,
            on_response=self.on_response_complete,
        )
        cycle.more_body = fast.more_body
        cycle.disconnected = fast.disconnected
        if self.cycle is fast:
            self.cycle = cycle

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            request = GatewayRequest(
                scope, receive, send, state, gateway.metrics, scope["method"], scope["path"], {}
            )
            request.route, request.label, request.principal = route, route.path, principal
            request.extra = extra
            try:
                if isinstance(outcome, RateDecision):  # extra: CORS only, as in authorize()
                    await refuse_rate_limit(request, outcome)
                elif isinstance(outcome, UpstreamResponse):
                    await relay_answer(request, route, outcome)
                elif isinstance(outcome, UpstreamError):
                    await upstream_failed(request, route, outcome)
                else:
                    raise outcome
            except ClientDisconnected:
                return

        await cycle.run_asgi(app)  # type: ignore[arg-type]


__all__ = ["FastCycle", "GatewayHttpProtocol", "fast_route"]
