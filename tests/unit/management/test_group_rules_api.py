"""Group rules over HTTP (in process): membership follows ACTIVE rules, bad input is refused with
nothing changed, and only a super admin may aim a rule at a group that gives admin roles."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Server
from tests.unit.management.test_admin_roles_api import admin_with, make_group, make_user

RULES = "/api/v1/groups/rules"


def rule_body(
    group_id: str, expression: str = 'user.department=="Engineering"', name: str = "Eng"
) -> dict[str, Any]:
    return {
        "type": "group_rule",
        "name": name,
        "conditions": {"expression": {"value": expression, "type": "urn:okta:expression:1.0"}},
        "actions": {"assignUserToGroups": {"groupIds": [group_id]}},
    }


async def members(admin: httpx.AsyncClient, group_id: str) -> set[str]:
    response = await admin.get(f"/api/v1/groups/{group_id}/users")
    assert response.status_code == 200, response.text
    return {u["profile"]["login"] for u in response.json()}


async def set_department(admin: httpx.AsyncClient, user_id: str, department: str) -> None:
    response = await admin.post(f"/api/v1/users/{user_id}", json={"profile": {"department": department}})
    assert response.status_code == 200, response.text


async def test_membership_follows_active_rule(admin: httpx.AsyncClient) -> None:
    group = await make_group(admin, "Engineers")
    early = await make_user(admin, "early@example.com")
    await set_department(admin, early, "Engineering")
    manual = await make_user(admin, "manual@example.com")
    assert (await admin.put(f"/api/v1/groups/{group}/users/{manual}")).status_code == 204

    created = await admin.post(RULES, json=rule_body(group))
    assert created.status_code == 200, created.text
    rule = created.json()
    assert rule["status"] == "INACTIVE" and rule["id"].startswith("0pr")
    assert await members(admin, group) == {"manual@example.com"}  # inactive: nothing yet

    assert (await admin.post(f"{RULES}/{rule['id']}/lifecycle/activate")).status_code == 204
    assert (await admin.get(f"{RULES}/{rule['id']}")).json()["status"] == "ACTIVE"
    assert await members(admin, group) == {"manual@example.com", "early@example.com"}

    late = await admin.post(
        "/api/v1/users",
        json={
            "profile": {
                "login": "late@example.com",
                "email": "late@example.com",
                "firstName": "L",
                "lastName": "Ate",
                "department": "Engineering",
            }
        },
    )
    assert late.status_code == 200, late.text
    assert "late@example.com" in await members(admin, group)

    await set_department(admin, early, "Sales")  # stops matching: the rule's membership goes
    await set_department(admin, manual, "Sales")  # an admin's membership stays
    assert await members(admin, group) == {"manual@example.com", "late@example.com"}

    updating_active = await admin.put(f"{RULES}/{rule['id']}", json=rule_body(group, name="Renamed"))
    assert updating_active.status_code == 400 and updating_active.json()["errorCode"] == "E0000001"

    assert (await admin.post(f"{RULES}/{rule['id']}/lifecycle/deactivate")).status_code == 204
    await set_department(admin, late.json()["id"], "Sales")  # inactive rule: no change
    assert "late@example.com" in await members(admin, group)

    # an admin removes a rule-given member, then adds them back: the membership is now the admin's
    late_id = late.json()["id"]
    assert (await admin.delete(f"/api/v1/groups/{group}/users/{late_id}")).status_code == 204
    assert (await admin.put(f"/api/v1/groups/{group}/users/{late_id}")).status_code == 204

    assert (await admin.delete(f"{RULES}/{rule['id']}?removeUsers=true")).status_code == 202
    assert await members(admin, group) == {"manual@example.com", "late@example.com"}
    assert (await admin.get(f"{RULES}/{rule['id']}")).status_code == 404


async def test_bad_rules_are_refused_and_nothing_is_made(admin: httpx.AsyncClient) -> None:
    group = await make_group(admin, "Target")
    bad = [
        rule_body(group, expression='user.department=="Eng'),  # unterminated string
        rule_body(group, expression="nosuchfn(user.x)"),
        rule_body("00gnosuchgroup000000"),
        rule_body(group, name=""),
        rule_body(group, name="x" * 51),
        {**rule_body(group), "type": "other"},
        {**rule_body(group), "actions": {"assignUserToGroups": {"groupIds": []}}},
        {
            **rule_body(group),
            "conditions": {"expression": {"value": "true"}, "people": {"users": {"exclude": ["00unosuch"]}}},
        },
    ]
    for body in bad:
        response = await admin.post(RULES, json=body)
        assert response.status_code == 400, (body, response.text)
        error = response.json()
        assert error["errorCode"] == "E0000001" and error["errorCauses"], error
    everyone = await admin.get("/api/v1/groups?q=Everyone")
    builtin = everyone.json()[0]["id"]
    response = await admin.post(RULES, json=rule_body(builtin))
    assert response.status_code == 400
    assert (await admin.get(RULES)).json() == []
    assert (await admin.get(f"{RULES}/0prnosuchrule0000000")).json()["errorCode"] == "E0000007"
    rule = (await admin.post(RULES, json=rule_body(group))).json()
    response = await admin.delete(f"{RULES}/{rule['id']}?removeUsers=maybe")
    assert response.status_code == 400
    assert (await admin.get(f"{RULES}/{rule['id']}")).status_code == 200


async def test_only_super_admins_aim_rules_at_groups_with_roles(
    server: Server, admin: httpx.AsyncClient
) -> None:
    plain = await make_group(admin, "Plain")
    console_admins = await make_group(admin, "Ostiary Admins")
    with_role = await make_group(admin, "Helpdesk")
    assigned = await admin.post(f"/api/v1/groups/{with_role}/roles", json={"type": "HELP_DESK_ADMIN"})
    assert assigned.status_code == 200, assigned.text
    _uid, token = await admin_with(server, admin, "orgadmin@example.com", "ORG_ADMIN")
    async with server.client(token) as org_admin:
        for target in (console_admins, with_role):
            refused = await org_admin.post(RULES, json=rule_body(target))
            assert refused.status_code == 403 and refused.json()["errorCode"] == "E0000006"
        allowed = await org_admin.post(RULES, json=rule_body(plain))
        assert allowed.status_code == 200, allowed.text
        by_super = (await admin.post(RULES, json=rule_body(console_admins, name="Admins"))).json()
        refused = await org_admin.post(f"{RULES}/{by_super['id']}/lifecycle/activate")
        assert refused.status_code == 403

    listed = {r["name"]: r["status"] for r in (await admin.get(RULES)).json()}
    assert listed == {"Eng": "INACTIVE", "Admins": "INACTIVE"}


async def activate(admin: httpx.AsyncClient, rule_id: str) -> httpx.Response:
    return await admin.post(f"{RULES}/{rule_id}/lifecycle/activate")


async def status_of(admin: httpx.AsyncClient, rule_id: str) -> str:
    status: str = (await admin.get(f"{RULES}/{rule_id}")).json()["status"]
    return status


async def test_rules_follow_the_user_lifecycle(admin: httpx.AsyncClient) -> None:
    engineers = await make_group(admin, "Lifecycle engineers")
    suspended = await make_group(admin, "Suspended people")
    returning = await make_user(admin, "returning@example.com")
    await set_department(admin, returning, "Engineering")
    assert (await admin.post(f"/api/v1/users/{returning}/lifecycle/deactivate")).status_code == 200
    by_department = (await admin.post(RULES, json=rule_body(engineers))).json()
    by_status = (
        await admin.post(RULES, json=rule_body(suspended, 'user.status=="SUSPENDED"', name="Susp"))
    ).json()
    for rule in (by_department, by_status):
        assert (await activate(admin, rule["id"])).status_code == 204
    assert await members(admin, engineers) == set()  # deactivated users are not evaluated

    assert (await admin.post(f"/api/v1/users/{returning}/lifecycle/activate")).status_code == 200
    assert await members(admin, engineers) == {"returning@example.com"}  # caught up on activation

    assert (await admin.post(f"/api/v1/users/{returning}/lifecycle/suspend")).status_code == 200
    assert await members(admin, suspended) == {"returning@example.com"}
    assert (await admin.post(f"/api/v1/users/{returning}/lifecycle/unsuspend")).status_code == 200
    assert await members(admin, suspended) == set()

    assert (await admin.post(f"/api/v1/users/{returning}/lifecycle/deactivate")).status_code == 200
    assert await members(admin, engineers) == {"returning@example.com"}  # a deactivated user keeps groups


async def test_a_rule_whose_group_is_deleted_becomes_invalid(admin: httpx.AsyncClient) -> None:
    doomed, other = await make_group(admin, "Doomed"), await make_group(admin, "Other target")
    rule = (await admin.post(RULES, json=rule_body(doomed))).json()
    assert (await activate(admin, rule["id"])).status_code == 204
    assert (await admin.delete(f"/api/v1/groups/{doomed}")).status_code == 204
    assert await status_of(admin, rule["id"]) == "INVALID"
    assert [r["status"] for r in (await admin.get(RULES)).json()] == ["INVALID"]
    events = await admin.get("/api/v1/logs", params={"filter": 'eventType eq "group.rule.invalidate"'})
    assert [e["target"][0]["id"] for e in events.json()] == [rule["id"]]

    refused = await activate(admin, rule["id"])
    assert refused.status_code == 400 and refused.json()["errorCode"] == "E0000001"
    assert (await admin.post(f"{RULES}/{rule['id']}/lifecycle/deactivate")).status_code == 204
    assert await status_of(admin, rule["id"]) == "INVALID"
    newcomer = await make_user(admin, "newcomer@example.com")
    await set_department(admin, newcomer, "Engineering")  # an INVALID rule applies to no one
    assert await members(admin, other) == set()

    replaced = await admin.put(f"{RULES}/{rule['id']}", json=rule_body(other))
    assert replaced.status_code == 200 and replaced.json()["status"] == "INACTIVE"
    assert (await activate(admin, rule["id"])).status_code == 204
    assert await members(admin, other) == {"newcomer@example.com"}


async def test_a_rule_reading_a_removed_attribute_becomes_invalid(admin: httpx.AsyncClient) -> None:
    schema = "/api/v1/meta/schemas/user/default"
    tier = {"title": "Tier", "type": "string"}
    added = await admin.post(schema, json={"definitions": {"custom": {"properties": {"tier": tier}}}})
    assert added.status_code == 200, added.text
    gold = await make_group(admin, "Gold tier")
    unknown = await admin.post(RULES, json=rule_body(gold, 'user.tierr=="gold"'))
    assert unknown.status_code == 400 and "tierr" in unknown.json()["errorCauses"][0]["errorSummary"]
    rule = (await admin.post(RULES, json=rule_body(gold, 'user.profile.tier=="gold"', name="Gold"))).json()
    kept = (await admin.post(RULES, json=rule_body(gold, 'user.department=="Gold"', name="Kept"))).json()
    assert (await activate(admin, rule["id"])).status_code == 204

    removed = await admin.post(schema, json={"definitions": {"custom": {"properties": {"tier": None}}}})
    assert removed.status_code == 200, removed.text
    assert await status_of(admin, rule["id"]) == "INVALID"
    assert await status_of(admin, kept["id"]) == "INACTIVE"
    refused = await activate(admin, rule["id"])
    assert refused.status_code == 400 and refused.json()["errorCode"] == "E0000001"


async def test_a_deleted_user_leaves_the_rules_exclusions(admin: httpx.AsyncClient) -> None:
    group = await make_group(admin, "Excluding")
    leaving = await make_user(admin, "leaving@example.com")
    body = rule_body(group)
    body["conditions"]["people"] = {"users": {"exclude": [leaving]}}
    rule = (await admin.post(RULES, json=body)).json()
    assert rule["conditions"]["people"]["users"]["exclude"] == [leaving]
    for _ in range(2):  # deactivate, then delete
        assert (await admin.delete(f"/api/v1/users/{leaving}")).status_code == 204
    fetched = (await admin.get(f"{RULES}/{rule['id']}")).json()
    assert fetched["conditions"]["people"]["users"]["exclude"] == []
    replaced = await admin.put(f"{RULES}/{rule['id']}", json={**fetched, "name": "Renamed"})
    assert replaced.status_code == 200, replaced.text
