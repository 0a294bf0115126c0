"""``verify_ignoring_expiry`` (RFC 7009 revocation takes expired tokens): the signature and the
issuer still hold, only the time claims are not checked."""

from __future__ import annotations

import time

import pytest

from ostiary.domain.tokens.verification import verify_ignoring_expiry
from ostiary.jose.verify import KeySet, TokenInvalid
from tests.support.jwt_factory import ISSUER, access_claims, jwks, rsa_key, tamper_claims

KEY = rsa_key("rsa-1")
KEYS = KeySet.from_jwks(jwks(KEY))
LONG_AGO = time.time() - 10 * 365 * 24 * 3600


def test_an_expired_token_of_this_issuer_gives_its_claims() -> None:
    claims = access_claims(now=LONG_AGO)
    assert verify_ignoring_expiry(KEY.sign(claims), KEYS, issuer=ISSUER) == claims


def test_a_token_not_valid_yet_gives_its_claims() -> None:
    claims = access_claims(nbf=int(time.time()) + 3600)
    assert verify_ignoring_expiry(KEY.sign(claims), KEYS, issuer=ISSUER) == claims


def test_another_issuer_is_refused() -> None:
    token = KEY.sign(access_claims(issuer="https://elsewhere.example.com/oauth2/default"))
    with pytest.raises(TokenInvalid) as caught:
        verify_ignoring_expiry(token, KEYS, issuer=ISSUER)
    assert caught.value.reason == "wrong_issuer"


def test_a_tampered_token_is_refused() -> None:
    token = tamper_claims(KEY.sign(access_claims(now=LONG_AGO)), cid="someone-else")
    with pytest.raises(TokenInvalid):
        verify_ignoring_expiry(token, KEYS, issuer=ISSUER)


def test_a_token_without_exp_is_refused() -> None:
    claims = access_claims()
    del claims["exp"]
    with pytest.raises(TokenInvalid) as caught:
        verify_ignoring_expiry(KEY.sign(claims), KEYS, issuer=ISSUER)
    assert caught.value.reason == "missing_claim"
