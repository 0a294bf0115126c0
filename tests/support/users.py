"""Users made through /api/v1/users, and the password they sign in with."""

from __future__ import annotations

from typing import Any

import httpx

PASSWORD = "Tr1cky-Secret!"


def profile(login: str = "ann.lee@example.com", **extra: Any) -> dict[str, Any]:
    first, last = login.split("@")[0].split(".") if "." in login.split("@")[0] else ("Ann", "Lee")
    return {"login": login, "email": login, "firstName": first.title(), "lastName": last.title(), **extra}


async def create(
    client: httpx.AsyncClient,
    login: str = "ann.lee@example.com",
    *,
    password: bool = True,
    activate: str = "true",
    **extra: Any,
) -> httpx.Response:
    body: dict[str, Any] = {"profile": profile(login, **extra)}
    if password:
        body["credentials"] = {"password": {"value": PASSWORD}}
    return await client.post(f"/api/v1/users?activate={activate}", json=body)
