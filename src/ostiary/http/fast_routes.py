"""The token endpoint without Starlette's router: an ASGI middleware in front of it.

``POST /oauth2/v1/token`` and ``POST /oauth2/{authServerId}/v1/token`` are the hot path. Going
through Starlette's exception middleware, router and request wrapper costs a good part of a
token's time on the event loop, for nothing the endpoint needs: its paths are fixed and it
maps its own errors. So this middleware, placed inside ``EdgeMiddleware`` (request ids, rate
limits, body cap), hands those paths to the endpoint directly, with the app's exception
handlers for anything it raises (looked up as ``http.unexpected`` does); every other request goes
on to the router.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from ostiary.http.unexpected import ExceptionHandler, exception_handler_for

ORG_TOKEN_PATH = "/oauth2/v1/token"
_PREFIX, _SUFFIX = "/oauth2/", "/v1/token"


def token_path_params(path: str) -> dict[str, str] | None:
    """The route's path parameters if ``path`` is a token endpoint, else ``None`` (the same
    paths as the router's ``/oauth2/v1/token`` and ``/oauth2/{authServerId}/v1/token``)."""
    if path == ORG_TOKEN_PATH:
        return {}
    if path.startswith(_PREFIX) and path.endswith(_SUFFIX):
        server_id = path[len(_PREFIX) : -len(_SUFFIX)]
        if server_id and "/" not in server_id:
            return {"authServerId": server_id}
    return None


class TokenFastPath:
    def __init__(
        self,
        app: ASGIApp,
        *,
        endpoint: ASGIApp,
        exception_handlers: Mapping[type[Exception], ExceptionHandler],
    ) -> None:
        self.app = app
        self.endpoint = endpoint
        # Exception itself is the 500 handler, which Starlette runs outermost: leave it to it.
        self.handlers = {cls: h for cls, h in exception_handlers.items() if cls is not Exception}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path_params = (
            token_path_params(scope["path"])
            if scope["type"] == "http" and scope["method"] == "POST"
            else None
        )
        if path_params is None:
            await self.app(scope, receive, send)
            return
        scope["path_params"] = path_params
        try:
            await self.endpoint(scope, receive, send)
        except Exception as exc:
            handler = exception_handler_for(self.handlers, exc)
            if handler is None:
                raise
            request = Request(scope, receive, send)
            response = await handler(request, exc)
            await response(scope, receive, send)
