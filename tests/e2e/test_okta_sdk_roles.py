"""Admin roles with the unmodified ``okta`` SDK (3.4.6) on ``ostiary serve`` over TLS.

The super admin's token comes from ``ostiary token create --user LOGIN``, which creates that
admin; the token acts as them: ``GET /users/me`` is them and the system log names them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from okta.client import Client as OktaClient
from okta.errors.okta_api_error import OktaAPIError
from okta.models import (
    AddGroupRequest,
    AssignRoleToClientRequest,
    AssignRoleToGroupRequest,
    AssignRoleToUserRequest,
    CreateUserRequest,
)

from tests.e2e.servers import OrgServer

PASSWORD = "Sdk-Passw0rd!"
ROOT = "root.admin@example.com"


def sdk(org: OrgServer, token: str) -> OktaClient:
    return OktaClient({"orgUrl": org.url, "token": token, "rateLimit": {"maxRetries": 0}})


@pytest.fixture(scope="module")
def root_token(org: OrgServer) -> str:
    return org.cli("token", "create", "--name", "root", "--user", ROOT).strip().splitlines()[-1]


def user_body(login: str) -> CreateUserRequest:
    return CreateUserRequest.from_dict(
        {
            "profile": {"login": login, "email": login, "firstName": "Role", "lastName": "Holder"},
            "credentials": {"password": {"value": PASSWORD}},
        }
    )


def role(type_: str) -> AssignRoleToUserRequest:
    return AssignRoleToUserRequest.from_dict({"type": type_})


async def test_token_made_for_an_admin_acts_as_them(org: OrgServer, root_token: str) -> None:
    async with sdk(org, root_token) as client:
        me, _, err = await client.get_user("me")
        assert err is None, err
        assert me.profile.login == ROOT
        roles, _, err = await client.list_assigned_roles_for_user(me.id)
        assert err is None, err
        assert [r.actual_instance.type.value for r in roles] == ["SUPER_ADMIN"]
        created, _, err = await client.create_user(user_body("logged.change@example.com"), activate=True)
        assert err is None, err
        events, _, err = await client.list_log_events(filter='eventType eq "user.lifecycle.create"')
        assert err is None, err
        mine = [e for e in events if any(t.id == created.id for t in e.target or [])]
        assert mine and mine[-1].actor.id == me.id and mine[-1].actor.alternate_id == ROOT
    tokens = org.cli("token", "create", "--name", "again", "--user", ROOT)
    assert tokens.strip()  # naming an existing super admin works too


async def test_assign_target_and_unassign_roles_with_the_sdk(org: OrgServer, root_token: str) -> None:
    async with sdk(org, root_token) as client:
        holder, _, err = await client.create_user(user_body("help.desk@example.com"), activate=True)
        assert err is None, err
        group, _, err = await client.add_group(AddGroupRequest.from_dict({"profile": {"name": "Desk"}}))
        assert err is None, err

        made, _, err = await client.assign_role_to_user(holder.id, role("HELP_DESK_ADMIN"))
        assert err is None, err
        assigned = made.actual_instance
        assert assigned.type.value == "HELP_DESK_ADMIN" and assigned.assignment_type.value == "USER"

        _, _, err = await client.assign_group_target_to_user_role(holder.id, assigned.id, group.id)
        assert err is None, err
        targets, _, err = await client.list_group_targets_for_role(holder.id, assigned.id)
        assert err is None, err
        assert [g.id for g in targets] == [group.id]

        _, _, err = await client.assign_role_to_user(holder.id, role("HELP_DESK_ADMIN"))
        assert isinstance(err, OktaAPIError) and err.status == 409

        _, _, err = await client.unassign_role_from_user(holder.id, assigned.id)
        assert err is None, err
        roles, _, err = await client.list_assigned_roles_for_user(holder.id)
        assert err is None and roles == []


async def test_token_create_refuses_a_user_who_is_not_a_super_admin(org: OrgServer, root_token: str) -> None:
    async with sdk(org, root_token) as client:
        reader, _, err = await client.create_user(user_body("read.only@example.com"), activate=True)
        assert err is None, err
        _, _, err = await client.assign_role_to_user(reader.id, role("READ_ONLY_ADMIN"))
        assert err is None, err
    # The named user is not a super admin: the CLI refuses to make a super admin token for them.
    with pytest.raises(Exception) as refused:
        org.cli("token", "create", "--name", "reader", "--user", "read.only@example.com")
    assert "not a super admin" in str(getattr(refused.value, "stderr", ""))


async def test_group_and_client_roles_with_the_sdk(org: OrgServer, root_token: str) -> None:
    async with sdk(org, root_token) as client:
        group, _, err = await client.add_group(AddGroupRequest.from_dict({"profile": {"name": "Auditors"}}))
        assert err is None, err
        made, _, err = await client.assign_role_to_group(
            group.id, AssignRoleToGroupRequest.from_dict({"type": "REPORT_ADMIN"})
        )
        assert err is None, err
        assert made.actual_instance.assignment_type.value == "GROUP"
        listed, _, err = await client.list_group_assigned_roles(group.id)
        assert err is None, err
        assert [r.actual_instance.type.value for r in listed] == ["REPORT_ADMIN"]

        app_body = {
            "name": "oidc_client",
            "label": "Roles service",
            "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
            "settings": {
                "oauthClient": {
                    "grant_types": ["client_credentials"],
                    "response_types": ["token"],
                    "application_type": "service",
                }
            },
        }
        status, body = await _request(client, org, "POST", "/api/v1/apps", app_body)
        assert status == 200, body
        client_id = body["id"]
        made, _, err = await client.assign_role_to_client(
            client_id, AssignRoleToClientRequest.from_dict({"type": "READ_ONLY_ADMIN"})
        )
        assert err is None, err
        assert made.actual_instance.assignment_type.value == "CLIENT"
        # okta 3.4.6 cannot parse list_roles_for_client's answer (its oneOf of StandardRole and
        # CustomRole has no discriminator and both match any standard role), so read it plainly.
        status, roles = await _request(client, org, "GET", f"/oauth2/v1/clients/{client_id}/roles")
        assert status == 200 and [r["type"] for r in roles] == ["READ_ONLY_ADMIN"]


async def _request(
    client: OktaClient, org: OrgServer, method: str, path: str, body: dict[str, object] | None = None
) -> tuple[int, Any]:
    """A plain request through the SDK's own request executor (its auth, headers and TLS)."""
    executor = client.get_request_executor()
    request, err = await executor.create_request(method, org.url + path, body or {}, {})
    assert err is None, err
    response, text, err = await executor.execute(request)
    return response.status, json.loads(text)
