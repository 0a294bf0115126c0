"""Specification of the gateway's upstream HTTP/1.1 client (``ostiary.gateway.upstream``),
against raw TCP servers that misbehave on purpose and the loopback solar-system upstream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from ostiary.gateway.upstream import (
    Origin,
    UpstreamConnectError,
    UpstreamError,
    UpstreamPool,
    UpstreamTimeout,
    serialize_request,
)
from tests.support.gateway_loopback import LoopbackServer, free_port, upstream_app

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


class RawServer:
    """A TCP server whose handler gets ``(reader, writer, request number on this connection)``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> RawServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def origin(self) -> Origin:
        return Origin.from_url(f"http://127.0.0.1:{self.port}")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                number += 1
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if length:
                    await reader.readexactly(length)
                await self.handler(reader, writer, number)
                if writer.is_closing():
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
GENEROUS = 10.0
"""Timeouts of calls whose timing is not under test: a loaded CI machine must not fail them."""


async def fetch(
    pool: UpstreamPool,
    origin: Origin,
    method: bytes = b"GET",
    body: bytes = b"",
    *,
    read_timeout: float = GENEROUS,
) -> tuple[int, bytes]:
    response = await pool.request(
        origin,
        method,
        b"/x",
        [(b"accept", b"*/*")],
        body,
        connect_timeout=GENEROUS,
        read_timeout=read_timeout,
    )
    try:
        return response.status, await response.read()
    finally:
        response.release()


@pytest.fixture
async def pool() -> AsyncIterator[UpstreamPool]:
    upstream_pool = UpstreamPool()
    yield upstream_pool
    await upstream_pool.close()


async def test_connections_are_kept_alive_and_reused(pool: UpstreamPool) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> None:
        writer.write(OK)

    async with RawServer(answer) as server:
        for _ in range(3):
            assert await fetch(pool, server.origin) == (200, b"ok")
        assert server.connections == 1


async def test_a_connection_the_upstream_dropped_is_retried_for_idempotent_calls(pool: UpstreamPool) -> None:
    async def one_answer_per_connection(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int
    ) -> None:
        if n == 1:
            writer.write(OK)
        else:
            writer.close()  # the keep-alive race: closed just as the next request came

    async with RawServer(one_answer_per_connection) as server:
        assert await fetch(pool, server.origin) == (200, b"ok")
        assert await fetch(pool, server.origin) == (200, b"ok")
        assert server.connections == 2


async def test_a_dropped_connection_is_not_retried_for_post(pool: UpstreamPool) -> None:
    async def one_answer_per_connection(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int
    ) -> None:
        if n == 1:
            writer.write(OK)
        else:
            writer.close()

    async with RawServer(one_answer_per_connection) as server:
        await fetch(pool, server.origin, b"POST", b"{}")
        with pytest.raises(UpstreamError):
            await fetch(pool, server.origin, b"POST", b"{}")


async def test_connection_close_from_the_upstream_is_honoured(pool: UpstreamPool) -> None:
    async def closing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()

    async with RawServer(closing) as server:
        assert await fetch(pool, server.origin) == (200, b"ok")
        assert await fetch(pool, server.origin) == (200, b"ok")
        assert server.connections == 2


