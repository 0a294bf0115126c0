"""Imported password hashes (``credentials.password.hash``), as Okta accepts them for migrations.

BCRYPT (``workFactor``, a 22-character radix-64 ``salt`` and the 31-character ``value``), the
salted digests SHA-512, SHA-256, SHA-1 and MD5 (base64 ``value`` of the digest of the password
with the base64-decoded ``salt`` put before it, ``saltOrder: PREFIX``, or after it, ``POSTFIX``)
and PBKDF2 (``digestAlgorithm`` SHA256_HMAC or SHA512_HMAC, ``iterationCount`` from 4096 to
1,000,000 (a bound on the cost of one sign-in), ``keySize`` in bytes). A hash is stored as
given (bcrypt in its usual ``$2a$…`` form, the others as ``$ostiary-import$`` and compact JSON)
and checked in constant time; the first successful sign-in replaces it with an argon2id hash
(:func:`passwords.needs_upgrade`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from ostiary.domain.errors import Invalid

PREFIX = "$ostiary-import$"
DIGESTS = {"SHA-512": "sha512", "SHA-256": "sha256", "SHA-1": "sha1", "MD5": "md5"}
PBKDF2_DIGESTS = {"SHA256_HMAC": "sha256", "SHA512_HMAC": "sha512"}
ALGORITHMS = ("BCRYPT", *DIGESTS, "PBKDF2")
_BCRYPT_SALT = re.compile(r"[./A-Za-z0-9]{22}")
_BCRYPT_VALUE = re.compile(r"[./A-Za-z0-9]{31}")
_MAX_FIELD = 1024
_BCRYPT_MAX_BYTES = 72  # bcrypt reads no further; bcrypt 5 refuses longer inputs instead


def _invalid(cause: str) -> Invalid:
    return Invalid("Api validation failed: password", code="E0000001", causes=[f"password.hash: {cause}"])


def _b64(value: object, name: str, *, required: bool = True) -> bytes:
    if value is None and not required:
        return b""
    if not isinstance(value, str) or not value or len(value) > _MAX_FIELD:
        raise _invalid(f"{name} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid(f"{name} must be a base64 string") from None


def _int(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _invalid(f"{name} must be an integer from {low} to {high}")
    return value


def stored_hash(spec: object) -> str:
    """Validate an Okta password hash object and return what is stored for it."""
    if not isinstance(spec, Mapping):
        raise _invalid("must be an object")
    algorithm = spec.get("algorithm")
    if algorithm not in ALGORITHMS:
        raise _invalid(f"algorithm must be one of {', '.join(ALGORITHMS)}")
    if algorithm == "BCRYPT":
        work = _int(spec.get("workFactor"), "workFactor", 4, 20)
        salt, value = spec.get("salt"), spec.get("value")
        if not isinstance(salt, str) or not _BCRYPT_SALT.fullmatch(salt):
            raise _invalid("salt must be 22 radix-64 characters")
        if not isinstance(value, str) or not _BCRYPT_VALUE.fullmatch(value):
            raise _invalid("value must be 31 radix-64 characters")
        return f"$2a${work:02d}${salt}{value}"
    record: dict[str, Any] = {"algorithm": algorithm}
    digest = _b64(spec.get("value"), "value")
    salt = _b64(spec.get("salt"), "salt", required=False)
    if algorithm == "PBKDF2":
        name = spec.get("digestAlgorithm")
        if name not in PBKDF2_DIGESTS:
            raise _invalid("digestAlgorithm must be SHA256_HMAC or SHA512_HMAC")
        record["digestAlgorithm"] = name
        record["iterationCount"] = _int(spec.get("iterationCount"), "iterationCount", 4096, 1_000_000)
        record["keySize"] = _int(spec.get("keySize"), "keySize", 1, 512)
        if len(digest) != record["keySize"]:
            raise _invalid("value must be keySize bytes long")
    elif len(digest) != hashlib.new(DIGESTS[algorithm]).digest_size:
        raise _invalid(f"value is not a {algorithm} digest")
    if salt and algorithm != "PBKDF2":
        order = spec.get("saltOrder")
        if order not in ("PREFIX", "POSTFIX"):
            raise _invalid("saltOrder must be PREFIX or POSTFIX")
        record["saltOrder"] = order
    record["salt"] = base64.b64encode(salt).decode()
    record["value"] = base64.b64encode(digest).decode()
    return PREFIX + json.dumps(record, separators=(",", ":"), sort_keys=True)


def is_imported(stored: str | None) -> bool:
    return stored is not None and (stored.startswith(PREFIX) or stored.startswith("$2"))


def verify(password: str, stored: str) -> bool:
    """Does ``password`` match an imported hash? (Blocking: bcrypt and PBKDF2 are slow by design.)"""
    secret = password.encode()
    if stored.startswith("$2"):
        import bcrypt  # imported on first use: start-up stays fast

        try:
            return bool(bcrypt.checkpw(secret[:_BCRYPT_MAX_BYTES], stored.encode()))
        except ValueError:
            return False
    try:
        record = json.loads(stored[len(PREFIX) :])
        salt = base64.b64decode(record["salt"])
        expected = base64.b64decode(record["value"])
    except (ValueError, KeyError, TypeError):
        return False
    if record["algorithm"] == "PBKDF2":
        actual = hashlib.pbkdf2_hmac(
            PBKDF2_DIGESTS[record["digestAlgorithm"]],
            secret,
            salt,
            record["iterationCount"],
            record["keySize"],
        )
    else:
        salted = salt + secret if record.get("saltOrder") == "PREFIX" else secret + salt
        actual = hashlib.new(DIGESTS[record["algorithm"]], salted).digest()
    return hmac.compare_digest(actual, expected)
