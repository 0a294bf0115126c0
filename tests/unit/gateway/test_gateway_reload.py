"""Specification of hot reload: SIGHUP or a changed file swaps the configuration atomically;
a broken file keeps the configuration in force."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import yaml

from ostiary.gateway.config import load_config
from ostiary.gateway.proxy import Gateway, build_gateway_app

UPSTREAM = "http://127.0.0.1:9"


def write_config(path: Path, *public_paths: str, per_minute: int | None = None) -> None:
    config: dict[str, object] = {
        "routes": [{"path": p, "upstream": UPSTREAM, "public": True} for p in public_paths],
        "metrics": {"path": "/metrics"},
    }
    if per_minute is not None:
        config["rate_limit"] = {"per_client_per_minute": per_minute}
    path.write_text(yaml.safe_dump(config))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a visibly newer mtime


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Path, Gateway]]:
    path = tmp_path / "gateway.yaml"
    write_config(path, "/planets")
    app = build_gateway_app(load_config(path), config_path=path)
    yield path, app
    await app.aclose()


def paths_of(app: Gateway) -> list[str]:
    return [route.path for route in app.config.routes]


async def test_a_changed_file_is_picked_up(setup: tuple[Path, Gateway]) -> None:
    path, app = setup
    write_config(path, "/planets", "/moons")
    assert app.check_for_changes()
    assert paths_of(app) == ["/planets", "/moons"]


async def test_an_unchanged_file_is_not_reparsed(setup: tuple[Path, Gateway]) -> None:
    _, app = setup
    assert not app.check_for_changes()
    assert app.metrics.reloads == {}


async def test_a_broken_file_keeps_the_current_configuration(
    setup: tuple[Path, Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    path, app = setup
    path.write_text("routes:\n  - path: /moons\n    upstream: not-a-url\n")
    with caplog.at_level(logging.ERROR, logger="ostiary.gateway.proxy"):
        assert not app.reload()
    assert paths_of(app) == ["/planets"]
    assert "routes[0].upstream" in caplog.text and str(path) in caplog.text
    assert app.metrics.reloads["error"] == 1


async def test_new_routes_answer_after_a_reload(setup: tuple[Path, Gateway]) -> None:
    path, app = setup
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        assert (await client.get("/moons")).status_code == 404
        write_config(path, "/moons")
        app.check_for_changes()
        assert (await client.get("/moons")).status_code == 502  # routed now (to a closed upstream port)
        assert (await client.get("/planets")).status_code == 404


async def test_the_file_is_watched_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "gateway.yaml"
    write_config(path, "/planets")
    app = Gateway(load_config(path), config_path=path, reload_interval=0.02)
    await app.startup()
    try:
        write_config(path, "/asteroids")
        for _ in range(100):
            if paths_of(app) == ["/asteroids"]:
                break
            await asyncio.sleep(0.01)
        assert paths_of(app) == ["/asteroids"]
    finally:
        await app.aclose()


async def test_sighup_reloads_the_configuration(setup: tuple[Path, Gateway]) -> None:
    path, app = setup
    await app.startup()
    write_config(path, "/visitors")
    os.kill(os.getpid(), signal.SIGHUP)
    for _ in range(100):
        if paths_of(app) == ["/visitors"]:
            break
        await asyncio.sleep(0.01)
    assert paths_of(app) == ["/visitors"]


async def test_rate_limit_counters_survive_a_reload_that_keeps_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "gateway.yaml"
    write_config(path, "/planets", per_minute=5)
    app = build_gateway_app(load_config(path), config_path=path)
    limiter = app.state.limiter
    write_config(path, "/planets", "/moons", per_minute=5)
    app.check_for_changes()
    assert app.state.limiter is limiter
    write_config(path, "/planets", per_minute=6)
    app.check_for_changes()
    assert app.state.limiter is not limiter
    await app.aclose()
