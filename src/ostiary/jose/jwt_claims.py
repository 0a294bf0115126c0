"""Registered JWT claims (RFC 7519 §4.1): ``iss``, ``aud``, ``exp``, ``nbf`` and ``iat``."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from ostiary.jose.token_errors import TokenInvalid


def _numeric(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenInvalid("malformed", f"the {name} claim is not a number")
    return float(value)


def check_claims(
    claims: Mapping[str, Any],
    *,
    issuer: str,
    audience: str | Sequence[str] | None,
    leeway: int = 30,
    now: float | None = None,
    required_claims: Sequence[str] = ("exp", "iat"),
) -> None:
    """Registered claims (RFC 7519 §4.1). ``audience=None`` skips the audience check."""
    for name in required_claims:
        if name not in claims:
            raise TokenInvalid("missing_claim", f"the token has no {name} claim")
    if claims.get("iss") != issuer:
        raise TokenInvalid("wrong_issuer", "the token was not issued by an accepted issuer")
    if audience is not None:
        accepted = {audience} if isinstance(audience, str) else set(audience)
        aud = claims.get("aud")
        token_audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if not any(isinstance(a, str) and a in accepted for a in token_audiences):
            raise TokenInvalid("wrong_audience", "the token is not meant for this audience")
    current = time.time() if now is None else now
    exp, nbf, iat = _numeric(claims, "exp"), _numeric(claims, "nbf"), _numeric(claims, "iat")
    if exp is not None and current >= exp + leeway:
        raise TokenInvalid("expired", "the token has expired")
    if nbf is not None and current + leeway < nbf:
        raise TokenInvalid("not_yet_valid", "the token is not valid yet")
    if iat is not None and current + leeway < iat:
        raise TokenInvalid("issued_in_future", "the token was issued in the future")
