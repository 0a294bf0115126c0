"""F11: the gateway accepts access tokens only.

An issuer without ``audiences`` used to accept any JWT of the issuer, ID tokens included
(an ID token's ``aud`` is the client id, and nothing else marked it). Now ``audiences`` is
required at load, and a token that says it is not an access token is refused even when its
``aud`` matches: a ``typ`` other than ``at+jwt``/``application/at+jwt``/``JWT``, or an
ID-token-only claim (``nonce``, ``at_hash``, ``c_hash``, OpenID Connect Core §2/§3.1.3.6/
§3.3.2.11), or Okta's ID-token ``jti`` prefix ``ID.``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ostiary.gateway.config import ConfigError, parse_config
from ostiary.jose.verify import TokenInvalid
from ostiary.resource import JwtAuth
from tests.support.gateway import (
    RecordingUpstream,
    bearer,
    issuer_and_upstream,
    running_gateway,
    send_raw,
    token_for,
)
from tests.support.gateway_loopback import JwksServer, LoopbackServer
from tests.support.jwt_factory import AUDIENCE

Setup = tuple[JwksServer, LoopbackServer, RecordingUpstream]
CLIENT_ID = "0oa1opaydr1bnvBKL357"


@pytest.fixture(scope="module")
def setup() -> Iterator[Setup]:
    with issuer_and_upstream() as (idp, upstream, recorder):
        config = {
            "issuers": [{"issuer": idp.issuer, "audiences": [AUDIENCE, CLIENT_ID]}],
            "routes": [{"path": "/asteroids", "upstream": upstream.url}],
        }
        with running_gateway(config) as gateway:
            yield idp, gateway, recorder


def id_token_claims(**extra: Any) -> dict[str, Any]:
    """An ID token as Ostiary and Okta mint it: ``aud`` is the client, ``jti`` starts ``ID.``."""
    claims: dict[str, Any] = {
        "audience": CLIENT_ID,
        "cid": None,
        "jti": "ID.9c1f0a",
        "amr": ["pwd"],
        "idp": "00o1",
        "auth_time": 1765000000,
    }
    claims.update(extra)
    return claims


ID_TOKENS: dict[str, dict[str, Any]] = {
    "okta-id-token": {"claims": id_token_claims(nonce="n-0S6_WzA2Mj", at_hash="77QmUPtjPfzWtF2AnpK9RQ")},
    "id-token-without-nonce-or-hashes": {"claims": id_token_claims()},
    "nonce-only": {"claims": {"jti": "x1", "nonce": "abc"}},
    "at_hash-only": {"claims": {"jti": "x2", "at_hash": "77QmUPtjPfzWtF2AnpK9RQ"}},
    "c_hash-only": {"claims": {"jti": "x3", "c_hash": "LDktKdoQak3Pk0cnXxCltA"}},
    "typ-id-token": {"claims": {}, "headers": {"typ": "id_token+jwt"}},
    "typ-logout": {"claims": {}, "headers": {"typ": "logout+jwt"}},
    "typ-dpop": {"claims": {}, "headers": {"typ": "dpop+jwt"}},
}


@pytest.mark.parametrize("kind", list(ID_TOKENS))
def test_a_token_marked_as_another_kind_is_refused_although_its_audience_is_accepted(
    setup: Setup, kind: str
) -> None:
    idp, gateway, recorder = setup
    recorder.seen.clear()
    case = ID_TOKENS[kind]
    token = token_for(idp.issuer, headers=case.get("headers"), **case["claims"])
    answer = send_raw(gateway.port, "/asteroids", [bearer(token)])
    assert answer.status == 401
    assert answer.json()["error"] == "invalid_token"
    assert "not an access token" in answer.json()["error_description"]
    assert recorder.seen == []


@pytest.mark.parametrize("typ", [None, "at+jwt", "application/at+jwt", "JWT", "jwt"])
def test_access_tokens_with_or_without_a_typ_pass(setup: Setup, typ: str | None) -> None:
    idp, gateway, _ = setup
    token = token_for(idp.issuer, headers={"typ": typ} if typ else None)
    assert send_raw(gateway.port, "/asteroids", [bearer(token)]).status == 200


def _config(**issuer: Any) -> dict[str, Any]:
    return {
        "issuers": [{"issuer": "https://idp.example/oauth2/default", **issuer}],
        "routes": [{"path": "/x", "upstream": "http://127.0.0.1:9"}],
    }


@pytest.mark.parametrize("issuer", [{}, {"audiences": []}, {"audience": None}])
def test_an_issuer_without_audiences_is_a_config_error(issuer: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"issuers\[0\]\.audiences: is required") as raised:
        parse_config(_config(**issuer))
    assert "ID tokens" in str(raised.value)


def test_a_single_audience_is_still_accepted() -> None:
    assert parse_config(_config(audience="api://default")).issuers[0].audiences == ("api://default",)


async def test_the_resource_library_refuses_an_id_token_even_without_an_audience(setup: Setup) -> None:
    idp = setup[0]
    auth = JwtAuth(idp.issuer, None)
    try:
        with pytest.raises(TokenInvalid, match="not an access token"):
            await auth.verify(token_for(idp.issuer, **id_token_claims(nonce="n")))
        assert (await auth.verify(token_for(idp.issuer)))["sub"] == "carl.sagan@mailinator.com"
    finally:
        await auth.close()
