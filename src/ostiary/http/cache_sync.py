"""Which in-memory caches a cache event from another process clears (``store.cache_events``)."""

from __future__ import annotations

from collections.abc import Callable

from ostiary.domain.authz.policy_sets import POLICY_SETS
from ostiary.domain.clients import client_cache
from ostiary.domain.directory import trusted_origins
from ostiary.http.runtime import Runtime
from ostiary.store.cache_events import CacheEventListener


def cache_listener(rt: Runtime) -> CacheEventListener | None:
    """A listener for ``rt``'s caches, or ``None`` where there is no channel (SQLite)."""
    if rt.db.is_sqlite:
        return None

    def client(client_id: str) -> None:
        client_cache.CACHE.invalidate(client_id)  # grants are cached per client generation

    def policy_set(org_id: str, server_id: str) -> None:
        POLICY_SETS.invalidate(org_id, server_id)
        rt.servers.invalidate(org_id, server_id)

    def ring(org_id: str, server_id: str) -> None:
        rt.rings.invalidate(org_id, server_id)

    def origins(org_id: str) -> None:
        trusted_origins.CACHE.invalidate(org_id)

    def forget_all() -> None:
        client_cache.CACHE.invalidate()
        POLICY_SETS.clear()
        rt.servers.clear()
        rt.rings.clear()
        trusted_origins.CACHE.invalidate()

    handlers: dict[str, Callable[..., None]] = {
        "client": client,
        "policy_set": policy_set,
        "ring": ring,
        "trusted_origins": origins,
    }
    return CacheEventListener(rt.settings.database_url, handlers, forget_all)
