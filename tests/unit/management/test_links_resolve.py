"""Every ``_links`` href the management API emits resolves: a GET link answers 200 (and is then
walked in turn), a link for another method (``method``, or ``hints.allow``) names a route that
takes that method. The org holds one of everything: the demo's scenario plus users in each
lifecycle status, assignments, grants, secrets, keys, roles, a group rule, an API service
integration, a trusted origin, a session and an authn transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.routing import Match

from tests.conftest import ORG_URL, Server
from tests.support.apps import oidc_app, rsa_jwk
from tests.support.demo_seed import seed_demo
from tests.unit.management.test_admin_roles_api import PASSWORD, make_group, make_user

START = [
    "/api/v1/users",
    "/api/v1/groups",
    "/api/v1/apps",
    "/api/v1/authorizationServers",
    "/api/v1/trustedOrigins",
    "/api/v1/api-tokens",
    "/api/v1/groups/rules",
    "/api/v1/logs",
    "/api/v1/meta/schemas/user/default",
    "/api/v1/meta/types/user",
    "/integrations/api/v1/api-services",
    "/integrations/api/v1/api-services",
]


def links_in(body: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(relation, link) for every link object under a ``_links`` (or Okta's ``_link``) anywhere."""
    if isinstance(body, list):
        for item in body:
            yield from links_in(item)
    elif isinstance(body, dict):
        for key, value in body.items():
            if key in ("_links", "_link") and isinstance(value, dict):
                for rel, link in value.items():
                    for one in link if isinstance(link, list) else [link]:
                        assert isinstance(one, dict) and isinstance(one.get("href"), str), (rel, one)
                        yield rel, one
            else:
                yield from links_in(value)


def methods_of(link: dict[str, Any]) -> list[str]:
    allow = (link.get("hints") or {}).get("allow")
    if allow:
        return [str(m) for m in allow]
    return [str(link.get("method") or "GET")]


def route_takes(server: Server, path: str, method: str) -> bool:
    scope = {"type": "http", "path": path, "method": method, "root_path": ""}
    return any(route.matches(scope)[0] == Match.FULL for route in server.app.routes)


