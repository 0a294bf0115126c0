"""Public JSON Web Keys (RFC 7517) a token may be verified with, pinned to one algorithm each.

A key set is parsed key by key: a key that is not a public RSA (>= 2048 bits) or EC P-256
signature key is left out and reported, never used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ostiary.jose.b64 import b64url_decode

MIN_RSA_BITS = 2048
RSA_ALGS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
EC_ALGS = frozenset({"ES256"})
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


@dataclass(frozen=True)
class VerificationKey:
    kid: str
    alg: str
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True)
class KeySet:
    """The usable signature keys of one JWKS, by ``kid``. Build it with ``KeySet.from_jwks``.

    Each key is judged on its own: a key that is not a public RSA (>= 2048 bits) or
    EC P-256 signature key, has no ``kid``, or carries private members is left out
    and listed in ``rejected`` as ``(kid, reason)``, so one bad entry never takes the
    good keys down with it.
    """

    keys: Mapping[str, VerificationKey]
    rejected: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any]) -> KeySet:
        entries = jwks.get("keys") if isinstance(jwks, Mapping) else None
        if not isinstance(entries, list):
            raise ValueError("a JWKS is a JSON object with a 'keys' array")
        keys: dict[str, VerificationKey] = {}
        rejected: list[tuple[str, str]] = []
        for entry in entries:
            kid = entry.get("kid") if isinstance(entry, Mapping) else None
            if not isinstance(kid, str) or not kid:
                rejected.append(("", "no kid"))
                continue
            try:
                key = _parse_jwk(kid, entry)
            except ValueError as exc:
                rejected.append((kid, str(exc)))
                continue
            if kid in keys:
                rejected.append((kid, "duplicate kid"))
                continue
            keys[kid] = key
        return cls(keys=keys, rejected=tuple(rejected))

    def get(self, kid: str) -> VerificationKey | None:
        return self.keys.get(kid)

    def __contains__(self, kid: object) -> bool:
        return isinstance(kid, str) and kid in self.keys

    def __len__(self) -> int:
        return len(self.keys)


def _parse_jwk(kid: str, jwk: Mapping[str, Any]) -> VerificationKey:
    if PRIVATE_MEMBERS & set(jwk):
        raise ValueError("private key members present")
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise ValueError(f"use is {use!r}, not 'sig'")
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        raise ValueError("key_ops does not allow 'verify'")
    kty = jwk.get("kty")
    alg = jwk.get("alg")
    if alg is not None and not isinstance(alg, str):
        raise ValueError("alg is not a string")
    if kty == "RSA":
        alg = alg or "RS256"
        if alg not in RSA_ALGS:
            raise ValueError(f"alg {alg!r} is not an RSA signature algorithm")
        public_numbers = rsa.RSAPublicNumbers(_b64_int(jwk, "e"), _b64_int(jwk, "n"))
        rsa_key = public_numbers.public_key()
        if rsa_key.key_size < MIN_RSA_BITS:
            raise ValueError(f"RSA key of {rsa_key.key_size} bits is too short")
        return VerificationKey(kid=kid, alg=alg, public_key=rsa_key)
    if kty == "EC":
        alg = alg or "ES256"
        if alg not in EC_ALGS or jwk.get("crv") != "P-256":
            raise ValueError("only EC keys on P-256 with ES256 are accepted")
        x, y = _b64_int(jwk, "x"), _b64_int(jwk, "y")
        ec_key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        return VerificationKey(kid=kid, alg=alg, public_key=ec_key)
    raise ValueError(f"key type {kty!r} is not accepted")


def _b64_int(jwk: Mapping[str, Any], member: str) -> int:
    value = jwk.get(member)
    if not isinstance(value, str) or not value:
        raise ValueError(f"member {member!r} is missing")
    try:
        return int.from_bytes(b64url_decode(value), "big")
    except ValueError as exc:
        raise ValueError(f"member {member!r} is not base64url") from exc
