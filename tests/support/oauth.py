"""Shared steps for OAuth tests: a service client with granted okta.* scopes, token requests."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.apps import create_app, key_app, rsa_jwk, rsa_private, service_app

ORG = "http://localhost:8080"
TOKEN_URL = f"{ORG}/oauth2/v1/token"


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


async def service_client(
    admin: httpx.AsyncClient, *scopes: str, method: str = "client_secret_basic"
) -> tuple[str, str]:
    app = await create_app(admin, service_app(method=method))
    client_id = app["credentials"]["oauthClient"]["client_id"]
    secret = app["credentials"]["oauthClient"]["client_secret"]
    for scope in scopes:
        response = await admin.post(
            f"/api/v1/apps/{client_id}/grants", json={"issuer": ORG, "scopeId": scope}
        )
        assert response.status_code == 201, response.text
    return client_id, secret


async def key_client(admin: httpx.AsyncClient, *scopes: str) -> tuple[str, rsa.RSAPrivateKey, str]:
    jwk = rsa_jwk("assertion-key", kid="k-assert")
    app = await create_app(admin, key_app(jwk))
    client_id = app["credentials"]["oauthClient"]["client_id"]
    for scope in scopes:
        response = await admin.post(
            f"/api/v1/apps/{client_id}/grants", json={"issuer": ORG, "scopeId": scope}
        )
        assert response.status_code == 201, response.text
    return client_id, rsa_private("assertion-key"), "k-assert"


def assertion(client_id: str, key: Any, kid: str, *, aud: str = TOKEN_URL, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


async def client_token(client: httpx.AsyncClient, client_id: str, secret: str, scope: str) -> httpx.Response:
    return await client.post(
        "/oauth2/v1/token",
        data={"grant_type": "client_credentials", "scope": scope},
        headers=basic(client_id, secret),
    )
