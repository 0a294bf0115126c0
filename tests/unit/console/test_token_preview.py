"""Token preview (issue 19, slice 3): ``POST /api/v1/authorizationServers/{id}/tokenPreview``
agrees with real issuance for the demo's users and clients (claims equal apart from what only
an issuance fixes), and explains denials rule by rule."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ostiary.demo.seed import GOLD, SILVER
from tests.conftest import Server
from tests.support.authorize import authorize, claims, code_for, exchange, redirected, session_token
from tests.support.demo_seed import seed_demo
from tests.support.oauth import basic
from tests.support.policies import USER_PASSWORD

PASSWORD = USER_PASSWORD  # what code_for signs in with
VARIABLE = {"iat", "exp", "jti", "auth_time", "nonce", "at_hash", "c_hash"}


@pytest.fixture
async def demo(server: Server) -> dict[str, Any]:
    return await seed_demo(server)


def stable(token_claims: dict[str, Any] | None) -> dict[str, Any]:
    assert token_claims is not None
    return {k: v for k, v in token_claims.items() if k not in VARIABLE}


async def preview(admin: httpx.AsyncClient, server_id: str, **body: Any) -> dict[str, Any]:
    response = await admin.post(f"/api/v1/authorizationServers/{server_id}/tokenPreview", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


USER_CASES = [
    ("clark.kent@example.com", f"openid profile email {SILVER}"),
    ("lois.lane@example.com", f"openid email {SILVER} {GOLD}"),
    ("lois.lane@example.com", f"openid {GOLD}"),
]


@pytest.mark.parametrize(("login", "scope"), USER_CASES)
async def test_preview_equals_the_code_flow(
    server: Server, admin: httpx.AsyncClient, demo: dict[str, Any], login: str, scope: str
) -> None:
    server_id = demo["authorization_server"]["id"]
    web = demo["web_client"]
    claim = {
        "name": "mail",
        "status": "ACTIVE",
        "claimType": "RESOURCE",
        "valueType": "EXPRESSION",
        "value": "user.email",
        "conditions": {"scopes": []},
        "alwaysIncludeInToken": True,
    }
    assert (
        await admin.post(f"/api/v1/authorizationServers/{server_id}/claims", json=claim)
    ).status_code == 201
    shown = await preview(
        admin,
        server_id,
        clientId=web["client_id"],
        grantType="authorization_code",
        userId=login,
        scopes=scope,
    )
    assert shown["granted"] is True, shown
    code = await code_for(
        admin, web["client_id"], login, server_id, scope=scope, redirect_uri=web["redirect_uri"]
    )
    real = await exchange(
        admin, code, web["client_id"], web["client_secret"], server_id, redirect_uri=web["redirect_uri"]
    )
    assert real.status_code == 200, real.text
    assert stable(shown["accessToken"]) == stable(claims(real.json()["access_token"]))
    assert stable(shown["idToken"]) == stable(claims(real.json()["id_token"]))
    assert shown["accessToken"]["mail"] == login


async def test_preview_equals_the_implicit_response(
    server: Server, admin: httpx.AsyncClient, demo: dict[str, Any]
) -> None:
    server_id = demo["authorization_server"]["id"]
    web = demo["web_client"]
    login, scope = "lois.lane@example.com", f"openid email {SILVER} {GOLD}"
    shown = await preview(
        admin, server_id, clientId=web["client_id"], grantType="implicit", userId=login, scopes=scope
    )
    assert shown["granted"] is True, shown
    implicit_uri = web["redirect_uri"].replace("authorization-code", "implicit")
    async with server.client() as browser:
        token = await session_token(browser, login)
        response = await authorize(
            browser,
            web["client_id"],
            server_id,
            response_type="token id_token",
            sessionToken=token,
            scope=scope,
            redirect_uri=implicit_uri,
        )
    values = redirected(response, part="fragment")
    assert stable(shown["accessToken"]) == stable(claims(values["access_token"]))
    assert stable(shown["idToken"]) == stable(claims(values["id_token"]))
    assert "email" not in shown["idToken"]  # thin, as with response_type=token id_token


async def test_preview_equals_client_credentials(admin: httpx.AsyncClient, demo: dict[str, Any]) -> None:
    service = demo["service_client"]
    shown = await preview(
        admin,
        "default",
        clientId=service["client_id"],
        grantType="client_credentials",
        scopes=[service["scope"]],
    )
    assert shown["granted"] is True, shown
    real = await admin.post(
        "/oauth2/default/v1/token",
        data={"grant_type": "client_credentials", "scope": service["scope"]},
        headers=basic(service["client_id"], service["client_secret"]),
    )
    assert real.status_code == 200, real.text
    assert stable(shown["accessToken"]) == stable(claims(real.json()["access_token"]))
    assert shown["idToken"] is None
    assert [step["matched"] for step in shown["trace"]][-1] is True


async def test_a_denial_is_explained_rule_by_rule(admin: httpx.AsyncClient, demo: dict[str, Any]) -> None:
    server_id = demo["authorization_server"]["id"]
    shown = await preview(
        admin,
        server_id,
        clientId=demo["web_client"]["client_id"],
        grantType="authorization_code",
        userId="clark.kent@example.com",
        scopes=["openid", GOLD],
    )
    assert shown["granted"] is False
    assert shown["error"] == "access_denied"
    reasons = [(step["ruleName"], step["matched"], step["reason"]) for step in shown["trace"]]
    assert reasons == [
        (None, True, "client matched"),
        ("gold access to solar system API", False, "user is not among the rule's users or in its groups"),
        ("silver access to solar system API", False, f"scope {GOLD} not allowed by this rule"),
        (None, False, "no rule matched; trying the next policy"),
    ]


async def test_wrong_grant_type_and_bad_body(admin: httpx.AsyncClient, demo: dict[str, Any]) -> None:
    server_id = demo["authorization_server"]["id"]
    shown = await preview(
        admin,
        server_id,
        clientId=demo["service_client"]["client_id"],
        grantType="authorization_code",
        userId="clark.kent@example.com",
        scopes=["openid"],
    )
    assert shown["error"] == "unauthorized_client"
    bad = await admin.post(f"/api/v1/authorizationServers/{server_id}/tokenPreview", json={"scopes": 3})
    assert bad.status_code == 400
    assert bad.json()["errorCode"] == "E0000001"
