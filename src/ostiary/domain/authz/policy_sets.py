"""A server's policies, scopes and claims compiled for the token endpoint, cached per (org, server).

A token request needs three things from the database: the access policies and rules (as the
policy engine's :class:`CompiledPolicySet`), the scopes the server defines (for
:func:`resolve_requested_scopes`) and the custom claims (expressions parsed once). Loading
and compiling them takes several queries, so the runtime's ``DomainCaches.policy_sets``
keeps them in memory (reached through the session, see ``domain.caches``):

- every write to a server, its scopes, claims, policies or rules calls :func:`invalidate`,
  which drops the entry at once *and again when the transaction commits*, so a token
  request racing the write cannot cache what the write is replacing;
- entries also expire after ``ttl`` seconds, which bounds how long a change made by another
  process stays unseen (the same rule as the server and key caches).

Load through a session that has written nothing: what it reads is what gets cached.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.bounded_cache import BoundedTTLCache
from ostiary.domain.authz.expressions import Expression, ExpressionError, parse_expression
from ostiary.domain.authz.policy_engine import (
    CompiledPolicySet,
    PolicyView,
    RuleView,
    ScopeInfo,
    resolve_requested_scopes,
)
from ostiary.domain.caches import caches_of
from ostiary.store import cache_events
from ostiary.store.models.policies import AccessPolicy, Claim, PolicyRule
from ostiary.store.repositories.policy_sets import server_configuration

ACTIVE = "ACTIVE"
RESOURCE, IDENTITY = "RESOURCE", "IDENTITY"
TTL_SECONDS = 10.0
MAX_SETS = 4096

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class ClaimView:
    """An active claim of the server. ``expression`` is parsed for EXPRESSION claims; it is None
    for GROUPS claims (use ``group_filter_type`` and ``value`` with ``filter_groups``) and for
    system claims, whose value the token code computes itself (e.g. ``sub``)."""

    id: str
    name: str
    claim_type: str
    value_type: str
    value: str
    expression: Expression | None
    group_filter_type: str | None
    always_include_in_token: bool
    scopes: frozenset[str]
    system: bool

    def applies_to(self, granted_scopes: Iterable[str]) -> bool:
        """No scope condition means every token; otherwise one of its scopes must be granted."""
        return not self.scopes or not self.scopes.isdisjoint(granted_scopes)


@dataclass(frozen=True, slots=True)
class ServerPolicySet:
    """Everything a token request asks of one server's configuration."""

    org_id: str
    server_id: str
    policies: CompiledPolicySet
    scopes: Mapping[str, ScopeInfo]
    default_scopes: tuple[str, ...]
    claims: tuple[ClaimView, ...]
    loaded_at: float

    def resolve_scopes(self, requested: str | Iterable[str]) -> tuple[str, ...]:
        """The scopes to evaluate; raises ``PolicyScopeError`` (``invalid_scope``) as Okta would."""
        names = requested if isinstance(requested, str) else list(requested)
        return resolve_requested_scopes(names, self.scopes, self.default_scopes)

    def claims_for(self, claim_type: str, granted_scopes: Iterable[str]) -> tuple[ClaimView, ...]:
        """The custom claims of ``claim_type`` (RESOURCE: access token, IDENTITY: ID token) that
        apply to a token with ``granted_scopes``, system claims left out."""
        granted = frozenset(granted_scopes)
        return tuple(
            c for c in self.claims if c.claim_type == claim_type and not c.system and c.applies_to(granted)
        )


# --- loading and compiling -------------------------------------------------------------------


def _rule_view(rule: PolicyRule) -> RuleView:
    return RuleView(
        id=rule.id,
        name=rule.name,
        priority=rule.priority,
        active=rule.status == ACTIVE,
        users_include=frozenset(rule.users_include),
        users_exclude=frozenset(rule.users_exclude),
        groups_include=frozenset(rule.groups_include),
        groups_exclude=frozenset(rule.groups_exclude),
        grant_types=frozenset(rule.grant_types),
        scopes=frozenset(rule.scopes),
        access_token_lifetime_minutes=rule.access_token_lifetime_minutes,
        refresh_token_lifetime_minutes=rule.refresh_token_lifetime_minutes or None,
        refresh_token_window_minutes=rule.refresh_token_window_minutes,
    )


def _policy_views(policies: Iterable[AccessPolicy], rules: Iterable[PolicyRule]) -> list[PolicyView]:
    by_policy: dict[str, list[RuleView]] = {}
    for rule in rules:
        by_policy.setdefault(rule.policy_id, []).append(_rule_view(rule))
    return [
        PolicyView(
            id=policy.id,
            name=policy.name,
            priority=policy.priority,
            active=policy.status == ACTIVE,
            clients_include=frozenset(policy.clients_include),
            rules=tuple(by_policy.get(policy.id, ())),
        )
        for policy in policies
    ]


