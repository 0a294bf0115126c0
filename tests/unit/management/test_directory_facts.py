"""``POST /api/v1/users`` reads the org's user schema and group rules from a per-org cache
(``domain.directory.directory_facts``): every change to them reaches the next create, in this
process at once and in the others through the ``directory_facts`` cache event."""

from __future__ import annotations

from typing import Any

import httpx

from ostiary.domain.caches import caches_of
from ostiary.domain.directory import directory_facts
from ostiary.http.cache_sync import cache_event_handlers
from ostiary.store.cache_events import parse
from tests.conftest import Server
from tests.unit.management.test_admin_roles_api import make_group
from tests.unit.management.test_group_rules_api import RULES, members, rule_body

SCHEMA = "/api/v1/meta/schemas/user/default"
BADGE = {"definitions": {"custom": {"properties": {"badge": {"title": "Badge", "type": "integer"}}}}}


def user(login: str, **extra: Any) -> dict[str, Any]:
    return {"profile": {"login": login, "email": login, "firstName": "A", "lastName": "B", **extra}}


async def test_creates_follow_schema_and_rule_changes_at_once(admin: httpx.AsyncClient) -> None:
    # No custom attribute yet (cached so): badge is refused; once declared, it is taken.
    assert (await admin.post("/api/v1/users", json=user("a@example.com"))).status_code == 200
    assert (await admin.post("/api/v1/users", json=user("b@example.com", badge=42))).status_code == 400
    assert (await admin.post(SCHEMA, json=BADGE)).status_code == 200
    assert (await admin.post("/api/v1/users", json=user("b@example.com", badge="x"))).status_code == 400
    assert (await admin.post("/api/v1/users", json=user("b@example.com", badge=42))).status_code == 200

    group = await make_group(admin, "Engineers")
    rule = (await admin.post(RULES, json=rule_body(group))).json()
    assert (await admin.post(f"{RULES}/{rule['id']}/lifecycle/activate")).status_code == 204
    created = await admin.post("/api/v1/users", json=user("eng@example.com", department="Engineering"))
    assert created.status_code == 200
    assert await members(admin, group) == {"eng@example.com"}
    assert (await admin.post(f"{RULES}/{rule['id']}/lifecycle/deactivate")).status_code == 204
    created = await admin.post("/api/v1/users", json=user("eng2@example.com", department="Engineering"))
    assert created.status_code == 200
    assert await members(admin, group) == {"eng@example.com"}


async def test_a_rule_or_schema_write_announces_directory_facts_to_other_processes(
    server: Server, admin: httpx.AsyncClient
) -> None:
    from sqlalchemy import select

    from ostiary.store.models.cache_log import CacheEventRow

    assert (await admin.post("/api/v1/users", json=user("a@example.com"))).status_code == 200
    async with server.rt.db.session() as session:
        before = len((await session.scalars(select(CacheEventRow.payload))).all())
    group = await make_group(admin, "Engineers")
    assert (await admin.post(RULES, json=rule_body(group))).status_code == 200
    assert (await admin.post(SCHEMA, json=BADGE)).status_code == 200
    async with server.rt.db.session() as session:
        payloads = (await session.scalars(select(CacheEventRow.payload))).all()[before:]
    kinds = [parse(p) for p in payloads]
    facts = [key for kind, key in filter(None, kinds) if kind == directory_facts.EVENT]
    assert len(facts) >= 2 and all(len(key) == 1 and key[0].startswith("00o") for key in facts)

    # Another process's event drops this process's entry.
    caches = caches_of(server.rt.db)
    org = facts[0][0]
    caches.directory_facts.set(org, directory_facts.DirectoryFacts({}, False))
    cache_event_handlers(server.rt)[directory_facts.EVENT](org)
    assert caches.directory_facts.get(org) is None
