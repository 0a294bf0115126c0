"""Slow and idle clients (slowloris) against a real ``ostiary serve``: a connection that sends
nothing, headers that arrive a byte at a time, and a body that stops are cut off after
``OSTIARY_READ_TIMEOUT`` seconds instead of holding a file descriptor for as long as the
client likes; a slow but steady body is not."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.servers import OSTIARY, free_port, running

pytestmark = pytest.mark.e2e

READ_TIMEOUT = 1
PATIENCE = 8.0  # how long a test waits for the server to act: far past READ_TIMEOUT


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    tmp = Path(tmp_path_factory.mktemp("slow-clients"))
    port = free_port()
    env = {
        "OSTIARY_DATA_DIR": str(tmp / "data"),
        "OSTIARY_BASE_URL": f"http://localhost:{port}",
        "OSTIARY_LOG_LEVEL": "warning",
        "OSTIARY_READ_TIMEOUT": str(READ_TIMEOUT),
        "OSTIARY_SIGNING_PROCESSES": "0",
    }
    args = [OSTIARY, "serve", "--port", str(port)]
    with running(args, f"http://127.0.0.1:{port}/healthz", env, tmp / "serve.log"):
        yield port


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(PATIENCE)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes; raises TimeoutError if it never does."""
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(port: int) -> None:
    with _connect(port) as sock:
        assert _read_until_closed(sock) == b""


def test_headers_sent_a_byte_at_a_time_get_408_and_the_connection_closes(port: int) -> None:
    with _connect(port) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        sock.setblocking(False)
        answer = b""
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            try:
                sock.sendall(b"X")  # one byte of a header name every 0.2 s: never completes
            except OSError:
                break
            time.sleep(0.2)
            try:
                chunk = sock.recv(4096)
            except BlockingIOError:
                continue
            if not chunk:
                break
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 408 "), answer


def test_a_body_that_stops_short_of_its_content_length_gets_408(port: int) -> None:
    with _connect(port) as sock:
        sock.sendall(
            b"POST /oauth2/v1/token HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
            b"grant_type=client_credentials"
        )
        answer = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 "), answer


def test_a_slow_but_steady_body_is_read_to_the_end(port: int) -> None:
    body = b"grant_type=client_credentials&client_id=nobody&client_secret=nothing-at-all"
    with _connect(port) as sock:
        sock.sendall(
            b"POST /oauth2/v1/token HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        for start in range(0, len(body), 25):  # ~3 pauses of half the timeout: 1.5 s in all
            time.sleep(READ_TIMEOUT / 2)
            sock.sendall(body[start : start + 25])
        answer = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 401 "), answer
    assert b'"invalid_client"' in answer


def test_many_idle_connections_are_released_and_real_clients_are_served(port: int) -> None:
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
    try:
        for sock in idle:
            sock.settimeout(PATIENCE)
        assert all(_read_until_closed(sock) == b"" for sock in idle)
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    finally:
        for sock in idle:
            sock.close()
