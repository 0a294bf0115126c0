"""``response_mode=okta_post_message``: a SPA with a session and the message posted to it."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from tests.support.authorize import (
    SPA_REDIRECT,
    authorize,
    pkce_pair,
    session_token,
    spa_app,
    user,
)

CARL = "carl.sagan@example.com"


POST_MESSAGE = "okta_post_message"


_DATA = re.compile(r'<script type="application/json" id="okta-post-message">(.*?)</script>', re.S)


def posted(response: httpx.Response) -> dict[str, Any]:
    """What the page posts: ``{"targetOrigin": ..., "data": {...}}`` from its JSON block."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    found = _DATA.search(response.text)
    assert found is not None, response.text
    return dict(json.loads(found.group(1)))


async def spa_with_session(admin: httpx.AsyncClient, browser: httpx.AsyncClient, **kwargs: Any) -> str:
    client_id = await spa_app(admin, **kwargs)
    await user(admin, CARL)
    _, challenge = pkce_pair()
    signed_in = await authorize(
        browser,
        client_id,
        redirect_uri=SPA_REDIRECT,
        code_challenge=challenge,
        code_challenge_method="S256",
        sessionToken=await session_token(browser, CARL),
    )
    assert signed_in.status_code == 302 and "code=" in signed_in.headers["location"]
    return client_id


async def silent(browser: httpx.AsyncClient, client_id: str, **overrides: str | None) -> httpx.Response:
    _, challenge = pkce_pair()
    params: dict[str, str | None] = {
        "redirect_uri": SPA_REDIRECT,
        "response_mode": POST_MESSAGE,
        "prompt": "none",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return await authorize(browser, client_id, **params)
