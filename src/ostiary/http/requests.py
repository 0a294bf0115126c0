"""Reading request bodies and parameters, with Okta's errors for bad input."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from ostiary.http.errors import OktaHTTPError, malformed_body
from ostiary.http.input_guard import PARSED_JSON, BadInput, parse_json

MAX_JSON_BYTES = 1024 * 1024
JSON_MEDIA_TYPE = "application/json"


async def json_object(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The body as a JSON object; anything else is E0000003 (400), too large is 413, a body
    not sent as JSON is E0000021 (400, see :func:`require_json_content_type`)."""
    raw = await request.body()
    if len(raw) > MAX_JSON_BYTES:
        raise OktaHTTPError(413, "E0000003", "The request body was too large.")
    if raw.strip():
        require_json_content_type(request)
    if not raw.strip():
        if required:
            raise malformed_body()
        return {}
    parsed = request.scope.get("state", {}).get(PARSED_JSON)
    if parsed is not None and parsed[0] == raw:
        data = parsed[1]  # InputGuard parsed this very body under the same rules
    else:
        try:
            data = parse_json(raw)
        except BadInput as exc:
            raise OktaHTTPError(
                400, "E0000003", "The request body was not well-formed.", [str(exc)]
            ) from None
    if not isinstance(data, dict):
        raise malformed_body()
    return data


def require_json_content_type(request: Request) -> None:
    """A body must be sent as ``application/json`` (parameters such as ``charset`` allowed).

    This is a CSRF defence, not pedantry: ``text/plain``, form-encoded and multipart bodies are
    CORS "simple requests" that any site can make a browser send without a preflight (an HTML
    form can post ``{"sessionToken": ...}`` as ``text/plain``). ``application/json`` forces a
    preflight, which only trusted origins pass. Okta answers a wrong type with 400 E0000021.
    An empty body needs no type (Okta's SDKs send ``Content-Type`` only with a body).
    """
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != JSON_MEDIA_TYPE:
        raise OktaHTTPError(
            400,
            "E0000021",
            "Bad request. Accept and/or Content-Type headers likely do not match supported values.",
        )


def bool_param(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise OktaHTTPError(400, "E0000001", f"Api validation failed: {name}", [f"{name}: must be true or false"])


async def json_array(request: Request) -> list[Any]:
    """The body as a JSON array (a JSON Patch); anything else is E0000003 (400)."""
    raw = await request.body()
    if len(raw) > MAX_JSON_BYTES:
        raise OktaHTTPError(413, "E0000003", "The request body was too large.")
    if not raw.strip():
        return []
    require_json_content_type(request)
    try:
        data = parse_json(raw)
    except BadInput as exc:
        raise OktaHTTPError(400, "E0000003", "The request body was not well-formed.", [str(exc)]) from None
    if not isinstance(data, list):
        raise malformed_body()
    return data
