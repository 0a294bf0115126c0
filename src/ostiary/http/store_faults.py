"""The one place where a request's database trouble is handled: an ASGI middleware around the
whole app (inside ``EdgeMiddleware``, so answers keep the request id, Date and rate-limit headers).

- A request whose transaction lost a deadlock or a serialization check (``Fault.CONFLICT``)
  is run again, with its body replayed, as long as no answer was sent yet: the failed
  transaction was rolled back, so the request starts over from a clean state. Every write
  transaction of a request is covered, whichever handler opened it.
- A request that failed because the store is unavailable (unreachable, too slow, locked,
  disk full, read-only) gets ``503`` with ``Retry-After``: Okta's error shape, or OAuth's
  ``temporarily_unavailable`` under ``/oauth2/`` and ``/.well-known/``.
- The log gets one line per kind of failure and interval, with the number of failures since
  the last line, instead of a traceback for each request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ostiary.db_faults import Fault, RetryPolicy, classify
from ostiary.http.errors import oauth_error, okta_error

log = logging.getLogger("ostiary.store")

UNAVAILABLE_CODE = "E0000010"
_OAUTH_PREFIXES = ("/oauth2/", "/.well-known/")
_RETRY_AFTER = {Fault.DISK_FULL: 30, Fault.READ_ONLY: 30, Fault.UNREACHABLE: 5, Fault.TIMEOUT: 5}


class FaultLog:
    """Logs a kind of failure at most once per ``interval`` seconds, counting the rest."""

    def __init__(self, interval: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._next: dict[Fault, float] = {}
        self._suppressed: dict[Fault, int] = {}

    def report(self, fault: Fault, error: BaseException, where: str) -> None:
        now = self._clock()
        if now < self._next.get(fault, 0.0):
            self._suppressed[fault] = self._suppressed.get(fault, 0) + 1
            return
        self._next[fault] = now + self.interval
        more = self._suppressed.pop(fault, 0)
        log.error(
            "database %s: %s (%s) on %s%s",
            fault.value,
            fault.description,
            _summary(error),
            where,
            f"; {more} more since the last report" if more else "",
        )


def _summary(error: BaseException) -> str:
    """The innermost cause's type and SQLSTATE, never its message (it may quote parameters)."""
    root = error
    while getattr(root, "orig", None) is not None or root.__cause__ is not None:
        root = getattr(root, "orig", None) or root.__cause__  # type: ignore[assignment]
    sqlstate = getattr(root, "sqlstate", None) or getattr(root, "pgcode", None)
    return f"{type(root).__module__}.{type(root).__name__}{f' SQLSTATE {sqlstate}' if sqlstate else ''}"


def unavailable_response(path: str, fault: Fault) -> Response:
    headers = {"Retry-After": str(_RETRY_AFTER.get(fault, 1))}
    summary = f"Service Unavailable: {fault.description}. Retry later."
    if path.startswith(_OAUTH_PREFIXES):
        headers.update({"Cache-Control": "no-store", "Pragma": "no-cache"})
        return oauth_error(503, "temporarily_unavailable", summary, headers)
    return okta_error(503, UNAVAILABLE_CODE, summary, headers=headers)


class _Replay:
    """``receive`` for a request that may run more than once: the body received so far is
    handed out again to the next run, then the server's ``receive`` takes over."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._seen: list[Message] = []
        self._position = 0

    async def receive(self) -> Message:
        if self._position < len(self._seen):
            self._position += 1
            return self._seen[self._position - 1]
        message = await self._receive()
        if message["type"] == "http.request":
            self._seen.append(message)
            self._position += 1
        return message

    def rewind(self) -> None:
        self._position = 0


class StoreFaults:
    def __init__(self, app: ASGIApp, *, retry: RetryPolicy, faults: FaultLog) -> None:
        self.app = app
        self.retry = retry
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replay = _Replay(receive)
        attempt = 0
        while True:
            started = False

            async def tracked(message: Message) -> None:
                nonlocal started
                started = started or message["type"] == "http.response.start"
                await send(message)

            try:
                await self.app(scope, replay.receive, tracked)
                return
            except Exception as error:
                if started:
                    raise
                if not await retry_or_answer(self.retry, self.faults, error, attempt, scope, receive, send):
                    return
            replay.rewind()
            attempt += 1


async def retry_or_answer(
    retry: RetryPolicy,
    faults: FaultLog,
    error: Exception,
    attempt: int,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> bool:
    """After ``error`` ended a request's run ``attempt`` before any answer was sent: True when the
    request should run again (the delay is waited here), False when it was answered ``503``;
    ``error`` is raised again when it is no store fault. (``http.fast_routes`` runs the token
    endpoint under the same rules.)"""
    fault = classify(error)
    if fault is None:
        raise error
    if not retry.should_retry(fault, attempt):
        faults.report(fault, error, f"{scope['method']} {scope['path']}")
        await unavailable_response(scope["path"], fault)(scope, receive, send)
        return False
    await asyncio.sleep(retry.delay(attempt))
    return True
