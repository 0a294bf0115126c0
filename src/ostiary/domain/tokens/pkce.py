"""Proof Key for Code Exchange (RFC 7636): challenge checks at ``/authorize``, verification at ``/token``.

``S256`` is the only method, for every client (RFC 9700 §2.1.1; discovery advertises only
``S256``): ``plain`` sends the verifier through the front channel. A challenge without a method
means ``plain`` (RFC 7636 §4.3), so it is refused too.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Final

from ostiary.domain.oauth_errors import INVALID_REQUEST, OAuthError
from ostiary.jose.b64 import b64url_encode

S256: Final = "S256"
PLAIN: Final = "plain"
_SHAPE: Final = re.compile(r"[A-Za-z0-9._~-]{43,128}")


class PkceError(OAuthError):
    """An ``invalid_request`` about PKCE, with Okta's wording."""

    def __init__(self, description: str) -> None:
        super().__init__(INVALID_REQUEST, description)


def s256(verifier: str) -> str:
    """``BASE64URL(SHA256(ASCII(code_verifier)))`` without padding (§4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return b64url_encode(digest)


def check_challenge(challenge: str | None, method: str | None, *, public: bool, required: bool) -> str | None:
    """The method to store with ``challenge`` (None without PKCE); raises :class:`PkceError`."""
    if not challenge:
        if method:
            raise PkceError(
                "The `code_challenge` parameter is required when `code_challenge_method` is given."
            )
        if required:
            raise PkceError(
                "PKCE code challenge is required when the token endpoint authentication method is 'NONE'."
                if public
                else "PKCE code challenge is required by the application."
            )
        return None
    if method is None:
        raise PkceError(
            "The `code_challenge_method` parameter is required with a `code_challenge`. Use 'S256'."
        )
    if method == PLAIN:
        raise PkceError("The PKCE code challenge method 'plain' is not allowed. Use 'S256'.")
    if method != S256:
        raise PkceError(f"The PKCE code challenge method '{method}' is not supported. Use 'S256'.")
    if not _SHAPE.fullmatch(challenge):
        raise PkceError("The `code_challenge` is invalid: 43 to 128 characters of [A-Z a-z 0-9 - . _ ~].")
    return method


def well_formed_verifier(verifier: str) -> bool:
    """43 to 128 characters of the unreserved set (§4.1)."""
    return _SHAPE.fullmatch(verifier) is not None


def verify(verifier: str | None, challenge: str | None, method: str | None) -> bool:
    """Whether ``verifier`` answers the stored challenge (a code without one takes no verifier)."""
    if challenge is None:
        return not verifier
    if method != S256 or not verifier or not _SHAPE.fullmatch(verifier):
        return False  # a ``plain`` challenge stored before it was refused does not verify
    return hmac.compare_digest(s256(verifier).encode("ascii"), challenge.encode("ascii"))
