"""Key credentials, trusted servers, resource server keys, app tokens and user grants with the
unmodified ``okta`` SDK (3.4.6) on ``ostiary serve`` over TLS."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from okta.client import Client as OktaClient
from okta.models import AssociatedServerMediated, OAuth2ResourceServerJsonWebKeyRequestBody

from tests.e2e.servers import OrgServer


@pytest.fixture(scope="module")
def token(org: OrgServer) -> str:
    return org.create_token()


def sdk(org: OrgServer, token: str) -> OktaClient:
    return OktaClient({"orgUrl": org.url, "token": token, "rateLimit": {"maxRetries": 0}})


@pytest.fixture
async def admin(org: OrgServer, token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=org.url, headers={"Authorization": f"SSWS {token}"}) as client:
        yield client


async def web_app(admin: httpx.AsyncClient, label: str) -> str:
    app = {
        "name": "oidc_client",
        "label": label,
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
        "settings": {
            "oauthClient": {
                "application_type": "web",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "redirect_uris": ["https://sdk.example.com/cb"],
            }
        },
    }
    response = await admin.post("/api/v1/apps", json=app)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def _b64(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def test_app_key_credentials_and_tokens_with_the_sdk(
    org: OrgServer, token: str, admin: httpx.AsyncClient
) -> None:
    source, target = await web_app(admin, "SDK keys"), await web_app(admin, "SDK keys target")
    async with sdk(org, token) as client:
        key, _, err = await client.generate_application_key(source, 3)
        assert err is None, err
        assert key.x5c and key.kid
        keys, _, err = await client.list_application_keys(source)
        assert err is None and [k.kid for k in keys] == [key.kid], err
        cloned, _, err = await client.clone_application_key(source, key.kid, target)
        assert err is None and cloned.kid == key.kid, err
        tokens, _, err = await client.list_o_auth2_tokens_for_application(source)
        assert err is None and tokens == [], err


async def test_trusted_servers_and_resource_server_keys_with_the_sdk(
    org: OrgServer, token: str, admin: httpx.AsyncClient
) -> None:
    body = {"name": "SDK trusted", "description": "d", "audiences": ["api://sdk-trusted"]}
    other = (await admin.post("/api/v1/authorizationServers", json=body)).json()["id"]
    numbers = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_numbers()
    jwk = {"kty": "RSA", "use": "enc", "kid": "sdk-enc", "e": _b64(numbers.e), "n": _b64(numbers.n)}
    async with sdk(org, token) as client:
        added, _, err = await client.create_associated_servers(
            "default", AssociatedServerMediated.from_dict({"trusted": [other]})
        )
        assert err is None and [s.id for s in added] == [other], err
        trusted, _, err = await client.list_associated_servers_by_trusted_type("default", trusted=True)
        assert err is None and [s.id for s in trusted] == [other], err
        key, _, err = await client.add_o_auth2_resource_server_json_web_key(
            "default", OAuth2ResourceServerJsonWebKeyRequestBody.from_dict(jwk)
        )
        assert err is None and key.status == "INACTIVE", err
        active, _, err = await client.activate_o_auth2_resource_server_json_web_key("default", key.id)
        assert err is None and active.status == "ACTIVE", err


async def test_user_grants_with_the_sdk(org: OrgServer, token: str, admin: httpx.AsyncClient) -> None:
    body = {
        "profile": {
            "login": "grants.sdk@example.com",
            "email": "grants.sdk@example.com",
            "firstName": "G",
            "lastName": "S",
        }
    }
    user_id = (await admin.post("/api/v1/users?activate=false", json=body)).json()["id"]
    async with sdk(org, token) as client:
        grants, _, err = await client.list_user_grants(user_id)
        assert err is None and grants == [], err
        _, _, err = await client.revoke_user_grants(user_id)
        assert err is None, err
