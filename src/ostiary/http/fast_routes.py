"""The token endpoint without Starlette's router, and in one layer instead of four.

``POST /oauth2/v1/token`` and ``POST /oauth2/{authServerId}/v1/token`` are the hot path. Every
other request goes, inside ``EdgeMiddleware`` (request ids, rate limits, body cap), through three
pure-ASGI layers and then Starlette's exception middleware and router:

- ``http.unexpected.UnexpectedErrors``: an error no handler took is answered by the app's handler
  for it (500 for most) through the edge;
- ``http.input_guard.InputGuard``: path, query and body checked, 400 for what it refuses;
- ``http.store_faults.StoreFaults``: a database conflict runs the request again, an unavailable
  store answers 503.

Each of them costs a frame, a closure wrapping ``send`` and, for the body, a read and a
replaying ``receive``; the endpoint then read the body a third time and checked the form's size
cap twice. Profiled under ``bench/token.py`` (py-spy), those layers were 4 frames deep on every
token; the ratio to ``openssl speed rsa2048`` fell from 0.86 to 0.76 when they came in.

:class:`TokenFastPath` therefore sits right inside ``EdgeMiddleware`` and, for the token paths
only, does what the three layers do, in the same order and with the same functions
(``check_path``, ``check_urlencoded``, ``check_body``, ``refuse``; ``retry_or_answer``; the app's
exception handlers, looked up as ``http.unexpected`` does), around the endpoint's
:meth:`~ostiary.http.oauth.token.TokenEndpoint.answer`:

1. the headers are read in one pass (:func:`~ostiary.http.oauth.token.read_headers`);
2. the body is read once, from ``receive``; the form's size cap is checked once, in
   ``params.form_params``;
3. the endpoint returns its answer instead of sending it, so no ``send`` wrapper is needed to
   know whether an answer started: an exception from it always comes before one;
4. a conflict runs the endpoint again with the body in hand (no replay).

Other methods than ``POST`` on the token paths are answered ``405`` here, after the same input
checks, so the endpoint is mounted once; only the CORS preflight (``OPTIONS``) is the router's.

Introspection (``POST /oauth2[/{authServerId}]/v1/introspect``, RFC 7662) takes the same path
with its own endpoint (:class:`~ostiary.http.oauth.introspect.IntrospectEndpoint`): resource
servers call it per request, like tokens. Measured with ``bench/verify_paths.py``, alternating
rounds against the router path in one run: CPU per introspection 540-610 µs → 230-265 µs
(2.3-2.5 times the capacity; ratio to a raw RS256 verify loop 0.04 → 0.10).

``GET /oauth2[/{authServerId}]/v1/keys`` (the JWKS) is answered here too when
:class:`~ostiary.http.oauth.jwks.KeysEndpoint` can answer it from the caches (the org, the
server and its key ring, all cached) and the request is the plain case (no body, a clean path
and query): the same input checks, then the cached answer. Anything else on those paths (HEAD,
the CORS preflight, a ring not loaded yet, an unknown server, a bad path or query) goes on to
the router exactly as before, whose route stays mounted.

Every other request goes on to the layers above, unchanged.

Measured (cProfile of the worker's event loop over 2,000 client_credentials tokens after warm-up,
a deterministic count unlike timings on this shared 2-core VM): Python calls per token 411 at
460ae42, 537 with the four layers, 467 with this one (with ``ostiary.gc_tuning`` and the read
timer of ``ostiary.serving.uvicorn_protocol``). The worker's CPU per token moved by less than the
run-to-run spread (±30 % under a load average of 10-14), so no timing is claimed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from ostiary.http.errors import method_not_allowed
from ostiary.http.input_guard import (
    BadInput,
    check_body,
    check_path,
    check_urlencoded,
    read_whole_body,
    refuse,
)
from ostiary.http.oauth.introspect import introspect_endpoint
from ostiary.http.oauth.jwks import KeysEndpoint
from ostiary.http.oauth.token import Answer, TokenEndpoint, TokenHeaders, read_headers, send_answer
from ostiary.http.store_faults import FaultLog, RetryPolicy, retry_or_answer
from ostiary.http.unexpected import ExceptionHandler, exception_handler_for

ORG_TOKEN_PATH = "/oauth2/v1/token"
TOKEN_METHODS = "POST, OPTIONS"
"""``Allow`` on a token or introspection path: the endpoint, and the CORS preflight (the
router's route)."""
_PREFIX, _SUFFIX = "/oauth2/", "/v1/token"
ORG_INTROSPECT_PATH = "/oauth2/v1/introspect"
_INTROSPECT_SUFFIX = "/v1/introspect"
ORG_KEYS_PATH = "/oauth2/v1/keys"
_KEYS_SUFFIX = "/v1/keys"
FAST_ROUTES: tuple[tuple[str, str], ...] = (
    (ORG_TOKEN_PATH, "POST"),
    ("/oauth2/{authServerId}/v1/token", "POST"),
    (ORG_INTROSPECT_PATH, "POST"),
    ("/oauth2/{authServerId}/v1/introspect", "POST"),
)
"""The (path, method) pairs answered here and not by the router, for tools that list routes."""


class FastEndpoint(Protocol):
    async def answer(self, scope: Scope, body: bytes, found: TokenHeaders) -> Answer: ...


def token_path_params(path: str) -> dict[str, str] | None:
    """The route's path parameters if ``path`` is a token endpoint, else ``None`` (the same
    paths as the router's ``/oauth2/v1/token`` and ``/oauth2/{authServerId}/v1/token``)."""
    return _server_path_params(path, ORG_TOKEN_PATH, _SUFFIX)


def introspect_path_params(path: str) -> dict[str, str] | None:
    """As :func:`token_path_params`, for ``/oauth2[/{authServerId}]/v1/introspect``."""
    return _server_path_params(path, ORG_INTROSPECT_PATH, _INTROSPECT_SUFFIX)


def keys_path_params(path: str) -> dict[str, str] | None:
    """As :func:`token_path_params`, for ``/oauth2[/{authServerId}]/v1/keys``."""
    return _server_path_params(path, ORG_KEYS_PATH, _KEYS_SUFFIX)


def fast_path_params(path: str) -> dict[str, str] | None:
    """The path parameters if ``path`` is one of :data:`FAST_ROUTES`' paths, else ``None``."""
    found = token_path_params(path)
    return found if found is not None else introspect_path_params(path)


def _server_path_params(path: str, org_path: str, suffix: str) -> dict[str, str] | None:
    if path == org_path:
        return {}
    if path.startswith(_PREFIX) and path.endswith(suffix):
        server_id = path[len(_PREFIX) : -len(suffix)]
        if server_id and "/" not in server_id:
            return {"authServerId": server_id}
    return None


class TokenFastPath:
    def __init__(
        self,
        app: ASGIApp,
        *,
        endpoint: TokenEndpoint,
        exception_handlers: Mapping[type[Exception], ExceptionHandler],
        retry: RetryPolicy,
        faults: FaultLog,
        introspect: FastEndpoint = introspect_endpoint,
        keys: KeysEndpoint | None = None,
    ) -> None:
        self.app = app
        self.keys = keys or KeysEndpoint()
        self.endpoint = endpoint
        self.introspect = introspect
        self.retry = retry
        self.faults = faults
        self.unexpected = dict(exception_handlers)
        # Exception itself is the 500 handler: store faults are told apart before it applies.
        self.handlers = {cls: h for cls, h in exception_handlers.items() if cls is not Exception}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS":  # preflights: the router's
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if scope["method"] == "GET":
            keys_params = keys_path_params(path)
            if keys_params is not None:
                if not await self._keys(scope, send, keys_params):
                    await self.app(scope, receive, send)
                return
        endpoint: FastEndpoint = self.endpoint
        path_params = token_path_params(path)
        if path_params is None:
            endpoint = self.introspect
            path_params = introspect_path_params(path)
            if path_params is None:
                await self.app(scope, receive, send)
                return
        scope["path_params"] = path_params
        found = read_headers(scope["headers"])
        state = scope["state"]
        try:  # InputGuard's checks
            check_path(scope)
            check_urlencoded(scope.get("query_string", b""), "query")
            if not found.has_body:
                body = b""
            else:
                body = await read_whole_body(receive)
                check_body(body, found.last_content_type, state)
        except BadInput as exc:
            await refuse(scope, send, exc)
            return
        except Exception as exc:  # the edge's BodyTooLarge, say
            await self._answer_error(self.unexpected, exc, scope, receive, send)
            return
        if scope["method"] != "POST":
            await method_not_allowed(TOKEN_METHODS)(scope, receive, send)
            return
        attempt = 0
        while True:
            try:
                status, headers, content = await endpoint.answer(scope, body, found)
                break
            except Exception as exc:
                if exception_handler_for(self.handlers, exc) is not None:
                    await self._answer_error(self.handlers, exc, scope, receive, send)
                    return
                try:  # StoreFaults' rules
                    if not await retry_or_answer(self.retry, self.faults, exc, attempt, scope, receive, send):
                        return
                except Exception as unexpected:  # UnexpectedErrors' rule
                    await self._answer_error(self.unexpected, unexpected, scope, receive, send)
                    return
            attempt += 1
        await send_answer(send, status, headers, content)

    async def _keys(self, scope: Scope, send: Send, path_params: dict[str, str]) -> bool:
        """Answer a JWKS ``GET`` from the caches; ``False`` (nothing sent, nothing read) leaves
        it to the router: a body, input ``InputGuard`` refuses, or anything not cached."""
        found = read_headers(scope["headers"])
        if found.has_body:
            return False
        try:
            check_path(scope)
            check_urlencoded(scope.get("query_string", b""), "query")
        except BadInput:
            return False
        try:
            answer = await self.keys.answer(scope, path_params, found)
        except Exception:  # a store fault, say: the router's layers answer it as before
            return False
        if answer is None:
            return False
        await send_answer(send, *answer)
        return True

    @staticmethod
    async def _answer_error(
        handlers: Mapping[type[Exception], ExceptionHandler],
        exc: Exception,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        """The app's handler for ``exc`` answers (re-raised when none applies)."""
        handler = exception_handler_for(handlers, exc)
        if handler is None:
            raise exc
        response = await handler(Request(scope, receive, send), exc)
        await response(scope, receive, send)
