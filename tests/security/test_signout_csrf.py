"""F19 (info) — logout CSRF: a cross-site link or form must not end the browser's session on the
hosted pages. ``/login/signout`` ends it only on a POST that carries the page's CSRF token; a
GET shows a page with a sign-out button. (OIDC ``/v1/logout`` stays a GET, per the spec: it
needs a valid ``id_token_hint``.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from tests.conftest import Server
from tests.support.login_page import csrf_token, set_cookies, submit
from tests.support.users import create

ME = "/api/v1/sessions/me"


@asynccontextmanager
async def signed_in_browser(server: Server, admin: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    await create(admin)
    async with server.client() as browser:
        assert (await submit(browser)).status_code == 303
        assert (await browser.get(ME)).status_code == 200
        yield browser


async def test_a_cross_site_get_does_not_sign_out(server: Server, admin: httpx.AsyncClient) -> None:
    async with signed_in_browser(server, admin) as browser:
        response = await browser.get(
            "/login/signout", params={"fromURI": "/bye"}, headers={"Sec-Fetch-Site": "cross-site"}
        )
        assert response.status_code == 200
        assert "sid" not in set_cookies(response)
        assert 'action="/login/signout"' in response.text and 'method="post"' in response.text
        assert 'name="fromURI" value="/bye"' in response.text
        assert (await browser.get(ME)).status_code == 200


@pytest.mark.parametrize("token", [None, "x" * 43])
async def test_a_post_without_the_pages_csrf_token_does_not_sign_out(
    server: Server, admin: httpx.AsyncClient, token: str | None
) -> None:
    async with signed_in_browser(server, admin) as browser:
        data = {} if token is None else {"csrfToken": token}
        response = await browser.post("/login/signout", data=data)
        assert response.status_code == 403
        assert "sid" not in set_cookies(response)
        assert (await browser.get(ME)).status_code == 200


async def test_a_post_from_another_site_without_the_csrf_cookie_does_not_sign_out(
    server: Server, admin: httpx.AsyncClient
) -> None:
    """SameSite=Strict keeps the CSRF cookie off cross-site posts; a token alone is refused."""
    async with signed_in_browser(server, admin) as browser:
        token = csrf_token(await browser.get("/login/signout"))
        sid = browser.cookies["sid"]
    async with server.client(Cookie=f"sid={sid}") as cross_site:
        response = await cross_site.post("/login/signout", data={"csrfToken": token})
        assert response.status_code == 403
        assert (await cross_site.get(ME)).status_code == 200


async def test_the_sign_out_button_signs_out(server: Server, admin: httpx.AsyncClient) -> None:
    async with signed_in_browser(server, admin) as browser:
        page = await browser.get("/login/signout", params={"fromURI": "/bye"})
        response = await browser.post(
            "/login/signout", data={"csrfToken": csrf_token(page), "fromURI": "/bye"}
        )
        assert (response.status_code, response.headers["location"]) == (303, "/bye")
        assert "Max-Age=0" in set_cookies(response)["sid"]
        assert (await browser.get(ME)).status_code == 404


async def test_the_sign_in_pages_sign_out_link_is_a_working_form(
    server: Server, admin: httpx.AsyncClient
) -> None:
    async with signed_in_browser(server, admin) as browser:
        page = await browser.get("/login")
        assert "You are signed in as" in page.text
        assert '<a href="/login/signout"' not in page.text
        response = await browser.post("/login/signout", data={"csrfToken": csrf_token(page)})
        assert (response.status_code, response.headers["location"]) == (303, "/login")
        assert (await browser.get(ME)).status_code == 404


async def test_signout_without_a_session_just_redirects(server: Server) -> None:
    async with server.client() as browser:
        response = await browser.get("/login/signout", params={"fromURI": "/bye"})
    assert (response.status_code, response.headers["location"]) == (303, "/bye")
