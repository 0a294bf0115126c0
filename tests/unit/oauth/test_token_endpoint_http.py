"""The token endpoint's HTTP edges, now that it is served as a plain ASGI app ahead of the
router: which paths take the fast path, methods, body limits, chunked bodies, headers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from ostiary.http.fast_routes import token_path_params
from ostiary.http.oauth.params import MAX_FORM_BYTES, parse_form
from tests.conftest import Server
from tests.support.oauth import basic, client_token, service_client


@pytest.fixture
async def anon(server: Server) -> httpx.AsyncClient:
    async with server.client() as client:
        yield client  # type: ignore[misc]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/oauth2/v1/token", {}),
        ("/oauth2/default/v1/token", {"authServerId": "default"}),
        ("/oauth2/aus1a2b3c4d5e6f7g8h9/v1/token", {"authServerId": "aus1a2b3c4d5e6f7g8h9"}),
        ("/oauth2//v1/token", None),
        ("/oauth2/a/b/v1/token", None),
        ("/oauth2/v1/tokens", None),
        ("/oauth2/default/v1/introspect", None),
        ("/api/v1/token", None),
    ],
)
def test_fast_path_takes_exactly_the_token_routes(path: str, expected: dict[str, str] | None) -> None:
    assert token_path_params(path) == expected


@pytest.mark.parametrize(
    "text",
    ["a=1&b=2", "a=&b", "&&a=1&", "scope=x%20y&b=c+d", "a=%E2%9C%93", "k=v=w", ""],
)
def test_form_parsing_matches_the_standard_library(text: str) -> None:
    from urllib.parse import parse_qsl

    assert parse_form(text) == parse_qsl(text, keep_blank_values=True)


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/oauth2/v1/token", "/oauth2/default/v1/token"])
async def test_other_methods_on_the_token_endpoint_are_405_in_oktas_shape(
    anon: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await anon.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST, OPTIONS"
    assert response.headers["x-okta-request-id"]
    if method != "HEAD":
        assert response.json() == {
            "errorCode": "E0000022",
            "errorSummary": "The endpoint does not support the provided HTTP method",
            "errorLink": "E0000022",
            "errorId": response.json()["errorId"],
            "errorCauses": [],
        }


async def test_a_bad_query_on_the_token_endpoint_is_refused_before_the_405(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/oauth2/v1/token?a=%FF")
    assert response.status_code == 400


async def test_a_token_response_carries_the_edge_headers(
    admin: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    client_id, secret = await service_client(admin, "okta.users.read")
    response = await client_token(anon, client_id, secret, "okta.users.read")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    assert (response.headers["cache-control"], response.headers["pragma"]) == ("no-store", "no-cache")
    assert response.headers["x-okta-request-id"] and response.headers["date"].endswith(" GMT")


async def test_an_oversized_form_is_refused_before_any_work(
    admin: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    client_id, secret = await service_client(admin, "okta.users.read")
    body = "grant_type=client_credentials&scope=okta.users.read&pad=" + "x" * MAX_FORM_BYTES
    response = await anon.post(
        "/oauth2/v1/token",
        content=body,
        headers={**basic(client_id, secret), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"


async def test_a_body_in_several_chunks_is_read_whole(
    admin: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    client_id, secret = await service_client(admin, "okta.users.read")

    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"grant_type=client_", b"credentials&scope=", b"okta.users.read"):
            yield part

    response = await anon.post(
        "/oauth2/v1/token",
        content=chunks(),
        headers={**basic(client_id, secret), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "okta.users.read"
