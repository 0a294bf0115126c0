"""F13 — login CSRF: a third-party page must not sign a victim's browser in to the attacker's
account, through ``POST /api/v1/sessions`` sent as a CORS "simple request" or through
``/v1/authorize?sessionToken=``; the flows Okta's SDKs use keep working."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ORG_URL, Server
from tests.support.authorize import (
    REDIRECT,
    SPA_REDIRECT,
    authorize,
    pkce_pair,
    redirected,
    session_token,
    spa_app,
    user,
    web_app,
)
from tests.support.sessions import trust

ATTACKER = "mallory.attacker@example.com"
EVIL = "https://evil.example"
SPA_ORIGIN = "https://spa.example.com"
E0000021 = "Bad request. Accept and/or Content-Type headers likely do not match supported values."


def assert_not_signed_in(response: httpx.Response) -> None:
    """No session cookie, no code: the browser is sent to the sign-in page instead."""
    assert "sid=" not in response.headers.get("set-cookie", "")
    assert response.status_code == 302
    assert response.headers["location"].startswith("/login?fromURI=")


async def redeemable(server: Server, token: str) -> bool:
    """Is ``token`` still unused? (Redeems it through the API, so call it last.)"""
    async with server.client() as anonymous:
        response = await anonymous.post("/api/v1/sessions", json={"sessionToken": token})
    return response.status_code == 200


# --- JSON bodies must be sent as JSON -----------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_session_token_posted_as_a_simple_request_is_refused(
    server: Server, admin: httpx.AsyncClient, content_type: str | None
) -> None:
    await user(admin, ATTACKER)
    async with server.client() as attacker:
        token = await session_token(attacker, ATTACKER)
    headers = {"Origin": EVIL} if content_type is None else {"Origin": EVIL, "Content-Type": content_type}
    async with server.client(**headers) as victim:
        response = await victim.post("/api/v1/sessions", content=f'{{"sessionToken":"{token}"}}')
    assert response.status_code == 403
    assert response.json()["errorCode"] == "E0000006"
    assert "set-cookie" not in response.headers
    assert await redeemable(server, token)


@pytest.mark.parametrize("path", ["/api/v1/sessions", "/api/v1/authn", "/api/v1/groups", "/api/v1/users"])
async def test_a_json_endpoint_answers_e0000021_to_a_body_sent_as_text_plain(
    admin: httpx.AsyncClient, path: str
) -> None:
    body = b'{"profile": {"name": "g", "login": "a@example.com"}, "username": "a", "password": "b"}'
    response = await admin.post(path, content=body, headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert (response.json()["errorCode"], response.json()["errorSummary"]) == ("E0000021", E0000021)
    assert (await admin.get("/api/v1/groups", params={"q": "g"})).json() == []


async def test_json_with_a_charset_is_accepted(admin: httpx.AsyncClient) -> None:
    response = await admin.post(
        "/api/v1/groups",
        content=b'{"profile": {"name": "charset"}}',
        headers={"Content-Type": "application/json; charset=UTF-8"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["profile"]["name"] == "charset"


async def test_an_empty_body_needs_no_content_type(admin: httpx.AsyncClient) -> None:
    client_id, _ = await web_app(admin)
    response = await admin.post(f"/api/v1/apps/{client_id}/credentials/secrets")
    assert response.status_code == 201, response.text


async def test_the_sessions_api_refuses_an_untrusted_origin_even_with_json(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await user(admin, ATTACKER)
    async with server.client() as attacker:
        token = await session_token(attacker, ATTACKER)
    async with server.client(Origin=EVIL) as victim:
        response = await victim.post("/api/v1/sessions", json={"sessionToken": token})
    assert response.status_code == 403
    assert response.json()["errorCode"] == "E0000006"
    assert "set-cookie" not in response.headers
    assert await redeemable(server, token)


async def test_the_sessions_api_works_from_a_trusted_origin(server: Server, admin: httpx.AsyncClient) -> None:
    await user(admin, ATTACKER)
    await trust(admin, SPA_ORIGIN)
    async with server.client() as app:
        token = await session_token(app, ATTACKER)
    async with server.client(Origin=SPA_ORIGIN) as browser:
        response = await browser.post("/api/v1/sessions", json={"sessionToken": token})
    assert response.status_code == 200, response.text
    assert response.cookies["sid"]


# --- /authorize?sessionToken= ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Referer": f"{EVIL}/"},  # the review's reproduction (curl, no fetch metadata)
        {"Sec-Fetch-Site": "cross-site", "Referer": f"{EVIL}/page"},
        {"Sec-Fetch-Site": "cross-site"},  # rel=noreferrer on the attacker's link
        {"Sec-Fetch-Site": "same-site", "Referer": "https://other.localhost:8080/"},
    ],
)
async def test_a_session_token_link_from_another_site_does_not_sign_the_browser_in(
    server: Server, admin: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    client_id, _ = await web_app(admin)
    await user(admin, ATTACKER)
    async with server.client() as attacker:
        token = await session_token(attacker, ATTACKER)
    async with server.client(**headers) as victim:
        response = await authorize(victim, client_id, sessionToken=token)
    assert_not_signed_in(response)
    assert await redeemable(server, token)


async def test_a_refused_session_token_with_prompt_none_is_login_required(
    server: Server, admin: httpx.AsyncClient
) -> None:
    client_id, _ = await web_app(admin)
    await user(admin, ATTACKER)
    async with server.client() as attacker:
        token = await session_token(attacker, ATTACKER)
    async with server.client(Referer=f"{EVIL}/") as victim:
        response = await authorize(victim, client_id, sessionToken=token, prompt="none")
    assert redirected(response)["error"] == "login_required"
    assert "sid=" not in response.headers.get("set-cookie", "")


async def test_a_refused_session_token_keeps_the_victims_own_session(
    server: Server, admin: httpx.AsyncClient
) -> None:
    client_id, _ = await web_app(admin)
    await user(admin, ATTACKER)
    await user(admin, "vic.tim@example.com")
    async with server.client() as app:
        mine = await session_token(app, "vic.tim@example.com")
        theirs = await session_token(app, ATTACKER)
    async with server.client() as browser:
        assert "code" in redirected(await authorize(browser, client_id, sessionToken=mine))
        browser.headers.update({"Sec-Fetch-Site": "cross-site", "Referer": f"{EVIL}/"})
        response = await authorize(browser, client_id, sessionToken=theirs)
        assert "code" in redirected(response)
        assert "sid=" not in response.headers.get("set-cookie", "")
        me = await browser.get("/api/v1/sessions/me")
    assert me.json()["login"] == "vic.tim@example.com"


# --- the legitimate handoffs keep working ------------------------------------------------------------


async def test_okta_auth_js_redirect_from_a_trusted_spa_origin_signs_in(
    server: Server, admin: httpx.AsyncClient
) -> None:
    """okta-auth-js / the widget: authn from the SPA's page, then a top-level navigation (or a
    hidden iframe) from that page to /authorize with the token: cross-site, Referer = SPA origin."""
    client_id = await spa_app(admin)
    await user(admin, ATTACKER)
    await trust(admin, SPA_ORIGIN, "CORS")
    _verifier, challenge = pkce_pair()
    async with server.client(Origin=SPA_ORIGIN) as spa:
        token = await session_token(spa, ATTACKER)
    headers = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "document", "Referer": f"{SPA_ORIGIN}/"}
    async with server.client(**headers) as browser:
        response = await authorize(
            browser,
            client_id,
            sessionToken=token,
            redirect_uri=SPA_REDIRECT,
            code_challenge=challenge,
            code_challenge_method="S256",
        )
    assert "code" in redirected(response)
    assert "sid=" in response.headers["set-cookie"]


async def test_a_server_side_app_redirecting_from_its_own_origin_signs_in(
    server: Server, admin: httpx.AsyncClient
) -> None:
    """A web app that called authn itself and redirects the browser: the Referer is the app's
    page, the origin of its registered redirect URI (no trusted origin needed)."""
    client_id, _ = await web_app(admin)
    await user(admin, ATTACKER)
    async with server.client() as app:
        token = await session_token(app, ATTACKER)
    headers = {"Sec-Fetch-Site": "cross-site", "Referer": "https://app.example.com/signin"}
    async with server.client(**headers) as browser:
        response = await authorize(browser, client_id, sessionToken=token, redirect_uri=REDIRECT)
    assert "code" in redirected(response)


@pytest.mark.parametrize(
    "headers",
    [
        {},  # a script or server-side client
        {"Sec-Fetch-Site": "same-origin", "Referer": f"{ORG_URL}/login"},
        {"Sec-Fetch-Site": "none"},
        {"Sec-Fetch-Site": "cross-site", "Referer": "http://localhost:3090/app"},  # REDIRECT-trusted
    ],
)
async def test_a_session_token_from_a_trusted_initiator_signs_in(
    server: Server, admin: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    client_id, _ = await web_app(admin)
    await user(admin, ATTACKER)
    await trust(admin, "http://localhost:3090", "REDIRECT")
    async with server.client() as app:
        token = await session_token(app, ATTACKER)
    async with server.client(**headers) as browser:
        response = await authorize(browser, client_id, sessionToken=token)
    assert "code" in redirected(response)


# --- /login/sessionCookieRedirect ---------------------------------------------------------------------

COOKIE_REDIRECT = "/login/sessionCookieRedirect"


async def test_session_cookie_redirect_from_the_trusted_app_signs_in_and_redirects(
    server: Server, admin: httpx.AsyncClient
) -> None:
    """okta-auth-js ``session.setCookieAndRedirect``: a navigation from the app's page."""
    await user(admin, ATTACKER)
    await trust(admin, SPA_ORIGIN, "CORS", "REDIRECT")
    async with server.client() as app:
        token = await session_token(app, ATTACKER)
    headers = {"Sec-Fetch-Site": "cross-site", "Referer": f"{SPA_ORIGIN}/signin"}
    params = {"token": token, "redirectUrl": f"{SPA_ORIGIN}/home", "checkAccountSetupComplete": "true"}
    async with server.client(**headers) as browser:
        response = await browser.get(COOKIE_REDIRECT, params=params)
        assert (response.status_code, response.headers["location"]) == (302, f"{SPA_ORIGIN}/home")
        assert "sid=" in response.headers["set-cookie"]
        assert (await browser.get("/api/v1/sessions/me")).json()["login"] == ATTACKER


