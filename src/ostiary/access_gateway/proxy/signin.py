"""Sessions and sign-in: the session of a request, who a policy admits, the redirect to the
org, the callback that opens a session, and logout (see :mod:`.oidc` for the protocol)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final
from urllib.parse import quote

from ostiary.access_gateway.proxy import pages
from ostiary.access_gateway.proxy.attributes import rule_data
from ostiary.access_gateway.proxy.config import Policy, ProxyApp
from ostiary.access_gateway.proxy.exchange import (
    CALLBACK,
    SIGNED_OUT,
    START,
    Answer,
    Exchange,
    callback_uri,
    public_origin,
    same_domain_target,
    session_cookie_name,
    set_cookie,
    state_cookie_name,
    with_header,
)
from ostiary.access_gateway.proxy.metrics import ProxyMetrics
from ostiary.access_gateway.proxy.oidc import OrgSignIn, SignInFailed, authorize_url, logout_url, pkce_pair
from ostiary.access_gateway.proxy.relay import PATH_SAFE
from ostiary.access_gateway.proxy.sessions import (
    GatewaySession,
    PendingSignIn,
    SessionStore,
    SignInSeal,
    digest,
    is_live,
    new_cookie_value,
)
from ostiary.randomness import token_urlsafe

log = logging.getLogger(__name__)

STATE_TTL: Final = 600
MAX_RETURN_TO: Final = 2000


class SignInFlow:
    """The session side of the proxy: one per gateway, shared by every app (sessions are
    bound to their app by id, cookies by name)."""

    def __init__(
        self,
        sessions: SessionStore,
        metrics: ProxyMetrics,
        org: Callable[[], OrgSignIn],
        seal: SignInSeal | None = None,
    ) -> None:
        self.sessions = sessions
        self.metrics = metrics
        self.org = org
        self.seal = seal or SignInSeal()

    async def load_session(self, ex: Exchange, app: ProxyApp) -> GatewaySession | None:
        value = ex.cookies().get(session_cookie_name(app))
        if not value:
            return None
        key = digest(value)
        session = await self.sessions.load(key)
        now = time.time()
        if session is None or session.app_id != app.id or not is_live(session, app.session, now):
            if session is not None:
                await self.sessions.delete(key)
            return None
        await self.sessions.touch(key, now)
        ex.session = session
        return session

    def admits(self, app: ProxyApp, policy: Policy, session: GatewaySession, remote: str | None) -> bool:
        oidc = app.oidc
        if oidc is not None and oidc.group_names is not None and not (oidc.group_names & set(session.groups)):
            return False
        if policy.access_rule is not None:
            return policy.access_rule.allows(rule_data(app, session, remote))
        return True

    def denied(self, app: ProxyApp) -> Answer:
        behavior = app.behavior
        if behavior.policy_denied == "STATUS_CODE_403":
            return pages.blank(403)
        if behavior.policy_denied == "CUSTOM_URL" and behavior.policy_denied_url:
            return pages.redirect(behavior.policy_denied_url)
        return pages.page("denied")

    async def no_session(self, ex: Exchange, app: ProxyApp) -> Answer:
        behavior = app.behavior
        if behavior.no_session == "OAG_DEFAULT_PAGE":
            link = f'<p><a href="{START}?rd=/">Sign in</a></p>'
            return pages.page("no_session", extra_html=link)
        if behavior.no_session == "CUSTOM_URL" and behavior.no_session_url:
            return pages.redirect(behavior.no_session_url)
        if ex.scope["method"] in ("GET", "HEAD") and app.session.deep_linking:
            query = ex.scope.get("query_string", b"").decode("latin-1")
            target = quote(ex.path, safe=PATH_SAFE) + (f"?{query}" if query else "")
        else:
            target = same_domain_target(app, ex.scheme, app.post_login_url) or "/"
        return self.begin(ex, app, target, force=behavior.no_session == "IDP_FORCE_AUTHN")

    def begin(self, ex: Exchange, app: ProxyApp, target: str, *, force: bool = False) -> Answer:
        if app.oidc is None:
            return pages.page("misconfigured")
        state, nonce = token_urlsafe(32), token_urlsafe(32)
        verifier, challenge = pkce_pair()
        if len(target) > MAX_RETURN_TO:  # the state cookie must stay well under 4 KiB
            target = same_domain_target(app, ex.scheme, app.post_login_url) or "/"
        sealed = self.seal.seal(state, PendingSignIn(app.id, verifier, nonce, target, time.time()))
        url = authorize_url(
            app.oidc,
            redirect_uri=callback_uri(app, ex.scheme),
            state=state,
            nonce=nonce,
            challenge=challenge,
            force=force,
        )
        cookie = set_cookie(
            state_cookie_name(app), sealed, secure=ex.scheme == "https", max_age=STATE_TTL, path=CALLBACK
        )
        return pages.redirect(url, extra=[cookie])

    async def callback(self, ex: Exchange, app: ProxyApp) -> Answer:
        params = ex.query()
        state = params.get("state", "")
        sealed = ex.cookies().get(state_cookie_name(app))
        secure = ex.scheme == "https"
        clear_state = set_cookie(state_cookie_name(app), "", secure=secure, max_age=0, path=CALLBACK)
        pending = self.seal.open(state, sealed)
        if pending is None or pending.app_id != app.id or app.oidc is None:
            self.metrics.count_signin(app.name, "bad_state")
            refused = pages.page("bad_request", detail="the sign-in expired or was started elsewhere")
            return with_header(refused, clear_state)
        if "error" in params:
            if params["error"] == "access_denied":
                self.metrics.count_signin(app.name, "denied")
                return with_header(self.denied(app), clear_state)
            self.metrics.count_signin(app.name, "org_error")
            return with_header(pages.page("signin_failed"), clear_state)
        try:
            identity = await self.org().exchange(
                app.oidc,
                code=params.get("code", ""),
                verifier=pending.verifier,
                redirect_uri=callback_uri(app, ex.scheme),
                nonce=pending.nonce,
            )
        except SignInFailed as exc:
            log.warning("app %s: sign-in failed: %s", app.name, exc.reason)
            self.metrics.count_signin(app.name, exc.reason.split(":")[0])
            return with_header(pages.page("signin_failed"), clear_state)
        claims = identity.claims
        groups = tuple(g for g in claims.get("groups") or [] if isinstance(g, str))
        now = time.time()
        session = GatewaySession(
            app_id=app.id,
            user_id=str(claims["sub"]),
            login=str(claims.get("preferred_username") or claims.get("email") or claims["sub"]),
            email=claims.get("email") if isinstance(claims.get("email"), str) else None,
            groups=groups,
            claims={k: v for k, v in claims.items() if k not in ("nonce", "at_hash", "c_hash")},
            id_token=identity.id_token,
            created_at=now,
            last_seen=now,
        )
        ex.session = session
        oidc = app.oidc
        if oidc.group_names is not None and not (oidc.group_names & set(groups)):
            self.metrics.count_signin(app.name, "denied")
            return with_header(self.denied(app), clear_state)
        value = new_cookie_value()
        await self.sessions.save(digest(value), session)
        self.metrics.count_signin(app.name, "success")
        max_age = None
        if not app.session.browser_session and app.session.max and app.session.max_timeout > 0:
            max_age = app.session.max_timeout
        cookie = set_cookie(session_cookie_name(app), value, secure=ex.scheme == "https", max_age=max_age)
        return pages.redirect(pending.return_to, extra=[cookie, clear_state])

    async def logout(self, ex: Exchange, app: ProxyApp) -> Answer:
        name = session_cookie_name(app)
        value = ex.cookies().get(name)
        session = None
        if value:
            key = digest(value)
            session = await self.sessions.load(key)
            await self.sessions.delete(key)
        clear = set_cookie(name, "", secure=ex.scheme == "https", max_age=0)
        signed_out = public_origin(app, ex.scheme) + SIGNED_OUT
        if app.behavior.single_logout and session is not None and app.oidc is not None:
            url = logout_url(app.oidc, id_token=session.id_token, post_logout_redirect_uri=signed_out)
            return pages.redirect(url, extra=[clear])
        return pages.redirect(app.behavior.post_logout_url or SIGNED_OUT, extra=[clear])
