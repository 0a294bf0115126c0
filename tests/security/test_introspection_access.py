"""Who may introspect what (RFC 7662 §2.1, §4): a public client only the tokens issued to it; a
confidential client those and the access tokens whose audience is its own client id (a resource
server's app set as the authorization server's audience); a refresh token only its own client.
Anything else answers ``{"active": false}``, exactly as an unknown token. And a token of a
suspended or deactivated user, or of a deactivated client, is inactive."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from ostiary.store.models import User
from ostiary.timeutil import utcnow
from tests.conftest import Server
from tests.support.authorization_servers import AS
from tests.support.authorize import spa_app, spa_code_tokens
from tests.support.authorize import user as create_account
from tests.support.oauth import basic, service_client
from tests.support.refresh_tokens import Scenario, scenario, web_client

INACTIVE = {"active": False}
ORG_SERVER = "$org"
SERVERS = [ORG_SERVER, "default"]


def introspect_path(server_id: str) -> str:
    return "/oauth2/v1/introspect" if server_id == ORG_SERVER else f"/oauth2/{server_id}/v1/introspect"


async def introspect_as_public(s: Scenario, client_id: str, token: str, server_id: str) -> dict[str, object]:
    async with s.server.client() as anon:
        response = await anon.post(introspect_path(server_id), data={"token": token, "client_id": client_id})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def introspect_as(
    s: Scenario, client: tuple[str, str], token: str, server_id: str
) -> dict[str, object]:
    async with s.server.client() as anon:
        response = await anon.post(introspect_path(server_id), data={"token": token}, headers=basic(*client))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def tokens_of(s: Scenario, server_id: str) -> tuple[str, str]:
    """(access token, refresh token) issued to the scenario's web client by ``server_id``."""
    response = await s.refresh(await s.issue(server_id=server_id), server_id=server_id)
    assert response.status_code == 200, response.text
    return response.json()["access_token"], response.json()["refresh_token"]


@pytest.mark.parametrize("server_id", SERVERS)
async def test_a_public_client_cannot_introspect_another_clients_tokens(
    admin: httpx.AsyncClient, server: Server, server_id: str
) -> None:
    s = await scenario(admin, server)
    access, refresh = await tokens_of(s, server_id)
    spa = await spa_app(admin)
    assert await introspect_as_public(s, spa, access, server_id) == INACTIVE
    assert await introspect_as_public(s, spa, refresh, server_id) == INACTIVE
    assert (await introspect_as(s, (s.client_id, s.secret), access, server_id))["active"] is True


@pytest.mark.parametrize("server_id", SERVERS)
async def test_a_confidential_client_cannot_introspect_another_clients_tokens(
    any_admin: httpx.AsyncClient, any_server: Server, server_id: str
) -> None:
    s = await scenario(any_admin, any_server)
    access, refresh = await tokens_of(s, server_id)
    other = await web_client(any_admin, label="Other")
    assert await introspect_as(s, other, access, server_id) == INACTIVE
    assert await introspect_as(s, other, refresh, server_id) == INACTIVE
    assert (await introspect_as(s, (s.client_id, s.secret), refresh, server_id))["active"] is True


async def test_a_public_client_introspects_its_own_tokens(admin: httpx.AsyncClient, server: Server) -> None:
    spa = await spa_app(admin)
    await create_account(admin, "carl.sagan@example.com")
    async with server.client() as anon:
        tokens = (await spa_code_tokens(anon, spa, "carl.sagan@example.com", "openid offline_access")).json()
        for kind in ("access_token", "refresh_token"):
            response = await anon.post(
                "/oauth2/default/v1/introspect", data={"token": tokens[kind], "client_id": spa}
            )
            assert (response.json()["active"], response.json()["client_id"]) == (True, spa)


async def test_the_resource_servers_client_introspects_access_tokens_for_its_audience_only(
    admin: httpx.AsyncClient, server: Server
) -> None:
    s = await scenario(admin, server)
    resource = await web_client(admin, label="Solar system API")
    body = {"name": "default", "audiences": [resource[0]]}
    assert (await admin.put(f"{AS}/default", json=body)).status_code == 200
    access, refresh = await tokens_of(s, "default")
    found = await introspect_as(s, resource, access, "default")
    assert (found["active"], found["aud"], found["client_id"]) == (True, resource[0], s.client_id)
    assert await introspect_as(s, resource, refresh, "default") == INACTIVE


