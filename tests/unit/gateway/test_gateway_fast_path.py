"""The gateway's fast path (``ostiary.gateway.fast_path``) behaves exactly as the ASGI path.

Two real gateways (uvicorn + uvloop, as ``ostiary gateway`` serves) on the same configuration
and the same recording upstream: one with the fast path's protocol, one with the plain
protocol (every request through ASGI). Each request is sent as raw bytes to both; the
upstream's copy of the request, the client's bytes of the answer (dates and ids blanked),
whether the connection stays open, and the metrics must be the same, and the fast path
must have answered the requests it is for.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httptools
import pytest
import uvicorn
import uvloop

from ostiary.gateway.config import parse_config
from ostiary.gateway.fast_path import GatewayHttpProtocol
from ostiary.gateway.proxy import Gateway, build_gateway_app
from ostiary.serving.uvicorn_protocol import CoalescingHttpToolsProtocol
from tests.support.gateway_loopback import JwksServer, free_port
from tests.support.jwt_factory import GOLD, SILVER, access_claims, jwks, rsa_key

KEY = rsa_key("rsa-1")

PLANETS = b'["mercury","venus","earth","mars"]'
ANSWERS: dict[str, bytes] = {
    "/api/plain": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n"
    b"Keep-Alive: timeout=5\r\nX-Custom: one\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
    b"X-Rate-Limit-Limit: 999\r\nAccess-Control-Allow-Origin: *\r\nVary: Accept\r\n"
    b"Content-Length: %d\r\n\r\n" % len(PLANETS) + PLANETS,
    "/api/created": b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nProxy-Authenticate: x\r\n\r\nok",
    "/api/empty": b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    "/api/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Kind: chunks\r\n\r\n"
    b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    "/api/nocontent": b"HTTP/1.1 204 No Content\r\nX-Kind: none\r\n\r\n",
    "/api/notmodified": b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n',
    "/api/big": b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000,
    "/api/error": b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nRetry-After: 3\r\n\r\nbusy",
    "/api/close": b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye",
    "/api/eof": b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
    "/api/broken": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
}
CLOSES_AFTER = {"/api/close", "/api/eof", "/api/broken"}


class RecordingUpstream(socketserver.ThreadingTCPServer):
    """An HTTP/1.1 upstream that records every request head it receives and answers with the
    scripted bytes of ``ANSWERS`` for its path (keep-alive unless the script closes)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.received: list[bytes] = []
        super().__init__(("127.0.0.1", 0), _UpstreamHandler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _UpstreamHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: RecordingUpstream = self.server  # type: ignore[assignment]
        buffer = b""
        drop_next = False
        while True:
            while b"\r\n\r\n" not in buffer:
                data = self.request.recv(65536)
                if not data:
                    return
                buffer += data
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            server.received.append(head)
            if drop_next:  # a pooled connection the upstream closed: no byte of an answer
                return
            method, target = head.split(b" ", 2)[:2]
            path = target.split(b"?")[0].decode()
            drop_next = path == "/api/drop-next"
            answer = ANSWERS.get(path, ANSWERS["/api/plain"])
            if method == b"HEAD":
                answer = answer.partition(b"\r\n\r\n")[0] + b"\r\n\r\n"
            self.request.sendall(answer)
            if path in CLOSES_AFTER:
                return


def config_dict(upstream: str, issuer: str) -> dict[str, Any]:
    return {
        "issuers": [{"issuer": issuer, "audiences": ["api://default"], "leeway": 0}],
        "routes": [
            {
                "path": "/api/*",
                "methods": ["GET", "POST"],
                "upstream": upstream,
                "scopes": {"all_of": [SILVER]},
            },
            {"path": "/gold/*", "upstream": upstream, "scopes": {"all_of": [GOLD]}},
            {"path": "/claims/*", "upstream": upstream + "/api", "strip_prefix": "/claims"},
            {"path": "/public/*", "upstream": upstream, "public": True},
            {"path": "/cors/*", "upstream": upstream, "cors": {"origins": ["https://app.example"]}},
            {"path": "/down/*", "upstream": f"http://127.0.0.1:{free_port()}"},
        ],
        "limits": {"max_request_body": 1024, "max_response_body": 1000},
        "timeouts": {"connect": 10, "read": 30},
        "metrics": {"enabled": True, "public": True},
    }


class CountingProtocol(GatewayHttpProtocol):
    """The fast path's protocol, counting the requests it answered itself."""

    taken = 0

    def _start_fast(self) -> bool:
        took = super()._start_fast()
        CountingProtocol.taken += took
        return took


class GatewayServer:
    """``ostiary gateway``'s uvicorn settings, in a thread with its own uvloop loop."""

    def __init__(self, app: Gateway, protocol: type) -> None:
        self.app = app
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        config = uvicorn.Config(
            app,
            http=protocol,
            lifespan="on",
            access_log=False,
            server_header=False,
            date_header=False,
            proxy_headers=False,
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=lambda: uvloop.run(self.server.serve(sockets=[self.sock])))

    def start(self) -> GatewayServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "gateway did not start"
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@dataclass
class Exchange:
    answer: bytes
    upstream_saw: list[bytes]
    stays_open: bool


# What differs between two answers by time or chance: dates, seconds to a rate-limit reset, ids.
BLANKED = re.compile(
    rb"(date: [^\r]*|retry-after: [^\r]*|\"errorId\":\"[^\"]*\"|x-okta-request-id: [^\r]*)", re.I
)


def read_answers(sock: socket.socket, count: int, head_only: bool) -> bytes:
    """The bytes of ``count`` answers (heads only for HEAD requests), read as framed."""
    data = b""
    if head_only:
        while data.count(b"\r\n\r\n") < count:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data
    done = 0

    class Callbacks:
        def on_message_complete(self) -> None:
            nonlocal done
            done += 1

    parser = httptools.HttpResponseParser(Callbacks())
    while done < count:
        chunk = sock.recv(65536)
        if not chunk:
            with contextlib.suppress(httptools.HttpParserError):
                parser.feed_data(b"")  # an answer delimited by the end of the connection
            break
        data += chunk
        parser.feed_data(chunk)
    return data


def exchange(port: int, upstream: RecordingUpstream, raw: bytes, count: int = 1) -> Exchange:
    seen = len(upstream.received)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        answer = read_answers(sock, count, head_only=raw.startswith(b"HEAD"))
        sock.settimeout(0.2)
        try:
            stays_open = sock.recv(1) != b""
        except TimeoutError:
            stays_open = True
    time.sleep(0.02)  # the upstream thread records before it answers; settle the list
    return Exchange(BLANKED.sub(b"-", answer), upstream.received[seen:], stays_open)


@pytest.fixture(scope="module")
def upstream() -> Iterator[RecordingUpstream]:
    server = RecordingUpstream()
    server.thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def idp() -> Iterator[JwksServer]:
    server = JwksServer().start()
    server.reset(jwks(KEY))
    yield server
    assert server.server is not None
    server.server.stop()


@pytest.fixture(scope="module")
def gateways(upstream: RecordingUpstream, idp: JwksServer) -> Iterator[tuple[GatewayServer, GatewayServer]]:
    config = parse_config(config_dict(upstream.url, idp.issuer))
    fast = GatewayServer(build_gateway_app(config), CountingProtocol)
    plain = GatewayServer(build_gateway_app(config), CoalescingHttpToolsProtocol)
    fast.start()
    plain.start()
    yield fast, plain
    fast.stop()
    plain.stop()


def without_access_log() -> None:
    """As ``ostiary gateway`` runs: no handler on uvicorn's access logger. pytest's log capture
    puts its handlers there for each test, and uvicorn's protocol then logs every request
    (and the fast path, which writes no access log, steps aside)."""
    access = logging.getLogger("uvicorn.access")
    access.handlers, access.propagate = [], False


def token(idp: JwksServer, scopes: list[str], **claims: Any) -> str:
    return KEY.sign(access_claims(issuer=idp.issuer, scopes=scopes, **claims))  # type: ignore[no-any-return]


def request(method: str, target: str, *headers: str, version: str = "1.1") -> bytes:
    lines = [f"{method} {target} HTTP/{version}", "Host: gateway.test", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def metrics(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request("GET", "/metrics", "Connection: close"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    lines = data.partition(b"\r\n\r\n")[2].splitlines()
    return b"\n".join(
        line
        for line in lines
        if line.startswith(b"ostiary_gateway_requests_total") and b"(metrics)" not in line
    )


def test_both_paths_give_the_same_upstream_request_and_client_answer(
    gateways: tuple[GatewayServer, GatewayServer], upstream: RecordingUpstream, idp: JwksServer
) -> None:
    without_access_log()
    fast, plain = gateways
    silver = token(idp, ["openid", SILVER], name="Carl Sagan")
    auth = f"Authorization: Bearer {silver}"
    never_verified = token(idp, ["openid", SILVER], jti="AT.other")
    spoofing = (
        "X-Forwarded-For: 10.0.0.1",
        "X_Forwarded_Host: evil.example",
        "Forwarded: for=10.0.0.1",
        "X-Real-IP: 10.0.0.2",
        "X-Subject: admin",
        "X-Client-Id: someone",
        "Connection: keep-alive, X-Drop-Me",
        "X-Drop-Me: yes",
        "Keep-Alive: timeout=1",
        "Te: trailers",
        "Cookie: c=1",
        "Accept: application/json",
        "Accept: text/plain",
        "X-Trailing-Space: kept   ",
    )
    cases: list[tuple[bytes, int, bool]] = [  # the request, answers expected, fast path expected
        (request("GET", "/api/plain?q=1&r=%20x", auth, *spoofing), 1, True),
        (request("HEAD", "/api/plain", auth), 1, True),
        (request("GET", "/api/created", auth), 1, True),
        (request("GET", "/api/empty", auth), 1, True),
        (request("GET", "/api/error", auth), 1, True),
        (request("GET", "/claims/plain", auth), 1, True),
        (request("GET", "/api/plain", "authorization: bearer " + silver), 1, True),
        (request("GET", "/api/plain", auth, "Connection: close"), 1, True),
        (request("GET", "/api/chunked", auth), 1, True),
        (request("GET", "/api/nocontent", auth), 1, True),
        (request("GET", "/api/notmodified", auth), 1, True),
        (request("GET", "/api/big", auth), 1, True),
        (request("HEAD", "/api/big", auth), 1, True),
        (request("GET", "/api/close", auth), 1, True),
        (request("GET", "/api/eof", auth), 1, True),
        (request("GET", "/api/broken", auth), 1, True),
        (request("GET", "/down/x", auth), 1, True),
        (request("GET", "/cors/plain", auth, "Origin: https://app.example"), 1, True),
        (request("GET", "/cors/plain", auth, "Origin: https://evil.example"), 1, True),
        (request("GET", "/cors/plain", auth), 1, True),
        (request("HEAD", "/cors/plain", auth, "Origin: https://app.example"), 1, True),
        (
            request(
                "OPTIONS", "/cors/plain", "Origin: https://app.example", "Access-Control-Request-Method: GET"
            ),
            1,
            False,
        ),
        (request("GET", "/api/drop-next", auth), 1, True),  # then the same, tried again
        (request("GET", "/api/created", auth), 1, True),
        (request("GET", "/api/plain", auth) + request("GET", "/api/created", auth), 2, True),
        # not for the fast path: the same answers through ASGI
        (request("GET", "/api/plain", f"Authorization: Bearer {never_verified}"), 1, False),
        (request("GET", "/api/plain"), 1, False),
        (request("GET", "/api/plain", "Authorization: Bearer "), 1, False),
        (request("GET", "/api/plain", auth, auth), 1, False),
        (request("GET", "/gold/plain", auth), 1, False),
        (request("GET", "/public/plain", auth), 1, False),
        (request("GET", "/api/pl%61in", auth), 1, False),
        (request("GET", "/api/../gold/plain", auth), 1, False),
        (request("GET", "/api/plain;x", auth), 1, False),
        (request("GET", "/nowhere", auth), 1, False),
        (request("DELETE", "/api/plain", auth), 1, False),
        (request("POST", "/api/plain", auth, "Content-Length: 2") + b"{}", 1, False),
        (request("GET", "/api/plain", auth, "Content-Length: 0"), 1, False),
        (request("GET", "/api/plain", auth, version="1.0"), 1, False),
    ]
    for port in (fast.port, plain.port):  # the token verified (and cached) by each gateway
        assert b" 200 OK" in exchange(port, upstream, request("GET", "/api/plain", auth)).answer
    before_fast, before_plain = metrics(fast.port), metrics(plain.port)
    for raw, count, expect_fast in cases:
        taken = CountingProtocol.taken
        via_fast = exchange(fast.port, upstream, raw, count)
        assert (CountingProtocol.taken > taken) == expect_fast, raw
        via_plain = exchange(plain.port, upstream, raw, count)
        assert via_fast == via_plain, raw
    assert before_fast == before_plain
    assert metrics(fast.port) == metrics(plain.port)
    taken = CountingProtocol.taken  # /metrics (its body differs: latencies) is the ASGI path's
    assert (
        b"ostiary_gateway_requests_total"
        in exchange(fast.port, upstream, request("GET", "/metrics", auth)).answer
    )
    assert CountingProtocol.taken == taken


def test_an_expired_cache_entry_is_not_used(
    gateways: tuple[GatewayServer, GatewayServer], upstream: RecordingUpstream, idp: JwksServer
) -> None:
    """A token past its ``exp`` (the cache keeps no entry past it) goes to the ASGI path: 401."""
    without_access_log()
    fast, _ = gateways
    now = int(time.time())
    short = token(idp, ["openid", SILVER], jti="AT.short", now=now, lifetime=2)
    auth = f"Authorization: Bearer {short}"
    assert b" 200 OK" in exchange(fast.port, upstream, request("GET", "/api/plain", auth)).answer
    taken = CountingProtocol.taken
    assert b" 200 OK" in exchange(fast.port, upstream, request("GET", "/api/plain", auth)).answer
    assert CountingProtocol.taken == taken + 1
    time.sleep(max(0.0, now + 2 - time.time()) + 0.2)  # leeway 0
    refused = exchange(fast.port, upstream, request("GET", "/api/plain", auth))
    assert refused.answer.startswith(b"HTTP/1.1 401 ")
    assert refused.upstream_saw == []
    assert CountingProtocol.taken == taken + 1


def test_a_reload_drops_the_remembered_routes(
    gateways: tuple[GatewayServer, GatewayServer], idp: JwksServer
) -> None:
    """Routes the fast path remembered belong to one configuration: a reload starts afresh."""
    fast, _ = gateways
    state = fast.app.state
    assert ("GET", "/api/plain") in state.fast_routes
    fast.app.apply(fast.app.config)
    assert fast.app.state is not state
    assert fast.app.state.fast_routes == {}


def test_a_pooled_connection_the_upstream_closed_is_tried_again(
    gateways: tuple[GatewayServer, GatewayServer], upstream: RecordingUpstream, idp: JwksServer
) -> None:
    """The fast path's own first attempt (no task) fails on a reused connection that got no
    byte back: it is sent once more on another connection, as ``UpstreamPool.request`` does."""
    without_access_log()
    fast, _ = gateways
    auth = f"Authorization: Bearer {token(idp, ['openid', SILVER], jti='AT.retry')}"
    exchange(fast.port, upstream, request("GET", "/api/plain", auth))  # verified, then cached
    assert b" 200 OK" in exchange(fast.port, upstream, request("GET", "/api/drop-next", auth)).answer
    taken = CountingProtocol.taken
    again = exchange(fast.port, upstream, request("GET", "/api/created", auth))
    assert again.answer.startswith(b"HTTP/1.1 201 Created")
    assert [head.split(b"\r\n")[0] for head in again.upstream_saw] == [b"GET /api/created HTTP/1.1"] * 2
    assert CountingProtocol.taken == taken + 1


def test_the_in_process_rate_limit_counts_and_refuses_as_on_the_asgi_path(
    upstream: RecordingUpstream, idp: JwksServer
) -> None:
    """With ``rate_limit.per_client_per_minute`` the fast path counts each call, sends the
    ``X-Rate-Limit-*`` headers in place of the upstream's, and a refused call gets the same 429."""
    without_access_log()
    config = parse_config(
        config_dict(upstream.url, idp.issuer) | {"rate_limit": {"per_client_per_minute": 3}}
    )
    fast = GatewayServer(build_gateway_app(config), CountingProtocol).start()
    plain = GatewayServer(build_gateway_app(config), CoalescingHttpToolsProtocol).start()
    try:
        auth = f"Authorization: Bearer {token(idp, ['openid', SILVER], jti='AT.limited')}"
        if time.time() % 60 > 55:  # both gateways' calls in the same one-minute window
            time.sleep(60 - time.time() % 60 + 0.1)
        taken = CountingProtocol.taken
        answers = []
        for raw in [request("GET", "/api/plain", auth)] * 4 + [request("GET", "/gold/plain", auth)]:
            via_fast = exchange(fast.port, upstream, raw)
            via_plain = exchange(plain.port, upstream, raw)
            assert via_fast == via_plain, raw
            answers.append(via_fast.answer.split(b"\r\n\r\n")[0])
        assert CountingProtocol.taken == taken + 3  # the first verifies; the scope refusal is ASGI's
        assert [a.split(b"\r\n")[0] for a in answers] == [b"HTTP/1.1 200 OK"] * 3 + [
            b"HTTP/1.1 429 Too Many Requests",
            b"HTTP/1.1 403 Forbidden",
        ]
        assert b"x-rate-limit-remaining: 0" in answers[2]
        assert b"x-rate-limit-limit: 3" in answers[2] and b"999" not in answers[2]
        assert metrics(fast.port) == metrics(plain.port)
    finally:
        fast.stop()
        plain.stop()


def test_an_unexpected_error_is_answered_as_uvicorn_answers_it_on_the_asgi_path(
    gateways: tuple[GatewayServer, GatewayServer], upstream: RecordingUpstream, idp: JwksServer
) -> None:
    """An exception inside the fast path's callback (here: the metrics) is a 500 with the
    connection closed, as uvicorn's ``run_asgi`` makes of one in the ASGI app."""
    without_access_log()
    fast, plain = gateways
    auth = f"Authorization: Bearer {token(idp, ['openid', SILVER], jti='AT.boom')}"
    raw = request("GET", "/api/plain", auth)
    for server in (fast, plain):
        exchange(server.port, upstream, raw)  # verified, then cached

    def boom(route: str, seconds: float) -> None:
        raise RuntimeError("boom")

    for server in (fast, plain):
        server.app.metrics.observe_upstream = boom  # type: ignore[method-assign]
    try:
        taken = CountingProtocol.taken
        via_fast = exchange(fast.port, upstream, raw)
        via_plain = exchange(plain.port, upstream, raw)
    finally:
        for server in (fast, plain):
            del server.app.metrics.observe_upstream
    assert CountingProtocol.taken == taken + 1
    assert via_fast == via_plain
    assert via_fast.answer.startswith(b"HTTP/1.1 500 Internal Server Error")
    assert not via_fast.stays_open