async def populate(server: Server, admin: httpx.AsyncClient) -> dict[str, str]:
    """One of everything the management API renders, in every status that changes its links."""
    await seed_demo(server)
    made: dict[str, str] = {}
    active = await make_user(admin, "walker.active@example.com")
    group = await make_group(admin, "Walked")
    assert (await admin.put(f"/api/v1/groups/{group}/users/{active}")).status_code == 204
    for login, transitions in {
        "walker.suspended@example.com": ["suspend"],
        "walker.expired@example.com": ["expire_password"],
        "walker.gone@example.com": ["deactivate"],
    }.items():
        user = await make_user(admin, login)
        for step in transitions:
            assert (await admin.post(f"/api/v1/users/{user}/lifecycle/{step}")).status_code == 200
    for login, activate in (("walker.staged@example.com", "false"), ("walker.pending@example.com", "true")):
        profile = {"login": login, "email": login, "firstName": "W", "lastName": "Alker"}
        created = await admin.post(f"/api/v1/users?activate={activate}", json={"profile": profile})
        assert created.status_code == 200, created.text
    recovering = await make_user(admin, "walker.recovery@example.com")
    reset = await admin.post(f"/api/v1/users/{recovering}/lifecycle/reset_password?sendEmail=false")
    assert reset.status_code == 200

    app = (await admin.post("/api/v1/apps", json=oidc_app(label="Walked app"))).json()["id"]
    assert (await admin.post(f"/api/v1/apps/{app}/users", json={"id": active})).status_code == 200
    assert (await admin.put(f"/api/v1/apps/{app}/groups/{group}", json={})).status_code == 200
    assert (await admin.post(f"/api/v1/apps/{app}/credentials/secrets", json={})).status_code == 201
    assert (await admin.post(f"/api/v1/apps/{app}/credentials/jwks", json=rsa_jwk())).status_code == 201
    grant = {"issuer": ORG_URL, "scopeId": "okta.users.read"}
    assert (await admin.post(f"/api/v1/apps/{app}/grants", json=grant)).status_code == 201
    inactive = (await admin.post("/api/v1/apps?activate=false", json=oidc_app(label="Off"))).json()
    made.update(app=app, inactive_app=inactive["id"], user=active, group=group)

    role = await admin.post(f"/api/v1/users/{active}/roles", json={"type": "USER_ADMIN"})
    assert role.status_code == 201, role.text
    made["user_role"] = role.json()["id"]
    targeted = await admin.put(f"/api/v1/users/{active}/roles/{made['user_role']}/targets/groups/{group}")
    assert targeted.status_code == 204
    group_role = await admin.post(f"/api/v1/groups/{group}/roles", json={"type": "READ_ONLY_ADMIN"})
    assert group_role.status_code == 200, group_role.text
    made["group_role"] = group_role.json()["id"]
    client_role = await admin.post(f"/oauth2/v1/clients/{app}/roles", json={"type": "APP_ADMIN"})
    assert client_role.status_code == 200, client_role.text
    made["client_role"] = client_role.json()["id"]

    rule = {
        "type": "group_rule",
        "name": "Walked rule",
        "conditions": {"expression": {"value": 'user.department=="Walk"', "type": "urn:okta:expression:1.0"}},
        "actions": {"assignUserToGroups": {"groupIds": [group]}},
    }
    assert (await admin.post("/api/v1/groups/rules", json=rule)).status_code == 200
    origin = {"name": "Walked origin", "origin": "https://walk.example.com", "scopes": [{"type": "CORS"}]}
    assert (await admin.post("/api/v1/trustedOrigins", json=origin)).status_code == 200
    entry = {"type": "walk_sync", "name": "Walk Sync", "scopes": ["okta.users.read"]}
    assert (await admin.post("/integrations/api/v1/submissions", json=entry)).status_code == 201
    install = {"type": "walk_sync", "grantedScopes": ["okta.users.read"]}
    assert (await admin.post("/integrations/api/v1/api-services", json=install)).status_code == 201
    return made


async def test_every_link_resolves(server: Server, admin: httpx.AsyncClient) -> None:
    made = await populate(server, admin)
    start = [
        *START,
        f"/api/v1/users/{made['user']}",
        f"/api/v1/users/{made['user']}/roles",
        f"/api/v1/users/{made['user']}/roles/{made['user_role']}",
        f"/api/v1/users/{made['user']}/roles/{made['user_role']}/targets/groups",
        f"/api/v1/groups/{made['group']}/roles",
        f"/oauth2/v1/clients/{made['app']}/roles",
        f"/api/v1/users/{made['user']}/appLinks",
        f"/api/v1/groups/{made['group']}/apps",
        f"/api/v1/apps/{made['app']}/users?expand=user",
        f"/api/v1/apps/{made['app']}/groups?expand=group",
        f"/api/v1/apps/{made['app']}/credentials/secrets",
        f"/api/v1/apps/{made['app']}/credentials/jwks",
        f"/api/v1/apps/{made['app']}/grants",
        f"/api/v1/apps/{made['inactive_app']}",
        "/api/v1/groups?expand=stats",
    ]
    queue = [ORG_URL + path for path in start]
    seen: set[str] = set()
    checked: set[tuple[str, str]] = set()
    broken: list[str] = []
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = await admin.get(url)
        if response.status_code != 200:
            broken.append(f"GET {url} -> {response.status_code}")
            continue
        if not response.headers.get("content-type", "").startswith("application/json"):
            continue
        for rel, link in links_in(response.json()):
            href = link["href"]
            parts = urlsplit(href)
            assert f"{parts.scheme}://{parts.netloc}" == ORG_URL, (rel, href)
            for method in methods_of(link):
                if (method, href) in checked:
                    continue
                checked.add((method, href))
                if method == "GET":
                    queue.append(href)
                elif not route_takes(server, parts.path, method):
                    broken.append(f"{method} {href} ({rel} of {url}): no route")
    assert not broken, "\n".join(broken)
    assert len(checked) > 150  # the walk went everywhere, not just to the start
    app_links = (await admin.get(f"/api/v1/users/{made['user']}/appLinks")).json()
    assert app_links
    for link in app_links:  # not ``_links``, but links all the same
        launched = await admin.get(link["linkUrl"])
        assert launched.status_code == 200 and launched.headers["content-type"].startswith("text/html")
        logo = await admin.get(link["logoUrl"])
        assert logo.status_code == 200 and logo.content.startswith(b"\x89PNG")


