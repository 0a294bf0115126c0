"""Concurrent ``POST /api/v1/users`` on a SQLite file all succeed: the writers queue
(``store.sqlite_writers``) as long as the ones ahead keep committing, even when the whole queue
takes longer than ``busy_timeout``."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.util import await_only

from tests.conftest import _server


async def _create(client: httpx.AsyncClient, at_once: asyncio.Semaphore, i: int) -> int:
    async with at_once:
        body = {"profile": {"login": f"u{i}@example.com", "email": f"u{i}@example.com",
                            "firstName": "U", "lastName": str(i)}}  # fmt: skip
        return (await client.post("/api/v1/users?activate=false", json=body)).status_code


def _slow_user_inserts(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
    """Hold the write lock 0.3 s longer (after the INSERT, inside the transaction) while the first
    32 users are created: longer than a create's own work, so the 16 writers queue up and the
    last ones wait 4 s and more in all, past the 2 s busy_timeout, while each one finishes well
    within it (a hold took up to 0.7 s at a load average of 10 on the 2-core VM). The other
    users go at full speed."""
    if not statement.startswith("INSERT INTO users "):
        return
    values = parameters.values() if isinstance(parameters, dict) else parameters
    logins = [m for v in values if isinstance(v, str) and (m := re.fullmatch(r"u(\d+)@example\.com", v))]
    numbers = [int(m[1]) for m in logins]
    if numbers and numbers[0] < 32:
        await_only(asyncio.sleep(0.3))


async def test_300_users_created_16_at_a_time_on_sqlite_all_succeed(
    tmp_path: Path, sqlite_database_url: str
) -> None:
    async for server in _server(tmp_path, sqlite_database_url, db_statement_timeout=2.0):
        event.listen(server.rt.db.engine.sync_engine, "after_cursor_execute", _slow_user_inserts)
        token = await server.create_token()
        async with server.client(token) as client:
            sixteen = asyncio.Semaphore(16)
            statuses = await asyncio.gather(*(_create(client, sixteen, i) for i in range(300)))
            assert statuses == [200] * 300
            listed = await client.get("/api/v1/users?limit=200")
            assert len(listed.json()) == 200 and "next" in listed.headers["link"]
