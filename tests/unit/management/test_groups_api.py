"""/api/v1/groups: CRUD, members, Everyone, errors."""

from __future__ import annotations

import re

import httpx

from tests.support.groups import create_group
from tests.support.users import create as create_user


async def test_create_group_answers_200_with_okta_shape(any_admin: httpx.AsyncClient) -> None:
    response = await create_group(any_admin)
    assert response.status_code == 200
    group = response.json()
    assert re.fullmatch(r"00g[0-9A-Za-z]{17}", group["id"])
    assert group["type"] == "OKTA_GROUP"
    assert group["objectClass"] == ["okta:user_group"]
    assert group["profile"] == {"name": "silverSubscribers", "description": "silverSubscribers"}


async def test_duplicate_group_name_is_refused(any_admin: httpx.AsyncClient) -> None:
    await create_group(any_admin)
    response = await create_group(any_admin, "SILVERsubscribers")
    assert response.status_code == 400
    assert response.json()["errorSummary"] == "Api validation failed: name"


async def test_blank_name_is_refused(admin: httpx.AsyncClient) -> None:
    response = await admin.post("/api/v1/groups", json={"profile": {"name": "  "}})
    assert response.status_code == 400


async def test_list_includes_everyone_and_q_matches_prefix(admin: httpx.AsyncClient) -> None:
    await create_group(admin, "silverSubscribers")
    await create_group(admin, "goldSubscribers")
    names = [g["profile"]["name"] for g in (await admin.get("/api/v1/groups")).json()]
    assert sorted(names) == ["Everyone", "goldSubscribers", "silverSubscribers"]
    found = (await admin.get("/api/v1/groups", params={"q": "gold"})).json()
    assert [g["profile"]["name"] for g in found] == ["goldSubscribers"]


async def test_filter_by_type(admin: httpx.AsyncClient) -> None:
    await create_group(admin)
    found = (await admin.get("/api/v1/groups", params={"filter": 'type eq "BUILT_IN"'})).json()
    assert [g["profile"]["name"] for g in found] == ["Everyone"]


async def test_replace_and_delete(admin: httpx.AsyncClient) -> None:
    group = (await create_group(admin)).json()
    replaced = await admin.put(f"/api/v1/groups/{group['id']}", json={"profile": {"name": "silver"}})
    assert replaced.json()["profile"]["name"] == "silver"
    assert (await admin.delete(f"/api/v1/groups/{group['id']}")).status_code == 204
    assert (await admin.get(f"/api/v1/groups/{group['id']}")).status_code == 404


async def test_everyone_cannot_be_changed_or_deleted(admin: httpx.AsyncClient) -> None:
    everyone = (await admin.get("/api/v1/groups", params={"q": "Everyone"})).json()[0]
    assert (await admin.delete(f"/api/v1/groups/{everyone['id']}")).status_code == 403
    assert (
        await admin.put(f"/api/v1/groups/{everyone['id']}", json={"profile": {"name": "x"}})
    ).status_code == 403


async def test_members_add_list_remove(any_admin: httpx.AsyncClient) -> None:
    group = (await create_group(any_admin)).json()
    user = (await create_user(any_admin)).json()
    added = await any_admin.put(f"/api/v1/groups/{group['id']}/users/{user['id']}")
    assert added.status_code == 204 and added.content == b""
    again = await any_admin.put(f"/api/v1/groups/{group['id']}/users/{user['id']}")
    assert again.status_code == 204
    members = (await any_admin.get(f"/api/v1/groups/{group['id']}/users")).json()
    assert [m["id"] for m in members] == [user["id"]]
    user_groups = (await any_admin.get(f"/api/v1/users/{user['id']}/groups")).json()
    assert sorted(g["profile"]["name"] for g in user_groups) == ["Everyone", "silverSubscribers"]
    assert (await any_admin.delete(f"/api/v1/groups/{group['id']}/users/{user['id']}")).status_code == 204
    assert (await any_admin.get(f"/api/v1/groups/{group['id']}/users")).json() == []


async def test_everyone_lists_all_users(admin: httpx.AsyncClient) -> None:
    user = (await create_user(admin)).json()
    everyone = (await admin.get("/api/v1/groups", params={"q": "Everyone"})).json()[0]
    members = (await admin.get(f"/api/v1/groups/{everyone['id']}/users")).json()
    assert [m["id"] for m in members] == [user["id"]]


async def test_adding_an_unknown_user_is_404_and_adds_nothing(admin: httpx.AsyncClient) -> None:
    group = (await create_group(admin)).json()
    response = await admin.put(f"/api/v1/groups/{group['id']}/users/00uunknownunknown123")
    assert response.status_code == 404
    assert (await admin.get(f"/api/v1/groups/{group['id']}/users")).json() == []


async def test_deleting_a_group_keeps_its_users(admin: httpx.AsyncClient) -> None:
    group = (await create_group(admin)).json()
    user = (await create_user(admin)).json()
    await admin.put(f"/api/v1/groups/{group['id']}/users/{user['id']}")
    await admin.delete(f"/api/v1/groups/{group['id']}")
    assert (await admin.get(f"/api/v1/users/{user['id']}")).status_code == 200
