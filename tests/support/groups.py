"""Groups made through /api/v1/groups."""

from __future__ import annotations

import httpx


async def create_group(client: httpx.AsyncClient, name: str = "silverSubscribers") -> httpx.Response:
    return await client.post("/api/v1/groups", json={"profile": {"name": name, "description": name}})
