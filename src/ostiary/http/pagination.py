"""Okta paging: ``limit`` and ``after`` in, one ``Link`` header (self first, next last) out."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from starlette.requests import Request

from ostiary.http.errors import OktaHTTPError

_CURSOR = re.compile(r"[0-9A-Za-z_-]{1,64}")
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_limit(request: Request, *, default: int = 200, maximum: int = 200) -> int:
    """``limit`` in ASCII digits only: ``int()`` would also take ``+5``, `` 5`` or ``٣``."""
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit():
        raise OktaHTTPError(400, "E0000001", "Api validation failed: limit", ["limit: must be an integer"])
    significant = raw.lstrip("0")
    value = int(significant or "0") if len(significant) <= 18 else maximum
    if value < 1:
        raise OktaHTTPError(400, "E0000001", "Api validation failed: limit", ["limit: must be at least 1"])
    return min(value, maximum)


def parse_after(request: Request, *, numeric: bool = False) -> str | None:
    """The ``after`` cursor: an id this server handed out in a ``next`` link (base62, or digits for
    the system log). Anything else is refused instead of silently paging from an arbitrary place."""
    raw = request.query_params.get("after")
    if raw is None or raw == "":
        return None
    if (_DIGITS if numeric else _CURSOR).fullmatch(raw) is None:
        raise OktaHTTPError(400, "E0000001", "Api validation failed: after", ["after: is not a valid cursor"])
    return raw


def link_header(request: Request, next_cursor: str | None) -> str:
    """Absolute URLs on the request's host; ``next`` keeps every parameter and changes only ``after``."""
    base = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "after"]
    self_url = base + ("?" + urlencode(request.query_params.multi_items()) if request.query_params else "")
    links = [f'<{_escape(self_url)}>; rel="self"']
    if next_cursor is not None:
        next_params = [*params, ("after", next_cursor)]
        links.append(f'<{_escape(base + "?" + urlencode(next_params))}>; rel="next"')
    return ", ".join(links)


def _escape(url: str) -> str:
    return url.replace(",", "%2C").replace(">", "%3E").replace("<", "%3C")
