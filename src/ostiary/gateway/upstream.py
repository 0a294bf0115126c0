"""The gateway's HTTP/1.1 client for upstream calls: pooled keep-alive connections, responses
parsed by llhttp (``httptools``, the parser uvicorn serves with).

Why not aiohttp's client (which fetches the JWKS): a proxied call is a server-side request
plus a client-side one, and aiohttp's client objects, header multidicts and timers cost
about twice the CPU of this module per call (``bench/gateway.py`` prints the CPU per
request of each process). The gateway's upstream traffic is narrow: one request, a
fully-read request body, one response. That is all this client does:

- one write per request (head and body together), ``Content-Length`` always (never chunked);
- responses read with a read timeout between bytes (``sock_read`` semantics) and
  back-pressure on large bodies; 1xx interim responses skipped; HEAD answers never reuse
  the connection; a body delimited by the connection's end is read to EOF;
- a connection goes back to the pool only after a complete response that allows
  keep-alive; idle connections expire after ``idle_timeout`` seconds;
- a call on a *reused* connection that the upstream closed before answering a byte is
  retried once on a new connection, for idempotent methods only.
"""

from __future__ import annotations

import asyncio
import collections
import re
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools

IDEMPOTENT = frozenset({b"GET", b"HEAD", b"OPTIONS", b"PUT", b"DELETE", b"TRACE"})
HIGH_WATER = 256 * 1024
SMALL_BODY = 64 * 1024
"""A body up to this long is read whole before a callback caller is told (:meth:`_Connection.start`)."""
LOW_WATER = 64 * 1024

Headers = list[tuple[bytes, bytes]]


class UpstreamError(Exception):
    """The upstream could not be used: 502 for the caller."""


class UpstreamConnectError(UpstreamError):
    pass


class UpstreamTimeout(UpstreamError):
    """The upstream was too slow (connect or read): 504 for the caller."""


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int
    host_header: bytes
    base_path: str

    @classmethod
    def from_url(cls, url: str) -> Origin:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        default = 443 if parts.scheme == "https" else 80
        port = parts.port or default
        host = parts.hostname
        shown = f"[{host}]" if ":" in host else host
        header = shown if port == default else f"{shown}:{port}"
        return cls(parts.scheme, host, port, header.encode("idna"), parts.path.rstrip("/"))


