"""Per-client rate limits: fixed one-minute windows, counted in process or in Redis.

The client is the token's ``cid`` (else ``sub``). Answers carry Okta's headers
(``X-Rate-Limit-Limit``, ``-Remaining``, ``-Reset`` in epoch seconds); a refused call
gets ``429`` with ``Retry-After``. With Redis, every gateway process shares the
counters; if Redis fails or hangs, each process counts on its own until a background
probe finds it back (:mod:`ostiary.circuit_breaker`, as the org server's limiter does),
so an outage of the counter store neither stops the API nor lifts the limits.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ostiary.circuit_breaker import CircuitBreaker
from ostiary.gateway.config import RateLimitConfig

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60
REDIS_TIMEOUT_SECONDS = 0.5


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-rate-limit-limit", str(self.limit).encode()),
            (b"x-rate-limit-remaining", str(self.remaining).encode()),
            (b"x-rate-limit-reset", str(self.reset).encode()),
        ]


class RateLimiter(Protocol):
    limit: int

    async def hit(self, client: str) -> RateDecision: ...

    async def close(self) -> None: ...


def _decision(limit: int, count: int, now: float) -> RateDecision:
    reset = (int(now // WINDOW_SECONDS) + 1) * WINDOW_SECONDS
    return RateDecision(
        allowed=count <= limit,
        limit=limit,
        remaining=max(0, limit - count),
        reset=reset,
        retry_after=max(1, math.ceil(reset - now)),
    )


class InProcessRateLimiter:
    def __init__(
        self, limit: int, *, clock: Callable[[], float] = time.time, max_clients: int = 100_000
    ) -> None:
        self.limit = limit
        self.clock = clock
        self.max_clients = max_clients
        self._window = -1
        self._counts: dict[str, int] = {}

    async def hit(self, client: str) -> RateDecision:
        now = self.clock()
        window = int(now // WINDOW_SECONDS)
        if window != self._window:
            self._window, self._counts = window, {}
        count = self._counts.get(client, 0) + 1
        if client in self._counts or len(self._counts) < self.max_clients:
            self._counts[client] = count
        return _decision(self.limit, count, now)

    async def close(self) -> None:
        return None


class RedisRateLimiter:
    """``INCR`` + ``EXPIRE`` on ``ostiary:ratelimit:{client}:{window}`` in one round trip."""

    def __init__(self, limit: int, url: str, *, clock: Callable[[], float] = time.time) -> None:
        import redis.asyncio as redis_asyncio  # imported only when Redis is configured

        self.limit = limit
        self.clock = clock
        self.redis: Any = redis_asyncio.from_url(
            url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
        )
        self.fallback = InProcessRateLimiter(limit, clock=clock)
        self.breaker = CircuitBreaker("Redis (gateway rate limits)", self.redis.ping, probe_timeout=1.0)

    async def hit(self, client: str) -> RateDecision:
        if self.breaker.is_open:
            return await self.fallback.hit(client)
        now = self.clock()
        window = int(now // WINDOW_SECONDS)
        key = f"ostiary:ratelimit:{client}:{window}"
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, WINDOW_SECONDS * 2)
                count, _ = await pipe.execute()
        except Exception as exc:  # down or hung: count in this process until a probe answers
            self.breaker.trip(exc)
            return await self.fallback.hit(client)
        return _decision(self.limit, int(count), now)

    async def close(self) -> None:
        await self.breaker.close()
        await self.redis.aclose()


def build_rate_limiter(config: RateLimitConfig) -> RateLimiter | None:
    if config.per_client_per_minute is None:
        return None
    if config.redis_url:
        return RedisRateLimiter(config.per_client_per_minute, config.redis_url)
    return InProcessRateLimiter(config.per_client_per_minute)
