"""A browser holds one session: redeeming a ``sessionToken`` at ``/v1/authorize`` (or at
``POST /api/v1/sessions`` from the browser) replaces its ``sid`` cookie, and the session the
old cookie named is ended, as the hosted ``/login`` form already does — whether it was another
user's (a shared or hijacked browser: the old session would otherwise live on, unseen, until it
expires) or the same user's (session fixation: a new sign-in gets a new session, never two)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Server
from tests.support.authorize import authorize_params, redirected, session_token, user, web_app

FIRST = "first.user@example.com"
SECOND = "second.user@example.com"


def sid_of(response: httpx.Response) -> str:
    for cookie in response.headers.get_list("set-cookie"):
        name, _, rest = cookie.partition("=")
        if name.strip() == "sid":
            return rest.split(";")[0]
    raise AssertionError(f"no sid cookie: {response.headers}")


async def signed_in(server: Server, login: str) -> str:
    """A browser session of ``login``: its ``sid`` cookie value."""
    async with server.client() as browser:
        token = await session_token(browser, login)
        response = await browser.post("/api/v1/sessions", json={"sessionToken": token})
    assert response.status_code == 200, response.text
    return sid_of(response)


async def authorize_in(
    browser: httpx.AsyncClient, client_id: str, token: str, sid: str, headers: dict[str, str]
) -> httpx.Response:
    """``/v1/authorize?sessionToken=`` from a browser that holds the session ``sid``."""
    return await browser.get(
        "/oauth2/default/v1/authorize",
        params=authorize_params(client_id, sessionToken=token),
        headers={"Cookie": f"sid={sid}", **headers},
    )


async def live(server: Server, sid: str) -> bool:
    async with server.client() as browser:
        response = await browser.get("/api/v1/sessions/me", headers={"Cookie": f"sid={sid}"})
    return response.status_code == 200


@pytest.mark.parametrize("second_login", [SECOND, FIRST], ids=["another user", "the same user"])
async def test_authorize_with_a_session_token_ends_the_browsers_previous_session(
    admin: httpx.AsyncClient, server: Server, second_login: str
) -> None:
    await user(admin, FIRST)
    await user(admin, SECOND)
    client_id, _secret = await web_app(admin)
    old_sid = await signed_in(server, FIRST)
    assert await live(server, old_sid)
    async with server.client() as browser:
        token = await session_token(browser, second_login)
        response = await authorize_in(browser, client_id, token, old_sid, {"Sec-Fetch-Site": "none"})
    assert "code" in redirected(response)
    new_sid = sid_of(response)
    assert new_sid != old_sid
    assert await live(server, new_sid)
    assert not await live(server, old_sid)


async def test_a_refused_session_token_leaves_the_browsers_session_alone(
    admin: httpx.AsyncClient, server: Server
) -> None:
    """A token from a cross-site link is not redeemed (login CSRF), so nothing is replaced."""
    await user(admin, FIRST)
    await user(admin, SECOND)
    client_id, _secret = await web_app(admin)
    old_sid = await signed_in(server, FIRST)
    async with server.client() as browser:
        token = await session_token(browser, SECOND)
        cross_site = {"Sec-Fetch-Site": "cross-site", "Referer": "https://evil.example/"}
        response = await authorize_in(browser, client_id, token, old_sid, cross_site)
    assert "sid=" not in response.headers.get("set-cookie", "")
    assert await live(server, old_sid)


async def test_creating_a_session_from_the_browser_ends_its_previous_one(
    admin: httpx.AsyncClient, server: Server
) -> None:
    await user(admin, FIRST)
    await user(admin, SECOND)
    old_sid = await signed_in(server, FIRST)
    async with server.client() as browser:
        token = await session_token(browser, SECOND)
        response = await browser.post(
            "/api/v1/sessions", json={"sessionToken": token}, headers={"Cookie": f"sid={old_sid}"}
        )
    assert response.status_code == 200, response.text
    assert await live(server, sid_of(response))
    assert not await live(server, old_sid)
