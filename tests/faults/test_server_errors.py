"""An unexpected error (issue 13 item 6): the 500 carries the edge's headers in Okta's shape, and
the keep-alive connection it came on stays usable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.app import create_app, prepare
from tests.conftest import make_settings
from tests.faults.processes import uvicorn_in_this_loop


async def boom(_request: Request) -> Response:
    raise RuntimeError("a bug")


@pytest.fixture
async def app_with_a_bug(tmp_path: Path, sqlite_database_url: str) -> AsyncIterator[object]:
    app = create_app(make_settings(tmp_path, sqlite_database_url, rate_limits="on"), run_migrations=False)
    app.router.routes.insert(0, Route("/boom", boom, methods=["GET"]))
    await prepare(app.state.runtime)
    try:
        yield app
    finally:
        await app.state.runtime.db.dispose()


async def test_a_500_is_answered_with_the_edge_headers_and_the_exception_stops_there(
    app_with_a_bug: object,
) -> None:
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "path": "/boom",
        "raw_path": b"/boom",
        "query_string": b"",
        "headers": [(b"host", b"localhost:8080")],
        "scheme": "http",
        "server": ("localhost", 8080),
        "client": ("127.0.0.1", 5555),
        "root_path": "",
    }
    await app_with_a_bug(scope, receive, send)  # type: ignore[operator]  # does not raise

    start = sent[0]
    assert start["status"] == 500
    headers = {k.decode(): v.decode() for k, v in start["headers"]}  # type: ignore[attr-defined]
    for name in ("x-okta-request-id", "date", "x-rate-limit-limit", "x-rate-limit-remaining"):
        assert headers.get(name), name
    assert b'"errorCode":"E0000009"' in sent[1]["body"]  # type: ignore[operator]


async def _read_response(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    return head, await reader.readexactly(length)


async def test_the_connection_after_a_500_serves_the_next_request(app_with_a_bug: object) -> None:
    async with uvicorn_in_this_loop(app_with_a_bug) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /boom HTTP/1.1\r\nHost: localhost\r\n\r\n")
        head, _body = await asyncio.wait_for(_read_response(reader), 10)
        assert head.startswith(b"HTTP/1.1 500")
        assert b"x-okta-request-id" in head.lower()
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        head, body = await asyncio.wait_for(_read_response(reader), 10)
        assert head.startswith(b"HTTP/1.1 200")
        assert body == b'{"status":"ok"}'
        writer.close()
