"""Signing keys (RFC 7517 JWKs, RFC 7638 thumbprints) and the public JWKs of clients.

An authorization server signs with keys it generates itself: RSA-2048 (``RS256``, what
Okta and okta-jwt-verifier use) or P-256 (``ES256``). Each key is pinned to one
algorithm for its whole life, and its ``kid`` is the RFC 7638 thumbprint of the public
key, so kids look like Okta's (43 base64url characters) and are stable across
processes. Private keys are stored as PKCS#8 PEM encrypted with AES-256-GCM under the
master key, bound to their row by associated data (:mod:`ostiary.jose.key_encryption`).

Client keys (``private_key_jwt`` client assertions) arrive as public JWKs; see
:func:`public_jwk_from_dict` for what is accepted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, TypeAlias

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ostiary.jose.b64 import b64url_decode, b64url_encode

SigningAlg: TypeAlias = Literal["RS256", "ES256"]
PrivateKey: TypeAlias = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey: TypeAlias = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

SIGNING_ALGS: tuple[SigningAlg, ...] = ("RS256", "ES256")
RSA_KEY_BITS = 2048
RSA_PUBLIC_EXPONENT = 65537
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 8192
"""Client RSA keys above this size are refused: verification cost grows with the modulus."""
MAX_RSA_EXPONENT_BITS = 32
P256_COORDINATE_BYTES = 32

_JWK_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_THUMBPRINT_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "oct": ("k", "kty"),
}
_RSA_CLIENT_ALGS = frozenset({"RS256", "RS384", "RS512"})
_EC_CLIENT_ALGS = frozenset({"ES256"})


def _uint_to_b64url(value: int, length: int | None = None) -> str:
    size = length if length is not None else max(1, (value.bit_length() + 7) // 8)
    return b64url_encode(value.to_bytes(size, "big"))


# --- thumbprints ---------------------------------------------------------------------


def jwk_thumbprint(jwk: Mapping[str, object]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a JWK, base64url: the required members only,
    in lexicographic order, serialized without whitespace."""
    kty = jwk.get("kty")
    members = _THUMBPRINT_MEMBERS.get(kty) if isinstance(kty, str) else None
    if members is None:
        raise ValueError(f"cannot compute a thumbprint for kty {kty!r}")
    required: dict[str, str] = {}
    for name in members:
        value = jwk.get(name)
        if not isinstance(value, str):
            raise ValueError(f"JWK member {name!r} is missing or not a string")
        required[name] = value
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":"))
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


# --- public JWKs of our own keys -----------------------------------------------------


def _rsa_public_members(key: rsa.RSAPublicKey) -> dict[str, str]:
    numbers = key.public_numbers()
    return {"kty": "RSA", "e": _uint_to_b64url(numbers.e), "n": _uint_to_b64url(numbers.n)}


def _ec_public_members(key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _uint_to_b64url(numbers.x, P256_COORDINATE_BYTES),
        "y": _uint_to_b64url(numbers.y, P256_COORDINATE_BYTES),
    }


def _public_members(key: PrivateKey) -> dict[str, str]:
    if isinstance(key, rsa.RSAPrivateKey):
        return _rsa_public_members(key.public_key())
    return _ec_public_members(key.public_key())


def _check_key_matches_alg(key: object, alg: str) -> None:
    if alg == "RS256":
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("RS256 needs an RSA private key")
        if key.key_size < MIN_RSA_BITS:
            raise ValueError(f"RS256 needs an RSA key of at least {MIN_RSA_BITS} bits")
    elif alg == "ES256":
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise ValueError("ES256 needs a P-256 private key")
    else:
        raise ValueError(f"unsupported signing alg {alg!r}; expected one of {', '.join(SIGNING_ALGS)}")


def _header_b64(kid: str, alg: str) -> bytes:
    header = json.dumps({"kid": kid, "alg": alg}, separators=(",", ":"))
    return b64url_encode(header.encode("utf-8")).encode("ascii")


@dataclass(frozen=True, slots=True, eq=False)
class SigningKey:
    """A private signing key pinned to one JWS algorithm.

    ``protected_header_b64`` is the base64url JWS header ``{"kid":…,"alg":…}`` (Okta's
    exact header), computed once so minting a token does not re-serialize it.
    Equality is identity: two keys are the same key only if they are the same object.
    """

    kid: str
    alg: SigningAlg
    private_key: PrivateKey = field(repr=False)
    protected_header_b64: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        _check_key_matches_alg(self.private_key, self.alg)
        if not self.kid:
            raise ValueError("a signing key needs a kid")
        object.__setattr__(self, "protected_header_b64", _header_b64(self.kid, self.alg))

    def public_jwk(self) -> dict[str, str]:
        """The JWK served on ``/v1/keys``, members in Okta's order."""
        members = _public_members(self.private_key)
        meta = {"alg": self.alg, "kid": self.kid, "use": "sig"}
        if members["kty"] == "RSA":
            return {"kty": "RSA", **meta, "e": members["e"], "n": members["n"]}
        return {**members, **meta}

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM: encrypt it before it leaves memory."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def generate_signing_key(alg: SigningAlg = "RS256") -> SigningKey:
    """A fresh key: RSA-2048 (e=65537) for RS256, P-256 for ES256.

    RSA generation takes tens of milliseconds: call it off the event loop.
    """
    private_key: PrivateKey
    if _signing_alg(alg) == "RS256":
        private_key = rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=RSA_KEY_BITS)
    else:
        private_key = ec.generate_private_key(ec.SECP256R1())
    return SigningKey(kid=jwk_thumbprint(_public_members(private_key)), alg=alg, private_key=private_key)


