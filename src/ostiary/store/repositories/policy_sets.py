"""The rows that make up a server's token configuration: access policies, rules, scopes and
active claims (compiled and cached by ``domain.authz.policy_sets``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.store.models.policies import AccessPolicy, Claim, PolicyRule, Scope

ACTIVE = "ACTIVE"


@dataclass(frozen=True, slots=True)
class ServerConfigurationRows:
    policies: Sequence[AccessPolicy]
    """By priority."""
    rules: Sequence[PolicyRule]
    """By priority."""
    scopes: Sequence[Scope]
    """By name."""
    claims: Sequence[Claim]
    """The ACTIVE ones, in creation order."""


async def server_configuration(session: AsyncSession, org_id: str, server_id: str) -> ServerConfigurationRows:
    policies = await session.scalars(
        select(AccessPolicy)
        .where(AccessPolicy.org_id == org_id, AccessPolicy.server_id == server_id)
        .order_by(AccessPolicy.priority)
    )
    rules = await session.scalars(
        select(PolicyRule)
        .where(PolicyRule.org_id == org_id, PolicyRule.server_id == server_id)
        .order_by(PolicyRule.priority)
    )
    scopes = await session.scalars(
        select(Scope).where(Scope.org_id == org_id, Scope.server_id == server_id).order_by(Scope.name)
    )
    claims = await session.scalars(
        select(Claim)
        .where(Claim.org_id == org_id, Claim.server_id == server_id, Claim.status == ACTIVE)
        .order_by(Claim.created, Claim.id)
    )
    return ServerConfigurationRows(policies.all(), rules.all(), scopes.all(), claims.all())
