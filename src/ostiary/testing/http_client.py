"""A few lines of ``http.client``: one request, no redirects followed, an optional CA."""

from __future__ import annotations

import base64
import http.client
import json as jsonlib
import ssl
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import urlencode, urlsplit


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


class HttpError(AssertionError):
    """An answer the helper did not expect (an ``AssertionError``, so pytest shows it plainly)."""

    def __init__(self, what: str, reply: Reply) -> None:
        super().__init__(f"{what}: HTTP {reply.status} {reply.body[:500].decode('utf-8', 'replace')}")
        self.reply = reply


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    json: Any = None,
    form: dict[str, str] | None = None,
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = 30.0,
) -> Reply:
    parts = urlsplit(url)
    sent = {"Accept": "application/json", **(headers or {})}
    body: bytes | None = None
    if json is not None:
        body, sent["Content-Type"] = jsonlib.dumps(json).encode(), "application/json"
    elif form is not None:
        body, sent["Content-Type"] = urlencode(form).encode(), "application/x-www-form-urlencoded"
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.netloc, timeout=timeout, context=ssl_context)
    else:
        conn = http.client.HTTPConnection(parts.netloc, timeout=timeout)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target or "/", body=body, headers=sent)
        response = conn.getresponse()
        return Reply(response.status, response.msg, response.read())
    finally:
        conn.close()
