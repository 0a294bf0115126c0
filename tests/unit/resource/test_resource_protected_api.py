"""Specification of the "Protect your API endpoints" sample API (``ostiary.demo.protected_api``)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from ostiary.demo.protected_api import build_protected_api_app
from ostiary.jose.verify import JwksCache
from tests.support.gateway_loopback import JwksServer
from tests.support.jwt_factory import AUDIENCE, access_claims, jwks, rsa_key

KEY = rsa_key("rsa-1")
APP_ORIGIN = "http://localhost:3000"


@pytest.fixture(scope="module")
def idp() -> Iterator[JwksServer]:
    server = JwksServer(jwks=jwks(KEY)).start()
    yield server
    server.stop()


@pytest.fixture
async def client(idp: JwksServer) -> AsyncIterator[httpx.AsyncClient]:
    cache = JwksCache()
    app = build_protected_api_app(idp.issuer, AUDIENCE, [APP_ORIGIN], jwks_cache=cache)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as http:
        yield http
    await cache.close()


def bearer(idp: JwksServer, **claims: object) -> dict[str, str]:
    return {"Authorization": "Bearer " + KEY.sign(access_claims(issuer=idp.issuer, **claims))}


async def test_hello_is_open_to_anonymous_callers(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/hello")
    assert response.status_code == 200
    assert response.json() == {"message": "Hello world!"}


async def test_hello_also_answers_callers_with_a_token(client: httpx.AsyncClient, idp: JwksServer) -> None:
    assert (await client.get("/api/hello", headers=bearer(idp))).status_code == 200


async def test_whoami_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/whoami")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="ostiary"'
    assert response.json()["error"] == "invalid_token"


async def test_whoami_describes_the_caller(client: httpx.AsyncClient, idp: JwksServer) -> None:
    response = await client.get("/api/whoami", headers=bearer(idp, scopes=["AccessAll"], sub="0oa-service"))
    assert response.status_code == 200
    body = response.json()
    assert body["sub"] == "0oa-service"
    assert body["scopes"] == ["openid", "AccessAll"]
    assert body["claims"]["iss"] == idp.issuer and body["claims"]["aud"] == AUDIENCE


@pytest.mark.parametrize(
    "claims",
    [
        {"audience": "api://other"},
        {"issuer": "https://other.example/oauth2/default"},
        {"now": time.time() - 7200},
    ],
    ids=["wrong-audience", "wrong-issuer", "expired"],
)
async def test_whoami_refuses_tokens_not_meant_for_it(
    client: httpx.AsyncClient, idp: JwksServer, claims: dict[str, object]
) -> None:
    headers = {"Authorization": "Bearer " + KEY.sign(access_claims(**{"issuer": idp.issuer, **claims}))}
    response = await client.get("/api/whoami", headers=headers)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_a_preflight_from_the_configured_origin_is_allowed(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/api/whoami",
        headers={
            "Origin": APP_ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN


async def test_a_preflight_from_another_origin_is_not_allowed(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/api/whoami", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in response.headers


async def test_a_cross_origin_401_is_readable_by_the_browser(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/whoami", headers={"Origin": APP_ORIGIN})
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN


async def test_the_app_closes_its_key_fetcher_on_shutdown(idp: JwksServer) -> None:
    app = build_protected_api_app(idp.issuer, AUDIENCE)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://a") as http,
    ):
        assert (await http.get("/api/whoami", headers=bearer(idp))).status_code == 200
    auth = app.user_middleware[1].kwargs["auth"]
    assert auth.cache.session is None
