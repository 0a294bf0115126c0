"""The hosted sign-in form: its CSRF token, submitting it, reading cookies."""

from __future__ import annotations

import re

import httpx

from tests.support.authn import LOGIN
from tests.support.users import PASSWORD


def csrf_token(page: httpx.Response) -> str:
    match = re.search(r'name="csrfToken" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Set-Cookie headers by cookie name."""
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


async def submit(
    client: httpx.AsyncClient, username: str = LOGIN, password: str = PASSWORD, **fields: str
) -> httpx.Response:
    """Load the form (which sets the CSRF cookie in the client's jar) and post it."""
    page = await client.get("/login")
    data = {"csrfToken": csrf_token(page), "username": username, "password": password, **fields}
    return await client.post("/login", data=data)
