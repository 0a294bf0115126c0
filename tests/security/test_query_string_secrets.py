"""Secrets in the URL of the token, introspect and revoke endpoints are refused with OAuth's
``invalid_request`` (RFC 6749 §2.3.1: client credentials "MUST NOT be included in the request
URI"; a URL reaches access logs, proxies and browser history). What Okta's clients send there is
still read: ``grant_type``/``code``/``redirect_uri`` at /token (the API Center demo; and
``code_verifier``, useless without its one-time code: ``tests/e2e/test_scripted_signin.py``),
``token`` at /introspect (Okta's public demo) and ``client_id`` (Okta's docs, for public clients).
"""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Server
from tests.support.authorize import spa_app
from tests.support.oauth import ORG, assertion, basic, client_token, key_client, service_client

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def assert_refused(response: httpx.Response, name: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "error": "invalid_request",
        "error_description": f"The '{name}' parameter must be sent in the request body, not in the URL.",
    }


async def test_a_client_secret_in_the_query_string_is_refused_and_mints_nothing(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, secret = await service_client(admin, "okta.users.read", method="client_secret_post")
    query = {"grant_type": "client_credentials", "scope": "okta.users.read", "client_id": client_id}
    async with server.client() as anon:
        in_url = await anon.post("/oauth2/v1/token", params={**query, "client_secret": secret})
        assert_refused(in_url, "client_secret")
        encoded_name = await anon.post(f"/oauth2/v1/token?client%5Fsecret={secret}", data=query)
        assert_refused(encoded_name, "client_secret")
        in_body = await anon.post("/oauth2/v1/token", data={**query, "client_secret": secret})
    assert in_body.status_code == 200, in_body.text


@pytest.mark.parametrize("name", ["refresh_token", "password", "client_assertion"])
async def test_other_secrets_in_the_token_endpoints_query_string_are_refused(
    admin: httpx.AsyncClient, server: Server, name: str
) -> None:
    client_id, secret = await service_client(admin, "okta.users.read")
    async with server.client() as anon:
        response = await anon.post(
            "/oauth2/default/v1/token",
            params={name: "s3cr3t-value"},
            data={"grant_type": "refresh_token"},
            headers=basic(client_id, secret),
        )
    assert_refused(response, name)


async def test_a_client_assertion_in_the_query_string_is_refused_and_not_used_up(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, key, kid = await key_client(admin, "okta.users.read")
    form = {
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion(client_id, key, kid, aud=f"{ORG}/oauth2/v1/token"),
    }
    body = {"grant_type": "client_credentials", "scope": "okta.users.read"}
    async with server.client() as anon:
        for endpoint in ("token", "introspect", "revoke"):
            response = await anon.post(f"/oauth2/v1/{endpoint}", params=form, data={**body, "token": "t"})
            assert_refused(response, "client_assertion")
        in_body = await anon.post("/oauth2/v1/token", data={**form, **body})
    assert in_body.status_code == 200, in_body.text


@pytest.mark.parametrize("endpoint", ["introspect", "revoke"])
async def test_a_client_secret_in_the_query_string_of_introspect_and_revoke_is_refused(
    admin: httpx.AsyncClient, server: Server, endpoint: str
) -> None:
    client_id, secret = await service_client(admin, "okta.users.read", method="client_secret_post")
    async with server.client() as anon:
        response = await anon.post(
            f"/oauth2/v1/{endpoint}",
            params={"client_id": client_id, "client_secret": secret},
            data={"token": "t"},
        )
    assert_refused(response, "client_secret")


async def test_a_token_in_the_query_string_of_revoke_is_refused_and_not_revoked(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, secret = await service_client(admin, "okta.users.read")
    async with server.client() as anon:
        token = (await client_token(anon, client_id, secret, "okta.users.read")).json()["access_token"]
        response = await anon.post(
            "/oauth2/v1/revoke", params={"token": token}, headers=basic(client_id, secret)
        )
        assert_refused(response, "token")
        users = await anon.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
    assert users.status_code == 200, users.text


async def test_okta_clients_query_string_introspection_still_works(
    admin: httpx.AsyncClient, server: Server
) -> None:
    """Okta's public demo: ``POST {issuer}/v1/introspect?token=<at>`` with Basic; Okta's docs: a
    public client sends its ``client_id`` in the query string."""
    client_id, secret = await service_client(admin, "okta.users.read")
    spa = await spa_app(admin)
    async with server.client() as anon:
        token = (await client_token(anon, client_id, secret, "okta.users.read")).json()["access_token"]
        found = await anon.post(
            "/oauth2/v1/introspect", params={"token": token}, headers=basic(client_id, secret)
        )
        public = await anon.post("/oauth2/v1/introspect", params={"client_id": spa, "token": token})
    assert found.status_code == 200 and found.json()["active"] is True, found.text
    assert public.status_code == 200 and public.json() == {"active": False}, public.text
