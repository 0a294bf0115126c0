"""The proxy as a plain ASGI app serving every app's public domain.

A request's ``Host`` (lower-cased, port included) names the app (:mod:`.catalog`). Then:

1. the app's state: not ``ACTIVE`` → the inactive page (``MAINTENANCE`` → the
   maintenance page); never the upstream;
2. ``/_ostiary/*``: the sign-in callback, forward-auth (``auth``, ``start``), ``logout``
   and ``signed-out``; the app's logout path (``behavior.logoutPath``);
3. the policy of the path (:mod:`.policies`); without a session where one is needed → the
   org's sign-in (or what ``behavior.noSession`` says); a user the app's groups or the
   policy's rule do not admit → the policy-denied page (403);
4. the request goes to a protected resource (:mod:`.balancer`, :mod:`.relay`) with the
   client's copies of the app's attribute headers and cookies removed and the session's
   added (:mod:`.attributes`), with ``X-Ostiary-Assertion`` (:mod:`.assertion`).

Each request is one access log line (logger ``ostiary.access_gateway.access``: app, user,
method, path without query, status, upstream, milliseconds; never a cookie or a token)
and counted in :class:`.metrics.ProxyMetrics`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qs, quote, unquote, urlsplit

import aiohttp

from ostiary.access_gateway.proxy import pages
from ostiary.access_gateway.proxy.assertion import (
    HEADER as ASSERTION_HEADER,
)
from ostiary.access_gateway.proxy.assertion import (
    AssertionKeys,
    EphemeralAssertionKeys,
    assertion_claims,
    sign_assertion,
)
from ostiary.access_gateway.proxy.attributes import (
    Headers,
    reserved_names,
    rule_data,
    session_attributes,
)
from ostiary.access_gateway.proxy.balancer import Balancer
from ostiary.access_gateway.proxy.catalog import AppCatalog, CachedCatalog
from ostiary.access_gateway.proxy.config import HealthCheck, Policy, ProxyApp
from ostiary.access_gateway.proxy.metrics import ProxyMetrics
from ostiary.access_gateway.proxy.oidc import OrgSignIn, SignInFailed, authorize_url, logout_url, pkce_pair
from ostiary.access_gateway.proxy.policies import needs_session, policies_for, sends_identity
from ostiary.access_gateway.proxy.relay import (
    PATH_SAFE,
    BodyTooLarge,
    ClientGone,
    UpstreamFailed,
    relay,
    upstream_request,
)
from ostiary.access_gateway.proxy.sessions import (
    GatewaySession,
    MemorySessionStore,
    PendingSignIn,
    PendingSignIns,
    SessionStore,
    digest,
    is_live,
    new_cookie_value,
)
from ostiary.jose.jwks_cache import JwksCache
from ostiary.randomness import token_urlsafe
from ostiary.request_paths import path_problem

log = logging.getLogger(__name__)
access_log = logging.getLogger("ostiary.access_gateway.access")

PREFIX: Final = "/_ostiary/"
CALLBACK: Final = "/_ostiary/callback"
AUTH: Final = "/_ostiary/auth"
START: Final = "/_ostiary/start"
LOGOUT: Final = "/_ostiary/logout"
SIGNED_OUT: Final = "/_ostiary/signed-out"
FORWARD_AUTH_HEADERS: Final = ("x-auth-request-user", "x-auth-request-email", "x-auth-request-groups")
STATE_TTL: Final = 600

Scope = dict[str, Any]
Answer = tuple[int, Headers, bytes]


@dataclass
class Exchange:
    """One request as it goes through the proxy (for the access log and metrics)."""

    scope: Scope
    host: str
    started: float = field(default_factory=time.perf_counter)
    app: ProxyApp | None = None
    session: GatewaySession | None = None
    upstream: str | None = None

    @property
    def path(self) -> str:
        return str(self.scope["path"])

    @property
    def scheme(self) -> str:
        return str(self.scope.get("scheme", "http"))

    @property
    def remote(self) -> str | None:
        client = self.scope.get("client")
        return str(client[0]) if client else None

    def header(self, name: bytes) -> str | None:
        for key, value in self.scope["headers"]:
            if key == name:
                return str(value.decode("latin-1"))
        return None

    def cookies(self) -> dict[str, str]:
        """Cookies by name (the first of a name wins), read leniently: one odd cookie of the
        upstream's never hides the gateway's."""
        found: dict[str, str] = {}
        for key, value in self.scope["headers"]:
            if key == b"cookie":
                for pair in value.decode("latin-1").split(";"):
                    name, _, cookie_value = pair.partition("=")
                    found.setdefault(name.strip(), cookie_value.strip().strip('"'))
        return found

    def query(self) -> dict[str, str]:
        raw = self.scope.get("query_string", b"").decode("latin-1")
        return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


def _cookie_suffix(app: ProxyApp) -> str:
    return hashlib.sha256(app.id.encode()).hexdigest()[:12]


def session_cookie_name(app: ProxyApp) -> str:
    return f"ostiary_oag_{_cookie_suffix(app)}"


def state_cookie_name(app: ProxyApp) -> str:
    return f"ostiary_oag_state_{_cookie_suffix(app)}"


def public_origin(app: ProxyApp, scheme: str) -> str:
    return f"{scheme}://{app.public_domain}"


def _set_cookie(
    name: str, value: str, *, secure: bool, max_age: int | None, path: str = "/"
) -> tuple[bytes, bytes]:
    parts = [f"{name}={value}", f"Path={path}", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    return b"set-cookie", "; ".join(parts).encode("latin-1")


def same_domain_target(app: ProxyApp, scheme: str, target: str | None) -> str | None:
    """``target`` as a path on the app's public domain, or ``None`` when it points anywhere
    else (an open redirect refused): a path (not ``//`` nor ``/\\``), or an absolute URL on
    exactly the public origin."""
    if not target:
        return None
    if target.startswith("/"):
        if target.startswith(("//", "/\\")) or any(c in target for c in "\r\n\t\\"):
            return None
        return target
    parts = urlsplit(target)
    if parts.scheme != scheme or parts.netloc.lower() != app.public_domain or "@" in parts.netloc:
        return None
    path = parts.path or "/"
    if path.startswith("//") or any(c in target for c in "\r\n\t\\"):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def start_target(scope: Scope) -> str | None:
    """``rd`` of ``/_ostiary/start``. A query starting ``rd=`` is read whole as the target:
    nginx's ``return 302 /_ostiary/start?rd=$request_uri`` cannot encode it, so the target's
    own ``?a=1&b=2`` stays part of it (an encoded ``rd`` reads the same)."""
    raw = scope.get("query_string", b"").decode("latin-1")
    if raw.startswith("rd="):
        return unquote(raw[3:])
    values = parse_qs(raw).get("rd")
    return values[0] if values else None


class AccessGatewayProxy:
    """The ASGI app (see the module docstring). Build it with :func:`make_proxy_app`."""

    def __init__(
        self,
        catalog: AppCatalog,
        *,
        public_url: str,
        assertion_keys: AssertionKeys,
        sessions: SessionStore,
        metrics: ProxyMetrics,
        catalog_ttl: float,
    ) -> None:
        self.catalog = CachedCatalog(catalog, ttl=catalog_ttl)
        self.public_url = public_url.rstrip("/")
        self.assertion_keys = assertion_keys
        self.sessions = sessions
        self.metrics = metrics
        self.pending = PendingSignIns()
        self.balancer = Balancer(self._probe)
        self._http: aiohttp.ClientSession | None = None
        self._jwks: JwksCache | None = None

    # --- lifecycle ------------------------------------------------------------------

    def http(self) -> aiohttp.ClientSession:
        """One client session for upstreams and the org, made on first use in the running loop
        (a mounted app gets no lifespan events)."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=10),
            )
            self._jwks = JwksCache(session=self._http)
        return self._http

    def org(self) -> OrgSignIn:
        http = self.http()
        assert self._jwks is not None
        return OrgSignIn(http, self._jwks)

    async def aclose(self) -> None:
        await self.balancer.aclose()
        if self._jwks is not None:
            await self._jwks.close()
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _probe(self, url: str, check: HealthCheck) -> bool:
        timeout = aiohttp.ClientTimeout(total=check.timeout)
        try:
            async with self.http().get(url, timeout=timeout, allow_redirects=False) as response:
                return response.status == check.status_code
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await self.handle(scope, receive, send)
        elif scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})

    # --- one request ----------------------------------------------------------------

    async def handle(self, scope: Scope, receive: Any, send: Any) -> None:
        host = ""
        for name, value in scope["headers"]:
            if name == b"host":
                host = value.decode("latin-1").strip().lower()
                break
        ex = Exchange(scope, host)
        status = 500
        try:
            answer = await self._route(ex, receive, send)
            if isinstance(answer, int):
                status = answer
            else:
                status = answer[0]
                await _send_answer(send, answer, head=scope["method"] == "HEAD")
        finally:
            self._log(ex, status)

    def _log(self, ex: Exchange, status: int) -> None:
        app_name = ex.app.name if ex.app else "-"
        self.metrics.count_request(app_name, status)
        if access_log.isEnabledFor(logging.INFO):
            line = {
                "app": app_name,
                "host": ex.host,
                "user": ex.session.login if ex.session else None,
                "method": ex.scope["method"],
                "path": ex.path,
                "status": status,
                "upstream": ex.upstream,
                "ms": round((time.perf_counter() - ex.started) * 1000, 1),
            }
            access_log.info("%s", json.dumps(line, separators=(",", ":")))

    async def _route(self, ex: Exchange, receive: Any, send: Any) -> Answer | int:
        if not ex.host:
            return pages.page("bad_request")
        app, problem = await self.catalog.app(ex.host)
        forwarded_host = ex.header(b"x-forwarded-host") if ex.path == AUTH else None
        if app is None and forwarded_host:  # Traefik's ForwardAuth calls with its own Host
            ex.host = forwarded_host.strip().lower()
            app, problem = await self.catalog.app(ex.host)
        if app is None:
            return pages.page("misconfigured" if problem else "unknown_host")
        ex.app = app
        if path_problem(ex.path, allow_semicolons=True):
            return pages.page("bad_request")
        if app.status != "ACTIVE":
            self.balancer.forget(app.id)
        if app.status == "MAINTENANCE":
            return _custom_or_page(app.behavior.maintenance, app.behavior.maintenance_url, "maintenance")
        if app.status != "ACTIVE":
            return _custom_or_page(app.behavior.inactive, app.behavior.inactive_url, "inactive")
        session = await self._session(ex, app)
        path = ex.path
        if path.startswith(PREFIX) or path == PREFIX[:-1]:
            return await self._own_path(ex, app, session)
        if path == app.behavior.logout_path:
            return await self._logout(ex, app)
        policies = policies_for(app, path)
        if any(needs_session(p, app) for p in policies):
            if session is None:
                return await self._no_session(ex, app)
            if not all(self._admits(app, p, session, ex.remote) for p in policies):
                return self._denied(app)
        return await self._forward(ex, app, policies[0], session, receive, send)

    async def _own_path(self, ex: Exchange, app: ProxyApp, session: GatewaySession | None) -> Answer:
        path = ex.path
        if path == CALLBACK:
            return await self._callback(ex, app)
        if path == AUTH:
            return self._forward_auth(ex, app, session)
        if path == START:
            target = same_domain_target(app, ex.scheme, start_target(ex.scope) or "/")
            if target is None:
                return pages.page("bad_request", detail="rd must stay on this application's domain")
            if session is not None:
                return pages.redirect(target)
            return self._begin_sign_in(ex, app, target)
        if path == LOGOUT:
            return await self._logout(ex, app)
        if path == SIGNED_OUT:
            if app.behavior.post_logout_url:
                return pages.redirect(app.behavior.post_logout_url)
            return pages.page("signed_out")
        return pages.page("not_found")

    # --- sessions -------------------------------------------------------------------

    async def _session(self, ex: Exchange, app: ProxyApp) -> GatewaySession | None:
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

    def _admits(self, app: ProxyApp, policy: Policy, session: GatewaySession, remote: str | None) -> bool:
        oidc = app.oidc
        if oidc is not None and oidc.group_names is not None and not (oidc.group_names & set(session.groups)):
            return False
        if policy.access_rule is not None:
            return policy.access_rule.allows(rule_data(app, session, remote))
        return True

    def _denied(self, app: ProxyApp) -> Answer:
        behavior = app.behavior
        if behavior.policy_denied == "STATUS_CODE_403":
            return pages.blank(403)
        if behavior.policy_denied == "CUSTOM_URL" and behavior.policy_denied_url:
            return pages.redirect(behavior.policy_denied_url)
        return pages.page("denied")

    async def _no_session(self, ex: Exchange, app: ProxyApp) -> Answer:
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
        return self._begin_sign_in(ex, app, target, force=behavior.no_session == "IDP_FORCE_AUTHN")

    def _begin_sign_in(self, ex: Exchange, app: ProxyApp, target: str, *, force: bool = False) -> Answer:
        if app.oidc is None:
            return pages.page("misconfigured")
        state, nonce = token_urlsafe(32), token_urlsafe(32)
        verifier, challenge = pkce_pair()
        self.pending.add(state, PendingSignIn(app.id, verifier, nonce, target, time.time()))
        url = authorize_url(
            app.oidc,
            redirect_uri=public_origin(app, ex.scheme) + CALLBACK,
            state=state,
            nonce=nonce,
            challenge=challenge,
            force=force,
        )
        cookie = _set_cookie(
            state_cookie_name(app), state, secure=ex.scheme == "https", max_age=STATE_TTL, path=CALLBACK
        )
        return pages.redirect(url, extra=[cookie])

    async def _callback(self, ex: Exchange, app: ProxyApp) -> Answer:
        params = ex.query()
        state = params.get("state", "")
        expected = ex.cookies().get(state_cookie_name(app))
        secure = ex.scheme == "https"
        clear_state = _set_cookie(state_cookie_name(app), "", secure=secure, max_age=0, path=CALLBACK)
        pending = self.pending.take(state) if state and expected == state else None
        if pending is None or pending.app_id != app.id or app.oidc is None:
            self.metrics.count_signin(app.name, "bad_state")
            refused = pages.page("bad_request", detail="the sign-in expired or was started elsewhere")
            return _with(refused, clear_state)
        if "error" in params:
            if params["error"] == "access_denied":
                self.metrics.count_signin(app.name, "denied")
                return _with(self._denied(app), clear_state)
            self.metrics.count_signin(app.name, "org_error")
            return _with(pages.page("signin_failed"), clear_state)
        try:
            identity = await self.org().exchange(
                app.oidc,
                code=params.get("code", ""),
                verifier=pending.verifier,
                redirect_uri=public_origin(app, ex.scheme) + CALLBACK,
                nonce=pending.nonce,
            )
        except SignInFailed as exc:
            log.warning("app %s: sign-in failed: %s", app.name, exc.reason)
            self.metrics.count_signin(app.name, exc.reason.split(":")[0])
            return _with(pages.page("signin_failed"), clear_state)
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
            return _with(self._denied(app), clear_state)
        value = new_cookie_value()
        await self.sessions.save(digest(value), session)
        self.metrics.count_signin(app.name, "success")
        max_age = None
        if not app.session.browser_session and app.session.max and app.session.max_timeout > 0:
            max_age = app.session.max_timeout
        cookie = _set_cookie(session_cookie_name(app), value, secure=ex.scheme == "https", max_age=max_age)
        return pages.redirect(pending.return_to, extra=[cookie, clear_state])

    async def _logout(self, ex: Exchange, app: ProxyApp) -> Answer:
        name = session_cookie_name(app)
        value = ex.cookies().get(name)
        session = None
        if value:
            key = digest(value)
            session = await self.sessions.load(key)
            await self.sessions.delete(key)
        clear = _set_cookie(name, "", secure=ex.scheme == "https", max_age=0)
        signed_out = public_origin(app, ex.scheme) + SIGNED_OUT
        if app.behavior.single_logout and session is not None and app.oidc is not None:
            url = logout_url(app.oidc, id_token=session.id_token, post_logout_redirect_uri=signed_out)
            return pages.redirect(url, extra=[clear])
        return pages.redirect(app.behavior.post_logout_url or SIGNED_OUT, extra=[clear])

    # --- forward-auth -----------------------------------------------------------------

    def _forward_auth(self, ex: Exchange, app: ProxyApp, session: GatewaySession | None) -> Answer:
        """nginx ``auth_request`` (``X-Original-URI``), Traefik ``ForwardAuth`` and Caddy
        ``forward_auth`` (``X-Forwarded-Uri``). The original URI arrives as the client sent it:
        its path is percent-decoded and checked before the policy is chosen, as the proxy mode
        does. ``?redirect=1`` answers a missing session with a 302 to the sign-in (Traefik and
        Caddy hand the answer to the browser; nginx needs the 401 and an ``error_page``)."""
        original = ex.header(b"x-original-uri") or ex.header(b"x-forwarded-uri") or "/"
        path = unquote(urlsplit(original).path) or "/"
        if path_problem(path, allow_semicolons=True):
            return pages.blank(400)
        policies = policies_for(app, path)
        policy = policies[0]
        needed = any(needs_session(p, app) for p in policies)
        if not needed and (session is None or not sends_identity(policy, app)):
            return pages.blank(202)
        if session is None:
            if ex.query().get("redirect") in ("1", "true"):
                proto = ex.header(b"x-forwarded-proto")
                scheme = proto if proto in ("http", "https") else ex.scheme
                start = f"{public_origin(app, scheme)}{START}?rd={quote(original, safe='/')}"
                return pages.redirect(start)
            return pages.blank(401)
        if not all(self._admits(app, p, session, ex.remote) for p in policies):
            return pages.blank(403)
        status, headers, body = pages.blank(202)
        headers = [
            *headers,
            (b"x-auth-request-user", session.login.encode("latin-1", "replace")),
            (b"x-auth-request-email", (session.email or "").encode("latin-1", "replace")),
            (b"x-auth-request-groups", ",".join(session.groups).encode("latin-1", "replace")),
            (ASSERTION_HEADER.encode(), self._assertion(app, session, ex.scheme).encode()),
        ]
        identity, _cookies = session_attributes(app, session, ex.remote)
        headers += identity
        return status, headers, body

    # --- proxying -----------------------------------------------------------------------

    def _assertion(self, app: ProxyApp, session: GatewaySession, scheme: str) -> str:
        claims = assertion_claims(
            issuer=self.public_url,
            audience=public_origin(app, scheme),
            sub=session.user_id,
            email=session.email,
            groups=session.groups,
        )
        return sign_assertion(self.assertion_keys, claims)

    async def _forward(
        self,
        ex: Exchange,
        app: ProxyApp,
        policy: Policy,
        session: GatewaySession | None,
        receive: Any,
        send: Any,
    ) -> Answer | int:
        resource = self.balancer.pick(app)
        if resource is None:
            self.metrics.count_upstream_error(app.name, "no_healthy_host")
            return pages.page("bad_gateway")
        ex.upstream = resource.hostname
        identity: Headers = []
        cookies: list[str] = []
        if session is not None and sends_identity(policy, app):
            identity, cookies = session_attributes(app, session, ex.remote)
            identity.append((ASSERTION_HEADER.encode(), self._assertion(app, session, ex.scheme).encode()))
        reserved = reserved_names(app) | set(FORWARD_AUTH_HEADERS)
        outgoing = upstream_request(
            ex.scope,
            app,
            resource,
            reserved=frozenset(reserved),
            own_cookies=(session_cookie_name(app), state_cookie_name(app)),
            identity=identity,
            identity_cookies=cookies,
        )
        started = time.perf_counter()
        try:
            status = await relay(
                self.http(),
                outgoing,
                ex.scope,
                receive,
                send,
                limit=app.max_body_bytes,
                read_timeout=app.proxy_read_timeout,
            )
        except BodyTooLarge:
            return pages.page("too_large")
        except ClientGone:
            return 499  # nothing to answer: logged as nginx logs a client that left
        except UpstreamFailed as exc:
            self.metrics.count_upstream_error(app.name, exc.kind)
            log.warning("app %s: upstream %s: %s", app.name, resource.hostname, exc.kind)
            return pages.page("gateway_timeout" if exc.kind == "timeout" else "bad_gateway")
        self.metrics.observe_upstream(app.name, time.perf_counter() - started)
        return status


