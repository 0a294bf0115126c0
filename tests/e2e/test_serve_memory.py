"""``ostiary serve --memory`` (issue 21): nothing on disk, its API token printed on stdout,
and a service app made with that token gets a client_credentials token from the org server."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.servers import OSTIARY, free_port, wait_until_up
from tests.support.memory_server import read_token


class MemoryServer:
    def __init__(self, process: subprocess.Popen[str], url: str, token: str) -> None:
        self.process = process
        self.url = url
        self.token = token


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("memory-cwd")


@pytest.fixture(scope="module")
def server(workdir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MemoryServer]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSTIARY_")}
    env["OSTIARY_DATA_DIR"] = str(workdir / "data")
    env["OSTIARY_LOG_LEVEL"] = "warning"
    stderr = (tmp_path_factory.mktemp("memory-log") / "stderr.log").open("w")
    process = subprocess.Popen(
        [OSTIARY, "serve", "--memory", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    try:
        token = read_token(process)
        url = f"http://localhost:{port}"
        wait_until_up(f"{url}/healthz", process=process)  # type: ignore[arg-type]
        yield MemoryServer(process, url, token)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        stderr.close()


def test_printed_token_creates_a_service_app_that_gets_a_token(server: MemoryServer) -> None:
    admin = httpx.Client(base_url=server.url, headers={"Authorization": f"SSWS {server.token}"}, timeout=10)
    created = admin.post(
        "/api/v1/apps",
        json={
            "name": "oidc_client",
            "label": "ci-service",
            "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
            "settings": {
                "oauthClient": {"grant_types": ["client_credentials"], "application_type": "service"}
            },
        },
    )
    assert created.status_code == 200, created.text
    app = created.json()
    client_id = app["credentials"]["oauthClient"]["client_id"]
    secret = app["credentials"]["oauthClient"]["client_secret"]
    grant = admin.post(
        f"/api/v1/apps/{app['id']}/grants", json={"scopeId": "okta.users.read", "issuer": server.url}
    )
    assert grant.status_code == 201, grant.text

    issued = httpx.post(
        f"{server.url}/oauth2/v1/token",
        data={"grant_type": "client_credentials", "scope": "okta.users.read"},
        auth=(client_id, secret),
        timeout=10,
    )
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "okta.users.read"
    users = httpx.get(
        f"{server.url}/api/v1/users", headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10
    )
    assert users.status_code == 200, users.text


def _service_app(admin: httpx.Client, server: MemoryServer) -> tuple[str, str]:
    created = admin.post(
        "/api/v1/apps",
        json={
            "name": "oidc_client",
            "label": "concurrent-service",
            "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
            "settings": {
                "oauthClient": {"grant_types": ["client_credentials"], "application_type": "service"}
            },
        },
    )
    assert created.status_code == 200, created.text
    app = created.json()
    grant = admin.post(
        f"/api/v1/apps/{app['id']}/grants", json={"scopeId": "okta.users.read", "issuer": server.url}
    )
    assert grant.status_code == 201, grant.text
    oauth = app["credentials"]["oauthClient"]
    return oauth["client_id"], oauth["client_secret"]


async def test_concurrent_requests_keep_every_write_answered_200(server: MemoryServer) -> None:
    """Writes, a refused duplicate (its insert reached the database), reads and tokens at once
    on the one in-memory connection: each 200 is still there afterwards."""
    headers = {"Authorization": f"SSWS {server.token}", "Accept": "application/json"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as admin:
        client_id, secret = _service_app(admin, server)
        taken = {
            "login": "taken@example.com",
            "email": "taken@example.com",
            "firstName": "T",
            "lastName": "U",
        }
        assert admin.post("/api/v1/users?activate=false", json={"profile": taken}).status_code == 200

    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as client:

        def user(i: int) -> Any:
            login = f"concurrent{i}@example.com"
            profile = {"login": login, "email": login, "firstName": "C", "lastName": "U"}
            return client.post("/api/v1/users?activate=false", json={"profile": profile})

        calls: list[tuple[str, Any]] = []
        for i in range(20):
            calls += [
                ("user", user(i)),
                ("duplicate", client.post("/api/v1/users?activate=false", json={"profile": taken})),
                ("group", client.post("/api/v1/groups", json={"profile": {"name": f"concurrent {i}"}})),
                ("read", client.get("/api/v1/groups?limit=3")),
                (
                    "token",
                    client.post(
                        "/oauth2/v1/token",
                        data={"grant_type": "client_credentials", "scope": "okta.users.read"},
                        auth=(client_id, secret),
                    ),
                ),
            ]
        responses = await asyncio.gather(*(call for _kind, call in calls))
        for (kind, _call), response in zip(calls, responses, strict=True):
            assert response.status_code == (400 if kind == "duplicate" else 200), (kind, response.text)
        for (kind, _call), response in zip(calls, responses, strict=True):
            if kind in ("user", "group"):
                found = await client.get(f"/api/v1/{kind}s/{response.json()['id']}")
                assert found.status_code == 200, (kind, found.text)


def test_the_issuer_is_localhost_on_the_port(server: MemoryServer) -> None:
    meta = httpx.get(f"{server.url}/.well-known/openid-configuration", timeout=10)
    assert meta.status_code == 200
    assert meta.json()["issuer"] == server.url


def test_a_wrong_token_is_refused(server: MemoryServer) -> None:
    refused = httpx.get(f"{server.url}/api/v1/users", headers={"Authorization": "SSWS nope"}, timeout=10)
    assert refused.status_code == 401
    assert refused.json()["errorCode"] == "E0000011"


def test_a_websocket_upgrade_is_served_as_plain_http(server: MemoryServer) -> None:
    """No WebSocket protocol in the server (``serving.uvicorn_protocol.WEBSOCKETS``): the
    handshake is answered as the GET it is, not upgraded and then closed with a 403."""
    port = int(server.url.rsplit(":", 1)[1])
    handshake = (
        "GET /oauth2/v1/keys HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(handshake.encode())
        answer = b""
        while b'"keys"' not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    assert b'"keys"' in answer


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/__ostiary/testing/faults"),
        ("POST", "/__ostiary/testing/reset"),
        ("PUT", "/__ostiary/testing/clock"),
    ],
)
def test_the_testing_api_does_not_exist_without_testing(server: MemoryServer, method: str, path: str) -> None:
    headers = {"Authorization": f"SSWS {server.token}"}
    answer = httpx.request(
        method, f"{server.url}{path}", headers=headers, json={"skewSeconds": 1}, timeout=10
    )
    assert answer.status_code == 404


def test_testing_needs_memory(tmp_path: Path) -> None:
    result = subprocess.run(
        [OSTIARY, "serve", "--testing"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "--testing needs --memory" in result.stderr


def test_nothing_was_written_to_disk(server: MemoryServer, workdir: Path) -> None:
    assert server.process.poll() is None
    assert list(workdir.rglob("*")) == []


@pytest.mark.parametrize("extra", [["--workers", "2"], ["--database-url", "sqlite:///x.db"]])
def test_options_memory_cannot_honour_are_refused(extra: list[str], tmp_path: Path) -> None:
    result = subprocess.run(
        [OSTIARY, "serve", "--memory", *extra], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "--memory" in result.stderr
    assert list(tmp_path.iterdir()) == []


async def test_the_okta_sdk_works_with_the_printed_token_over_tls(tmp_path: Path) -> None:
    from okta.client import Client as OktaClient
    from okta.models import AddGroupRequest

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSTIARY_")}
    env["OSTIARY_LOG_LEVEL"] = "warning"
    cert, key = os.environ["OSTIARY_TEST_TLS_CERT"], os.environ["OSTIARY_TEST_TLS_KEY"]
    args = [OSTIARY, "serve", "--memory", "--port", str(port), "--tls-cert", cert, "--tls-key", key]
    process = subprocess.Popen(
        args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        token = read_token(process)
        url = f"https://localhost:{port}"
        wait_until_up(f"{url}/healthz", process=process)  # type: ignore[arg-type]
        client = OktaClient({"orgUrl": url, "token": token, "rateLimit": {"maxRetries": 0}})
        async with client:
            group, _resp, err = await client.add_group(
                AddGroupRequest.from_dict({"profile": {"name": "sdk"}})
            )
            assert err is None, err
            listed, _resp, err = await client.list_groups(q="sdk")
            assert err is None and [g.id for g in listed] == [group.id]
        meta = httpx.get(f"{url}/.well-known/openid-configuration", timeout=10)
        assert meta.json()["issuer"] == url
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert list(tmp_path.iterdir()) == []
