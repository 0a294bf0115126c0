"""Why a token must not be trusted: ``TokenInvalid`` and its two kinds, raised by the JWS, JWT
claim and JWKS modules (``reason`` for metrics and logs, ``description`` for the caller)."""

from __future__ import annotations


class TokenInvalid(Exception):
    """The token must not be trusted. ``reason`` is a short stable code (for metrics and logs);
    ``description`` is safe to show the caller in ``error_description``."""

    def __init__(self, reason: str, description: str | None = None) -> None:
        super().__init__(description or reason)
        self.reason = reason
        self.description = description or reason.replace("_", " ")


class UnsignedToken(TokenInvalid):
    """The token is not signed: ``alg: none``, or an empty signature segment. The reason and
    description are the verifier's; client authentication answers it with its own wording."""


class KeysUnavailable(TokenInvalid):
    """The issuer's keys could not be fetched and none are cached: the token cannot be checked."""

    def __init__(self, description: str = "the issuer's signing keys are unavailable") -> None:
        super().__init__("jwks_unavailable", description)
