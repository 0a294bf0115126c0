"""/api/v1/apps/{appId}/tokens: an app's refresh tokens on every authorization server, listed,
read and revoked as Okta's OAuth2RefreshToken; a revoked token no longer refreshes at /token."""

from __future__ import annotations

import httpx
import pytest
from okta.models import OAuth2RefreshToken

from tests.conftest import Server
from tests.support.authorization_servers import AS
from tests.support.oauth import ORG
from tests.support.refresh_tokens import (
    ROTATE_NO_GRACE,
    Scenario,
    assert_invalid_grant,
    assign,
    scenario,
    web_client,
)
from tests.unit.management.test_admin_roles_api import admin_with


def tokens_url(app_id: str) -> str:
    return f"/api/v1/apps/{app_id}/tokens"


async def second_app(s: Scenario) -> Scenario:
    """Another app, used by the same user."""
    client_id, secret = await web_client(s.admin, label="Other")
    await assign(s.admin, client_id, s.user_id)
    return Scenario(s.server, s.admin, client_id, secret, s.user_id)


async def test_tokens_of_every_server_are_listed_in_okta_shape(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server, label="My Web App")
    on_default = (await s.row(await s.issue())).family_id
    on_org = (await s.row(await s.issue(server_id="$org"))).family_id
    response = await any_admin.get(tokens_url(s.client_id))
    assert response.status_code == 200, response.text
    by_id = {t["id"]: t for t in response.json()}
    assert set(by_id) == {on_default, on_org}
    token = by_id[on_default]
    assert (token["status"], token["clientId"], token["userId"]) == ("ACTIVE", s.client_id, s.user_id)
    assert token["issuer"] == f"{ORG}/oauth2/default"
    assert by_id[on_org]["issuer"] == ORG
    assert token["scopes"] == ["openid", "profile", "offline_access"]
    href = f"{ORG}{tokens_url(s.client_id)}/{on_default}"
    assert token["_links"]["self"] == {"href": href}
    assert token["_links"]["revoke"] == {"href": href, "hints": {"allow": ["DELETE"]}}
    assert token["_links"]["authorizationServer"]["href"] == f"{ORG}{AS}/default"
    assert token["_links"]["app"] == {"href": f"{ORG}/api/v1/apps/{s.client_id}", "title": "My Web App"}
    parsed = OAuth2RefreshToken.from_dict(token)
    assert parsed is not None and parsed.user_id == s.user_id
    one = await any_admin.get(href.removeprefix(ORG), params={"expand": "scope"})
    assert one.status_code == 200, one.text
    assert [sc["name"] for sc in one.json()["_embedded"]["scopes"]] == ["openid", "profile", "offline_access"]


async def test_revoking_one_token_makes_it_unusable_at_the_token_endpoint(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server, rotation=ROTATE_NO_GRACE)
    first = await s.issue()
    rotated = (await s.refresh(first)).json()["refresh_token"]
    kept = await s.issue()
    family_id = (await s.row(first)).family_id
    response = await any_admin.delete(f"{tokens_url(s.client_id)}/{family_id}")
    assert (response.status_code, response.content) == (204, b"")
    assert_invalid_grant(await s.refresh(rotated))
    assert (await s.refresh(kept)).status_code == 200
    gone = await any_admin.get(f"{tokens_url(s.client_id)}/{family_id}")
    assert (gone.status_code, gone.json()["errorCode"]) == (404, "E0000007")


async def test_revoking_all_tokens_of_the_app_covers_every_server(
    admin: httpx.AsyncClient, server: Server
) -> None:
    s = await scenario(admin, server)
    other = await second_app(s)
    tokens = [await s.issue(), await s.issue(server_id="$org")]
    elsewhere = await other.issue()
    response = await admin.delete(tokens_url(s.client_id))
    assert (response.status_code, response.content) == (204, b"")
    assert_invalid_grant(await s.refresh(tokens[0]))
    assert_invalid_grant(await s.refresh(tokens[1], server_id="$org"))
    assert (await other.refresh(elsewhere)).status_code == 200
    assert (await admin.get(tokens_url(s.client_id))).json() == []


async def test_tokens_are_paged(admin: httpx.AsyncClient, server: Server) -> None:
    s = await scenario(admin, server)
    issued = sorted([(await s.row(await s.issue())).family_id for _ in range(3)])
    first = await admin.get(tokens_url(s.client_id), params={"limit": "2"})
    assert [t["id"] for t in first.json()] == issued[:2]
    second = await admin.get(first.links["next"]["url"])
    assert [t["id"] for t in second.json()] == issued[2:]


@pytest.mark.parametrize(
    ("path", "summary"),
    [
        (
            "/api/v1/apps/0oa00000000000000000/tokens",
            "Not found: Resource not found: 0oa00000000000000000 (AppInstance)",
        ),
        (
            "{tokens}/oar00000000000000000",
            "Not found: Resource not found: oar00000000000000000 (RefreshToken)",
        ),
    ],
)
async def test_unknown_apps_and_tokens_are_okta_404s(
    admin: httpx.AsyncClient, server: Server, path: str, summary: str
) -> None:
    s = await scenario(admin, server)
    for method in ("GET", "DELETE"):
        response = await admin.request(method, path.format(tokens=tokens_url(s.client_id)))
        assert response.status_code == 404, (method, response.text)
        assert (response.json()["errorCode"], response.json()["errorSummary"]) == ("E0000007", summary)


async def test_another_apps_token_is_not_found(admin: httpx.AsyncClient, server: Server) -> None:
    s = await scenario(admin, server)
    other = await second_app(s)
    family_id = (await s.row(await s.issue())).family_id
    assert (await admin.get(f"{tokens_url(other.client_id)}/{family_id}")).status_code == 404


@pytest.mark.parametrize(
    ("role", "read", "revoke"),
    [
        ("APP_ADMIN", 200, 204),
        ("ORG_ADMIN", 200, 204),
        ("API_ACCESS_MANAGEMENT_ADMIN", 200, 403),
        ("READ_ONLY_ADMIN", 200, 403),
        ("USER_ADMIN", 403, 403),
    ],
)
async def test_reading_needs_apps_read_and_revoking_apps_manage(
    admin: httpx.AsyncClient, server: Server, role: str, read: int, revoke: int
) -> None:
    s = await scenario(admin, server)
    token = await s.issue()
    _holder, api_token = await admin_with(server, admin, f"{role.lower()}@example.com", role)
    async with server.client(api_token) as caller:
        assert (await caller.get(tokens_url(s.client_id))).status_code == read
        response = await caller.delete(tokens_url(s.client_id))
    assert response.status_code == revoke
    if revoke == 403:
        assert response.json()["errorCode"] == "E0000006"
        assert (await s.refresh(token)).status_code == 200
    else:
        assert_invalid_grant(await s.refresh(token))
