"""Fail fast while a dependency is down, and find out in the background when it is back.

Without it, every request asked a hung Redis again and waited out the socket timeout
(redis-py's default was 5 s, on ``/healthz`` and ``/token`` alike). A :class:`CircuitBreaker`
opens on the first failure: callers then skip the dependency at once (the rate limiters count
in process, failing open) while one background task probes it every ``retry_seconds``; the
first probe that answers closes it. It logs once when it opens and once when it closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("ostiary.circuit_breaker")


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        probe: Callable[[], Awaitable[object]],
        *,
        retry_seconds: float = 1.0,
        probe_timeout: float = 1.0,
    ) -> None:
        self.name = name
        self._probe = probe
        self._retry_seconds = retry_seconds
        self._probe_timeout = probe_timeout
        self._prober: asyncio.Task[None] | None = None

    @property
    def is_open(self) -> bool:
        """True while the dependency is taken to be down: callers use their fallback."""
        return self._prober is not None

    def trip(self, exc: BaseException) -> None:
        """Open after a failed call (from inside the event loop); a no-op when already open."""
        if self._prober is not None:
            return
        log.warning("%s unavailable (%s): using the fallback until it answers again", self.name, _kind(exc))
        self._prober = asyncio.get_running_loop().create_task(self._probe_until_back())

    async def _probe_until_back(self) -> None:
        while True:
            await asyncio.sleep(self._retry_seconds)
            if await self._answers():
                log.warning("%s is back", self.name)
                self._prober = None
                return

    async def _answers(self) -> bool:
        try:
            await asyncio.wait_for(self._probe(), self._probe_timeout)
        except Exception:  # still down: the next probe will tell
            return False
        return True

    async def close(self) -> None:
        prober, self._prober = self._prober, None
        if prober is not None:
            prober.cancel()
            await asyncio.gather(prober, return_exceptions=True)


def _kind(exc: BaseException) -> str:
    return type(exc).__name__ + (f": {exc}" if str(exc) else "")
