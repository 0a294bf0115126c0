"""A service app and its client for the okta-jwt-verifier end-to-end tests."""

from __future__ import annotations

import requests

from tests.e2e.servers import OrgServer


def service_client(org: OrgServer, token: str) -> tuple[str, str]:
    admin = {"Authorization": f"SSWS {token}"}
    scope = requests.post(
        f"{org.url}/api/v1/authorizationServers/default/scopes",
        json={"name": "api:read"},
        headers=admin,
        timeout=10,
    )
    assert scope.status_code == 201, scope.text
    app = requests.post(
        f"{org.url}/api/v1/apps",
        headers=admin,
        timeout=10,
        json={
            "name": "oidc_client",
            "label": "verifier e2e",
            "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
            "settings": {
                "oauthClient": {
                    "application_type": "service",
                    "grant_types": ["client_credentials"],
                    "response_types": ["token"],
                }
            },
        },
    ).json()
    return app["credentials"]["oauthClient"]["client_id"], app["credentials"]["oauthClient"]["client_secret"]
