"""Scopes and custom claims of an authorization server."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.authorization_servers import AS, create_server


async def new_server(client: httpx.AsyncClient) -> str:
    return str((await create_server(client))["id"])


async def claims_of(client: httpx.AsyncClient, server_id: str) -> list[dict[str, Any]]:
    return list((await client.get(f"{AS}/{server_id}/claims")).json())


def expression_claim(name: str = "tier", value: str = "user.email", **extra: Any) -> dict[str, Any]:
    return {"name": name, "claimType": "RESOURCE", "valueType": "EXPRESSION", "value": value, **extra}
