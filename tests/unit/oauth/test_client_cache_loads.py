"""Concurrent misses on one client share one load (``ClientCache.load_once``), and what an
invalidation overtook is not handed to the waiters; on ``serve --memory``'s app, a burst of
client_credentials requests after the cached entries went reads the app, its grants and the org
once, not once each."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from ostiary import memory_server
from ostiary.domain.clients.client_cache import Client, ClientCache
from ostiary.domain.org_file.document import check
from tests.conftest import make_settings

ORG, CLIENT = "00oOrg", "0oaClient"


def _client(label: str = "v1", org_id: str = ORG) -> Client:
    return Client(
        id=CLIENT,
        org_id=org_id,
        name="oidc_client",
        label=label,
        status="ACTIVE",
        application_type="service",
        token_endpoint_auth_method="client_secret_basic",
        pkce_required=False,
        redirect_uris=(),
        post_logout_redirect_uris=(),
        response_types=("token",),
        grant_types=("client_credentials",),
        settings={},
        secrets=(),
        keys=(),
    )


class SlowLoads:
    def __init__(self, value: Client | None) -> None:
        self.value = value
        self.calls = 0
        self.release = asyncio.Event()

    async def __call__(self) -> Client | None:
        self.calls += 1
        await self.release.wait()
        return self.value


async def test_concurrent_misses_wait_for_one_load() -> None:
    cache, load = ClientCache(), SlowLoads(_client())
    waiting = [asyncio.ensure_future(cache.load_once(ORG, CLIENT, load)) for _ in range(20)]
    await asyncio.sleep(0)
    load.release.set()
    got = await asyncio.gather(*waiting)
    assert load.calls == 1
    assert all(client is load.value for client in got)
    assert cache.get(ORG, CLIENT) is load.value and cache.loads_in_flight == 0


async def test_a_load_an_invalidation_overtook_is_not_handed_to_the_waiters() -> None:
    cache, stale = ClientCache(), SlowLoads(_client("stale"))
    fresh = dataclasses.replace(_client("fresh"))
    first = asyncio.ensure_future(cache.load_once(ORG, CLIENT, stale))
    await asyncio.sleep(0)

    async def fresh_load() -> Client | None:
        return fresh

    waiter = asyncio.ensure_future(cache.load_once(ORG, CLIENT, fresh_load))
    await asyncio.sleep(0)
    cache.invalidate(CLIENT)  # a write to the app while the first load reads it
    stale.release.set()
    assert (await first).label == "stale"  # its own request read it: as before
    assert (await waiter).label == "fresh"
    assert cache.get(ORG, CLIENT) is fresh


async def test_an_unknown_client_is_not_cached_and_each_caller_looks_for_it() -> None:
    cache, load = ClientCache(), SlowLoads(None)
    load.release.set()
    assert await asyncio.gather(*(cache.load_once(ORG, CLIENT, load) for _ in range(3))) == [None] * 3
    assert load.calls == 3 and cache.get(ORG, CLIENT) is None and cache.loads_in_flight == 0


async def test_another_orgs_client_is_not_handed_out() -> None:
    cache = ClientCache()
    cache.put(_client(org_id="00oOther"), cache.generation)
    load = SlowLoads(_client())
    load.release.set()
    assert (await cache.load_once(ORG, CLIENT, load)) is load.value and load.calls == 1


SECRET = "burst-secret-0123456789abcdef0123456789"
ORG_FILE: dict[str, Any] = {
    "apps": [
        {
            "label": "burst",
            "credentials": {
                "oauthClient": {
                    "client_id": "0oaBurst",
                    "client_secret": SECRET,
                    "token_endpoint_auth_method": "client_secret_basic",
                }
            },
            "settings": {
                "oauthClient": {
                    "application_type": "service",
                    "grant_types": ["client_credentials"],
                    "response_types": ["token"],
                }
            },
            "grants": ["okta.users.read"],
        }
    ]
}


async def test_a_burst_after_the_entry_went_reads_the_app_once(tmp_path: Path) -> None:
    settings = memory_server.memory_settings(make_settings(tmp_path, "unused"), 8080)
    app, _org, _token = await memory_server.build(settings, org_doc=check(ORG_FILE))
    reads: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        table = re.search(r"\bFROM\s+(\w+)", statement)
        reads[table.group(1) if table else statement[:20]] += 1

    event.listen(app.state.runtime.db.engine.sync_engine, "before_cursor_execute", count)
    basic = base64.b64encode(f"0oaBurst:{SECRET}".encode()).decode()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as client:

        async def token() -> int:
            answer = await client.post(
                "/oauth2/v1/token",
                headers={"Authorization": f"Basic {basic}"},
                data={"grant_type": "client_credentials", "scope": "okta.users.read"},
            )
            return answer.status_code

        assert await token() == 200
        rt = app.state.runtime
        rt.forget_all()  # as when the entries expire: clients, grants, servers, keys ...
        rt._org_cache.invalidate()  # ... and the org named by the Host header
        reads.clear()
        assert await asyncio.gather(*(token() for _ in range(24))) == [200] * 24
    assert reads["apps"] == reads["app_grants"] == reads["orgs"] == 1, reads
    assert max(reads.values()) <= 2, reads  # the org server's row: by its lookup and its key ring
