"""Process-wide state the HTTP layer shares: settings, database, org lookup, rate limiter, auth hooks."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from ostiary.domain.authz.keys import KeyRings
from ostiary.domain.authz.servers import ServerCache
from ostiary.domain.context import Actor
from ostiary.jose.signer import Signer
from ostiary.settings import Settings
from ostiary.store import db as db_module
from ostiary.store.models import Org
from ostiary.store.repositories import orgs


@dataclass(frozen=True)
class Principal:
    """An authenticated caller of the management API."""

    actor: Actor
    scopes: frozenset[str] | None  # None: an SSWS API token, which may do everything
    kind: str  # "api_token" or "oauth"


BearerAuthenticator = Callable[[AsyncSession, Org, str, str], Awaitable[Principal | None]]
"""(session, org, org_url, access token) → the principal, or None when the token is not valid."""


@dataclass
class Runtime:
    settings: Settings
    db: db_module.Database
    servers: ServerCache
    rings: KeyRings
    signer: Signer
    limiter: Any = None
    bearer: BearerAuthenticator | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    _org_cache: dict[str, tuple[float, Org]] = field(default_factory=dict)
    server_contexts: dict[tuple[str, str], Any] = field(default_factory=dict)
    """(org id, server id) → ``http.oauth.servers.ServerContext``, rebuilt when either cached
    object is replaced."""

    @property
    def base_host(self) -> str:
        return urlsplit(self.settings.base_url).hostname or "localhost"

    def org_url(self, org: Org) -> str:
        """The org URL that issuers derive from (Okta's ``https://{org}.okta.com``)."""
        if org.is_default:
            return self.settings.base_url
        parts = urlsplit(self.settings.base_url)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{org.subdomain}.{self.base_host}{port}"

    async def org_for_host(self, host: str) -> Org:
        """``{org}.{base domain}`` selects that org; any other host is the default org."""
        hostname = host.rsplit(":", 1)[0].lower() if not host.startswith("[") else host
        cached = self._org_cache.get(hostname)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        async with self.db.session() as session:
            org = None
            suffix = "." + self.base_host
            if hostname.endswith(suffix):
                org = await orgs.get_by_subdomain(session, hostname[: -len(suffix)])
            if org is None:
                org = await orgs.ensure_default(session)
        self._org_cache[hostname] = (time.monotonic() + 30.0, org)
        return org

    async def org_for(self, request: Request) -> Org:
        return await self.org_for_host(request.headers.get("host", ""))


def runtime(request: Request) -> Runtime:
    return runtime_of(request.scope)


def runtime_of(scope: MutableMapping[str, Any]) -> Runtime:
    """The runtime of the app serving an ASGI ``scope`` (Starlette sets ``scope["app"]``)."""
    rt: Runtime = scope["app"].state.runtime
    return rt