class _Connection(asyncio.Protocol):
    """One upstream connection, carrying one exchange at a time."""

    def __init__(self, pool: UpstreamPool, origin: Origin) -> None:
        self.pool = pool
        self.origin = origin
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.reused = False
        self.last_used = self.loop.time()
        self.timer: asyncio.TimerHandle | None = None
        self._reset_exchange()

    def _reset_exchange(self) -> None:
        self.in_exchange = False
        self.head_request = False
        self.received_any = False
        self.interim = False
        self.final_seen = False
        self.trailing_data = False
        self.status = 0
        self.headers: Headers = []
        self.content_length: int | None = None
        self.until_eof = False
        self.headers_done: asyncio.Future[None] | None = None
        self.on_done: Callable[[], None] | None = None
        self.ready = False
        self.chunks: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.paused = False
        self.complete = False
        self.keep_alive = False
        self.error: UpstreamError | None = None
        self.body_waiter: asyncio.Future[None] | None = None
        self.read_timeout = 0.0
        self.last_activity = 0.0

    # ---- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses

    def data_received(self, data: bytes) -> None:
        if not self.in_exchange:
            self.close()  # bytes nobody asked for: this connection cannot be trusted any more
            return
        self.received_any = True
        self.last_activity = self.loop.time()
        if self.complete:
            self.trailing_data = True  # more than one response: never reuse this connection
            return
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            self._fail(UpstreamError(f"invalid HTTP response from the upstream: {exc!r}"))
            self.close()
            return
        if self.ready and self.on_done is not None:  # after the parser, never inside it
            self._done()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.in_exchange and not self.complete:
            if self.until_eof and exc is None:  # the final response's headers are in
                self.complete = True
                self.keep_alive = False
                self._wake()
            else:
                self._fail(UpstreamError("the upstream closed the connection"))
        self._cancel_timer()

    def pause_writing(self) -> None:  # requests are small; nothing to do
        pass

    def resume_writing(self) -> None:
        pass

    # ---- httptools callbacks

    def on_message_begin(self) -> None:
        if self.final_seen:
            self.trailing_data = True  # a second response in the same packet
            return
        self.headers = []
        self.content_length = None

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.trailing_data:
            self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        if self.trailing_data:
            return
        status = self.parser.get_status_code()
        if 100 <= status < 200:
            self.interim = True
            return
        self.final_seen = True
        self.status = status
        chunked = False
        for name, value in self.headers:
            if name == b"content-length":
                self.content_length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        no_body = self.head_request or status in (204, 304)
        self.until_eof = not no_body and not chunked and self.content_length is None
        if self.head_request:
            self.complete = True  # the parser would wait for a body: this connection is not reused
        if self.headers_done is not None and not self.headers_done.done():
            self.headers_done.set_result(None)
        length = self.content_length
        if self.head_request or length is None or length > SMALL_BODY:
            self.ready = True  # a callback caller relays it as it comes, not once complete

    def on_body(self, body: bytes) -> None:
        if self.complete or self.trailing_data:
            return
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > HIGH_WATER and not self.paused and self.transport is not None:
            self.transport.pause_reading()
            self.paused = True
        if self.body_waiter is not None:  # a call fewer when nobody waits (the usual case)
            self._wake()

    def on_message_complete(self) -> None:
        if self.interim:
            self.interim = False
            return
        if self.complete or self.trailing_data:  # a HEAD answer, or a response nobody asked for
            return
        self.complete = True
        self.keep_alive = self.parser.should_keep_alive()
        self.ready = True
        if self.body_waiter is not None:
            self._wake()

    # ---- the exchange

    async def exchange(self, request: bytes, head_request: bool, read_timeout: float) -> None:
        """Send ``request`` and wait for the response's headers."""
        self.start(request, head_request, read_timeout, None)
        self.headers_done = self.loop.create_future()
        await self.headers_done

    def start(
        self, request: bytes, head_request: bool, read_timeout: float, on_done: Callable[[], None] | None
    ) -> None:
        """:meth:`exchange` for a caller that waits with a callback, not a coroutine (the
        gateway's fast path, :mod:`.fast_path`: no task, future or coroutine per call).

        ``on_done`` runs once, from the event loop and never inside the parser, when the
        response is complete, or when its headers are in and its body may be large or of
        unknown length (then read it with :class:`UpstreamResponse` as after ``exchange``),
        or when the exchange failed (``error`` set)."""
        assert self.transport is not None
        self._reset_exchange()
        self.on_done = on_done
        self.in_exchange = True
        self.head_request = head_request
        self.read_timeout = read_timeout
        self.last_activity = now = self.loop.time()
        # One read timer per connection, left running between exchanges: when it fires early
        # (it was set for an earlier exchange) _on_timer moves it on. Scheduling and cancelling
        # a loop timer for every proxied call cost more than moving `last_activity`.
        timer = self.timer
        if timer is not None and timer.when() > now + read_timeout:  # a shorter timeout now
            timer.cancel()
            timer = None
        if timer is None:
            self.timer = self.loop.call_at(now + read_timeout, self._on_timer)
        self.transport.write(request)

    def _done(self) -> None:
        on_done = self.on_done
        self.on_done = None
        if on_done is not None:
            on_done()

    async def next_chunk(self) -> bytes | None:
        """The next piece of the body; ``None`` once it is complete."""
        while True:
            if self.chunks:
                chunk = self.chunks.popleft()
                self.buffered -= len(chunk)
                if self.paused and self.buffered < LOW_WATER and self.transport is not None:
                    self.transport.resume_reading()
                    self.paused = False
                return chunk
            if self.complete:
                return None
            if self.error is not None:
                raise self.error
            self.body_waiter = self.loop.create_future()
            await self.body_waiter

    def _wake(self) -> None:
        waiter = self.body_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        self.body_waiter = None

    def _fail(self, error: UpstreamError) -> None:
        if self.error is None:
            self.error = error
        if self.headers_done is not None and not self.headers_done.done():
            self.headers_done.set_exception(error)
        waiter = self.body_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self.body_waiter = None
        if self.on_done is not None:
            self._done()

    def _on_timer(self) -> None:
        self.timer = None
        if not self.in_exchange or self.complete or self.closed:
            return
        if self.paused:  # the reader is behind, not the upstream
            self.last_activity = self.loop.time()
        idle = self.loop.time() - self.last_activity
        if idle >= self.read_timeout:
            self._fail(UpstreamTimeout(f"no answer from the upstream for {self.read_timeout:g} s"))
            self.close()
        else:
            self.timer = self.loop.call_later(self.read_timeout - idle, self._on_timer)

    def _cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def finish(self) -> None:
        """End the exchange: back to the pool if the response is complete and allows it (the
        read timer stays for the next exchange, :meth:`exchange`; closing cancels it)."""
        reusable = (
            self.complete
            and self.keep_alive
            and not self.head_request
            and not self.trailing_data
            and self.error is None
            and not self.closed
            and not self.chunks
        )
        self.in_exchange = False
        if reusable:
            self.last_used = self.loop.time()
            self.pool.put_back(self)
        else:
            self.close()

    def close(self) -> None:
        self._cancel_timer()
        if self.transport is not None and not self.closed:
            self.transport.close()
        self.closed = True


