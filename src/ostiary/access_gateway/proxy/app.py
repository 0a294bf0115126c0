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

import json
import logging
import time
from typing import Any

import aiohttp

from ostiary.access_gateway.proxy import forward_auth as forward_auth_mode
from ostiary.access_gateway.proxy import pages
from ostiary.access_gateway.proxy.assertion import HEADER as ASSERTION_HEADER
from ostiary.access_gateway.proxy.assertion import (
    AssertionKeys,
    EphemeralAssertionKeys,
    assertion_claims,
    sign_assertion,
)
from ostiary.access_gateway.proxy.attributes import Headers, reserved_names, session_attributes
from ostiary.access_gateway.proxy.balancer import Balancer
from ostiary.access_gateway.proxy.catalog import AppCatalog, CachedCatalog
from ostiary.access_gateway.proxy.config import HealthCheck, Policy, ProxyApp
from ostiary.access_gateway.proxy.exchange import (
    AUTH,
    CALLBACK,
    LOGOUT,
    PREFIX,
    SIGNED_OUT,
    START,
    Answer,
    Exchange,
    Scope,
    custom_or_page,
    public_origin,
    same_domain_target,
    send_answer,
    session_cookie_name,
    start_target,
    state_cookie_name,
)
from ostiary.access_gateway.proxy.metrics import ProxyMetrics
from ostiary.access_gateway.proxy.oidc import OrgSignIn
from ostiary.access_gateway.proxy.policies import needs_session, policies_for, sends_identity
from ostiary.access_gateway.proxy.relay import (
    BodyTooLarge,
    ClientGone,
    UpstreamFailed,
    relay,
    upstream_request,
)
from ostiary.access_gateway.proxy.sessions import GatewaySession, MemorySessionStore, SessionStore, SignInSeal
from ostiary.access_gateway.proxy.signin import SignInFlow
from ostiary.jose.jwks_cache import JwksCache
from ostiary.request_paths import path_problem

log = logging.getLogger(__name__)
access_log = logging.getLogger("ostiary.access_gateway.access")


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
        seal: SignInSeal | None = None,
    ) -> None:
        self.catalog = CachedCatalog(catalog, ttl=catalog_ttl)
        self.public_url = public_url.rstrip("/")
        self.assertion_keys = assertion_keys
        self.sessions = sessions
        self.metrics = metrics
        self.signin = SignInFlow(sessions, metrics, self.org, seal)
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
                await send_answer(send, answer, head=scope["method"] == "HEAD")
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
        try:
            app, problem = await self.catalog.app(ex.host)
            forwarded_host = ex.header(b"x-forwarded-host") if ex.path == AUTH else None
            if app is None and forwarded_host:  # Traefik's ForwardAuth calls with its own Host
                ex.host = forwarded_host.strip().lower()
                app, problem = await self.catalog.app(ex.host)
        except Exception as exc:  # the store behind the catalog: fail closed, never a trace
            log.warning("the app catalog failed for host %s: %s", ex.host, type(exc).__name__)
            return pages.page("unavailable")
        if app is None:
            return pages.page("misconfigured" if problem else "unknown_host")
        ex.app = app
        if path_problem(ex.path, allow_semicolons=True):
            return pages.page("bad_request")
        if app.status != "ACTIVE":
            self.balancer.forget(app.id)
        if app.status == "MAINTENANCE":
            return custom_or_page(app.behavior.maintenance, app.behavior.maintenance_url, "maintenance")
        if app.status != "ACTIVE":
            return custom_or_page(app.behavior.inactive, app.behavior.inactive_url, "inactive")
        session = await self.signin.load_session(ex, app)
        path = ex.path
        if path.startswith(PREFIX) or path == PREFIX[:-1]:
            return await self._own_path(ex, app, session)
        if path == app.behavior.logout_path:
            return await self.signin.logout(ex, app)
        policies = policies_for(app, path)
        if any(needs_session(p, app) for p in policies):
            if session is None:
                return await self.signin.no_session(ex, app)
            if not all(self.signin.admits(app, p, session, ex.remote) for p in policies):
                return self.signin.denied(app)
        return await self._forward(ex, app, policies[0], session, receive, send)

    async def _own_path(self, ex: Exchange, app: ProxyApp, session: GatewaySession | None) -> Answer:
        path = ex.path
        if path == CALLBACK:
            return await self.signin.callback(ex, app)
        if path == AUTH:
            return forward_auth_mode.forward_auth(ex, app, session, self.signin.admits, self._assertion)
        if path == START:
            target = same_domain_target(app, ex.scheme, start_target(ex.scope) or "/")
            if target is None:
                return pages.page("bad_request", detail="rd must stay on this application's domain")
            if session is not None:
                return pages.redirect(target)
            return self.signin.begin(ex, app, target)
        if path == LOGOUT:
            return await self.signin.logout(ex, app)
        if path == SIGNED_OUT:
            if app.behavior.post_logout_url:
                return pages.redirect(app.behavior.post_logout_url)
            return pages.page("signed_out")
        return pages.page("not_found")

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
        reserved = reserved_names(app) | set(forward_auth_mode.HEADERS)
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


def make_proxy_app(
    catalog: AppCatalog,
    *,
    public_url: str,
    assertion_keys: AssertionKeys | None = None,
    sessions: SessionStore | None = None,
    metrics: ProxyMetrics | None = None,
    catalog_ttl: float = 0.5,
    seal_key: bytes | None = None,
) -> AccessGatewayProxy:
    """The proxy for every app the catalog knows.

    ``public_url``: the gateway's admin origin (the assertions' ``iss``). ``assertion_keys``
    default to a P-256 key generated now; ``sessions`` to an in-memory store; ``seal_key``
    (the HMAC key of sign-ins under way, shared by every process of one gateway) to a
    random one. Call
    ``await app.aclose()`` at shutdown when the app is mounted (it then gets no lifespan).
    """
    return AccessGatewayProxy(
        catalog,
        public_url=public_url,
        assertion_keys=assertion_keys or EphemeralAssertionKeys(),
        sessions=sessions or MemorySessionStore(),
        metrics=metrics or ProxyMetrics(),
        catalog_ttl=catalog_ttl,
        seal=SignInSeal(seal_key) if seal_key else None,
    )


__all__ = ["AccessGatewayProxy", "make_proxy_app", "same_domain_target"]
