"""Specification of the JWT verifier (``ostiary.jose.verify``) and its JWKS cache."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from cryptography.hazmat.primitives import serialization

from ostiary.jose.verify import (
    IssuerConfig,
    JwksCache,
    KeySet,
    KeysUnavailable,
    TokenInvalid,
    max_age,
    okta_jwks_uri,
    verify_jwt,
)
from tests.support.gateway_loopback import JwksServer
from tests.support.jwt_factory import (
    AUDIENCE,
    ISSUER,
    access_claims,
    b64url,
    ec_key,
    jwks,
    raw_token,
    rsa_key,
    tamper_claims,
)

KEY = rsa_key("rsa-1")
KEYS = KeySet.from_jwks(jwks(KEY, ec_key("ec-1")))


def verify(token: str, **overrides: object) -> dict[str, object]:
    options: dict[str, object] = {"issuer": ISSUER, "audience": AUDIENCE}
    options.update(overrides)
    return verify_jwt(token, KEYS, **options)  # type: ignore[arg-type]


def reason_of(token: str, **overrides: object) -> str:
    with pytest.raises(TokenInvalid) as caught:
        verify(token, **overrides)
    return caught.value.reason


# ---------------------------------------------------------------- accepted tokens


def test_a_well_signed_rs256_access_token_gives_its_claims() -> None:
    claims = access_claims(scopes=["http://myapp.com/scp/silver"])
    assert verify(KEY.sign(claims)) == claims


def test_an_es256_token_verifies_with_a_p256_key() -> None:
    assert verify(ec_key("ec-1").sign(access_claims()))["sub"] == "carl.sagan@mailinator.com"


def test_a_ps256_key_pins_ps256() -> None:
    key = rsa_key("ps-1", alg="PS256")
    keys = KeySet.from_jwks(jwks(key))
    assert verify_jwt(key.sign(access_claims()), keys, issuer=ISSUER, audience=AUDIENCE)["iss"] == ISSUER


def test_audience_may_be_a_list_containing_an_accepted_audience() -> None:
    token = KEY.sign(access_claims(audience=["other", AUDIENCE]))
    assert verify(token)["aud"] == ["other", AUDIENCE]


def test_any_of_several_accepted_audiences_is_enough() -> None:
    token = KEY.sign(access_claims(audience="api://second"))
    assert verify(token, audience=["api://first", "api://second"])


def test_audience_none_skips_the_audience_check() -> None:
    assert verify(KEY.sign(access_claims(audience="anything")), audience=None)


def test_x5c_header_is_ignored_not_trusted() -> None:
    token = KEY.sign(access_claims(), headers={"x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]})
    assert verify(token)


# ---------------------------------------------------------------- forged tokens


def test_alg_none_is_refused() -> None:
    token = raw_token({"alg": "none", "kid": KEY.kid}, access_claims(), b"x")
    assert reason_of(token) == "alg_not_allowed"


def test_alg_none_with_an_empty_signature_is_refused() -> None:
    token = raw_token({"alg": "none", "kid": KEY.kid}, access_claims())
    assert reason_of(token) == "malformed"


def test_hs256_signed_with_the_rsa_public_key_pem_is_refused() -> None:
    pem = KEY.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header, claims = {"alg": "HS256", "kid": KEY.kid, "typ": "JWT"}, access_claims()
    unsigned = raw_token(header, claims).rsplit(".", 1)[0]
    signature = hmac.new(pem, unsigned.encode(), hashlib.sha256).digest()
    assert reason_of(f"{unsigned}.{b64url(signature)}") == "alg_mismatch"


def test_an_es256_header_on_an_rsa_kid_is_refused() -> None:
    token = ec_key("attacker-ec").sign(access_claims(), headers={"kid": KEY.kid})
    assert reason_of(token) == "alg_mismatch"


def test_an_rs512_header_on_an_rs256_pinned_key_is_refused() -> None:
    assert reason_of(KEY.sign(access_claims(), alg="RS512")) == "alg_mismatch"


def test_a_foreign_key_using_the_real_kid_is_refused() -> None:
    foreign = rsa_key(KEY.kid, seed="attacker")
    assert reason_of(foreign.sign(access_claims())) == "bad_signature"


def test_an_embedded_jwk_header_is_refused() -> None:
    attacker = rsa_key("attacker", seed="attacker")
    token = attacker.sign(access_claims(), headers={"kid": KEY.kid, "jwk": attacker.public_jwk()})
    assert reason_of(token) == "forbidden_header"


def test_a_jku_header_is_refused() -> None:
    token = KEY.sign(access_claims(), headers={"jku": "https://attacker.example/keys"})
    assert reason_of(token) == "forbidden_header"


def test_an_x5u_header_is_refused() -> None:
    token = KEY.sign(access_claims(), headers={"x5u": "https://attacker.example/cert.pem"})
    assert reason_of(token) == "forbidden_header"


def test_a_crit_header_is_refused() -> None:
    token = KEY.sign(access_claims(), headers={"crit": ["exp"]})
    assert reason_of(token) == "forbidden_header"


@pytest.mark.parametrize(
    "kid",
    [
        "../../etc/passwd",
        "' OR '1'='1",
        "rsa-1' --",
        "rsa-1\x00",
        "RSA-1",
        " rsa-1",
        "/dev/null",
        "rsa-1; ls",
    ],
)
def test_kid_injection_strings_match_no_key(kid: str) -> None:
    assert reason_of(KEY.sign(access_claims(), headers={"kid": kid})) == "unknown_kid"


def test_a_token_without_kid_is_refused() -> None:
    token = raw_token({"alg": "RS256"}, access_claims(), b"sig")
    assert reason_of(token) == "missing_kid"


def test_a_non_string_kid_is_refused() -> None:
    token = raw_token({"alg": "RS256", "kid": 1}, access_claims(), b"sig")
    assert reason_of(token) == "missing_kid"


def test_tampered_claims_break_the_signature() -> None:
    token = tamper_claims(KEY.sign(access_claims(scopes=[])), scp=["openid", "http://myapp.com/scp/gold"])
    assert reason_of(token) == "bad_signature"


def test_a_truncated_signature_is_refused() -> None:
    token = KEY.sign(access_claims())
    assert reason_of(token[:-10]) == "bad_signature"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "not base64!.eyJ9.c2ln",
        f"{b64url(b'[1,2]')}.{b64url(b'{}')}.c2ln",
        f"{b64url(b'not json')}.{b64url(b'{}')}.c2ln",
        b64url(b'{"alg":"RS256","kid":"a","kid":"rsa-1"}') + "." + b64url(b"{}") + ".c2ln",
    ],
    ids=[
        "empty",
        "one-part",
        "two-parts",
        "four-parts",
        "bad-base64",
        "array-header",
        "text-header",
        "dup-kid",
    ],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    assert reason_of(token) == "malformed"


def test_an_oversized_token_is_refused_before_parsing() -> None:
    token = KEY.sign(access_claims(padding="x" * 9000))
    assert reason_of(token) == "too_large"


# ---------------------------------------------------------------- claims


def test_an_expired_token_is_refused() -> None:
    now = time.time()
    token = KEY.sign(access_claims(now=now - 7200, lifetime=3600))
    assert reason_of(token, now=now) == "expired"


def test_expiry_within_the_leeway_is_tolerated() -> None:
    now = time.time()
    token = KEY.sign(access_claims(now=now - 3610, lifetime=3600))
    assert verify(token, now=now, leeway=30)


def test_a_token_whose_nbf_is_in_the_future_is_refused() -> None:
    now = time.time()
    token = KEY.sign(access_claims(now=now, nbf=int(now) + 300))
    assert reason_of(token, now=now) == "not_yet_valid"


def test_nbf_within_the_leeway_is_tolerated() -> None:
    now = time.time()
    assert verify(KEY.sign(access_claims(now=now, nbf=int(now) + 10)), now=now)


def test_a_token_issued_in_the_future_is_refused() -> None:
    now = time.time()
    token = KEY.sign(access_claims(now=now + 600))
    assert reason_of(token, now=now) == "issued_in_future"


def test_the_wrong_issuer_is_refused() -> None:
    assert reason_of(KEY.sign(access_claims(issuer="https://evil.example/oauth2/default"))) == "wrong_issuer"


def test_the_issuer_must_match_exactly() -> None:
    assert reason_of(KEY.sign(access_claims(issuer=ISSUER + "/"))) == "wrong_issuer"


def test_the_wrong_audience_is_refused() -> None:
    assert reason_of(KEY.sign(access_claims(audience="api://other"))) == "wrong_audience"


def test_a_missing_exp_is_refused() -> None:
    claims = access_claims()
    del claims["exp"]
    assert reason_of(KEY.sign(claims)) == "missing_claim"


def test_a_non_numeric_exp_is_refused() -> None:
    claims = access_claims()
    claims["exp"] = str(claims["exp"])
    assert reason_of(KEY.sign(claims)) == "malformed"


# ---------------------------------------------------------------- key sets


def test_a_key_set_pins_rs256_for_rsa_keys_without_alg() -> None:
    jwk = KEY.public_jwk()
    del jwk["alg"]
    assert KeySet.from_jwks({"keys": [jwk]}).get(KEY.kid).alg == "RS256"  # type: ignore[union-attr]


def test_a_key_set_pins_es256_for_ec_keys_without_alg() -> None:
    jwk = ec_key().public_jwk()
    del jwk["alg"]
    assert KeySet.from_jwks({"keys": [jwk]}).get("ec-1").alg == "ES256"  # type: ignore[union-attr]


def test_rsa_keys_shorter_than_2048_bits_are_left_out() -> None:
    keys = KeySet.from_jwks(jwks(rsa_key("short", bits=1024)))
    assert "short" not in keys and keys.rejected[0][0] == "short"


def test_keys_with_private_members_are_left_out() -> None:
    assert len(KeySet.from_jwks({"keys": [KEY.private_jwk()]})) == 0


def test_encryption_keys_are_left_out() -> None:
    assert len(KeySet.from_jwks({"keys": [KEY.public_jwk(use="enc")]})) == 0


def test_symmetric_keys_are_left_out() -> None:
    assert len(KeySet.from_jwks({"keys": [{"kty": "oct", "kid": "h", "k": "c2VjcmV0", "alg": "HS256"}]})) == 0


def test_an_hmac_alg_on_an_rsa_key_is_left_out() -> None:
    assert len(KeySet.from_jwks({"keys": [KEY.public_jwk(alg="HS256")]})) == 0


def test_ec_keys_off_p256_are_left_out() -> None:
    jwk = ec_key().public_jwk(crv="P-384")
    assert len(KeySet.from_jwks({"keys": [jwk]})) == 0


def test_keys_without_kid_are_ignored_and_the_others_kept() -> None:
    anonymous = KEY.public_jwk()
    del anonymous["kid"]
    keys = KeySet.from_jwks({"keys": [anonymous, rsa_key("rsa-2").public_jwk()]})
    assert list(keys.keys) == ["rsa-2"]


def test_a_document_without_keys_array_is_not_a_jwks() -> None:
    with pytest.raises(ValueError):
        KeySet.from_jwks({"kty": "RSA"})


# ---------------------------------------------------------------- helpers


def test_okta_keys_url_for_a_custom_authorization_server() -> None:
    assert okta_jwks_uri("https://h/oauth2/default") == "https://h/oauth2/default/v1/keys"


def test_okta_keys_url_for_the_org_authorization_server() -> None:
    assert okta_jwks_uri("https://h") == "https://h/oauth2/v1/keys"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("max-age=60", 60),
        ("public, max-age=120, must-revalidate", 120),
        ("no-store", 0),
        (None, None),
        ("x", None),
    ],
)
def test_max_age_is_read_from_cache_control(header: str | None, expected: int | None) -> None:
    assert max_age(header) == expected


# ---------------------------------------------------------------- JWKS cache (real loopback issuer)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def issuer_server() -> Iterator[JwksServer]:
    server = JwksServer().start()
    yield server
    server.stop()


@pytest.fixture
def issuer(issuer_server: JwksServer) -> JwksServer:
    return issuer_server.reset(jwks(KEY))


@pytest.fixture
async def clock_and_cache() -> AsyncIterator[tuple[Clock, JwksCache]]:
    clock = Clock()
    cache = JwksCache(clock=clock, min_ttl=1, unknown_kid_interval=10, failure_backoff=2, timeout=2)
    yield clock, cache
    await cache.close()


def config_for(server: JwksServer, **extra: object) -> IssuerConfig:
    return IssuerConfig(issuer=server.issuer, audiences=(AUDIENCE,), **extra)  # type: ignore[arg-type]


def token_for(server: JwksServer, key: object = KEY, **claims: object) -> str:
    return key.sign(access_claims(issuer=server.issuer, **claims))  # type: ignore[attr-defined]


async def test_the_cache_finds_the_keys_through_discovery(issuer: JwksServer, clock_and_cache) -> None:
    _, cache = clock_and_cache
    claims = await cache.verify(token_for(issuer), config_for(issuer))
    assert claims["iss"] == issuer.issuer
    assert issuer.hits["/oauth2/default/.well-known/openid-configuration"] == 1
    assert issuer.hits["/oauth2/default/v1/keys"] == 1


async def test_the_cache_falls_back_to_the_okta_keys_url_without_discovery(
    issuer: JwksServer, clock_and_cache
) -> None:
    _, cache = clock_and_cache
    issuer.discovery = False
    assert await cache.verify(token_for(issuer), config_for(issuer))
    assert issuer.hits["/oauth2/default/v1/keys"] == 1


async def test_a_configured_jwks_uri_skips_discovery(issuer: JwksServer, clock_and_cache) -> None:
    _, cache = clock_and_cache
    assert await cache.verify(token_for(issuer), config_for(issuer, jwks_uri=issuer.keys_url))
    assert issuer.hits["/oauth2/default/.well-known/openid-configuration"] == 0


async def test_keys_are_reused_within_their_max_age(issuer: JwksServer, clock_and_cache) -> None:
    clock, cache = clock_and_cache
    issuer.cache_control = "max-age=60"
    config = config_for(issuer, jwks_uri=issuer.keys_url)
    await cache.verify(token_for(issuer), config)
    clock.now += 59
    await cache.verify(token_for(issuer), config)
    await cache.settle()
    assert issuer.hits["/oauth2/default/v1/keys"] == 1


async def test_keys_are_refetched_once_their_max_age_has_passed(issuer: JwksServer, clock_and_cache) -> None:
    clock, cache = clock_and_cache
    issuer.cache_control = "max-age=60"
    config = config_for(issuer, jwks_uri=issuer.keys_url)
    await cache.verify(token_for(issuer), config)
    clock.now += 61
    await cache.verify(token_for(issuer), config)
    await cache.settle()
    assert issuer.hits["/oauth2/default/v1/keys"] == 2


async def test_max_age_is_bounded_below_by_min_ttl(issuer: JwksServer) -> None:
    clock = Clock()
    cache = JwksCache(clock=clock, min_ttl=30)
    issuer.cache_control = "no-store"
    config = config_for(issuer, jwks_uri=issuer.keys_url)
    try:
        await cache.verify(token_for(issuer), config)
        clock.now += 29
        await cache.verify(token_for(issuer), config)
        await cache.settle()
        assert issuer.hits["/oauth2/default/v1/keys"] == 1
    finally:
        await cache.close()


async def test_an_unknown_kid_triggers_a_refetch_that_finds_a_rotated_key(
    issuer: JwksServer, clock_and_cache
) -> None:
    clock, cache = clock_and_cache
    config = config_for(issuer, jwks_uri=issuer.keys_url)
    await cache.verify(token_for(issuer), config)
    rotated = rsa_key("rsa-rotated")
    issuer.jwks = jwks(KEY, rotated)
    clock.now += 11
    assert await cache.verify(token_for(issuer, rotated), config)
    assert issuer.hits["/oauth2/default/v1/keys"] == 2


async def test_unknown_kid_refetches_are_throttled(issuer: JwksServer, clock_and_cache) -> None:
    clock, cache = clock_and_cache
    config = config_for(issuer, jwks_uri=issuer.keys_url)
    await cache.verify(token_for(issuer), config)
    for attempt in range(20):
        clock.now += 0.1
        forged = KEY.sign(access_claims(issuer=issuer.issuer), headers={"kid": f"forged-{attempt}"})
        with pytest.raises(TokenInvalid, match="kid"):
            await cache.verify(forged, config)
    assert issuer.hits["/oauth2/default/v1/keys"] == 1
    clock.now += 10
    with pytest.raises(TokenInvalid):
        await cache.verify(KEY.sign(access_claims(issuer=issuer.issuer), headers={"kid": "again"}), config)
    assert issuer.hits["/oauth2/default/v1/keys"] == 2


async def test_cached_keys_keep_working_while_the_issuer_is_down(issuer: JwksServer, clock_and_cache) -> None:
    clock, cache = clock_and_cache
    issuer.cache_control = "max-age=60"
    config = config_for(issuer, jwks_uri=issuer.keys_url)
    await cache.verify(token_for(issuer), config)
    issuer.down = True
    clock.now += 3600
    assert await cache.verify(token_for(issuer), config)
    await cache.settle()
    assert await cache.verify(token_for(issuer), config)
    assert issuer.hits["/oauth2/default/v1/keys"] == 2


async def test_without_cached_keys_a_down_issuer_makes_tokens_unverifiable(
    issuer: JwksServer, clock_and_cache
) -> None:
    _, cache = clock_and_cache
    issuer.down = True
    with pytest.raises(KeysUnavailable):
        await cache.verify(token_for(issuer), config_for(issuer))


async def test_an_unreachable_issuer_fails_fast(clock_and_cache) -> None:
    _, cache = clock_and_cache
    config = IssuerConfig(issuer="http://127.0.0.1:9/oauth2/default", audiences=(AUDIENCE,))
    with pytest.raises(KeysUnavailable):  # a refused connection: no retry loop, no wait
        await asyncio.wait_for(cache.verify(KEY.sign(access_claims(issuer=config.issuer)), config), 30)


async def test_a_slow_issuer_times_out(issuer: JwksServer) -> None:
    cache = JwksCache(timeout=0.2)
    issuer.delay = 2
    try:
        with pytest.raises(KeysUnavailable):
            await cache.verify(token_for(issuer), config_for(issuer, jwks_uri=issuer.keys_url))
    finally:
        await cache.close()


async def test_concurrent_misses_share_one_fetch(issuer: JwksServer, clock_and_cache) -> None:
    _, cache = clock_and_cache
    issuer.delay = 0.2
    config = config_for(issuer, jwks_uri=issuer.keys_url)
    results = await asyncio.gather(*(cache.verify(token_for(issuer), config) for _ in range(25)))
    assert len(results) == 25
    assert issuer.hits["/oauth2/default/v1/keys"] == 1


async def test_a_jku_url_in_a_token_is_never_fetched(issuer: JwksServer, clock_and_cache) -> None:
    _, cache = clock_and_cache
    attacker = rsa_key("attacker", seed="attacker")
    issuer.jwks = jwks(KEY, attacker)  # the recording server would even serve the attacker's key
    token = attacker.sign(
        access_claims(issuer=issuer.issuer),
        headers={"kid": KEY.kid, "jku": issuer.base_url + "/attacker/jwks"},
    )
    with pytest.raises(TokenInvalid) as caught:
        await cache.verify(token, config_for(issuer, jwks_uri=issuer.keys_url))
    assert caught.value.reason == "forbidden_header"
    assert issuer.hits["/attacker/jwks"] == 0
