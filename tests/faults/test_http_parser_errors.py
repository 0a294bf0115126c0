"""Requests the HTTP parser refuses (issue 13 item 8): Okta's JSON error shape, 414 for a URL of
64 KB and more, instead of uvicorn's plain-text "Invalid HTTP request received."."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from starlette.types import Receive, Scope, Send

from tests.faults.processes import uvicorn_in_this_loop


async def ok_app(scope: Scope, _receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
async def port() -> AsyncIterator[int]:
    async with uvicorn_in_this_loop(ok_app) as port:
        yield port


async def _exchange(port: int, request: bytes) -> tuple[bytes, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    data = await asyncio.wait_for(reader.read(), 10)  # the server closes the connection
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


@pytest.mark.parametrize("size", [70_000, 300_000])
async def test_a_url_of_64_kb_and_more_is_414_in_oktas_shape(port: int, size: int) -> None:
    head, body = await _exchange(
        port, b"GET /api/v1/users?q=" + b"a" * size + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert head.startswith(b"HTTP/1.1 414 ")
    assert b"content-type: application/json" in head
    assert b"x-okta-request-id: " in head
    assert b"connection: close" in head
    error = json.loads(body)
    assert error["errorSummary"] == "The request URL is too long."
    assert error["errorId"]


async def test_a_url_under_the_limit_is_served(port: int) -> None:
    head, _ = await _exchange(
        port, b"GET /?q=" + b"a" * 30_000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert head.startswith(b"HTTP/1.1 200 ")


async def test_a_malformed_request_is_400_in_oktas_shape(port: int) -> None:
    head, body = await _exchange(port, b"GET / HTTP/1.1\r\nHost x\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert json.loads(body)["errorCode"] == "E0000003"
