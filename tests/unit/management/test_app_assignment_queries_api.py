"""Apps listed by assignment (``filter=user.id eq`` / ``group.id eq``), a direct assignment updated
with ``POST /apps/{id}/users/{uid}``, and the ``Allow`` header of a 405."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.apps import oidc_app
from tests.unit.management.test_admin_roles_api import make_group, make_user


async def make_oidc_app(admin: httpx.AsyncClient, label: str) -> str:
    response = await admin.post("/api/v1/apps", json=oidc_app(label=label))
    assert response.status_code == 200, response.text
    app_id: str = response.json()["id"]
    return app_id


async def listed(admin: httpx.AsyncClient, filter_text: str) -> list[str]:
    response = await admin.get("/api/v1/apps", params={"filter": filter_text})
    assert response.status_code == 200, response.text
    return sorted(a["label"] for a in response.json())


async def test_apps_filtered_by_user_and_group(admin: httpx.AsyncClient) -> None:
    user = await make_user(admin, "filtered@example.com")
    other = await make_user(admin, "other@example.com")
    group = await make_group(admin, "Filtered")
    assert (await admin.put(f"/api/v1/groups/{group}/users/{user}")).status_code == 204
    direct, through, unrelated = [await make_oidc_app(admin, n) for n in ("Direct", "Through", "Unrelated")]
    assigned = await admin.post(f"/api/v1/apps/{direct}/users", json={"id": user, "scope": "USER"})
    assert assigned.status_code == 200, assigned.text
    assert (await admin.put(f"/api/v1/apps/{through}/groups/{group}", json={})).status_code == 200
    assert unrelated

    assert await listed(admin, f'user.id eq "{user}"') == ["Direct", "Through"]
    assert await listed(admin, f'user.id eq "{other}"') == []
    assert await listed(admin, f'group.id eq "{group}"') == ["Through"]
    assert await listed(admin, 'user.id eq "00unosuchuser0000000"') == []
    bad = await admin.get("/api/v1/apps", params={"filter": f'user.id sw "{user}"'})
    assert bad.status_code == 400 and bad.json()["errorCode"] == "E0000031"


async def test_post_updates_a_direct_assignment(admin: httpx.AsyncClient) -> None:
    user = await make_user(admin, "updated@example.com")
    stranger = await make_user(admin, "stranger@example.com")
    app = await make_oidc_app(admin, "Updated")
    body: dict[str, Any] = {"id": user, "scope": "USER", "credentials": {"userName": "old"}}
    assert (await admin.post(f"/api/v1/apps/{app}/users", json=body)).status_code == 200
    response = await admin.post(
        f"/api/v1/apps/{app}/users/{user}",
        json={"credentials": {"userName": "new.name"}, "profile": {"title": "Lead"}},
    )
    assert response.status_code == 200, response.text
    assert response.json()["credentials"]["userName"] == "new.name"
    fetched = (await admin.get(f"/api/v1/apps/{app}/users/{user}")).json()
    assert fetched["credentials"]["userName"] == "new.name" and fetched["profile"]["title"] == "Lead"

    missing = await admin.post(f"/api/v1/apps/{app}/users/{stranger}", json={"profile": {}})
    assert missing.status_code == 404 and missing.json()["errorCode"] == "E0000007"
    bad = await admin.post(f"/api/v1/apps/{app}/users/{user}", json={"profile": "x"})
    assert bad.status_code == 400 and bad.json()["errorCode"] == "E0000001"
    assert (await admin.get(f"/api/v1/apps/{app}/users/{user}")).json()["profile"]["title"] == "Lead"


async def test_405_names_every_method_of_the_path(admin: httpx.AsyncClient) -> None:
    group = await make_group(admin, "Allowed")
    response = await admin.patch(f"/api/v1/groups/{group}", json={})
    assert response.status_code == 405 and response.json()["errorCode"] == "E0000022"
    assert response.headers["Allow"] == "GET, HEAD, PUT, DELETE"
    response = await admin.patch("/api/v1/apps")
    assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD, POST"
    response = await admin.put("/api/v1/groups/rules")
    assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD, POST"


async def test_patch_updates_a_group_assignment(admin: httpx.AsyncClient) -> None:
    group = await make_group(admin, "Patched")
    app = await make_oidc_app(admin, "Patched app")
    assert (await admin.put(f"/api/v1/apps/{app}/groups/{group}", json={"priority": 0})).status_code == 200
    ops = [
        {"op": "replace", "path": "/priority", "value": 3},
        {"op": "replace", "path": "/profile/manager", "value": "C"},
    ]
    response = await admin.patch(f"/api/v1/apps/{app}/groups/{group}", json=ops)
    assert response.status_code == 200, response.text
    assert response.json()["priority"] == 3 and response.json()["profile"]["manager"] == "C"
    bad = await admin.patch(
        f"/api/v1/apps/{app}/groups/{group}",
        json=[{"op": "remove", "path": "/profile/manager"}, {"op": "move", "path": "/priority"}],
    )
    assert bad.status_code == 400 and bad.json()["errorCode"] == "E0000001"
    fetched = (await admin.get(f"/api/v1/apps/{app}/groups/{group}")).json()
    assert fetched["profile"]["manager"] == "C" and fetched["priority"] == 3  # nothing changed
    missing = await admin.patch(f"/api/v1/apps/{app}/groups/00gnosuchgroup000000", json=[])
    assert missing.status_code == 404
