"""``ostiary gateway --reuse-port``: several gateway processes serve one port (issue 20: two
gateway processes on one box), and without the flag a second process cannot bind it."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import requests

from tests.e2e.servers import OSTIARY, free_port, running, wait_until_up

CONFIG = {
    "issuers": [{"issuer": "http://127.0.0.1:1/oauth2/default", "audiences": ["api://default"]}],
    "routes": [{"path": "/open", "upstream": "http://127.0.0.1:1", "public": True}],
    "metrics": {"enabled": True, "public": True},
}
ENV = {"OSTIARY_LOG_LEVEL": "warning"}


def listens(pid: int, port: int) -> bool:
    """True once process ``pid`` holds a socket listening on ``port`` (Linux ``/proc``)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A" and fields[9] in inodes:
                return True
    return False


def wait_until_listening(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 20
    while not listens(process.pid, port):
        assert process.poll() is None, "the second gateway exited"
        assert time.monotonic() < deadline, "the second gateway never listened"
        time.sleep(0.05)


def gateway_args(config: Path, port: int, *more: str) -> list[str]:
    return [OSTIARY, "gateway", "--config", str(config), "--port", str(port), *more]


def test_two_gateway_processes_serve_one_port_with_reuse_port(tmp_path: Path) -> None:
    config, port = tmp_path / "gateway.json", free_port()
    config.write_text(json.dumps(CONFIG))
    metrics = f"http://127.0.0.1:{port}/metrics"
    args = gateway_args(config, port, "--reuse-port")
    with (
        running(args, metrics, ENV, tmp_path / "a.log") as first,
        running(args, metrics, ENV, tmp_path / "b.log") as second,
    ):
        wait_until_listening(second, port)
        assert listens(first.pid, port)
        first.terminate()
        first.wait(timeout=10)
        wait_until_up(metrics, process=second)
        for _ in range(5):  # new connections each: the port is still served, by the second
            assert requests.get(metrics, timeout=5).status_code == 200


def test_without_reuse_port_a_second_gateway_cannot_bind_the_port(tmp_path: Path) -> None:
    config, port = tmp_path / "gateway.json", free_port()
    config.write_text(json.dumps(CONFIG))
    metrics = f"http://127.0.0.1:{port}/metrics"
    with running(gateway_args(config, port, "--reuse-port"), metrics, ENV, tmp_path / "a.log"):
        second = subprocess.run(gateway_args(config, port), capture_output=True, text=True, timeout=30)
    assert second.returncode != 0
    assert "address already in use" in second.stderr.lower()
