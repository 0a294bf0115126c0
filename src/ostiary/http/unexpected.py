"""Errors no handler took, answered inside ``EdgeMiddleware`` instead of by Starlette's outermost
``ServerErrorMiddleware``.

Starlette answers an unhandled exception outside every user middleware and then re-raises it, so
the 500 went out without the edge's headers (``X-Okta-Request-Id``, ``Date``, ``X-Rate-Limit-*``)
and uvicorn, seeing the exception, dropped the keep-alive connection without ``Connection: close``.
Here the app's own handler for the exception (looked up along its class's MRO in the same table
the app uses, so the generic 500 handler and any more specific one apply) writes the answer
through the edge, and the exception stops here: the connection stays usable. Only an exception
raised after the response started still propagates, as there is no clean answer left to give.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


class UnexpectedErrors:
    def __init__(self, app: ASGIApp, *, handlers: Mapping[type[Exception], ExceptionHandler]) -> None:
        self.app = app
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            handler = exception_handler_for(self.handlers, exc)
            if started or handler is None:
                raise
            response = await handler(Request(scope, receive), exc)
            await response(scope, receive, send)


def exception_handler_for(
    handlers: Mapping[type[Exception], ExceptionHandler], exc: Exception
) -> ExceptionHandler | None:
    """The handler of ``exc``'s nearest class in ``handlers`` (the app's table), as Starlette
    looks one up; ``None`` when none applies."""
    for cls in type(exc).__mro__:
        handler = handlers.get(cls)
        if handler is not None:
            return handler
    return None
