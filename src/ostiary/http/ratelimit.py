"""Per-org rate limits by endpoint class, modelled on Okta's defaults (requests per minute).

Counters are fixed one-minute windows, in process or in Redis when ``OSTIARY_REDIS_URL`` is set
(so that several ``serve`` processes share them). ``OSTIARY_RATE_LIMITS=off`` disables them;
``OSTIARY_RATE_LIMITS=users=600,logs=60`` overrides single classes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ostiary.window_counter import REDIS_TIMEOUT_SECONDS, MemoryCounter, WindowCounter
from ostiary.window_counter import RedisCounter as SharedRedisCounter

__all__ = ["REDIS_TIMEOUT_SECONDS", "Counter", "MemoryCounter", "RateLimiter", "RedisCounter", "Verdict"]

DEFAULT_LIMITS: dict[str, int] = {
    "authn": 600,
    "users": 600,
    "user": 2000,
    "groups": 500,
    "apps": 100,
    "logs": 120,
    "sessions": 750,
    "authorization_servers": 100,
    "oauth2": 2000,
    "keys": 6000,
    "api": 1200,
    "other": 2000,
    "signin_user": 30,
    "signin_ip": 120,
    "activate_user": 20,
    "activate_ip": 120,
    "token_client": 1000,
}
"""``signin_user`` and ``signin_ip`` are not endpoint classes: they count password sign-in
attempts (``/api/v1/authn`` and the hosted ``/login``) per username of an org and per client
address across every org and Host, on top of the endpoint's own bucket. ``activate_user`` and
``activate_ip`` count ``user_code`` entries on the hosted ``/activate`` page per signed-in user
and per client address (RFC 8628 §5.1: the short code must not be guessable by retrying).
``token_client`` counts
token requests per client of an org (``ostiary.http.token_clients``), on top of the per-address
``oauth2`` bucket; unless set, it is half of ``oauth2``, Okta's default share of one app."""

TOO_MANY = ("E0000047", "API call exceeded rate limit due to too many requests.")
"""Okta's error code and summary of a 429."""

TOKEN_CLIENT_SHARE = 2
"""``token_client`` = ``oauth2`` // this, unless set (Okta: an app may use 50% of a bucket)."""


def classify(method: str, path: str) -> str:
    """The endpoint class of a request, as Okta's rate-limit buckets group them."""
    if path.startswith("/oauth2/"):
        return "keys" if path.endswith("/keys") or "/.well-known/" in path else "oauth2"
    if not path.startswith(("/api/v1/", "/integrations/api/v1/")):
        return "other"
    rest = path[len("/api/v1/") :] if path.startswith("/api/v1/") else "apps"
    head, _, tail = rest.partition("/")
    if head == "users":
        return "user" if method == "GET" and tail and "/" not in tail else "users"
    if head in ("authn", "groups", "apps", "logs", "sessions"):
        return head
    if head == "authorizationServers":
        return "authorization_servers"
    return "api"


def parse_limits(spec: str) -> dict[str, int] | None:
    """``off`` → None; ``on``/empty → defaults; ``cls=N,...`` → defaults with overrides."""
    spec = spec.strip().lower()
    if spec in ("off", "0", "false", "no"):
        return None
    limits = dict(DEFAULT_LIMITS)
    if spec in ("", "on", "true", "1", "yes"):
        return limits
    names = set()
    for item in spec.split(","):
        name, _, value = item.partition("=")
        if name.strip() not in limits or not value.strip().isdigit():
            raise ValueError(f"OSTIARY_RATE_LIMITS: bad entry {item!r}")
        limits[name.strip()] = int(value)
        names.add(name.strip())
    if "token_client" not in names:
        limits["token_client"] = max(1, limits["oauth2"] // TOKEN_CLIENT_SHARE)
    return limits


@dataclass(frozen=True)
class Verdict:
    limit: int
    remaining: int
    reset: int

    @property
    def allowed(self) -> bool:
        return self.remaining >= 0


Counter = WindowCounter
"""What a :class:`RateLimiter` counts with (:mod:`ostiary.window_counter`, shared with the gateway)."""


class RedisCounter(SharedRedisCounter):
    """Counters shared by every process through Redis; while Redis is down or hung, each
    process counts on its own (fail open, limits per process) and a breaker probes Redis in
    the background (see :mod:`ostiary.circuit_breaker`)."""

    def __init__(self, url: str, *, timeout: float = REDIS_TIMEOUT_SECONDS) -> None:
        super().__init__(url, key_prefix="ostiary:rl", name="Redis (rate-limit counters)", timeout=timeout)


class RateLimiter:
    def __init__(
        self, limits: dict[str, int], counter: Counter, clock: Callable[[], float] = time.time
    ) -> None:
        self.limits = limits
        self.counter = counter
        self.clock = clock
        """Where windows come from; tests pin it so that no count straddles a minute."""

    async def check(self, org_key: str, method: str, path: str, now: float | None = None) -> Verdict:
        return await self.check_bucket(org_key, classify(method, path), now)

    async def check_bucket(self, key: str, bucket: str, now: float | None = None) -> Verdict:
        """Count one request of ``key`` against the limit of ``bucket`` in this minute."""
        limit = self.limits[bucket]
        now = self.clock() if now is None else now
        window = int(now // 60)
        count = await self.counter.hit(f"{key}:{bucket}", window)
        return Verdict(limit=limit, remaining=limit - count, reset=(window + 1) * 60)
