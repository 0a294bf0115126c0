"""The one family of OAuth 2.0 errors (RFC 6749 §4.1.2.1, §5.2; RFC 7009 §2.2.1; RFC 7662 §2.3).

The domain raises :class:`OAuthError` with the wire ``error`` code, its ``error_description``
and a status hint; ``http.errors`` renders it (JSON body, ``Cache-Control: no-store``, the
``WWW-Authenticate`` challenge), and ``/authorize`` sends the same two fields to the redirect
URI instead. Nothing here knows header syntax: a failed ``Authorization: Basic`` carries only
the realm its challenge names (RFC 6749 §5.2: 401 with ``WWW-Authenticate``).
"""

from __future__ import annotations

from typing import Final

INVALID_REQUEST: Final = "invalid_request"
INVALID_CLIENT: Final = "invalid_client"
INVALID_GRANT: Final = "invalid_grant"
UNAUTHORIZED_CLIENT: Final = "unauthorized_client"
UNSUPPORTED_GRANT_TYPE: Final = "unsupported_grant_type"
UNSUPPORTED_TOKEN_TYPE: Final = "unsupported_token_type"
INVALID_SCOPE: Final = "invalid_scope"
ACCESS_DENIED: Final = "access_denied"
TEMPORARILY_UNAVAILABLE: Final = "temporarily_unavailable"


class OAuthError(Exception):
    """An OAuth error: ``error``, ``description`` (``error_description``), ``status`` (a hint for
    the HTTP answer) and, for ``invalid_client`` after Basic authentication, ``basic_realm``."""

    def __init__(
        self, error: str, description: str, status: int = 400, *, basic_realm: str | None = None
    ) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status
        self.basic_realm = basic_realm


def invalid_request(description: str, status: int = 400) -> OAuthError:
    return OAuthError(INVALID_REQUEST, description, status)


def invalid_client(description: str, basic_realm: str | None = None) -> OAuthError:
    return OAuthError(INVALID_CLIENT, description, 401, basic_realm=basic_realm)


def invalid_grant(description: str) -> OAuthError:
    return OAuthError(INVALID_GRANT, description)


def unauthorized_client(description: str) -> OAuthError:
    return OAuthError(UNAUTHORIZED_CLIENT, description)


def unsupported_grant_type(description: str = "The grant type in the request isn't supported.") -> OAuthError:
    return OAuthError(UNSUPPORTED_GRANT_TYPE, description)


def invalid_scope(description: str) -> OAuthError:
    return OAuthError(INVALID_SCOPE, description)


def access_denied(description: str, status: int = 403) -> OAuthError:
    return OAuthError(ACCESS_DENIED, description, status)
