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
from ostiary.domain.authz.keys import KeyRings
from ostiary.domain.authz.servers import ServerCache
from ostiary.domain.caches import DomainCaches, share_caches
from ostiary.domain.context import Actor
from ostiary.domain.roles.authority import UNLIMITED, Authority
from ostiary.http.errors import OktaHTTPError
from ostiary.http.hosts import HostMatch, match_host
from ostiary.jose.signer import Signer
from ostiary.settings import Settings
from ostiary.store import db as db_module
from ostiary.store.models import Org
from ostiary.store.repositories import orgs

if TYPE_CHECKING:
    from ostiary.http.oauth.servers import ServerContext

ORG_CACHE_SIZE = 1024
ORG_CACHE_TTL = 30.0
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


BearerAuthenticator = Callable[[AsyncSession, Org, str, str], Awaitable[Principal | None]]
"""(session, org, org_url, access token) → the principal, or None when the token is not valid."""


@dataclass
class Runtime:
    """The process's state. It owns every in-memory cache: ``servers``, ``rings``, the org
    and server-context caches here, and the domain's (``caches``, which every session of
    ``db`` carries to the domain; ``http.cache_sync`` applies other processes' events)."""

    settings: Settings
    db: db_module.Database
    servers: ServerCache
    rings: KeyRings
    signer: Signer
    limiter: Any = None
    bearer: BearerAuthenticator | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    _org_cache: BoundedTTLCache[HostMatch, Org | None] = field(
        default_factory=lambda: BoundedTTLCache(ORG_CACHE_SIZE, ORG_CACHE_TTL)
    )
    """Orgs (None: no such org) by the host rule that named them, never by the raw header."""
    server_contexts: BoundedTTLCache[tuple[str, str], ServerContext] = field(
        default_factory=lambda: BoundedTTLCache(SERVER_CONTEXTS_SIZE, SERVER_CONTEXTS_TTL)
    )
    """(org id, server id) → ``http.oauth.servers.ServerContext``, rebuilt when either cached
    object is replaced."""
    caches: DomainCaches = field(default_factory=DomainCaches.build)
    """The domain's caches (clients and their grants, policy sets, decisions, trusted origins)."""

    def __post_init__(self) -> None:
        share_caches(self.db, self.caches)

    def forget_all(self) -> None:
        """Drop every cached entry that another process's write may have made stale."""
        self.caches.clear()
        self.servers.clear()
        self.rings.clear()

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
        match = match_host(host, self.base_host)
        if match is None:
            return None
        found, org = self._org_cache.lookup(match)
        if found:
            return org
        async with self.db.session() as session:
            if match.subdomain is None:
                org = await orgs.ensure_default(session)
            else:
                org = await orgs.get_by_subdomain(session, match.subdomain)
        self._org_cache.set(match, org)
        return org

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
