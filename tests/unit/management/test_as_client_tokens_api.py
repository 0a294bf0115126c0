"""/api/v1/authorizationServers/{id}/clients and .../clients/{clientId}/tokens: the clients that
hold refresh tokens of a server and their tokens (one per grant, stable while it rotates),
listed, read and revoked as Okta's; and ``DELETE /api/v1/users/{id}/sessions?oauthTokens=true``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from okta.models import OAuth2Client, OAuth2RefreshToken

from ostiary.timeutil import parse_iso, utcnow
from tests.conftest import Server
from tests.support.apps import _scoped_bearer
from tests.support.authorization_servers import AS
from tests.support.oauth import ORG
from tests.support.policies import new_server
from tests.support.refresh_tokens import ROTATE_NO_GRACE, Scenario, assert_invalid_grant, scenario, web_client


def tokens_url(client_id: str, server_id: str = "default") -> str:
    return f"{AS}/{server_id}/clients/{client_id}/tokens"


async def events(admin: httpx.AsyncClient, event_type: str) -> list[dict[str, Any]]:
    response = await admin.get("/api/v1/logs", params={"filter": f'eventType eq "{event_type}"'})
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_no_client_holds_tokens_of_a_new_server(admin: httpx.AsyncClient) -> None:
    response = await admin.get(f"{AS}/default/clients")
    assert (response.status_code, response.json()) == (200, [])


async def test_the_clients_holding_tokens_are_listed_in_okta_shape(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server, label="My Web App")
    idle_id, _secret = await web_client(any_admin, label="Idle")
    await s.issue()
    await s.issue()
    await s.issue(server_id="$org")
    server_id = await new_server(any_admin, "api:read")
    await s.issue(server_id=server_id, scopes=("offline_access", "api:read"))
    response = await any_admin.get(f"{AS}/default/clients")
    assert response.status_code == 200, response.text
    assert response.json() == [
        {
            "client_id": s.client_id,
            "client_name": "My Web App",
            "client_uri": None,
            "logo_uri": None,
            "_links": {
                "client": {"href": f"{ORG}/oauth2/v1/clients/{s.client_id}", "title": "My Web App"},
                "tokens": {"href": f"{ORG}{tokens_url(s.client_id)}", "hints": {"allow": ["GET", "DELETE"]}},
            },
        }
    ]
    OAuth2Client.from_dict(response.json()[0])
    assert idle_id not in {c["client_id"] for c in response.json()}


async def test_a_token_is_listed_once_per_grant_with_a_stable_id(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server, rotation=ROTATE_NO_GRACE, label="My Web App")
    first = await s.issue(lifetime=600)
    rotated = (await s.refresh(first)).json()["refresh_token"]
    family_id = (await s.row(first)).family_id
    response = await any_admin.get(tokens_url(s.client_id))
    assert response.status_code == 200, response.text
    (token,) = response.json()
    assert token["id"] == family_id and family_id.startswith("oar")
    assert (token["status"], token["clientId"], token["userId"]) == ("ACTIVE", s.client_id, s.user_id)
    assert token["scopes"] == ["openid", "profile", "offline_access"]
    assert token["issuer"] == f"{ORG}/oauth2/default"
    assert parse_iso(token["created"]) <= parse_iso(token["lastUpdated"]) <= utcnow()
    assert parse_iso(token["expiresAt"]) > utcnow() + timedelta(minutes=590)
    href = f"{ORG}{tokens_url(s.client_id)}/{family_id}"
    assert token["_links"] == {
        "app": {"href": f"{ORG}/api/v1/apps/{s.client_id}", "title": "My Web App"},
        "authorizationServer": {"href": f"{ORG}{AS}/default", "title": "default"},
        "self": {"href": href},
        "revoke": {"href": href, "hints": {"allow": ["DELETE"]}},
        "client": {"href": f"{ORG}/oauth2/v1/clients/{s.client_id}", "title": "My Web App"},
        "user": {"href": f"{ORG}/api/v1/users/{s.user_id}", "title": "Ann Lee"},
    }
    assert "_embedded" not in token
    parsed = OAuth2RefreshToken.from_dict(token)
    assert parsed is not None and parsed.client_id == s.client_id
    assert (await s.refresh(rotated)).status_code == 200


async def test_expand_scope_embeds_the_scope_objects(admin: httpx.AsyncClient, server: Server) -> None:
    s = await scenario(admin, server)
    token_id = (await s.row(await s.issue(scopes=("openid", "offline_access")))).family_id
    response = await admin.get(f"{tokens_url(s.client_id)}/{token_id}", params={"expand": "scope"})
    assert response.status_code == 200, response.text
    embedded = response.json()["_embedded"]["scopes"]
    assert [scope["name"] for scope in embedded] == ["openid", "offline_access"]
    offline = embedded[1]
    assert offline["displayName"] == "Keep you signed in to the app"
    assert offline["id"].startswith("scp")
    assert offline["_links"]["scope"] == {
        "href": f"{ORG}{AS}/default/scopes/{offline['id']}",
        "title": "Keep you signed in to the app",
    }
    OAuth2RefreshToken.from_dict(response.json())


async def test_tokens_are_paged_with_a_link_to_the_next_page(
    admin: httpx.AsyncClient, server: Server
) -> None:
    s = await scenario(admin, server)
    issued = [(await s.row(await s.issue())).family_id for _ in range(3)]
    first = await admin.get(tokens_url(s.client_id), params={"limit": "2"})
    assert [t["id"] for t in first.json()] == issued[:2]
    assert 'rel="next"' in first.headers["link"]
    second = await admin.get(first.links["next"]["url"])
    assert [t["id"] for t in second.json()] == issued[2:]
    assert 'rel="next"' not in second.headers["link"]


async def test_expired_and_revoked_tokens_are_not_shown(admin: httpx.AsyncClient, server: Server) -> None:
    s = await scenario(admin, server)
    expired = await s.issue()
    await s.set_times(expired, idle_expires_at=utcnow() - timedelta(seconds=1))
    revoked = await s.issue()
    assert (await s.post("revoke", revoked)).status_code == 200
    assert (await admin.get(tokens_url(s.client_id))).json() == []
    assert (await admin.get(f"{AS}/default/clients")).json() == []
    for token in (expired, revoked):
        family_id = (await s.row(token)).family_id
        assert (await admin.get(f"{tokens_url(s.client_id)}/{family_id}")).status_code == 404


async def test_revoking_one_token_revokes_its_family_only(
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
    assert (await any_admin.get(f"{tokens_url(s.client_id)}/{family_id}")).status_code == 404
    assert [t["id"] for t in (await any_admin.get(tokens_url(s.client_id))).json()] == [
        (await s.row(kept)).family_id
    ]
    (event,) = await events(any_admin, "app.oauth2.as.token.revoke")
    assert event["target"][0]["id"] == family_id


async def test_revoking_all_tokens_of_a_client_leaves_other_servers_alone(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server)
    tokens = [await s.issue(), await s.issue()]
    elsewhere = await s.issue(server_id="$org")
    response = await any_admin.delete(tokens_url(s.client_id))
    assert (response.status_code, response.content) == (204, b"")
    for token in tokens:
        assert_invalid_grant(await s.refresh(token))
    assert (await s.refresh(elsewhere, server_id="$org")).status_code == 200
    assert (await any_admin.get(f"{AS}/default/clients")).json() == []


async def test_revoking_the_users_sessions_with_oauth_tokens_revokes_refresh_tokens(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server)
    token = await s.issue()
    sessions = f"/api/v1/users/{s.user_id}/sessions"
    assert (await any_admin.delete(sessions)).status_code == 204
    assert (await s.refresh(token)).status_code == 200
    assert (await any_admin.delete(sessions, params={"oauthTokens": "true"})).status_code == 204
    assert_invalid_grant(await s.refresh(token))


async def test_oauth_tokens_of_an_unknown_user_is_404(admin: httpx.AsyncClient) -> None:
    response = await admin.delete(
        "/api/v1/users/00u00000000000000000/sessions", params={"oauthTokens": "true"}
    )
    assert (response.status_code, response.json()["errorCode"]) == (404, "E0000007")


@pytest.mark.parametrize(
    ("path", "summary"),
    [
        ("{AS}/nope/clients", "Not found: Resource not found: nope (AuthorizationServer)"),
        (
            "{AS}/default/clients/0oa00000000000000000/tokens",
            "Not found: Resource not found: 0oa00000000000000000 (AppInstance)",
        ),
        ("{AS}/nope/clients/{client}/tokens", "Not found: Resource not found: nope (AuthorizationServer)"),
        (
            "{AS}/default/clients/{client}/tokens/oar00000000000000000",
            "Not found: Resource not found: oar00000000000000000 (RefreshToken)",
        ),
    ],
)
async def test_unknown_servers_clients_and_tokens_are_okta_404s(
    admin: httpx.AsyncClient, server: Server, path: str, summary: str
) -> None:
    s = await scenario(admin, server)
    url = path.format(AS=AS, client=s.client_id)
    for method in ("GET", "DELETE") if "/tokens" in url else ("GET",):
        response = await admin.request(method, url)
        assert response.status_code == 404, (method, response.text)
        assert (response.json()["errorCode"], response.json()["errorSummary"]) == ("E0000007", summary)


async def test_the_org_server_is_not_managed_here(admin: httpx.AsyncClient) -> None:
    response = await admin.get(f"{AS}/$org/clients")
    assert response.status_code == 404


async def test_reading_needs_the_read_scope_and_revoking_the_manage_scope(server: Server) -> None:
    token = await server.create_token()
    async with server.client(token) as admin:
        s = await scenario(admin, server)
    token_id = (await s.row(await s.issue())).family_id
    server.rt.bearer = _scoped_bearer("okta.authorizationServers.read")
    async with server.client(Authorization="Bearer scoped-token") as reader:
        assert (await reader.get(f"{AS}/default/clients")).status_code == 200
        assert (await reader.get(f"{tokens_url(s.client_id)}/{token_id}")).status_code == 200
        for url in (tokens_url(s.client_id), f"{tokens_url(s.client_id)}/{token_id}"):
            refused = await reader.delete(url)
            assert (refused.status_code, refused.json()["errorCode"]) == (403, "E0000006")
    async with server.client() as anonymous:
        response = await anonymous.get(tokens_url(s.client_id))
    assert (response.status_code, response.json()["errorCode"]) == (403, "E0000005")
    assert (await s.refresh(await s.issue())).status_code == 200


async def test_a_bad_limit_is_e0000001(admin: httpx.AsyncClient, server: Server) -> None:
    s: Scenario = await scenario(admin, server)
    response = await admin.get(tokens_url(s.client_id), params={"limit": "many"})
    assert (response.status_code, response.json()["errorCode"]) == (400, "E0000001")
