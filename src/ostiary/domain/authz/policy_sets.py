"""A server's policies, scopes and claims compiled for the token endpoint, cached per (org, server).

A token request needs three things from the database: the access policies and rules (as the
policy engine's :class:`CompiledPolicySet`), the scopes the server defines (for
:func:`resolve_requested_scopes`) and the custom claims (expressions parsed once). Loading
and compiling them takes several queries, so :data:`POLICY_SETS` keeps them in memory:

- every write to a server, its scopes, claims, policies or rules calls :func:`invalidate`,
  which drops the entry at once *and again when the transaction commits*, so a token
  request racing the write cannot cache what the write is replacing;
- entries also expire after ``ttl`` seconds, which bounds how long a change made by another
  process stays unseen (the same rule as the server and key caches).

Load through a session that has written nothing: what it reads is what gets cached.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from ostiary.domain.authz.expressions import Expression, ExpressionError, parse_expression
from ostiary.domain.authz.policy_engine import (
    CompiledPolicySet,
    PolicyView,
    RuleView,
    ScopeInfo,
    resolve_requested_scopes,
)
from ostiary.store import cache_events
from ostiary.store.models.policies import AccessPolicy, Claim, PolicyRule, Scope

ACTIVE = "ACTIVE"
RESOURCE, IDENTITY = "RESOURCE", "IDENTITY"
_PENDING = "ostiary.policy_sets.pending"

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
    memo: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)
    """Results computed from this snapshot alone (client_credentials decisions); they go when
    the snapshot is replaced."""

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

    policies = (
        await session.scalars(
            select(AccessPolicy)
            .where(AccessPolicy.org_id == org_id, AccessPolicy.server_id == server_id)
            .order_by(AccessPolicy.priority)
        )
    ).all()
    rules = (
        await session.scalars(
            select(PolicyRule)
            .where(PolicyRule.org_id == org_id, PolicyRule.server_id == server_id)
            .order_by(PolicyRule.priority)
        )
    ).all()
    scopes = (
        await session.scalars(
            select(Scope).where(Scope.org_id == org_id, Scope.server_id == server_id).order_by(Scope.name)
        )
    ).all()
    claims = (
        await session.scalars(
            select(Claim)
            .where(Claim.org_id == org_id, Claim.server_id == server_id, Claim.status == ACTIVE)
            .order_by(Claim.created, Claim.id)
        )
    ).all()
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
    """Compiled policy sets by (org, server), with explicit invalidation and a TTL.

    A load that an invalidation overtakes is returned to its caller but not kept (each key
    has a generation number that :meth:`invalidate` bumps).
    """

    def __init__(self, ttl: float = 10.0) -> None:
        self.ttl = ttl
        self._entries: dict[Key, ServerPolicySet] = {}
        self._generations: dict[Key, int] = {}
        self._locks: dict[Key, asyncio.Lock] = {}

    def cached(self, org_id: str, server_id: str) -> ServerPolicySet | None:
        entry = self._entries.get((org_id, server_id))
        if entry is not None and time.monotonic() - entry.loaded_at < self.ttl:
            return entry
        return None

    async def get(self, session: AsyncSession, org_id: str, server_id: str) -> ServerPolicySet:
        entry = self.cached(org_id, server_id)
        if entry is not None:
            return entry
        key = (org_id, server_id)
        async with self._locks.setdefault(key, asyncio.Lock()):
            entry = self.cached(org_id, server_id)
            if entry is not None:
                return entry
            generation = self._generations.get(key, 0)
            entry = await load_policy_set(session, org_id, server_id)
            if self._generations.get(key, 0) == generation:
                self._entries[key] = entry
            return entry

    def invalidate(self, org_id: str, server_id: str | None = None) -> None:
        """Drop one server's entry, or every server's of the org when ``server_id`` is None."""
        if server_id is None:
            keys = {k for k in (*self._entries, *self._generations) if k[0] == org_id}
        else:
            keys = {(org_id, server_id)}
        for key in keys:
            self._entries.pop(key, None)
            self._generations[key] = self._generations.get(key, 0) + 1

    def clear(self) -> None:
        for key in list(self._entries):
            self.invalidate(*key)


POLICY_SETS = PolicySetCache()
"""The process-wide cache the token endpoint reads through."""


async def policy_set(session: AsyncSession, org_id: str, server_id: str) -> ServerPolicySet:
    """The server's compiled configuration: policies, scopes and claims."""
    return await POLICY_SETS.get(session, org_id, server_id)


async def compiled_policies(session: AsyncSession, org_id: str, server_id: str) -> CompiledPolicySet:
    """The server's access policies and rules, ready for ``evaluate(TokenRequest(...))``."""
    return (await policy_set(session, org_id, server_id)).policies


async def known_scopes(session: AsyncSession, org_id: str, server_id: str) -> Mapping[str, ScopeInfo]:
    """The scopes the server defines by name, for ``resolve_requested_scopes``."""
    return (await policy_set(session, org_id, server_id)).scopes


async def server_claims(session: AsyncSession, org_id: str, server_id: str) -> tuple[ClaimView, ...]:
    """The server's active claims (custom and system), in creation order."""
    return (await policy_set(session, org_id, server_id)).claims


def _invalidate_pending(session: Session) -> None:
    for org_id, server_id in session.info.pop(_PENDING, set()):
        POLICY_SETS.invalidate(org_id, server_id)


def invalidate(session: AsyncSession, org_id: str, server_id: str) -> None:
    """Drop the server's cached set now and once more after ``session`` commits."""
    POLICY_SETS.invalidate(org_id, server_id)
    cache_events.announce(session, "policy_set", org_id, server_id)
    sync = session.sync_session
    pending: set[Key] | None = sync.info.get(_PENDING)
    if pending is None:
        pending = sync.info[_PENDING] = set()
        event.listen(sync, "after_commit", _invalidate_pending, once=True)
    pending.add((org_id, server_id))
