"""A store that cannot serve (an SQLite lock held past the timeout, a full disk, a deadlock that
keeps coming back) answers 503 with ``Retry-After`` and a clear error in the endpoint's shape,
logs one line that names the kind of failure, and serves again once the cause is gone; a
transaction that lost a deadlock is run again instead."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from ostiary.db_faults import Fault, RetryPolicy, classify
from ostiary.http.store_faults import FaultLog, StoreFaults
from tests.conftest import Server, _server

pytestmark = pytest.mark.faults

GROUPS = "/api/v1/groups"


def _group(name: str) -> dict[str, Any]:
    return {"profile": {"name": name}}


@pytest.fixture
async def quick_server(tmp_path: Path, sqlite_database_url: str) -> AsyncIterator[Server]:
    async for s in _server(tmp_path, sqlite_database_url, db_statement_timeout=0.3):
        yield s


@pytest.fixture
async def quick_admin(quick_server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with quick_server.client(await quick_server.create_token()) as client:
        yield client


def _assert_unavailable(response: httpx.Response, words: str) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["errorCode"] == "E0000010" and words in body["errorSummary"]
    assert set(body) == {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}
    assert "x-okta-request-id" in response.headers


async def test_an_sqlite_lock_held_past_the_timeout_answers_503_and_the_log_says_locked(
    quick_server: Server, quick_admin: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    path = quick_server.rt.db.url.split(":///", 1)[1]
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with caplog.at_level(logging.ERROR, "ostiary.store"):
            responses = [await quick_admin.post(GROUPS, json=_group(f"g{i}")) for i in range(3)]
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    for response in responses:
        _assert_unavailable(response, "locked")
    lines = [r.getMessage() for r in caplog.records if r.name == "ostiary.store"]
    assert len(lines) == 1 and "database locked" in lines[0], lines  # one line, not one per request
    assert not any(r.exc_info for r in caplog.records)
    assert (await quick_admin.post(GROUPS, json=_group("after"))).status_code == 200


async def test_a_full_disk_answers_503_and_writes_work_again_once_there_is_room(
    quick_server: Server, quick_admin: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    engine = quick_server.rt.db.engine.sync_engine
    limit = {"pages": 1}

    def cap_pages(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA page_count")
        pages = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count={pages + limit['pages']}")
        cursor.close()

    await quick_server.rt.db.engine.dispose()
    event.listen(engine, "connect", cap_pages)
    with caplog.at_level(logging.ERROR, "ostiary.store"):
        big = "x" * 900
        responses = [
            await quick_admin.post(GROUPS, json={"profile": {"name": f"big{i}", "description": big}})
            for i in range(40)
        ]
    refused = [r for r in responses if r.status_code != 200]
    assert refused, "the page cap never filled the database"
    for response in refused:
        _assert_unavailable(response, "disk is full")
    assert any("database disk full" in r.getMessage() for r in caplog.records)

    event.remove(engine, "connect", cap_pages)
    await quick_server.rt.db.engine.dispose()
    assert (await quick_admin.post(GROUPS, json=_group("room again"))).status_code == 200


async def test_oauth_endpoints_answer_temporarily_unavailable(
    quick_server: Server, quick_admin: httpx.AsyncClient
) -> None:
    path = quick_server.rt.db.url.split(":///", 1)[1]
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        quick_server.rt.servers.clear()
        async with quick_server.client() as anon:
            response = await anon.post(
                "/oauth2/default/v1/token",
                data={"grant_type": "client_credentials", "client_id": "nope", "client_secret": "x"},
            )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "temporarily_unavailable"
    assert response.headers["cache-control"] == "no-store" and "retry-after" in response.headers


# --- the retry seam ------------------------------------------------------------------------------


class _Deadlock(Exception):
    sqlstate = "40P01"


def _app_failing(times: int, seen: list[bytes]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen.append(body)
        if len(seen) <= times:
            raise _Deadlock("deadlock detected")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    return app


async def _call(app: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.post("/api/v1/x", content=b"the body")


async def test_a_request_whose_transaction_deadlocked_runs_again_with_its_body() -> None:
    seen: list[bytes] = []
    app = StoreFaults(_app_failing(2, seen), retry=RetryPolicy(attempts=3), faults=FaultLog())
    response = await _call(app)
    assert (response.status_code, response.content) == (200, b"the body")
    assert seen == [b"the body"] * 3


async def test_retries_are_bounded_then_the_answer_is_503() -> None:
    seen: list[bytes] = []
    app = StoreFaults(_app_failing(10, seen), retry=RetryPolicy(attempts=3), faults=FaultLog())
    response = await _call(app)
    assert response.status_code == 503 and response.json()["errorCode"] == "E0000010"
    assert len(seen) == 3


def test_failures_are_classified_by_sqlstate_and_cause() -> None:
    class PgError(Exception):
        def __init__(self, sqlstate: str) -> None:
            super().__init__(sqlstate)
            self.sqlstate = sqlstate

    assert classify(PgError("40001")) is Fault.CONFLICT
    assert classify(PgError("57P01")) is Fault.UNREACHABLE
    assert classify(PgError("57014")) is Fault.TIMEOUT
    assert classify(PgError("23505")) is None  # a duplicate key is a bug, not an outage
    wrapped = RuntimeError("outer")
    wrapped.__cause__ = ConnectionRefusedError(111, "refused")
    assert classify(wrapped) is Fault.UNREACHABLE
    assert classify(TimeoutError()) is Fault.TIMEOUT
    assert classify(ValueError("x")) is None
