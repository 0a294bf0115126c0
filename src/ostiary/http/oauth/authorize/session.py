"""Step: who is signing in — a ``sessionToken`` (Okta's extension: redeemed once, starts a new
session and sets its cookie, no page shown) or the browser's ``sid`` session cookie.

A token is redeemed only when the navigation came from the app or this server
(:mod:`ostiary.http.login.handoff`: login CSRF); otherwise it is ignored and left unused. A
redeemed token replaces the browser's ``sid`` cookie, and the session the old cookie named is
ended, whoever's it was (as the ``/login`` form does: a browser holds one session)."""

from __future__ import annotations

from ostiary.domain.context import Tx
from ostiary.domain.directory import sessions as sessions_domain
from ostiary.domain.directory.trusted_origins import origin_of
from ostiary.http.login.handoff import browser_may_redeem
from ostiary.http.login.sessions import end_replaced_session, max_session_lifetime, session_secret
from ostiary.http.oauth.authorize.state import Authorization


async def find_session(authz: Authorization, tx: Tx) -> None:
    token = authz.params.get("sessionToken")
    if token and await _may_redeem(authz):
        started = await sessions_domain.exchange_token(
            tx, token, max_lifetime=max_session_lifetime(authz.request)
        )
        if started is not None:
            await end_replaced_session(tx, authz.request)
            authz.user_session = sessions_domain.signed_in(started.session)
            authz.new_session_secret = started.secret
            authz.fresh_sign_in = True
            return
    authz.user_session = await sessions_domain.signed_in_by_secret(tx, session_secret(authz.request))


async def _may_redeem(authz: Authorization) -> bool:
    return await browser_may_redeem(authz.request, authz.org.id, app_origin=origin_of(authz.redirect_uri))
