"""Issue 6 acceptance: the scripted sign-in with plain ``requests`` against ``ostiary serve`` over TLS —
primary authentication → sessionToken → /authorize (no browser, no redirect followed) → code →
/token — and okta-jwt-verifier accepting the tokens of the default server."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from okta_jwt_verifier import AccessTokenVerifier, IDTokenVerifier

from tests.e2e.servers import OrgServer

LOGIN = "carl.sagan@mailinator.com"
PASSWORD = "Tr1cky-Secret!"
REDIRECT = "http://localhost:8080/authorization-code/callback"


@pytest.fixture(scope="module")
def admin(org: OrgServer) -> Iterator[requests.Session]:
    session = requests.Session()
    session.headers.update(
        {"Authorization": f"SSWS {org.create_token('scripted-signin')}", "Accept": "application/json"}
    )
    user = {
        "profile": {"login": LOGIN, "email": LOGIN, "firstName": "Carl", "lastName": "Sagan"},
        "credentials": {"password": {"value": PASSWORD}},
    }
    assert session.post(f"{org.url}/api/v1/users?activate=true", json=user).status_code == 200
    with session:  # closed before the server stops: it waits for open TLS connections
        yield session


def create_app(org: OrgServer, admin: requests.Session, *, public: bool) -> dict[str, Any]:
    body = {
        "name": "oidc_client",
        "label": "Scripted" if not public else "Scripted SPA",
        "signOnMode": "OPENID_CONNECT",
        "credentials": {
            "oauthClient": {
                "token_endpoint_auth_method": "none" if public else "client_secret_basic",
                "pkce_required": public,
            }
        },
        "settings": {
            "oauthClient": {
                "application_type": "browser" if public else "web",
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "redirect_uris": [REDIRECT],
            }
        },
    }
    response = admin.post(f"{org.url}/api/v1/apps", json=body)
    assert response.status_code == 200, response.text
    app = response.json()
    everyone = admin.get(f"{org.url}/api/v1/groups", params={"q": "Everyone"}).json()[0]["id"]
    assert admin.put(f"{org.url}/api/v1/apps/{app['id']}/groups/{everyone}", json={}).status_code == 200
    return dict(app["credentials"]["oauthClient"])


def session_token(org: OrgServer) -> str:
    response = requests.post(
        f"{org.url}/api/v1/authn", json={"username": LOGIN, "password": PASSWORD}, timeout=10
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "SUCCESS"
    return str(response.json()["sessionToken"])


def authorize(org: OrgServer, client_id: str, nonce: str, **extra: str) -> str:
    """The code, from the Location of /authorize's 302 (the redirect is not followed)."""
    params = {
        "client_id": client_id,
        "response_type": "code",
        "scope": "openid profile email",
        "redirect_uri": REDIRECT,
        "state": secrets.token_urlsafe(12),
        "nonce": nonce,
        "sessionToken": session_token(org),
        **extra,
    }
    response = requests.get(
        f"{org.url}/oauth2/default/v1/authorize", params=params, allow_redirects=False, timeout=10
    )
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    values = dict(parse_qsl(location.query))
    assert values["state"] == params["state"], values
    return values["code"]


def test_authn_session_token_authorize_code_token(org: OrgServer, admin: requests.Session) -> None:
    app = create_app(org, admin, public=False)
    client_id, secret = app["client_id"], app["client_secret"]
    nonce = secrets.token_urlsafe(12)
    code = authorize(org, client_id, nonce)
    response = requests.post(
        f"{org.url}/oauth2/default/v1/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=(client_id, secret),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    tokens = response.json()
    issuer = f"{org.url}/oauth2/default"

    # verify() raises on any failure: signature by a published key, alg, iss, aud, exp, nonce.
    asyncio.run(AccessTokenVerifier(issuer=issuer, audience="api://default").verify(tokens["access_token"]))
    asyncio.run(IDTokenVerifier(issuer=issuer, client_id=client_id).verify(tokens["id_token"], nonce=nonce))

    userinfo = requests.get(
        f"{issuer}/v1/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10
    )
    assert userinfo.status_code == 200 and userinfo.json()["email"] == LOGIN

    replay = requests.post(
        f"{org.url}/oauth2/default/v1/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=(client_id, secret),
        timeout=10,
    )
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_a_public_client_with_pkce_and_the_demo_apps_query_string_request(
    org: OrgServer, admin: requests.Session
) -> None:
    app = create_app(org, admin, public=True)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    code = authorize(org, app["client_id"], "n", code_challenge=challenge, code_challenge_method="S256")
    response = requests.post(
        f"{org.url}/oauth2/default/v1/token",
        params={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": app["client_id"],
            "code_verifier": verifier,
        },
        headers={"content-type": "application/x-www-form-urlencoded", "cache-control": "no-cache"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    issuer = f"{org.url}/oauth2/default"
    asyncio.run(AccessTokenVerifier(issuer=issuer).verify(response.json()["access_token"]))
