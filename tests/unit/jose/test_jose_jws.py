"""The one compact-JWS parser (``ostiary.jose.jws.parse_token``), shared by the verifier and
client authentication: what ``kid_optional`` admits, and how an unsigned token is told apart."""

from __future__ import annotations

import pytest

from ostiary.jose.b64 import b64url_decode, b64url_encode
from ostiary.jose.jws import parse_token
from ostiary.jose.token_errors import TokenInvalid, UnsignedToken
from tests.support.jwt_factory import raw_token

CLAIMS = {"iss": "0oa1", "sub": "0oa1"}


def test_a_header_without_kid_is_admitted_only_when_kid_is_optional() -> None:
    token = raw_token({"alg": "RS256"}, CLAIMS, b"sig")
    parsed = parse_token(token, kid_optional=True)
    assert (parsed.header, parsed.claims, parsed.signature) == ({"alg": "RS256"}, CLAIMS, b"sig")
    assert parsed.signing_input == token.rsplit(".", 1)[0].encode("ascii")
    with pytest.raises(TokenInvalid) as refused:
        parse_token(token)
    assert refused.value.reason == "missing_kid"


@pytest.mark.parametrize("kid", ["", 5, None])
def test_a_kid_that_is_present_must_be_a_non_empty_string_even_when_optional(kid: object) -> None:
    with pytest.raises(TokenInvalid) as refused:
        parse_token(raw_token({"alg": "RS256", "kid": kid}, CLAIMS, b"sig"), kid_optional=True)
    assert refused.value.reason == "missing_kid"
    assert not isinstance(refused.value, UnsignedToken)


@pytest.mark.parametrize(
    ("header", "signature", "reason", "description"),
    [
        ({"alg": "none", "kid": "k"}, b"", "malformed", "the token is not a compact JWS"),
        ({"alg": "RS256", "kid": "k"}, b"", "malformed", "the token is not a compact JWS"),
        ({"alg": "NoNe", "kid": "k"}, b"sig", "alg_not_allowed", "unsigned tokens are not accepted"),
    ],
)
def test_an_unsigned_token_is_an_unsigned_token_with_the_verifiers_reason(
    header: dict[str, object], signature: bytes, reason: str, description: str
) -> None:
    for kid_optional in (False, True):
        with pytest.raises(UnsignedToken) as refused:
            parse_token(raw_token(header, CLAIMS, signature), kid_optional=kid_optional)
        assert (refused.value.reason, refused.value.description) == (reason, description)


@pytest.mark.parametrize(
    "token",
    [
        "a.b.c",
        "e30.e30.c2ln",
        raw_token({"alg": "RS256", "jku": "https://evil"}, CLAIMS, b"sig"),
        raw_token({"alg": "RS256", "crit": ["exp"]}, CLAIMS, b"sig"),
        b64url_encode(b'{"alg":"RS256","alg":"HS256"}') + ".e30.c2ln",
        "x" * 9000,
    ],
)
def test_malformed_or_forbidden_tokens_are_not_unsigned_ones(token: str) -> None:
    with pytest.raises(TokenInvalid) as refused:
        parse_token(token, kid_optional=True)
    assert not isinstance(refused.value, UnsignedToken)


@pytest.mark.parametrize("text", ["YQ=", "YQ==", "Y Q", "Y+/Q", "a", "YWJjZ"])
def test_base64url_decoding_refuses_padding_other_alphabets_and_impossible_lengths(text: str) -> None:
    with pytest.raises(ValueError):
        b64url_decode(text)


def test_base64url_round_trips_without_padding() -> None:
    for size in range(0, 40):
        data = bytes(range(size))
        encoded = b64url_encode(data)
        assert "=" not in encoded
        assert b64url_decode(encoded) == data
