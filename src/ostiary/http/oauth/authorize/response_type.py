"""Step 2: the response type and how the response travels (OAuth 2.0 Multiple Response Types).

``response_type`` is a set of ``code``, ``token`` and ``id_token`` (order does not matter),
each of which the app must allow: ``code`` with the ``authorization_code`` grant, ``token``
and ``id_token`` with ``implicit`` (and in the app's ``response_types``). ``response_mode`` is
``query``, ``fragment``, ``form_post`` or ``okta_post_message`` (:mod:`.post_message`); it
defaults to ``query`` for ``code`` and ``fragment`` when tokens are returned, which must never
travel in the query.
"""

from __future__ import annotations

from typing import Final

from ostiary.http.oauth.authorize.errors import AuthorizeError
from ostiary.http.oauth.authorize.post_message import OKTA_POST_MESSAGE, can_post_message
from ostiary.http.oauth.authorize.state import Authorization

CODE, TOKEN, ID_TOKEN = "code", "token", "id_token"
QUERY, FRAGMENT, FORM_POST = "query", "fragment", "form_post"
RESPONSE_TYPES: Final = (
    "code",
    "token",
    "id_token",
    "code id_token",
    "code token",
    "code id_token token",
    "id_token token",
)
RESPONSE_MODES: Final = (QUERY, FRAGMENT, FORM_POST, OKTA_POST_MESSAGE)
_SUPPORTED: Final = frozenset(frozenset(value.split()) for value in RESPONSE_TYPES)
_GRANT_FOR: Final = {CODE: "authorization_code", TOKEN: "implicit", ID_TOKEN: "implicit"}
UNSUPPORTED_MODE: Final = (
    "The response mode isn't supported by the authorization server. "
    "Valid response modes: [`query`, `fragment`, `form_post`, `okta_post_message`]."
)


def _requested_types(authz: Authorization) -> frozenset[str]:
    return frozenset(authz.params.get("response_type", "").split())


def choose_response_mode(authz: Authorization) -> None:
    """Set the mode that errors and the response use; runs first, so it never raises."""
    types = _requested_types(authz)
    default = FRAGMENT if types & {TOKEN, ID_TOKEN} else QUERY
    requested = authz.params.get("response_mode")
    if requested == OKTA_POST_MESSAGE and not can_post_message(authz):
        authz.response_mode = default
    elif requested in RESPONSE_MODES and not (requested == QUERY and default == FRAGMENT):
        authz.response_mode = requested
    else:
        authz.response_mode = default


def check_response_type(authz: Authorization) -> None:
    raw = authz.params.get("response_type")
    if not raw:
        raise AuthorizeError("invalid_request", "The 'response_type' parameter is required.")
    types = _requested_types(authz)
    if types not in _SUPPORTED:
        raise AuthorizeError(
            "unsupported_response_type", "The response type contained in the request isn't supported."
        )
    client = authz.client
    refused = [
        t for t in sorted(types) if t not in client.response_types or _GRANT_FOR[t] not in client.grant_types
    ]
    if refused:
        raise AuthorizeError(
            "unsupported_response_type",
            "The response type is not supported by the authorization server. "
            f"Configured response types: {list(client.response_types)}.",
        )
    authz.response_types = types
    check_response_mode(authz)


def check_response_mode(authz: Authorization) -> None:
    requested = authz.params.get("response_mode")
    if requested is None:
        return
    if requested not in RESPONSE_MODES:
        raise AuthorizeError("unsupported_response_mode", UNSUPPORTED_MODE)
    if requested == QUERY and authz.response_types & {TOKEN, ID_TOKEN}:
        raise AuthorizeError(
            "invalid_request",
            "The 'query' response mode isn't allowed when the response type includes 'token' or 'id_token'.",
        )


def grant_types_of(authz: Authorization) -> tuple[str, ...]:
    """The grant types the access policies are asked about for this response type."""
    return tuple(dict.fromkeys(_GRANT_FOR[t] for t in sorted(authz.response_types)))
