"""The gateway's own answers (errors, 404/405, bad paths), each counted in the metrics.

Errors are JSON ``{"error", "error_description"}`` with ``Cache-Control: no-store``;
bearer-token errors carry their RFC 6750 challenge (:mod:`ostiary.bearer`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ostiary.bearer import BearerError
from ostiary.gateway.request import GatewayRequest, Headers
from ostiary.gateway.routing import NoMatch
from ostiary.gateway.upstream import UpstreamError, UpstreamTimeout
from ostiary.timeutil import http_date


def json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def json_headers(body: bytes, extra: Iterable[tuple[bytes, bytes]] = ()) -> Headers:
    return [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"date", http_date()),
        *extra,
    ]


async def send_error(
    request: GatewayRequest,
    status: int,
    error: str,
    description: str,
    extra: Iterable[tuple[bytes, bytes]] = (),
    *,
    label: str | None = None,
) -> None:
    request.metrics.count_request(label or request.label, request.method, status)
    body = json_bytes({"error": error, "error_description": description})
    send = request.send
    await send({"type": "http.response.start", "status": status, "headers": json_headers(body, extra)})
    await send({"type": "http.response.body", "body": body})


async def send_bearer_error(
    request: GatewayRequest, error: BearerError, extra: Headers, *, label: str | None = None
) -> None:
    request.metrics.count_request(label or request.label, request.method, error.status_code)
    headers = error.raw_headers([(b"date", http_date()), *extra])
    await request.send({"type": "http.response.start", "status": error.status_code, "headers": headers})
    await request.send({"type": "http.response.body", "body": error.body})


async def send_too_large(request: GatewayRequest) -> None:
    await send_error(
        request,
        413,
        "request_too_large",
        "The request body is too large.",
        [(b"connection", b"close"), *request.extra],
    )


async def send_bad_path(request: GatewayRequest, problem: str) -> None:
    """400 for a path an upstream could read as another path (``ostiary.request_paths``)."""
    await send_error(
        request, 400, "invalid_request", f"The request path is not valid: it {problem}.", label="invalid"
    )


async def send_no_route(request: GatewayRequest, found: NoMatch) -> None:
    if not found.allowed:
        await send_error(request, 404, "not_found", "No route matches this request.")
        return
    allow = ", ".join(sorted(found.allowed)).encode()
    await send_error(
        request, 405, "method_not_allowed", "This method is not allowed here.", [(b"allow", allow)]
    )


async def send_upstream_error(request: GatewayRequest, error: UpstreamError) -> None:
    if isinstance(error, UpstreamTimeout):
        await send_error(
            request, 504, "upstream_timeout", "The upstream did not answer in time.", request.extra
        )
        return
    await send_error(request, 502, "bad_gateway", "The upstream could not be reached.", request.extra)


async def send_too_large_upstream_answer(request: GatewayRequest) -> None:
    await send_error(request, 502, "bad_gateway", "The upstream answer is too large.", request.extra)