async def test_interim_1xx_answers_are_skipped(pool: UpstreamPool) -> None:
    async def early_hints(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n" + OK)

    async with RawServer(early_hints) as server:
        response = await pool.request(
            server.origin, b"GET", b"/", [], b"", connect_timeout=GENEROUS, read_timeout=GENEROUS
        )
        assert response.status == 200 and (b"link", b"</a.css>; rel=preload") not in response.headers
        assert await response.read() == b"ok"
        response.release()


async def test_a_body_delimited_by_the_connection_end_is_read_to_eof(pool: UpstreamPool) -> None:
    async def until_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\n\r\nhello ")
        await writer.drain()
        writer.write(b"world")
        await writer.drain()
        writer.close()

    async with RawServer(until_close) as server:
        assert await fetch(pool, server.origin) == (200, b"hello world")


async def test_chunked_bodies_are_decoded(pool: UpstreamPool) -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")

    async with RawServer(chunked) as server:
        assert await fetch(pool, server.origin) == (200, b"abcde")


async def test_a_second_response_in_the_same_packet_never_reaches_the_next_caller(pool: UpstreamPool) -> None:
    async def smuggling(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(OK + b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nevil")

    async with RawServer(smuggling) as server:
        assert await fetch(pool, server.origin) == (200, b"ok")
        assert await fetch(pool, server.origin) == (200, b"ok")
        assert server.connections == 2


async def test_head_answers_do_not_wait_for_a_body(pool: UpstreamPool) -> None:
    async def head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")

    async with RawServer(head) as server:
        assert await fetch(pool, server.origin, b"HEAD") == (200, b"")


async def test_a_garbled_answer_is_an_upstream_error(pool: UpstreamPool) -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(b"SMTP ready\r\n\r\n")

    async with RawServer(garbage) as server:
        with pytest.raises(UpstreamError, match="invalid HTTP response"):
            await fetch(pool, server.origin)


async def test_a_101_switch_is_refused(pool: UpstreamPool) -> None:
    async def upgrade(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n")

    async with RawServer(upgrade) as server:
        with pytest.raises(UpstreamError):
            await fetch(pool, server.origin)


async def test_silence_after_the_headers_is_a_read_timeout(pool: UpstreamPool) -> None:
    released = asyncio.Event()

    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")
        await released.wait()  # the rest of the body never comes while the client waits

    async with RawServer(stall) as server:
        try:
            with pytest.raises(UpstreamTimeout):
                await fetch(pool, server.origin, read_timeout=0.2)
        finally:
            released.set()


async def test_a_refused_connection_is_a_connect_error(pool: UpstreamPool) -> None:
    with pytest.raises(UpstreamConnectError):
        await fetch(pool, Origin.from_url(f"http://127.0.0.1:{free_port()}"))


def test_header_values_with_line_breaks_are_refused() -> None:
    with pytest.raises(UpstreamError):
        serialize_request(b"GET", b"/", b"h", [(b"x-a", b"1\r\nx-injected: 2")], b"")


CONTROL_BYTES = [bytes([b]) for b in (*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F)]


@pytest.mark.parametrize("control", CONTROL_BYTES, ids=lambda b: f"0x{b[0]:02x}")
@pytest.mark.parametrize("where", ["value", "name", "host"])
def test_every_control_byte_in_a_header_is_refused(control: bytes, where: str) -> None:
    name, value, host = b"x-a", b"1", b"up:8082"
    if where == "value":
        value = b"a" + control + b"b"
    elif where == "name":
        name = b"x-" + control
    else:
        host = b"up" + control
    with pytest.raises(UpstreamError):
        serialize_request(b"GET", b"/", host, [(b"accept", b"*/*"), (name, value)], b"")


def test_a_tab_and_bytes_above_ascii_pass_in_a_header_value() -> None:
    request = serialize_request(b"GET", b"/", b"h", [(b"x-a", b"1\t\xe9\x80\xff")], b"\r\n\x00")
    head = b"GET / HTTP/1.1\r\nhost: h\r\nx-a: 1\t\xe9\x80\xff\r\ncontent-length: 3\r\n\r\n"
    assert request == head + b"\r\n\x00"


def test_requests_always_carry_their_length() -> None:
    request = serialize_request(b"POST", b"/p?q=1", b"up:8082", [(b"content-type", b"text/plain")], b"hi")
    assert request == (
        b"POST /p?q=1 HTTP/1.1\r\nhost: up:8082\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nhi"
    )


def test_the_host_header_omits_the_default_port() -> None:
    assert Origin.from_url("https://api.example/base/").host_header == b"api.example"
    assert Origin.from_url("https://api.example/base/").base_path == "/base"
    assert Origin.from_url("http://[::1]:8082").host_header == b"[::1]:8082"


# ---------------------------------------------------------------- against a real upstream


@pytest.fixture(scope="module")
def upstream() -> Iterator[LoopbackServer]:
    server = LoopbackServer(upstream_app()).start()
    yield server
    server.stop()


async def test_a_large_body_is_streamed_with_back_pressure(
    pool: UpstreamPool, upstream: LoopbackServer
) -> None:
    origin = Origin.from_url(upstream.url)
    response = await pool.request(
        origin, b"GET", b"/stream/2000000", [], b"", connect_timeout=GENEROUS, read_timeout=GENEROUS
    )
    received = 0
    async for chunk in response.iter_chunks():
        received += len(chunk)
        await asyncio.sleep(0)  # a slow reader
    response.release()
    assert received == 2_000_000


async def test_concurrent_calls_each_get_their_own_answer(
    pool: UpstreamPool, upstream: LoopbackServer
) -> None:
    origin = Origin.from_url(upstream.url)

    async def grade(student: int) -> bytes:
        target = f"/grades/{student}".encode()
        # Generous timeouts: this checks that answers never mix, not speed on a loaded CI machine.
        response = await pool.request(origin, b"GET", target, [], b"", connect_timeout=10, read_timeout=20)
        try:
            return await response.read()
        finally:
            response.release()

    answers = await asyncio.gather(*(grade(n) for n in range(100)))
    assert answers == [f'{{"student_id":"{n}"}}'.encode() for n in range(100)]
