"""Minting JWTs: compact JWS that standard verifiers accept, Okta's header, OIDC left hashes."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest

from ostiary.jose import signer as signer_module
from ostiary.jose.signer import JwtSigner, encode_jwt, left_hash
from ostiary.jose.signing_keys import PrivateKey, SigningKey, generate_signing_key

CLAIMS: dict[str, object] = {
    "ver": 1,
    "jti": "AT.MNAoEQ_jbKqoinrQo1D0XKjMX28U5d7ZszBceot7-Ts",
    "iss": "https://example.ostiary.test/oauth2/default",
    "aud": "api://default",
    "iat": 1688146471,
    "exp": 4102444800,
    "cid": "0oa1b2c3d4e5f6g7h8i9",
    "uid": "00u1b2c3d4e5f6g7h8i9",
    "scp": ["openid", "email"],
    "sub": "carl.sagan@example.com",
}


@pytest.fixture
def signer() -> Iterator[JwtSigner]:
    pool = JwtSigner(max_workers=2)
    yield pool
    pool.close()


def _segment(token: str, index: int) -> bytes:
    part = token.split(".")[index]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _verify(token: str, key: SigningKey) -> dict[str, Any]:
    verifying_key = jwt.PyJWK(key.public_jwk())
    return jwt.decode(token, verifying_key, algorithms=[key.alg], audience="api://default")


# --- encode_jwt ----------------------------------------------------------------------


@pytest.mark.parametrize("key_name", ["rsa_key", "ec_key"])
def test_a_minted_token_verifies_with_pyjwt_against_the_public_jwk(
    key_name: str, request: pytest.FixtureRequest
) -> None:
    key: SigningKey = request.getfixturevalue(key_name)
    assert _verify(encode_jwt(CLAIMS, key), key) == CLAIMS


@pytest.mark.parametrize("key_name", ["rsa_key", "ec_key"])
def test_the_header_is_exactly_kid_then_alg(key_name: str, request: pytest.FixtureRequest) -> None:
    key: SigningKey = request.getfixturevalue(key_name)
    header = json.loads(_segment(encode_jwt(CLAIMS, key), 0))
    assert list(header.items()) == [("kid", key.kid), ("alg", key.alg)]


def test_the_header_is_serialized_compactly(rsa_key: SigningKey) -> None:
    assert _segment(encode_jwt(CLAIMS, rsa_key), 0) == f'{{"kid":"{rsa_key.kid}","alg":"RS256"}}'.encode()


def test_typ_is_added_to_the_header_only_when_given(rsa_key: SigningKey) -> None:
    token = encode_jwt(CLAIMS, rsa_key, typ="dpop+jwt")
    header = json.loads(_segment(token, 0))
    assert list(header.items()) == [("kid", rsa_key.kid), ("alg", "RS256"), ("typ", "dpop+jwt")]
    assert jwt.get_unverified_header(token)["typ"] == "dpop+jwt"
    assert _verify(token, rsa_key) == CLAIMS


def test_the_payload_is_compact_json_of_the_claims(rsa_key: SigningKey) -> None:
    payload = _segment(encode_jwt(CLAIMS, rsa_key), 1)
    assert payload == json.dumps(CLAIMS, separators=(",", ":")).encode()


def test_non_ascii_claims_are_utf8_json(rsa_key: SigningKey) -> None:
    claims = {**CLAIMS, "name": "José Ñúñez"}
    token = encode_jwt(claims, rsa_key)
    assert "José Ñúñez".encode() in _segment(token, 1)
    assert _verify(token, rsa_key)["name"] == "José Ñúñez"


def test_every_segment_is_unpadded_base64url(rsa_key: SigningKey, ec_key: SigningKey) -> None:
    for key in (rsa_key, ec_key):
        token = encode_jwt({**CLAIMS, "pad": "x"}, key)
        assert token.count(".") == 2
        assert "=" not in token and "+" not in token and "/" not in token


def test_an_rs256_signature_is_256_bytes(rsa_key: SigningKey) -> None:
    assert len(_segment(encode_jwt(CLAIMS, rsa_key), 2)) == 256


def test_an_es256_signature_is_raw_r_and_s_of_64_bytes(ec_key: SigningKey) -> None:
    for _ in range(20):  # DER length varies with leading zeros; the JWS form never does
        assert len(_segment(encode_jwt(CLAIMS, ec_key), 2)) == 64


def test_a_token_signed_by_another_key_with_the_same_kid_does_not_verify(rsa_key: SigningKey) -> None:
    impostor = SigningKey(kid=rsa_key.kid, alg="RS256", private_key=generate_signing_key().private_key)
    with pytest.raises(jwt.InvalidSignatureError):
        _verify(encode_jwt(CLAIMS, impostor), rsa_key)


def test_claims_that_are_not_json_are_refused(rsa_key: SigningKey) -> None:
    with pytest.raises(TypeError):
        encode_jwt({"when": object()}, rsa_key)


def test_nan_claims_are_refused(rsa_key: SigningKey) -> None:
    with pytest.raises(ValueError):
        encode_jwt({"exp": float("nan")}, rsa_key)


# --- at_hash / c_hash ----------------------------------------------------------------


def test_at_hash_matches_the_openid_connect_core_example() -> None:
    # OpenID Connect Core 1.0, Appendix A.3 (response_type "id_token token")
    assert left_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", "RS256") == "77QmUPtjPfzWtF2AnpK9RQ"


def test_c_hash_matches_the_openid_connect_core_example() -> None:
    # OpenID Connect Core 1.0, Appendix A.4 (response_type "code id_token")
    code = "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"
    assert left_hash(code, "RS256") == "LDktKdoQak3Pk0cnXxCltA"


def test_es256_left_hash_uses_sha256_like_rs256() -> None:
    assert left_hash("token", "ES256") == left_hash("token", "RS256")


def test_left_hash_for_a_384_bit_alg_is_the_left_half_of_sha384() -> None:
    import hashlib

    expected = base64.urlsafe_b64encode(hashlib.sha384(b"token").digest()[:24]).rstrip(b"=").decode()
    assert left_hash("token", "RS384") == expected
    assert len(expected) == 32


def test_left_hash_for_an_unknown_alg_is_refused() -> None:
    with pytest.raises(ValueError, match="HS256"):
        left_hash("token", "HS256")


# --- JwtSigner -----------------------------------------------------------------------


async def test_signer_tokens_from_many_concurrent_tasks_all_verify(
    signer: JwtSigner, rsa_key: SigningKey, ec_key: SigningKey
) -> None:
    async def mint(index: int) -> tuple[int, SigningKey, str]:
        key = rsa_key if index % 2 else ec_key
        return index, key, await signer.sign({**CLAIMS, "jti": f"AT.{index}"}, key)

    results = await asyncio.gather(*(mint(i) for i in range(200)))
    for index, key, token in results:
        assert _verify(token, key)["jti"] == f"AT.{index}"


async def test_signer_signs_on_its_own_threads(
    signer: JwtSigner, rsa_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread_names: list[str] = []
    real_signature: Callable[[PrivateKey, bytes], bytes] = signer_module.signature

    def recording_signature(private_key: PrivateKey, data: bytes) -> bytes:
        thread_names.append(threading.current_thread().name)
        return real_signature(private_key, data)

    monkeypatch.setattr(signer_module, "signature", recording_signature)
    await asyncio.gather(*(signer.sign(CLAIMS, rsa_key) for _ in range(10)))
    assert len(thread_names) == 10
    assert all(name.startswith("ostiary-sign_") for name in thread_names)


async def test_signer_tokens_equal_encode_jwt_for_deterministic_rs256(
    signer: JwtSigner, rsa_key: SigningKey
) -> None:
    assert await signer.sign(CLAIMS, rsa_key) == encode_jwt(CLAIMS, rsa_key)


async def test_signer_passes_typ_through(signer: JwtSigner, rsa_key: SigningKey) -> None:
    token = await signer.sign(CLAIMS, rsa_key, typ="at+jwt")
    assert jwt.get_unverified_header(token) == {"kid": rsa_key.kid, "alg": "RS256", "typ": "at+jwt"}


async def test_claims_changed_after_the_call_do_not_change_the_token(
    signer: JwtSigner, rsa_key: SigningKey
) -> None:
    claims = dict(CLAIMS)
    pending = asyncio.ensure_future(signer.sign(claims, rsa_key))
    await asyncio.sleep(0)
    claims["sub"] = "someone.else@example.com"
    assert _verify(await pending, rsa_key)["sub"] == CLAIMS["sub"]


async def test_signer_refuses_claims_that_are_not_json(signer: JwtSigner, rsa_key: SigningKey) -> None:
    with pytest.raises(TypeError):
        await signer.sign({"when": object()}, rsa_key)


async def test_a_failure_while_signing_reaches_the_caller(
    signer: JwtSigner, rsa_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_signature(private_key: PrivateKey, data: bytes) -> bytes:
        raise RuntimeError("hardware security module unplugged")

    monkeypatch.setattr(signer_module, "signature", failing_signature)
    with pytest.raises(RuntimeError, match="unplugged"):
        await signer.sign(CLAIMS, rsa_key)


async def test_a_cancelled_caller_does_not_disturb_later_calls(
    signer: JwtSigner, rsa_key: SigningKey
) -> None:
    abandoned = asyncio.ensure_future(signer.sign(CLAIMS, rsa_key))
    await asyncio.sleep(0)
    abandoned.cancel()
    tokens = await asyncio.gather(*(signer.sign(CLAIMS, rsa_key) for _ in range(5)))
    assert abandoned.cancelled()
    assert all(_verify(token, rsa_key) == CLAIMS for token in tokens)


def test_one_signer_serves_successive_event_loops(rsa_key: SigningKey) -> None:
    pool = JwtSigner(max_workers=2)
    try:
        for _ in range(3):
            tokens = asyncio.run(_sign_many(pool, rsa_key, 10))
            assert all(_verify(token, rsa_key) == CLAIMS for token in tokens)
    finally:
        pool.close()


async def _sign_many(pool: JwtSigner, key: SigningKey, count: int) -> list[str]:
    return list(await asyncio.gather(*(pool.sign(CLAIMS, key) for _ in range(count))))


async def test_closing_still_signs_the_tokens_already_requested(rsa_key: SigningKey) -> None:
    pool = JwtSigner(max_workers=1)
    pending = [asyncio.ensure_future(pool.sign(CLAIMS, rsa_key)) for _ in range(10)]
    await asyncio.sleep(0)
    pool.close()
    assert all(_verify(token, rsa_key) == CLAIMS for token in await asyncio.gather(*pending))


def _signing_threads() -> int:
    return sum(thread.name.startswith("ostiary-sign_") for thread in threading.enumerate())


async def test_signer_threads_start_on_first_use(rsa_key: SigningKey) -> None:
    before = _signing_threads()
    pool = JwtSigner(max_workers=2)
    try:
        assert _signing_threads() == before
        await pool.sign(CLAIMS, rsa_key)
        assert _signing_threads() == before + 2
    finally:
        pool.close()
    assert _signing_threads() == before


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_its_own_signing_threads(rsa_key: SigningKey) -> None:
    pool = JwtSigner(max_workers=1)
    try:
        parent_token = asyncio.run(pool.sign(CLAIMS, rsa_key))
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child
            signal.alarm(20)
            try:
                ok = asyncio.run(pool.sign(CLAIMS, rsa_key)) == parent_token
            finally:
                os._exit(0 if ok else 1)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        pool.close()


def test_closing_twice_is_harmless() -> None:
    pool = JwtSigner(max_workers=1)
    pool.close()
    pool.close()


async def test_a_closed_signer_refuses_new_work(rsa_key: SigningKey) -> None:
    pool = JwtSigner(max_workers=1)
    pool.close()
    with pytest.raises(RuntimeError):
        await pool.sign(CLAIMS, rsa_key)


def test_signer_defaults_to_at_least_one_worker() -> None:
    pool = JwtSigner()
    try:
        assert pool.max_workers >= 1
    finally:
        pool.close()
