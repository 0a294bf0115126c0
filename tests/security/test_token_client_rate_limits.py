"""F3 remainder: the token endpoint is limited per org + client as well as per org + address.

Before, only the per-address ``oauth2`` bucket counted token requests, so one client (a runaway
integration, or someone holding or guessing its id) spread over many addresses could take the
whole org's token endpoint. Now each token request also counts against ``token_client`` under
the client it names (``Authorization: Basic``, ``client_id``, or a client assertion's
``sub``/``iss``, read unverified), or under its address when it names none. Unless set, the
limit is half of ``oauth2`` (Okta's default share of one app). A refusal is Okta's 429
``E0000047`` with the ``X-Rate-Limit-*`` headers of the bucket that refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from ostiary.http.ratelimit import parse_limits
from tests.conftest import ORG_URL, Server, _server
from tests.support.oauth import TOKEN_URL, assertion, basic, key_client, service_client

TOKEN = "/oauth2/v1/token"
SCOPE = "okta.users.read"
GRANT = {"grant_type": "client_credentials", "scope": SCOPE}
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture
async def limited(tmp_path: Path, sqlite_database_url: str) -> AsyncIterator[Server]:
    """``oauth2`` = 6 per address, so ``token_client`` = 3 per client."""
    async for s in _server(tmp_path, sqlite_database_url, rate_limits="oauth2=6"):
        yield s


def from_address(server: Server, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=server.app, raise_app_exceptions=False, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url=ORG_URL)


async def post_from(server: Server, ip: str, **kwargs: object) -> httpx.Response:
    async with from_address(server, ip) as client:
        return await client.post(TOKEN, **kwargs)  # type: ignore[arg-type]


def assert_limited(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["errorCode"] == "E0000047"
    assert response.headers["x-rate-limit-limit"] == str(limit)
    assert response.headers["x-rate-limit-remaining"] == "0"
    assert int(response.headers["x-rate-limit-reset"]) > 0


async def admin_of(server: Server) -> httpx.AsyncClient:
    return server.client(await server.create_token())


async def test_one_client_spread_over_many_addresses_is_limited(limited: Server) -> None:
    async with await admin_of(limited) as admin:
        client_id, secret = await service_client(admin, SCOPE)
    statuses = [
        (
            await post_from(limited, f"198.51.100.{i}", data=GRANT, headers=basic(client_id, secret))
        ).status_code
        for i in range(3)
    ]
    assert statuses == [200, 200, 200]
    refused = await post_from(limited, "198.51.100.99", data=GRANT, headers=basic(client_id, secret))
    assert_limited(refused, 3)


async def test_failed_attempts_in_a_clients_name_do_not_spend_its_bucket(limited: Server) -> None:
    async with await admin_of(limited) as admin:
        client_id, secret = await service_client(admin, SCOPE)
        key_id, key, kid = await key_client(admin, SCOPE)
    # Requests that name the victim every way there is, from many addresses, and all fail.
    forged = assertion(client_id, key, kid, aud=TOKEN_URL)  # signed by another client's key
    ways = [
        {"data": GRANT, "headers": basic(client_id, "wrong")},
        {"data": {**GRANT, "client_id": client_id, "client_secret": "wrong"}},
        {"data": {**GRANT, "client_assertion_type": ASSERTION_TYPE, "client_assertion": forged}},
        {"data": GRANT, "params": {"client_id": client_id}},
    ]
    for i in range(2):
        for j, way in enumerate(ways):
            response = await post_from(limited, f"203.0.113.{10 * i + j}", **way)
            assert response.status_code == 401, response.text
            assert response.json()["error"] == "invalid_client"
    # The victim still has its whole share, and spends it itself.
    for expected_remaining in ("2", "1", "0"):
        own = await post_from(limited, "203.0.113.50", data=GRANT, headers=basic(client_id, secret))
        assert own.status_code == 200, own.text
        assert own.headers["x-rate-limit-remaining"] == expected_remaining
    assert_limited(await post_from(limited, "203.0.113.51", data=GRANT, headers=basic(client_id, secret)), 3)
    # Another client, from an address already used, has its own bucket.
    signed = assertion(key_id, key, kid, aud=TOKEN_URL)
    other = await post_from(
        limited,
        "203.0.113.0",
        data={**GRANT, "client_assertion_type": ASSERTION_TYPE, "client_assertion": signed},
    )
    assert other.status_code == 200, other.text
    assert other.headers["x-rate-limit-limit"] == "3"
    assert other.headers["x-rate-limit-remaining"] == "2"


async def test_invented_client_ids_count_by_address(limited: Server) -> None:
    """Inventing a new client id per request does not dodge the limit: failures count by address."""
    for i in range(3):
        response = await post_from(limited, "192.0.2.7", data={**GRANT, "client_id": f"0oaInvented{i}"})
        assert response.status_code == 401, response.text
    assert_limited(await post_from(limited, "192.0.2.7", data={**GRANT, "client_id": "0oaInvented9"}), 3)
    # Another address is not affected.
    assert (
        await post_from(limited, "192.0.2.8", data={**GRANT, "client_id": "0oaInvented9"})
    ).status_code == 401


async def test_requests_that_name_no_client_count_by_address(limited: Server) -> None:
    for _ in range(3):
        response = await post_from(limited, "192.0.2.1", data=GRANT)
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_client"
    assert_limited(await post_from(limited, "192.0.2.1", data=GRANT), 3)
    assert (await post_from(limited, "192.0.2.2", data=GRANT)).status_code == 401


def test_the_client_share_follows_oauth2_unless_set() -> None:
    assert parse_limits("on")["token_client"] == 1000  # type: ignore[index]
    assert parse_limits("oauth2=600")["token_client"] == 300  # type: ignore[index]
    assert parse_limits("oauth2=600,token_client=50")["token_client"] == 50  # type: ignore[index]
