"""base64url without padding (RFC 7515 §2): the one encoder and decoder of the code base.

Decoding is strict: padding, whitespace or any character outside ``A-Z a-z 0-9 - _`` is an
error (``ValueError``), never skipped as :func:`base64.urlsafe_b64decode` would, so two
different strings never decode to the same bytes.
"""

from __future__ import annotations

import base64
import re

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def b64url_bytes(data: bytes) -> bytes:
    """Unpadded base64url as ASCII bytes (what a JWS signing input is built from)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url text."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url, refusing padding and any character outside the alphabet."""
    if not _ALPHABET.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
