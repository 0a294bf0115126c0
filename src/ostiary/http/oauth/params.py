"""OAuth request parameters: form body (``application/x-www-form-urlencoded``) merged with the query.

Okta accepts token-endpoint parameters in the query string too (the API Center demo sends them
there), so both places are read; a parameter given twice is ``invalid_request`` (RFC 6749 §3.2).
Secrets are not: a URL ends up in access logs, proxies and browser history, so the token,
introspect and revoke endpoints refuse client credentials (RFC 6749 §2.3.1: "MUST NOT be
included in the request URI") and other long-lived secrets in the query string with
``invalid_request``. Okta's demos send ``code`` (token) and ``token`` (introspect) there, so
those are still read from it, and so is ``code_verifier`` (useless without its one-time code);
all three are redacted from every log line (``ostiary.log_redaction``).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

from ostiary.http.errors import OAuthHTTPError

MAX_FORM_BYTES = 64 * 1024
CLIENT_CREDENTIALS = frozenset({"client_secret", "client_assertion"})
# Secrets a token request may carry, besides ``code`` and ``code_verifier`` (see above).
TOKEN_SECRETS = CLIENT_CREDENTIALS | {
    "refresh_token",
    "password",
    "assertion",
    "subject_token",
    "actor_token",
    "device_code",
}


def parse_form(text: str) -> list[tuple[str, str]]:
    """``parse_qsl(text, keep_blank_values=True)``; plain ``a=b&c=d`` text (no escapes) is split
    directly, which is what token requests nearly always are and five times cheaper."""
    if "%" in text or "+" in text:
        return parse_qsl(text, keep_blank_values=True, strict_parsing=False)
    pairs = []
    for field in text.split("&"):
        if field:
            name, _, value = field.partition("=")
            pairs.append((name, value))
    return pairs


async def oauth_params(request: Request, not_in_query: frozenset[str] = frozenset()) -> dict[str, str]:
    body = await request.body() if request.method == "POST" else b""
    return form_params(
        request.scope.get("query_string", b""), request.headers.get("content-type", ""), body, not_in_query
    )


def form_params(
    query_string: bytes, content_type: str, body: bytes, not_in_query: frozenset[str] = frozenset()
) -> dict[str, str]:
    """The parameters of the query string and the form ``body``; each may appear once, and
    none of ``not_in_query`` in the query string."""
    pairs = parse_form(query_string.decode("latin-1")) if query_string else []
    for name, _value in pairs:
        if name in not_in_query:
            raise OAuthHTTPError(
                400,
                "invalid_request",
                f"The '{name}' parameter must be sent in the request body, not in the URL.",
            )
    if len(body) > MAX_FORM_BYTES:
        raise OAuthHTTPError(413, "invalid_request", "The request body is too large.")
    if body.strip():
        if content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
            raise OAuthHTTPError(
                400, "invalid_request", "The request must be sent as application/x-www-form-urlencoded."
            )
        try:
            pairs += parse_form(body.decode("utf-8"))
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
