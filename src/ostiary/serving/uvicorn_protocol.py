"""uvicorn's HTTP protocol with two changes: what a connection writes in one event-loop
iteration leaves in one system call, a client that is slow to send its request is cut off, and
a request the HTTP parser refuses is answered in Okta's JSON error shape (414 for a URL too
long) instead of uvicorn's plain text.

uvicorn writes a response's head and its body with two ``transport.write`` calls, and
uvloop sends each at once: two system calls and two TCP segments for every small JSON
response. On loopback the sender's system call also runs the receiver's TCP path, so the
second write cost the token endpoint about a tenth of its CPU. :class:`CoalescingTransport`
joins the writes of one iteration and sends them at the start of the next (after the
current iteration's callbacks, before the loop next waits for I/O).

uvicorn times out a connection only while it is idle *after* a response (keep-alive). A
connection that never sends a request, sends its headers a byte at a time, or stops in the
middle of its body was held open for as long as the client liked, so a few hundred of them
used up the process's file descriptors (slowloris). :class:`CoalescingHttpToolsProtocol`
gives each request ``OSTIARY_READ_TIMEOUT`` seconds (default 10) to arrive whole up to the
end of its headers, and the same for each pause while its body arrives.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ostiary import ids
from ostiary.compact_json import dumps

LONG_URL_BYTES = 32 * 1024
"""A parser error while the URL read so far is this long is about the URL's length (the parser
gives up at 64 KiB)."""

WEBSOCKETS = "none"
"""uvicorn's ``ws`` option for the org server: no WebSocket protocol. The server has no WebSocket
route, so a request asking to upgrade is served as the HTTP request it also is (RFC 9110 lets a
server ignore ``Upgrade``) instead of being upgraded only to be closed with a 403. Why: with
``ws="auto"`` uvicorn imports ``websockets`` at start, 40-50 ms of CPU on this 2-core VM (``time
python -c 'import uvicorn, uvicorn.protocols.websockets.auto'`` against ``import uvicorn``), about
3 % of ``serve --memory``'s exec to first token, and a few MB of every worker's RSS."""
READ_TIMEOUT_ENV = "OSTIARY_READ_TIMEOUT"
DEFAULT_READ_TIMEOUT = 10


def read_timeout_seconds(env: Mapping[str, str]) -> int:
    """``OSTIARY_READ_TIMEOUT`` in whole seconds, 0 for no timeout; the default where it is
    unset or unusable (``ostiary serve`` and ``ostiary gateway`` refuse such a value at start,
    naming the variable, before any connection is made)."""
    text = env.get(READ_TIMEOUT_ENV, "").strip()
    return int(text) if text.isascii() and text.isdigit() else DEFAULT_READ_TIMEOUT


@cache
def _read_timeout() -> int:
    """Read once per process: uvicorn builds its protocol with no room for our settings."""
    return read_timeout_seconds(os.environ)


class CoalescingTransport:
    """A transport that joins the writes of one loop iteration; everything else goes to
    the transport it wraps. Closing sends what is pending first; aborting drops it."""

    __slots__ = ("_chunks", "_loop", "_transport", "is_closing")

    is_closing: Callable[[], bool]
    """The wrapped transport's own method, bound once: uvicorn asks it on every request, and a
    method here (or ``__getattr__``) cost a Python call each time (``bench/gateway_calls.py``)."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._chunks: list[bytes] = []
        self.is_closing = transport.is_closing

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
    """uvicorn's httptools protocol over a :class:`CoalescingTransport`, with a read deadline.

    The deadline runs from the connection's start (or a request's first byte) to the end of
    the request's headers, and again over each pause in its body. A connection that has sent
    nothing of a request is closed when it passes; one that has sent part of one gets ``408``
    first. While uvicorn has paused reading (the app is slow, not the client) it is re-armed.
    """

    read_timer: asyncio.TimerHandle | None = None
    read_deadline: float | None = None
    """When the read timer runs out (loop time), or None while no read is timed."""
    reading_request = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
        self._arm_read_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_read_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.reading_request = True
        # _arm_read_timer, inline: it runs on every request (a Python call fewer each,
        # bench/gateway_calls.py); keep the two the same.
        seconds = _read_timeout()
        if seconds:
            self.read_deadline = self.loop.time() + seconds
            if self.read_timer is None:
                self.read_timer = self.loop.call_at(self.read_deadline, self._read_timer_fired)

    def on_headers_complete(self) -> None:
        self.read_deadline = None  # _disarm_read_timer, inline: a call fewer per request
        super().on_headers_complete()
        if self.parser is not None and self._expects_body() and not self.transport.is_closing():
            self._arm_read_timer()

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm_read_timer()

    def on_message_complete(self) -> None:
        self.reading_request = False
        self.read_deadline = None  # _disarm_read_timer, inline: a call fewer per request
        super().on_message_complete()

    def _expects_body(self) -> bool:
        for name, value in self.headers:
            if name == b"content-length":
                return value.strip() not in (b"", b"0")
            if name == b"transfer-encoding":
                return True
        return False

    def _arm_read_timer(self) -> None:
        """The deadline is now + the timeout. A timer is only scheduled when none is pending: one
        pending for an earlier deadline moves itself on when it fires (:meth:`_read_timer_fired`).

        Why: arming and disarming run up to three times per request (begin, headers, each body
        chunk); scheduling and cancelling a loop timer each time cost about 1 % of the token
        endpoint's event loop under ``bench/token.py`` (py-spy), moving a float costs nothing."""
        seconds = _read_timeout()
        if not seconds:
            return
        self.read_deadline = self.loop.time() + seconds
        if self.read_timer is None:
            self.read_timer = self.loop.call_at(self.read_deadline, self._read_timer_fired)

    def _disarm_read_timer(self) -> None:
        self.read_deadline = None  # a pending timer finds no deadline and stops

    def _cancel_read_timer(self) -> None:
        self.read_deadline = None
        if self.read_timer is not None:
            self.read_timer.cancel()
            self.read_timer = None

    def _read_timer_fired(self) -> None:
        self.read_timer = None
        deadline = self.read_deadline
        if deadline is None:
            return
        if self.loop.time() < deadline:
            self.read_timer = self.loop.call_at(deadline, self._read_timer_fired)
            return
        self.read_deadline = None
        self._read_timed_out()

    def _read_timed_out(self) -> None:
        if self.transport.is_closing():
            return
        if self.flow is not None and self.flow.read_paused:
            self._arm_read_timer()
            return
        cycle = self.cycle
        answering = cycle is not None and cycle.response_started and not cycle.response_complete
        if self.reading_request and not answering:
            self.transport.write(parser_error_response(408, self.server_state.default_headers))
        self.transport.close()

    def _unsupported_upgrade_warning(self) -> None:
        """An ``Upgrade`` this server does not do is served as the plain HTTP request it also is
        (RFC 9110 §7.8 lets a server ignore it). uvicorn logged two warnings per such request,
        so any client could fill the log at will; one debug line instead."""
        self.logger.debug("Upgrade request served as plain HTTP (no upgrade).")

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
    elif status == 408:
        code, summary, reason = "E0000003", "The request did not arrive in time.", b"Request Timeout"
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