def _custom_or_page(kind: str, url: str | None, page_kind: str) -> Answer:
    if kind == "CUSTOM_URL" and url:
        return pages.redirect(url)
    return pages.page(page_kind)


def _with(answer: Answer, header: tuple[bytes, bytes]) -> Answer:
    status, headers, body = answer
    return status, [*headers, header], body


async def _send_answer(send: Any, answer: Answer, *, head: bool) -> None:
    status, headers, body = answer
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


def make_proxy_app(
    catalog: AppCatalog,
    *,
    public_url: str,
    assertion_keys: AssertionKeys | None = None,
    sessions: SessionStore | None = None,
    metrics: ProxyMetrics | None = None,
    catalog_ttl: float = 0.5,
) -> AccessGatewayProxy:
    """The proxy for every app the catalog knows.

    ``public_url``: the gateway's admin origin (the assertions' ``iss``). ``assertion_keys``
    default to a P-256 key generated now; ``sessions`` to an in-memory store. Call
    ``await app.aclose()`` at shutdown when the app is mounted (it then gets no lifespan).
    """
    return AccessGatewayProxy(
        catalog,
        public_url=public_url,
        assertion_keys=assertion_keys or EphemeralAssertionKeys(),
        sessions=sessions or MemorySessionStore(),
        metrics=metrics or ProxyMetrics(),
        catalog_ttl=catalog_ttl,
    )


__all__ = ["AccessGatewayProxy", "make_proxy_app", "same_domain_target"]
