"""Outermost ASGI middleware: request ids, Date, the org of the Host, rate limits, body-size cap,
security headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ostiary import ids
from ostiary.compact_json import dumps
from ostiary.domain.orgs import Org
from ostiary.http.errors import OktaHTTPError, okta_error_body
from ostiary.http.fast_routes import token_path_params
from ostiary.http.org_by_host import LOOPBACK_NAMES
from ostiary.http.ratelimit import TOO_MANY, RateLimiter, Verdict
from ostiary.http.token_clients import TOKEN_LIMIT, TokenLimit
from ostiary.timeutil import http_date


class BodyTooLarge(OktaHTTPError):
    """Raised from ``receive`` so that the app's error handler answers 413 in Okta's shape."""

    def __init__(self) -> None:
        super().__init__(413, "E0000003", "The request body was too large.")


OrgResolver = Callable[[str], Awaitable[Org | None]]
"""A ``Host`` header → the org it names, or None (``Runtime.resolve_org``)."""

HOSTLESS_PATHS = frozenset({"/healthz", "/readyz"})
"""Answered whatever the Host (load balancers and probes use the machine's address)."""


HSTS = (b"strict-transport-security", b"max-age=31536000")
"""Sent per ``hsts``: ``always``, on ``https`` requests only, or ``never``."""


def hsts_mode(base_url: str) -> str:
    """``always`` for an https base URL, ``never`` for a loopback one (HSTS binds every port of
    the name: a browser would then refuse the plain-http ``localhost`` of the demo), else on
    https requests."""
    parts = urlsplit(base_url)
    if (parts.hostname or "") in LOOPBACK_NAMES:
        return "never"
    return "always" if parts.scheme == "https" else "https"


class EdgeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter | None,
        max_body: int,
        resolve_org: OrgResolver | None = None,
        hsts: str = "https",
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.max_body = max_body
        self.resolve_org = resolve_org
        self.hsts = hsts

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
        if self.hsts == "always" or (self.hsts == "https" and scope.get("scheme") == "https"):
            extra.append(HSTS)
        org_key, known = await self._org(scope)
        client = scope.get("client")
        ip = client[0] if client else "-"
        verdict: Verdict | None = None
        if self.limiter is not None:
            verdict = await self.limiter.check(f"{org_key}:{ip}", scope["method"], scope["path"])
            extra += _limit_headers(verdict)
            if not verdict.allowed:
                await _send_error(send, 429, *TOO_MANY, extra)
                return
        if not known:
            await _send_error(send, 404, "E0000007", "Not found: Resource not found: host (Org)", extra)
            return
        declared = _header(scope, b"content-length")
        if declared and declared.isdigit():
            if int(declared) > self.max_body:
                await _send_error(send, 413, "E0000003", "The request body was too large.", extra)
                return
            capped_receive = receive  # the server delivers exactly the declared length
        else:
            capped_receive = _capped(receive, self.max_body)
        is_token = scope["method"] == "POST" and token_path_params(scope["path"]) is not None
        if self.limiter is not None and verdict is not None and is_token:
            # The per-client bucket is counted by the endpoint, once it knows the client.
            scope["state"][TOKEN_LIMIT] = TokenLimit(self.limiter, org_key, ip, verdict)

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                message["headers"] = headers + [h for h in extra if h[0] not in present]
            await send(message)

        try:
            await self.app(scope, capped_receive, send_with_headers)
        except BodyTooLarge:
            if not started:
                await _send_error(send, 413, "E0000003", "The request body was too large.", extra)

    async def _org(self, scope: Scope) -> tuple[str, bool]:
        """The rate-limit key of the Host's org and whether the Host names one. The org goes
        into ``scope["state"]`` for the handlers. A failed lookup (database down) is left to
        the handlers, which look again and answer their own error."""
        if self.resolve_org is None or scope["path"] in HOSTLESS_PATHS:
            return "-", True
        try:
            org = await self.resolve_org(_header(scope, b"host") or "")
        except Exception:
            return "unresolved", True
        if org is None:
            return "unknown-host", False
        scope["state"]["org"] = org
        return org.id, True


def _limit_headers(verdict: Verdict | None) -> list[tuple[bytes, bytes]]:
    if verdict is None:
        return []
    return [
        (b"x-rate-limit-limit", str(verdict.limit).encode()),
        (b"x-rate-limit-remaining", str(max(verdict.remaining, 0)).encode()),
        (b"x-rate-limit-reset", str(verdict.reset).encode()),
    ]


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
