"""``ostiary serve`` killed with SIGKILL under write load loses no write it acknowledged, and a
SIGTERM lets every request in flight finish before the process exits."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.faults.processes import Serve

pytestmark = pytest.mark.faults

WRITERS = 4
IN_FLIGHT = 8
PASSWORD = "Tr0ub4dor&3-correct-horse"


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Serve, str]]:
    """One data dir and API token for the module (each test starts the server itself)."""
    server = Serve(tmp_path_factory.mktemp("signals"), {})
    token = server.token()
    try:
        yield server, token
    finally:
        server.stop()


def _stored(server: Serve, sql: str) -> list[str]:
    with sqlite3.connect(Path(server.env["OSTIARY_DATA_DIR"]) / "ostiary.db") as db:
        return [row[0] for row in db.execute(sql)]


def _session(token: str) -> requests.Session:
    http = requests.Session()
    http.headers.update({"Authorization": f"SSWS {token}", "Accept": "application/json"})
    return http


def _write_until_refused(server: Serve, token: str, writer: int, acknowledged: list[str]) -> None:
    http = _session(token)
    for i in range(100_000):
        try:
            response = http.post(
                f"{server.url}/api/v1/groups", json={"profile": {"name": f"w{writer}-{i}"}}, timeout=10
            )
        except requests.RequestException:
            return  # the server died mid-request: this write was never acknowledged
        if response.status_code == 200:
            acknowledged.append(response.json()["id"])


def test_kill_9_under_write_load_loses_no_acknowledged_write(serve: tuple[Serve, str]) -> None:
    server, token = serve
    server.start()
    acknowledged: list[str] = []
    writers = [
        threading.Thread(target=_write_until_refused, args=(server, token, n, acknowledged))
        for n in range(WRITERS)
    ]
    for thread in writers:
        thread.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 20 and time.monotonic() < deadline:
        time.sleep(0.02)
    server.signal(signal.SIGKILL)
    for thread in writers:
        thread.join(timeout=30)
    assert server.wait() == -signal.SIGKILL
    assert len(acknowledged) >= 20

    server.start()  # and it comes back
    assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200
    server.stop()
    assert set(acknowledged) - set(_stored(server, "SELECT id FROM groups")) == set()


def _create_user(server: Serve, token: str, n: int, ready: threading.Barrier) -> int:
    http = _session(token)
    assert http.get(f"{server.url}/healthz", timeout=10).status_code == 200  # connection open
    ready.wait()
    body = {
        "profile": {"login": f"inflight{n}@example.com", "email": f"inflight{n}@example.com",
                    "firstName": "In", "lastName": "Flight"},
        "credentials": {"password": {"value": PASSWORD}},
    }  # fmt: skip
    response = http.post(f"{server.url}/api/v1/users?activate=true", json=body, timeout=60)
    return response.status_code


def test_sigterm_lets_the_requests_in_flight_finish(serve: tuple[Serve, str]) -> None:
    server, token = serve
    server.start("--graceful-timeout", "60")
    ready = threading.Barrier(IN_FLIGHT + 1)
    lock = sqlite3.connect(Path(server.env["OSTIARY_DATA_DIR"]) / "ostiary.db", isolation_level=None)
    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        lock.execute("BEGIN IMMEDIATE")  # the creations wait for this writer: they stay in flight
        futures = [pool.submit(_create_user, server, token, n, ready) for n in range(IN_FLIGHT)]
        ready.wait()
        time.sleep(0.5)
        assert not any(f.done() for f in futures)
        server.signal(signal.SIGTERM)
        time.sleep(0.3)
        lock.execute("ROLLBACK")
        lock.close()
        statuses = [f.result() for f in futures]
    assert statuses == [200] * IN_FLIGHT
    assert server.wait() in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it is done
    assert "Traceback" not in server.log.read_text()
    assert len(_stored(server, "SELECT id FROM users WHERE login LIKE 'inflight%'")) == IN_FLIGHT
