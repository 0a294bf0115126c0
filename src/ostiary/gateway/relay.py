"""The request to the upstream and its answer back to the client.

The request goes over pooled keep-alive connections (:mod:`.upstream`), with hop-by-hop
headers and client-supplied copies of the identity headers, ``Forwarded``, ``X-Real-IP`` and
``X-Forwarded-*`` removed (``_`` read as ``-``), the gateway's own
``X-Forwarded-For/-Proto/-Host`` and the route's claims added. The answer's status, headers
and body come back as they are (502 if the upstream cannot be reached or its answer is over
``limits.max_response_body``, 504 if it is too slow).
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any
from urllib.parse import quote

from ostiary.gateway.answers import send_too_large_upstream_answer, send_upstream_error
from ostiary.gateway.config import HOP_BY_HOP, RouteConfig
from ostiary.gateway.request import GatewayRequest, Headers, Scope, Send
from ostiary.gateway.upstream import Origin, UpstreamError, UpstreamPool, UpstreamResponse, UpstreamTimeout
from ostiary.gateway.verifier import Principal

log = logging.getLogger(__name__)

STREAM_THRESHOLD = 64 * 1024
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
UNCHANGED_BY_QUOTE = re.compile(r"[A-Za-z0-9_.~/:@!$&'()*+,;=-]*")
"""The paths ``quote(path, safe=PATH_SAFE)`` returns unchanged: ASCII letters and digits,
``_.-~`` (always safe) and ``PATH_SAFE``.

Seam for speed: most paths need no encoding, and this C-level match tells so, where ``quote``
costs two Python calls (``quote``, ``quote_from_bytes``) per proxied request;
``bench/gateway_calls.py`` counts 2 calls/request fewer. The target is the same either way
(``tests/unit/gateway/test_relay_encode_path.py`` checks every character)."""


class UpstreamBodyTooLarge(Exception):
    """Raised after the answer has started, so the server aborts the connection."""


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


def upstream_target(route: RouteConfig, origin: Origin, scope: Scope) -> bytes:
    """The request target at the upstream: its base path, the request path (less
    ``strip_prefix``, re-encoded from the checked, decoded path) and the raw query."""
    path: str = scope["path"]
    if route.strip_prefix:
        path = path[len(route.strip_prefix) :] or "/"
        if not path.startswith("/"):
            path = "/" + path
    if not UNCHANGED_BY_QUOTE.fullmatch(path):
        path = quote(path, safe=PATH_SAFE)
    target = (origin.base_path + path).encode("ascii")
    query: bytes = scope.get("query_string", b"")
    return target + b"?" + query if query else target


def upstream_headers(
    scope: Scope, strip: frozenset[bytes], route: RouteConfig, principal: Principal | None
) -> Headers:
    connection_tokens: set[bytes] = set()
    host = b""
    result: Headers = []
    for name, value in scope["headers"]:
        if name == b"connection":
            connection_tokens.update(token.strip().lower() for token in value.split(b","))
        elif name == b"host":
            host = value
        else:  # `_` read as `-`; inline: this loop runs for every header of every proxied call
            key = name.replace(b"_", b"-").lower() if b"_" in name else name
            if key not in strip and not key.startswith(b"x-forwarded-"):
                result.append((name, value))
    if connection_tokens:
        result = [(n, v) for n, v in result if n not in connection_tokens]
    client = scope.get("client")
    if client:
        result.append((b"x-forwarded-for", str(client[0]).encode("latin-1")))
    result.append((b"x-forwarded-proto", scope.get("scheme", "http").encode("latin-1")))
    if host:
        result.append((b"x-forwarded-host", host))
    if principal is not None and route.forward_claims:  # none to render: a call fewer
        result.extend(claim_headers(principal, route))
    return result


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


async def proxy(request: GatewayRequest, upstream: UpstreamPool) -> None:
    """Call the upstream and relay its answer (or answer 502/504 if it fails before answering)."""
    route = request.route
    assert route is not None  # routed before this step
    state = request.state
    origin = state.origins[route.upstream]
    timeouts = state.config.timeouts
    started = time.perf_counter()
    try:
        response = await upstream.request(
            origin,
            request.method.encode("ascii"),
            upstream_target(route, origin, request.scope),
            upstream_headers(request.scope, state.strip_headers, route, request.principal),
            request.body,
            connect_timeout=timeouts.connect,
            read_timeout=timeouts.read,
        )
    except UpstreamError as error:
        await upstream_failed(request, route, error)
        return
    request.metrics.observe_upstream(route.path, time.perf_counter() - started)
    await relay_answer(request, route, response)


async def relay_answer(request: GatewayRequest, route: RouteConfig, response: UpstreamResponse) -> None:
    """Relay the upstream's answer (its headers are in) and release its connection."""
    try:
        await _relay(request, route, response, request.send)
    except UpstreamBodyTooLarge:
        log.warning(
            "%s %s: upstream answer over the size limit, connection aborted", request.method, route.path
        )
        raise
    except UpstreamError as error:
        if request.answer_started:
            raise
        await upstream_failed(request, route, error)
    finally:
        response.release()


async def upstream_failed(request: GatewayRequest, route: RouteConfig, error: UpstreamError) -> None:
    if not isinstance(error, UpstreamTimeout):
        log.warning("%s %s: upstream %s failed: %s", request.method, route.path, route.upstream, error)
    await send_upstream_error(request, error)


async def _relay(request: GatewayRequest, route: RouteConfig, response: UpstreamResponse, send: Send) -> None:
    method = request.method
    extra = request.extra
    limit = request.state.config.limits.max_response_body
    length = response.content_length
    if length is not None and length > limit and method != "HEAD":
        await send_too_large_upstream_answer(request)
        return
    drop = RESPONSE_HEADERS_NOT_FORWARDED
    # Vary is merged, the others replaced (no set built when there are none: a call fewer).
    replaced = {name for name, _ in extra if name != b"vary"} if extra else frozenset()
    cors = route.cors is not None
    headers: Headers = [
        (name, value)
        for name, value in response.headers
        if name not in drop and name not in replaced and not (cors and name.startswith(b"access-control-"))
    ]
    headers.extend(extra)
    status = response.status
    if length is not None or method == "HEAD" or status in (204, 304):
        data = await response.read()
        request.metrics.count_request(route.path, method, status)
        request.answer_started = True
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})
        return
    await _relay_stream(request, route, response, headers, limit, send)


async def _relay_stream(
    request: GatewayRequest,
    route: RouteConfig,
    response: UpstreamResponse,
    headers: Headers,
    limit: int,
    send: Send,
) -> None:
    """A body of unknown length: buffered up to 64 KiB (then sent with a length), streamed beyond."""
    method = request.method
    status = response.status
    buffered: list[bytes] = []
    size = 0
    streaming = False
    async for chunk in response.iter_chunks():
        size += len(chunk)
        if size > limit:
            if streaming:
                raise UpstreamBodyTooLarge
            await send_too_large_upstream_answer(request)
            return
        if streaming:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            continue
        buffered.append(chunk)
        if size >= STREAM_THRESHOLD:
            request.metrics.count_request(route.path, method, status)
            request.answer_started = True
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": b"".join(buffered), "more_body": True})
            buffered, streaming = [], True
    if streaming:
        await send({"type": "http.response.body", "body": b""})
        return
    data = b"".join(buffered)
    headers = [*headers, (b"content-length", str(len(data)).encode())]
    request.metrics.count_request(route.path, method, status)
    request.answer_started = True
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
