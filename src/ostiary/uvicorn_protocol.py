"""uvicorn's HTTP protocol with two changes: what a connection writes in one event-loop
iteration leaves in one system call, and a request the HTTP parser refuses is answered in
Okta's JSON error shape (414 for a URL too long) instead of uvicorn's plain text.

uvicorn writes a response's head and its body with two ``transport.write`` calls, and
uvloop sends each at once: two system calls and two TCP segments for every small JSON
response. On loopback the sender's system call also runs the receiver's TCP path, so the
second write cost the token endpoint about a tenth of its CPU. :class:`CoalescingTransport`
joins the writes of one iteration and sends them at the start of the next (after the
current iteration's callbacks, before the loop next waits for I/O).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ostiary import ids
from ostiary.compact_json import dumps

LONG_URL_BYTES = 32 * 1024
"""A parser error while the URL read so far is this long is about the URL's length (the parser
gives up at 64 KiB)."""


class CoalescingTransport:
    """A transport that joins the writes of one loop iteration; everything else goes to
    the transport it wraps. Closing sends what is pending first; aborting drops it."""

    __slots__ = ("_chunks", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._chunks: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._chunks:
            self._loop.call_soon(self.flush)
        self._chunks.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        chunks = self._chunks
        if not chunks:
            return
        self._chunks = []
        if not self._transport.is_closing():
            self._transport.write(chunks[0] if len(chunks) == 1 else b"".join(chunks))

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._chunks))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._chunks = []
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a :class:`CoalescingTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]

    def send_400_response(self, msg: str) -> None:
        too_long = len(self.url) >= LONG_URL_BYTES
        self.transport.write(
            parser_error_response(414 if too_long else 400, self.server_state.default_headers)
        )
        self.transport.close()


def parser_error_response(status: int, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """A whole HTTP/1.1 response in Okta's error shape that closes the connection."""
    if status == 414:
        code, summary, reason = "E0000001", "The request URL is too long.", b"Request-URI Too Long"
    else:
        code, summary, reason = "E0000003", "The request was not well-formed HTTP.", b"Bad Request"
    body = dumps(
        {
            "errorCode": code,
            "errorSummary": summary,
            "errorLink": code,
            "errorId": ids.error_id(),
            "errorCauses": [],
        }
    )
    head = [b"HTTP/1.1 %d %s\r\n" % (status, reason)]
    head += [name + b": " + value + b"\r\n" for name, value in default_headers]
    head += [
        b"content-type: application/json\r\n",
        b"content-length: %d\r\n" % len(body),
        b"x-okta-request-id: " + ids.request_id().encode() + b"\r\n",
        b"connection: close\r\n\r\n",
    ]
    return b"".join(head) + body
