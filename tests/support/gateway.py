"""A real gateway (uvicorn on a loopback port) in front of an upstream that records what it got.

Requests are sent with ``http.client`` so the request target and the header lines reach the
gateway byte for byte (``httpx`` would normalise ``..`` and merge nothing, but it is an
HTTP client that tidies paths; an attacker's is not).
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ostiary.gateway.config import parse_config
from ostiary.gateway.proxy import Gateway
from tests.support.gateway_loopback import JwksServer, LoopbackServer
from tests.support.jwt_factory import access_claims, jwks, rsa_key

KEY = rsa_key("rsa-1")


@dataclass
class Seen:
    """One request as the upstream received it."""

    raw_path: str
    path: str
    headers: list[tuple[str, str]]

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]


@dataclass
class RecordingUpstream:
    seen: list[Seen] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.seen.append(
            Seen(
                raw_path=scope["raw_path"].decode("latin-1"),
                path=scope["path"],
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            )
        )
        body = json.dumps({"path": scope["path"]}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body)


def send_raw(port: int, target: str, headers: Sequence[tuple[str, str]] = (), method: str = "GET") -> Answer:
    """One request with exactly this target and these header lines (repeats kept)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return Answer(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


def token_for(
    issuer: str, scopes: list[str] | None = None, *, headers: dict[str, Any] | None = None, **claims: Any
) -> str:
    return KEY.sign(access_claims(issuer=issuer, scopes=scopes, **claims), headers=headers)


def bearer(token: str) -> tuple[str, str]:
    return ("Authorization", f"Bearer {token}")


@contextmanager
def running_gateway(config: dict[str, Any]) -> Iterator[LoopbackServer]:
    app = Gateway(parse_config(config))
    server = LoopbackServer(app, lifespan="on")
    server.server.config.proxy_headers = False  # as ``ostiary gateway`` runs it (gateway/server.py)
    server.start()
    try:
        yield server
    finally:
        server.stop(force=False)


@contextmanager
def issuer_and_upstream() -> Iterator[tuple[JwksServer, LoopbackServer, RecordingUpstream]]:
    idp = JwksServer(jwks=jwks(KEY)).start()
    recorder = RecordingUpstream()
    upstream = LoopbackServer(recorder).start()
    try:
        yield idp, upstream, recorder
    finally:
        upstream.stop()
        idp.stop()
