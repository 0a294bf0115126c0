"""Tokens for a signed-in user and a bearer header, for userinfo and logout tests."""

from __future__ import annotations

import httpx

from tests.conftest import Server
from tests.support.authorize import code_for, exchange, web_app

CARL = "carl.sagan@example.com"


LOGOUT_TO = "https://app.example.com/signed-out"


async def tokens(
    admin: httpx.AsyncClient, server: Server, scope: str, *, server_id: str | None = "default", **profile: str
) -> dict[str, str]:
    client_id, secret = await web_app(admin, post_logout_redirect_uris=[LOGOUT_TO])
    body = {
        "profile": {
            "login": CARL,
            "email": CARL,
            "firstName": "Carl",
            "lastName": "Sagan",
            **profile,
        },
        "credentials": {"password": {"value": "Tr1cky-Secret!"}},
    }
    assert (await admin.post("/api/v1/users?activate=true", json=body)).status_code == 200
    async with server.client() as anon:
        code = await code_for(anon, client_id, CARL, server_id=server_id, scope=scope)
        answer = await exchange(anon, code, client_id, secret, server_id=server_id)
    assert answer.status_code == 200, answer.text
    return {**answer.json(), "client_id": client_id, "secret": secret or ""}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
