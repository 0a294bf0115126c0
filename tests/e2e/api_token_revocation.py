"""The scenario both cache-event transports must pass for API tokens: process B remembers a
token, process A revokes it, B refuses it within 2 s (inside the remembered token's 5 s, so
only the announcement explains it) and still honours the other token."""

from __future__ import annotations

import requests

from tests.conftest import Server
from tests.e2e.servers import OrgServer, until


async def revoked_token_is_refused_by_the_other(process_a: Server, process_b: OrgServer) -> None:
    keeper = await process_a.create_token("keeper")
    victim = await process_a.create_token("victim")
    users = f"{process_b.url}/api/v1/users"
    victim_header = {"Authorization": f"SSWS {victim}"}
    assert requests.get(users, headers=victim_header, timeout=10).status_code == 200  # B remembers it

    async with process_a.client(keeper) as a:
        listed = (await a.get("/api/v1/api-tokens")).json()
        victim_id = next(t["id"] for t in listed if t["name"] == "victim")
        assert (await a.delete(f"/api/v1/api-tokens/{victim_id}")).status_code == 204

    assert until(lambda: requests.get(users, headers=victim_header, timeout=10).status_code == 401, 2), (
        "process B still honours the revoked API token"
    )
    assert requests.get(users, headers={"Authorization": f"SSWS {keeper}"}, timeout=10).status_code == 200
