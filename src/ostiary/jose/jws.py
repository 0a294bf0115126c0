"""Compact JWS (RFC 7515): parse a token, check its header, check its signature.

The header rules are RFC 8725's: ``alg`` must be present and not ``none``; ``jku``, ``jwk``
and ``x5u`` are refused (nothing here fetches or trusts a key a token names); ``crit`` is
refused (no extension is understood); JSON with a duplicate member is refused. The key is
chosen only by an exact ``kid`` match and the token's ``alg`` must equal the key's pinned one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ostiary.jose.b64 import b64url_decode
from ostiary.jose.jwk import KeySet, VerificationKey
from ostiary.jose.token_errors import TokenInvalid, UnsignedToken

MAX_TOKEN_BYTES = 8 * 1024
FORBIDDEN_HEADERS = ("jku", "jwk", "x5u")

_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_UNSIGNED_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.")
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}


@dataclass(frozen=True)
class ParsedToken:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def kid(self) -> str:
        return str(self.header["kid"])


def _no_duplicate_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f"duplicate member {name!r}")
        result[name] = value
    return result


def _json_object(segment: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(segment), object_pairs_hook=_no_duplicate_members)
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenInvalid("malformed", f"the token {what} is not valid base64url JSON") from exc
    if not isinstance(value, dict):
        raise TokenInvalid("malformed", f"the token {what} is not a JSON object")
    return value


def parse_token(token: str, *, kid_optional: bool = False) -> ParsedToken:
    """Split and decode a compact JWS and check its header; the signature is *not* checked here.

    ``kid_optional`` admits a header without ``kid`` (client assertions: the okta SDK sends one
    only when configured); a ``kid`` that is present must still be a non-empty string. An
    unsigned token raises :class:`UnsignedToken`.
    """
    if len(token) > MAX_TOKEN_BYTES:
        raise TokenInvalid("too_large", "the token is too large")
    if not _TOKEN_SHAPE.fullmatch(token):
        shape_error = UnsignedToken if _UNSIGNED_SHAPE.fullmatch(token) else TokenInvalid
        raise shape_error("malformed", "the token is not a compact JWS")
    header_b64, claims_b64, signature_b64 = token.split(".")
    header = _json_object(header_b64, "header")
    check_header(header, kid_optional=kid_optional)
    claims = _json_object(claims_b64, "payload")
    try:
        signature = b64url_decode(signature_b64)
    except ValueError as exc:
        raise TokenInvalid("malformed", "the token signature is not base64url") from exc
    return ParsedToken(
        header=header,
        claims=claims,
        signing_input=f"{header_b64}.{claims_b64}".encode("ascii"),
        signature=signature,
    )


def check_header(header: Mapping[str, Any], *, kid_optional: bool = False) -> None:
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        raise TokenInvalid("malformed", "the token header has no alg")
    if alg.lower() == "none":
        raise UnsignedToken("alg_not_allowed", "unsigned tokens are not accepted")
    for name in FORBIDDEN_HEADERS:
        if name in header:
            raise TokenInvalid("forbidden_header", f"the token header must not carry {name!r}")
    if "crit" in header:
        raise TokenInvalid("forbidden_header", "the token header must not carry 'crit'")
    if kid_optional and "kid" not in header:
        return
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenInvalid("missing_kid", "the token header has no kid")


def check_signature(parsed: ParsedToken, keys: KeySet) -> None:
    key = keys.get(parsed.kid)
    if key is None:
        raise TokenInvalid("unknown_kid", "no signing key matches the token's kid")
    if parsed.header["alg"] != key.alg:
        raise TokenInvalid("alg_mismatch", "the token's alg does not match its signing key")
    if not _signature_ok(key, parsed.signing_input, parsed.signature):
        raise TokenInvalid("bad_signature", "the token signature is invalid")


def _signature_ok(key: VerificationKey, message: bytes, signature: bytes) -> bool:
    digest = _HASHES[key.alg[2:]]()
    try:
        if isinstance(key.public_key, rsa.RSAPublicKey):
            if key.alg.startswith("PS"):
                pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
                key.public_key.verify(signature, message, pss, digest)
            else:
                key.public_key.verify(signature, message, padding.PKCS1v15(), digest)
            return True
        if len(signature) != 64:
            return False
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        key.public_key.verify(encode_dss_signature(r, s), message, ec.ECDSA(digest))
        return True
    except InvalidSignature:
        return False
