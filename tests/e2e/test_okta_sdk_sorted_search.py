"""``sortBy``/``sortOrder`` on user and group searches with the unmodified ``okta`` SDK (3.4.6),
paged with its pagination helper."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import requests
from okta.client import Client as OktaClient
from okta.pagination import PaginationHelper

from tests.e2e.servers import OrgServer

LAST_NAMES = ["Mbeki", "Alvarez", "Zhou", "Okafor", "Berg"]


@pytest.fixture(scope="module")
def token(org: OrgServer) -> str:
    return org.create_token()


def sdk(org: OrgServer, token: str) -> OktaClient:
    return OktaClient({"orgUrl": org.url, "token": token, "rateLimit": {"maxRetries": 0}})


@pytest.fixture(scope="module")
def seeded(org: OrgServer, token: str) -> None:
    with requests.Session() as admin:
        admin.headers["Authorization"] = f"SSWS {token}"
        for last in LAST_NAMES:
            login = f"sort.{last.lower()}@example.com"
            profile = {
                "login": login,
                "email": login,
                "firstName": "Sam",
                "lastName": last,
                "department": "Sort",
            }
            created = admin.post(f"{org.url}/api/v1/users?activate=false", json={"profile": profile})
            assert created.status_code == 200, created.text
        for name in ("sort-c", "sort-a", "sort-b"):
            assert admin.post(f"{org.url}/api/v1/groups", json={"profile": {"name": name}}).status_code == 200


async def all_pages(call: Any, **params: Any) -> list[Any]:
    items: list[Any] = []
    after = None
    while True:
        page, resp, err = await call(after=after, **params)
        assert err is None, err
        items += page
        after = PaginationHelper.extract_next_cursor(resp.headers)
        if after is None:
            return items


async def test_users_sorted_by_a_profile_attribute_across_pages(
    org: OrgServer, token: str, seeded: None
) -> None:
    search = 'profile.department eq "Sort"'
    async with sdk(org, token) as client:
        ascending = await all_pages(client.list_users, search=search, sort_by="profile.lastName", limit=2)
        descending = await all_pages(
            client.list_users, search=search, sort_by="profile.lastName", sort_order="desc", limit=2
        )
    assert [u.profile.last_name for u in ascending] == sorted(LAST_NAMES)
    assert [u.profile.last_name for u in descending] == sorted(LAST_NAMES, reverse=True)


async def test_groups_sorted_by_name(org: OrgServer, token: str, seeded: None) -> None:
    async with sdk(org, token) as client:
        groups = await all_pages(
            client.list_groups,
            search='profile.name sw "sort-"',
            sort_by="profile.name",
            sort_order="desc",
            limit=1,
        )
    assert [g.profile.actual_instance.name for g in groups] == ["sort-c", "sort-b", "sort-a"]


@pytest.fixture
async def admin(org: OrgServer, token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=org.url, headers={"Authorization": f"SSWS {token}"}) as client:
        yield client


async def test_bad_sort_parameters_are_e0000001(admin: httpx.AsyncClient, seeded: None) -> None:
    search = 'profile.department eq "Sort"'
    for path, params in (
        ("/api/v1/users", {"search": search, "sortBy": "password"}),
        ("/api/v1/users", {"search": search, "sortBy": "profile.lastName", "sortOrder": "sideways"}),
        ("/api/v1/groups", {"search": 'type eq "OKTA_GROUP"', "sortBy": "nope"}),
    ):
        response = await admin.get(path, params=params)
        assert response.status_code == 400, (path, params, response.text)
        assert response.json()["errorCode"] == "E0000001"
