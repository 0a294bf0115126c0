"""The unmodified ``okta`` SDK (3.4.6) manages users and groups on ``ostiary serve`` over TLS."""

from __future__ import annotations

import pytest
from okta.client import Client as OktaClient
from okta.errors.okta_api_error import OktaAPIError
from okta.models import AddGroupRequest, CreateUserRequest, UpdateUserRequest
from okta.pagination import PaginationHelper

from tests.e2e.servers import OrgServer

PASSWORD = "Sdk-Passw0rd!"


def sdk(org: OrgServer, token: str) -> OktaClient:
    return OktaClient({"orgUrl": org.url, "token": token, "rateLimit": {"maxRetries": 0}})


@pytest.fixture(scope="module")
def token(org: OrgServer) -> str:
    return org.create_token()


def user_body(login: str) -> CreateUserRequest:
    first, last = login.split("@")[0].split(".")
    return CreateUserRequest.from_dict(
        {
            "profile": {"login": login, "email": login, "firstName": first.title(), "lastName": last.title()},
            "credentials": {"password": {"value": PASSWORD}},
        }
    )


async def test_user_lifecycle_with_the_sdk(org: OrgServer, token: str) -> None:
    async with sdk(org, token) as client:
        user, _resp, err = await client.create_user(user_body("carl.sagan@example.com"), activate=True)
        assert err is None, err
        assert user.status.value == "ACTIVE"
        assert user.profile.login == "carl.sagan@example.com"

        by_id, _, err = await client.get_user(user.id)
        assert err is None and by_id.id == user.id
        by_login, _, err = await client.get_user("carl.sagan@example.com")
        assert err is None and by_login.id == user.id

        profile = {**by_id.profile.to_dict(), "nickName": "carl"}
        updated, _, err = await client.update_user(user.id, UpdateUserRequest.from_dict({"profile": profile}))
        assert err is None, err
        assert updated.profile.nick_name == "carl"

        _, _, err = await client.deactivate_user(user.id)
        assert err is None, err
        deactivated, _, _ = await client.get_user(user.id)
        assert deactivated.status.value == "DEPROVISIONED"
        _, _, err = await client.delete_user(user.id)
        assert err is None, err
        _, _, err = await client.get_user(user.id)
        assert isinstance(err, OktaAPIError)
        assert err.error_code == "E0000007"


async def test_list_users_follows_every_next_page(org: OrgServer, token: str) -> None:
    logins = [f"page{i}.user@example.com" for i in range(4)]
    async with sdk(org, token) as client:
        for login in logins:
            _, _, err = await client.create_user(user_body(login), activate=True)
            assert err is None, err
        seen: list[str] = []
        pages = 0
        after = None
        while True:
            users, resp, err = await client.list_users(limit=1, after=after, q="page")
            assert err is None, err
            pages += 1
            seen += [u.profile.login for u in users]
            after = PaginationHelper.extract_next_cursor(resp.headers)
            if after is None:
                break
        assert seen == logins
        assert pages == len(logins)


async def test_groups_and_members_with_the_sdk(org: OrgServer, token: str) -> None:
    async with sdk(org, token) as client:
        member, _, err = await client.create_user(user_body("lois.lane@example.com"), activate=True)
        assert err is None, err
        group, _, err = await client.add_group(
            AddGroupRequest.from_dict({"profile": {"name": "goldSubscribers", "description": "gold"}})
        )
        assert err is None, err
        assert group.id.startswith("00g")
        _, _, err = await client.assign_user_to_group(group.id, member.id)
        assert err is None, err
        members, _, err = await client.list_group_users(group.id)
        assert err is None, err
        assert [m.id for m in members] == [member.id]
        groups, _, err = await client.list_groups(q="gold")
        assert err is None and [g.profile.actual_instance.name for g in groups] == ["goldSubscribers"]


async def test_bad_token_is_an_okta_error(org: OrgServer) -> None:
    async with sdk(org, "00bad-token") as client:
        _, _, err = await client.list_users()
    assert isinstance(err, OktaAPIError)
    assert err.error_code == "E0000011"


async def test_invalid_body_is_an_okta_validation_error(org: OrgServer, token: str) -> None:
    body = CreateUserRequest.from_dict({"profile": {"login": "no-email", "firstName": "A", "lastName": "B"}})
    async with sdk(org, token) as client:
        _, _, err = await client.create_user(body)
    assert isinstance(err, OktaAPIError)
    assert err.error_code == "E0000001"
    assert err.error_summary.startswith("Api validation failed")


async def test_unknown_user_is_e0000007(org: OrgServer, token: str) -> None:
    async with sdk(org, token) as client:
        _, _, err = await client.get_user("00u0000000000000unkn")
    assert isinstance(err, OktaAPIError)
    assert err.error_code == "E0000007"
