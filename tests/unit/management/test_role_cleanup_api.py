"""Role assignments are deleted with their principal (a user, a group, a client app), and a role
narrowed to a group or an app that is deleted does not widen to the whole org."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from ostiary.store.models.roles import RoleAssignment, RoleTarget
from tests.conftest import Server
from tests.unit.management.test_admin_roles_api import admin_with, assign, make_app, make_group, make_user


async def assignments_of(server: Server, assignee_id: str) -> list[str]:
    async with server.rt.db.session() as session:
        rows = await session.scalars(
            select(RoleAssignment.role_type).where(RoleAssignment.assignee_id == assignee_id)
        )
        return sorted(rows)


async def targets_naming(server: Server, target_id: str) -> int:
    async with server.rt.db.session() as session:
        return len(list(await session.scalars(select(RoleTarget).where(RoleTarget.target_id == target_id))))


async def revoke_events(admin: httpx.AsyncClient, event_type: str) -> list[dict[str, object]]:
    response = await admin.get("/api/v1/logs", params={"filter": f'eventType eq "{event_type}"'})
    assert response.status_code == 200, response.text
    events: list[dict[str, object]] = response.json()
    return events


async def test_deleting_a_user_deletes_its_roles(any_server: Server, any_admin: httpx.AsyncClient) -> None:
    user = await make_user(any_admin, "leaving.admin@example.com")
    group = await make_group(any_admin, "Helped")
    role = await assign(any_admin, user, "HELP_DESK_ADMIN")
    assert (
        await any_admin.put(f"/api/v1/users/{user}/roles/{role}/targets/groups/{group}")
    ).status_code == 204
    await assign(any_admin, user, "REPORT_ADMIN")
    assert await assignments_of(any_server, user) == ["HELP_DESK_ADMIN", "REPORT_ADMIN"]

    assert (await any_admin.delete(f"/api/v1/users/{user}")).status_code == 204  # deactivates
    assert await assignments_of(any_server, user) == ["HELP_DESK_ADMIN", "REPORT_ADMIN"]  # still held
    assert (await any_admin.delete(f"/api/v1/users/{user}")).status_code == 204  # deletes
    assert await assignments_of(any_server, user) == []
    async with any_server.rt.db.session() as session:
        assert (await session.get(RoleAssignment, role)) is None
        assert list(await session.scalars(select(RoleTarget).where(RoleTarget.assignment_id == role))) == []
    revoked = await revoke_events(any_admin, "user.account.privilege.revoke")
    assert len(revoked) == 2


async def test_deleting_a_group_deletes_its_roles(any_server: Server, any_admin: httpx.AsyncClient) -> None:
    group = await make_group(any_admin, "Auditors to go")
    created = await any_admin.post(f"/api/v1/groups/{group}/roles", json={"type": "REPORT_ADMIN"})
    assert created.status_code == 200, created.text
    assert (await any_admin.delete(f"/api/v1/groups/{group}")).status_code == 204
    assert await assignments_of(any_server, group) == []
    assert len(await revoke_events(any_admin, "group.privilege.revoke")) == 1


async def test_a_role_narrowed_to_a_deleted_group_does_not_widen(
    server: Server, admin: httpx.AsyncClient
) -> None:
    outsider = await make_user(admin, "outsider@example.com")
    managed, kept = await make_group(admin, "Managed soon gone"), await make_group(admin, "Kept")
    holder, token = await admin_with(server, admin, "narrow.admin@example.com")
    narrowed = await assign(admin, holder, "USER_ADMIN")
    base = f"/api/v1/users/{holder}/roles/{narrowed}/targets/groups"
    assert (await admin.put(f"{base}/{managed}")).status_code == 204
    two_targets = await assign(admin, holder, "GROUP_MEMBERSHIP_ADMIN")
    for group in (managed, kept):
        assert (
            await admin.put(f"/api/v1/users/{holder}/roles/{two_targets}/targets/groups/{group}")
        ).status_code == 204
    change = {"profile": {"nickName": "widened"}}
    async with server.client(token) as client:
        assert (await client.post(f"/api/v1/users/{outsider}", json=change)).status_code == 403

    assert (await admin.delete(f"/api/v1/groups/{managed}")).status_code == 204

    async with server.client(token) as client:
        assert (await client.post(f"/api/v1/users/{outsider}", json=change)).status_code == 403
        assert (await client.put(f"/api/v1/groups/{kept}/users/{outsider}")).status_code == 204
    assert await targets_naming(server, managed) == 0
    assert await assignments_of(server, holder) == ["GROUP_MEMBERSHIP_ADMIN"]  # one target was left
    remaining = (await admin.get(f"/api/v1/users/{holder}/roles/{two_targets}/targets/groups")).json()
    assert [g["id"] for g in remaining] == [kept]


async def test_deleting_an_app_deletes_its_client_roles_and_app_targets(
    server: Server, admin: httpx.AsyncClient
) -> None:
    app = await make_app(admin, "Going")
    client_role = await admin.post(f"/oauth2/v1/clients/{app}/roles", json={"type": "READ_ONLY_ADMIN"})
    assert client_role.status_code == 200, client_role.text
    holder = await make_user(admin, "app.admin.narrow@example.com")
    narrowed = await assign(admin, holder, "APP_ADMIN")
    app_name = (await admin.get(f"/api/v1/apps/{app}")).json()["name"]
    target = await admin.put(f"/api/v1/users/{holder}/roles/{narrowed}/targets/catalog/apps/{app_name}/{app}")
    assert target.status_code == 204

    assert (await admin.post(f"/api/v1/apps/{app}/lifecycle/deactivate")).status_code == 200
    assert (await admin.delete(f"/api/v1/apps/{app}")).status_code == 204
    assert await assignments_of(server, app) == []
    assert await targets_naming(server, app) == 0
    assert await assignments_of(server, holder) == []  # narrowed to nothing: gone, not org-wide
