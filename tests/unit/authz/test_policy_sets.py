"""Policy sets: the seed's setup made through the management API alone, compiled, cached and evaluated.

The scenario is *Setting Up for Okta API Integration Examples*: groups silverSubscribers and
goldSubscribers, a custom server with the scopes ``http://myapp.com/scp/silver`` and
``.../gold``, an access policy with one rule per group for authorization_code and implicit,
and a client_credentials rule for services.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from ostiary.domain.authz import policy_sets
from ostiary.domain.authz.expressions import EvalContext
from ostiary.domain.authz.policy_engine import (
    POLICY_DENIED,
    UNKNOWN_SCOPE,
    PolicyDecision,
    PolicyScopeError,
    TokenRequest,
)
from ostiary.domain.authz.policy_sets import PolicySetCache, ServerPolicySet
from tests.conftest import Server
from tests.support.authorization_servers import AS, create_server
from tests.support.policies import create_group, create_service_app, create_user

SILVER = "http://myapp.com/scp/silver"
GOLD = "http://myapp.com/scp/gold"


@dataclass
class Setup:
    server: Server
    admin: httpx.AsyncClient
    org_id: str
    server_id: str
    policy_id: str
    rules: dict[str, str]
    client_id: str
    users: dict[str, str]
    groups_of: dict[str, frozenset[str]]

    async def policy_set(self) -> ServerPolicySet:
        async with self.server.rt.db.session() as session:
            return await policy_sets.policy_set(session, self.org_id, self.server_id)

    async def decide(
        self, user: str | None, scopes: list[str], grant_type: str = "authorization_code"
    ) -> PolicyDecision:
        async with self.server.rt.db.session() as session:
            compiled = await policy_sets.compiled_policies(session, self.org_id, self.server_id)
        user_id = self.users[user] if user else None
        request = TokenRequest(
            client_id=self.client_id,
            user_id=user_id,
            user_group_ids=self.groups_of[user] if user else frozenset(),
            grant_type=grant_type,
            scopes=tuple(scopes),
        )
        return compiled.evaluate(request)


def group_rule(name: str, group_id: str, scopes: list[str]) -> dict[str, Any]:
    return {
        "type": "RESOURCE_ACCESS",
        "name": name,
        "conditions": {
            "people": {"groups": {"include": [group_id]}},
            "grantTypes": {"include": ["authorization_code", "implicit"]},
            "scopes": {"include": scopes},
        },
        "actions": {"token": {"accessTokenLifetimeMinutes": 30}},
    }


async def build_seed_setup(server: Server, admin: httpx.AsyncClient) -> Setup:
    silver_group = await create_group(admin, "silverSubscribers")
    gold_group = await create_group(admin, "goldSubscribers")
    users = {
        "silver": await create_user(admin, "carl.sagan@example.com", silver_group),
        "gold": await create_user(admin, "ann.druyan@example.com", gold_group),
        "nobody": await create_user(admin, "neil.tyson@example.com"),
    }
    groups_of = {
        name: frozenset(g["id"] for g in (await admin.get(f"/api/v1/users/{uid}/groups")).json())
        for name, uid in users.items()
    }
    server_id = (await create_server(admin, "API Center", audiences=["api://solar-system"]))["id"]
    for scope in (SILVER, GOLD):
        assert (await admin.post(f"{AS}/{server_id}/scopes", json={"name": scope})).status_code == 201
    policy = await admin.post(
        f"{AS}/{server_id}/policies",
        json={
            "name": "API Center",
            "description": "Planets and moons",
            "conditions": {"clients": {"include": ["ALL_CLIENTS"]}},
        },
    )
    policy_id = policy.json()["id"]
    rules_url = f"{AS}/{server_id}/policies/{policy_id}/rules"
    rules = {}
    for name, body in (
        ("silver", group_rule("Silver subscribers", silver_group, ["openid", SILVER])),
        ("gold", group_rule("Gold subscribers", gold_group, ["openid", SILVER, GOLD])),
        (
            "service",
            {
                "name": "Services",
                "conditions": {
                    "grantTypes": {"include": ["client_credentials"]},
                    "scopes": {"include": [SILVER, GOLD]},
                },
            },
        ),
    ):
        response = await admin.post(rules_url, json=body)
        assert response.status_code == 201, response.text
        rules[name] = response.json()["id"]
    org = await server.rt.org_for_host("localhost:8080")
    return Setup(
        server, admin, org.id, server_id, policy_id, rules, await create_service_app(admin), users, groups_of
    )


@pytest.fixture
async def setup(any_server: Server) -> Any:
    token = await any_server.create_token()
    async with any_server.client(token) as admin:
        yield await build_seed_setup(any_server, admin)


# --- the seed's decisions ------------------------------------------------------------------------


async def test_silver_subscriber_gets_the_silver_scope(setup: Setup) -> None:
    decision = await setup.decide("silver", ["openid", SILVER])
    assert decision.granted
    assert (decision.policy_id, decision.rule_id) == (setup.policy_id, setup.rules["silver"])
    assert decision.scopes == ("openid", SILVER)
    assert decision.access_token_lifetime_minutes == 30
    assert decision.refresh_token_lifetime_minutes is None, "0 minutes means unlimited"
    assert decision.refresh_token_window_minutes == 10080


async def test_silver_subscriber_asking_for_gold_is_denied_as_okta_words_it(setup: Setup) -> None:
    decision = await setup.decide("silver", ["openid", GOLD])
    assert not decision.granted
    assert decision.error == "access_denied"
    assert decision.error_description == POLICY_DENIED
    assert decision.error_description == (
        "Policy evaluation failed for this request, please check the policy configurations."
    )
    silver_step = next(s for s in decision.trace if s.rule_id == setup.rules["silver"])
    assert not silver_step.matched and GOLD in silver_step.reason


async def test_gold_subscriber_gets_gold_and_silver(setup: Setup) -> None:
    for scopes in ([GOLD], [SILVER], ["openid", SILVER, GOLD]):
        decision = await setup.decide("gold", scopes, grant_type="implicit")
        assert decision.granted and decision.rule_id == setup.rules["gold"], scopes


async def test_a_user_in_neither_group_is_denied_every_scope(setup: Setup) -> None:
    for scopes in ([SILVER], [GOLD], ["openid"]):
        decision = await setup.decide("nobody", scopes)
        assert (decision.granted, decision.error) == (False, "access_denied"), scopes


async def test_user_rules_allow_only_their_grant_types(setup: Setup) -> None:
    decision = await setup.decide("silver", [SILVER], grant_type="password")
    assert not decision.granted
    assert any("grant type password" in s.reason for s in decision.trace)


async def test_a_service_gets_both_scopes_with_client_credentials(setup: Setup) -> None:
    decision = await setup.decide(None, [SILVER, GOLD], grant_type="client_credentials")
    assert decision.granted and decision.rule_id == setup.rules["service"]
    assert not (await setup.decide(None, ["openid"], grant_type="client_credentials")).granted


async def test_requested_scopes_are_resolved_against_the_servers_scopes(setup: Setup) -> None:
    policy_set = await setup.policy_set()
    assert policy_set.resolve_scopes(f"openid {SILVER} openid") == ("openid", SILVER)
    with pytest.raises(PolicyScopeError) as refused:
        policy_set.resolve_scopes([SILVER, "http://myapp.com/scp/platinum"])
    assert (refused.value.error, refused.value.description) == ("invalid_scope", UNKNOWN_SCOPE)
    assert set(policy_set.scopes) >= {"openid", "offline_access", SILVER, GOLD}
    assert policy_set.scopes[SILVER].system is False and policy_set.scopes["openid"].system is True


async def test_default_scopes_answer_a_request_that_names_none(setup: Setup) -> None:
    silver = next(
        s for s in (await setup.admin.get(f"{AS}/{setup.server_id}/scopes", params={"q": "silver"})).json()
    )
    await setup.admin.put(
        f"{AS}/{setup.server_id}/scopes/{silver['id']}", json={"name": SILVER, "default": True}
    )
    assert (await setup.policy_set()).resolve_scopes([]) == (SILVER,)


# --- the cache -----------------------------------------------------------------------------------


async def test_the_compiled_set_is_cached(setup: Setup) -> None:
    assert await setup.policy_set() is await setup.policy_set()


async def test_deactivating_a_rule_is_seen_by_the_next_request(setup: Setup) -> None:
    assert (await setup.decide("silver", [SILVER])).granted
    url = f"{AS}/{setup.server_id}/policies/{setup.policy_id}/rules/{setup.rules['silver']}"
    assert (await setup.admin.post(f"{url}/lifecycle/deactivate")).status_code == 204
    assert not (await setup.decide("silver", [SILVER])).granted
    assert (await setup.admin.post(f"{url}/lifecycle/activate")).status_code == 204
    assert (await setup.decide("silver", [SILVER])).granted


async def test_deactivating_the_policy_denies_everyone(setup: Setup) -> None:
    url = f"{AS}/{setup.server_id}/policies/{setup.policy_id}"
    await setup.admin.post(f"{url}/lifecycle/deactivate")
    assert not (await setup.decide("gold", [GOLD])).granted


async def test_changing_a_rule_is_seen_by_the_next_request(setup: Setup) -> None:
    gold_group = next(g for g in setup.groups_of["gold"] if g not in setup.groups_of["nobody"])
    url = f"{AS}/{setup.server_id}/policies/{setup.policy_id}/rules/{setup.rules['silver']}"
    now_for_gold = group_rule("Silver subscribers", gold_group, ["openid", SILVER])
    assert (await setup.admin.put(url, json=now_for_gold)).status_code == 200
    decision = await setup.decide("silver", [SILVER])
    assert not decision.granted


async def test_a_new_scope_is_known_to_the_next_request(setup: Setup) -> None:
    await setup.policy_set()
    await setup.admin.post(f"{AS}/{setup.server_id}/scopes", json={"name": "http://myapp.com/scp/platinum"})
    assert "http://myapp.com/scp/platinum" in (await setup.policy_set()).scopes


async def test_claims_are_compiled_with_their_expressions(setup: Setup) -> None:
    await setup.policy_set()
    claim = {
        "name": "tier",
        "claimType": "RESOURCE",
        "valueType": "EXPRESSION",
        "value": 'isMemberOfGroupName("goldSubscribers") ? "gold" : "silver"',
        "conditions": {"scopes": [SILVER, GOLD]},
    }
    assert (await setup.admin.post(f"{AS}/{setup.server_id}/claims", json=claim)).status_code == 201
    groups_claim = {
        "name": "groups",
        "claimType": "IDENTITY",
        "valueType": "GROUPS",
        "group_filter_type": "CONTAINS",
        "value": "Subscribers",
        "conditions": {"scopes": ["groups"]},
    }
    assert (await setup.admin.post(f"{AS}/{setup.server_id}/claims", json=groups_claim)).status_code == 201
    policy_set = await setup.policy_set()
    [tier] = policy_set.claims_for("RESOURCE", [SILVER])
    assert tier.expression is not None
    assert tier.expression.evaluate(EvalContext()) == "silver"
    assert policy_set.claims_for("RESOURCE", ["openid"]) == ()
    [groups] = policy_set.claims_for("IDENTITY", ["openid", "groups"])
    assert (groups.expression, groups.group_filter_type, groups.value) == (None, "CONTAINS", "Subscribers")
    sub = next(c for c in policy_set.claims if c.name == "sub")
    assert sub.system and sub.expression is None


async def test_deleting_the_server_empties_its_set(setup: Setup) -> None:
    assert (await setup.policy_set()).scopes
    assert (await setup.admin.delete(f"{AS}/{setup.server_id}")).status_code == 204
    emptied = await setup.policy_set()
    assert emptied.scopes == {} and emptied.claims == ()
    assert not (await setup.decide("gold", [GOLD])).granted


async def test_the_default_servers_default_policy_grants_any_defined_scope(setup: Setup) -> None:
    async with setup.server.rt.db.session() as session:
        compiled = await policy_sets.compiled_policies(session, setup.org_id, "default")
    request = TokenRequest(
        "0oaanyclient",
        setup.users["nobody"],
        setup.groups_of["nobody"],
        "authorization_code",
        ("openid", "profile"),
    )
    decision = compiled.evaluate(request)
    assert decision.granted and decision.access_token_lifetime_minutes == 60


async def test_a_load_overtaken_by_an_invalidation_is_not_kept(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    POLICY_SETS: PolicySetCache = setup.server.rt.caches.policy_sets  # was a module global
    POLICY_SETS.invalidate(setup.org_id, setup.server_id)
    real = policy_sets.load_policy_set

    async def racing_load(session: Any, org_id: str, server_id: str) -> ServerPolicySet:
        loaded = await real(session, org_id, server_id)
        POLICY_SETS.invalidate(org_id, server_id)  # a write committed while we were reading
        return loaded

    monkeypatch.setattr(policy_sets, "load_policy_set", racing_load)
    await setup.policy_set()
    assert POLICY_SETS.cached(setup.org_id, setup.server_id) is None


async def test_invalidation_repeats_when_the_writing_transaction_commits(setup: Setup) -> None:
    POLICY_SETS: PolicySetCache = setup.server.rt.caches.policy_sets  # was a module global
    async with setup.server.rt.db.session() as writer:
        policy_sets.invalidate(writer, setup.org_id, setup.server_id)
        await setup.policy_set()  # a reader caches the state the writer is replacing
        assert POLICY_SETS.cached(setup.org_id, setup.server_id) is not None
    assert POLICY_SETS.cached(setup.org_id, setup.server_id) is None


async def test_entries_expire_after_the_ttl(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    POLICY_SETS: PolicySetCache = setup.server.rt.caches.policy_sets  # was a module global
    first = await setup.policy_set()
    monkeypatch.setattr(POLICY_SETS, "ttl", 0.0)
    assert await setup.policy_set() is not first
