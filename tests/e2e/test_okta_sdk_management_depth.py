"""Issue 18's remaining areas with the unmodified ``okta`` SDK (3.4.6) on ``ostiary serve`` over
TLS: ``fields=`` projections, apps with ``expand=user/{id}``, recovery questions (set, changed,
asked by ``/api/v1/authn`` through plain httpx: the SDK has no authn methods), INVALID group
rules, and role assignments that leave with their user."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from okta.client import Client as OktaClient
from okta.models import CreateGroupRuleRequest, CreateUserRequest, UserCredentials

from tests.e2e.servers import OrgServer

PASSWORD = "Tr1cky-Secret!"
QUESTION = "Which city were you born in?"


@pytest.fixture(scope="module")
def token(org: OrgServer) -> str:
    return org.create_token()


def sdk(org: OrgServer, token: str) -> OktaClient:
    return OktaClient({"orgUrl": org.url, "token": token, "rateLimit": {"maxRetries": 0}})


@pytest.fixture
async def admin(org: OrgServer, token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=org.url, headers={"Authorization": f"SSWS {token}"}) as client:
        yield client


def user_body(login: str, **credentials: Any) -> CreateUserRequest:
    profile = {"login": login, "email": login, "firstName": "Ines", "lastName": "Depth", "city": "Porto"}
    return CreateUserRequest.from_dict(
        {"profile": profile, "credentials": {"password": {"value": PASSWORD}, **credentials}}
    )


async def test_fields_projection_with_the_sdk(org: OrgServer, token: str) -> None:
    async with sdk(org, token) as client:
        created, _, err = await client.create_user(user_body("fields.sdk@example.com"))
        assert err is None, err
        users, _, err = await client.list_users(
            search='profile.login eq "fields.sdk@example.com"', fields="status,profile:(firstName,city)"
        )
    assert err is None, err
    (user,) = users
    assert user.id == created.id and user.status.value == "ACTIVE"
    assert user.profile.first_name == "Ines" and user.profile.city == "Porto"
    assert user.profile.last_name is None and user.created is None and user.links is None


async def test_apps_of_a_user_with_the_app_user_embedded(
    org: OrgServer, token: str, admin: httpx.AsyncClient
) -> None:
    async with sdk(org, token) as client:
        user, _, err = await client.create_user(user_body("expand.sdk@example.com"))
        assert err is None, err
    app = {
        "name": "oidc_client",
        "label": "Expand SDK app",
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
        "settings": {
            "oauthClient": {
                "application_type": "web",
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "redirect_uris": ["https://expand.example.com/cb"],
            }
        },
    }
    app_id = (await admin.post("/api/v1/apps", json=app)).json()["id"]
    assert (await admin.post(f"/api/v1/apps/{app_id}/users", json={"id": user.id})).status_code == 200
    # okta 3.4.6's Application model types every member of ``_embedded.user`` as an object, so its
    # generated list_applications cannot parse the app user Okta documents there (the spec's own
    # example has scalar members): scripts read it through the SDK's request executor, as here.
    query = urlencode({"filter": f'user.id eq "{user.id}"', "expand": f"user/{user.id}"})
    async with sdk(org, token) as client:
        executor = client.get_request_executor()
        request, err = await executor.create_request("GET", f"{org.url}/api/v1/apps?{query}", {}, {})
        assert err is None, err
        response, text, err = await executor.execute(request)
    assert err is None and response.status == 200, err
    apps = json.loads(text)
    assert [a["id"] for a in apps] == [app_id]
    embedded = apps[0]["_embedded"]["user"]
    assert embedded["id"] == user.id and embedded["scope"] == "USER"
    assert embedded["credentials"]["userName"] == "expand.sdk@example.com"


async def test_recovery_question_with_the_sdk_and_authn(
    org: OrgServer, token: str, admin: httpx.AsyncClient
) -> None:
    async with sdk(org, token) as client:
        user, _, err = await client.create_user(
            user_body(
                "question.sdk@example.com", recovery_question={"question": QUESTION, "answer": "Lisbon"}
            )
        )
        assert err is None, err
        assert user.credentials.recovery_question.question == QUESTION
        changed, _, err = await client.change_recovery_question(
            user.id,
            UserCredentials.from_dict(
                {
                    "password": {"value": PASSWORD},
                    "recovery_question": {"question": "First teacher?", "answer": "Mrs Costa"},
                }
            ),
        )
        assert err is None, err
        assert changed.recovery_question.question == "First teacher?"
    reset = await admin.post(f"/api/v1/users/{user.id}/lifecycle/reset_password?sendEmail=false")
    recovery_token = urlsplit(reset.json()["resetPasswordUrl"]).path.rsplit("/", 1)[1]
    async with httpx.AsyncClient(base_url=org.url) as anonymous:
        recovery = (
            await anonymous.post("/api/v1/authn/recovery/token", json={"recoveryToken": recovery_token})
        ).json()
        assert recovery["status"] == "RECOVERY"
        assert recovery["_embedded"]["user"]["recovery_question"]["question"] == "First teacher?"
        answered = await anonymous.post(
            recovery["_links"]["next"]["href"],
            json={"stateToken": recovery["stateToken"], "answer": "mrs costa"},
        )
        assert answered.json()["status"] == "PASSWORD_RESET"
        done = await anonymous.post(
            answered.json()["_links"]["next"]["href"],
            json={"stateToken": answered.json()["stateToken"], "newPassword": "Brand-N3w-Secret"},
        )
    assert done.json()["status"] == "SUCCESS"


async def test_invalid_group_rule_and_role_cleanup_with_the_sdk(
    org: OrgServer, token: str, admin: httpx.AsyncClient
) -> None:
    group = (await admin.post("/api/v1/groups", json={"profile": {"name": "sdk-doomed"}})).json()["id"]
    rule = {
        "type": "group_rule",
        "name": "Doomed rule",
        "conditions": {"expression": {"value": 'user.city=="Porto"', "type": "urn:okta:expression:1.0"}},
        "actions": {"assignUserToGroups": {"groupIds": [group]}},
    }
    async with sdk(org, token) as client:
        created, _, err = await client.create_group_rule(CreateGroupRuleRequest.from_dict(rule))
        assert err is None, err
        _, _, err = await client.delete_group(group)
        assert err is None, err
        fetched, _, err = await client.get_group_rule(created.id)
        assert err is None, err
        assert fetched.status.value == "INVALID"
        _, err = await client.activate_group_rule(created.id)
        assert err is not None and err.error_code == "E0000001"

        holder, _, err = await client.create_user(user_body("roles.leave@example.com"))
        assert err is None, err
    assigned = await admin.post(f"/api/v1/users/{holder.id}/roles", json={"type": "REPORT_ADMIN"})
    assert assigned.status_code == 201
    async with sdk(org, token) as client:
        for _ in range(2):  # deactivate, then delete
            _, _, err = await client.delete_user(holder.id)
            assert err is None, err
    revoked = await admin.get(
        "/api/v1/logs", params={"filter": 'eventType eq "user.account.privilege.revoke"'}
    )
    assert [t["id"] for e in revoked.json() for t in e["target"] if t["type"] == "User"] == [holder.id]
