"""Issue 4 acceptance: the unmodified okta SDK manages a service app over TLS, and a second SDK
client in PrivateKey mode (client_credentials with private_key_jwt) uses the granted scope."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from okta.client import Client as OktaClient
from okta.errors.okta_api_error import OktaAPIError
from okta.models import Application, CreateUserRequest, OAuth2ScopeConsentGrant

from tests.e2e.servers import OrgServer


@pytest.fixture(scope="module")
def token(org: OrgServer) -> str:
    return org.create_token("private-key-e2e")


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, str]:
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def service_app_body(jwk: dict[str, str]) -> dict[str, object]:
    return {
        "name": "oidc_client",
        "label": "Automation",
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "private_key_jwt"}},
        "settings": {
            "oauthClient": {
                "application_type": "service",
                "grant_types": ["client_credentials"],
                "response_types": ["token"],
                "jwks": {"keys": [jwk]},
            }
        },
    }


def private_key_client(
    org: OrgServer, client_id: str, key: rsa.RSAPrivateKey, scopes: list[str]
) -> OktaClient:
    return OktaClient(
        {
            "orgUrl": org.url,
            "authorizationMode": "PrivateKey",
            "clientId": client_id,
            "scopes": scopes,
            "privateKey": pem(key),
            "kid": "automation-key",
            "rateLimit": {"maxRetries": 0},
        }
    )


async def test_private_key_mode_uses_exactly_the_granted_scope(
    org: OrgServer, token: str, key: rsa.RSAPrivateKey
) -> None:
    async with OktaClient({"orgUrl": org.url, "token": token}) as admin:
        # okta 3.4.6 serialises JWKs in app settings as null (its oneOf models drop them), so the
        # app is created through the SDK's own request executor, as its README shows for such cases.
        executor = admin.get_request_executor()
        request, err = await executor.create_request(
            "POST", "/api/v1/apps", body=service_app_body(public_jwk(key, "automation-key"))
        )
        assert err is None, err
        _response, body, err = await executor.execute(request)
        assert err is None, err
        app = Application.from_json(body)
        client_id = app.id
        assert app.credentials.oauth_client.token_endpoint_auth_method.value == "private_key_jwt"
        grant, _, err = await admin.grant_consent_to_scope(
            client_id, OAuth2ScopeConsentGrant.from_dict({"issuer": org.url, "scopeId": "okta.users.read"})
        )
        assert err is None, err
        assert grant.scope_id == "okta.users.read"

    async with private_key_client(org, client_id, key, ["okta.users.read"]) as automation:
        users, _, err = await automation.list_users()
        assert err is None, err
        assert isinstance(users, list)
        body = CreateUserRequest.from_dict(
            {
                "profile": {
                    "login": "pk.user@example.com",
                    "email": "pk.user@example.com",
                    "firstName": "P",
                    "lastName": "K",
                }
            }
        )
        _, _, err = await automation.create_user(body)
        assert isinstance(err, OktaAPIError)
        assert err.status == 403
        assert err.error_code == "E0000006"

    async with OktaClient({"orgUrl": org.url, "token": token}) as admin:
        grants, _, err = await admin.list_scope_consent_grants(client_id)
        assert err is None, err
        _, _, err = await admin.revoke_scope_consent_grant(client_id, grants[0].id)
        assert err is None, err

    async with private_key_client(org, client_id, key, ["okta.users.read"]) as refused:
        _, _, err = await refused.list_users()
    assert err is not None
    assert "invalid_scope" in str(err)
