"""``credentials.oauthClient.pkce_required`` defaults as Okta's (issue 14): true for ``browser``
and ``native`` apps, false for ``web`` and ``service``, so a stock ``@okta/oidc-middleware`` app
(which never sends PKCE) signs users in. A challenge, when sent, always binds the code."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Server
from tests.support.apps import create_app, oidc_app
from tests.support.authorize import (
    REDIRECT,
    authorize,
    code_for,
    everyone_id,
    exchange,
    pkce_pair,
    redirected,
    session_token,
    user,
)

CARL = "carl.sagan@example.com"


@pytest.mark.parametrize(
    ("app_type", "method", "expected"),
    [
        ("web", "client_secret_basic", False),
        ("service", "client_secret_basic", False),
        ("browser", None, True),
        ("native", "none", True),
        ("native", "client_secret_basic", True),
    ],
)
async def test_the_default_follows_the_application_type(
    admin: httpx.AsyncClient, app_type: str, method: str | None, expected: bool
) -> None:
    app = await create_app(admin, oidc_app(app_type, method=method))
    assert app["credentials"]["oauthClient"]["pkce_required"] is expected


async def stock_web_app(admin: httpx.AsyncClient) -> tuple[str, str]:
    """A web app created as Okta's Express guide does: no ``pkce_required`` anywhere."""
    app = await create_app(admin, oidc_app("web", grants=["authorization_code"], redirects=[REDIRECT]))
    client_id = app["credentials"]["oauthClient"]["client_id"]
    assert (
        await admin.put(f"/api/v1/apps/{client_id}/groups/{await everyone_id(admin)}", json={})
    ).status_code == 200
    await user(admin, CARL)
    return client_id, app["credentials"]["oauthClient"]["client_secret"]


async def test_a_stock_web_app_signs_in_without_pkce(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, secret = await stock_web_app(admin)
    async with server.client() as browser:
        code = await code_for(browser, client_id, CARL)
        tokens = await exchange(browser, code, client_id, secret)
    assert tokens.status_code == 200, tokens.text


async def test_a_challenge_sent_by_a_web_app_binds_the_code_to_its_verifier(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, secret = await stock_web_app(admin)
    verifier, challenge = pkce_pair()
    async with server.client() as browser:
        bound = {"code_challenge": challenge, "code_challenge_method": "S256"}
        without = await exchange(
            browser, await code_for(browser, client_id, CARL, **bound), client_id, secret
        )
        wrong = await exchange(
            browser,
            await code_for(browser, client_id, CARL, **bound),
            client_id,
            secret,
            code_verifier=pkce_pair()[0],
        )
        right = await exchange(
            browser,
            await code_for(browser, client_id, CARL, **bound),
            client_id,
            secret,
            code_verifier=verifier,
        )
    assert (without.status_code, without.json()["error"]) == (400, "invalid_grant")
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    assert right.status_code == 200, right.text


async def test_a_web_app_that_sets_pkce_required_still_needs_a_challenge(
    admin: httpx.AsyncClient, server: Server
) -> None:
    app = await create_app(admin, oidc_app("web", credentials={"pkce_required": True}))
    client_id = app["credentials"]["oauthClient"]["client_id"]
    await user(admin, CARL)
    async with server.client() as browser:
        token = await session_token(browser, CARL)
        response = await authorize(browser, client_id, sessionToken=token)
    assert redirected(response)["error"] == "invalid_request"


async def test_replacing_an_app_keeps_its_stored_pkce_required(admin: httpx.AsyncClient) -> None:
    """No migration: an app stored with ``pkce_required: true`` keeps it until an admin changes it."""
    app = await create_app(admin, oidc_app("web", credentials={"pkce_required": True}))
    body = {k: app[k] for k in ("name", "label", "signOnMode", "settings")}
    replaced = await admin.put(f"/api/v1/apps/{app['id']}", json=body)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["credentials"]["oauthClient"]["pkce_required"] is True
