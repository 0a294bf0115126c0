"""Which client a token request is from, read cheaply and *unverified*, only to pick its
rate-limit bucket (security review F3: limits on the token endpoint by org + client).

Okta caps what one OAuth 2.0 app may take of an org-wide bucket ("Token and OAuth 2.0 app rate
limits": by default half of it), so that one runaway or abused client cannot use up the token
endpoint for every other app of the org. ``EdgeMiddleware`` counts each token request against
``token_client`` under ``{org}:c:{client id}`` on top of the per-org/IP ``oauth2`` bucket; a
request that names no client counts under ``{org}:ip:{address}``.

The client id comes from, in this order: ``Authorization: Basic`` (the form-encoded id before
``:``), the form's or query's ``client_id``, a ``client_assertion``'s ``sub`` (else ``iss``),
read without checking its signature. Nothing here authenticates: the token endpoint does that
afterwards, and a request that lies about its client only spends that client's bucket as well as
its own address's. The body is read here (at most :data:`PEEK_LIMIT` bytes) and handed on
unchanged through a replaying ``receive``.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import unquote_plus

from starlette.types import Message, Receive

PEEK_LIMIT = 64 * 1024
"""The token endpoint's own form cap (``params.MAX_FORM_BYTES``): a larger body is refused there,
so its client does not matter here."""
TOKEN_BODY = "ostiary.token_body"
"""Key in ``scope["state"]`` of the whole body read here, so that ``http.fast_routes`` does not
read it a second time through the replaying ``receive``."""
MAX_CLIENT_ID = 128
"""Longer "client ids" name no client of any org: such requests count by address."""
MAX_ASSERTION = 8 * 1024
_SUB = re.compile(rb'"sub"\s*:\s*"([^"\\]{1,128})"')
_ISS = re.compile(rb'"iss"\s*:\s*"([^"\\]{1,128})"')


async def read_body(receive: Receive) -> tuple[bytes | None, Receive]:
    """The request body (``None`` when over :data:`PEEK_LIMIT` or cut off) and a ``receive``
    that delivers every message read here, then the rest from ``receive``."""
    messages: list[Message] = []
    size = 0
    complete = False
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if size > PEEK_LIMIT:
            break
        if not message.get("more_body", False):
            complete = True
            break
    body = None
    if complete:
        body = (
            messages[0].get("body", b"")
            if len(messages) == 1
            else b"".join(m.get("body", b"") for m in messages)
        )

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return body, replay


def client_id_of(authorization: str | None, query: bytes, body: bytes | None) -> str | None:
    """The client a token request names (see the module docstring), or ``None``."""
    client_id = _basic_client_id(authorization) if authorization else None
    if client_id is None and body:
        text = body.decode("latin-1")
        client_id = _param(text, "client_id")
        if client_id is None:
            assertion = _param(text, "client_assertion")
            client_id = _assertion_subject(assertion) if assertion else None
    if client_id is None and query:
        client_id = _param(query.decode("latin-1"), "client_id")
    if not client_id or len(client_id) > MAX_CLIENT_ID:
        return None
    return client_id


def _param(text: str, name: str) -> str | None:
    """The value of the first ``name=`` pair of a form-encoded ``text``, decoded."""
    prefix = name + "="
    if text.startswith(prefix):
        start = len(prefix)
    else:
        found = text.find("&" + prefix)
        if found == -1:
            return None
        start = found + 1 + len(prefix)
    end = text.find("&", start)
    value = text[start:] if end == -1 else text[start:end]
    return unquote_plus(value) if "%" in value or "+" in value else value


def _basic_client_id(authorization: str) -> str | None:
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "basic" or not credentials or len(credentials) > 4 * MAX_CLIENT_ID + 1024:
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("latin-1")
    except (binascii.Error, ValueError):
        return None
    client_id = decoded.partition(":")[0]
    return unquote_plus(client_id) if "%" in client_id or "+" in client_id else client_id


def _assertion_subject(assertion: str) -> str | None:
    """The ``sub`` (else ``iss``) string of a compact JWS's payload, found with a pattern rather
    than a JSON parser (a third of the cost): it only picks a bucket, and a payload that hides
    the claim (escapes, odd spacing) just counts by address."""
    if len(assertion) > MAX_ASSERTION:
        return None
    first = assertion.find(".")
    second = assertion.find(".", first + 1)
    if first == -1 or second == -1:
        return None
    payload = assertion[first + 1 : second].replace("-", "+").replace("_", "/")
    try:
        claims = binascii.a2b_base64(payload + "=" * (-len(payload) % 4))
    except (binascii.Error, ValueError):
        return None
    found = _SUB.search(claims) or _ISS.search(claims)
    return found[1].decode("latin-1") if found else None
