"""Last step: the response at the redirect URI — a code, tokens, or an error — with ``state``,
in the response mode: the query or the fragment of a 302 redirect, an auto-submitting
``form_post`` page (OAuth 2.0 Form Post Response Mode), or an ``okta_post_message`` page
(:mod:`.post_message`).

Tokens from this endpoint: an access token evaluated for the ``implicit`` grant, and an ID token
with ``nonce``, ``at_hash`` and ``c_hash`` as the response type asks (thin when it comes with an
access token, as Okta's). A code stores the ``authorization_code`` decision for ``/token``.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from starlette.responses import RedirectResponse, Response

from ostiary.domain.tokens.authorization_codes import CodeGrant, issue_code
from ostiary.domain.tokens.grants.base import GrantContext
from ostiary.domain.tokens.user_tokens import mint_access_token, mint_id_token
from ostiary.http.oauth.authorize.errors import AuthorizeError
from ostiary.http.oauth.authorize.post_message import OKTA_POST_MESSAGE, post_message_page
from ostiary.http.oauth.authorize.response_type import FORM_POST, FRAGMENT
from ostiary.http.oauth.authorize.state import Authorization
from ostiary.http.oauth.pages import csp, new_nonce, render_page

REDIRECT_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache", "Referrer-Policy": "no-referrer"}


def redirect_with(authz: Authorization, values: dict[str, str]) -> Response:
    values = dict(values)
    if authz.state is not None:
        values["state"] = authz.state
    if authz.response_mode == OKTA_POST_MESSAGE:
        return post_message_page(authz, values)
    if authz.response_mode == FORM_POST:
        nonce = new_nonce()
        return render_page(
            "form_post.html",
            content_security_policy=csp(
                form_action=form_action_source(authz.redirect_uri), script_nonce=nonce
            ),
            action=authz.redirect_uri,
            fields=list(values.items()),
            nonce=nonce,
        )
    encoded = urlencode(values)
    if authz.response_mode == FRAGMENT:
        location = f"{authz.redirect_uri}#{encoded}"
    else:
        separator = (
            "" if authz.redirect_uri.endswith(("?", "&")) else "&" if "?" in authz.redirect_uri else "?"
        )
        location = f"{authz.redirect_uri}{separator}{encoded}"
    return RedirectResponse(location, status_code=302, headers=REDIRECT_HEADERS)


def form_action_source(uri: str) -> str:
    """The CSP source that lets a page's form (and the redirects after it) reach ``uri``."""
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:"


def error_response(authz: Authorization, error: AuthorizeError) -> Response:
    return redirect_with(authz, {"error": error.error, "error_description": error.description})


async def success_response(authz: Authorization, ctx: GrantContext) -> Response:
    user, user_session = authz.signed_in_user, authz.signed_in_session
    assert authz.user_context is not None
    authenticated_at = user_session.auth_time
    values: dict[str, str] = {}
    code = None
    if authz.wants_code:
        code = await issue_code(ctx.storage.codes, _code_grant(authz, authenticated_at))
        values["code"] = code
    access_token = None
    if authz.wants_token:
        decision = authz.decisions["implicit"]
        access_token = await mint_access_token(
            ctx,
            user=user,
            scopes=decision.scopes,
            lifetime=decision.access_token_lifetime,
            auth_time=authenticated_at,
            context=authz.user_context,
        )
        values.update(
            access_token=access_token,
            token_type="Bearer",
            expires_in=str(decision.access_token_lifetime),
            scope=" ".join(decision.scopes),
        )
    if authz.wants_id_token:
        values["id_token"] = await mint_id_token(
            ctx,
            user=user,
            scopes=authz.scopes,
            auth_time=authenticated_at,
            amr=list(user_session.amr or ["pwd"]),
            nonce=authz.nonce,
            context=authz.user_context,
            access_token=access_token,
            code=code,
            thin=access_token is not None,
        )
    return redirect_with(authz, values)


def _code_grant(authz: Authorization, authenticated_at: int) -> CodeGrant:
    decision = authz.decisions["authorization_code"]
    return CodeGrant(
        org_id=authz.org.id,
        server_id=authz.server.server.id,
        client_id=authz.client.id,
        user_id=authz.signed_in_user.id,
        redirect_uri=authz.redirect_uri,
        scopes=decision.scopes,
        nonce=authz.nonce,
        code_challenge=authz.code_challenge,
        code_challenge_method=authz.code_challenge_method,
        auth_time=authenticated_at,
        amr=list(authz.signed_in_session.amr or ["pwd"]),
        access_token_lifetime=decision.access_token_lifetime,
        refresh_token_lifetime_minutes=decision.refresh_token_lifetime_minutes,
        refresh_token_window_minutes=decision.refresh_token_window_minutes,
    )
