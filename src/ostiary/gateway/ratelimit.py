"""Per-client rate limits: fixed one-minute windows, counted in process or in Redis.

The client is the token's ``cid`` (else ``sub``). Answers carry Okta's headers
(``X-Rate-Limit-Limit``, ``-Remaining``, ``-Reset`` in epoch seconds); a refused call
gets ``429`` with ``Retry-After``. With Redis, every gateway process shares the
counters; if Redis fails or hangs, each process counts on its own until a background
probe finds it back (:mod:`ostiary.circuit_breaker`). The counters are the org server's
(:mod:`ostiary.window_counter`), so an outage of the counter store neither stops the API nor
lifts the limits.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ostiary.gateway.config import RateLimitConfig
from ostiary.window_counter import REDIS_TIMEOUT_SECONDS, MemoryCounter, RedisCounter, WindowCounter

WINDOW_SECONDS = 60
MAX_CLIENTS = 100_000
"""Clients remembered per window in process; beyond that many, each call counts as a first."""


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


class WindowRateLimiter:
    """``limit`` hits per client and minute, counted by ``counter`` (:mod:`ostiary.window_counter`)."""

    def __init__(self, limit: int, counter: WindowCounter, *, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.counter = counter
        self.clock = clock

    async def hit(self, client: str) -> RateDecision:
        now = self.clock()
        count = await self.counter.hit(client, int(now // WINDOW_SECONDS))
        return _decision(self.limit, count, now)

    async def close(self) -> None:
        return None


class InProcessRateLimiter(WindowRateLimiter):
    def __init__(
        self, limit: int, *, clock: Callable[[], float] = time.time, max_clients: int = MAX_CLIENTS
    ) -> None:
        self.memory = MemoryCounter(max_keys=max_clients)
        super().__init__(limit, self.memory, clock=clock)

    async def hit(self, client: str) -> RateDecision:
        return self.decide(client)

    def decide(self, client: str) -> RateDecision:
        """:meth:`hit` without a coroutine: it counts the call (the gateway's fast path)."""
        now = self.clock()  # as WindowRateLimiter.hit, without a coroutine per call (the hot path)
        return _decision(self.limit, self.memory.count(client, int(now // WINDOW_SECONDS)), now)


class RedisRateLimiter(WindowRateLimiter):
    """``INCR`` + ``EXPIRE`` on ``ostiary:ratelimit:{client}:{window}`` in one round trip."""

    counter: RedisCounter

    def __init__(self, limit: int, url: str, *, clock: Callable[[], float] = time.time) -> None:
        counter = RedisCounter(
            url,
            key_prefix="ostiary:ratelimit",
            name="Redis (gateway rate limits)",
            timeout=REDIS_TIMEOUT_SECONDS,
            probe_timeout=1.0,
            fallback=MemoryCounter(max_keys=MAX_CLIENTS),
        )
        super().__init__(limit, counter, clock=clock)

    async def close(self) -> None:
        await self.counter.close()


def build_rate_limiter(config: RateLimitConfig) -> RateLimiter | None:
    if config.per_client_per_minute is None:
        return None
    if config.redis_url:
        return RedisRateLimiter(config.per_client_per_minute, config.redis_url)
    return InProcessRateLimiter(config.per_client_per_minute)
