"""Public clients naming themselves in ``Authorization: Basic`` (issue 14): okta-auth-js's
``signOut()``, ``token.revoke`` and ``token.introspect`` send ``Basic base64(client_id)`` (no
colon, no secret); others send ``base64(client_id:)``. Okta takes both as
``token_endpoint_auth_method: none``. A confidential client that sends them is still refused."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.conftest import Server
from tests.support.authorize import (
    SPA_REDIRECT,
    code_for,
    pkce_pair,
    spa_app,
    spa_code_tokens,
    user,
    web_app,
)

CARL = "carl.sagan@example.com"
REVOKE, INTROSPECT = "/oauth2/default/v1/revoke", "/oauth2/default/v1/introspect"


def basic_raw(value: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(value.encode()).decode()}


async def spa_access_token(admin: httpx.AsyncClient, server: Server) -> tuple[str, str]:
    client_id = await spa_app(admin)
    await user(admin, CARL)
    async with server.client() as browser:
        tokens = await spa_code_tokens(browser, client_id, CARL, "openid profile")
    assert tokens.status_code == 200, tokens.text
    return client_id, str(tokens.json()["access_token"])


async def active(server: Server, client_id: str, token: str) -> bool:
    async with server.client() as anon:
        response = await anon.post(INTROSPECT, data={"token": token, "client_id": client_id})
    assert response.status_code == 200, response.text
    return bool(response.json()["active"])


@pytest.mark.parametrize("credentials", ["{id}", "{id}:"])
async def test_a_public_client_revokes_its_token_with_basic_and_no_secret(
    admin: httpx.AsyncClient, server: Server, credentials: str
) -> None:
    client_id, token = await spa_access_token(admin, server)
    async with server.client() as spa:
        response = await spa.post(
            REVOKE,
            data={"token": token, "token_type_hint": "access_token"},
            headers=basic_raw(credentials.format(id=client_id)),
        )
    assert response.status_code == 200, response.text
    assert not await active(server, client_id, token)


@pytest.mark.parametrize("credentials", ["{id}", "{id}:"])
async def test_a_public_client_introspects_with_basic_and_no_secret(
    admin: httpx.AsyncClient, server: Server, credentials: str
) -> None:
    client_id, token = await spa_access_token(admin, server)
    async with server.client() as spa:
        response = await spa.post(
            INTROSPECT, data={"token": token}, headers=basic_raw(credentials.format(id=client_id))
        )
    assert response.status_code == 200, response.text
    assert response.json()["active"] is True and response.json()["client_id"] == client_id


@pytest.mark.parametrize("credentials", ["{id}", "{id}:"])
async def test_a_confidential_client_without_its_secret_is_invalid_client(
    admin: httpx.AsyncClient, server: Server, credentials: str
) -> None:
    client_id, _ = await web_app(admin)
    async with server.client() as anon:
        for path in (REVOKE, INTROSPECT, "/oauth2/default/v1/token"):
            response = await anon.post(
                path,
                data={"token": "x", "grant_type": "client_credentials"},
                headers=basic_raw(credentials.format(id=client_id)),
            )
            assert response.status_code == 401, (path, response.text)
            assert response.json()["error"] == "invalid_client"
            assert response.headers["www-authenticate"].startswith("Basic realm=")


async def test_an_unknown_client_without_a_secret_is_invalid_client(server: Server) -> None:
    async with server.client() as anon:
        response = await anon.post(REVOKE, data={"token": "x"}, headers=basic_raw("0oaNoSuchClient12345"))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


async def test_basic_without_a_secret_plus_a_form_secret_is_two_methods(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, token = await spa_access_token(admin, server)
    async with server.client() as anon:
        response = await anon.post(
            REVOKE, data={"token": token, "client_secret": "guess"}, headers=basic_raw(client_id)
        )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert await active(server, client_id, token)


async def test_basic_without_a_secret_must_name_the_form_client_id(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, token = await spa_access_token(admin, server)
    other = await spa_app(admin)
    async with server.client() as anon:
        response = await anon.post(
            REVOKE, data={"token": token, "client_id": other}, headers=basic_raw(client_id)
        )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert await active(server, client_id, token)


async def test_another_public_client_cannot_revoke_the_token(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, token = await spa_access_token(admin, server)
    other = await spa_app(admin)
    async with server.client() as anon:
        response = await anon.post(REVOKE, data={"token": token}, headers=basic_raw(other))
    assert response.status_code == 400 and response.json()["error"] == "unauthorized_client"
    assert await active(server, client_id, token)


@pytest.mark.parametrize("value", [":", ":secret", ""])
async def test_basic_without_a_client_id_is_malformed(server: Server, value: str) -> None:
    async with server.client() as anon:
        response = await anon.post(REVOKE, data={"token": "x"}, headers=basic_raw(value))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


async def test_a_public_client_redeems_a_code_with_basic_and_no_secret(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id = await spa_app(admin)
    await user(admin, CARL)
    verifier, challenge = pkce_pair()
    async with server.client() as spa:
        code = await code_for(
            spa,
            client_id,
            CARL,
            redirect_uri=SPA_REDIRECT,
            code_challenge=challenge,
            code_challenge_method="S256",
        )
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": SPA_REDIRECT,
            "code_verifier": verifier,
        }
        response = await spa.post("/oauth2/default/v1/token", data=form, headers=basic_raw(client_id))
    assert response.status_code == 200, response.text
    assert response.json()["access_token"]
