"""The admin API's one error family: ``{errorCode, message, details}`` with its status."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class AdminError(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


def bad_request(message: str = "Request validation failed", **details: Any) -> AdminError:
    return AdminError(400, "BAD_REQUEST", message, details)


def unauthorized(message: str = "Authentication is required or has failed", **details: Any) -> AdminError:
    return AdminError(401, "UNAUTHORIZED", message, details)


def forbidden(scope: str) -> AdminError:
    return AdminError(403, "FORBIDDEN", "Insufficient permission", {"requiredScope": scope})


def not_found(what: str = "resource") -> AdminError:
    return AdminError(404, "NOT_FOUND", f"The requested {what} could not be found")


def error_response(error: AdminError) -> Response:
    headers = {"Cache-Control": "no-store"}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="access-gateway"'
    body = {"errorCode": error.code, "message": error.message, "details": error.details}
    return JSONResponse(body, status_code=error.status, headers=headers)


async def admin_error_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AdminError)
    return error_response(exc)


async def internal_error_handler(_request: Request, _exc: Exception) -> Response:
    return JSONResponse(
        {
            "errorCode": "INTERNAL_SERVER_ERROR",
            "message": "An unexpected error occurred on the server side",
            "details": {},
        },
        status_code=500,
    )
