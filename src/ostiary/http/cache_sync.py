"""Which in-memory caches a cache event from another process clears (``store.cache_events``;
the wiring, ``app.cache_listener``, connects the two).

Every cache is the runtime's (``Runtime.caches``, ``servers``, ``rings``); this is the table
from an announced kind to the entries it names."""

from __future__ import annotations

from collections.abc import Callable

from ostiary.domain.caches import API_TOKEN_EVENT, DIRECTORY_EVENT, REVOCATION_EVENT
from ostiary.domain.directory.directory_facts import EVENT as FACTS_EVENT
from ostiary.http.runtime import Runtime


def cache_event_handlers(rt: Runtime) -> dict[str, Callable[..., None]]:
    """Announced kind → what it clears of ``rt``'s caches."""
    caches = rt.caches

    def policy_set(org_id: str, server_id: str) -> None:
        caches.policy_sets.invalidate(org_id, server_id)
        rt.servers.invalidate(org_id, server_id)

    return {
        "client": caches.clients.invalidate,  # its grants go with it
        "policy_set": policy_set,
        "ring": rt.rings.invalidate,
        "trusted_origins": caches.origins.invalidate,
        "orgs": rt.forget_unknown_hosts,
        REVOCATION_EVENT: caches.unrevoked.invalidate,  # no key: every token known as not revoked
        DIRECTORY_EVENT: caches.user_contexts.invalidate,  # an org's user contexts (no key: all)
        API_TOKEN_EVENT: caches.api_tokens.invalidate,  # no key: every authenticated API token
        FACTS_EVENT: caches.directory_facts.invalidate,  # org_id: its user schema, its group rules
    }
