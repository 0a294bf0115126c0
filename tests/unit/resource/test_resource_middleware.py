"""Specification of the resource library (``ostiary.resource``): middleware and dependencies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ostiary.bearer import bearer_token
from ostiary.jose.verify import JwksCache
from ostiary.resource import (
    BearerError,
    JwtAuth,
    ProtectedAPIMiddleware,
    bearer_error_handler,
    current_claims,
    require_scopes,
)
from tests.support.gateway_loopback import JwksServer
from tests.support.jwt_factory import AUDIENCE, access_claims, jwks, rsa_key

KEY = rsa_key("rsa-1")


@pytest.fixture(scope="module")
def idp() -> Iterator[JwksServer]:
    server = JwksServer(jwks=jwks(KEY)).start()
    yield server
    server.stop()


@pytest.fixture
async def cache() -> AsyncIterator[JwksCache]:
    jwks_cache = JwksCache()
    yield jwks_cache
    await jwks_cache.close()


def bearer(idp: JwksServer, scopes: list[str] | None = None) -> dict[str, str]:
    return {"Authorization": "Bearer " + KEY.sign(access_claims(issuer=idp.issuer, scopes=scopes))}


async def state_claims(request: Request) -> JSONResponse:
    return JSONResponse({"sub": request.state.claims["sub"]})


async def public_page(request: Request) -> JSONResponse:
    return JSONResponse({"public": True})


async def messages_for_readers(request: Request) -> JSONResponse:
    claims = await require_scopes("messages:read")(request)
    return JSONResponse({"reader": claims["sub"]})


async def optional_identity(request: Request) -> JSONResponse:
    return JSONResponse({"sub": (await current_claims(request))["sub"]})


def protected_app(idp: JwksServer, cache: JwksCache, *, handlers: bool = True) -> Starlette:
    app = Starlette(
        routes=[
            Route("/api/messages", state_claims, methods=["GET", "POST"]),
            Route("/api/admin/users", state_claims),
            Route("/public/page", public_page),
            Route("/public/readers", messages_for_readers),
            Route("/public/me", optional_identity),
            Route("/other", state_claims),
        ],
        exception_handlers={BearerError: bearer_error_handler} if handlers else {},
    )
    return ProtectedAPIMiddleware(  # type: ignore[return-value]
        app,
        issuer=idp.issuer,
        audience=AUDIENCE,
        jwks_cache=cache,
        public_paths=["/public/*"],
        scopes_by_route={"GET /api/messages": ["messages:read"], "/api/admin/*": ["admin", "users:write"]},
    )


async def get(
    app: Any, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test"
    ) as client:
        return await client.request(method, path, headers=headers)


async def test_every_non_public_path_needs_a_token(idp: JwksServer, cache: JwksCache) -> None:
    response = await get(protected_app(idp, cache), "/other")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="ostiary"'


async def test_the_claims_reach_the_handler_in_request_state(idp: JwksServer, cache: JwksCache) -> None:
    response = await get(protected_app(idp, cache), "/other", bearer(idp))
    assert response.json() == {"sub": "carl.sagan@mailinator.com"}


async def test_a_route_scope_rule_refuses_tokens_without_the_scope(idp: JwksServer, cache: JwksCache) -> None:
    response = await get(protected_app(idp, cache), "/api/messages", bearer(idp, ["other"]))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert 'scope="messages:read"' in response.headers["www-authenticate"]
    assert response.json()["error"] == "insufficient_scope"


async def test_a_route_scope_rule_admits_tokens_with_the_scope(idp: JwksServer, cache: JwksCache) -> None:
    assert (
        await get(protected_app(idp, cache), "/api/messages", bearer(idp, ["messages:read"]))
    ).status_code == 200


async def test_a_method_specific_rule_leaves_other_methods_to_the_token_alone(
    idp: JwksServer, cache: JwksCache
) -> None:
    response = await get(protected_app(idp, cache), "/api/messages", bearer(idp), method="POST")
    assert response.status_code == 200


async def test_a_prefix_rule_needs_all_its_scopes(idp: JwksServer, cache: JwksCache) -> None:
    app = protected_app(idp, cache)
    assert (await get(app, "/api/admin/users", bearer(idp, ["admin"]))).status_code == 403
    assert (await get(app, "/api/admin/users", bearer(idp, ["admin", "users:write"]))).status_code == 200


async def test_public_paths_need_no_token(idp: JwksServer, cache: JwksCache) -> None:
    assert (await get(protected_app(idp, cache), "/public/page")).json() == {"public": True}


async def test_dot_segments_never_make_a_path_public(idp: JwksServer, cache: JwksCache) -> None:
    app = protected_app(idp, cache)
    assert not app.is_public("GET", "/public/../other")  # type: ignore[attr-defined]


async def test_require_scopes_on_a_public_path_checks_the_token(idp: JwksServer, cache: JwksCache) -> None:
    app = protected_app(idp, cache)
    assert (await get(app, "/public/readers")).status_code == 401
    assert (await get(app, "/public/readers", bearer(idp))).status_code == 403
    allowed = await get(app, "/public/readers", bearer(idp, ["messages:read"]))
    assert allowed.json() == {"reader": "carl.sagan@mailinator.com"}


async def test_current_claims_on_a_public_path_verifies_the_token(idp: JwksServer, cache: JwksCache) -> None:
    app = protected_app(idp, cache)
    assert (await get(app, "/public/me", bearer(idp))).json() == {"sub": "carl.sagan@mailinator.com"}
    refused = await get(app, "/public/me", {"Authorization": "Bearer nope"})
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"


async def test_without_the_handler_errors_keep_their_status_and_challenge(
    idp: JwksServer, cache: JwksCache
) -> None:
    response = await get(protected_app(idp, cache, handlers=False), "/public/readers", bearer(idp))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_jwt_auth_works_without_the_middleware(idp: JwksServer, cache: JwksCache) -> None:
    auth = JwtAuth(idp.issuer, AUDIENCE, cache=cache)

    async def endpoint(request: Request) -> JSONResponse:
        claims = await auth.require_scopes("messages:read")(request)
        return JSONResponse({"sub": claims["sub"]})

    app = Starlette(routes=[Route("/m", endpoint)], exception_handlers={BearerError: bearer_error_handler})
    assert (await get(app, "/m")).status_code == 401
    assert (await get(app, "/m", bearer(idp))).status_code == 403
    assert (await get(app, "/m", bearer(idp, ["messages:read"]))).status_code == 200


async def test_current_claims_without_any_auth_is_a_programming_error() -> None:
    app = Starlette(routes=[Route("/me", optional_identity)])
    with pytest.raises(RuntimeError, match="ProtectedAPIMiddleware"):
        await get(app, "/me")


async def test_websockets_without_a_token_are_closed(idp: JwksServer, cache: JwksCache) -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    scope = {"type": "websocket", "path": "/ws", "headers": [], "query_string": b""}
    await protected_app(idp, cache)(scope, receive, send)  # type: ignore[arg-type]
    assert sent == [{"type": "websocket.close", "code": 1008}]


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (None, None),
        ("Basic abc", None),
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("Bearer", ""),
        ("", None),
    ],
)
def test_bearer_tokens_are_read_from_the_authorization_header(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token
