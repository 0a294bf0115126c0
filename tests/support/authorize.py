"""Shared steps for the authorize, code-grant, userinfo and logout tests: apps assigned to users,
session tokens, authorize requests without following redirects, PKCE pairs, token checks."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt

from tests.conftest import ORG_URL, Server
from tests.support.apps import create_app, oidc_app
from tests.support.oauth import basic
from tests.support.policies import USER_PASSWORD, create_group, create_user

REDIRECT = "https://app.example.com/callback"
SPA_REDIRECT = "https://spa.example.com/callback"
ALL_GRANTS = ["authorization_code", "implicit", "refresh_token"]
ALL_RESPONSES = ["code", "token", "id_token"]


def path_of(server_id: str | None) -> str:
    """``/oauth2/v1`` for the org AS (None), ``/oauth2/{id}/v1`` otherwise."""
    return "/oauth2/v1" if server_id is None else f"/oauth2/{server_id}/v1"


def issuer_of(server_id: str | None) -> str:
    return ORG_URL if server_id is None else f"{ORG_URL}/oauth2/{server_id}"


async def everyone_id(admin: httpx.AsyncClient) -> str:
    return str((await admin.get("/api/v1/groups", params={"q": "Everyone"})).json()[0]["id"])


async def web_app(
    admin: httpx.AsyncClient,
    *,
    assign_everyone: bool = True,
    app_type: str = "web",
    method: str = "client_secret_basic",
    redirects: list[str] | None = None,
    pkce_required: bool | None = None,
    **oauth: Any,
) -> tuple[str, str | None]:
    """An app with the code, implicit and refresh grants; (client_id, secret or None). PKCE is
    required of public clients only, unless ``pkce_required`` says otherwise."""
    required = method == "none" if pkce_required is None else pkce_required
    body = oidc_app(
        app_type,
        method=method,
        credentials={"pkce_required": required},
        grants=ALL_GRANTS,
        responses=ALL_RESPONSES,
        redirects=redirects or [REDIRECT],
        **oauth,
    )
    app = await create_app(admin, body)
    client_id = app["credentials"]["oauthClient"]["client_id"]
    if assign_everyone:
        response = await admin.put(f"/api/v1/apps/{client_id}/groups/{await everyone_id(admin)}", json={})
        assert response.status_code == 200, response.text
    return client_id, app["credentials"]["oauthClient"].get("client_secret")


async def spa_app(admin: httpx.AsyncClient, **kwargs: Any) -> str:
    client_id, _ = await web_app(admin, app_type="browser", method="none", redirects=[SPA_REDIRECT], **kwargs)
    return client_id


async def user(admin: httpx.AsyncClient, login: str = "carl.sagan@example.com", *groups: str) -> str:
    return await create_user(admin, login, *groups)


async def group(admin: httpx.AsyncClient, name: str) -> str:
    return await create_group(admin, name)


async def session_token(client: httpx.AsyncClient, login: str, password: str = USER_PASSWORD) -> str:
    response = await client.post("/api/v1/authn", json={"username": login, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["sessionToken"])


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_params(client_id: str, **overrides: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "openid profile email",
        "state": "st4te",
        "nonce": "n0nce",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


async def authorize(
    client: httpx.AsyncClient, client_id: str, server_id: str | None = "default", **overrides: str | None
) -> httpx.Response:
    return await client.get(
        f"{path_of(server_id)}/authorize", params=authorize_params(client_id, **overrides)
    )


def redirected(response: httpx.Response, *, part: str = "query") -> dict[str, str]:
    """The parameters a redirect to the client carries in its query or fragment."""
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    return dict(parse_qsl(getattr(location, part), keep_blank_values=True))


async def code_for(
    client: httpx.AsyncClient,
    client_id: str,
    login: str,
    server_id: str | None = "default",
    **overrides: str | None,
) -> str:
    token = await session_token(client, login)
    response = await authorize(client, client_id, server_id, sessionToken=token, **overrides)
    values = redirected(response)
    assert "code" in values, values
    return values["code"]


async def exchange(
    client: httpx.AsyncClient,
    code: str,
    client_id: str,
    secret: str | None,
    server_id: str | None = "default",
    **extra: str,
) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **extra}
    headers = basic(client_id, secret) if secret else {}
    if secret is None:
        data.setdefault("client_id", client_id)
    return await client.post(f"{path_of(server_id)}/token", data=data, headers=headers)


async def spa_code_tokens(
    client: httpx.AsyncClient, client_id: str, login: str, scope: str
) -> httpx.Response:
    """The code + PKCE flow of a browser app (``spa_app``) for ``login``, up to the token response."""
    verifier, challenge = pkce_pair()
    code = await code_for(
        client,
        client_id,
        login,
        scope=scope,
        redirect_uri=SPA_REDIRECT,
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    return await exchange(client, code, client_id, None, redirect_uri=SPA_REDIRECT, code_verifier=verifier)


def claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


async def verified(
    server: Server, token: str, server_id: str | None, audience: str | None = None
) -> dict[str, Any]:
    """The claims of ``token``, its signature checked against the server's published keys."""
    async with server.client() as anon:
        keys = (await anon.get(f"{path_of(server_id)}/keys")).json()["keys"]
    header = jwt.get_unverified_header(token)
    key = next(k for k in keys if k["kid"] == header["kid"])
    public = jwt.PyJWK(key).key
    options = {"verify_aud": audience is not None}
    return dict(
        jwt.decode(
            token,
            public,
            algorithms=["RS256"],
            audience=audience,
            issuer=issuer_of(server_id),
            options=options,
        )
    )
