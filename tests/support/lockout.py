"""Wrong passwords against /api/v1/authn and the lockout policy that counts them."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from ostiary.domain.directory import passwords
from ostiary.store.models import User
from tests.conftest import ORG_URL, Server
from tests.support.authn import AUTHN, LOGIN

WRONG = "Wr0ng-Password!"


POLICY = passwords.DEFAULT_POLICY


def client_from(server: Server, ip: str = "203.0.113.7", **headers: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=server.app, raise_app_exceptions=False, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url=ORG_URL, headers=headers)


async def authn(server: Server, password: str, username: str = LOGIN, **kw: Any) -> httpx.Response:
    async with client_from(server, **kw) as client:
        return await client.post(AUTHN, json={"username": username, "password": password})


async def failed_logins(server: Server) -> int:
    async with server.rt.db.session() as session:
        user = (await session.scalars(select(User).where(User.login_lower == LOGIN))).one()
        return user.failed_logins
