"""JSON responses as Okta sends them: compact, ``application/json``; empty bodies claim no type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from ostiary.compact_json import dumps

JSON_TYPE = "application/json"


def json_response(data: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(dumps(data), status_code=status_code, headers=headers, media_type=JSON_TYPE)


def no_content(headers: Mapping[str, str] | None = None) -> Response:
    return Response(status_code=204, headers=headers)
