"""Access policies and rules of an authorization server: shapes, priorities, lifecycle, references checked."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from okta.models import AuthorizationServerPolicy, AuthorizationServerPolicyRule

from tests.support.authorization_servers import AS, ORG, assert_okta_error
from tests.support.policies import (
    create_group,
    create_policy,
    create_rule,
    create_service_app,
    create_user,
    new_server,
    policy_body,
    rule_body,
)


async def policy_order(client: httpx.AsyncClient, server_id: str) -> list[tuple[str, int]]:
    return [(p["name"], p["priority"]) for p in (await client.get(f"{AS}/{server_id}/policies")).json()]


async def rule_order(client: httpx.AsyncClient, server_id: str, policy_id: str) -> list[tuple[str, int]]:
    rules = (await client.get(f"{AS}/{server_id}/policies/{policy_id}/rules")).json()
    return [(r["name"], r["priority"]) for r in rules]


# --- policies ------------------------------------------------------------------------------------


async def test_create_policy_answers_201_in_okta_shape(any_admin: httpx.AsyncClient) -> None:
    server_id = await new_server(any_admin)
    response = await any_admin.post(f"{AS}/{server_id}/policies", json=policy_body(priority=1))
    assert response.status_code == 201
    policy = response.json()
    assert re.fullmatch(r"00p[0-9A-Za-z]{17}", policy["id"])
    href = f"{ORG}{AS}/{server_id}/policies/{policy['id']}"
    assert policy == {
        "type": "OAUTH_AUTHORIZATION_POLICY",
        "id": policy["id"],
        "status": "ACTIVE",
        "name": "Vendor2 Policy",
        "description": "Vendor2 Policy description",
        "priority": 1,
        "system": False,
        "conditions": {"clients": {"include": ["ALL_CLIENTS"]}},
        "created": policy["created"],
        "lastUpdated": policy["lastUpdated"],
        "_links": {
            "self": {"href": href, "hints": {"allow": ["GET", "PUT", "DELETE"]}},
            "deactivate": {"href": f"{href}/lifecycle/deactivate", "hints": {"allow": ["POST"]}},
            "rules": {"href": f"{href}/rules", "hints": {"allow": ["GET"]}},
        },
    }
    model = AuthorizationServerPolicy.from_dict(policy)
    assert model is not None and model.name == "Vendor2 Policy"
    assert (await any_admin.get(href)).json() == policy


async def test_policy_defaults_to_all_clients_and_the_last_place(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    await create_policy(admin, server_id, "first")
    second = (await admin.post(f"{AS}/{server_id}/policies", json={"name": "second"})).json()
    assert second["conditions"] == {"clients": {"include": ["ALL_CLIENTS"]}}
    assert second["priority"] == 2
    assert second["description"] is None


async def test_inserting_at_a_priority_moves_the_others_down(any_admin: httpx.AsyncClient) -> None:
    server_id = await new_server(any_admin)
    for name in ("a", "b", "c"):
        await create_policy(any_admin, server_id, name)
    await create_policy(any_admin, server_id, "first", priority=1)
    await create_policy(any_admin, server_id, "beyond", priority=99)
    assert await policy_order(any_admin, server_id) == [
        ("first", 1),
        ("a", 2),
        ("b", 3),
        ("c", 4),
        ("beyond", 5),
    ]


async def test_replace_moves_a_policy_and_delete_closes_the_gap(any_admin: httpx.AsyncClient) -> None:
    server_id = await new_server(any_admin)
    a, _b, c = [await create_policy(any_admin, server_id, name) for name in ("a", "b", "c")]
    moved = await any_admin.put(f"{AS}/{server_id}/policies/{c['id']}", json=policy_body("c", priority=1))
    assert moved.status_code == 200 and moved.json()["priority"] == 1
    assert await policy_order(any_admin, server_id) == [("c", 1), ("a", 2), ("b", 3)]
    assert (await any_admin.delete(f"{AS}/{server_id}/policies/{a['id']}")).status_code == 204
    assert await policy_order(any_admin, server_id) == [("c", 1), ("b", 2)]


async def test_replace_policy_changes_name_description_and_clients(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    app_id = await create_service_app(admin)
    policy = await create_policy(admin, server_id)
    body = policy_body("Renamed", conditions={"clients": {"include": [app_id]}})
    replaced = (await admin.put(f"{AS}/{server_id}/policies/{policy['id']}", json=body)).json()
    assert (replaced["name"], replaced["priority"]) == ("Renamed", 1)
    assert replaced["conditions"]["clients"]["include"] == [app_id]


async def test_unknown_clients_are_refused(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    body = policy_body(conditions={"clients": {"include": ["0oa00000000000000000"]}})
    response = await admin.post(f"{AS}/{server_id}/policies", json=body)
    assert_okta_error(response, 400, "E0000001", "Api validation failed: conditions.clients.include")
    assert "0oa00000000000000000" in response.json()["errorCauses"][0]["errorSummary"]
    assert await policy_order(admin, server_id) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"description": "no name"}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "p", "priority": "first"}, "priority"),
        ({"name": "p", "priority": 1.5}, "priority"),
        ({"name": "p", "priority": True}, "priority"),
        ({"name": "p", "priority": 0}, "priority"),
        ({"name": "p", "status": "ON"}, "status"),
        ({"name": "p", "type": "OKTA_SIGN_ON"}, "type"),
        ({"name": "p", "conditions": {"clients": {"include": "ALL_CLIENTS"}}}, "conditions.clients.include"),
        ({"name": "p", "conditions": []}, "conditions"),
    ],
)
async def test_bad_policies_are_refused_and_change_nothing(
    admin: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    server_id = await new_server(admin)
    await create_policy(admin, server_id, "kept")
    response = await admin.post(f"{AS}/{server_id}/policies", json=body)
    assert_okta_error(response, 400, "E0000001", f"Api validation failed: {field}")
    assert await policy_order(admin, server_id) == [("kept", 1)]


async def test_policy_lifecycle_answers_204(any_admin: httpx.AsyncClient) -> None:
    server_id = await new_server(any_admin)
    policy = await create_policy(any_admin, server_id)
    url = f"{AS}/{server_id}/policies/{policy['id']}"
    response = await any_admin.post(f"{url}/lifecycle/deactivate")
    assert (response.status_code, response.content) == (204, b"")
    inactive = (await any_admin.get(url)).json()
    assert inactive["status"] == "INACTIVE" and "activate" in inactive["_links"]
    assert (await any_admin.post(f"{url}/lifecycle/activate")).status_code == 204
    assert (await any_admin.get(url)).json()["status"] == "ACTIVE"


async def test_a_policy_created_inactive_stays_inactive(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    assert (await create_policy(admin, server_id, status="INACTIVE"))["status"] == "INACTIVE"


async def test_unknown_policy_is_okta_404(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    url = f"{AS}/{server_id}/policies/00p00000000000000000"
    summary = "Not found: Resource not found: 00p00000000000000000 (AuthorizationServerPolicy)"
    for call in (
        admin.get(url),
        admin.put(url, json=policy_body()),
        admin.delete(url),
        admin.post(f"{url}/lifecycle/activate"),
        admin.get(f"{url}/rules"),
        admin.post(f"{url}/rules", json=rule_body()),
    ):
        assert_okta_error(await call, 404, "E0000007", summary)
    default_policy = (await admin.get(f"{AS}/default/policies")).json()[0]
    assert_okta_error(await admin.get(f"{AS}/{server_id}/policies/{default_policy['id']}"), 404, "E0000007")


# --- rules ---------------------------------------------------------------------------------------


async def test_create_rule_with_the_spec_example_answers_201(any_admin: httpx.AsyncClient) -> None:
    server_id = await new_server(any_admin)
    policy = await create_policy(any_admin, server_id)
    body = {
        "type": "RESOURCE_ACCESS",
        "name": "Default Policy Rule",
        "priority": 1,
        "conditions": {
            "people": {"groups": {"include": ["EVERYONE"]}},
            "grantTypes": {"include": ["implicit", "client_credentials", "authorization_code", "password"]},
            "scopes": {"include": ["*"]},
        },
        "actions": {
            "token": {
                "accessTokenLifetimeMinutes": 60,
                "refreshTokenLifetimeMinutes": 0,
                "refreshTokenWindowMinutes": 10080,
                "inlineHook": {"id": "cal4egvp1mbMldrYN0g7"},
            }
        },
    }
    response = await any_admin.post(f"{AS}/{server_id}/policies/{policy['id']}/rules", json=body)
    assert response.status_code == 201, response.text
    rule = response.json()
    assert re.fullmatch(r"0pr[0-9A-Za-z]{17}", rule["id"])
    assert (rule["type"], rule["status"], rule["priority"], rule["system"]) == (
        "RESOURCE_ACCESS",
        "ACTIVE",
        1,
        False,
    )
    assert rule["conditions"] == {
        "people": {
            "users": {"include": [], "exclude": []},
            "groups": {"include": ["EVERYONE"], "exclude": []},
        },
        "grantTypes": {"include": ["implicit", "client_credentials", "authorization_code", "password"]},
        "scopes": {"include": ["*"]},
    }
    assert rule["actions"] == body["actions"]
    href = f"{ORG}{AS}/{server_id}/policies/{policy['id']}/rules/{rule['id']}"
    assert rule["_links"]["self"] == {"href": href, "hints": {"allow": ["GET", "PUT", "DELETE"]}}
    assert rule["_links"]["deactivate"]["href"] == f"{href}/lifecycle/deactivate"
    model = AuthorizationServerPolicyRule.from_dict(rule)
    assert model is not None and model.name == "Default Policy Rule"
    assert (await any_admin.get(href)).json() == rule


async def test_rule_token_lifetimes_default_to_okta_values(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    policy = await create_policy(admin, server_id)
    rule = await create_rule(admin, server_id, policy["id"])
    assert rule["actions"] == {
        "token": {
            "accessTokenLifetimeMinutes": 60,
            "refreshTokenLifetimeMinutes": 0,
            "refreshTokenWindowMinutes": 10080,
        }
    }


async def test_rules_have_their_own_priorities_per_policy(any_admin: httpx.AsyncClient) -> None:
    server_id = await new_server(any_admin)
    one, two = (
        await create_policy(any_admin, server_id, "one"),
        await create_policy(any_admin, server_id, "two"),
    )
    for name in ("a", "b"):
        await create_rule(any_admin, server_id, one["id"], name)
    await create_rule(any_admin, server_id, two["id"], "x")
    top = await create_rule(any_admin, server_id, one["id"], "top", priority=1)
    assert await rule_order(any_admin, server_id, one["id"]) == [("top", 1), ("a", 2), ("b", 3)]
    assert await rule_order(any_admin, server_id, two["id"]) == [("x", 1)]
    url = f"{AS}/{server_id}/policies/{one['id']}/rules/{top['id']}"
    assert (await any_admin.put(url, json=rule_body("top", priority=3))).status_code == 200
    assert await rule_order(any_admin, server_id, one["id"]) == [("a", 1), ("b", 2), ("top", 3)]
    assert (await any_admin.delete(url)).status_code == 204
    assert await rule_order(any_admin, server_id, one["id"]) == [("a", 1), ("b", 2)]


async def test_rules_name_existing_users_groups_and_scopes(any_admin: httpx.AsyncClient) -> None:
    server_id = await new_server(any_admin, "http://myapp.com/scp/silver")
    group_id = await create_group(any_admin, "silverSubscribers")
    user_id = await create_user(any_admin, "carl.sagan@example.com", group_id)
    other_id = await create_user(any_admin, "ann.druyan@example.com")
    policy = await create_policy(any_admin, server_id)
    people = {"users": {"include": [user_id], "exclude": [other_id]}, "groups": {"include": [group_id]}}
    rule = await create_rule(
        any_admin,
        server_id,
        policy["id"],
        grants=["authorization_code", "implicit"],
        scopes=["openid", "http://myapp.com/scp/silver"],
        people=people,
    )
    assert rule["conditions"]["people"] == {
        "users": {"include": [user_id], "exclude": [other_id]},
        "groups": {"include": [group_id], "exclude": []},
    }
    assert rule["conditions"]["scopes"]["include"] == ["openid", "http://myapp.com/scp/silver"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (rule_body(grants=["magic"]), "conditions.grantTypes.include"),
        (rule_body(scopes=["not:defined"]), "conditions.scopes.include"),
        (
            rule_body(people={"groups": {"include": ["00g00000000000000000"]}}),
            "conditions.people.groups.include",
        ),
        (
            rule_body(people={"groups": {"exclude": ["00g00000000000000000"]}}),
            "conditions.people.groups.exclude",
        ),
        (
            rule_body(people={"users": {"include": ["00u00000000000000000"]}}),
            "conditions.people.users.include",
        ),
        (rule_body(people={"users": {"include": "00u00000000000000000"}}), "conditions.people.users.include"),
        ({"name": "r", "conditions": {"scopes": {"include": ["*"]}}}, "conditions.grantTypes.include"),
        ({"name": "r", "conditions": {"grantTypes": {"include": ["implicit"]}}}, "conditions.scopes.include"),
        ({"name": "r"}, "conditions"),
        (rule_body(name=""), "name"),
        (rule_body(priority="1st"), "priority"),
        (rule_body(type="SIGN_ON"), "type"),
        (
            rule_body(actions={"token": {"accessTokenLifetimeMinutes": 2}}),
            "actions.token.accessTokenLifetimeMinutes",
        ),
        (
            rule_body(actions={"token": {"accessTokenLifetimeMinutes": "60"}}),
            "actions.token.accessTokenLifetimeMinutes",
        ),
        (
            rule_body(
                actions={"token": {"refreshTokenLifetimeMinutes": 30, "accessTokenLifetimeMinutes": 60}}
            ),
            "actions.token.refreshTokenLifetimeMinutes",
        ),
        (
            rule_body(actions={"token": {"refreshTokenWindowMinutes": 5}}),
            "actions.token.refreshTokenWindowMinutes",
        ),
        (rule_body(actions={"token": 60}), "actions.token"),
    ],
)
async def test_bad_rules_are_refused_and_change_nothing(
    admin: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    server_id = await new_server(admin)
    policy = await create_policy(admin, server_id)
    await create_rule(admin, server_id, policy["id"], "kept")
    response = await admin.post(f"{AS}/{server_id}/policies/{policy['id']}/rules", json=body)
    assert_okta_error(response, 400, "E0000001", f"Api validation failed: {field}")
    assert await rule_order(admin, server_id, policy["id"]) == [("kept", 1)]


async def test_replace_rule_with_bad_input_changes_nothing(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    policy = await create_policy(admin, server_id)
    rule = await create_rule(admin, server_id, policy["id"])
    url = f"{AS}/{server_id}/policies/{policy['id']}/rules/{rule['id']}"
    assert_okta_error(await admin.put(url, json=rule_body(scopes=["nope"])), 400, "E0000001")
    assert (await admin.get(url)).json() == rule


async def test_rule_lifecycle_answers_204(any_admin: httpx.AsyncClient) -> None:
    server_id = await new_server(any_admin)
    policy = await create_policy(any_admin, server_id)
    rule = await create_rule(any_admin, server_id, policy["id"])
    url = f"{AS}/{server_id}/policies/{policy['id']}/rules/{rule['id']}"
    response = await any_admin.post(f"{url}/lifecycle/deactivate")
    assert (response.status_code, response.content) == (204, b"")
    assert (await any_admin.get(url)).json()["status"] == "INACTIVE"
    assert (await any_admin.post(f"{url}/lifecycle/activate")).status_code == 204
    assert (await any_admin.get(url)).json()["status"] == "ACTIVE"


async def test_unknown_rule_is_okta_404(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    one, two = await create_policy(admin, server_id, "one"), await create_policy(admin, server_id, "two")
    rule = await create_rule(admin, server_id, one["id"])
    unknown = f"{AS}/{server_id}/policies/{one['id']}/rules/0pr00000000000000000"
    summary = "Not found: Resource not found: 0pr00000000000000000 (AuthorizationServerPolicyRule)"
    for call in (admin.get(unknown), admin.put(unknown, json=rule_body()), admin.delete(unknown)):
        assert_okta_error(await call, 404, "E0000007", summary)
    assert_okta_error(
        await admin.get(f"{AS}/{server_id}/policies/{two['id']}/rules/{rule['id']}"), 404, "E0000007"
    )


async def test_deleting_a_policy_deletes_its_rules(any_admin: httpx.AsyncClient) -> None:
    server_id = await new_server(any_admin)
    policy = await create_policy(any_admin, server_id)
    rule = await create_rule(any_admin, server_id, policy["id"])
    assert (await any_admin.delete(f"{AS}/{server_id}/policies/{policy['id']}")).status_code == 204
    rule_url = f"{AS}/{server_id}/policies/{policy['id']}/rules/{rule['id']}"
    assert_okta_error(await any_admin.get(rule_url), 404, "E0000007")


async def test_policy_and_rule_writes_are_in_the_system_log(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    policy = await create_policy(admin, server_id)
    rule = await create_rule(admin, server_id, policy["id"])
    await admin.post(f"{AS}/{server_id}/policies/{policy['id']}/rules/{rule['id']}/lifecycle/deactivate")
    events = {e["eventType"] for e in (await admin.get("/api/v1/logs")).json()}
    assert {
        "oauth2.as.policy.created",
        "oauth2.as.policy.rule.created",
        "oauth2.as.policy.rule.deactivated",
    } <= events


async def test_malformed_json_is_e0000003_for_policies_and_rules(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    policy = await create_policy(admin, server_id)
    headers = {"Content-Type": "application/json"}
    for url in (f"{AS}/{server_id}/policies", f"{AS}/{server_id}/policies/{policy['id']}/rules"):
        assert_okta_error(await admin.post(url, content=b'{"name": ', headers=headers), 400, "E0000003")
    assert await policy_order(admin, server_id) == [("p", 1)]
    assert await rule_order(admin, server_id, policy["id"]) == []