def _expression(claim: Claim) -> Expression | None:
    if claim.value_type != "EXPRESSION" or claim.system:
        return None
    try:
        return parse_expression(claim.value)
    except ExpressionError:
        return None  # saved before a parser change; such a claim is left out of tokens


def _claim_view(claim: Claim) -> ClaimView:
    return ClaimView(
        id=claim.id,
        name=claim.name,
        claim_type=claim.claim_type,
        value_type=claim.value_type,
        value=claim.value,
        expression=_expression(claim),
        group_filter_type=claim.group_filter_type,
        always_include_in_token=claim.always_include_in_token,
        scopes=frozenset(claim.conditions_scopes),
        system=claim.system,
    )


async def load_policy_set(session: AsyncSession, org_id: str, server_id: str) -> ServerPolicySet:
    """Read and compile a server's configuration (no cache)."""
    rows = await server_configuration(session, org_id, server_id)
    policies, rules, scopes, claims = rows.policies, rows.rules, rows.scopes, rows.claims
    return ServerPolicySet(
        org_id=org_id,
        server_id=server_id,
        policies=CompiledPolicySet(_policy_views(policies, rules)),
        scopes={s.name: ScopeInfo(name=s.name, default=s.default, system=s.system) for s in scopes},
        default_scopes=tuple(s.name for s in scopes if s.default),
        claims=tuple(_claim_view(c) for c in claims),
        loaded_at=time.monotonic(),
    )


# --- the cache -------------------------------------------------------------------------------


class PolicySetCache:
    """Compiled policy sets by (org, server), with explicit invalidation and a TTL (the
    runtime's ``DomainCaches.policy_sets``).

    A load that an invalidation overtakes is returned to its caller but not kept; concurrent
    misses on one server share one load.
    """

    def __init__(self, ttl: float = TTL_SECONDS, max_size: int = MAX_SETS) -> None:
        self.entries: BoundedTTLCache[Key, ServerPolicySet] = BoundedTTLCache(max_size, ttl)

    @property
    def ttl(self) -> float:
        return self.entries.ttl

    @ttl.setter
    def ttl(self, value: float) -> None:
        self.entries.ttl = value

    def cached(self, org_id: str, server_id: str) -> ServerPolicySet | None:
        return self.entries.get((org_id, server_id))

    async def get(self, session: AsyncSession, org_id: str, server_id: str) -> ServerPolicySet:
        # load_policy_set is looked up at call time (tests replace it)
        return await self.entries.get_or_load(
            (org_id, server_id), lambda: load_policy_set(session, org_id, server_id)
        )

    def invalidate(self, org_id: str, server_id: str | None = None) -> None:
        """Drop one server's entry, or every server's of the org when ``server_id`` is None."""
        if server_id is None:
            self.entries.invalidate_where(lambda key: key[0] == org_id)
        else:
            self.entries.invalidate((org_id, server_id))

    def clear(self) -> None:
        self.entries.invalidate()


async def policy_set(session: AsyncSession, org_id: str, server_id: str) -> ServerPolicySet:
    """The server's compiled configuration: policies, scopes and claims (cached)."""
    return await caches_of(session).policy_sets.get(session, org_id, server_id)


async def compiled_policies(session: AsyncSession, org_id: str, server_id: str) -> CompiledPolicySet:
    """The server's access policies and rules, ready for ``evaluate(TokenRequest(...))``."""
    return (await policy_set(session, org_id, server_id)).policies


async def known_scopes(session: AsyncSession, org_id: str, server_id: str) -> Mapping[str, ScopeInfo]:
    """The scopes the server defines by name, for ``resolve_requested_scopes``."""
    return (await policy_set(session, org_id, server_id)).scopes


async def server_claims(session: AsyncSession, org_id: str, server_id: str) -> tuple[ClaimView, ...]:
    """The server's active claims (custom and system), in creation order."""
    return (await policy_set(session, org_id, server_id)).claims


class CachedPolicySets:
    """:class:`~ostiary.domain.tokens.storage.PolicySets` over a session, through the
    runtime's policy set cache (:func:`policy_set`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def policy_set(self, org_id: str, server_id: str) -> ServerPolicySet:
        return await policy_set(self.session, org_id, server_id)


def invalidate(session: AsyncSession, org_id: str, server_id: str) -> None:
    """Drop the server's cached set now and once more after ``session`` commits."""
    cache_events.forget_after_commit(session, caches_of(session).policy_sets.entries, (org_id, server_id))
    cache_events.announce(session, "policy_set", org_id, server_id)
