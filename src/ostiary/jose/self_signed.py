"""Self-signed X.509 certificates as JWKs with ``x5c`` (an app's key credentials)."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ostiary.jose.b64 import b64url_encode
from ostiary.jose.signing_keys import jwk_thumbprint


def _b64_int(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def certificate_jwk(common_name: str, not_before: datetime, years: int) -> tuple[dict[str, Any], datetime]:
    """A new RSA-2048 key's self-signed certificate valid ``years`` years, as an RSA ``sig`` JWK
    (``kid`` its RFC 7638 thumbprint, ``x5c``, ``x5t#S256``), and its expiry. The private key is
    dropped: only the public certificate is kept."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    not_after = not_before + timedelta(days=365 * years)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    numbers = key.public_key().public_numbers()
    jwk: dict[str, Any] = {"kty": "RSA", "use": "sig", "e": _b64_int(numbers.e), "n": _b64_int(numbers.n)}
    jwk["kid"] = jwk_thumbprint(jwk)
    jwk["x5c"] = [base64.b64encode(der).decode("ascii")]
    jwk["x5t#S256"] = b64url_encode(hashlib.sha256(der).digest())
    return jwk, not_after
