"""Authorization servers made through the management API, and Okta's error-body check."""

from __future__ import annotations

import re
from typing import Any

import httpx

from ostiary.domain.context import Actor
from ostiary.http.runtime import Principal
from tests.conftest import Server

AS = "/api/v1/authorizationServers"


ORG = "http://localhost:8080"


async def create_server(
    client: httpx.AsyncClient, name: str = "Sample Authorization Server", **extra: Any
) -> dict[str, Any]:
    body = {"name": name, "description": f"{name} description", "audiences": ["api://sample"], **extra}
    response = await client.post(AS, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def assert_okta_error(response: httpx.Response, status: int, code: str, summary: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["errorCode"] == code
    assert body["errorLink"] == code
    assert re.fullmatch(r"oae[\w-]{22}", body["errorId"])
    if summary is not None:
        assert body["errorSummary"] == summary


def bearer_client(server: Server, scopes: set[str]) -> httpx.AsyncClient:
    """A client whose Bearer token carries ``scopes`` (the OAuth verifier is stubbed)."""

    async def verify(_session: Any, _org: Any, _org_url: str, token: str) -> Principal | None:
        if token != "good":
            return None
        return Principal(Actor("0oaservice", "PublicClientApp", "svc", "svc"), frozenset(scopes), "oauth")

    server.rt.bearer = verify
    return server.client(Authorization="Bearer good")
