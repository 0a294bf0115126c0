"""The domain's in-memory caches, one object per process, owned by the runtime.

Each is a ``bounded_cache.BoundedTTLCache`` (bounded, TTL, generation) or a small typed view
over one. The runtime builds one :class:`DomainCaches` and shares it with every session of
its database (``Database.share``), so domain code reaches it through the session it is given
(:func:`caches_of`) instead of a module global. Writes forget entries now and again after
their transaction commits (``store.cache_events.forget_after_commit``) and announce them to
the other processes (``store.cache_events.announce``, applied by ``http.cache_sync``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.bounded_cache import BoundedTTLCache
from ostiary.store import db as db_module
from ostiary.store.cache_events import REVOKED, UNREVOKED_CACHE
from ostiary.store.directory_events import API_TOKEN_CACHE, API_TOKENS, DIRECTORY, USER_CONTEXT_CACHE

if TYPE_CHECKING:
    from ostiary.domain.authz.policy_sets import PolicySetCache, ServerPolicySet
    from ostiary.domain.clients.client_cache import ClientCache
    from ostiary.domain.directory.api_tokens import KnownToken
    from ostiary.domain.directory.directory_facts import DirectoryFacts
    from ostiary.domain.tokens.user_context_cache import UserContextCache
    from ostiary.domain.unit_of_work import UnitOfWork

SHARED_NAME = "ostiary.caches"
REVOCATION_EVENT = REVOKED
"""The cache event kind that clears :attr:`DomainCaches.unrevoked` (for ``http.cache_sync``)."""
DIRECTORY_EVENT = DIRECTORY
"""The cache event kind that clears :attr:`DomainCaches.user_contexts` of an org (for
``http.cache_sync``); ``store.directory_events`` announces it."""
API_TOKEN_EVENT = API_TOKENS
"""The cache event kind that clears :attr:`DomainCaches.api_tokens` (``store.directory_events``
announces it)."""

ORIGINS_MAX = 4096
DECISIONS_MAX = 4096
UNREVOKED_MAX = 100_000
API_TOKENS_MAX = 4096
UNREVOKED_TTL = 5.0
"""Without cache events, another process's revocation reaches this one's checks within this
many seconds (as a deactivated client does); with them, at once."""
FOLLOWING_TTL = 300.0
"""How long entries live while this process receives every other process's cache events
(``store.cache_events``): the TTL is then only a safety net, and a long one keeps every org's
clients, servers and keys cached (short TTLs would reload each of 1,000 orgs every few seconds)."""


class HasTTL(Protocol):
    ttl: float


def follow_events(caches: list[HasTTL], originals: dict[int, float], live: bool) -> None:
    """Give ``caches`` :data:`FOLLOWING_TTL` while events arrive (``live``), their own TTL
    otherwise (``originals`` remembers it, by cache)."""
    for cache in caches:
        base = originals.setdefault(id(cache), cache.ttl)
        cache.ttl = max(base, FOLLOWING_TTL) if live else base


@dataclass(eq=False)
class DomainCaches:
    clients: ClientCache
    """``client_id`` → ``client_cache.Client`` (token, introspect, revoke, authorize), and
    (org, client, issuer) → the okta.* scopes granted, forgotten with the client."""
    policy_sets: PolicySetCache
    """(org, server) → ``policy_sets.ServerPolicySet``."""
    decisions: BoundedTTLCache[tuple[Any, ...], tuple[ServerPolicySet, Any]]
    """Client credentials decisions, each with the policy set snapshot it was computed from
    (used only while that snapshot is the cached one)."""
    origins: BoundedTTLCache[str, frozenset[tuple[str, str]]]
    """org → its ACTIVE trusted ``(origin, scope type)`` pairs."""
    user_contexts: UserContextCache
    """A user's status, groups, app profile and assignment, and the org's attributes, for
    user tokens (``tokens.user_context_cache``); cleared by org by the ``directory`` event."""
    unrevoked: BoundedTTLCache[str, bool] = field(
        default_factory=lambda: BoundedTTLCache(UNREVOKED_MAX, UNREVOKED_TTL)
    )
    """``jti`` of an access token → True: checked and not revoked (``tokens.revoked_jtis``);
    any revocation clears it all (``store.cache_events.announce_revocation``)."""
    directory_facts: BoundedTTLCache[str, DirectoryFacts] = field(default_factory=lambda: _facts_cache())
    """org → its user schema and whether it has ACTIVE group rules (``directory.directory_facts``)."""
    api_tokens: BoundedTTLCache[tuple[str, str], KnownToken] = field(
        default_factory=lambda: BoundedTTLCache(API_TOKENS_MAX, UNREVOKED_TTL)
    )
    """(org, SHA-256 of an SSWS token) → the token, as authenticated (``directory.api_tokens``);
    any change to a stored token clears it all (``store.directory_events``). Not in
    :meth:`with_ttls`: entries keep :data:`UNREVOKED_TTL` while events arrive too, so a token
    deleted behind the session's back (``psql``, a process of an older version) stops working
    within 5 s, as it did when every request read it; a busy token costs one read per 5 s."""

    @classmethod
    def build(cls) -> DomainCaches:
        from ostiary.domain.authz.policy_sets import PolicySetCache
        from ostiary.domain.clients.client_cache import ClientCache
        from ostiary.domain.directory.trusted_origins import TTL_SECONDS as ORIGINS_TTL
        from ostiary.domain.tokens.user_context_cache import UserContextCache

        policy_sets = PolicySetCache()
        return cls(
            clients=ClientCache(),
            policy_sets=policy_sets,
            decisions=BoundedTTLCache(DECISIONS_MAX, policy_sets.ttl),
            origins=BoundedTTLCache(ORIGINS_MAX, ORIGINS_TTL),
            user_contexts=UserContextCache(),
        )

    def with_ttls(self) -> list[HasTTL]:
        """Every cache here, for :func:`follow_events`."""
        return [
            self.clients.entries,
            self.clients.grants,
            self.policy_sets,
            self.decisions,
            self.origins,
            self.unrevoked,
            self.user_contexts.entries,
            self.directory_facts,
        ]

    def clear(self) -> None:
        """Forget everything (after cache events may have been missed)."""
        self.clients.invalidate()
        self.policy_sets.clear()
        self.decisions.clear()
        self.origins.clear()
        self.unrevoked.clear()
        self.user_contexts.clear()
        self.directory_facts.clear()
        self.api_tokens.clear()


def _facts_cache() -> BoundedTTLCache[str, DirectoryFacts]:
    from ostiary.domain.directory.directory_facts import new_cache

    return new_cache()


def caches_of(source: AsyncSession | UnitOfWork) -> DomainCaches:
    """The caches of the runtime that owns this database (or the database that made this
    session); a database no runtime owns (a maintenance script) gets empty throwaway caches,
    i.e. no caching."""
    caches: DomainCaches | None = db_module.shared(source, SHARED_NAME)
    return caches if caches is not None else DomainCaches.build()


def share_caches(database: UnitOfWork, caches: DomainCaches) -> None:
    database.share(SHARED_NAME, caches)
    database.share(UNREVOKED_CACHE, caches.unrevoked)
    database.share(USER_CONTEXT_CACHE, caches.user_contexts)
    database.share(API_TOKEN_CACHE, caches.api_tokens)
