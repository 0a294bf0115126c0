"""The coalescing transport under uvicorn's protocol: one system call per loop iteration's
writes, nothing lost or reordered on close, nothing sent after an abort."""

from __future__ import annotations

import asyncio
from typing import Any

from ostiary.serving.uvicorn_protocol import CoalescingTransport


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any]] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.calls.append(("write", bytes(data)))

    def close(self) -> None:
        self.calls.append(("close", None))
        self.closing = True

    def abort(self) -> None:
        self.calls.append(("abort", None))
        self.closing = True

    def write_eof(self) -> None:
        self.calls.append(("write_eof", None))

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 10

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 4321)}.get(name, default)


async def _next_iteration() -> None:
    await asyncio.sleep(0)
    await asyncio.sleep(0)


async def test_the_writes_of_one_iteration_leave_in_one_call_and_in_order() -> None:
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    transport.write(memoryview(b'{"a":1}'))
    transport.write(b"")
    assert inner.calls == []
    assert transport.get_write_buffer_size() == 10 + 19 + 7
    await _next_iteration()
    assert inner.calls == [("write", b'HTTP/1.1 200 OK\r\n\r\n{"a":1}')]
    transport.writelines([b"x", b"y"])
    await _next_iteration()
    assert inner.calls[-1] == ("write", b"xy")


async def test_close_and_write_eof_send_what_is_pending_first() -> None:
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"last words")
    transport.write_eof()
    transport.write(b"after eof")
    transport.close()
    assert inner.calls == [
        ("write", b"last words"),
        ("write_eof", None),
        ("write", b"after eof"),
        ("close", None),
    ]
    await _next_iteration()
    assert len(inner.calls) == 4


async def test_abort_drops_what_is_pending_and_a_closed_transport_gets_no_write() -> None:
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"never sent")
    transport.abort()
    await _next_iteration()
    assert inner.calls == [("abort", None)]
    transport.write(b"too late")
    await _next_iteration()
    assert inner.calls == [("abort", None)]


async def test_everything_else_is_the_wrapped_transports() -> None:
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    assert transport.get_extra_info("peername") == ("127.0.0.1", 4321)
    assert transport.is_closing() is False


async def test_an_upgrade_request_is_served_as_http_without_a_warning() -> None:
    """ws="none" (``WEBSOCKETS``): uvicorn logged two warnings per request asking to upgrade,
    which let any client fill the log; the request is answered, one debug line at most."""
    import logging
    import socket

    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from ostiary.serving.uvicorn_protocol import WEBSOCKETS, CoalescingHttpToolsProtocol

    async def hello(_request: Any) -> PlainTextResponse:
        return PlainTextResponse("hello")

    app = Starlette(routes=[Route("/", hello)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, http=CoalescingHttpToolsProtocol, ws=WEBSOCKETS, lifespan="off", log_level="debug"
    )
    server = uvicorn.Server(config)
    config.load()
    server.lifespan = config.lifespan_class(config)
    await server.startup(sockets=[sock])
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("uvicorn.error")  # the protocol's logger; it does not propagate
    logger.addHandler(handler)
    try:
        reader, writer = await asyncio.open_connection(*sock.getsockname())
        for _ in range(3):
            writer.write(
                b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            )
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            assert head.startswith(b"HTTP/1.1 200")
            assert await reader.readexactly(5) == b"hello"
        writer.close()
        assert [r.getMessage() for r in records if r.levelno >= logging.WARNING] == []
        assert any("Upgrade" in r.getMessage() for r in records)  # the debug line
    finally:
        logger.removeHandler(handler)
        await server.shutdown()
