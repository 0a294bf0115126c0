"""Response mode ``okta_post_message``: the answer is a page that hands the code, the tokens or
the error to the app's window with ``postMessage`` (Okta's adaptation of the OAuth 2.0 Web
Message Response Mode draft). okta-auth-js uses it for ``token.getWithoutPrompt()``, silent
``tokenManager.renew()`` (a hidden iframe, ``prompt=none``) and ``getWithPopup()``; it accepts
a message only from the issuer's origin and with the ``state`` it sent.

The page posts ``{code | access_token, id_token, …, state}`` or ``{error, error_description,
state}`` to ``parent`` (in a frame) or ``opener`` (in a popup), with the origin of the request's
redirect URI as the target: that URI was checked against the app's registered ones before any
answer goes out, so the browser delivers the message to no other origin. The same single origin
is the only ``frame-ancestors`` source, instead of ``X-Frame-Options: DENY``: a frame from any
other origin is not rendered and would not receive the message anyway. Org-wide trusted origins
are not used for this: they are shared by every app, and the redirect URI already says where
this app lives. A redirect URI without a web origin (a native app's custom scheme) cannot
receive a message, so the request is refused (by redirect, in the default mode).
"""

from __future__ import annotations

from starlette.responses import Response

from ostiary.domain.directory.trusted_origins import origin_of
from ostiary.http.oauth.authorize.errors import AuthorizeError
from ostiary.http.oauth.authorize.state import Authorization
from ostiary.http.oauth.pages import new_nonce, render_page

OKTA_POST_MESSAGE = "okta_post_message"
NO_WEB_ORIGIN = "The 'okta_post_message' response mode needs a redirect URI with an http or https origin."


def target_origin(redirect_uri: str) -> str | None:
    """The exact origin a message for ``redirect_uri`` may go to; None when it has none."""
    return origin_of(redirect_uri)


def can_post_message(authz: Authorization) -> bool:
    return target_origin(authz.redirect_uri) is not None


def check_post_message(authz: Authorization) -> None:
    """Step: ``okta_post_message`` only for a redirect URI with a web origin."""
    if authz.params.get("response_mode") == OKTA_POST_MESSAGE and not can_post_message(authz):
        raise AuthorizeError("invalid_request", NO_WEB_ORIGIN)


def post_message_policy(origin: str, script_nonce: str) -> str:
    return (
        f"default-src 'none'; script-src 'nonce-{script_nonce}'; form-action 'none'; "
        f"frame-ancestors {origin}; base-uri 'none'"
    )


def post_message_page(authz: Authorization, values: dict[str, str]) -> Response:
    """The page that posts ``values`` (``state`` included by the caller) to the app's window."""
    origin = target_origin(authz.redirect_uri)
    if origin is None:  # choose_response_mode never picks this mode then; keep it impossible
        raise AssertionError("okta_post_message without a web origin")
    nonce = new_nonce()
    response = render_page(
        "post_message.html",
        content_security_policy=post_message_policy(origin, nonce),
        message={"targetOrigin": origin, "data": values},
        nonce=nonce,
    )
    del response.headers["X-Frame-Options"]
    return response
