"""The hosted sign-in page: a plain form with a CSRF token, errors in the page, a safe session
cookie, redirects only to same-origin relative paths, and sign-out."""

from __future__ import annotations

import httpx
import pytest

from ostiary.domain.directory import passwords
from ostiary.http.login.page import login_url, safe_next
from tests.conftest import Server
from tests.support.authn import LOGIN
from tests.support.login_page import csrf_token, set_cookies, submit
from tests.support.users import PASSWORD, create

ME = "/api/v1/sessions/me"


# --- the form ----------------------------------------------------------------------------------


async def test_the_form_renders_with_a_csrf_token_and_the_org_name(server: Server) -> None:
    async with server.client() as browser:
        page = await browser.get("/login")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<form method="post" action="/login"' in page.text
    assert 'name="username"' in page.text and 'type="password"' in page.text
    assert "<script" not in page.text and "http" not in page.text.split("<body>")[1]
    token = csrf_token(page)
    cookie = set_cookies(page)["ostiary_csrf"]
    assert cookie.startswith(f"ostiary_csrf={token};")
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    async with server.rt.db.session() as session:
        from ostiary.store.repositories import orgs

        org = await orgs.ensure_default(session)
    assert org.name in page.text


async def test_the_page_forbids_framing_and_caching(server: Server) -> None:
    async with server.client() as browser:
        page = await browser.get("/login")
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


async def test_the_form_keeps_a_safe_from_uri_and_drops_an_unsafe_one(server: Server) -> None:
    async with server.client() as browser:
        kept = await browser.get("/login", params={"fromURI": "/oauth2/default/v1/authorize?a=1&b=2"})
        dropped = await browser.get("/login", params={"fromURI": "https://evil.example/"})
    assert 'name="fromURI" value="/oauth2/default/v1/authorize?a=1&amp;b=2"' in kept.text
    assert "fromURI" not in dropped.text and "evil" not in dropped.text


# --- CSRF --------------------------------------------------------------------------------------


async def test_a_post_without_a_csrf_token_is_a_403_page(server: Server, admin: httpx.AsyncClient) -> None:
    await create(admin)
    async with server.client() as browser:
        await browser.get("/login")
        response = await browser.post("/login", data={"username": LOGIN, "password": PASSWORD})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "This sign-in form has expired" in response.text
    assert "sid" not in set_cookies(response)


async def test_a_post_with_a_wrong_csrf_token_is_a_403_page(server: Server, admin: httpx.AsyncClient) -> None:
    await create(admin)
    async with server.client() as browser:
        await browser.get("/login")
        data = {"csrfToken": "A" * 43, "username": LOGIN, "password": PASSWORD}
        response = await browser.post("/login", data=data)
    assert response.status_code == 403
    assert "sid" not in set_cookies(response)


async def test_a_token_without_its_cookie_is_refused(server: Server, admin: httpx.AsyncClient) -> None:
    """What a cross-site form can do: copy a token, but not make the browser send the cookie."""
    await create(admin)
    async with server.client() as attacker:
        token = csrf_token(await attacker.get("/login"))
    async with server.client() as victim:
        response = await victim.post(
            "/login", data={"csrfToken": token, "username": LOGIN, "password": PASSWORD}
        )
    assert response.status_code == 403


async def test_the_403_page_offers_a_fresh_form_that_works(server: Server, admin: httpx.AsyncClient) -> None:
    await create(admin)
    async with server.client() as browser:
        refused = await browser.post("/login", data={"username": LOGIN, "password": PASSWORD})
        assert refused.status_code == 403
        retry = await browser.post(
            "/login", data={"csrfToken": csrf_token(refused), "username": LOGIN, "password": PASSWORD}
        )
    assert retry.status_code == 303


# --- signing in ----------------------------------------------------------------------------------


async def test_a_wrong_password_shows_the_error_in_the_page(server: Server, admin: httpx.AsyncClient) -> None:
    await create(admin)
    async with server.client() as browser:
        response = await submit(browser, password="Wr0ng-Password!")
    assert response.status_code == 200
    assert "Unable to sign in" in response.text
    assert f'value="{LOGIN}"' in response.text
    assert "Wr0ng-Password!" not in response.text
    assert "sid" not in set_cookies(response)


async def test_an_unknown_user_sees_the_same_error(server: Server) -> None:
    async with server.client() as browser:
        response = await submit(browser, username="nobody@example.com")
    assert "Unable to sign in" in response.text


