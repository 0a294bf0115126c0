"""``X-Ostiary-Assertion``: a short-lived ES256 JWT the gateway adds to every proxied request
(and forward-auth answer), so an upstream can check that the identity headers really come
from the gateway, as Google IAP's ``x-goog-iap-jwt-assertion`` and Cloudflare Access's
``Cf-Access-Jwt-Assertion`` allow.

Claims: ``iss`` the gateway's public URL, ``aud`` the app's public origin, ``sub`` the
user's id in the org, ``email``, ``groups`` (names), ``iat`` and ``exp`` (60 s later).
The keys are behind :class:`AssertionKeys` (generated at start by default; a persistent
implementation can be added) and published by :func:`jwks_app` at
``/api/v2/.well-known/jwks.json`` on the admin origin.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any, Final, Protocol

from ostiary.jose.signer import encode_jwt
from ostiary.jose.signing_keys import SigningKey, generate_signing_key

HEADER: Final = "x-ostiary-assertion"
LIFETIME: Final = 60
JWKS_PATH: Final = "/api/v2/.well-known/jwks.json"


class AssertionKeys(Protocol):
    def signing_key(self) -> SigningKey:
        """The key new assertions are signed with."""

    def verification_keys(self) -> Sequence[SigningKey]:
        """Every key an assertion still in flight may be signed with (published in the JWKS)."""


class EphemeralAssertionKeys:
    """One P-256 key generated when the gateway starts (assertions live 60 s, so a restart
    only invalidates assertions already on their way)."""

    def __init__(self, key: SigningKey | None = None) -> None:
        self._key = key or generate_signing_key("ES256")

    def signing_key(self) -> SigningKey:
        return self._key

    def verification_keys(self) -> Sequence[SigningKey]:
        return (self._key,)


def assertion_claims(
    *, issuer: str, audience: str, sub: str, email: str | None, groups: Sequence[str], now: int | None = None
) -> dict[str, Any]:
    issued = int(time.time()) if now is None else now
    return {
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "email": email,
        "groups": list(groups),
        "iat": issued,
        "exp": issued + LIFETIME,
    }


def sign_assertion(keys: AssertionKeys, claims: dict[str, Any]) -> str:
    """ES256 costs tens of microseconds: signed inline."""
    return encode_jwt(claims, keys.signing_key(), typ="JWT")


def jwks_document(keys: AssertionKeys) -> dict[str, Any]:
    return {"keys": [key.public_jwk() for key in keys.verification_keys()]}


def jwks_app(keys: AssertionKeys) -> Any:
    """A plain ASGI app answering ``GET`` (and ``HEAD``) with the JWKS; mount it at
    :data:`JWKS_PATH` on the admin origin."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] not in ("GET", "HEAD"):
            await send({"type": "http.response.start", "status": 405, "headers": [(b"allow", b"GET, HEAD")]})
            await send({"type": "http.response.body", "body": b""})
            return
        body = json.dumps(jwks_document(keys)).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"cache-control", b"max-age=300"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})

    return app
