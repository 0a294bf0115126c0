"""Test keys and tokens, made with ``cryptography`` and PyJWT directly (not with Ostiary's signer),
plus a hand-rolled encoder for forged tokens that no library would produce."""

from __future__ import annotations

import base64
import functools
import json
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://ostiary.test/oauth2/default"
AUDIENCE = "api://default"
SILVER = "http://myapp.com/scp/silver"
GOLD = "http://myapp.com/scp/gold"


@dataclass(frozen=True)
class TestKey:
    kid: str
    alg: str
    private_key: Any

    __test__ = False

    @property
    def public_key(self) -> Any:
        return self.private_key.public_key()

    def public_jwk(self, **extra: Any) -> dict[str, Any]:
        if self.alg.startswith("ES"):
            jwk = ECAlgorithm.to_jwk(self.public_key, as_dict=True)
        else:
            jwk = RSAAlgorithm.to_jwk(self.public_key, as_dict=True)
        jwk.update({"kid": self.kid, "alg": self.alg, "use": "sig"})
        jwk.update(extra)
        return jwk

    def private_jwk(self) -> dict[str, Any]:
        algorithm = ECAlgorithm if self.alg.startswith("ES") else RSAAlgorithm
        jwk = algorithm.to_jwk(self.private_key, as_dict=True)
        jwk.update({"kid": self.kid, "alg": self.alg, "use": "sig"})
        return jwk

    def sign(
        self, claims: dict[str, Any], *, headers: dict[str, Any] | None = None, alg: str | None = None
    ) -> str:
        all_headers = {"kid": self.kid}
        all_headers.update(headers or {})
        return jwt.encode(claims, self.private_key, algorithm=alg or self.alg, headers=all_headers)


@functools.cache
def _rsa_private(seed: str, bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def rsa_key(kid: str = "rsa-1", *, bits: int = 2048, alg: str = "RS256", seed: str | None = None) -> TestKey:
    """An RSA key; keys are cached by ``seed`` (default: the kid) so tests stay fast."""
    return TestKey(kid=kid, alg=alg, private_key=_rsa_private(seed or kid, bits))


@functools.cache
def _ec_private(seed: str) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def ec_key(kid: str = "ec-1", *, seed: str | None = None) -> TestKey:
    return TestKey(kid=kid, alg="ES256", private_key=_ec_private(seed or kid))


def jwks(*keys: TestKey) -> dict[str, Any]:
    return {"keys": [key.public_jwk() for key in keys]}


def access_claims(
    *,
    issuer: str = ISSUER,
    audience: str | list[str] = AUDIENCE,
    scopes: list[str] | None = None,
    sub: str = "carl.sagan@mailinator.com",
    cid: str | None = "0oa1opaydr1bnvBKL357",
    lifetime: int = 3600,
    now: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Claims shaped like an Okta access token (wire notes §9)."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "ver": 1,
        "jti": f"AT.{issued}-{sub}",
        "iss": issuer,
        "aud": audience,
        "iat": issued,
        "exp": issued + lifetime,
        "sub": sub,
        "scp": ["openid", *(scopes or [])],
    }
    if cid is not None:
        claims["cid"] = cid
    claims.update(extra)
    return claims


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def raw_token(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A compact JWS with exactly this header and payload and any signature bytes."""
    parts = [
        b64url(json.dumps(header, separators=(",", ":")).encode()),
        b64url(json.dumps(claims, separators=(",", ":")).encode()),
        b64url(signature),
    ]
    return ".".join(parts)


def tamper_claims(token: str, **changes: Any) -> str:
    """The same header and signature with a modified payload."""
    header_b64, payload_b64, signature_b64 = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)))
    payload.update(changes)
    new_payload = b64url(json.dumps(payload, separators=(",", ":")).encode())
    return f"{header_b64}.{new_payload}.{signature_b64}"
