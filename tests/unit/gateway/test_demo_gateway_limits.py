"""``OSTIARY_RATE_LIMITS=off`` turns off every limit the demo sets, its gateway's per-client limit
included (issue 20: a load test of the demo otherwise got 429s after 600 calls a minute). The demo
writes its gateway's configuration into the data directory and runs ``ostiary gateway`` on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ostiary.demo.seed import DemoPorts
from ostiary.demo_runner import demo_gateway, write_gateway_config
from ostiary.gateway.proxy import Gateway
from ostiary.settings import Settings

DEMO: dict[str, Any] = {
    "upstream_url": "http://127.0.0.1:1",
    "app_url": "http://localhost:2",
    "scopes": {"silver": "silver", "gold": "gold"},
    "authorization_server": {"issuer": "http://localhost:3/oauth2/x", "audience": "api://x"},
}


def _gateway(tmp_path: Path, rate_limits: str) -> Gateway:
    path = write_gateway_config(tmp_path, DEMO, DemoPorts(), "127.0.0.1", _settings(tmp_path, rate_limits))
    return demo_gateway(path)


def _settings(tmp_path: Path, rate_limits: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url="sqlite+aiosqlite://",
        base_url="http://localhost:8080",
        rate_limits=rate_limits,
    )


@pytest.mark.parametrize("off", ["off", "OFF", "0", "false", "no"])
def test_the_demo_gateway_has_no_rate_limit_when_rate_limits_are_off(tmp_path: Path, off: str) -> None:
    gateway = _gateway(tmp_path, off)
    assert gateway.config.rate_limit.per_client_per_minute is None
    assert gateway.state.limiter is None


async def test_the_demo_gateway_limits_each_client_to_600_a_minute_by_default(tmp_path: Path) -> None:
    gateway = _gateway(tmp_path, "on")
    limiter = gateway.state.limiter
    assert limiter is not None and limiter.limit == 600
    decisions = [await limiter.hit("0oa-client") for _ in range(601)]
    assert [d.allowed for d in decisions[-2:]] == [True, False]
    await limiter.close()
