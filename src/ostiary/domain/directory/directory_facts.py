"""What every ``POST /api/v1/users`` of an org reads and hardly ever changes: the org's custom
user schema, and whether it has any ACTIVE group rule. Cached per org, in every process.

Why: loading them was two of a create's statements (``user_schemas``, ``group_rules``), about
15 % of its samples under py-spy on PostgreSQL; and with no ACTIVE rule (most orgs) the new
user needs no rule evaluation at all. Measured gain: see ``docs/performance.md`` ("Directory at
scale").

Invalidation: a flush that adds, changes or deletes a ``UserSchema`` or ``GroupRuleRow`` row
(:func:`_facts_changed`, one session hook, so no write site can forget it) drops the org's entry
now and again when the transaction ends (``forget_after_commit``), and announces the
``directory_facts`` cache event (``http.cache_sync`` drops the entry in the other processes;
the TTL is short while no events arrive). A load racing a change is not stored (the cache's
generation). Staleness can only ever cost a user created in the instant a rule turns ACTIVE in
another process its rule-given memberships until the user's next update, the window the
cache event takes to arrive; a schema change reaches creates in the same window.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, exists, select
from sqlalchemy.orm import Session

from ostiary.bounded_cache import BoundedTTLCache
from ostiary.domain.caches import SHARED_NAME, DomainCaches, caches_of
from ostiary.domain.context import Tx
from ostiary.store.cache_events import announce, forget_after_commit
from ostiary.store.db import shared
from ostiary.store.models.group_rules import GroupRuleRow
from ostiary.store.models.schemas import UserSchema

EVENT = "directory_facts"
"""The cache event kind: key ``org_id``."""
MAX_ORGS = 4096
TTL = 5.0
"""Seconds an entry lives while no cache events arrive (``caches.FOLLOWING_TTL`` while they do)."""
ACTIVE = "ACTIVE"


@dataclass(frozen=True, slots=True)
class DirectoryFacts:
    custom: Mapping[str, Mapping[str, Any]]
    """The org's custom user profile properties (``user_schema.custom_properties``); read only."""
    has_active_rules: bool
    """Whether any group rule of the org is ACTIVE (else a new user needs no rule evaluation)."""


def new_cache() -> BoundedTTLCache[str, DirectoryFacts]:
    return BoundedTTLCache(MAX_ORGS, TTL)


async def of(tx: Tx) -> DirectoryFacts:
    """The facts of ``tx``'s org, from the runtime's cache or loaded in ``tx``."""

    async def load() -> DirectoryFacts:
        row = await tx.session.get(UserSchema, tx.org_id)
        org_rules = GroupRuleRow.org_id == tx.org_id
        active = select(GroupRuleRow.id).where(org_rules, GroupRuleRow.status == ACTIVE)
        has_rules = bool(await tx.session.scalar(select(exists(active))))
        return DirectoryFacts(dict(row.custom) if row is not None else {}, has_rules)

    return await caches_of(tx.session).directory_facts.get_or_load(tx.org_id, load)


@event.listens_for(Session, "after_flush")
def _facts_changed(session: Session, _context: Any) -> None:
    """Forget and announce the facts of every org whose schema or group rules this flush wrote."""
    orgs = {
        obj.org_id
        for objects in (session.new, session.dirty, session.deleted)
        for obj in objects
        if isinstance(obj, UserSchema | GroupRuleRow)
    }
    if not orgs:
        return
    caches: DomainCaches | None = shared(session, SHARED_NAME)  # none: a maintenance script's
    for org_id in orgs:
        if caches is not None:
            forget_after_commit(session, caches.directory_facts, org_id)
        announce(session, EVENT, org_id)