async def test_a_public_client_named_as_the_audience_still_sees_only_its_own_tokens(
    admin: httpx.AsyncClient, server: Server
) -> None:
    s = await scenario(admin, server)
    spa = await spa_app(admin)
    body = {"name": "default", "audiences": [spa]}
    assert (await admin.put(f"{AS}/default", json=body)).status_code == 200
    access, _refresh = await tokens_of(s, "default")
    assert await introspect_as_public(s, spa, access, "default") == INACTIVE


# --- F5: the token's user and client must still be active -------------------------------------


@pytest.mark.parametrize("action", ["suspend", "deactivate"])
async def test_tokens_of_a_suspended_or_deactivated_user_are_inactive(
    any_admin: httpx.AsyncClient, any_server: Server, action: str
) -> None:
    s = await scenario(any_admin, any_server)
    access, refresh = await tokens_of(s, "default")
    owner = (s.client_id, s.secret)
    assert (await introspect_as(s, owner, access, "default"))["active"] is True
    response = await any_admin.post(f"/api/v1/users/{s.user_id}/lifecycle/{action}")
    assert response.status_code == 200, response.text
    assert await introspect_as(s, owner, access, "default") == INACTIVE
    assert await introspect_as(s, owner, refresh, "default") == INACTIVE


async def test_an_unsuspended_users_earlier_access_token_stays_inactive(
    admin: httpx.AsyncClient, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As refresh tokens: unsuspending does not bring back the tokens minted before."""
    s = await scenario(admin, server)
    async with server.rt.db.session() as session:  # the user was activated long before
        await session.execute(
            update(User).where(User.id == s.user_id).values(status_changed=utcnow() - timedelta(hours=1))
        )
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - 5)  # the token was minted a while ago
    access, _refresh = await tokens_of(s, "default")
    monkeypatch.undo()
    owner = (s.client_id, s.secret)
    assert (await introspect_as(s, owner, access, "default"))["active"] is True
    for action in ("suspend", "unsuspend"):
        response = await admin.post(f"/api/v1/users/{s.user_id}/lifecycle/{action}")
        assert response.status_code == 200, response.text
    assert await introspect_as(s, owner, access, "default") == INACTIVE


async def test_tokens_of_a_deactivated_client_are_inactive(admin: httpx.AsyncClient, server: Server) -> None:
    """The resource server's client asks, since the deactivated client can no longer authenticate."""
    s = await scenario(admin, server)
    resource = await web_client(admin, label="Solar system API")
    body = {"name": "default", "audiences": [resource[0]]}
    assert (await admin.put(f"{AS}/default", json=body)).status_code == 200
    access, _refresh = await tokens_of(s, "default")
    assert (await introspect_as(s, resource, access, "default"))["active"] is True
    assert (await admin.post(f"/api/v1/apps/{s.client_id}/lifecycle/deactivate")).status_code == 200
    assert await introspect_as(s, resource, access, "default") == INACTIVE


async def test_a_client_credentials_token_of_a_deactivated_client_is_inactive(
    admin: httpx.AsyncClient, server: Server
) -> None:
    assert (await admin.post(f"{AS}/default/scopes", json={"name": "api:read"})).status_code == 201
    resource = await web_client(admin, label="Solar system API")
    body = {"name": "default", "audiences": [resource[0]]}
    assert (await admin.put(f"{AS}/default", json=body)).status_code == 200
    service, secret = await service_client(admin)
    async with server.client() as anon:
        response = await anon.post(
            "/oauth2/default/v1/token",
            data={"grant_type": "client_credentials", "scope": "api:read"},
            headers=basic(service, secret),
        )
        assert response.status_code == 200, response.text
        access = response.json()["access_token"]

        async def introspect() -> object:
            found = await anon.post(
                "/oauth2/default/v1/introspect", data={"token": access}, headers=basic(*resource)
            )
            return found.json()

        assert (await introspect())["active"] is True  # type: ignore[index]
        assert (await admin.post(f"/api/v1/apps/{service}/lifecycle/deactivate")).status_code == 200
        assert await introspect() == INACTIVE
