"""Review of F3's fix: the caches are bounded in entries, but an entry's key is what the client
sent. An authorization-server id in the URL can be ~80 KB (uvicorn's httptools accepts that),
so 4096 cached misses held ~320 MB until evicted, and each cost a database lookup. Ids are at
most 32 characters (``store.types.id_type``): a longer one names no server and is neither
looked up nor cached."""

from __future__ import annotations

from ostiary.domain.authz.server_lookup import ServerCache
from tests.conftest import Server


async def test_an_id_longer_than_any_id_is_not_cached(server: Server) -> None:
    cache = ServerCache(server.rt.db, max_size=16)
    org = await server.rt.org_for_host("localhost:8080")
    for i in range(20):
        assert await cache.get(org.id, f"{i}" + "a" * 60_000) is None
    assert len(cache) == 0
    assert await cache.get(org.id, "default") is not None


async def test_a_long_server_id_in_the_url_is_404_and_leaves_no_entry(server: Server) -> None:
    before = len(server.rt.servers)
    async with server.client() as client:
        for i in range(5):
            response = await client.get(f"/oauth2/{i}{'a' * 60_000}/v1/keys")
            assert response.status_code == 404
            assert response.json()["error"] == "not_found"
    assert len(server.rt.servers) == before
