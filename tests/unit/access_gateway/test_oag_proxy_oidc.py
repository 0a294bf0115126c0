"""The access gateway proxy's code exchange against a stand-in org (aiohttp): the ID token is
refused unless the org's key signed it for this client, with the nonce sent, unexpired."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from ostiary.access_gateway.proxy.config import OidcClient
from ostiary.access_gateway.proxy.oidc import OrgSignIn, SignInFailed
from ostiary.jose.jwks_cache import JwksCache
from ostiary.jose.signer import encode_jwt
from ostiary.jose.signing_keys import generate_signing_key

ORG_KEY = generate_signing_key("ES256")
OTHER_KEY = generate_signing_key("ES256")


class StandIn:
    def __init__(self) -> None:
        self.id_token = ""
        self.token_requests: list[tuple[str | None, dict[str, str]]] = []
        self.userinfo: dict[str, Any] = {}

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.token_requests.append(
            (request.headers.get("Authorization"), {k: str(v) for k, v in form.items()})
        )
        return web.json_response({"id_token": self.id_token, "access_token": "at", "token_type": "Bearer"})

    async def keys(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": [ORG_KEY.public_jwk()]})

    async def userinfo_endpoint(self, request: web.Request) -> web.Response:
        return web.json_response(self.userinfo)


@pytest.fixture
async def org() -> AsyncIterator[tuple[StandIn, str]]:
    stand_in = StandIn()
    app = web.Application()
    app.router.add_post("/oauth2/v1/token", stand_in.token)
    app.router.add_get("/oauth2/v1/keys", stand_in.keys)
    app.router.add_get("/oauth2/v1/userinfo", stand_in.userinfo_endpoint)
    server = TestServer(app)
    await server.start_server()
    try:
        yield stand_in, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


def id_token(org_url: str, key: Any = ORG_KEY, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "00u1",
        "iss": org_url,
        "aud": "client/1",
        "iat": now,
        "exp": now + 3600,
        "nonce": "n-1",
        "preferred_username": "ada@example.com",
        "groups": ["Everyone"],
        **overrides,
    }
    return encode_jwt({k: v for k, v in claims.items() if v is not None}, key)


async def exchange(org_url: str) -> dict[str, Any]:
    client = OidcClient(org_url, "client/1", "s3cret:+")
    async with aiohttp.ClientSession() as http:
        identity = await OrgSignIn(http, JwksCache(session=http)).exchange(
            client,
            code="c",
            verifier="v",
            redirect_uri="http://legacy.localhost/_ostiary/callback",
            nonce="n-1",
        )
    return identity.claims


async def test_a_good_exchange_uses_client_secret_basic_and_pkce(org: tuple[StandIn, str]) -> None:
    stand_in, url = org
    stand_in.id_token = id_token(url)
    claims = await exchange(url)
    assert claims["sub"] == "00u1" and claims["groups"] == ["Everyone"]
    authorization, form = stand_in.token_requests[0]
    assert authorization == "Basic " + base64.b64encode(b"client%2F1:s3cret%3A%2B").decode()
    assert form == {
        "grant_type": "authorization_code",
        "code": "c",
        "redirect_uri": "http://legacy.localhost/_ostiary/callback",
        "code_verifier": "v",
    }


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"nonce": "other"}, "id_token_nonce"),
        ({"nonce": None}, "id_token_nonce"),
        ({"aud": "another-client"}, "id_token_wrong_audience"),
        ({"iss": "https://evil.example"}, "id_token_wrong_issuer"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "id_token_expired"),
        ({"key": OTHER_KEY}, "id_token_unknown_kid"),
    ],
)
async def test_an_id_token_that_does_not_hold_is_refused(
    org: tuple[StandIn, str], overrides: dict[str, Any], reason: str
) -> None:
    stand_in, url = org
    key = overrides.pop("key", ORG_KEY)
    stand_in.id_token = id_token(url, key, **overrides)
    with pytest.raises(SignInFailed) as refused:
        await exchange(url)
    assert refused.value.reason == reason


async def test_groups_come_from_userinfo_only_for_the_same_subject(org: tuple[StandIn, str]) -> None:
    stand_in, url = org
    stand_in.id_token = id_token(url, groups=None)
    stand_in.userinfo = {"sub": "00u1", "groups": ["Everyone", "Ops"], "preferred_username": "spoofed"}
    claims = await exchange(url)
    assert claims["groups"] == ["Everyone", "Ops"] and claims["preferred_username"] == "ada@example.com"
    stand_in.userinfo = {"sub": "00u-other", "groups": ["Admins"]}
    assert "groups" not in await exchange(url)
