"""``ProtectedAPIMiddleware``: require a valid access token on every path but the public ones.

    app = ProtectedAPIMiddleware(
        app,
        issuer="https://example.okta.com/oauth2/default",
        audience="api://default",
        public_paths=["/api/hello", "/docs/*"],
        scopes_by_route={"GET /api/messages": ["messages:read"], "/api/admin/*": ["admin"]},
    )

Path templates are the gateway's (``{param}`` segments, a final ``/*`` for a subtree).
A ``scopes_by_route`` key is ``"METHOD /path"`` or ``"/path"`` (any method); the first
matching entry applies and all its scopes are needed.

CORS: give ``cors=CorsPolicy(origins=(...,))`` and the middleware answers preflights itself
(204 or 403) and adds the policy's headers to every answer, 401s included; the app's own
``Access-Control-*`` headers are replaced. Without a policy a preflight is an ordinary
``OPTIONS`` request: on a protected path it needs a token like any other, so it never reaches
the app unauthenticated (a CORS middleware put *outside* this one answers preflights first).
The claims reach handlers as ``request.state.claims`` and through ``current_claims``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from ostiary.cors_policy import (
    PREFLIGHT_VARY,
    STANDARD_METHODS,
    CorsPolicy,
    is_preflight,
    preflight_headers,
    response_headers,
)
from ostiary.jose.verify import JwksCache
from ostiary.request_paths import compile_path, is_safe_path
from ostiary.resource.auth import AUTH_KEY, CLAIMS_KEY, JwtAuth, granted_scopes
from ostiary.resource.bearer import (
    TWO_AUTHORIZATION_HEADERS,
    BearerError,
    authorization_header_count,
    insufficient_scope,
    invalid_request,
)


class _PathRule:
    def __init__(self, template: str, method: str | None = None) -> None:
        self.template = template
        self.method = method
        self.pattern: re.Pattern[str] | None = compile_path(template)

    def matches(self, method: str, path: str) -> bool:
        if (
            self.method is not None
            and self.method != method
            and not (method == "HEAD" and self.method == "GET")
        ):
            return False
        return path == self.template if self.pattern is None else self.pattern.fullmatch(path) is not None


def _rule(key: str) -> _PathRule:
    method, _, path = key.strip().rpartition(" ")
    if not path.startswith("/"):
        raise ValueError(f"{key!r}: expected '/path' or 'METHOD /path'")
    return _PathRule(path, method.strip().upper() or None)


class ProtectedAPIMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        issuer: str | None = None,
        audience: str | Sequence[str] | None = "api://default",
        public_paths: Iterable[str] = (),
        scopes_by_route: Mapping[str, Sequence[str]] | None = None,
        jwks_uri: str | None = None,
        jwks_cache: JwksCache | None = None,
        auth: JwtAuth | None = None,
        cors: CorsPolicy | None = None,
    ) -> None:
        if auth is None:
            if issuer is None:
                raise ValueError("give an issuer (or a JwtAuth)")
            auth = JwtAuth(issuer, audience, jwks_uri=jwks_uri, cache=jwks_cache)
        self.app = app
        self.auth = auth
        self.public = [_rule(path) for path in public_paths]
        self.scopes = [(_rule(key), tuple(scopes)) for key, scopes in (scopes_by_route or {}).items()]
        self.cors = cors

    def is_public(self, method: str, path: str) -> bool:
        return is_safe_path(path) and any(rule.matches(method, path) for rule in self.public)

    def required_scopes(self, method: str, path: str) -> tuple[str, ...]:
        for rule, scopes in self.scopes:
            if rule.matches(method, path):
                return scopes
        return ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope[AUTH_KEY] = self.auth
        method = scope.get("method", "GET")
        path = scope["path"]
        headers = dict(scope["headers"])
        if self.cors is not None and scope["type"] == "http":
            origin = headers.get(b"origin", b"").decode("latin-1") or None
            if origin is not None and is_preflight(method, scope["headers"]):
                await self._answer_preflight(send, self.cors, origin, headers)
                return
            send = _with_cors_headers(send, response_headers(self.cors, origin))
        if self.is_public(method, path):
            await self.app(scope, receive, send)
            return
        try:
            if authorization_header_count(scope["headers"]) > 1:
                raise invalid_request(TWO_AUTHORIZATION_HEADERS, self.auth.realm)
            authorization = headers.get(b"authorization")
            claims = await self.auth.authenticate(authorization.decode("latin-1") if authorization else None)
            needed = self.required_scopes(method, path)
            granted = set(granted_scopes(claims))
            if any(s not in granted for s in needed):
                raise insufficient_scope(" ".join(needed), self.auth.realm)
        except BearerError as error:
            await self._refuse(scope, send, error)
            return
        scope[CLAIMS_KEY] = claims
        state: dict[str, Any] = scope.setdefault("state", {})
        state["claims"] = claims
        await self.app(scope, receive, send)

    @staticmethod
    async def _answer_preflight(
        send: Send, policy: CorsPolicy, origin: str, headers: dict[bytes, bytes]
    ) -> None:
        requested_method = headers.get(b"access-control-request-method", b"").decode("latin-1")
        requested_headers = headers.get(b"access-control-request-headers", b"").decode("latin-1")
        methods = policy.methods or STANDARD_METHODS
        answer = preflight_headers(
            policy, origin, requested_method.strip().upper(), requested_headers, methods
        )
        if answer is None:
            body = b'{"error":"cors_denied","error_description":"This cross-origin request is not allowed."}'
            start = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 403, "headers": [*start, PREFLIGHT_VARY]})
            await send({"type": "http.response.body", "body": body})
            return
        await send({"type": "http.response.start", "status": 204, "headers": answer})
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    async def _refuse(scope: Scope, send: Send, error: BearerError) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send(
            {"type": "http.response.start", "status": error.status_code, "headers": error.raw_headers()}
        )
        await send({"type": "http.response.body", "body": error.body})


def _with_cors_headers(send: Send, cors: list[tuple[bytes, bytes]]) -> Send:
    """``send`` with the policy's headers in place of any ``Access-Control-*`` the app set."""

    async def send_with_cors(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            kept = [
                (n, v) for n, v in message.get("headers", []) if not n.lower().startswith(b"access-control-")
            ]
            message = {**message, "headers": [*kept, *cors]}
        await send(message)

    return send_with_cors
