"""Process-wide state the HTTP layer shares: settings, database, org lookup, rate limiter, auth hooks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from ostiary.bounded_cache import BoundedTTLCache
from ostiary.domain.authz.key_rotation import KeyRings
from ostiary.domain.authz.server_lookup import ServerCache
from ostiary.domain.caches import DomainCaches, follow_events, share_caches
from ostiary.domain.context import Actor
from ostiary.domain.orgs import Org, org_named, org_with_domain
from ostiary.domain.roles.authority import UNLIMITED, Authority
from ostiary.domain.tokens.storage import TokenStorage
from ostiary.domain.unit_of_work import UnitOfWork
from ostiary.http.errors import OktaHTTPError
from ostiary.http.org_by_host import HostMatch, custom_domain_of, match_host
from ostiary.jose.signer import Signer
from ostiary.settings import Settings

if TYPE_CHECKING:
    from ostiary.http.oauth.server_context import ServerContext

ORG_CACHE_SIZE = 16384
ORG_CACHE_TTL = 30.0
NO_ORG_CACHE_SIZE = 1024
NO_ORG_CACHE_TTL = 2.0
"""Hosts that named no org are remembered briefly, apart from the orgs: a flood of made-up
hosts cannot push real orgs out, and an org created meanwhile (by ``ostiary org create`` in
another process) is served within this many seconds even where no cache event reaches us
(SQLite); with PostgreSQL the ``orgs`` event clears them at once."""
SERVER_CONTEXTS_SIZE = 4096
SERVER_CONTEXTS_TTL = 60.0


@dataclass(frozen=True)
class Principal:
    """An authenticated caller of the management API."""

    actor: Actor
    scopes: frozenset[str] | None  # None: an SSWS API token, which may do everything
    kind: str  # "api_token" or "oauth"
    authority: Authority = UNLIMITED
    """The admin roles the caller holds (``domain.roles.authority``): enforced with the scopes."""
    user_id: str | None = None
    """The admin user the caller acts as (an API token's creator, an access token's user)."""


TokenStorageFactory = Callable[[AsyncSession], TokenStorage]
"""A transaction's session → the token path's storage ports over it (composed by the wiring)."""

BearerAuthenticator = Callable[[AsyncSession, Org, str, str], Awaitable[Principal | None]]
"""(session, org, org_url, access token) → the principal, or None when the token is not valid."""


@dataclass
class Runtime:
    """The process's state. It owns every in-memory cache: ``servers``, ``rings``, the org
    and server-context caches here, and the domain's (``caches``, which every session of
    ``db`` carries to the domain; ``http.cache_sync`` applies other processes' events)."""

    settings: Settings
    db: UnitOfWork
    """Where handlers open their transactions (the wiring's ``store.db.Database``)."""
    servers: ServerCache
    rings: KeyRings
    signer: Signer
    token_storage: TokenStorageFactory
    """The storage ports of the token path for a session (``domain.tokens.storage``)."""
    limiter: Any = None
    bearer: BearerAuthenticator | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    _org_cache: BoundedTTLCache[HostMatch | str, Org] = field(
        default_factory=lambda: BoundedTTLCache(ORG_CACHE_SIZE, ORG_CACHE_TTL)
    )
    """Orgs by the host rule that named them (a custom domain by its host name), never by the
    raw header."""
    _no_org_cache: BoundedTTLCache[HostMatch | str, bool] = field(
        default_factory=lambda: BoundedTTLCache(NO_ORG_CACHE_SIZE, NO_ORG_CACHE_TTL)
    )
    """The same keys that named no org (see ``NO_ORG_CACHE_TTL``)."""
    server_contexts: BoundedTTLCache[tuple[str, str], ServerContext] = field(
        default_factory=lambda: BoundedTTLCache(SERVER_CONTEXTS_SIZE, SERVER_CONTEXTS_TTL)
    )
    """(org id, server id) → ``http.oauth.servers.ServerContext``, rebuilt when either cached
    object is replaced."""
    caches: DomainCaches = field(default_factory=DomainCaches.build)
    _base_ttls: dict[int, float] = field(default_factory=dict)
    """The domain's caches (clients and their grants, policy sets, decisions, trusted origins)."""

    def __post_init__(self) -> None:
        share_caches(self.db, self.caches)

    def forget_all(self) -> None:
        """Drop every cached entry that another process's write may have made stale."""
        self.caches.clear()
        self.servers.clear()
        self.rings.clear()
        self.forget_unknown_hosts()

    @cached_property
    def base_host(self) -> str:
        """The base URL's host (read on every request: parsed once)."""
        return urlsplit(self.settings.base_url).hostname or "localhost"

    def org_url(self, org: Org) -> str:
        """The org URL that issuers derive from (Okta's ``https://{org}.okta.com``)."""
        if org.is_default:
            return self.settings.base_url
        parts = urlsplit(self.settings.base_url)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{org.subdomain}.{self.base_host}{port}"

    async def resolve_org(self, host: str) -> Org | None:
        """The org that a ``Host`` header names (see ``http.hosts``), or None for a host this
        server does not serve or an org that does not exist."""
        key: HostMatch | str | None = match_host(host, self.base_host) or custom_domain_of(host)
        if key is None:
            return None
        org = self._org_cache.get(key)
        if org is not None:
            return org
        if self._no_org_cache.get(key):
            return None
        # One load per host at a time: when the entry expires, every request in flight misses
        # at once (64 reads in a row on serve --memory's one connection in bench/footprint.py).
        async with self._org_cache.loading(key):
            org = self._org_cache.get(key)
            if org is not None:
                return org
            generation = self._no_org_cache.generation
            async with self.db.session() as session:
                if isinstance(key, str):
                    org = await org_with_domain(session, key)
                else:
                    org = await org_named(session, key.subdomain)
        if org is None:
            self._no_org_cache.put(key, True, generation)
        else:
            self._org_cache.set(key, org)
        return org

    def follow_cache_events(self, live: bool) -> None:
        """Called by the cache event listener or poller: while other processes' writes reach
        this one (``live``), cached entries live ``domain.caches.FOLLOWING_TTL``; otherwise
        their own short TTLs bound how stale they can be."""
        follow_events(
            [*self.caches.with_ttls(), self.servers, self.rings, self._org_cache, self.server_contexts],
            self._base_ttls,
            live,
        )

    def forget_unknown_hosts(self) -> None:
        """Orgs or custom domains were added: hosts that named none may name one now."""
        self._no_org_cache.clear()

    async def org_for_host(self, host: str) -> Org:
        """The org that ``host`` names; 404 in Okta's shape when it names none."""
        org = await self.resolve_org(host)
        if org is None:
            raise unknown_host()
        return org

    async def org_for(self, request: Request) -> Org:
        """The org ``EdgeMiddleware`` resolved for this request (looked up when absent)."""
        org = request.scope.get("state", {}).get("org")
        if isinstance(org, Org):
            return org
        return await self.org_for_host(request.headers.get("host", ""))


def unknown_host() -> OktaHTTPError:
    return OktaHTTPError(404, "E0000007", "Not found: Resource not found: host (Org)")


def runtime(request: Request) -> Runtime:
    return runtime_of(request.scope)


def runtime_of(scope: MutableMapping[str, Any]) -> Runtime:
    """The runtime of the app serving an ASGI ``scope`` (Starlette sets ``scope["app"]``)."""
    rt: Runtime = scope["app"].state.runtime
    return rt
