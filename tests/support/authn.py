"""POST /api/v1/authn and the sign-in page's paths."""

from __future__ import annotations

import httpx

from tests.conftest import Server
from tests.support.users import PASSWORD

LOGIN = "ann.lee@example.com"


AUTHN = "/api/v1/authn"


async def authn(server: Server, username: str = LOGIN, password: str = PASSWORD) -> httpx.Response:
    async with server.client() as anonymous:
        return await anonymous.post(AUTHN, json={"username": username, "password": password})


async def user_status(admin: httpx.AsyncClient, user_id: str) -> str:
    status: str = (await admin.get(f"/api/v1/users/{user_id}")).json()["status"]
    return status


def assert_authentication_failed(response: httpx.Response) -> None:
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}
    assert (body["errorCode"], body["errorSummary"], body["errorLink"]) == (
        "E0000004",
        "Authentication failed",
        "E0000004",
    )
    assert body["errorCauses"] == []
