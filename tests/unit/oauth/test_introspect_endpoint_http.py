"""The introspection endpoint's HTTP edges, now that it is served ahead of the router like the
token endpoint (``http.fast_routes``): which paths take the fast path, and that methods, the
CORS preflight and the query-string rule answer as they did through the router."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from ostiary.http.fast_routes import FAST_ROUTES, fast_path_params, introspect_path_params
from tests.conftest import Server
from tests.support.oauth import basic, service_client


@pytest.fixture
async def anon(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as client:
        yield client


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/oauth2/v1/introspect", {}),
        ("/oauth2/default/v1/introspect", {"authServerId": "default"}),
        ("/oauth2/aus1a2b3c4d5e6f7g8h9/v1/introspect", {"authServerId": "aus1a2b3c4d5e6f7g8h9"}),
        ("/oauth2//v1/introspect", None),
        ("/oauth2/a/b/v1/introspect", None),
        ("/oauth2/v1/introspection", None),
        ("/oauth2/default/v1/token", None),
        ("/api/v1/introspect", None),
    ],
)
def test_fast_path_takes_exactly_the_introspection_routes(path: str, expected: dict[str, str] | None) -> None:
    assert introspect_path_params(path) == expected
    if expected is not None:
        assert fast_path_params(path) == expected


def test_the_introspection_routes_are_listed_as_fast_routes() -> None:
    assert {("/oauth2/v1/introspect", "POST"), ("/oauth2/{authServerId}/v1/introspect", "POST")} <= set(
        FAST_ROUTES
    )


@pytest.mark.parametrize("path", ["/oauth2/v1/introspect", "/oauth2/default/v1/introspect"])
async def test_other_methods_are_405_with_post_and_options_allowed(
    anon: httpx.AsyncClient, path: str
) -> None:
    response = await anon.get(path)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST, OPTIONS"


async def test_the_preflight_is_still_answered(anon: httpx.AsyncClient) -> None:
    response = await anon.options(
        "/oauth2/v1/introspect",
        headers={"Origin": "https://untrusted.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert "access-control-allow-origin" not in response.headers


async def test_a_client_secret_in_the_query_string_is_refused(
    server: Server, anon: httpx.AsyncClient
) -> None:
    async with server.client(await server.create_token()) as admin:
        client_id, secret = await service_client(admin, "okta.users.read")
    response = await anon.post(
        f"/oauth2/v1/introspect?client_secret={secret}", data={"token": "x"}, headers=basic(client_id, secret)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.headers["cache-control"] == "no-store"


async def test_an_unknown_token_is_inactive_and_not_cached(server: Server, anon: httpx.AsyncClient) -> None:
    async with server.client(await server.create_token()) as admin:
        client_id, secret = await service_client(admin, "okta.users.read")
    response = await anon.post(
        "/oauth2/v1/introspect", data={"token": "nope"}, headers=basic(client_id, secret)
    )
    assert response.status_code == 200
    assert response.json() == {"active": False}
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "application/json"
