"""An authorize flow with a signed-in user and a consent-requiring app."""

from __future__ import annotations

import httpx

from tests.support.authorize import (
    authorize,
    redirected,
    session_token,
    user,
    web_app,
)

CARL = "carl.sagan@example.com"


AS = "/api/v1/authorizationServers"


async def signed_in(client: httpx.AsyncClient, client_id: str, login: str = CARL) -> None:
    """Give the client's cookie jar a session (through a sessionToken on /authorize)."""
    response = await authorize(client, client_id, sessionToken=await session_token(client, login))
    assert "code" in redirected(response)


async def consent_setup(admin: httpx.AsyncClient) -> str:
    scope = {"name": "photos:read", "consent": "REQUIRED", "displayName": "See your photos"}
    assert (await admin.post(f"{AS}/default/scopes", json=scope)).status_code == 201
    client_id, _ = await web_app(admin, consent_method="REQUIRED")
    await user(admin, CARL)
    return client_id
