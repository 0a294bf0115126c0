"""Concurrent ``POST /api/v1/users`` on a SQLite file all succeed: the writers queue
(``store.sqlite_writers``) as long as the ones ahead keep committing, even when the whole queue
takes longer than ``busy_timeout``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from ostiary.domain.directory import users as users_domain
from tests.conftest import _server


async def _create(client: httpx.AsyncClient, at_once: asyncio.Semaphore, i: int) -> int:
    async with at_once:
        body = {"profile": {"login": f"u{i}@example.com", "email": f"u{i}@example.com",
                            "firstName": "U", "lastName": str(i)}}  # fmt: skip
        return (await client.post("/api/v1/users?activate=false", json=body)).status_code


async def test_300_users_created_16_at_a_time_on_sqlite_all_succeed(
    tmp_path: Path, sqlite_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply_rules = users_domain._apply_group_rules

    async def slow_rules(*args: Any, **kwargs: Any) -> None:
        # Inside the write transaction (after the INSERT): 16 writers then queue ~0.5 s in all,
        # past the 0.3 s busy_timeout, while each one finishes within it.
        await asyncio.sleep(0.03)
        await apply_rules(*args, **kwargs)

    monkeypatch.setattr(users_domain, "_apply_group_rules", slow_rules)
    async for server in _server(tmp_path, sqlite_database_url, db_statement_timeout=0.3):
        token = await server.create_token()
        async with server.client(token) as client:
            sixteen = asyncio.Semaphore(16)
            statuses = await asyncio.gather(*(_create(client, sixteen, i) for i in range(300)))
            assert statuses == [200] * 300
            listed = await client.get("/api/v1/users?limit=200")
            assert len(listed.json()) == 200 and "next" in listed.headers["link"]
