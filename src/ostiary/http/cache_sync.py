"""Which in-memory caches a cache event from another process clears (``store.cache_events``).

Every cache is the runtime's (``Runtime.caches``, ``servers``, ``rings``); this is the table
from an announced kind to the entries it names."""

from __future__ import annotations

from collections.abc import Callable

from ostiary.http.runtime import Runtime
from ostiary.store.cache_events import CacheEventListener, CacheEventPoller


def cache_listener(rt: Runtime) -> CacheEventListener | CacheEventPoller:
    """A listener for ``rt``'s caches (PostgreSQL), or a poller of the cache event log (SQLite)."""
    caches = rt.caches

    def policy_set(org_id: str, server_id: str) -> None:
        caches.policy_sets.invalidate(org_id, server_id)
        rt.servers.invalidate(org_id, server_id)

    handlers: dict[str, Callable[..., None]] = {
        "client": caches.clients.invalidate,  # its grants go with it
        "policy_set": policy_set,
        "ring": rt.rings.invalidate,
        "trusted_origins": caches.origins.invalidate,
        "orgs": rt.forget_unknown_hosts,
    }
    if rt.db.is_sqlite:
        return CacheEventPoller(rt.db, handlers, rt.forget_all, on_state=rt.follow_cache_events)
    return CacheEventListener(
        rt.settings.database_url, handlers, rt.forget_all, on_state=rt.follow_cache_events
    )
