"""F18: ``ProtectedAPIMiddleware`` answers CORS preflights itself and never hands an
unauthenticated ``OPTIONS`` to the protected app.

It used to pass every ``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method`` to the
app untouched: a mounted sub-app (or a handler that treats ``OPTIONS`` like ``GET``) answered
it without a token.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from ostiary.cors_policy import CorsPolicy
from ostiary.jose.verify import JwksCache
from ostiary.resource import ProtectedAPIMiddleware
from tests.support.gateway_loopback import JwksServer
from tests.support.jwt_factory import AUDIENCE, access_claims, jwks, rsa_key

KEY = rsa_key("rsa-1")
ORIGIN = "https://app.example"
PREFLIGHT = {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}


@pytest.fixture(scope="module")
def idp() -> Iterator[JwksServer]:
    server = JwksServer(jwks=jwks(KEY)).start()
    yield server
    server.stop()


class SecretSubApp:
    """A raw ASGI app that answers any method with its secret (like a mounted admin app)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls.append(scope["method"])
        body = b'{"secret":"internal"}'
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"access-control-allow-origin", b"*")],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def call(
    idp: JwksServer, method: str, headers: dict[str, str], cors: CorsPolicy | None = None
) -> tuple[httpx.Response, SecretSubApp]:
    secret = SecretSubApp()
    app: Any = ProtectedAPIMiddleware(
        Starlette(routes=[Mount("/internal", app=secret)]),
        issuer=idp.issuer,
        audience=AUDIENCE,
        jwks_cache=(cache := JwksCache()),
        scopes_by_route={"/internal/*": ["admin"]},
        cors=cors,
    )
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api.test"
        ) as http:
            return await http.request(method, "/internal/data", headers=headers), secret
    finally:
        await cache.close()


def admin_token(idp: JwksServer) -> str:
    return "Bearer " + KEY.sign(access_claims(issuer=idp.issuer, scopes=["admin"]))


async def test_a_preflight_without_a_cors_policy_needs_a_token_like_any_request(idp: JwksServer) -> None:
    response, secret = await call(idp, "OPTIONS", PREFLIGHT)
    assert response.status_code == 401
    assert secret.calls == []


async def test_a_preflight_from_an_allowed_origin_is_answered_by_the_middleware(idp: JwksServer) -> None:
    policy = CorsPolicy(origins=(ORIGIN,), methods=("GET",), max_age=300)
    response, secret = await call(
        idp, "OPTIONS", {**PREFLIGHT, "Access-Control-Request-Headers": "Authorization"}, policy
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-methods"] == "GET"
    assert response.headers["access-control-allow-headers"] == "authorization, content-type"
    assert response.headers["access-control-max-age"] == "300"
    assert "Origin" in response.headers["vary"]
    assert secret.calls == []


@pytest.mark.parametrize(
    "headers",
    [
        {**PREFLIGHT, "Origin": "https://evil.example"},
        {**PREFLIGHT, "Access-Control-Request-Method": "DELETE"},
        {**PREFLIGHT, "Access-Control-Request-Headers": "x-secret"},
    ],
)
async def test_a_preflight_outside_the_policy_is_refused_by_the_middleware(
    idp: JwksServer, headers: dict[str, str]
) -> None:
    policy = CorsPolicy(origins=(ORIGIN,), methods=("GET",))
    response, secret = await call(idp, "OPTIONS", headers, policy)
    assert response.status_code == 403
    assert response.json()["error"] == "cors_denied"
    assert "access-control-allow-origin" not in response.headers
    assert secret.calls == []


async def test_answers_to_an_allowed_origin_carry_the_policy_401s_included(idp: JwksServer) -> None:
    policy = CorsPolicy(origins=(ORIGIN,), expose_headers=("x-total",))
    refused, _ = await call(idp, "GET", {"Origin": ORIGIN}, policy)
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == ORIGIN
    allowed, secret = await call(idp, "GET", {"Origin": ORIGIN, "Authorization": admin_token(idp)}, policy)
    assert allowed.status_code == 200
    assert allowed.headers.get_list("access-control-allow-origin") == [ORIGIN]
    assert allowed.headers["access-control-expose-headers"] == "x-total"
    assert secret.calls == ["GET"]


async def test_another_origin_gets_no_cors_headers(idp: JwksServer) -> None:
    policy = CorsPolicy(origins=(ORIGIN,))
    response, _ = await call(
        idp, "GET", {"Origin": "https://evil.example", "Authorization": admin_token(idp)}, policy
    )
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
