"""Admin roles on the management API: a table of role by operation (allowed, or 403 E0000006),
target narrowing, API tokens acting as their admin, and service apps limited by client roles.

Every request goes through the app over HTTP (in process); tokens are made as ``ostiary token
create`` makes them (``api_tokens.create_token`` with the admin's ``user_id``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from ostiary.domain.context import Actor, Tx
from ostiary.domain.directory import api_tokens
from ostiary.store.repositories import orgs
from tests.conftest import Server
from tests.support.oauth import ORG, client_token, service_client

PASSWORD = "Roles-Passw0rd!"


async def token_for(server: Server, user_id: str, name: str = "admin token") -> str:
    async with server.rt.db.session() as session:
        org = await orgs.ensure_default(session)
        _token, plaintext = await api_tokens.create_token(
            Tx(session=session, org=org, actor=Actor.system()), name, user_id=user_id
        )
        await session.commit()
    return plaintext


async def make_user(admin: httpx.AsyncClient, login: str) -> str:
    body = {
        "profile": {"login": login, "email": login, "firstName": login.split("@")[0], "lastName": "Test"},
        "credentials": {"password": {"value": PASSWORD}},
    }
    response = await admin.post("/api/v1/users?activate=true", json=body)
    assert response.status_code == 200, response.text
    user_id: str = response.json()["id"]
    return user_id


async def make_group(admin: httpx.AsyncClient, name: str) -> str:
    response = await admin.post("/api/v1/groups", json={"profile": {"name": name}})
    assert response.status_code == 200, response.text
    group_id: str = response.json()["id"]
    return group_id


async def make_app(admin: httpx.AsyncClient, label: str) -> str:
    client_id, _secret = await service_client(admin)
    return client_id


async def assign(admin: httpx.AsyncClient, user_id: str, role: str) -> str:
    response = await admin.post(f"/api/v1/users/{user_id}/roles", json={"type": role})
    assert response.status_code == 201, response.text
    role_id: str = response.json()["id"]
    return role_id


async def admin_with(server: Server, admin: httpx.AsyncClient, login: str, *roles: str) -> tuple[str, str]:
    """A user holding ``roles`` and an API token made by them: (user id, token)."""
    user_id = await make_user(admin, login)
    for role in roles:
        await assign(admin, user_id, role)
    return user_id, await token_for(server, user_id)


@pytest.fixture
async def world(admin: httpx.AsyncClient) -> dict[str, str]:
    """A user, a group and an app for the operations to act on."""
    return {
        "user": await make_user(admin, "victim@example.com"),
        "group": await make_group(admin, "Staff"),
        "app": await make_app(admin, "Target"),
    }


Call = Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[httpx.Response]]


def _op(method: str, path: str, body: Any = None) -> Call:
    async def call(client: httpx.AsyncClient, w: dict[str, str]) -> httpx.Response:
        return await client.request(method, path.format(**w), json=body)

    return call


_AS_NAMES = iter(f"as-{i}" for i in range(10_000))


async def _create_server(client: httpx.AsyncClient, w: dict[str, str]) -> httpx.Response:
    name = next(_AS_NAMES)
    body = {"name": name, "description": name, "audiences": [f"api://{name}"]}
    return await client.post("/api/v1/authorizationServers", json=body)


OPERATIONS: dict[str, Call] = {
    "users.read": _op("GET", "/api/v1/users/{user}"),
    "users.list": _op("GET", "/api/v1/users"),
    "users.manage": _op("POST", "/api/v1/users/{user}", {"profile": {"nickName": "changed"}}),
    "users.credentials": _op("POST", "/api/v1/users/{user}/lifecycle/expire_password"),
    "groups.read": _op("GET", "/api/v1/groups/{group}"),
    "groups.manage": _op("PUT", "/api/v1/groups/{group}", {"profile": {"name": "Staff", "description": "d"}}),
    "groups.members": _op("PUT", "/api/v1/groups/{group}/users/{user}"),
    "apps.read": _op("GET", "/api/v1/apps/{app}"),
    "apps.manage": _op("POST", "/api/v1/apps/{app}/lifecycle/activate"),
    "authorizationServers.read": _op("GET", "/api/v1/authorizationServers"),
    "authorizationServers.manage": _create_server,
    "logs.read": _op("GET", "/api/v1/logs"),
    "apiTokens.read": _op("GET", "/api/v1/api-tokens"),
    "trustedOrigins.read": _op("GET", "/api/v1/trustedOrigins"),
    "roles.read": _op("GET", "/api/v1/users/{user}/roles"),
    "roles.manage": _op("POST", "/api/v1/users/{user}/roles", {"type": "REPORT_ADMIN"}),
}

READS = {"users.read", "users.list", "groups.read", "apps.read", "authorizationServers.read", "logs.read"}
TABLE: dict[str, set[str]] = {
    "SUPER_ADMIN": set(OPERATIONS),
    "ORG_ADMIN": set(OPERATIONS) - {"authorizationServers.manage", "roles.read", "roles.manage"},
    "APP_ADMIN": {"users.read", "users.list", "groups.read", "apps.read", "apps.manage"}
    | {"authorizationServers.read", "logs.read"},
    "USER_ADMIN": {"users.read", "users.list", "users.manage", "users.credentials"}
    | {"groups.read", "groups.members", "logs.read"},
    "GROUP_MEMBERSHIP_ADMIN": {"users.read", "users.list", "groups.read", "groups.members"},
    "HELP_DESK_ADMIN": {"users.read", "users.list", "users.credentials", "groups.read", "logs.read"},
    "READ_ONLY_ADMIN": READS | {"apiTokens.read", "trustedOrigins.read"},
    "API_ACCESS_MANAGEMENT_ADMIN": {"users.read", "users.list", "groups.read", "apps.read"}
    | {"authorizationServers.read", "authorizationServers.manage", "logs.read"},
    "REPORT_ADMIN": {"logs.read"},
    "(no role)": set(),
}


@pytest.mark.parametrize("role", list(TABLE))
async def test_role_permission_table(
    role: str, server: Server, admin: httpx.AsyncClient, world: dict[str, str]
) -> None:
    roles = () if role == "(no role)" else (role,)
    _user_id, token = await admin_with(server, admin, "holder@example.com", *roles)
    allowed: set[str] = set()
    async with server.client(token) as client:
        for name, call in OPERATIONS.items():
            response = await call(client, world)
            if response.status_code == 403:
                body = response.json()
                assert body["errorCode"] == "E0000006", (name, body)
                assert body["errorSummary"] == "You do not have permission to perform the requested action"
                assert set(body) >= {"errorLink", "errorId", "errorCauses"}
            else:
                assert response.status_code < 300, (name, response.status_code, response.text)
                allowed.add(name)
    assert allowed == TABLE[role]


async def test_refused_request_changes_nothing(server: Server, admin: httpx.AsyncClient) -> None:
    victim = await make_user(admin, "victim@example.com")
    _uid, token = await admin_with(server, admin, "reader@example.com", "READ_ONLY_ADMIN")
    async with server.client(token) as client:
        refused = await client.post(f"/api/v1/users/{victim}", json={"profile": {"nickName": "nope"}})
    assert refused.status_code == 403
    assert "nickName" not in (await admin.get(f"/api/v1/users/{victim}")).json()["profile"]


async def test_group_targets_narrow_user_admin(server: Server, admin: httpx.AsyncClient) -> None:
    inside = await make_user(admin, "inside@example.com")
    outside = await make_user(admin, "outside@example.com")
    managed = await make_group(admin, "Managed")
    other = await make_group(admin, "Other")
    assert (await admin.put(f"/api/v1/groups/{managed}/users/{inside}")).status_code == 204
    holder, token = await admin_with(server, admin, "useradmin@example.com")
    role_id = await assign(admin, holder, "USER_ADMIN")
    target = await admin.put(f"/api/v1/users/{holder}/roles/{role_id}/targets/groups/{managed}")
    assert target.status_code == 204, target.text
    listed = (await admin.get(f"/api/v1/users/{holder}/roles/{role_id}/targets/groups")).json()
    assert [g["id"] for g in listed] == [managed]

    change = {"profile": {"nickName": "changed"}}
    async with server.client(token) as client:
        assert (await client.post(f"/api/v1/users/{inside}", json=change)).status_code == 200
        assert (await client.post("/api/v1/users/inside@example.com", json=change)).status_code == 200
        assert (await client.post(f"/api/v1/users/{outside}", json=change)).status_code == 403
        assert (await client.get("/api/v1/users")).status_code == 403  # a collection: not narrowed
        assert (await client.put(f"/api/v1/groups/{managed}/users/{outside}")).status_code == 204
        assert (await client.put(f"/api/v1/groups/{other}/users/{inside}")).status_code == 403
        assert (await client.get("/api/v1/logs")).status_code == 200  # logs are not narrowed


async def test_last_target_cannot_be_removed(server: Server, admin: httpx.AsyncClient) -> None:
    holder = await make_user(admin, "helpdesk@example.com")
    one, two = await make_group(admin, "One"), await make_group(admin, "Two")
    role_id = await assign(admin, holder, "HELP_DESK_ADMIN")
    base = f"/api/v1/users/{holder}/roles/{role_id}/targets/groups"
    assert (await admin.put(f"{base}/{one}")).status_code == 204
    assert (await admin.put(f"{base}/{two}")).status_code == 204
    assert (await admin.delete(f"{base}/{one}")).status_code == 204
    last = await admin.delete(f"{base}/{two}")
    assert last.status_code == 400 and last.json()["errorCode"] == "E0000001"
    assert [g["id"] for g in (await admin.get(base)).json()] == [two]


async def test_group_target_on_an_app_role_is_refused(admin: httpx.AsyncClient) -> None:
    holder = await make_user(admin, "appadmin@example.com")
    group = await make_group(admin, "G")
    role_id = await assign(admin, holder, "APP_ADMIN")
    response = await admin.put(f"/api/v1/users/{holder}/roles/{role_id}/targets/groups/{group}")
    assert response.status_code == 400 and response.json()["errorCode"] == "E0000001"


async def test_app_targets_narrow_app_admin(server: Server, admin: httpx.AsyncClient) -> None:
    mine, theirs = await make_app(admin, "Mine"), await make_app(admin, "Theirs")
    holder, token = await admin_with(server, admin, "appadmin@example.com")
    role_id = await assign(admin, holder, "APP_ADMIN")
    app_name = (await admin.get(f"/api/v1/apps/{mine}")).json()["name"]
    base = f"/api/v1/users/{holder}/roles/{role_id}/targets/catalog/apps"
    assert (await admin.put(f"{base}/{app_name}/{mine}")).status_code == 204
    assert [a["id"] for a in (await admin.get(base)).json()] == [mine]
    async with server.client(token) as client:
        assert (await client.post(f"/api/v1/apps/{mine}/lifecycle/activate")).status_code == 200
        assert (await client.post(f"/api/v1/apps/{theirs}/lifecycle/activate")).status_code == 403
        assert (await client.get("/api/v1/apps")).status_code == 403
        assert (await client.get("/api/v1/users")).status_code == 200  # app targets do not narrow users
    # A catalog name covers every instance of that app.
    assert (await admin.put(f"{base}/{app_name}")).status_code == 204
    async with server.client(token) as client:
        assert (await client.post(f"/api/v1/apps/{theirs}/lifecycle/activate")).status_code == 200


async def test_group_roles_apply_to_members(server: Server, admin: httpx.AsyncClient) -> None:
    holder, token = await admin_with(server, admin, "member@example.com")
    group = await make_group(admin, "Auditors")
    created = await admin.post(f"/api/v1/groups/{group}/roles", json={"type": "REPORT_ADMIN"})
    assert created.status_code == 200, created.text
    assert created.json()["assignmentType"] == "GROUP"
    async with server.client(token) as client:
        assert (await client.get("/api/v1/logs")).status_code == 403
        assert (await admin.put(f"/api/v1/groups/{group}/users/{holder}")).status_code == 204
        assert (await client.get("/api/v1/logs")).status_code == 200
        assert (await client.get("/api/v1/users")).status_code == 403


async def test_assignment_shapes_and_errors(any_admin: httpx.AsyncClient) -> None:
    """On every storage backend (the migration's tables and constraints)."""
    admin = any_admin
    holder = await make_user(admin, "shape@example.com")
    made = await admin.post(f"/api/v1/users/{holder}/roles", json={"type": "ORG_ADMIN"})
    assert made.status_code == 201
    body = made.json()
    assert body["type"] == "ORG_ADMIN" and body["status"] == "ACTIVE" and body["assignmentType"] == "USER"
    assert body["label"] == "Organizational Administrator"
    assert body["_links"]["assignee"]["href"].endswith(f"/api/v1/users/{holder}")
    assert (await admin.get(body["_links"]["assignee"]["href"])).status_code == 200
    one = await admin.get(f"/api/v1/users/{holder}/roles/{body['id']}")
    assert one.json() == body
    dup = await admin.post(f"/api/v1/users/{holder}/roles", json={"type": "ORG_ADMIN"})
    assert dup.status_code == 409 and dup.json()["errorCode"] == "E0000090"
    bad = await admin.post(f"/api/v1/users/{holder}/roles", json={"type": "KING"})
    assert bad.status_code == 400 and bad.json()["errorCode"] == "E0000001"
    missing = await admin.post("/api/v1/users/00unosuchuser0000000/roles", json={"type": "ORG_ADMIN"})
    assert missing.status_code == 404 and missing.json()["errorCode"] == "E0000007"
    unknown = await admin.get(f"/api/v1/users/{holder}/roles/ra1nosuchrole")
    assert unknown.status_code == 404
    assert (await admin.delete(f"/api/v1/users/{holder}/roles/{body['id']}")).status_code == 204
    assert (await admin.get(f"/api/v1/users/{holder}/roles")).json() == []


async def test_only_a_super_admin_assigns_super_admin(server: Server, admin: httpx.AsyncClient) -> None:
    target = await make_user(admin, "promoted@example.com")
    # A service app without roles is limited by its scopes alone, but is no super admin.
    client_id, secret = await service_client(admin, "okta.roles.manage")
    async with server.client() as anon:
        token = (await client_token(anon, client_id, secret, "okta.roles.manage")).json()["access_token"]
    async with server.client(Authorization=f"Bearer {token}") as app_client:
        refused = await app_client.post(f"/api/v1/users/{target}/roles", json={"type": "SUPER_ADMIN"})
        assert refused.status_code == 403 and refused.json()["errorCode"] == "E0000006"
        ok = await app_client.post(f"/api/v1/users/{target}/roles", json={"type": "REPORT_ADMIN"})
        assert ok.status_code == 201
    assert [r["type"] for r in (await admin.get(f"/api/v1/users/{target}/roles")).json()] == ["REPORT_ADMIN"]
    # A super admin user's token may.
    _uid, super_token = await admin_with(server, admin, "root@example.com", "SUPER_ADMIN")
    async with server.client(super_token) as client:
        made = await client.post(f"/api/v1/users/{target}/roles", json={"type": "SUPER_ADMIN"})
        assert made.status_code == 201


async def test_service_app_scopes_limited_by_client_roles(server: Server, admin: httpx.AsyncClient) -> None:
    victim = await make_user(admin, "victim@example.com")
    client_id, secret = await service_client(admin, "okta.users.manage")
    async with server.client() as anon:
        token = (await client_token(anon, client_id, secret, "okta.users.manage")).json()["access_token"]
    change = {"profile": {"nickName": "by-app"}}
    async with server.client(Authorization=f"Bearer {token}") as app_client:
        # No roles assigned to the client: its grants alone decide (apps made before roles).
        assert (await app_client.post(f"/api/v1/users/{victim}", json=change)).status_code == 200
        made = await admin.post(f"/oauth2/v1/clients/{client_id}/roles", json={"type": "READ_ONLY_ADMIN"})
        assert made.status_code == 200, made.text
        assert made.json()["assignmentType"] == "CLIENT"
        assert (await app_client.get(f"/api/v1/users/{victim}")).status_code == 200
        refused = await app_client.post(f"/api/v1/users/{victim}", json=change)
        assert refused.status_code == 403 and refused.json()["errorCode"] == "E0000006"
        # Roles never widen the grants: the read-only role does not give okta.groups.read.
        assert (await app_client.get("/api/v1/groups")).status_code == 403
    listed = (await admin.get(f"/oauth2/v1/clients/{client_id}/roles")).json()
    assert [r["type"] for r in listed] == ["READ_ONLY_ADMIN"]


async def test_token_acts_as_its_admin(server: Server, admin: httpx.AsyncClient) -> None:
    holder, token = await admin_with(server, admin, "ada.admin@example.com", "USER_ADMIN")
    victim = await make_user(admin, "victim@example.com")
    async with server.client(token) as client:
        me = await client.get("/api/v1/users/me")
        assert me.status_code == 200 and me.json()["id"] == holder
        assert (await client.post(f"/api/v1/users/{victim}", json={"profile": {"nickName": "x"}})).is_success
        listed = (await client.get("/api/v1/api-tokens")).status_code
    assert listed == 403  # USER_ADMIN does not read API tokens
    wanted = {"filter": 'eventType eq "user.account.update_profile"'}
    events = (await admin.get("/api/v1/logs", params=wanted)).json()
    actor = events[-1]["actor"]
    assert (actor["id"], actor["type"], actor["alternateId"]) == (holder, "User", "ada.admin@example.com")
    tokens = (await admin.get("/api/v1/api-tokens")).json()
    assert {t["userId"] for t in tokens if t["name"] == "admin token"} == {holder}


async def test_me_without_an_admin_is_not_found(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/api/v1/users/me")
    assert response.status_code == 404 and response.json()["errorCode"] == "E0000007"


async def test_token_stops_when_its_admin_is_deactivated(server: Server, admin: httpx.AsyncClient) -> None:
    holder, token = await admin_with(server, admin, "leaver@example.com", "SUPER_ADMIN")
    assert (await admin.post(f"/api/v1/users/{holder}/lifecycle/deactivate")).status_code == 200
    async with server.client(token) as client:
        response = await client.get("/api/v1/users")
    assert response.status_code == 401 and response.json()["errorCode"] == "E0000011"


async def test_admins_are_changed_by_super_admins_only(server: Server, admin: httpx.AsyncClient) -> None:
    root = await make_user(admin, "root@example.com")
    await assign(admin, root, "SUPER_ADMIN")
    plain = await make_user(admin, "plain@example.com")
    admins_group = await make_group(admin, "Admins")
    made = await admin.post(f"/api/v1/groups/{admins_group}/roles", json={"type": "SUPER_ADMIN"})
    assert made.status_code == 200
    holder, token = await admin_with(server, admin, "useradmin@example.com", "USER_ADMIN")
    async with server.client(token) as client:
        assert (await client.get(f"/api/v1/users/{root}")).status_code == 200
        assert (await client.post(f"/api/v1/users/{root}/lifecycle/expire_password")).status_code == 403
        assert (await client.post(f"/api/v1/users/{plain}/lifecycle/expire_password")).status_code == 200
        # Joining a group that makes its members super admins is a super admin's act.
        assert (await client.put(f"/api/v1/groups/{admins_group}/users/{holder}")).status_code == 403
        # Nor may a user admin create a user straight into it.
        body = {"profile": {"login": "sneaky@example.com", "email": "sneaky@example.com"}}
        body["profile"] |= {"firstName": "S", "lastName": "N"}
        sneaky = await client.post("/api/v1/users", json={**body, "groupIds": [admins_group]})
        assert sneaky.status_code == 403 and sneaky.json()["errorCode"] == "E0000006"
    members = (await admin.get(f"/api/v1/groups/{admins_group}/users")).json()
    assert members == []
    assert (await admin.get("/api/v1/users/sneaky@example.com")).status_code == 404


async def test_app_admin_cannot_grant_scopes_beyond_its_roles(
    server: Server, admin: httpx.AsyncClient
) -> None:
    _holder, token = await admin_with(server, admin, "appadmin@example.com", "APP_ADMIN")
    async with server.client(token) as client:
        client_id, _secret = await service_client(client)  # an app admin creates an app
        refused = await client.post(
            f"/api/v1/apps/{client_id}/grants", json={"issuer": ORG, "scopeId": "okta.roles.manage"}
        )
        assert refused.status_code == 403 and refused.json()["errorCode"] == "E0000006"
        allowed = await client.post(
            f"/api/v1/apps/{client_id}/grants", json={"issuer": ORG, "scopeId": "okta.apps.read"}
        )
        assert allowed.status_code == 201, allowed.text


async def test_the_console_admins_group_makes_super_admins_and_only_super_admins_change_it(
    server: Server, admin: httpx.AsyncClient
) -> None:
    """Members of ``Ostiary Admins`` are super admins (the console's admins, and the API tokens
    they make); so joining, creating or renaming to that group is a super admin's act."""
    console_admins = await make_group(admin, "Ostiary Admins")
    other = await make_group(admin, "Helpers")
    member = await make_user(admin, "member@example.com")
    assert (await admin.put(f"/api/v1/groups/{console_admins}/users/{member}")).status_code == 204
    async with server.client(await token_for(server, member)) as client:
        assert (await client.get("/api/v1/users")).status_code == 200
        assert (
            await client.post(f"/api/v1/users/{member}/roles", json={"type": "ORG_ADMIN"})
        ).status_code == 201
    holder, token = await admin_with(server, admin, "orgadmin@example.com", "ORG_ADMIN")
    async with server.client(token) as client:
        joined = await client.put(f"/api/v1/groups/{console_admins}/users/{holder}")
        assert joined.status_code == 403 and joined.json()["errorCode"] == "E0000006"
        renamed = await client.put(f"/api/v1/groups/{other}", json={"profile": {"name": "ostiary admins"}})
        assert renamed.status_code == 403 and renamed.json()["errorCode"] == "E0000006"
        created = await client.post("/api/v1/groups", json={"profile": {"name": "Ostiary Admins "}})
        assert created.status_code == 403
    members = {u["id"] for u in (await admin.get(f"/api/v1/groups/{console_admins}/users")).json()}
    assert members == {member}
    assert (await admin.get(f"/api/v1/groups/{other}")).json()["profile"]["name"] == "Helpers"


async def test_concurrent_assignments_of_one_role_give_one_and_a_conflict(
    any_admin: httpx.AsyncClient,
) -> None:
    """Both requests pass the check for an existing assignment; the unique index refuses the
    second at its flush, which answers 409 (not 500) and leaves one assignment."""
    holder = await make_user(any_admin, "raced@example.com")
    answers = await asyncio.gather(
        *(any_admin.post(f"/api/v1/users/{holder}/roles", json={"type": "APP_ADMIN"}) for _ in range(6))
    )
    assert sorted(a.status_code for a in answers).count(201) == 1, [a.text for a in answers]
    assert {a.status_code for a in answers} <= {201, 409}
    assert all(a.json()["errorCode"] == "E0000090" for a in answers if a.status_code == 409)
    assert [r["type"] for r in (await any_admin.get(f"/api/v1/users/{holder}/roles")).json()] == ["APP_ADMIN"]
