"""The admin console as a browser uses it: admins, sign-in through the hosted page, CSRF tokens."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import httpx

from tests.conftest import ORG_URL, Server

PASSWORD = "Adm1n-Secret!pass"
ADMIN_LOGIN = "root.admin@example.com"
PLAIN_LOGIN = "plain.user@example.com"


async def make_user(admin: httpx.AsyncClient, login: str) -> str:
    body = {
        "profile": {"login": login, "email": login, "firstName": "A", "lastName": "B"},
        "credentials": {"password": {"value": PASSWORD}},
    }
    created = await admin.post("/api/v1/users?activate=true", json=body)
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


async def make_admin(admin: httpx.AsyncClient, login: str = ADMIN_LOGIN) -> str:
    user_id = await make_user(admin, login)
    groups = (await admin.get("/api/v1/groups", params={"q": "Ostiary Admins"})).json()
    if groups:
        group_id = groups[0]["id"]
    else:
        created = await admin.post("/api/v1/groups", json={"profile": {"name": "Ostiary Admins"}})
        group_id = created.json()["id"]
    assert (await admin.put(f"/api/v1/groups/{group_id}/users/{user_id}")).status_code == 204
    return user_id


def form_csrf(page: httpx.Response) -> str:
    match = re.search(r'name="csrfToken" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


@asynccontextmanager
async def signed_in(server: Server, login: str) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.Response]]:
    """A browser-like client walks /admin → /admin/login → authorize → hosted sign-in →
    callback; returns the client (cookies kept) and the last response."""
    transport = httpx.ASGITransport(app=server.app, raise_app_exceptions=False)
    set_cookie: list[str] = []

    async def keep(response: httpx.Response) -> None:
        set_cookie.extend(response.headers.get_list("set-cookie"))

    hooks = {"response": [keep]}
    async with httpx.AsyncClient(transport=transport, base_url=ORG_URL, event_hooks=hooks) as browser:
        browser.set_cookie_headers = set_cookie  # type: ignore[attr-defined]
        response = await browser.get("/admin")
        hops = 0
        while response.status_code in (302, 303) and hops < 10:
            hops += 1
            location = response.headers["location"]
            if urlsplit(location).path == "/login":
                page = await browser.get(location)
                data = {"csrfToken": form_csrf(page), "username": login, "password": PASSWORD}
                response = await browser.post(location, data=data)
            else:
                response = await browser.get(location)
            refresh = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', response.text)
            if response.status_code == 200 and refresh:  # the authorize endpoint's resume page
                response = await browser.get(html.unescape(refresh.group(1)))
        yield browser, response
