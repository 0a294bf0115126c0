"""F10: a request with more than one ``Authorization`` header is refused (400 invalid_request).

The gateway used to verify the first header and forward every copy, so an upstream reading
the last one (or a CGI/WSGI environ joining them) saw an unverified ``alg: none`` token.
``Authorization`` is not a list header (RFC 9110 §11.6.2), so two of them make a malformed
request, and RFC 6750 §3.1 answers a request that "uses more than one method for including
an access token, or is otherwise malformed" with ``invalid_request`` and SHOULD use 400.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ostiary.jose.verify import JwksCache
from ostiary.resource import BearerError, ProtectedAPIMiddleware, bearer_error_handler, current_claims
from tests.support.gateway import (
    RecordingUpstream,
    bearer,
    issuer_and_upstream,
    running_gateway,
    send_raw,
    token_for,
)
from tests.support.gateway_loopback import JwksServer, LoopbackServer
from tests.support.jwt_factory import AUDIENCE, GOLD, SILVER, access_claims, raw_token

Setup = tuple[JwksServer, LoopbackServer, RecordingUpstream]


@pytest.fixture(scope="module")
def setup() -> Iterator[Setup]:
    with issuer_and_upstream() as (idp, upstream, recorder):
        config = {
            "issuers": [{"issuer": idp.issuer, "audiences": [AUDIENCE]}],
            "routes": [
                {"path": "/planets", "upstream": upstream.url, "scopes": {"all_of": [SILVER]}},
                {"path": "/visitors", "upstream": upstream.url, "public": True},
            ],
        }
        with running_gateway(config) as gateway:
            yield idp, gateway, recorder


def unsigned_gold(issuer: str) -> str:
    return raw_token({"alg": "none"}, access_claims(issuer=issuer, scopes=[SILVER, GOLD]))


@pytest.mark.parametrize("path", ["/planets", "/visitors"])
def test_two_authorization_headers_are_refused_before_the_upstream(setup: Setup, path: str) -> None:
    idp, gateway, recorder = setup
    recorder.seen.clear()
    headers = [bearer(token_for(idp.issuer, [SILVER])), bearer(unsigned_gold(idp.issuer))]
    answer = send_raw(gateway.port, path, headers)
    assert answer.status == 400
    assert answer.json()["error"] == "invalid_request"
    assert (answer.header("www-authenticate") or "").startswith(
        'Bearer realm="ostiary", error="invalid_request"'
    )
    assert recorder.seen == []


def test_the_upstream_gets_the_one_authorization_header_that_was_verified(setup: Setup) -> None:
    idp, gateway, recorder = setup
    recorder.seen.clear()
    token = token_for(idp.issuer, [SILVER])
    assert send_raw(gateway.port, "/planets", [bearer(token)]).status == 200
    assert recorder.seen[0].values("authorization") == [f"Bearer {token}"]


def _claims_app() -> Starlette:
    async def me(request: Request) -> JSONResponse:
        return JSONResponse({"sub": request.state.claims["sub"]})

    return Starlette(routes=[Route("/me", me)])


async def test_the_resource_middleware_refuses_two_authorization_headers(setup: Setup) -> None:
    idp = setup[0]
    cache = JwksCache()
    app: Any = ProtectedAPIMiddleware(_claims_app(), issuer=idp.issuer, audience=AUDIENCE, jwks_cache=cache)
    headers = [
        ("Authorization", f"Bearer {unsigned_gold(idp.issuer)}"),
        ("Authorization", f"Bearer {token_for(idp.issuer, [SILVER])}"),
    ]
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api.test"
        ) as http:
            response = await http.get("/me", headers=headers)
    finally:
        await cache.close()
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert 'error="invalid_request"' in response.headers["www-authenticate"]


async def test_current_claims_on_a_public_path_refuses_two_authorization_headers(setup: Setup) -> None:
    idp = setup[0]

    async def me(request: Request) -> JSONResponse:
        return JSONResponse({"sub": (await current_claims(request))["sub"]})

    cache = JwksCache()
    inner = Starlette(routes=[Route("/me", me)], exception_handlers={BearerError: bearer_error_handler})
    app: Any = ProtectedAPIMiddleware(
        inner, issuer=idp.issuer, audience=AUDIENCE, jwks_cache=cache, public_paths=["/me"]
    )
    headers = [
        ("Authorization", f"Bearer {unsigned_gold(idp.issuer)}"),
        ("Authorization", f"Bearer {token_for(idp.issuer, [SILVER])}"),
    ]
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api.test"
        ) as http:
            response = await http.get("/me", headers=headers)
    finally:
        await cache.close()
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
