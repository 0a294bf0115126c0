"""Wiring of the org server (``ostiary serve``): routes, middleware, start-up. No logic here."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ostiary.domain.authz.key_rotation import KeyRings
from ostiary.domain.authz.policy_sets import CachedPolicySets
from ostiary.domain.authz.server_lookup import ServerCache
from ostiary.domain.caches import caches_of
from ostiary.domain.clients.client_cache import CachedClients
from ostiary.domain.clients.scope_grants import CachedScopeGrants
from ostiary.domain.directory import orgs as org_domain
from ostiary.domain.tokens.storage import TokenStorage
from ostiary.domain.tokens.user_context_cache import CachedTokenUsers
from ostiary.gc_tuning import tune_for_serving
from ostiary.gc_tuning import wanted as gc_tuning_wanted
from ostiary.http.cache_sync import cache_event_handlers
from ostiary.http.errors import EXCEPTION_HANDLERS
from ostiary.http.fast_routes import TokenFastPath
from ostiary.http.input_guard import InputGuard
from ostiary.http.lazy_routes import LazyRoutes, eager
from ostiary.http.management.bearer_auth import bearer_authenticator
from ostiary.http.middleware import EdgeMiddleware, hsts_mode
from ostiary.http.oauth import routes as oauth_routes
from ostiary.http.oauth.token import token as token_endpoint
from ostiary.http.ratelimit import MemoryCounter, RateLimiter, RedisCounter, parse_limits
from ostiary.http.readiness import Readiness, ready
from ostiary.http.responses import json_response
from ostiary.http.runtime import Runtime
from ostiary.http.store_faults import FaultLog, StoreFaults
from ostiary.http.unexpected import UnexpectedErrors
from ostiary.jose.key_encryption import KeyEncryptor, master_key_from_env_or_file
from ostiary.jose.sign_processes import ProcessSigner
from ostiary.jose.signer import JwtSigner, Signer
from ostiary.settings import Settings, load_settings
from ostiary.store import migrate
from ostiary.store.cache_events import CacheEventListener, CacheEventPoller
from ostiary.store.db import Database, Timeouts
from ostiary.store.repositories import orgs
from ostiary.store.repositories.assertion_jtis import SqlAssertionReplay
from ostiary.store.repositories.authorization_codes import SqlAuthorizationCodes
from ostiary.store.repositories.device_codes import SqlDeviceCodes
from ostiary.store.repositories.refresh_tokens import SqlRefreshTokens

SKIP_MIGRATE_ENV = "OSTIARY_SKIP_MIGRATE"


async def health(request: Request) -> Response:
    """``status``, plus ``cacheEvents`` where other processes' writes are announced (PostgreSQL's
    channel, or SQLite's cache event log): ``listening``, or ``connecting`` while it cannot be
    read (caches then fall back to their short TTLs)."""
    body = {"status": "ok"}
    listener = request.app.state.runtime.extras.get("cache_listener")
    if listener is not None:
        body["cacheEvents"] = "listening" if listener.listening.is_set() else "connecting"
    return json_response(body)


def build_routes(*, lazy: bool = False) -> list[BaseRoute]:
    """The org server's routes, in matching order. ``lazy``: the management API, the sign-in
    pages and the console as :class:`~ostiary.http.lazy_routes.LazyRoutes` groups, imported at
    their first request (what ``create_app`` serves); otherwise the flat table, all imported."""
    groups = [
        LazyRoutes("management: directory, apps, servers", _management_core, ["/api/v1/"]),
        LazyRoutes("sign-in: authn, sessions, login page", _signin_core, _SIGNIN_CORE_PREFIXES),
        LazyRoutes("management: integrations, schema", _management_integrations, _INTEGRATIONS_PREFIXES),
        LazyRoutes("sign-in: set password", _signin_set_password, _SET_PASSWORD_PREFIXES),
        LazyRoutes("management: assigned apps, roles", _management_roles, _ROLES_PREFIXES),
        LazyRoutes("console", _console, ["/admin"]),
        LazyRoutes("management: preview, logos, clients", _management_clients, _CLIENTS_PREFIXES),
        LazyRoutes("sign-in: app home, change password", _signin_pages, ["/home/", "/login/"]),
        LazyRoutes("management: grants, app tokens, keys", _management_grants, ["/api/v1/"]),
    ]
    oauth = oauth_routes.routes()  # first: the token endpoint is the hot path
    routes: list[BaseRoute] = [
        Route("/healthz", health, methods=["GET"]),
        Route("/readyz", ready, methods=["GET"]),
        # A group of their own, loaded at once: a request for a later route skips them by their
        # literal prefixes (LazyRoutes.matches) instead of running ~40 regexes.
        LazyRoutes("OAuth", lambda: oauth, ["/"]),
        *groups,
    ]
    return routes if lazy else eager(routes)


# Each group below is a contiguous slice of the route table (the order matters: see
# http.lazy_routes); its prefixes cover every path of its routes (tests/unit/serving/test_lazy_routes).
_SIGNIN_CORE_PREFIXES = ("/api/v1/authn", "/api/v1/sessions", "/api/v1/users/", "/login")
_INTEGRATIONS_PREFIXES = ("/integrations/api/v1/", "/api/v1/meta/")
_SET_PASSWORD_PREFIXES = ("/reset_password/", "/signin/", "/welcome/")
_ROLES_PREFIXES = ("/api/v1/groups/", "/api/v1/users/", "/oauth2/v1/clients/")
_CLIENTS_PREFIXES = ("/api/v1/authorizationServers/", "/img/logos/", "/oauth2/v1/clients")


def _management_core() -> list[BaseRoute]:
    from ostiary.http.management import (
        api_tokens,
        apps,
        as_tokens,
        authorization_servers,
        groups,
        logs,
        trusted_origins,
        users,
    )

    return [
        *users.routes,
        *apps.routes,
        *groups.routes,
        *as_tokens.routes,
        *authorization_servers.routes,
        *api_tokens.routes,
        *logs.routes,
        *trusted_origins.routes,
    ]


def _signin_core() -> list[BaseRoute]:
    from ostiary.http.login import authn, cookie_redirect, page, sessions

    return [*authn.routes, *sessions.routes, *page.routes, *cookie_redirect.routes]


def _management_integrations() -> list[BaseRoute]:
    from ostiary.http.management import api_services, integration_catalog, user_schema

    return [*api_services.routes, *integration_catalog.routes, *user_schema.routes]


def _signin_set_password() -> list[BaseRoute]:
    from ostiary.http.login import set_password

    return list(set_password.routes)


def _management_roles() -> list[BaseRoute]:
    from ostiary.http.management import assigned_apps, roles

    return [*assigned_apps.routes, *roles.routes]


def _console() -> list[BaseRoute]:
    from ostiary.http.console import routes as console_routes

    return console_routes.routes()


def _management_clients() -> list[BaseRoute]:
    from ostiary.http.management import logos, oauth_clients, token_preview

    return [*token_preview.routes, *logos.routes, *oauth_clients.routes]


def _signin_pages() -> list[BaseRoute]:
    from ostiary.http.login import app_home, change_password_page

    return [*app_home.routes, *change_password_page.routes]


def _management_grants() -> list[BaseRoute]:
    from ostiary.http.management import (
        app_key_credentials,
        app_tokens,
        associated_servers,
        resource_server_keys,
        user_grants,
    )

    return [
        *user_grants.routes,
        *app_tokens.routes,
        *associated_servers.routes,
        *app_key_credentials.routes,
        *resource_server_keys.routes,
    ]


def build_runtime(settings: Settings) -> Runtime:
    limits = parse_limits(settings.rate_limits)
    limiter = None
    if limits is not None:
        counter = RedisCounter(settings.redis_url) if settings.redis_url else MemoryCounter()
        limiter = RateLimiter(limits, counter)
    db = Database(settings.database_url, timeouts=db_timeouts(settings))
    encryptor = KeyEncryptor(master_key_from_env_or_file(settings.master_key, settings.data_dir))
    rt = Runtime(
        settings=settings,
        db=db,
        servers=ServerCache(db),
        rings=KeyRings(db, encryptor),
        signer=_signer(settings),
        token_storage=sql_token_storage,
        limiter=limiter,
    )
    rt.bearer = bearer_authenticator(rt)
    if limiter is not None and isinstance(limiter.counter, RedisCounter):
        rt.extras.setdefault("on_shutdown", []).append(limiter.counter.close)
    return rt


def database_of(rt: Runtime) -> Database:
    """The store's database behind the runtime's unit of work (``build_runtime`` made it), for
    what only the wiring does with it: migrations, the retry policy, the cache event poller."""
    assert isinstance(rt.db, Database), "build_runtime gives the runtime a store.db.Database"
    return rt.db


def db_timeouts(settings: Settings) -> Timeouts:
    return Timeouts(
        connect=settings.db_connect_timeout,
        statement=settings.db_statement_timeout,
        pool=settings.db_pool_timeout,
    )


def _signer(settings: Settings) -> Signer:
    if settings.signing_processes > 0:
        return ProcessSigner(settings.signing_processes)
    return JwtSigner()


async def prepare(rt: Runtime, *, run_migrations: bool = True) -> None:
    """Migrate the database and make sure the default org exists."""
    if run_migrations:
        async with database_of(rt).unbounded_engine() as engine:
            await migrate.upgrade(engine)
    await rt.db.transaction(_seed_default_org)


async def _seed_default_org(session: AsyncSession) -> None:
    """The default org exists; every org that never got its built-in servers gets them (once:
    a deleted ``default`` server is not re-created at the next start)."""
    await orgs.ensure_default(session)
    await org_domain.provision_pending(session)


def create_app(settings: Settings | None = None, *, run_migrations: bool | None = None) -> Starlette:
    settings = settings or load_settings()
    rt = build_runtime(settings)
    faults = FaultLog()
    rt.extras["readiness"] = readiness = Readiness(
        rt.db, settings.redis_url, faults, settings.db_connect_timeout
    )
    migrate_on_start = run_migrations if run_migrations is not None else not os.environ.get(SKIP_MIGRATE_ENV)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await prepare(rt, run_migrations=migrate_on_start)
        rt.signer.start()
        listener = cache_listener(rt)
        if listener is not None:
            rt.extras["cache_listener"] = listener
            listener.start()
        if gc_tuning_wanted():
            tune_for_serving()
        try:
            yield
        finally:
            if listener is not None:
                await listener.stop()
            for close in rt.extras.get("on_shutdown", []):
                await close()
            rt.signer.close(wait=False)
            await readiness.close()
            await rt.db.dispose()

    app = Starlette(
        routes=build_routes(lazy=True),
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            Middleware(
                EdgeMiddleware,
                limiter=rt.limiter,
                max_body=settings.max_body_bytes,
                resolve_org=rt.resolve_org,
                hsts=hsts_mode(settings.base_url),
            ),
            # The token paths: the three layers below in one (see http.fast_routes).
            Middleware(
                TokenFastPath,
                endpoint=token_endpoint,
                exception_handlers=EXCEPTION_HANDLERS,
                retry=database_of(rt).retry,
                faults=faults,
            ),
            # Outermost first: errors no handler took are answered through the edge; bad input
            # is refused once, before a request can be retried on a database conflict.
            Middleware(UnexpectedErrors, handlers=EXCEPTION_HANDLERS),
            Middleware(InputGuard),
            Middleware(StoreFaults, retry=database_of(rt).retry, faults=faults),
        ],
        lifespan=lifespan,
    )
    app.state.runtime = rt
    return app


def sql_token_storage(session: AsyncSession) -> TokenStorage:
    """The token path's storage ports over one transaction: the SQL stores of ``store/``, and
    the runtime's caches in front of the client, policy set and scope grant lookups."""
    return TokenStorage(
        clients=CachedClients(session),
        assertions=SqlAssertionReplay(session),
        policy_sets=CachedPolicySets(session),
        decisions=caches_of(session).decisions,
        scope_grants=CachedScopeGrants(session),
        users=CachedTokenUsers(session, caches_of(session).user_contexts),
        codes=SqlAuthorizationCodes(session),
        refresh_tokens=SqlRefreshTokens(session),
        devices=SqlDeviceCodes(session),
    )


def cache_listener(rt: Runtime) -> CacheEventListener | CacheEventPoller | None:
    """What applies other processes' cache events to ``rt``'s caches: a listener (PostgreSQL
    NOTIFY), or a poller of the cache event log (SQLite); none for SQLite in memory, which no
    other process sees (a poller there would only take turns on its one connection)."""
    if ":memory:" in rt.settings.database_url:
        return None
    handlers = cache_event_handlers(rt)
    if database_of(rt).is_sqlite:
        return CacheEventPoller(database_of(rt), handlers, rt.forget_all, on_state=rt.follow_cache_events)
    return CacheEventListener(
        rt.settings.database_url, handlers, rt.forget_all, on_state=rt.follow_cache_events
    )
