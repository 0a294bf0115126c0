"""Sessions and trusted origins: a signed-in browser, a trusted origin."""

from __future__ import annotations

from typing import Any

import httpx

from ostiary.domain.context import Actor
from ostiary.http.runtime import Principal
from tests.conftest import Server
from tests.support.authn import LOGIN, authn

TRUSTED = "http://localhost:3090"


ME = "/api/v1/sessions/me"


def scoped_bearer(*scopes: str) -> Any:
    """A Bearer authenticator that accepts ``scoped-token`` with exactly ``scopes``."""

    async def authenticate(_session: Any, _org: Any, _org_url: str, token: str) -> Principal | None:
        if token != "scoped-token":
            return None
        return Principal(
            Actor("0oaCaller", "PublicClientApp", "caller", "caller"), frozenset(scopes), "oauth"
        )

    return authenticate


async def sign_in(server: Server, username: str = LOGIN) -> tuple[dict[str, str], str]:
    """A session made the API way (authn, then POST /sessions): its JSON and its cookie secret."""
    token = (await authn(server, username)).json()["sessionToken"]
    async with server.client() as anonymous:
        response = await anonymous.post("/api/v1/sessions", json={"sessionToken": token})
    assert response.status_code == 200, response.text
    return response.json(), response.cookies["sid"]


def browser(server: Server, sid: str | None = None, origin: str | None = None) -> httpx.AsyncClient:
    headers = {}
    if sid:
        headers["Cookie"] = f"sid={sid}"
    if origin:
        headers["Origin"] = origin
    return server.client(**headers)


async def trust(admin: httpx.AsyncClient, origin: str = TRUSTED, *scopes: str) -> dict[str, str]:
    body = {"name": origin, "origin": origin, "scopes": [{"type": s} for s in scopes or ("CORS", "REDIRECT")]}
    response = await admin.post("/api/v1/trustedOrigins", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, str] = response.json()
    return created
