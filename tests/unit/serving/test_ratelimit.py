"""Per-org rate limits: headers on every response, Okta's 429 when exceeded, Redis when configured."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ostiary.http.ratelimit import (
    DEFAULT_LIMITS,
    MemoryCounter,
    RateLimiter,
    RedisCounter,
    classify,
    parse_limits,
)
from tests.conftest import Server, _server


def test_endpoint_classes() -> None:
    assert classify("GET", "/api/v1/users") == "users"
    assert classify("GET", "/api/v1/users/00u1") == "user"
    assert classify("POST", "/api/v1/users/00u1") == "users"
    assert classify("GET", "/api/v1/groups/00g1/users") == "groups"
    assert classify("GET", "/api/v1/logs") == "logs"
    assert classify("POST", "/oauth2/default/v1/token") == "oauth2"
    assert classify("GET", "/oauth2/v1/keys") == "keys"
    assert classify("GET", "/login") == "other"


def test_parse_limits() -> None:
    assert parse_limits("off") is None
    assert parse_limits("on") == DEFAULT_LIMITS
    assert parse_limits("users=5")["users"] == 5  # type: ignore[index]
    with pytest.raises(ValueError):
        parse_limits("nope=5")


@pytest.fixture
async def limited(tmp_path: Path, sqlite_database_url: str) -> AsyncIterator[Server]:
    async for s in _server(tmp_path, sqlite_database_url, rate_limits="users=3"):
        yield s


async def test_headers_then_429_with_okta_body(limited: Server) -> None:
    token = await limited.create_token()
    async with limited.client(token) as client:
        responses = [await client.get("/api/v1/users") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["x-rate-limit-remaining"] for r in responses] == ["2", "1", "0", "0"]
    last = responses[-1]
    assert last.headers["x-rate-limit-limit"] == "3"
    assert int(last.headers["x-rate-limit-reset"]) % 60 == 0
    assert last.headers["date"]
    assert last.json()["errorCode"] == "E0000047"


async def test_other_classes_have_their_own_budget(limited: Server) -> None:
    token = await limited.create_token()
    async with limited.client(token) as client:
        for _ in range(4):
            await client.get("/api/v1/users")
        assert (await client.get("/api/v1/groups")).status_code == 200


async def test_memory_counter_resets_each_window() -> None:
    limiter = RateLimiter({**DEFAULT_LIMITS, "logs": 1}, MemoryCounter())
    assert (await limiter.check("org", "GET", "/api/v1/logs", now=60.0)).allowed
    assert not (await limiter.check("org", "GET", "/api/v1/logs", now=61.0)).allowed
    assert (await limiter.check("org", "GET", "/api/v1/logs", now=121.0)).allowed


@pytest.mark.skipif(not os.environ.get("OSTIARY_REDIS_URL"), reason="OSTIARY_REDIS_URL is not set")
async def test_redis_counter_is_shared_between_limiters() -> None:
    import secrets

    url = os.environ["OSTIARY_REDIS_URL"]
    org = "org-" + secrets.token_hex(4)
    first = RateLimiter({**DEFAULT_LIMITS, "logs": 2}, RedisCounter(url))
    second = RateLimiter({**DEFAULT_LIMITS, "logs": 2}, RedisCounter(url))
    assert (await first.check(org, "GET", "/api/v1/logs", now=600.0)).allowed
    assert (await second.check(org, "GET", "/api/v1/logs", now=600.0)).allowed
    assert not (await first.check(org, "GET", "/api/v1/logs", now=601.0)).allowed


async def test_redis_down_falls_back_to_local_counters() -> None:
    limiter = RateLimiter({**DEFAULT_LIMITS, "logs": 1}, RedisCounter("redis://127.0.0.1:1/0"))
    assert (await limiter.check("org", "GET", "/api/v1/logs", now=60.0)).allowed
    assert not (await limiter.check("org", "GET", "/api/v1/logs", now=61.0)).allowed
