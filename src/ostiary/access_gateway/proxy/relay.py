"""The request to a protected resource and its answer back (aiohttp's client).

Sent: the method, the checked path re-encoded (the path the policy was chosen for is the
only one the upstream can read), the raw query, the client's headers less hop-by-hop ones,
client-sent ``Forwarded``/``X-Forwarded-*``/``X-Real-IP``, and whatever
:mod:`.attributes` reserves; then the gateway's ``X-Forwarded-For/-Proto/-Host``, the
session's attributes and ``X-Ostiary-Assertion``. The ``Host`` header is the public
domain (``usePublicDomainAsHostHeader``), else ``hostHeaderValue``, else the resource's.
Redirects are passed through, never followed; bodies are streamed both ways.

Errors: no connection → 502; no answer within ``proxyReadTimeout`` seconds between two
reads → 504 (after the answer has started, the connection is cut); a request body over
``maxFileSize`` → 413.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, urlsplit

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from ostiary.access_gateway.proxy.attributes import Headers, clean_cookie_header, fold
from ostiary.access_gateway.proxy.config import ProxyApp, Resource

PATH_SAFE: Final = "/:@!$&'()*+,;=-._~"
HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
NOT_FORWARDED: Final = HOP_BY_HOP | {"host", "content-length", "expect", "forwarded", "x-real-ip"}
RESPONSE_DROPPED: Final = frozenset(n.encode() for n in HOP_BY_HOP)
CONNECT_TIMEOUT: Final = 10.0

Receive = Any
Send = Any


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    """The client disconnected while sending its body."""


class UpstreamFailed(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind
        """``connect`` (502) or ``timeout`` (504)."""


@dataclass(frozen=True)
class Outgoing:
    method: str
    url: URL
    headers: CIMultiDict[str]


def upstream_request(
    scope: dict[str, Any],
    app: ProxyApp,
    resource: Resource,
    *,
    reserved: frozenset[str],
    own_cookies: tuple[str, ...],
    identity: Headers,
    identity_cookies: list[str],
) -> Outgoing:
    path: str = scope["path"]
    query: bytes = scope.get("query_string", b"")
    target = resource.hostname + quote(path, safe=PATH_SAFE)
    if query:
        target += "?" + query.decode("latin-1")
    headers: CIMultiDict[str] = CIMultiDict()
    connection_tokens: set[str] = set()
    cookies: list[str] = []
    public_host = ""
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name == "connection":
            connection_tokens.update(t.strip().lower() for t in value.split(","))
            continue
        if name == "host":
            public_host = value
            continue
        folded = fold(name)
        if folded in NOT_FORWARDED or folded in reserved or folded.startswith("x-forwarded-"):
            continue
        if name == "cookie":
            cleaned = clean_cookie_header(value, reserved, own_cookies)
            if cleaned:
                cookies.append(cleaned)
            continue
        headers.add(name, value)
    for token in connection_tokens:
        headers.popall(token, None)
    cookies.extend(identity_cookies)
    if cookies:
        headers["cookie"] = "; ".join(cookies)
    client = scope.get("client")
    if client:
        headers["x-forwarded-for"] = str(client[0])
    headers["x-forwarded-proto"] = str(scope.get("scheme", "http"))
    if public_host:
        headers["x-forwarded-host"] = public_host
    for name_b, value_b in identity:
        headers[name_b.decode("latin-1")] = value_b.decode("latin-1")
    if app.use_public_domain_as_host_header:
        headers["host"] = app.public_domain
    elif app.host_header_value:
        headers["host"] = app.host_header_value
    else:
        headers["host"] = urlsplit(resource.hostname).netloc
    return Outgoing(scope["method"], URL(target, encoded=True), headers)


async def read_body(scope: dict[str, Any], receive: Receive, limit: int | None) -> bytes:
    """The whole request body; :class:`BodyTooLarge` beyond ``limit`` bytes (checked on
    ``Content-Length`` first, then on what arrives)."""
    for name, value in scope["headers"]:
        if name == b"content-length" and limit is not None:
            try:
                if int(value) > limit:
                    raise BodyTooLarge
            except ValueError:
                pass
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def stream_body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


def _has_body(scope: dict[str, Any]) -> bool:
    return any(n in (b"content-length", b"transfer-encoding") for n, _ in scope["headers"])


async def relay(
    http: aiohttp.ClientSession,
    outgoing: Outgoing,
    scope: dict[str, Any],
    receive: Receive,
    send: Send,
    *,
    limit: int | None,
    read_timeout: float,
    extra_response_headers: Headers = (),  # type: ignore[assignment]
) -> int:
    """Proxy one request; the status sent. Raises :class:`BodyTooLarge` or
    :class:`UpstreamFailed` before anything is sent to the client."""
    data: Any = None
    if _has_body(scope):
        data = await read_body(scope, receive, limit) if limit is not None else stream_body(receive)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT, sock_read=read_timeout)
    try:
        response = await http.request(
            outgoing.method,
            outgoing.url,
            headers=outgoing.headers,
            data=data,
            allow_redirects=False,
            timeout=timeout,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        )
    except (TimeoutError, aiohttp.ServerTimeoutError):
        raise UpstreamFailed("timeout") from None
    except aiohttp.ClientError:
        raise UpstreamFailed("connect") from None
    try:
        headers = [(n.lower(), v) for n, v in response.raw_headers if n.lower() not in RESPONSE_DROPPED]
        headers.extend(extra_response_headers)
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        async for chunk in response.content.iter_any():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return response.status
    finally:
        response.release()
