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


async def test_64_users_created_16_at_a_time_on_sqlite_all_succeed(
    tmp_path: Path, sqlite_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply_rules = users_domain._apply_group_rules

    async def slow_rules(*args: Any, **kwargs: Any) -> None:
        # Inside the write transaction (after the INSERT): 16 writers then queue ~3.2 s in all,
        # past the 1.5 s busy_timeout, while each one finishes well within it even on a loaded
        # machine (with 0.03 s and 0.3 s, one slow transaction under load failed the queue).
        await asyncio.sleep(0.2)
        await apply_rules(*args, **kwargs)

    monkeypatch.setattr(users_domain, "_apply_group_rules", slow_rules)
    async for server in _server(tmp_path, sqlite_database_url, db_statement_timeout=1.5):
        token = await server.create_token()
        async with server.client(token) as client:
            sixteen = asyncio.Semaphore(16)
            statuses = await asyncio.gather(*(_create(client, sixteen, i) for i in range(64)))
            assert statuses == [200] * 64
            listed = await client.get("/api/v1/users?limit=50")
            assert len(listed.json()) == 50 and "next" in listed.headers["link"]
