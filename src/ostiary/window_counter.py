"""Fixed-window hit counters, in process or in Redis: the one counter both rate limiters use.

``hit(key, window)`` counts one hit of ``key`` in ``window`` (a window number, e.g.
``int(now // 60)``) and returns the count so far; the caller turns counts into its own
verdicts (the org server's per-org buckets in ``http/ratelimit.py``, the gateway's
per-client limits in ``gateway/ratelimit.py``).

With Redis every process shares the counts (``INCR`` + ``EXPIRE`` in one round trip). If
Redis fails or hangs, each process counts on its own until a background probe finds it
back (:mod:`ostiary.circuit_breaker`), so an outage of the counter store neither stops the
service nor lifts the limits.
"""

from __future__ import annotations

from typing import Any, Protocol

from ostiary.circuit_breaker import CircuitBreaker

REDIS_TIMEOUT_SECONDS = 0.5
"""Socket and connect timeout for a counter round trip: a hung Redis costs at most this much,
once, before the breaker sends every hit to the in-process counter."""
REDIS_EXPIRE_SECONDS = 120
"""A key outlives its one-minute window, so that a slow clock never reads a vanished count."""


class WindowCounter(Protocol):
    async def hit(self, key: str, window: int) -> int: ...


class MemoryCounter:
    """Counts of the current window only. With ``max_keys``, keys beyond that many in one
    window are counted but not remembered (each hit counts as its first: fail open rather
    than grow with attacker-chosen keys)."""

    def __init__(self, max_keys: int | None = None) -> None:
        self.max_keys = max_keys
        self._window = -1
        self._counts: dict[str, int] = {}

    async def hit(self, key: str, window: int) -> int:
        return self.count(key, window)

    def count(self, key: str, window: int) -> int:
        """:meth:`hit` without a coroutine, for callers that know the counter is in process."""
        if window != self._window:
            self._window, self._counts = window, {}
        count = self._counts.get(key, 0) + 1
        if self.max_keys is None or key in self._counts or len(self._counts) < self.max_keys:
            self._counts[key] = count
        return count


class RedisCounter:
    """Counts in ``{key_prefix}:{key}:{window}`` shared by every process; while Redis is down
    or hung, ``fallback`` counts in this process and a breaker probes Redis in the background."""

    def __init__(
        self,
        url: str,
        *,
        key_prefix: str,
        name: str,
        timeout: float = REDIS_TIMEOUT_SECONDS,
        probe_timeout: float | None = None,
        fallback: MemoryCounter | None = None,
    ) -> None:
        import redis.asyncio as redis_asyncio  # imported only when Redis is configured

        self.key_prefix = key_prefix
        self._redis: Any = redis_asyncio.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._fallback = fallback or MemoryCounter()
        self.breaker = CircuitBreaker(
            name, self._redis.ping, probe_timeout=timeout if probe_timeout is None else probe_timeout
        )

    async def hit(self, key: str, window: int) -> int:
        if self.breaker.is_open:
            return await self._fallback.hit(key, window)
        redis_key = f"{self.key_prefix}:{key}:{window}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(redis_key)
                pipe.expire(redis_key, REDIS_EXPIRE_SECONDS)
                count, _ = await pipe.execute()
        except Exception as exc:  # down or hung: count in this process until a probe answers
            self.breaker.trip(exc)
            return await self._fallback.hit(key, window)
        return int(count)

    async def close(self) -> None:
        await self.breaker.close()
        await self._redis.aclose()
