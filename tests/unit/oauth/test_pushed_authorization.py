"""``/v1/par`` (RFC 9126): client authentication as at /token, the /authorize checks, a single-use
``request_uri`` bound to the client, then PAR → authorize → code → token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from ostiary.store.models.pushed_requests import PushedRequest
from ostiary.timeutil import utcnow
from tests.conftest import ORG_URL, Server
from tests.support.authorize import (
    authorize_params,
    exchange,
    path_of,
    redirected,
    session_token,
    user,
    verified,
    web_app,
)
from tests.support.oauth import basic

CARL = "carl.sagan@example.com"
URN = "urn:ietf:params:oauth:request_uri:"


async def _par(
    client: httpx.AsyncClient, app_id: str, secret: str, /, server_id: str | None = "default", **extra: Any
) -> httpx.Response:
    params = {k: v for k, v in {**authorize_params(app_id), **extra}.items() if v is not None}
    return await client.post(f"{path_of(server_id)}/par", data=params, headers=basic(app_id, secret))


async def _pushed_count(server: Server) -> int:
    async with server.rt.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(PushedRequest)) or 0)


async def test_par_then_authorize_then_token(any_admin: httpx.AsyncClient, any_server: Server) -> None:
    client_id, secret = await web_app(any_admin)
    assert secret is not None
    await user(any_admin, CARL)
    async with any_server.client() as anon:
        pushed = await _par(anon, client_id, secret, sessionToken=await session_token(anon, CARL))
        assert pushed.status_code == 200, pushed.text
        body = pushed.json()
        assert body["request_uri"].startswith(URN) and body["expires_in"] == 60
        assert pushed.headers["cache-control"] == "no-store"
        # Only the pushed parameters count: a state in the query is ignored.
        response = await anon.get(
            "/oauth2/default/v1/authorize",
            params={"client_id": client_id, "request_uri": body["request_uri"], "state": "other"},
        )
        values = redirected(response)
        assert values["state"] == "st4te" and "code" in values, values
        tokens = await exchange(anon, values["code"], client_id, secret)
        assert tokens.status_code == 200, tokens.text
        claims = await verified(any_server, tokens.json()["access_token"], "default", "api://default")
        assert claims["cid"] == client_id
        replay = await anon.get(
            "/oauth2/default/v1/authorize",
            params={"client_id": client_id, "request_uri": body["request_uri"]},
        )
    assert replay.status_code == 400 and "request_uri" in replay.text
    assert "location" not in replay.headers


async def test_request_uri_is_bound_to_its_client_and_expires(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, secret = await web_app(admin)
    other_id, _ = await web_app(admin)
    assert secret is not None
    async with server.client() as anon:
        uri = (await _par(anon, client_id, secret)).json()["request_uri"]
        stolen = await anon.get(
            "/oauth2/default/v1/authorize", params={"client_id": other_id, "request_uri": uri}
        )
        assert stolen.status_code == 400 and "location" not in stolen.headers
        uri = (await _par(anon, client_id, secret)).json()["request_uri"]
        async with server.rt.db.session() as session:
            await session.execute(update(PushedRequest).values(expires_at=utcnow() - timedelta(seconds=1)))
        expired = await anon.get(
            "/oauth2/default/v1/authorize", params={"client_id": client_id, "request_uri": uri}
        )
        assert expired.status_code == 400 and "location" not in expired.headers
        other_server = await anon.get(
            "/oauth2/v1/authorize",
            params={
                "client_id": client_id,
                "request_uri": (await _par(anon, client_id, secret)).json()["request_uri"],
            },
        )
    assert other_server.status_code == 400 and "location" not in other_server.headers


async def test_par_refuses_what_authorize_refuses_and_keeps_nothing(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, secret = await web_app(admin)
    assert secret is not None
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"redirect_uri": "https://evil.example.com/cb"}, 400, "invalid_request"),
        ({"response_type": "banana"}, 400, "unsupported_response_type"),
        ({"state": None}, 400, "invalid_request"),
        ({"scope": "nope"}, 400, "invalid_scope"),
        ({"scope": None}, 400, "invalid_scope"),
        ({"prompt": "sometimes"}, 400, "invalid_request"),
        ({"request_uri": URN + "x"}, 400, "invalid_request"),
        ({"client_id": "someone-else"}, 401, "invalid_client"),  # as at /token
    ]
    async with server.client() as anon:
        for extra, status, error in cases:
            response = await _par(anon, client_id, secret, **extra)
            assert response.status_code == status, (extra, response.text)
            assert response.json()["error"] == error, (extra, response.text)
        unauthenticated = await anon.post("/oauth2/default/v1/par", data=authorize_params(client_id))
        wrong_secret = await _par(anon, client_id, "wrong")
    assert unauthenticated.status_code == 401 and unauthenticated.json()["error"] == "invalid_client"
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    assert await _pushed_count(server) == 0


async def test_org_server_par_and_discovery(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, secret = await web_app(admin)
    assert secret is not None
    async with server.client() as anon:
        pushed = await _par(anon, client_id, secret, server_id=None)
        org_doc = (await anon.get("/.well-known/openid-configuration")).json()
        custom_doc = (await anon.get("/oauth2/default/.well-known/oauth-authorization-server")).json()
    assert pushed.status_code == 200, pushed.text
    assert org_doc["pushed_authorization_request_endpoint"] == f"{ORG_URL}/oauth2/v1/par"
    assert custom_doc["pushed_authorization_request_endpoint"] == f"{ORG_URL}/oauth2/default/v1/par"
    assert org_doc["registration_endpoint"] == f"{ORG_URL}/oauth2/v1/clients"
