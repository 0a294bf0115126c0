"""Real servers on free loopback ports, started the way users start them (the ``ostiary`` CLI)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import requests

OSTIARY = str(Path(sys.executable).with_name("ostiary"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, *, timeout: float = 20.0, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not come up in {timeout} s")


def until(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Whether ``condition`` holds within ``seconds`` (asked every 50 ms, and once at the end)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@contextmanager
def running(
    args: Sequence[str], health_url: str, env: Mapping[str, str], log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(args), env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_until_up(health_url, process=process)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


class OrgServer:
    """``ostiary serve`` over TLS with its own data dir."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self.url = f"https://localhost:{port}"
        self.env = {
            "OSTIARY_DATA_DIR": str(data_dir),
            "OSTIARY_BASE_URL": self.url,
            "OSTIARY_LOG_LEVEL": "warning",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [OSTIARY, *args], env={**os.environ, **self.env}, capture_output=True, text=True, check=True
        )
        return result.stdout

    def create_token(self, name: str = "e2e") -> str:
        return self.cli("token", "create", "--name", name).strip().splitlines()[-1]


@contextmanager
def org_server(tmp_path: Path, **extra_env: str) -> Iterator[OrgServer]:
    server = OrgServer(tmp_path / "org", free_port())
    server.env.update(extra_env)
    args = [
        OSTIARY,
        "serve",
        "--port",
        str(server.port),
        "--tls-cert",
        os.environ["OSTIARY_TEST_TLS_CERT"],
        "--tls-key",
        os.environ["OSTIARY_TEST_TLS_KEY"],
    ]
    with running(args, f"{server.url}/healthz", server.env, tmp_path / "org-server.log") as process:
        server.process = process
        yield server


def client_credentials_server(
    session: requests.Session, org_url: str, scope: str, **server: object
) -> tuple[str, str]:
    """A custom authorization server with ``scope`` and one policy letting every client use
    client_credentials for any scope; ``(server id, policy id)``. ``session`` holds an SSWS token."""
    body = {"name": f"cc-{scope}", "audiences": [f"api://{scope}"], **server}
    created = session.post(f"{org_url}/api/v1/authorizationServers", json=body)
    assert created.status_code == 201, created.text
    base = f"{org_url}/api/v1/authorizationServers/{created.json()['id']}"
    assert session.post(f"{base}/scopes", json={"name": scope}).status_code == 201
    policy = session.post(
        f"{base}/policies",
        json={
            "type": "OAUTH_AUTHORIZATION_POLICY",
            "name": "p",
            "description": "p",
            "conditions": {"clients": {"include": ["ALL_CLIENTS"]}},
        },
    ).json()
    rule = session.post(
        f"{base}/policies/{policy['id']}/rules",
        json={
            "type": "RESOURCE_ACCESS",
            "name": "r",
            "conditions": {"grantTypes": {"include": ["client_credentials"]}, "scopes": {"include": ["*"]}},
        },
    )
    assert rule.status_code == 201, rule.text
    return created.json()["id"], policy["id"]


def ostiary_cli(env: dict[str, str], *args: str) -> str:
    """Run the ``ostiary`` command with ``env`` added to the environment; its stdout."""
    return subprocess.run(
        [OSTIARY, *args], env={**os.environ, **env}, capture_output=True, text=True, check=True
    ).stdout