async def test_empty_fields_are_asked_for_again(server: Server) -> None:
    async with server.client() as browser:
        response = await submit(browser, password="")
    assert response.status_code == 400
    assert "Enter your username and password" in response.text


async def test_user_input_is_escaped(server: Server) -> None:
    async with server.client() as browser:
        response = await submit(browser, username='"><script>alert(1)</script>')
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;" in response.text


async def test_success_sets_a_safe_session_cookie_and_redirects_to_from_uri(
    any_server: Server, any_admin: httpx.AsyncClient
) -> None:
    await create(any_admin)
    target = "/oauth2/default/v1/authorize?client_id=x&state=y"
    async with any_server.client() as browser:
        response = await submit(browser, fromURI=target)
        assert response.status_code == 303
        assert response.headers["location"] == target
        cookie = set_cookies(response)["sid"]
        assert "HttpOnly" in cookie and "Path=/" in cookie and "samesite=lax" in cookie.lower()
        assert "secure" not in cookie.lower()
        me = await browser.get(ME)
    assert me.status_code == 200
    assert me.json()["login"] == LOGIN


async def test_without_from_uri_success_returns_to_the_sign_in_page(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await create(admin)
    async with server.client() as browser:
        response = await submit(browser)
        assert response.headers["location"] == "/login"
        page = await browser.get("/login")
    assert f"You are signed in as {LOGIN}" in page.text


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example/path",
        "http:/evil.example",
    ],
)
async def test_unsafe_redirect_targets_are_refused(
    server: Server, admin: httpx.AsyncClient, target: str
) -> None:
    await create(admin)
    async with server.client() as browser:
        response = await submit(browser, fromURI=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


async def test_https_requests_get_secure_cookies_and_a_host_prefixed_csrf_cookie(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await create(admin)
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(transport=transport, base_url="https://localhost:8080") as browser:
        page = await browser.get("/login")
        csrf_cookie = set_cookies(page)["__Host-ostiary_csrf"]
        assert "Secure" in csrf_cookie and "Path=/" in csrf_cookie and "Domain" not in csrf_cookie
        data = {"csrfToken": csrf_token(page), "username": LOGIN, "password": PASSWORD}
        response = await browser.post("/login", data=data)
    assert response.status_code == 303
    assert "Secure" in set_cookies(response)["sid"]


async def test_a_locked_out_user_gets_the_generic_refusal_even_with_the_right_password(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await create(admin)
    async with server.client() as browser:
        for _ in range(passwords.DEFAULT_POLICY.max_attempts):
            await submit(browser, password="Wr0ng-Password!")
        locked = await submit(browser)
    assert "Unable to sign in. Check your username and password." in locked.text
    assert "locked" not in locked.text.lower()
    assert "sid" not in set_cookies(locked)


async def test_signing_in_again_replaces_the_previous_session(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await create(admin)
    async with server.client() as browser:
        await submit(browser)
        first = (await browser.get(ME)).json()["id"]
        await submit(browser)
        second = (await browser.get(ME)).json()["id"]
    assert first != second
    assert (await admin.get(f"/api/v1/sessions/{first}")).status_code == 404


# --- signing out ---------------------------------------------------------------------------------


async def test_signout_ends_the_session_and_clears_the_cookie(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await create(admin)
    async with server.client() as browser:
        await submit(browser)
        session_id = (await browser.get(ME)).json()["id"]
        page = await browser.get("/login/signout")
        response = await browser.post(
            "/login/signout", data={"csrfToken": csrf_token(page), "fromURI": "//evil.example"}
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
        assert "Max-Age=0" in set_cookies(response)["sid"]
        assert (await browser.get(ME)).status_code == 404
    assert (await admin.get(f"/api/v1/sessions/{session_id}")).status_code == 404


async def test_signout_without_a_session_just_redirects(server: Server) -> None:
    async with server.client() as browser:
        response = await browser.get("/login/signout", params={"fromURI": "/bye"})
    assert (response.status_code, response.headers["location"]) == (303, "/bye")


# --- helpers for the authorize endpoint ----------------------------------------------------------


def test_login_url_round_trips_a_relative_path() -> None:
    assert login_url("/oauth2/v1/authorize?client_id=a&state=b") == (
        "/login?fromURI=%2Foauth2%2Fv1%2Fauthorize%3Fclient_id%3Da%26state%3Db"
    )


def test_login_url_drops_an_unsafe_target() -> None:
    assert login_url("https://evil.example/") == "/login"
    assert safe_next("//evil.example") is None
    assert safe_next("/ok/path?x=1#f") == "/ok/path?x=1#f"
