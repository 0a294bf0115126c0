"""``response_mode=okta_post_message`` (issue 14): the page that hands a code, tokens or an error to
the app's window by ``postMessage``. Its target origin is the origin of the request's redirect URI
(one of the app's registered URIs), never ``*``, and only that origin may frame it."""

from __future__ import annotations

import httpx

from tests.conftest import Server
from tests.support.authorize import (
    REDIRECT,
    authorize,
    spa_app,
    web_app,
)
from tests.support.post_message import _DATA, POST_MESSAGE, posted, silent, spa_with_session


def frame_ancestors(response: httpx.Response) -> str:
    policy = response.headers["content-security-policy"]
    directive = next(d.strip() for d in policy.split(";") if d.strip().startswith("frame-ancestors"))
    return directive.removeprefix("frame-ancestors").strip()


async def test_the_code_is_posted_to_the_redirect_uri_origin_only(
    admin: httpx.AsyncClient, server: Server
) -> None:
    async with server.client() as browser:
        client_id = await spa_with_session(admin, browser)
        response = await silent(browser, client_id)
    message = posted(response)
    assert message["targetOrigin"] == "https://spa.example.com"
    assert set(message["data"]) == {"code", "state"} and message["data"]["state"] == "st4te"
    assert "*" not in response.text.replace("*/", "")  # no wildcard target anywhere in the page


async def test_only_the_redirect_uri_origin_may_frame_the_page(
    admin: httpx.AsyncClient, server: Server
) -> None:
    async with server.client() as browser:
        client_id = await spa_with_session(admin, browser)
        response = await silent(browser, client_id)
    assert frame_ancestors(response) == "https://spa.example.com"
    assert "x-frame-options" not in response.headers  # frame-ancestors decides; DENY would forbid all
    assert "script-src 'nonce-" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


async def test_prompt_none_without_a_session_posts_login_required(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id = await spa_app(admin)
    async with server.client() as browser:
        response = await silent(browser, client_id)
    message = posted(response)
    assert message["targetOrigin"] == "https://spa.example.com"
    assert message["data"]["error"] == "login_required"
    assert message["data"]["state"] == "st4te" and message["data"]["error_description"]
    assert frame_ancestors(response) == "https://spa.example.com"


async def test_the_target_is_the_origin_of_the_uri_the_request_named_among_several(
    admin: httpx.AsyncClient, server: Server
) -> None:
    other = "https://other.example.org:8443/cb"
    client_id, _ = await web_app(admin, redirects=[REDIRECT, other])
    async with server.client() as browser:
        response = await authorize(
            browser, client_id, redirect_uri=other, response_mode=POST_MESSAGE, prompt="none"
        )
    assert posted(response)["targetOrigin"] == "https://other.example.org:8443"
    assert frame_ancestors(response) == "https://other.example.org:8443"


async def test_a_wildcard_redirect_posts_to_the_matched_subdomain_not_the_pattern(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, _ = await web_app(
        admin, redirects=["https://*.example.com/callback"], wildcard_redirect="SUBDOMAIN"
    )
    async with server.client() as browser:
        response = await authorize(
            browser,
            client_id,
            redirect_uri="https://tenant1.example.com/callback",
            response_mode=POST_MESSAGE,
            prompt="none",
        )
    assert posted(response)["targetOrigin"] == "https://tenant1.example.com"
    assert frame_ancestors(response) == "https://tenant1.example.com"


async def test_an_unregistered_redirect_uri_gets_an_unframeable_page_that_posts_nothing(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id = await spa_app(admin)
    async with server.client() as browser:
        response = await silent(browser, client_id, redirect_uri="https://evil.example/callback")
    assert response.status_code == 400
    assert _DATA.search(response.text) is None and "postMessage" not in response.text
    assert response.headers["x-frame-options"] == "DENY"
    assert frame_ancestors(response) == "'none'"


async def test_markup_in_state_cannot_break_out_of_the_page(admin: httpx.AsyncClient, server: Server) -> None:
    state = "</script><script>alert(1)</script>'\"&"
    client_id = await spa_app(admin)
    async with server.client() as browser:
        response = await silent(browser, client_id, state=state)
    assert "<script>alert(1)" not in response.text
    assert posted(response)["data"]["state"] == state


async def test_a_redirect_uri_without_a_web_origin_cannot_use_post_message(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, _ = await web_app(admin, app_type="native", redirects=["com.example.app:/callback"])
    async with server.client() as browser:
        response = await authorize(
            browser, client_id, redirect_uri="com.example.app:/callback", response_mode=POST_MESSAGE
        )
    assert response.status_code == 302
    assert response.headers["location"].startswith("com.example.app:/callback?error=invalid_request")
