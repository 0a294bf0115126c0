"""``/users/{id}/appLinks`` and ``/groups/{groupId}/apps`` with the unmodified ``okta`` SDK
(3.4.6): direct and group assignments, inactive apps, unknown ids."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from okta.client import Client as OktaClient
from okta.errors.okta_api_error import OktaAPIError

from tests.e2e.servers import OrgServer
from tests.support.apps import oidc_app


@pytest.fixture(scope="module")
def token(org: OrgServer) -> str:
    return org.create_token()


def sdk(org: OrgServer, token: str) -> OktaClient:
    return OktaClient({"orgUrl": org.url, "token": token, "rateLimit": {"maxRetries": 0}})


@pytest.fixture(scope="module")
def scene(org: OrgServer, token: str) -> dict[str, Any]:
    """A user assigned to "Direct" directly and to "Through group" through a group; "Retired"
    is assigned directly but inactive; "Unrelated" is not assigned."""
    with requests.Session() as admin:
        admin.headers["Authorization"] = f"SSWS {token}"

        def post(path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
            response = admin.post(f"{org.url}{path}", json=body)
            assert response.ok, response.text
            return response.json() if response.content else {}

        login = "links.user@example.com"
        user = post(
            "/api/v1/users", {"profile": {"login": login, "email": login, "firstName": "L", "lastName": "U"}}
        )
        group = post("/api/v1/groups", {"profile": {"name": "link-group"}})
        assert admin.put(f"{org.url}/api/v1/groups/{group['id']}/users/{user['id']}").status_code == 204
        apps = {
            label: post("/api/v1/apps", oidc_app(label=label))
            for label in ("Direct", "Through group", "Retired", "Unrelated")
        }
        for label in ("Direct", "Retired"):
            post(f"/api/v1/apps/{apps[label]['id']}/users", {"id": user["id"], "scope": "USER"})
        assert admin.put(
            f"{org.url}/api/v1/apps/{apps['Through group']['id']}/groups/{group['id']}", json={}
        ).ok
        post(f"/api/v1/apps/{apps['Retired']['id']}/lifecycle/deactivate")
        return {"user": user, "group": group, "apps": apps}


async def test_app_links_cover_direct_and_group_assignments(
    org: OrgServer, token: str, scene: dict[str, Any]
) -> None:
    async with sdk(org, token) as client:
        links, _, err = await client.list_app_links(scene["user"]["id"])
    assert err is None, err
    assert [link.label for link in links] == ["Direct", "Through group"]
    direct = links[0]
    assert direct.app_instance_id == scene["apps"]["Direct"]["id"]
    assert direct.app_name == scene["apps"]["Direct"]["name"]
    assert direct.app_assignment_id.startswith("0ua") and len(direct.app_assignment_id) == 20
    assert [link.sort_order for link in links] == [0, 1]


async def test_group_apps_lists_the_groups_assignments(
    org: OrgServer, token: str, scene: dict[str, Any]
) -> None:
    async with sdk(org, token) as client:
        apps, _, err = await client.list_assigned_applications_for_group(scene["group"]["id"])
    assert err is None, err
    assert [a.id for a in apps] == [scene["apps"]["Through group"]["id"]]


async def test_unknown_user_and_group_are_404(org: OrgServer, token: str) -> None:
    async with sdk(org, token) as client:
        _, _, err = await client.list_app_links("00unosuchuser0000000")
        assert isinstance(err, OktaAPIError) and err.error_code == "E0000007"
        _, _, err = await client.list_assigned_applications_for_group("00gnosuchgroup000000")
        assert isinstance(err, OktaAPIError) and err.error_code == "E0000007"
    response = requests.get(
        f"{org.url}/api/v1/groups/00gnosuchgroup000000/apps",
        params={"limit": "x"},
        headers={"Authorization": f"SSWS {token}"},
    )
    assert response.status_code == 400 and response.json()["errorCode"] == "E0000001"