def load_signing_key(pem: bytes, alg: str, kid: str, *, sealed: bool = False) -> SigningKey:
    """A stored key: unencrypted PEM (PKCS#8 or traditional), checked against its pinned alg.

    ``sealed``: the PEM was just opened from authenticated encryption under the master key, so
    it is a key this server generated (and checked) itself; OpenSSL's RSA consistency check,
    tens of milliseconds per key on a small VM, is then skipped."""
    try:
        private_key = serialization.load_pem_private_key(
            pem, password=None, unsafe_skip_rsa_key_validation=sealed
        )
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError("not an unencrypted PEM private key") from None
    pinned = _signing_alg(alg)
    if not isinstance(private_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"{pinned} needs an {'RSA' if pinned == 'RS256' else 'P-256'} private key")
    return SigningKey(kid=kid, alg=pinned, private_key=private_key)


def _signing_alg(alg: str) -> SigningAlg:
    if alg == "RS256":
        return "RS256"
    if alg == "ES256":
        return "ES256"
    raise ValueError(f"unsupported signing alg {alg!r}; expected one of {', '.join(SIGNING_ALGS)}")


# --- client public JWKs (private_key_jwt) --------------------------------------------


class InvalidJwk(ValueError):
    """A client JWK that Ostiary will not verify signatures with."""


class PinnedPublicKey(NamedTuple):
    key: PublicKey
    alg: str


def public_jwk_from_dict(jwk: Mapping[str, object]) -> PinnedPublicKey:
    """Parse a client's public JWK and pin the one algorithm it may verify.

    Accepted: RSA keys of 2048 to 8192 bits with an exponent of at most 32 bits
    (alg RS256, RS384 or RS512; RS256 when ``alg`` is absent), and EC P-256 keys
    (alg ES256). Refused: any private member (``d``, ``p``, ``q``, ``dp``, ``dq``,
    ``qi``, ``oth``, ``k``), symmetric (``oct``) and other key types, other curves,
    PS*/HS*/``none``, an ``alg`` that does not fit the key type, ``use`` other than
    ``sig`` and ``key_ops`` without ``verify``.
    """
    private = _JWK_PRIVATE_MEMBERS.intersection(jwk)
    if private:
        raise InvalidJwk(f"JWK contains private key members: {', '.join(sorted(private))}")
    _check_usage(jwk)
    kty = jwk.get("kty")
    alg = jwk.get("alg")
    if alg is not None and not isinstance(alg, str):
        raise InvalidJwk("JWK alg must be a string")
    if kty == "RSA":
        return PinnedPublicKey(_rsa_public_key(jwk), _pin_alg(alg, _RSA_CLIENT_ALGS, "RS256", "RSA"))
    if kty == "EC":
        return PinnedPublicKey(_p256_public_key(jwk), _pin_alg(alg, _EC_CLIENT_ALGS, "ES256", "EC P-256"))
    raise InvalidJwk(f"unsupported JWK kty {kty!r}; expected RSA or EC")


def _check_usage(jwk: Mapping[str, object]) -> None:
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise InvalidJwk(f"JWK use must be 'sig', not {use!r}")
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        raise InvalidJwk("JWK key_ops must include 'verify'")


def _pin_alg(alg: str | None, allowed: frozenset[str], default: str, key_type: str) -> str:
    if alg is None:
        return default
    if alg not in allowed:
        raise InvalidJwk(f"JWK alg {alg!r} does not fit a {key_type} key; expected one of {sorted(allowed)}")
    return alg


def _string_member(jwk: Mapping[str, object], name: str) -> str:
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidJwk(f"JWK member {name!r} is missing or not a string")
    return value


def _decoded_member(jwk: Mapping[str, object], name: str) -> bytes:
    try:
        return b64url_decode(_string_member(jwk, name))
    except ValueError:
        raise InvalidJwk(f"JWK member {name!r} is not base64url") from None


def _rsa_public_key(jwk: Mapping[str, object]) -> rsa.RSAPublicKey:
    n = int.from_bytes(_decoded_member(jwk, "n"), "big")
    e = int.from_bytes(_decoded_member(jwk, "e"), "big")
    if not MIN_RSA_BITS <= n.bit_length() <= MAX_RSA_BITS:
        raise InvalidJwk(f"RSA key is {n.bit_length()} bits; {MIN_RSA_BITS} to {MAX_RSA_BITS} are accepted")
    if e.bit_length() > MAX_RSA_EXPONENT_BITS:
        raise InvalidJwk("RSA public exponent is too large")
    try:
        return rsa.RSAPublicNumbers(e, n).public_key()
    except ValueError:
        raise InvalidJwk("not a valid RSA public key") from None


def _p256_public_key(jwk: Mapping[str, object]) -> ec.EllipticCurvePublicKey:
    if jwk.get("crv") != "P-256":
        raise InvalidJwk(f"unsupported EC curve {jwk.get('crv')!r}; expected P-256")
    x, y = _decoded_member(jwk, "x"), _decoded_member(jwk, "y")
    if len(x) != P256_COORDINATE_BYTES or len(y) != P256_COORDINATE_BYTES:
        raise InvalidJwk("P-256 coordinates must be 32 bytes each")
    try:
        numbers = ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
        )
        return numbers.public_key()
    except ValueError:
        raise InvalidJwk("the point is not on the P-256 curve") from None
