"""Revoking a refresh token family also revokes the access tokens issued with its tokens, as on
Okta ("any access tokens issued with these refresh tokens are also revoked, but access tokens
issued without a refresh token aren't affected"): by ``/v1/revoke``, by reuse detection, and by
the admin API's revocation of a client's tokens."""

from __future__ import annotations

import httpx

from tests.conftest import Server
from tests.support.authorize import spa_app, spa_code_tokens
from tests.support.authorize import user as create_account
from tests.support.refresh_tokens import ROTATE_NO_GRACE, ROTATE_WITH_GRACE, Scenario, scenario


async def _active(s: Scenario, access_token: str) -> bool:
    response = await s.post("introspect", access_token)
    assert response.status_code == 200, response.text
    return bool(response.json()["active"])


async def _refresh(s: Scenario, token: str) -> tuple[str, str]:
    """(access token, next refresh token)."""
    response = await s.refresh(token)
    assert response.status_code == 200, response.text
    return response.json()["access_token"], response.json()["refresh_token"]


async def test_revoking_a_refresh_token_revokes_the_access_tokens_of_its_family_only(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server, rotation=ROTATE_WITH_GRACE)
    first_access, second = await _refresh(s, await s.issue())
    second_access, _third = await _refresh(s, second)
    other_access, _other = await _refresh(s, await s.issue())  # another family of the same user
    assert [await _active(s, t) for t in (first_access, second_access, other_access)] == [True, True, True]

    assert (await s.post("revoke", second)).status_code == 200

    assert [await _active(s, t) for t in (first_access, second_access, other_access)] == [False, False, True]


async def test_reuse_detection_revokes_the_familys_access_tokens(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server, rotation=ROTATE_NO_GRACE)
    first = await s.issue()
    access, _second = await _refresh(s, first)
    assert await _active(s, access)
    assert (await s.refresh(first)).status_code == 400  # a rotated token came back
    assert not await _active(s, access)


async def test_revoking_a_clients_refresh_tokens_through_the_admin_api_revokes_their_access_tokens(
    admin: httpx.AsyncClient, server: Server
) -> None:
    s = await scenario(admin, server, rotation=ROTATE_WITH_GRACE)
    access, _next = await _refresh(s, await s.issue())
    response = await admin.delete(f"/api/v1/authorizationServers/default/clients/{s.client_id}/tokens")
    assert response.status_code == 204, response.text
    assert not await _active(s, access)


async def test_the_access_token_of_the_code_exchange_belongs_to_the_family(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id = await spa_app(admin)
    await create_account(admin, "carl.sagan@example.com")
    async with server.client() as anon:
        tokens = (
            await spa_code_tokens(anon, client_id, "carl.sagan@example.com", "openid offline_access")
        ).json()

        async def introspect(token: str) -> bool:
            response = await anon.post(
                "/oauth2/default/v1/introspect", data={"token": token, "client_id": client_id}
            )
            assert response.status_code == 200, response.text
            return bool(response.json()["active"])

        assert await introspect(tokens["access_token"])
        revoked = await anon.post(
            "/oauth2/default/v1/revoke", data={"token": tokens["refresh_token"], "client_id": client_id}
        )
        assert revoked.status_code == 200, revoked.text
        assert not await introspect(tokens["access_token"])
