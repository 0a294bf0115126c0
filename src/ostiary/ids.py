"""Okta-style object ids: a 3-char type prefix and 17 base62 characters.

The first 7 characters after the prefix encode the creation time in milliseconds, so ids
sort (bytewise) in creation order; list endpoints page with the id as the ``after`` cursor.
The remaining 10 characters are random (about 59 bits).
"""

from __future__ import annotations

import secrets
import time

from ostiary import randomness

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_TIME_CHARS = 7
_RANDOM_CHARS = 10

USER = "00u"
GROUP = "00g"
APP = "0oa"
AUTH_SERVER = "aus"
SCOPE = "scp"
CLAIM = "ocl"
POLICY = "00p"
RULE = "0pr"
TRUSTED_ORIGIN = "tos"
GRANT = "oag"
API_TOKEN = "00T"
CLIENT_SECRET = "ocs"
USER_TYPE = "oty"
ORG = "00o"
SESSION = "102"
JWK = "pks"


def _encode(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, rem = divmod(value, 62)
        chars.append(ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    millis = int(time.time() * 1000) % (62**_TIME_CHARS)
    rand = int.from_bytes(randomness.token_bytes(8), "big") % (62**_RANDOM_CHARS)
    return prefix + _encode(millis, _TIME_CHARS) + _encode(rand, _RANDOM_CHARS)


def random_token(nbytes: int = 32) -> str:
    """A URL-safe secret (client secrets, API tokens, session ids)."""
    return secrets.token_urlsafe(nbytes)


def error_id() -> str:
    """An ``errorId`` like Okta's (``oae`` + 22 characters)."""
    return "oae" + randomness.token_urlsafe(17)[:22]


def request_id() -> str:
    return randomness.token_urlsafe(20)[:27]
