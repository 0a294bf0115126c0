"""A private Redis holding the rate-limit counters is hung (SIGSTOP) and resumed: requests
keep their pace (fail open to in-process counting after at most one short timeout), the
limits still apply per process, and the counters go back to Redis by themselves."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import Server, _server
from tests.e2e.servers import free_port

STEP_LIMIT = 2.0  # a request that waits this long is waiting on the hung Redis


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    import redis

    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_timeout=1)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    try:
        yield process, f"redis://127.0.0.1:{port}/0"
    finally:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
async def redis_server(
    tmp_path: Path, sqlite_database_url: str, private_redis: tuple[subprocess.Popen[bytes], str]
) -> AsyncIterator[Server]:
    async for server in _server(
        tmp_path, sqlite_database_url, redis_url=private_redis[1], rate_limits="users=50"
    ):
        yield server
        await server.rt.limiter.counter.close()


def _counted_in_redis(url: str) -> int:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=1)
    return sum(int(client.get(key) or 0) for key in client.scan_iter("ostiary:rl:*"))


async def test_a_hung_redis_costs_at_most_one_short_wait_and_limits_still_apply(
    redis_server: Server, private_redis: tuple[subprocess.Popen[bytes], str]
) -> None:
    process, url = private_redis
    token = await redis_server.create_token()
    async with redis_server.client(token) as client:
        assert (await client.get("/api/v1/users")).status_code == 200
        assert _counted_in_redis(url) >= 1

        os.kill(process.pid, signal.SIGSTOP)
        remaining = []
        for _ in range(60):
            answer = await asyncio.wait_for(client.get("/api/v1/users"), STEP_LIMIT)
            remaining.append(answer.headers.get("X-Rate-Limit-Remaining"))
            if answer.status_code == 429:
                break
            assert answer.status_code == 200
        assert answer.status_code == 429, "the limit still applies while Redis is hung"
        assert (await asyncio.wait_for(client.get("/healthz"), STEP_LIMIT)).status_code == 200

        os.kill(process.pid, signal.SIGCONT)
        breaker = redis_server.rt.limiter.counter.breaker
        deadline = time.monotonic() + 5
        while breaker.is_open and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert not breaker.is_open, "the counters go back to Redis within 5 s of it answering again"
        before = _counted_in_redis(url)
        await client.get("/api/v1/users")
        assert _counted_in_redis(url) == before + 1


async def test_a_stopped_redis_is_not_asked_again_on_every_request(
    redis_server: Server, private_redis: tuple[subprocess.Popen[bytes], str]
) -> None:
    process, _url = private_redis
    process.terminate()
    process.wait(timeout=10)
    counter = redis_server.rt.limiter.counter
    async with redis_server.client() as client:
        assert (await client.get("/healthz")).status_code == 200
        assert counter.breaker.is_open
        calls = 0
        ping = counter._redis.pipeline

        def counting_pipeline(*args: object, **kwargs: object) -> object:
            nonlocal calls
            calls += 1
            return ping(*args, **kwargs)

        counter._redis.pipeline = counting_pipeline
        for _ in range(20):
            assert (await client.get("/healthz")).status_code == 200
        assert calls == 0
