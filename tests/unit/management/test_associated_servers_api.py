"""/api/v1/authorizationServers/{id}/associatedServers: trusted server associations, added,
listed by ``trusted`` and removed, answered as Okta's AuthorizationServer objects."""

from __future__ import annotations

import httpx
import pytest
from okta.models import AuthorizationServer

from tests.conftest import Server
from tests.support.authorization_servers import AS, create_server
from tests.unit.management.test_admin_roles_api import admin_with


def url(server_id: str) -> str:
    return f"{AS}/{server_id}/associatedServers"


async def test_trusting_servers_lists_them_and_the_rest_as_untrusted(any_admin: httpx.AsyncClient) -> None:
    one = (await create_server(any_admin, "One", audiences=["api://one"]))["id"]
    two = (await create_server(any_admin, "Two", audiences=["api://two"]))["id"]
    assert (await any_admin.get(url("default"))).json() == []
    response = await any_admin.post(url("default"), json={"trusted": [one, two]})
    assert response.status_code == 200, response.text
    assert [s["id"] for s in response.json()] == [one, two]
    assert response.json()[0]["name"] == "One" and response.json()[0]["audiences"] == ["api://one"]
    assert AuthorizationServer.from_dict(response.json()[0]) is not None
    trusted = await any_admin.get(url("default"), params={"trusted": "true"})
    assert sorted(s["id"] for s in trusted.json()) == sorted([one, two])
    assert (await any_admin.get(url("default"))).json() == trusted.json()
    searched = await any_admin.get(url("default"), params={"q": "api://tw"})
    assert [s["id"] for s in searched.json()] == [two]
    untrusted = await any_admin.get(url(one), params={"trusted": "false"})
    assert sorted(s["id"] for s in untrusted.json()) == sorted(["default", two])
    assert (await any_admin.get(url("default"), params={"trusted": "false"})).json() == []
    assert (await any_admin.get(url(one))).json() == []  # trust is one way


async def test_removing_an_association(admin: httpx.AsyncClient) -> None:
    one = (await create_server(admin, "One"))["id"]
    assert (await admin.post(url("default"), json={"trusted": [one]})).status_code == 200
    response = await admin.delete(f"{url('default')}/{one}")
    assert (response.status_code, response.content) == (204, b"")
    assert (await admin.get(url("default"))).json() == []
    again = await admin.delete(f"{url('default')}/{one}")
    assert (again.status_code, again.json()["errorCode"]) == (404, "E0000007")


async def test_a_deleted_server_is_no_longer_listed(admin: httpx.AsyncClient) -> None:
    one = (await create_server(admin, "One"))["id"]
    assert (await admin.post(url("default"), json={"trusted": [one]})).status_code == 200
    assert (await admin.post(f"{AS}/{one}/lifecycle/deactivate")).status_code == 204
    assert (await admin.delete(f"{AS}/{one}")).status_code == 204
    assert (await admin.get(url("default"))).json() == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"trusted": "aus1"},
        {"trusted": [1]},
        {"trusted": ["aus00000000000000000"]},
        {"trusted": ["default"]},
    ],
)
async def test_bad_bodies_are_e0000001(admin: httpx.AsyncClient, body: dict[str, object]) -> None:
    response = await admin.post(url("default"), json=body)
    assert (response.status_code, response.json()["errorCode"]) == (400, "E0000001")


async def test_an_unknown_server_is_an_okta_404(admin: httpx.AsyncClient) -> None:
    for method, path in (("GET", url("nope")), ("POST", url("nope")), ("DELETE", f"{url('nope')}/default")):
        response = await admin.request(method, path, json={"trusted": []} if method == "POST" else None)
        assert (response.status_code, response.json()["errorCode"]) == (404, "E0000007"), method


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [("API_ACCESS_MANAGEMENT_ADMIN", 200, 200), ("READ_ONLY_ADMIN", 200, 403), ("USER_ADMIN", 403, 403)],
)
async def test_reading_needs_as_read_and_changing_as_manage(
    admin: httpx.AsyncClient, server: Server, role: str, read: int, write: int
) -> None:
    one = (await create_server(admin, "One"))["id"]
    _holder, token = await admin_with(server, admin, f"{role.lower()}@example.com", role)
    async with server.client(token) as caller:
        assert (await caller.get(url("default"))).status_code == read
        response = await caller.post(url("default"), json={"trusted": [one]})
    assert response.status_code == write
    if write == 403:
        assert response.json()["errorCode"] == "E0000006"