async def test_session_cookie_redirect_from_another_site_does_not_sign_in(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await user(admin, ATTACKER)
    await trust(admin, SPA_ORIGIN, "REDIRECT")
    async with server.client() as attacker:
        token = await session_token(attacker, ATTACKER)
    params = {"token": token, "redirectUrl": f"{SPA_ORIGIN}/home"}
    async with server.client(Referer=f"{EVIL}/") as victim:
        response = await victim.get(COOKIE_REDIRECT, params=params)
    assert (response.status_code, response.headers["location"]) == (302, f"{SPA_ORIGIN}/home")
    assert "sid=" not in response.headers.get("set-cookie", "")
    assert await redeemable(server, token)


@pytest.mark.parametrize(
    "target",
    [f"{EVIL}/steal", "//evil.example/x", "javascript:alert(1)", "https://spa.example.com.evil.example/"],
)
async def test_session_cookie_redirect_refuses_untrusted_targets(
    server: Server, admin: httpx.AsyncClient, target: str
) -> None:
    await user(admin, ATTACKER)
    await trust(admin, SPA_ORIGIN, "REDIRECT")
    async with server.client() as app:
        token = await session_token(app, ATTACKER)
    async with server.client() as browser:
        response = await browser.get(COOKIE_REDIRECT, params={"token": token, "redirectUrl": target})
    assert response.status_code == 400
    assert "location" not in response.headers and "set-cookie" not in response.headers
    assert await redeemable(server, token)


async def test_session_cookie_redirect_to_a_relative_path(server: Server, admin: httpx.AsyncClient) -> None:
    await user(admin, ATTACKER)
    async with server.client() as app:
        token = await session_token(app, ATTACKER)
    async with server.client() as browser:
        response = await browser.get(COOKIE_REDIRECT, params={"token": token, "redirectUrl": "/login"})
    assert (response.status_code, response.headers["location"]) == (302, "/login")
    assert "sid=" in response.headers["set-cookie"]
