"""Outermost ASGI middleware: request ids, Date, rate limits, body-size cap, security headers."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ostiary import ids
from ostiary.compact_json import dumps
from ostiary.http.errors import OktaHTTPError, okta_error_body
from ostiary.http.ratelimit import RateLimiter
from ostiary.timeutil import http_date


class BodyTooLarge(OktaHTTPError):
    """Raised from ``receive`` so that the app's error handler answers 413 in Okta's shape."""

    def __init__(self) -> None:
        super().__init__(413, "E0000003", "The request body was too large.")


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, limiter: RateLimiter | None, max_body: int) -> None:
        self.app = app
        self.limiter = limiter
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ids.request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        extra: list[tuple[bytes, bytes]] = [
            (b"date", http_date()),
            (b"x-okta-request-id", request_id.encode()),
            (b"x-content-type-options", b"nosniff"),
        ]
        if self.limiter is not None:
            host = _header(scope, b"host") or "-"
            verdict = await self.limiter.check(host, scope["method"], scope["path"])
            extra += [
                (b"x-rate-limit-limit", str(verdict.limit).encode()),
                (b"x-rate-limit-remaining", str(max(verdict.remaining, 0)).encode()),
                (b"x-rate-limit-reset", str(verdict.reset).encode()),
            ]
            if not verdict.allowed:
                await _send_error(
                    send,
                    429,
                    "E0000047",
                    "API call exceeded rate limit due to too many requests.",
                    extra,
                )
                return
        declared = _header(scope, b"content-length")
        if declared and declared.isdigit():
            if int(declared) > self.max_body:
                await _send_error(send, 413, "E0000003", "The request body was too large.", extra)
                return
            capped_receive = receive  # the server delivers exactly the declared length
        else:
            capped_receive = _capped(receive, self.max_body)

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            await self.app(scope, capped_receive, send_with_headers)
        except BodyTooLarge:
            if not started:
                await _send_error(send, 413, "E0000003", "The request body was too large.", extra)


def _capped(receive: Receive, max_body: int) -> Receive:
    """``receive`` that raises :class:`BodyTooLarge` once more than ``max_body`` bytes came
    (for bodies of undeclared length: chunked transfer encoding)."""
    received = 0

    async def capped_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_body:
                raise BodyTooLarge
        return message

    return capped_receive


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _send_error(send: Send, status: int, code: str, summary: str, extra: list[Any]) -> None:
    body = dumps(okta_error_body(code, summary))
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
