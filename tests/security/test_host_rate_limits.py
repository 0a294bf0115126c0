"""Security review F3: the Host header names an org or nothing; it never makes a new rate-limit
bucket or cache entry (reliability report defect 6)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from ostiary.domain.authz.server_lookup import ServerCache
from ostiary.http.org_by_host import DEFAULT_ORG, HostMatch, match_host
from ostiary.http.runtime import ORG_CACHE_SIZE
from ostiary.store.repositories import orgs
from tests.conftest import ORG_URL, Server, _server

AUTHN = "/api/v1/authn"
CREDENTIALS = {"username": "nobody@example.com", "password": "Wr0ng-Password!"}


def client_from(server: Server, ip: str = "203.0.113.7", **headers: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=server.app, raise_app_exceptions=False, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url=ORG_URL, headers=headers)


@pytest.fixture
async def limited(tmp_path: Path, sqlite_database_url: str) -> AsyncIterator[Server]:
    async for s in _server(tmp_path, sqlite_database_url, rate_limits="authn=3"):
        yield s


def assert_unknown_host(response: httpx.Response) -> None:
    assert response.status_code == 404
    body = response.json()
    assert body["errorCode"] == "E0000007"
    assert set(body) == {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}


# --- which hosts are served ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost:8080", DEFAULT_ORG),
        ("LOCALHOST:18120", DEFAULT_ORG),
        ("localhost.", DEFAULT_ORG),
        ("127.0.0.1:8080", DEFAULT_ORG),
        ("[::1]:8080", DEFAULT_ORG),
        ("acme.localhost:8080", HostMatch("acme")),
        ("x1", None),
        ("evil.example.com", None),
        ("a.b.localhost", None),
        ("-bad.localhost", None),
        ("", None),
        ("a" * 16000, None),
        ("x" * 16000 + ".localhost", None),
    ],
)
def test_hosts_under_a_loopback_base(host: str, expected: HostMatch | None) -> None:
    assert match_host(host, "localhost") == expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("id.example.com", DEFAULT_ORG),
        ("ID.Example.COM:443", DEFAULT_ORG),
        ("acme.id.example.com", HostMatch("acme")),
        ("localhost:8080", None),
        ("127.0.0.1", None),
        ("id.example.com.evil.net", None),
        ("evilid.example.com", None),
    ],
)
def test_hosts_under_a_public_base(host: str, expected: HostMatch | None) -> None:
    assert match_host(host, "id.example.com") == expected


async def test_an_unknown_host_is_404_in_oktas_shape(server: Server) -> None:
    token = await server.create_token()
    async with server.client(token, Host="x1") as client:
        assert_unknown_host(await client.get("/api/v1/users"))
        assert_unknown_host(await client.get("/oauth2/v1/keys"))
        assert_unknown_host(await client.post(AUTHN, json=CREDENTIALS))
        assert_unknown_host(await client.post("/oauth2/default/v1/token", data={"grant_type": "x"}))


async def test_an_unknown_org_subdomain_is_404_and_a_known_one_is_served(server: Server) -> None:
    async with server.rt.db.session() as session:
        await orgs.create_org(session, "Acme", "acme")
    async with server.client(Host="nope.localhost:8080") as client:
        assert_unknown_host(await client.get("/oauth2/v1/keys"))
    async with server.client(Host="acme.localhost:8080") as client:
        response = await client.get("/api/v1/users")
    assert response.status_code == 403  # the org exists: its own API asks for its own credentials
    assert response.json()["errorCode"] == "E0000005"


async def test_loopback_names_reach_the_default_org(server: Server) -> None:
    token = await server.create_token()
    for host in ("localhost:8080", "127.0.0.1:8080", "localhost"):
        async with server.client(token, Host=host) as client:
            assert (await client.get("/api/v1/users")).status_code == 200, host


async def test_health_answers_whatever_the_host(server: Server) -> None:
    async with server.client(Host="10.1.2.3:8080") as client:
        assert (await client.get("/healthz")).status_code == 200


# --- rate limits ---------------------------------------------------------------------------------


async def test_varying_the_host_does_not_make_a_new_bucket(limited: Server) -> None:
    async with client_from(limited) as client:
        first = [(await client.post(AUTHN, json=CREDENTIALS)).status_code for _ in range(3)]
        assert first == [401, 401, 401]
        # Foreign hosts name no org (404); other spellings of the loopback host name the
        # default org, whose bucket the first three used up (429), never a fresh one (401).
        answers = {"x1": 404, "x2": 404, "LOCALHOST:18120": 429, "127.0.0.1:9999": 429, "localhost.": 429}
        for host, status in answers.items():
            response = await client.post(AUTHN, json=CREDENTIALS, headers={"Host": host})
            assert response.status_code == status, host
        response = await client.post(AUTHN, json=CREDENTIALS, headers={"Host": "127.0.0.1:8080"})
    assert response.status_code == 429
    assert response.json()["errorCode"] == "E0000047"


async def test_buckets_are_per_client_address(limited: Server) -> None:
    async with client_from(limited, ip="203.0.113.7") as first:
        for _ in range(3):
            await first.post(AUTHN, json=CREDENTIALS)
        assert (await first.post(AUTHN, json=CREDENTIALS)).status_code == 429
    async with client_from(limited, ip="198.51.100.9") as second:
        assert (await second.post(AUTHN, json=CREDENTIALS)).status_code == 401


# --- bounded caches ------------------------------------------------------------------------------


async def test_the_org_cache_stays_bounded_under_a_host_flood(server: Server) -> None:
    async with server.client() as client:
        for i in range(ORG_CACHE_SIZE + 200):
            response = await client.get("/oauth2/v1/keys", headers={"Host": f"h{i}.localhost"})
            assert response.status_code == 404
        for _ in range(20):
            host = "x" * 16000 + secrets.token_hex(4)
            assert (await client.get("/oauth2/v1/keys", headers={"Host": host})).status_code == 404
    assert len(server.rt._org_cache) <= ORG_CACHE_SIZE


async def test_the_server_cache_stays_bounded_under_unknown_ids(server: Server) -> None:
    cache = ServerCache(server.rt.db, max_size=16)
    org = await server.rt.org_for_host("localhost:8080")
    for i in range(100):
        assert await cache.get(org.id, f"aus-unknown-{i}") is None
    assert len(cache) == 16
    assert await cache.get(org.id, "default") is not None
