"""One gate for untrusted input: the path, the query string and the body of every request.

:class:`InputGuard` runs before the router (and before the token endpoint's fast path), so an
endpoint cannot forget it. Input it refuses gets 400 in the endpoint's error shape (OAuth's under
``/oauth2/`` and ``/.well-known/``, Okta's elsewhere) and reaches no handler, so nothing changes.

The rules are the ones a store or an encoder would otherwise trip over with a 500:

- text is UTF-8 (no UTF-16 or Latin-1 bodies; a percent-escape must decode to UTF-8, so ``%FF``
  is refused instead of becoming U+FFFD), without NUL (PostgreSQL refuses it in text) and without
  lone surrogates (``"\\ud800"`` in JSON: no UTF-8 encoder takes it);
- JSON is at most :data:`MAX_JSON_DEPTH` deep, its integers fit in 64 bits and its numbers are
  finite (``NaN``, ``Infinity``, ``1e999`` are refused).

:func:`parse_json` is also what :func:`ostiary.http.requests.json_object` parses with, and it
reuses the value the guard parsed (:data:`PARSED_JSON`), so a JSON body is parsed once.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ostiary.compact_json import dumps
from ostiary.http.errors import oauth_error_body, okta_error_body

MAX_JSON_DEPTH = 64
INT64 = (-(2**63), 2**63 - 1)
PARSED_JSON = "ostiary.parsed_json"
"""Key in ``scope["state"]`` of the body parsed by the guard: ``(raw bytes, value)``."""

_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")
_OAUTH_PREFIXES = ("/oauth2/", "/.well-known/")
_FORM = "application/x-www-form-urlencoded"


class BadInput(ValueError):
    """Input no endpoint may see; ``where`` names the part (``body``, ``query``, ``path``)."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where} {reason}")
        self.where, self.reason = where, reason


def check_text(value: str, where: str) -> str:
    found = _BAD_CHARS.search(value)
    if found is not None:
        kind = "NUL character" if found.group() == "\x00" else "unpaired surrogate"
        raise BadInput(where, f"contains a {kind}")
    return value


def decode_component(raw: bytes, where: str) -> str:
    """A percent-encoded URL or form component (``+`` is a space) as text, strictly."""
    try:
        text = unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(where, "is not valid UTF-8 once percent-decoded") from None
    return check_text(text, where)


def check_urlencoded(raw: bytes, where: str) -> None:
    """A query string or form body: every name and value decodes to clean UTF-8 text. Decoding
    the whole at once is the same test: a UTF-8 sequence cannot span a literal ``&`` or ``=``."""
    if raw.isascii() and b"%" not in raw and b"\x00" not in raw:
        return  # ASCII without escapes: nothing to decode
    decode_component(raw, where)


def check_path(scope: Scope) -> None:
    raw = scope.get("raw_path")
    if raw is None:
        check_text(scope["path"], "path")
        return
    if not (raw.isascii() and b"%" not in raw and b"\x00" not in raw):
        try:
            text = unquote_to_bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput("path", "is not valid UTF-8 once percent-decoded") from None
        check_text(text, "path")


def parse_json(raw: bytes) -> Any:
    """``raw`` as JSON under the rules above, or :class:`BadInput`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("body", "is not valid UTF-8") from None
    try:
        value = json.loads(text, parse_int=_int64, parse_float=_finite, parse_constant=_no_constant)
    except RecursionError:
        raise BadInput("body", f"is nested deeper than {MAX_JSON_DEPTH} levels") from None
    except BadInput:
        raise
    except ValueError:
        raise BadInput("body", "is not well-formed JSON") from None
    _check_tree(value)
    return value


def _int64(literal: str) -> int:
    value = int(literal) if len(literal) <= 20 else INT64[1] + 1
    if not INT64[0] <= value <= INT64[1]:
        raise BadInput("body", "has an integer outside the 64-bit range")
    return value


def _finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise BadInput("body", "has a number out of range")
    return value


def _no_constant(literal: str) -> Any:
    raise BadInput("body", f"has {literal}, which is not JSON")


def _check_tree(value: Any) -> None:
    """Depth, keys and strings of a parsed document, without recursion."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            check_text(node, "body")
        elif isinstance(node, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise BadInput("body", f"is nested deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(node, dict):
                for key, item in node.items():
                    check_text(key, "body")
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in node)


def check_body(raw: bytes, content_type: str, state: dict[str, Any]) -> None:
    """A form body decodes cleanly; a JSON body parses under the rules (kept in ``state`` for
    :func:`ostiary.http.requests.json_object`); any other body is UTF-8 text without NUL."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == _FORM:
        check_urlencoded(raw, "body")
    elif media == "application/json" or media.endswith("+json"):
        if raw.strip():
            state[PARSED_JSON] = (raw, parse_json(raw))
    else:
        try:
            check_text(raw.decode("utf-8"), "body")
        except UnicodeDecodeError:
            raise BadInput("body", "is not valid UTF-8") from None


class InputGuard:
    """ASGI middleware applying the rules to every HTTP request before the app sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_path(scope)
            check_urlencoded(scope.get("query_string", b""), "query")
        except BadInput as exc:
            await refuse(scope, send, exc)
            return
        content_type = _content_type_if_body(scope)
        if content_type is None:
            await self.app(scope, receive, send)
            return
        body = await read_whole_body(receive)
        try:
            check_body(body, content_type, scope.setdefault("state", {}))
        except BadInput as exc:
            await refuse(scope, send, exc)
            return
        await self.app(scope, _replay(body, receive), send)


def _content_type_if_body(scope: Scope) -> str | None:
    """The request's Content-Type ("" if none) when it has a body, else ``None``."""
    content_type, has_body = "", False
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value.decode("latin-1")
        elif name == b"content-length":
            has_body = has_body or value.strip() not in (b"", b"0")
        elif name == b"transfer-encoding":
            has_body = True
    return content_type if has_body else None


async def read_whole_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)  # the client went away; the app sees an empty or partial body
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` that hands over the buffered body once, then defers to the server's."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def refuse(scope: Scope, send: Send, exc: BadInput) -> None:
    """400 in the shape of the endpoint the request was for."""
    headers = [(b"content-type", b"application/json")]
    if scope["path"].startswith(_OAUTH_PREFIXES):
        payload: dict[str, Any] = oauth_error_body("invalid_request", f"The request's {exc}.")
        headers += [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
    elif exc.where == "body":
        payload = okta_error_body("E0000003", "The request body was not well-formed.", [str(exc)])
    else:
        payload = okta_error_body("E0000001", f"Api validation failed: {exc.where}", [str(exc)])
    content = dumps(payload)
    headers.append((b"content-length", str(len(content)).encode()))
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": content})
