"""Bearer tokens in HTTP (RFC 6750): reading the token, the scopes it grants, and answering 401/403
challenges.

The gateway and the resource library answer the same way:

- no token (or another scheme such as Basic): ``401`` and ``WWW-Authenticate: Bearer
  realm="ostiary"`` with no error attributes (RFC 6750 §3.1);
- a bad token: ``401`` and ``error="invalid_token", error_description="..."``;
- a good token without the scopes: ``403`` and ``error="insufficient_scope", scope="..."``;
- more than one ``Authorization`` header: ``400`` and ``error="invalid_request"`` (§3.1: a
  malformed request; which copy would count is up to each reader, so none does);

each with a JSON body ``{"error": ..., "error_description": ...}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

REALM = "ostiary"
_UNSAFE_IN_ATTRIBUTE = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive).

    ``None`` when there is no header or it uses another scheme; ``""`` for ``Bearer`` with
    no token (which is an invalid token, not a missing one).
    """
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def granted_scopes(claims: Mapping[str, Any]) -> list[str]:
    """Scopes in the order the token lists them: Okta's ``scp`` array, or a space-separated
    ``scp``/``scope`` string."""
    for name in ("scp", "scope"):
        value = claims.get(name)
        if isinstance(value, list):
            return [s for s in value if isinstance(s, str)]
        if isinstance(value, str):
            return value.split()
    return []


def _attribute(value: str) -> str:
    return _UNSAFE_IN_ATTRIBUTE.sub("", value)


class BearerError(HTTPException):
    """An RFC 6750 error. A Starlette ``HTTPException``, so any Starlette or FastAPI app answers
    it with the right status and ``WWW-Authenticate`` even without ``bearer_error_handler``."""

    def __init__(
        self,
        status_code: int,
        error: str | None,
        description: str,
        *,
        scope: str | None = None,
        realm: str = REALM,
    ) -> None:
        self.error = error
        self.description = description
        self.scope = scope
        self.realm = realm
        super().__init__(status_code, detail=description, headers={"WWW-Authenticate": self.challenge})

    @property
    def challenge(self) -> str:
        parts = [f'realm="{_attribute(self.realm)}"']
        if self.error:
            parts.append(f'error="{self.error}"')
            parts.append(f'error_description="{_attribute(self.description)}"')
        if self.scope:
            parts.append(f'scope="{_attribute(self.scope)}"')
        return "Bearer " + ", ".join(parts)

    @property
    def body(self) -> bytes:
        return json.dumps(
            {"error": self.error or "invalid_token", "error_description": self.description},
            separators=(",", ":"),
        ).encode()

    def raw_headers(self, extra: Iterable[tuple[bytes, bytes]] = ()) -> list[tuple[bytes, bytes]]:
        body = self.body
        return [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", self.challenge.encode("latin-1")),
            (b"cache-control", b"no-store"),
            *extra,
        ]


def missing_token(realm: str = REALM) -> BearerError:
    return BearerError(401, None, "An access token is required.", realm=realm)


def invalid_token(description: str, realm: str = REALM) -> BearerError:
    return BearerError(401, "invalid_token", description, realm=realm)


def invalid_request(description: str, realm: str = REALM) -> BearerError:
    return BearerError(400, "invalid_request", description, realm=realm)


def authorization_header_count(headers: Iterable[tuple[bytes, bytes]]) -> int:
    """How many ``Authorization`` header lines an ASGI request has (a plain loop: this runs on
    every gateway call, and a generator costs a resumption per header)."""
    count = 0
    for name, _ in headers:
        if name == b"authorization":
            count += 1
    return count


TWO_AUTHORIZATION_HEADERS = "The request has more than one Authorization header."


def insufficient_scope(needed: str, realm: str = REALM) -> BearerError:
    return BearerError(
        403,
        "insufficient_scope",
        "The access token does not have the scopes this resource requires.",
        scope=needed,
        realm=realm,
    )


def bearer_error_response(error: BearerError) -> Response:
    response = Response(error.body, status_code=error.status_code, media_type="application/json")
    response.headers["WWW-Authenticate"] = error.challenge
    response.headers["Cache-Control"] = "no-store"
    return response


async def bearer_error_handler(request: Request, exc: Exception) -> Response:
    """Register as ``exception_handlers={BearerError: bearer_error_handler}`` for the JSON body."""
    assert isinstance(exc, BearerError)
    return bearer_error_response(exc)
