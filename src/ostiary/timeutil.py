"""Timestamps as Okta writes them: ISO-8601 UTC with milliseconds and a ``Z``; HTTP dates."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import formatdate


def utcnow() -> datetime:
    return datetime.now(UTC)


_token_clock_skew = 0.0


def token_time() -> int:
    """Now in epoch seconds as token minting sees it (``iat``/``exp``): the one clock seam that
    ``serve --memory --testing`` can move (:func:`set_token_clock_skew`) so that tokens come out
    expired or not yet valid."""
    return int(time.time() + _token_clock_skew)


def set_token_clock_skew(seconds: float) -> None:
    """Move the token clock ``seconds`` away from the system clock (0 puts it back)."""
    global _token_clock_skew
    _token_clock_skew = float(seconds)


def token_clock_skew() -> float:
    return _token_clock_skew


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """Parse an ISO-8601 timestamp (``Z`` or offset); naive values are taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


_date_cache: tuple[int, bytes] = (0, b"")


def http_date() -> bytes:
    """The ``Date`` header value (RFC 9110 IMF-fixdate), formatted once per second."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True).encode())
    return _date_cache[1]
