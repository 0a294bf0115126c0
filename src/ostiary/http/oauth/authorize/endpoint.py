"""``/v1/authorize`` (RFC 6749 §3.1, OpenID Connect Core §3): the steps, in order.

1. :mod:`.request` — client and redirect URI (failures: an error page, never a redirect); a
   ``request_uri`` from ``/v1/par`` (:mod:`ostiary.http.oauth.par`) brings its pushed parameters;
2. :mod:`.response_type` — response type and mode (:mod:`.post_message` for
   ``okta_post_message``); ``state`` is required;
3. :mod:`.scopes` — the scopes exist, ``openid``/``nonce`` rules;
4. :mod:`.pkce` — the code challenge;
5. :mod:`.prompt` — ``prompt`` and ``max_age``;
6. :mod:`.session` — ``sessionToken`` or the session cookie; sign in if needed;
7. :mod:`.assignment` — the user is assigned to the app;
8. :mod:`.scopes` — the access policies decide;
9. :mod:`.consent` — ask for consent if needed;
10. :mod:`.respond` — code and/or tokens to the redirect URI (:mod:`.audit` logs the outcome).

From step 2 on, a failure goes to the redirect URI. The database transaction commits whatever
happens, so a session started from a ``sessionToken`` survives a refusal (the user is signed
in, as with Okta, even when the app refuses them), and its cookie is always set.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from ostiary.domain.authz.key_rotation import KeyRing
from ostiary.domain.context import Tx
from ostiary.domain.tokens.grants.base import GrantContext
from ostiary.http.auth import client_info
from ostiary.http.login.sessions import set_session_cookie
from ostiary.http.oauth.authorize.assignment import check_assignment
from ostiary.http.oauth.authorize.audit import log_refused, log_signed_in
from ostiary.http.oauth.authorize.consent import check_consent
from ostiary.http.oauth.authorize.errors import AuthorizeError, ErrorPage
from ostiary.http.oauth.authorize.pkce import check_pkce
from ostiary.http.oauth.authorize.post_message import check_post_message
from ostiary.http.oauth.authorize.prompt import check_sign_in, parse_prompt
from ostiary.http.oauth.authorize.request import check_state, parse_request
from ostiary.http.oauth.authorize.respond import error_response, success_response
from ostiary.http.oauth.authorize.response_type import check_response_type, choose_response_mode
from ostiary.http.oauth.authorize.scopes import check_scopes, decide_scopes
from ostiary.http.oauth.authorize.session import find_session
from ostiary.http.oauth.authorize.state import Authorization
from ostiary.http.oauth.pages import error_page, render_page
from ostiary.http.runtime import runtime


async def authorize(request: Request) -> Response:
    try:
        authz = await parse_request(request)
    except ErrorPage as exc:
        return error_page(exc.error, exc.description, status=exc.status)
    choose_response_mode(authz)
    rt = runtime(request)
    ring = await rt.rings.ring(authz.org.id, authz.server.server.id)  # before any write
    async with rt.db.session() as session:
        tx = Tx(session=session, org=authz.org, client=client_info(request))
        try:
            response = await _steps(authz, tx, ring)
        except AuthorizeError as exc:
            log_refused(tx, authz, exc)
            response = error_response(authz, exc)
    if authz.new_session_secret is not None:
        set_session_cookie(response, request, authz.new_session_secret)
    return response


async def check_request(authz: Authorization, session: AsyncSession) -> None:
    """Steps 2-5: what the request asks for is valid (also run by ``/v1/par`` on pushed requests)."""
    check_response_type(authz)
    check_post_message(authz)
    check_state(authz)
    await check_scopes(authz, session)
    check_pkce(authz)
    parse_prompt(authz)


async def _steps(authz: Authorization, tx: Tx, ring: KeyRing) -> Response:
    session = tx.session
    await check_request(authz, session)
    await find_session(authz, tx)
    if (sign_in := check_sign_in(authz)) is not None:
        return sign_in
    await check_assignment(authz, session)
    await decide_scopes(authz, session)
    if (consent := await check_consent(authz, session)) is not None:
        return consent
    response = await success_response(authz, _grant_context(authz, tx, ring))
    log_signed_in(tx, authz)
    return response


def _grant_context(authz: Authorization, tx: Tx, ring: KeyRing) -> GrantContext:
    server = authz.server
    return GrantContext(
        storage=runtime(authz.request).token_storage(tx.session),
        org_id=authz.org.id,
        org_url=server.org_url,
        server=server.server,
        issuer=server.issuer,
        audiences=server.audiences,
        client=authz.client,
        params=authz.params,
        ring=ring,
        signer=runtime(authz.request).signer,
    )


async def resume(request: Request) -> Response:
    """Where the sign-in page returns to: a page that moves on to ``/authorize`` by itself.

    The sign-in form's redirect chain must end here, on this origin: browsers apply the sign-in
    page's CSP ``form-action 'self'`` to every redirect after the form, so a chain that went on
    to the client's redirect URI would be blocked. A meta refresh starts a fresh navigation.
    """
    path = request.url.path.removesuffix("/resume")
    target = f"{path}?{request.url.query}" if request.url.query else path
    return render_page("resume.html", target=target)
