"""``response_mode=okta_post_message`` in the authorize pipeline: what each outcome posts (codes,
implicit tokens, ``prompt=none`` errors, a ``sessionToken`` sign-in), and discovery."""

from __future__ import annotations

import httpx

from tests.conftest import Server
from tests.support.authorize import REDIRECT, authorize, claims, session_token, user, web_app
from tests.support.authorize_flows import consent_setup, signed_in
from tests.support.post_message import CARL, POST_MESSAGE, posted, silent, spa_with_session


async def test_implicit_tokens_are_posted_with_their_metadata(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, _ = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as browser:
        await signed_in(browser, client_id)
        response = await authorize(
            browser, client_id, response_type="id_token token", response_mode=POST_MESSAGE, prompt="none"
        )
    data = posted(response)["data"]
    assert {"access_token", "id_token", "token_type", "expires_in", "scope", "state"} == set(data)
    assert claims(data["id_token"])["nonce"] == "n0nce" and claims(data["access_token"])["sub"] == CARL


async def test_a_session_token_signs_in_and_sets_the_cookie_in_the_post_message_mode(
    admin: httpx.AsyncClient, server: Server
) -> None:
    """okta-auth-js ``token.getWithoutPrompt({sessionToken})``: a hidden frame, ``prompt=none``."""
    client_id, _ = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as browser:
        token = await session_token(browser, CARL)
        response = await authorize(
            browser, client_id, response_mode=POST_MESSAGE, prompt="none", sessionToken=token
        )
    assert "code" in posted(response)["data"]
    assert "sid=" in response.headers["set-cookie"]


async def test_prompt_none_with_pending_consent_posts_consent_required(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id = await consent_setup(admin)
    async with server.client() as browser:
        await signed_in(browser, client_id)
        response = await authorize(
            browser, client_id, scope="openid photos:read", prompt="none", response_mode=POST_MESSAGE
        )
    message = posted(response)
    assert message["data"]["error"] == "consent_required"
    assert message["targetOrigin"] == "https://app.example.com" and REDIRECT.startswith(
        message["targetOrigin"]
    )


async def test_a_bad_request_is_posted_too_once_the_redirect_uri_is_known(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, _ = await web_app(admin)
    async with server.client() as browser:
        response = await authorize(
            browser, client_id, response_mode=POST_MESSAGE, scope="openid nope:unknown"
        )
    assert posted(response)["data"]["error"] == "invalid_scope"


async def test_a_silent_renewal_gets_a_new_code(admin: httpx.AsyncClient, server: Server) -> None:
    async with server.client() as browser:
        client_id = await spa_with_session(admin, browser)
        first, second = await silent(browser, client_id), await silent(browser, client_id)
    assert posted(first)["data"]["code"] != posted(second)["data"]["code"]


async def test_discovery_lists_okta_post_message(server: Server) -> None:
    async with server.client() as anon:
        for path in ("/oauth2/default/.well-known/openid-configuration", "/.well-known/openid-configuration"):
            document = (await anon.get(path)).json()
            assert "okta_post_message" in document["response_modes_supported"]
