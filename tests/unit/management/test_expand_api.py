"""``expand=``: group stats on group lists, the user of an app user, the group of an app group."""

from __future__ import annotations

import httpx

from tests.unit.management.test_admin_roles_api import make_group, make_user
from tests.unit.management.test_app_assignment_queries_api import make_oidc_app


async def test_group_stats(admin: httpx.AsyncClient) -> None:
    group = await make_group(admin, "Counted")
    for login in ("one@example.com", "two@example.com"):
        user = await make_user(admin, login)
        assert (await admin.put(f"/api/v1/groups/{group}/users/{user}")).status_code == 204
    app = await make_oidc_app(admin, "Counted app")
    assert (await admin.put(f"/api/v1/apps/{app}/groups/{group}", json={})).status_code == 200
    role = await admin.post(f"/api/v1/groups/{group}/roles", json={"type": "READ_ONLY_ADMIN"})
    assert role.status_code == 200, role.text

    listed = (await admin.get("/api/v1/groups", params={"expand": "stats"})).json()
    stats = {g["profile"]["name"]: g["_embedded"]["stats"] for g in listed}
    assert stats["Counted"] == {
        "usersCount": 2,
        "appsCount": 1,
        "groupPushMappingsCount": 0,
        "hasAdminPrivlege": True,
    }
    assert stats["Everyone"]["usersCount"] >= 2 and stats["Everyone"]["hasAdminPrivlege"] is False
    plain = (await admin.get("/api/v1/groups")).json()
    assert all("_embedded" not in g for g in plain)
    with_app = (await admin.get("/api/v1/groups", params={"expand": "app"})).json()
    assert all(g["_embedded"] == {} for g in with_app)  # no group here is sourced from an app


async def test_app_user_and_app_group_expansions(admin: httpx.AsyncClient) -> None:
    user = await make_user(admin, "expanded@example.com")
    group = await make_group(admin, "Expanded")
    app = await make_oidc_app(admin, "Expanded app")
    assert (await admin.post(f"/api/v1/apps/{app}/users", json={"id": user})).status_code == 200
    assert (await admin.put(f"/api/v1/apps/{app}/groups/{group}", json={})).status_code == 200

    users = (await admin.get(f"/api/v1/apps/{app}/users", params={"expand": "user"})).json()
    assert [u["_embedded"]["user"]["profile"]["login"] for u in users] == ["expanded@example.com"]
    one = (await admin.get(f"/api/v1/apps/{app}/users/{user}", params={"expand": "user"})).json()
    assert one["_embedded"]["user"]["id"] == user
    assert "_embedded" not in (await admin.get(f"/api/v1/apps/{app}/users/{user}")).json()

    groups = (await admin.get(f"/api/v1/apps/{app}/groups", params={"expand": "group"})).json()
    assert [g["_embedded"]["group"]["profile"]["name"] for g in groups] == ["Expanded"]
    one = (await admin.get(f"/api/v1/apps/{app}/groups/{group}", params={"expand": "group"})).json()
    assert one["_embedded"]["group"]["id"] == group
    assert "_embedded" not in (await admin.get(f"/api/v1/apps/{app}/groups/{group}")).json()


async def test_apps_of_a_user_embed_the_app_user(admin: httpx.AsyncClient) -> None:
    user = await make_user(admin, "embedded@example.com")
    group = await make_group(admin, "Embedding")
    assert (await admin.put(f"/api/v1/groups/{group}/users/{user}")).status_code == 204
    direct = await make_oidc_app(admin, "Direct app")
    through_group = await make_oidc_app(admin, "Group app")
    unassigned = await make_oidc_app(admin, "Unassigned app")
    assert (await admin.post(f"/api/v1/apps/{direct}/users", json={"id": user})).status_code == 200
    assert (await admin.put(f"/api/v1/apps/{through_group}/groups/{group}", json={})).status_code == 200

    params = {"filter": f'user.id eq "{user}"', "expand": f"user/{user}"}
    listed = (await admin.get("/api/v1/apps", params=params)).json()
    embedded = {a["label"]: a["_embedded"]["user"] for a in listed}
    assert set(embedded) == {"Direct app", "Group app"}
    assert embedded["Direct app"]["id"] == user and embedded["Direct app"]["scope"] == "USER"
    assert embedded["Group app"]["id"] == user and embedded["Group app"]["scope"] == "GROUP"
    assert embedded["Direct app"]["credentials"]["userName"] == "embedded@example.com"

    plain = (await admin.get("/api/v1/apps", params={"filter": f'user.id eq "{user}"'})).json()
    assert len(plain) == 2 and all("_embedded" not in a for a in plain)
    one = (await admin.get(f"/api/v1/apps/{direct}", params={"expand": f"user/{user}"})).json()
    assert one["_embedded"]["user"]["id"] == user
    other = (await admin.get(f"/api/v1/apps/{unassigned}", params={"expand": f"user/{user}"})).json()
    assert "_embedded" not in other
    nobody = await admin.get(f"/api/v1/apps/{direct}", params={"expand": "user/00uNobodyNobodyNobod"})
    assert nobody.status_code == 200 and "_embedded" not in nobody.json()
