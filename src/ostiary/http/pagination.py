"""Okta paging: ``limit`` and ``after`` in, one ``Link`` header (self first, next last) out."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request

from ostiary.http.errors import OktaHTTPError


def parse_limit(request: Request, *, default: int = 200, maximum: int = 200) -> int:
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise OktaHTTPError(
            400, "E0000001", "Api validation failed: limit", ["limit: must be an integer"]
        ) from None
    if value < 1:
        raise OktaHTTPError(400, "E0000001", "Api validation failed: limit", ["limit: must be at least 1"])
    return min(value, maximum)


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
