"""Small helpers the management routers share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ostiary.http.pagination import link_header
from ostiary.http.responses import json_response


def base_url(request: Request) -> str:
    """The scheme and host the client used; every ``_links`` href and Link header uses it."""
    return f"{request.url.scheme}://{request.url.netloc}"


def list_response(
    request: Request,
    items: Sequence[Any],
    render: Callable[[Any, str], dict[str, Any]],
    next_cursor: str | None,
) -> Response:
    base = base_url(request)
    return json_response(
        [render(item, base) for item in items], headers={"Link": link_header(request, next_cursor)}
    )


def path_param(request: Request, name: str) -> str:
    value: str = request.path_params[name]
    return value


def expansions(value: str | None) -> set[str]:
    """The values of ``expand`` (comma-separated); unknown values are ignored, as Okta does."""
    return {part.strip() for part in (value or "").split(",") if part.strip()}