class UpstreamResponse:
    """Status and headers of an upstream answer; read the body, then ``release()``."""

    __slots__ = ("_connection", "content_length", "headers", "status")

    def __init__(self, connection: _Connection) -> None:
        self._connection = connection
        self.status = connection.status
        self.headers = connection.headers
        self.content_length = connection.content_length

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        while (chunk := await self._connection.next_chunk()) is not None:
            yield chunk

    async def read(self) -> bytes:
        """The whole body. Straight from ``next_chunk`` rather than through :meth:`iter_chunks`:
        an async generator and a comprehension over it cost three Python calls per proxied
        request (``bench/gateway_calls.py``)."""
        next_chunk = self._connection.next_chunk
        parts: list[bytes] = []
        while (chunk := await next_chunk()) is not None:
            parts.append(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def body_if_complete(self) -> bytes | None:
        """The whole body if it has all arrived (the usual small answer), else None: then
        :meth:`read`. A coroutine fewer per call on the gateway's fast path."""
        connection = self._connection
        if not connection.complete or connection.error is not None or connection.paused:
            return None
        chunks = connection.chunks
        connection.buffered = 0
        if not chunks:
            return b""
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        return data

    def release(self) -> None:
        self._connection.finish()


_NOT_IN_TARGET = re.compile(rb"[\x00-\x20\x7f]")
_CONTROL_BUT_TAB = bytes([*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F])


def serialize_request(
    method: bytes, target: bytes, host_header: bytes, headers: Headers, body: bytes
) -> bytes:
    """The request head and body. A head with a control byte other than tab in a header name
    or value is refused (CR or LF would split the request).

    Seam for speed: the head is checked whole, once joined, by one C-level pass
    (``bytes.translate`` deleting every control byte but tab): exactly the CR LF pairs written
    here may go. A regular expression over the separately joined headers made this function
    cost 8.5-11.2 µs per proxied call with a 1 KB token, of the 60-90 µs of CPU the gateway
    spends on one (py-spy found it: 12.6 % of the gateway's samples); it now costs 2.9-3.6 µs,
    2.3-3.9 times less (``bench/gateway_serialize.py --base`` a tree of the old code, two runs).
    ``tests/unit/gateway/test_gateway_upstream.py`` tries every control byte in names, values
    and the host."""
    lines = [method, b" ", target, b" HTTP/1.1\r\nhost: ", host_header, b"\r\n"]
    for name, value in headers:
        lines += [name, b": ", value, b"\r\n"]
    line_ends = len(headers) + 3
    if body or method in (b"POST", b"PUT", b"PATCH"):
        lines += [b"content-length: ", str(len(body)).encode(), b"\r\n"]
        line_ends += 1
    lines.append(b"\r\n")
    head = b"".join(lines)
    if len(head) - len(head.translate(None, _CONTROL_BUT_TAB)) != 2 * line_ends:
        raise UpstreamError("refusing a control character in a request header")
    return head + body if body else head


class UpstreamPool:
    def __init__(self, *, idle_timeout: float = 4.0, max_idle_per_origin: int = 512) -> None:
        self.idle_timeout = idle_timeout
        self.max_idle_per_origin = max_idle_per_origin
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._ssl: ssl.SSLContext | None = None

    async def request(
        self,
        origin: Origin,
        method: bytes,
        target: bytes,
        headers: Headers,
        body: bytes,
        *,
        connect_timeout: float,
        read_timeout: float,
        retry: bool = True,
    ) -> UpstreamResponse:
        """Send one request and return once the response headers are in. ``retry=False``: no
        second attempt (the caller made the first, :meth:`_Connection.start`)."""
        request = self.prepare(origin, method, target, headers, body)
        for attempt in (1, 2) if retry else (2,):
            connection = self.take_idle(origin) or await self._connect(origin, connect_timeout)
            try:
                await connection.exchange(request, method == b"HEAD", read_timeout)
            except UpstreamError as error:
                connection.close()
                if attempt == 1 and self.may_retry(connection, method, error):
                    continue
                raise
            except BaseException:
                connection.close()
                raise
            return UpstreamResponse(connection)
        raise UpstreamError("unreachable")  # pragma: no cover

    @staticmethod
    def prepare(origin: Origin, method: bytes, target: bytes, headers: Headers, body: bytes) -> bytes:
        """The request's bytes; UpstreamError for a target or header that could split it."""
        if _NOT_IN_TARGET.search(target):
            raise UpstreamError("refusing a request target with spaces or control characters")
        return serialize_request(method, target, origin.host_header, headers, body)

    @staticmethod
    def may_retry(connection: _Connection, method: bytes, error: UpstreamError) -> bool:
        """Whether a failed first attempt on ``connection`` is tried again on another: a reused
        connection the upstream closed before answering a byte, for an idempotent method."""
        return (
            connection.reused
            and not connection.received_any
            and method in IDEMPOTENT
            and not isinstance(error, UpstreamTimeout)
        )

    def take_idle(self, origin: Origin) -> _Connection | None:
        """A pooled keep-alive connection to ``origin`` if one is idle (and fresh), else None."""
        idle = self._idle.get((origin.scheme, origin.host, origin.port))
        if not idle:
            return None
        now = asyncio.get_running_loop().time()
        while idle:
            connection = idle.pop()
            if connection.closed:
                continue
            if now - connection.last_used > self.idle_timeout:
                connection.close()
                for stale in idle:
                    stale.close()
                idle.clear()
                return None
            connection.reused = True
            return connection
        return None

    def put_back(self, connection: _Connection) -> None:
        origin = connection.origin
        idle = self._idle.setdefault((origin.scheme, origin.host, origin.port), [])
        if len(idle) >= self.max_idle_per_origin:
            connection.close()
            return
        idle.append(connection)

    async def _connect(self, origin: Origin, connect_timeout: float) -> _Connection:
        loop = asyncio.get_running_loop()
        ssl_context = self._ssl_context() if origin.scheme == "https" else None
        try:
            async with asyncio.timeout(connect_timeout):
                _, protocol = await loop.create_connection(
                    lambda: _Connection(self, origin),
                    origin.host,
                    origin.port,
                    ssl=ssl_context,
                    server_hostname=origin.host if ssl_context else None,
                )
        except TimeoutError as exc:
            raise UpstreamTimeout(
                f"connecting to {origin.host}:{origin.port} took over {connect_timeout:g} s"
            ) from exc
        except OSError as exc:
            raise UpstreamConnectError(f"cannot connect to {origin.host}:{origin.port}: {exc}") from exc
        return protocol

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    async def close(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()
