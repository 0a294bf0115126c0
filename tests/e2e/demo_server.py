"""`ostiary demo` as a user runs it, on ports moved by an offset so tests do not collide."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.e2e.servers import OSTIARY, wait_until_up

DEMO_PORTS = (8080, 8081, 8082, 8083, 3090)


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_offset() -> int:
    """An offset that puts every demo port in 13090-32083: free now, and below Linux's ephemeral
    range (32768-60999), where any test's outgoing connection or port-0 server may take a port
    between this check and the demo's bind (seen in CI: "address already in use")."""
    for _ in range(50):
        offset = random.randint(10000, 24000)
        if all(_free(p + offset) for p in DEMO_PORTS):
            return offset
    raise RuntimeError("no free port range for the demo")


@contextmanager
def running_demo(data_dir: Path, password: str) -> Iterator[dict[str, Any]]:
    with demo_process(data_dir, password) as (_process, demo):
        yield demo


@contextmanager
def demo_process(
    data_dir: Path, password: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], dict[str, Any]]]:
    """``ostiary demo`` and its ``demo.json`` once every server answers; stopped on exit."""
    offset = free_offset()
    env = {**os.environ, "OSTIARY_DEMO_PASSWORD": password, "OSTIARY_LOG_LEVEL": "warning", **(env or {})}
    log = (data_dir.parent / "demo.log").open("wb")
    process = subprocess.Popen(
        [OSTIARY, "demo", "--data-dir", str(data_dir), "--port-offset", str(offset)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not (data_dir / "demo.json").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the demo did not start")
            time.sleep(0.1)
        demo: dict[str, Any] = json.loads((data_dir / "demo.json").read_text())
        for key in ("org_url", "upstream_url", "protected_api_url", "app_url"):
            wait_until_up(demo[key] + ("/healthz" if key == "org_url" else "/"), process=process)
        wait_until_up(demo["gateway_url"] + "/visitors", process=process)
        yield process, demo
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=30)
        log.close()
