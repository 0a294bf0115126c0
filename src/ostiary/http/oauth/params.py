"""OAuth request parameters: form body (``application/x-www-form-urlencoded``) merged with the query.

Okta accepts token-endpoint parameters in the query string too (the API Center demo sends them
there), so both places are read; a parameter given twice is ``invalid_request`` (RFC 6749 §3.2).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

from ostiary.http.errors import OAuthHTTPError

MAX_FORM_BYTES = 64 * 1024


async def oauth_params(request: Request) -> dict[str, str]:
    pairs = list(request.query_params.multi_items())
    if request.method == "POST":
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            raise OAuthHTTPError(413, "invalid_request", "The request body is too large.")
        if body.strip():
            if content_type != "application/x-www-form-urlencoded":
                raise OAuthHTTPError(
                    400, "invalid_request", "The request must be sent as application/x-www-form-urlencoded."
                )
            try:
                pairs += parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
            except UnicodeDecodeError:
                raise OAuthHTTPError(400, "invalid_request", "The request body is not valid UTF-8.") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            raise OAuthHTTPError(
                400, "invalid_request", f"The '{key}' parameter was provided more than once."
            )
        params[key] = value
    return params


def no_store_headers() -> dict[str, str]:
    return {"Cache-Control": "no-store", "Pragma": "no-cache"}
