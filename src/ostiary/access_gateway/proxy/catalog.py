"""Where the proxy reads its configuration: an :class:`AppCatalog`, nothing else.

The catalog answers with the app document of ``GET /api/v2/apps/{id}`` (oag-admin.yaml)
with every ``_embedded`` part expanded, plus ``ostiaryOidc`` (``orgUrl``, ``clientId``,
``clientSecret`` of the app's OIDC web app in the org; optionally ``groupNames``).
:class:`CachedCatalog` keeps parsed apps for half a second, so a deactivation shows
within a second without a store read per request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from ostiary.access_gateway.proxy.config import AppDocumentError, ProxyApp, parse_app
from ostiary.bounded_cache import BoundedTTLCache

log = logging.getLogger(__name__)


class AppCatalog(Protocol):
    async def app_for_host(self, host: str) -> dict[str, Any] | None:
        """The app whose ``publicDomain`` is ``host`` (the request's Host header,
        lower-cased, port included), or ``None``."""


class StaticAppCatalog:
    """Apps held in memory (tests, and embedding without a store); ``put``/``remove``
    change them at run time."""

    def __init__(self, apps: Iterable[Mapping[str, Any]] = ()) -> None:
        self._apps: dict[str, dict[str, Any]] = {}
        for app in apps:
            self.put(app)

    def put(self, app: Mapping[str, Any]) -> None:
        self._apps[str(app["publicDomain"]).lower()] = dict(app)

    def remove(self, host: str) -> None:
        self._apps.pop(host.lower(), None)

    async def app_for_host(self, host: str) -> dict[str, Any] | None:
        return self._apps.get(host.lower())


class CachedCatalog:
    """Parsed apps by host for ``ttl`` seconds (unknown hosts too, so a flood of made-up
    Host headers costs one catalog read per host and ``ttl``, in a bounded cache)."""

    def __init__(
        self,
        catalog: AppCatalog,
        *,
        ttl: float = 0.5,
        max_hosts: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.catalog = catalog
        self._cache: BoundedTTLCache[str, tuple[ProxyApp | None, str | None]] = BoundedTTLCache(
            max_hosts, ttl, clock=clock
        )

    async def app(self, host: str) -> tuple[ProxyApp | None, str | None]:
        """``(app, None)``, ``(None, None)`` for an unknown host, ``(None, problem)`` for an
        app document the proxy cannot use."""
        return await self._cache.get_or_load(host, lambda: self._load(host))

    async def _load(self, host: str) -> tuple[ProxyApp | None, str | None]:
        document = await self.catalog.app_for_host(host)
        if document is None:
            return (None, None)
        try:
            return (parse_app(document), None)
        except AppDocumentError as exc:
            log.warning("app for host %s cannot be used: %s", host, exc)
            return (None, str(exc))

    def invalidate(self) -> None:
        self._cache.invalidate()
