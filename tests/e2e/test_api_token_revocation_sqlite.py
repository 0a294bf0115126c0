"""Two processes on one SQLite file: an API token revoked through one stops working in the
other within the cache event log's poll (0.5 s), although the other remembers the token
(``domain.directory.api_tokens``). The PostgreSQL twin (``NOTIFY``) is in
``test_cache_events_across_processes.py``.

Process B is a real ``ostiary serve`` on the file; process A is this test's in-process app.
The scenario is ``tests.e2e.api_token_revocation``'s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import Server, _server
from tests.e2e.api_token_revocation import revoked_token_is_refused_by_the_other
from tests.e2e.servers import OrgServer, org_server, until


@pytest.fixture
async def process_a(tmp_path: Path, sqlite_database_url: str) -> AsyncIterator[Server]:
    async for server in _server(tmp_path / "a", sqlite_database_url):
        yield server


@pytest.fixture
def process_b(process_a: Server, tmp_path: Path) -> Iterator[OrgServer]:
    (tmp_path / "b").mkdir()
    with org_server(tmp_path / "b", OSTIARY_DATABASE_URL=process_a.rt.settings.database_url) as server:
        assert until(
            lambda: requests.get(f"{server.url}/healthz", timeout=2).json().get("cacheEvents") == "listening"
        )
        yield server


async def test_a_revoked_api_token_stops_working_in_the_other_process(
    process_a: Server, process_b: OrgServer
) -> None:
    await revoked_token_is_refused_by_the_other(process_a, process_b)