async def test_app_launch_link_redirects_to_initiate_login_uri(admin: httpx.AsyncClient) -> None:
    body = oidc_app(label="Launched")
    body["settings"]["oauthClient"]["initiate_login_uri"] = "https://launched.example.com/login"
    app = (await admin.post("/api/v1/apps", json=body)).json()
    launch = app["_links"]["appLinks"][0]["href"]
    response = await admin.get(launch)
    assert response.status_code == 303
    assert response.headers["location"] == "https://launched.example.com/login"
    assert (await admin.get(f"{ORG_URL}/home/oidc_client/0oaUnknownUnknownXXX/x")).status_code == 404
    client = await admin.get(f"/oauth2/v1/clients/{app['id']}")
    assert client.status_code == 200
    assert client.json()["client_name"] == "Launched"
    assert client.json()["initiate_login_uri"] == "https://launched.example.com/login"
    assert client.json()["_links"]["app"]["href"] == f"{ORG_URL}/api/v1/apps/{app['id']}"
    missing = await admin.get("/oauth2/v1/clients/0oaUnknownUnknownXXX")
    assert missing.status_code == 404 and missing.json()["errorCode"] == "E0000007"


async def test_authn_transaction_and_session_links_resolve(server: Server, admin: httpx.AsyncClient) -> None:
    user = await make_user(admin, "walker.authn@example.com")
    assert (await admin.post(f"/api/v1/users/{user}/lifecycle/expire_password")).status_code == 200
    transaction = await admin.post(
        "/api/v1/authn", json={"username": "walker.authn@example.com", "password": PASSWORD}
    )
    assert transaction.json()["status"] == "PASSWORD_EXPIRED"
    session_user = await make_user(admin, "walker.session@example.com")
    assert session_user
    token = (
        await admin.post(
            "/api/v1/authn", json={"username": "walker.session@example.com", "password": PASSWORD}
        )
    ).json()["sessionToken"]
    session = await admin.post("/api/v1/sessions", json={"sessionToken": token})
    assert session.status_code == 200, session.text
    questioned = await admin.post(
        f"/api/v1/users/{session_user}",
        json={"credentials": {"recovery_question": {"question": "Pet?", "answer": "Fluffy"}}},
    )
    assert questioned.status_code == 200
    reset = await admin.post(f"/api/v1/users/{session_user}/lifecycle/reset_password?sendEmail=false")
    recovery_token = urlsplit(reset.json()["resetPasswordUrl"]).path.rsplit("/", 1)[1]
    recovery = await admin.post("/api/v1/authn/recovery/token", json={"recoveryToken": recovery_token})
    assert recovery.json()["status"] == "RECOVERY"
    bodies = [transaction.json(), session.json(), recovery.json()]
    links = [link for body in bodies for _rel, link in links_in(body)]
    assert len(links) >= 7
    for link in links:
        path = urlsplit(link["href"]).path
        for method in methods_of(link):
            if method == "GET":
                assert (await admin.get(link["href"])).status_code == 200, link
            else:
                assert route_takes(server, path, method), link
