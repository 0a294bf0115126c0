"""Two processes on one SQLite file: an API token revoked through one stops working in the
other within the cache event log's poll (0.5 s), although the other remembers the token
(``domain.directory.api_tokens``). The PostgreSQL twin (``NOTIFY``) is in
``test_cache_events_across_processes.py``.

Process B is a real ``ostiary serve`` on the file; process A is this test's in-process app.
B is asked again for up to 2 s, inside the remembered token's 5 s: only the event explains it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import Server, _server
from tests.e2e.servers import OrgServer, org_server


@pytest.fixture
async def process_a(tmp_path: Path, sqlite_database_url: str) -> AsyncIterator[Server]:
    async for server in _server(tmp_path / "a", sqlite_database_url):
        yield server


@pytest.fixture
def process_b(process_a: Server, tmp_path: Path) -> Iterator[OrgServer]:
    (tmp_path / "b").mkdir()
    with org_server(tmp_path / "b", OSTIARY_DATABASE_URL=process_a.rt.settings.database_url) as server:
        assert _until(
            lambda: requests.get(f"{server.url}/healthz", timeout=2).json().get("cacheEvents") == "listening"
        )
        yield server


def _until(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


async def test_a_revoked_api_token_stops_working_in_the_other_process(
    process_a: Server, process_b: OrgServer
) -> None:
    keeper = await process_a.create_token("keeper")
    victim = await process_a.create_token("victim")
    users = f"{process_b.url}/api/v1/users"
    victim_header = {"Authorization": f"SSWS {victim}"}
    assert requests.get(users, headers=victim_header, timeout=10).status_code == 200  # B remembers it

    async with process_a.client(keeper) as a:
        listed = (await a.get("/api/v1/api-tokens")).json()
        victim_id = next(t["id"] for t in listed if t["name"] == "victim")
        assert (await a.delete(f"/api/v1/api-tokens/{victim_id}")).status_code == 204

    assert _until(lambda: requests.get(users, headers=victim_header, timeout=10).status_code == 401, 2), (
        "process B still honours the revoked API token"
    )
    assert requests.get(users, headers={"Authorization": f"SSWS {keeper}"}, timeout=10).status_code == 200
