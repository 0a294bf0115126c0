"""F3 remainder: the token endpoint is limited per org + client as well as per org + address.

Before, only the per-address ``oauth2`` bucket counted token requests, so one client (a runaway
integration, or someone holding or guessing its id) spread over many addresses could take the
whole org's token endpoint. Now each token request also counts against ``token_client`` under
the client it names (``Authorization: Basic``, ``client_id``, or a client assertion's
``sub``/``iss``, read unverified), or under its address when it names none. Unless set, the
limit is half of ``oauth2`` (Okta's default share of one app). A refusal is Okta's 429
``E0000047`` with the ``X-Rate-Limit-*`` headers of the bucket that refused."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.types import Message

from ostiary.http.ratelimit import parse_limits
from ostiary.http.token_clients import PEEK_LIMIT, client_id_of, read_body
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


async def test_every_way_of_naming_the_client_counts_in_one_bucket(limited: Server) -> None:
    async with await admin_of(limited) as admin:
        client_id, secret = await service_client(admin, SCOPE)
        key_id, key, kid = await key_client(admin, SCOPE)
    # Three requests that name ``client_id`` three ways (the last two fail authentication: no
    # matter, a bucket is picked before anyone is authenticated), then the client itself.
    signed = assertion(client_id, key, kid, aud=TOKEN_URL)
    ways = [
        {"data": {**GRANT, "client_id": client_id, "client_secret": "wrong"}},
        {"data": {**GRANT, "client_assertion_type": ASSERTION_TYPE, "client_assertion": signed}},
        {"data": GRANT, "params": {"client_id": client_id}},
    ]
    for i, way in enumerate(ways):
        response = await post_from(limited, f"203.0.113.{i}", **way)
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_client"
    assert_limited(await post_from(limited, "203.0.113.50", data=GRANT, headers=basic(client_id, secret)), 3)
    # Another client, from an address already used, has its own bucket.
    own = assertion(key_id, key, kid, aud=TOKEN_URL)
    other = await post_from(
        limited,
        "203.0.113.0",
        data={**GRANT, "client_assertion_type": ASSERTION_TYPE, "client_assertion": own},
    )
    assert other.status_code == 200, other.text
    assert other.headers["x-rate-limit-limit"] == "3"
    assert other.headers["x-rate-limit-remaining"] == "2"


async def test_requests_that_name_no_client_count_by_address(limited: Server) -> None:
    for _ in range(3):
        response = await post_from(limited, "192.0.2.1", data=GRANT)
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_client"
    assert_limited(await post_from(limited, "192.0.2.1", data=GRANT), 3)
    assert (await post_from(limited, "192.0.2.2", data=GRANT)).status_code == 401


async def test_the_per_address_bucket_still_holds_for_many_clients(limited: Server) -> None:
    """Inventing client ids does not lift the address's own ``oauth2`` limit."""
    for i in range(6):
        response = await post_from(limited, "192.0.2.9", data={**GRANT, "client_id": f"0oaInvented{i}"})
        assert response.status_code == 401, response.text
    assert_limited(await post_from(limited, "192.0.2.9", data={**GRANT, "client_id": "0oaInvented7"}), 6)


def test_the_client_share_follows_oauth2_unless_set() -> None:
    assert parse_limits("on")["token_client"] == 1000  # type: ignore[index]
    assert parse_limits("oauth2=600")["token_client"] == 300  # type: ignore[index]
    assert parse_limits("oauth2=600,token_client=50")["token_client"] == 50  # type: ignore[index]


# --- reading the client, cheaply and without trusting it ----------------------------------------


def b64url(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned(claims: dict[str, object]) -> str:
    return f"{b64url({'alg': 'RS256'})}.{b64url(claims)}.c2ln"


@pytest.mark.parametrize(
    ("authorization", "query", "body", "expected"),
    [
        (basic("0oa1", "s")["Authorization"], b"", b"grant_type=x", "0oa1"),
        ("Basic " + base64.b64encode(b"my%20app:s").decode(), b"", None, "my app"),
        ("basic " + base64.b64encode(b"0oa2").decode(), b"", None, "0oa2"),
        (None, b"", b"grant_type=x&client_id=0oa3&client_secret=s", "0oa3"),
        (None, b"", b"client_id=0oa%334", "0oa34"),
        (None, b"grant_type=x&client_id=0oa5", b"grant_type=x", "0oa5"),
        (None, b"", f"client_assertion={unsigned({'iss': '0oa6', 'sub': '0oa6'})}".encode(), "0oa6"),
        (None, b"", f"client_assertion={unsigned({'iss': '0oa7'})}".encode(), "0oa7"),
        (None, b"", b"xclient_id=0oa8", None),
        (None, b"", b"client_assertion=not.a-jwt.at-all", None),
        (None, b"", b"client_assertion=" + b"a." * 9000, None),
        (None, b"", f"client_assertion={unsigned({'sub': 7})}".encode(), None),
        ("Basic !!!", b"", None, None),
        ("Bearer abc", b"", None, None),
        (None, b"", b"client_id=" + b"x" * 200, None),
        (None, b"", None, None),
    ],
)
def test_the_client_a_request_names(
    authorization: str | None, query: bytes, body: bytes | None, expected: str | None
) -> None:
    assert client_id_of(authorization, query, body) == expected


async def test_the_body_read_for_the_bucket_reaches_the_endpoint_whole() -> None:
    chunks = [b"grant_type=client_credentials&", b"client_id=0oa9&", b"scope=a"]
    incoming: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    queue = list(incoming)

    async def receive() -> Message:
        return queue.pop(0)

    body, replay = await read_body(receive)
    assert body == b"".join(chunks)
    assert [await replay() for _ in incoming] == incoming


async def test_a_body_over_the_peek_limit_is_left_alone_and_replayed() -> None:
    big = b"a" * (PEEK_LIMIT // 2 + 1)
    queue: list[Message] = [
        {"type": "http.request", "body": big, "more_body": True},
        {"type": "http.request", "body": big, "more_body": True},
        {"type": "http.request", "body": b"tail", "more_body": False},
    ]
    expected = list(queue)

    async def receive() -> Message:
        return queue.pop(0)

    body, replay = await read_body(receive)
    assert body is None
    assert [await replay() for _ in expected] == expected
