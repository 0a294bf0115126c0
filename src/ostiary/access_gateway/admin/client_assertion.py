"""The admin API's client assertion (RFC 7523 §3, private_key_jwt) as the seed describes it.

RS256 only; ``iss`` = ``sub`` = client id; ``aud`` = the public URL's origin; ``exp`` in the
future and at most an hour away; ``iat``, when present, not in the future; a ``scope``
string. The header needs no ``kid`` (the seed's header is ``{alg, typ}``); a ``kid`` that is
present must be the client's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ostiary.jose.jwk import KeySet
from ostiary.jose.jws import ParsedToken, check_signature, parse_token
from ostiary.jose.token_errors import TokenInvalid

ALG = "RS256"
MAX_LIFETIME = 3600
LEEWAY = 30


class AssertionRejected(ValueError):
    """Why an assertion was refused (never shown with the assertion itself)."""


def unverified(assertion: str) -> ParsedToken:
    try:
        parsed = parse_token(assertion, kid_optional=True)
    except TokenInvalid as exc:
        raise AssertionRejected(exc.description or "the client assertion is malformed") from None
    if parsed.header.get("alg") != ALG:
        raise AssertionRejected("the client assertion must be signed with RS256")
    return parsed


def claimed_client_id(parsed: ParsedToken) -> str:
    iss, sub = parsed.claims.get("iss"), parsed.claims.get("sub")
    if not isinstance(iss, str) or not iss or iss != sub:
        raise AssertionRejected("the client assertion's iss and sub must both be the client id")
    return iss


def verify(parsed: ParsedToken, client: Mapping[str, Any], *, audience: str, now: float) -> None:
    """Signature and claims; raises :class:`AssertionRejected`."""
    kid = client["kid"]
    if "kid" in parsed.header and parsed.header["kid"] != kid:
        raise AssertionRejected("the client assertion's kid is not the client's key")
    keys = KeySet.from_jwks({"keys": [{**client["public_jwk"], "kid": kid, "alg": ALG}]})
    try:
        check_signature(dataclasses.replace(parsed, header={**parsed.header, "kid": kid}), keys)
    except TokenInvalid:
        raise AssertionRejected("the client assertion's signature is invalid") from None
    _check_claims(parsed.claims, audience=audience, now=now)


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AssertionRejected(f"the client assertion's {name} must be a number")
    return float(value)


def _check_claims(claims: Mapping[str, Any], *, audience: str, now: float) -> None:
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if not any(isinstance(a, str) and a.rstrip("/").lower() == audience for a in audiences):
        raise AssertionRejected(f"the client assertion's aud must be {audience}")
    exp = _number(claims, "exp")
    if exp is None:
        raise AssertionRejected("the client assertion has no exp")
    if exp <= now:
        raise AssertionRejected("the client assertion has expired")
    if exp > now + MAX_LIFETIME + LEEWAY:
        raise AssertionRejected("the client assertion's exp is more than one hour away")
    iat = _number(claims, "iat")
    if iat is not None and iat > now + LEEWAY:
        raise AssertionRejected("the client assertion's iat is in the future")
    nbf = _number(claims, "nbf")
    if nbf is not None and nbf > now + LEEWAY:
        raise AssertionRejected("the client assertion is not valid yet")
    if not isinstance(claims.get("scope"), str) or not claims["scope"].strip():
        raise AssertionRejected("the client assertion has no scope claim")
    jti = claims.get("jti")
    if jti is not None and (not isinstance(jti, str) or not jti):
        raise AssertionRejected("the client assertion's jti must be a non-empty string")
