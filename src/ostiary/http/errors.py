"""The one place that turns errors into Okta's error body (or OAuth's) — never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ostiary import ids
from ostiary.domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unauthenticated
from ostiary.domain.oauth_errors import OAuthError
from ostiary.http.allowed_methods import allow_header
from ostiary.http.responses import json_response

log = logging.getLogger("ostiary.http")

_STATUS = {Invalid: 400, Unauthenticated: 401, Forbidden: 403, NotFound: 404, Conflict: 409}
_DEFAULT_CODES = {400: "E0000001", 401: "E0000011", 403: "E0000006", 404: "E0000007", 409: "E0000001"}


def okta_error_body(code: str, summary: str, causes: Iterable[str] = ()) -> dict[str, Any]:
    return {
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": ids.error_id(),
        "errorCauses": [{"errorSummary": c} for c in causes],
    }


def okta_error(
    status: int,
    code: str,
    summary: str,
    causes: Iterable[str] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    return json_response(okta_error_body(code, summary, causes), status, headers)


def oauth_error(
    status: int, error: str, description: str, headers: Mapping[str, str] | None = None
) -> Response:
    return json_response(oauth_error_body(error, description), status, headers)


def oauth_error_body(error: str, description: str) -> dict[str, str]:
    """RFC 6749 §5.2: ``error`` and ``error_description``."""
    return {"error": error, "error_description": description}


class OktaHTTPError(Exception):
    """Raised by handlers for errors that are about HTTP, not the domain (bad JSON, bad auth)."""

    def __init__(
        self,
        status: int,
        code: str,
        summary: str,
        causes: Iterable[str] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(summary)
        self.status, self.code, self.summary = status, code, summary
        self.causes = list(causes)
        self.headers = dict(headers or {})


class OAuthHTTPError(OAuthError):
    """An OAuth error about HTTP rather than the domain (a body too large, a bearer token for
    userinfo), with extra response headers; rendered as every :class:`OAuthError`."""

    def __init__(
        self, status: int, error: str, description: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(error, description, status)
        self.headers = dict(headers or {})


OAUTH_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error_headers(exc: OAuthError) -> dict[str, str]:
    """The headers of an OAuth error's answer besides the no-store pair: the Basic challenge
    of a failed ``Authorization: Basic`` (RFC 6749 §5.2), and an HTTP error's own headers."""
    headers: dict[str, str] = {}
    if exc.basic_realm is not None:
        headers["WWW-Authenticate"] = f'Basic realm="{exc.basic_realm}"'
    if isinstance(exc, OAuthHTTPError):
        headers.update(exc.headers)
    return headers


def malformed_body() -> OktaHTTPError:
    return OktaHTTPError(400, "E0000003", "The request body was not well-formed.")


def domain_error_response(exc: DomainError) -> Response:
    status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 400)
    return okta_error(status, exc.code or _DEFAULT_CODES.get(status, "E0000001"), exc.message, exc.causes)


async def handle_domain_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return domain_error_response(exc)


async def handle_okta_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OktaHTTPError)
    return okta_error(exc.status, exc.code, exc.summary, exc.causes, exc.headers)


def oauth_error_response(exc: OAuthError) -> Response:
    """Every OAuth error of the /oauth2 endpoints but ``/authorize``'s redirects (RFC 6749 §5.2)."""
    headers = {**OAUTH_NO_STORE, **oauth_error_headers(exc)}
    return oauth_error(exc.status, exc.error, exc.description, headers)


async def handle_oauth_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)
    return oauth_error_response(exc)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return okta_error(404, "E0000007", f"Not found: Resource not found: {request.url.path} (Path)")
    if exc.status_code == 405:
        return method_not_allowed(allow_header(request), exc.headers)
    return okta_error(exc.status_code, "E0000001", str(exc.detail))


def method_not_allowed(allow: str | None, headers: Mapping[str, str] | None = None) -> Response:
    """Okta's 405, with ``Allow`` naming the methods the path accepts."""
    return okta_error(
        405,
        "E0000022",
        "The endpoint does not support the provided HTTP method",
        headers={**(headers or {}), **({"Allow": allow} if allow else {})},
    )


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return okta_error(500, "E0000009", "Internal Server Error")


EXCEPTION_HANDLERS = {
    DomainError: handle_domain_error,
    OktaHTTPError: handle_okta_error,
    OAuthError: handle_oauth_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
