"""Specification of the gateway's per-client rate limits (``ostiary.gateway.ratelimit``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from email.utils import parsedate_to_datetime

import httpx
import pytest

from ostiary.gateway.config import parse_config
from ostiary.gateway.proxy import Gateway, build_gateway_app
from ostiary.gateway.ratelimit import InProcessRateLimiter, RedisRateLimiter
from tests.support.gateway_loopback import JwksServer, LoopbackServer, free_port, upstream_app
from tests.support.jwt_factory import AUDIENCE, access_claims, jwks, rsa_key

KEY = rsa_key("rsa-1")


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# ---------------------------------------------------------------- the counter


async def test_a_client_may_make_the_limit_of_calls_per_minute() -> None:
    limiter = InProcessRateLimiter(3, clock=Clock(600.0))
    decisions = [await limiter.hit("client") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]


async def test_the_reset_is_the_end_of_the_current_minute() -> None:
    decision = await InProcessRateLimiter(3, clock=Clock(615.0)).hit("client")
    assert decision.reset == 660
    assert decision.retry_after == 45


async def test_a_new_minute_starts_a_new_budget() -> None:
    clock = Clock(600.0)
    limiter = InProcessRateLimiter(1, clock=clock)
    await limiter.hit("client")
    assert not (await limiter.hit("client")).allowed
    clock.now = 660.0
    assert (await limiter.hit("client")).allowed


async def test_clients_have_separate_budgets() -> None:
    limiter = InProcessRateLimiter(1, clock=Clock(600.0))
    await limiter.hit("first")
    assert (await limiter.hit("second")).allowed


async def test_an_unreachable_redis_falls_back_to_counting_in_process() -> None:
    limiter = RedisRateLimiter(1, "redis://127.0.0.1:1/0", clock=Clock(600.0))
    try:
        assert (await limiter.hit("client")).allowed
        assert not (await limiter.hit("client")).allowed
    finally:
        await limiter.close()


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    if os.environ.get("OSTIARY_REDIS_URL"):
        yield os.environ["OSTIARY_REDIS_URL"]
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no Redis: set OSTIARY_REDIS_URL or install redis-server")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 5
        while (
            subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout.strip()
            != b"PONG"
        ):
            if time.monotonic() > deadline:
                pytest.skip("redis-server did not start")
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=5)


async def test_redis_counters_are_shared_between_gateway_processes(redis_url: str) -> None:
    client = f"client-{time.time_ns()}"
    first = RedisRateLimiter(2, redis_url, clock=Clock(600.0))
    second = RedisRateLimiter(2, redis_url, clock=Clock(600.0))
    try:
        assert (await first.hit(client)).allowed
        assert (await second.hit(client)).allowed
        refused = await first.hit(client)
        assert not refused.allowed and refused.remaining == 0
    finally:
        await first.close()
        await second.close()


# ---------------------------------------------------------------- through the gateway


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[LoopbackServer, JwksServer]]:
    upstream = LoopbackServer(upstream_app()).start()
    idp = JwksServer(jwks=jwks(KEY)).start()
    yield upstream, idp
    upstream.stop()
    idp.stop()


@pytest.fixture
async def gateway(servers: tuple[LoopbackServer, JwksServer]) -> AsyncIterator[Gateway]:
    upstream, idp = servers
    config = {
        "issuers": [{"issuer": idp.issuer, "audiences": [AUDIENCE]}],
        "routes": [{"path": "/asteroids", "upstream": upstream.url}],
        "rate_limit": {"per_client_per_minute": 2},
    }
    app = build_gateway_app(parse_config(config))
    app.state.limiter.clock = Clock(615.0)  # type: ignore[union-attr]  # no minute boundary mid-test
    yield app
    await app.aclose()


def token(idp: JwksServer, **claims: object) -> dict[str, str]:
    return {"Authorization": "Bearer " + KEY.sign(access_claims(issuer=idp.issuer, **claims))}


async def test_the_call_over_the_limit_gets_429_with_retry_after(
    gateway: Gateway, servers: tuple[LoopbackServer, JwksServer]
) -> None:
    idp = servers[1]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gw") as client:
        answers = [await client.get("/asteroids", headers=token(idp, cid="app-1")) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[2]
    assert refused.headers["retry-after"] == "45"
    assert refused.headers["x-rate-limit-limit"] == "2"
    assert refused.headers["x-rate-limit-remaining"] == "0"
    assert refused.headers["x-rate-limit-reset"] == "660"
    assert parsedate_to_datetime(refused.headers["date"]).tzinfo is not None
    assert refused.json()["error"] == "rate_limit_exceeded"


async def test_allowed_calls_report_the_remaining_budget(
    gateway: Gateway, servers: tuple[LoopbackServer, JwksServer]
) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gw") as client:
        answer = await client.get("/asteroids", headers=token(servers[1], cid="app-2"))
    assert (answer.headers["x-rate-limit-limit"], answer.headers["x-rate-limit-remaining"]) == ("2", "1")


async def test_the_budget_belongs_to_the_client_id_not_the_token(
    gateway: Gateway, servers: tuple[LoopbackServer, JwksServer]
) -> None:
    idp = servers[1]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gw") as client:
        for user in ("a", "b"):
            await client.get("/asteroids", headers=token(idp, cid="app-3", sub=user))
        third_user = await client.get("/asteroids", headers=token(idp, cid="app-3", sub="c"))
        other_app = await client.get("/asteroids", headers=token(idp, cid="app-4", sub="c"))
    assert third_user.status_code == 429
    assert other_app.status_code == 200


async def test_without_cid_the_subject_is_the_client(
    gateway: Gateway, servers: tuple[LoopbackServer, JwksServer]
) -> None:
    idp = servers[1]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gw") as client:
        answers = [await client.get("/asteroids", headers=token(idp, cid=None, sub="svc")) for _ in range(3)]
        other = await client.get("/asteroids", headers=token(idp, cid=None, sub="svc-2"))
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert other.status_code == 200
