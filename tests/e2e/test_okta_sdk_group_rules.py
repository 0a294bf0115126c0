"""Group rules with the unmodified ``okta`` SDK (3.4.6) on ``ostiary serve`` over TLS: a rule in
Okta EL fills a group when activated, follows users as they are created and changed, and bad
rules are refused with Okta's error."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from okta.client import Client as OktaClient
from okta.errors.okta_api_error import OktaAPIError
from okta.models import CreateGroupRuleRequest, GroupRule

from tests.e2e.servers import OrgServer


@pytest.fixture(scope="module")
def token(org: OrgServer) -> str:
    return org.create_token()


def sdk(org: OrgServer, token: str) -> OktaClient:
    return OktaClient({"orgUrl": org.url, "token": token, "rateLimit": {"maxRetries": 0}})


def rule(group_id: str, expression: str, name: str = "Engineering rule") -> dict[str, Any]:
    return {
        "type": "group_rule",
        "name": name,
        "conditions": {"expression": {"value": expression, "type": "urn:okta:expression:1.0"}},
        "actions": {"assignUserToGroups": {"groupIds": [group_id]}},
    }


class Admin:
    def __init__(self, org: OrgServer, token: str) -> None:
        self.org, self.session = org, requests.Session()
        self.session.headers["Authorization"] = f"SSWS {token}"

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.session.post(f"{self.org.url}{path}", json=body)
        assert response.ok, response.text
        result: dict[str, Any] = response.json()
        return result

    def user(self, login: str, department: str) -> str:
        profile = {
            "login": login,
            "email": login,
            "firstName": "R",
            "lastName": "U",
            "department": department,
        }
        return str(self.post("/api/v1/users?activate=false", {"profile": profile})["id"])


async def member_logins(client: OktaClient, group_id: str) -> set[str]:
    users, _, err = await client.list_group_users(group_id)
    assert err is None, err
    return {u.profile.login for u in users}


async def test_rule_lifecycle_with_the_sdk(org: OrgServer, token: str) -> None:
    admin = Admin(org, token)
    group = admin.post("/api/v1/groups", {"profile": {"name": "engineers-by-rule"}})["id"]
    admin.user("ada.rule@example.com", "Engineering")
    bob = admin.user("bob.rule@example.com", "Sales")
    async with sdk(org, token) as client:
        created, _, err = await client.create_group_rule(
            CreateGroupRuleRequest.from_dict(rule(group, 'user.department=="Engineering"'))
        )
        assert err is None, err
        assert isinstance(created, GroupRule) and created.status.value == "INACTIVE"
        assert created.actions.assign_user_to_groups.group_ids == [group]
        assert created.conditions.expression.value == 'user.department=="Engineering"'

        _, _, err = await client.activate_group_rule(created.id)
        assert err is None, err
        assert await member_logins(client, group) == {"ada.rule@example.com"}

        admin.post(f"/api/v1/users/{bob}", {"profile": {"department": "Engineering"}})
        admin.user("cy.rule@example.com", "Engineering")
        assert await member_logins(client, group) == {
            "ada.rule@example.com",
            "bob.rule@example.com",
            "cy.rule@example.com",
        }
        admin.post(f"/api/v1/users/{bob}", {"profile": {"department": "Sales"}})
        assert "bob.rule@example.com" not in await member_logins(client, group)

        rules, _, err = await client.list_group_rules()
        assert err is None, err
        assert [(r.id, r.status.value) for r in rules] == [(created.id, "ACTIVE")]

        _, _, err = await client.deactivate_group_rule(created.id)
        assert err is None, err
        replaced, _, err = await client.replace_group_rule(
            created.id,
            GroupRule.from_dict({**rule(group, 'user.department=="Sales"', "Sales rule"), "id": created.id}),
        )
        assert err is None, err
        assert replaced.name == "Sales rule"
        fetched, _, err = await client.get_group_rule(created.id)
        assert err is None, err
        assert (
            fetched.status.value == "INACTIVE"
            and fetched.conditions.expression.value == 'user.department=="Sales"'
        )

        _, _, err = await client.delete_group_rule(created.id, remove_users=True)
        assert err is None, err
        assert await member_logins(client, group) == set()
        _, _, err = await client.get_group_rule(created.id)
        assert isinstance(err, OktaAPIError) and err.error_code == "E0000007"


async def test_bad_rules_are_refused(org: OrgServer, token: str) -> None:
    admin = Admin(org, token)
    group = admin.post("/api/v1/groups", {"profile": {"name": "bad-rule-target"}})["id"]
    async with sdk(org, token) as client:
        for body in (rule(group, 'user.department=="Eng'), rule("00gnosuchgroup000000", "true")):
            _, _, err = await client.create_group_rule(CreateGroupRuleRequest.from_dict(body))
            assert isinstance(err, OktaAPIError) and err.status == 400 and err.error_code == "E0000001", err
            assert err.error_causes
        # for an operation without a body, the SDK answers (response, error) on an error
        *_, err = await client.activate_group_rule("0prnosuchrule0000000")
        assert isinstance(err, OktaAPIError) and err.error_code == "E0000007"
        rules, _, err = await client.list_group_rules(search="bad")
        assert err is None and rules == []


async def test_group_stats_of_a_rule_filled_group_with_the_sdk(org: OrgServer, token: str) -> None:
    admin = Admin(org, token)
    group = admin.post("/api/v1/groups", {"profile": {"name": "stats-by-rule"}})["id"]
    admin.user("stats.one@example.com", "Stats")
    admin.user("stats.two@example.com", "Stats")
    async with sdk(org, token) as client:
        created, _, err = await client.create_group_rule(
            CreateGroupRuleRequest.from_dict(rule(group, 'user.department=="Stats"', "Stats rule"))
        )
        assert err is None, err
        _, _, err = await client.activate_group_rule(created.id)
        assert err is None, err
        groups, _, err = await client.list_groups(q="stats-by-rule", expand="stats")
        assert err is None, err
        assert [g.id for g in groups] == [group]
        stats = groups[0].embedded.stats
        assert (stats.users_count, stats.apps_count, stats.has_admin_privlege) == (2, 0, False)
