"""Issue 5 acceptance: a client_credentials token for a custom scope of the `default` server,
from `ostiary serve` over TLS, is accepted by the unmodified okta-jwt-verifier (0.5.0)."""

from __future__ import annotations

import pytest
import requests
from okta_jwt_verifier import AccessTokenVerifier
from okta_jwt_verifier.exceptions import JWTValidationException

from tests.e2e.servers import OrgServer
from tests.support.jwt_verifier import service_client


async def test_okta_jwt_verifier_accepts_a_default_server_client_token(org: OrgServer) -> None:
    client_id, secret = service_client(org, org.create_token("verifier"))
    issuer = f"{org.url}/oauth2/default"
    response = requests.post(
        f"{issuer}/v1/token",
        data={"grant_type": "client_credentials", "scope": "api:read"},
        auth=(client_id, secret),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    access_token = response.json()["access_token"]
    await AccessTokenVerifier(issuer=issuer, audience="api://default").verify(access_token)
    with pytest.raises(JWTValidationException):
        await AccessTokenVerifier(issuer=issuer, audience="api://other").verify(access_token)
