"""Signing in child processes: the worker's protocol, tokens that standard verifiers accept,
key rotation, a child dying under load, children that cannot start, and shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from ostiary.jose import sign_processes, sign_worker
from ostiary.jose.sign_processes import ProcessSigner
from ostiary.jose.signer import encode_jwt, signing_input_of
from ostiary.jose.signing_keys import SigningKey, generate_signing_key

CLAIMS: dict[str, object] = {
    "ver": 1,
    "iss": "https://example.ostiary.test/oauth2/default",
    "aud": "api://default",
    "iat": 1688146471,
    "exp": 4102444800,
    "cid": "0oa1b2c3d4e5f6g7h8i9",
    "scp": ["solar-system:read"],
    "sub": "0oa1b2c3d4e5f6g7h8i9",
}


@pytest.fixture
async def signer() -> AsyncIterator[ProcessSigner]:
    pool = ProcessSigner(2)
    pool.start()
    yield pool
    pool.close()


def _verify(token: str, key: SigningKey) -> dict[str, Any]:
    return jwt.decode(token, jwt.PyJWK(key.public_jwk()), algorithms=[key.alg], audience="api://default")


def _der(key: SigningKey) -> bytes:
    return key.private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pids(signer: ProcessSigner) -> list[int]:
    return [child.process.pid for child in signer._children]


# --- the worker's protocol, in this process -------------------------------------------


def test_frames_are_taken_whole_and_a_partial_one_waits() -> None:
    stream = bytearray(sign_worker.sign_frame(1, b"k1", b"abc") + sign_worker.sign_frame(2, b"k1", b"defgh"))
    partial = stream[:-3]
    rest = stream[-3:]
    first = sign_worker.frames(partial)
    assert len(first) == 1 and first[0].endswith(b"abc")
    partial += rest
    second = sign_worker.frames(partial)
    assert len(second) == 1 and second[0].endswith(b"defgh")
    assert partial == bytearray()


def test_a_frame_longer_than_the_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        sign_worker.frames(bytearray(sign_worker.LENGTH.pack(sign_worker.MAX_FRAME + 1) + b"x"))


def test_the_worker_signs_with_a_loaded_key_and_answers_unknown_kids_with_an_error(
    rsa_key: SigningKey,
) -> None:
    worker = sign_worker.Worker()
    signing_input = signing_input_of(CLAIMS, rsa_key, None)
    unknown = worker.handle(sign_worker.frames(bytearray(sign_worker.sign_frame(7, b"k", signing_input)))[0])
    assert unknown is not None
    assert sign_worker.ANSWER.unpack_from(unknown, 4) == (7, sign_worker.FAILED)

    assert worker.handle(sign_worker.frames(bytearray(sign_worker.load_frame("k", _der(rsa_key))))[0]) is None
    answer = worker.handle(sign_worker.frames(bytearray(sign_worker.sign_frame(8, b"k", signing_input)))[0])
    assert answer is not None
    body = sign_worker.frames(bytearray(answer))[0]
    assert sign_worker.ANSWER.unpack_from(body) == (8, sign_worker.OK)
    token = (signing_input + b"." + body[sign_worker.ANSWER.size :]).decode()
    assert token == encode_jwt(CLAIMS, rsa_key)  # RS256 is deterministic


def test_the_worker_refuses_an_unknown_operation() -> None:
    with pytest.raises(ValueError, match="unknown operation"):
        sign_worker.Worker().handle(b"X\x00\x00")


# --- ProcessSigner, with real child processes ------------------------------------------


async def test_tokens_from_many_concurrent_callers_all_verify(
    signer: ProcessSigner, rsa_key: SigningKey, ec_key: SigningKey
) -> None:
    async def mint(index: int) -> tuple[int, SigningKey, str]:
        key = rsa_key if index % 2 else ec_key
        return index, key, await signer.sign({**CLAIMS, "jti": f"AT.{index}"}, key, typ="at+jwt")

    results = await asyncio.gather(*(mint(i) for i in range(200)))
    for index, key, token in results:
        assert _verify(token, key)["jti"] == f"AT.{index}"
        assert jwt.get_unverified_header(token) == {"kid": key.kid, "alg": key.alg, "typ": "at+jwt"}
    assert len(signer._children) == 2
    assert all(child.pending == {} for child in signer._children)


async def test_the_signatures_are_made_in_the_children(signer: ProcessSigner, rsa_key: SigningKey) -> None:
    signer.fallback.close()  # a token signed on the fallback threads would now fail
    tokens = await asyncio.gather(*(signer.sign(CLAIMS, rsa_key) for _ in range(8)))
    assert all(_verify(token, rsa_key)["sub"] == CLAIMS["sub"] for token in tokens)
    assert all(child.process.poll() is None for child in signer._children)


async def test_a_rotated_key_reaches_the_children(signer: ProcessSigner, ec_key: SigningKey) -> None:
    await signer.sign(CLAIMS, ec_key)
    rotated = generate_signing_key("ES256")
    assert _verify(await signer.sign(CLAIMS, rotated), rotated)["iss"] == CLAIMS["iss"]
    assert _verify(await signer.sign(CLAIMS, ec_key), ec_key)["iss"] == CLAIMS["iss"]


async def test_a_child_killed_under_load_loses_no_token_and_is_replaced(
    signer: ProcessSigner, rsa_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Any death counts as one under load, not as a child that failed to start (those are the
    # deaths within _QUICK_DEATH_SECONDS of the start): no waiting for the child to age.
    monkeypatch.setattr(sign_processes, "_QUICK_DEATH_SECONDS", 0.0)
    await signer.sign(CLAIMS, rsa_key)
    victim = signer._children[0]
    pending = [asyncio.ensure_future(signer.sign({**CLAIMS, "jti": str(i)}, rsa_key)) for i in range(60)]
    await asyncio.sleep(0)  # the requests are on their way to the children
    os.kill(victim.process.pid, signal.SIGKILL)
    tokens = await asyncio.wait_for(asyncio.gather(*pending), timeout=30)
    assert [_verify(token, rsa_key)["jti"] for token in tokens] == [str(i) for i in range(60)]
    assert victim.process.pid not in _pids(signer)
    assert len(signer._children) == 2
    assert _verify(await signer.sign(CLAIMS, rsa_key), rsa_key)["sub"] == CLAIMS["sub"]


async def test_children_that_cannot_start_leave_the_signing_to_threads(
    rsa_key: SigningKey, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sys, "executable", "/bin/false")
    pool = ProcessSigner(2)
    try:
        pool.start()
        tokens = await asyncio.wait_for(
            asyncio.gather(*(pool.sign({**CLAIMS, "jti": str(i)}, rsa_key) for i in range(20))), timeout=30
        )
        assert [_verify(token, rsa_key)["jti"] for token in tokens] == [str(i) for i in range(20)]
        for _ in range(100):  # the children's deaths are noticed by the loop
            if not pool._children:
                break
            await asyncio.sleep(0.05)
        assert pool._children == []
        assert _verify(await pool.sign(CLAIMS, rsa_key), rsa_key)["sub"] == CLAIMS["sub"]
        assert "keep dying" in caplog.text
    finally:
        pool.close()


async def test_the_children_get_none_of_our_settings(
    rsa_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OSTIARY_MASTER_KEY", "do-not-pass-this-on")
    monkeypatch.setenv("OSTIARY_DATABASE_URL", "postgresql://user:secret@db/ostiary")
    pool = ProcessSigner(1)
    try:
        pool.start()
        await pool.sign(CLAIMS, rsa_key)
        environ = Path(f"/proc/{pool._children[0].process.pid}/environ").read_bytes()
        assert b"OSTIARY_" not in environ and b"do-not-pass-this-on" not in environ
        assert b"PATH=" in environ
    finally:
        pool.close()


async def test_close_stops_the_children(rsa_key: SigningKey) -> None:
    pool = ProcessSigner(2)
    pool.start()
    await pool.sign(CLAIMS, rsa_key)
    children = list(pool._children)
    pool.close()
    assert [child.process.returncode for child in children] == [0, 0]
    with pytest.raises(RuntimeError, match="closed"):
        await pool.sign(CLAIMS, rsa_key)


def test_a_signer_needs_a_process() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ProcessSigner(0)


def test_the_child_environment_drops_every_ostiary_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OSTIARY_ANYTHING", "x")
    monkeypatch.setenv("HOME_LIKE", "y")
    environment = sign_processes._child_environment()
    assert "OSTIARY_ANYTHING" not in environment and environment["HOME_LIKE"] == "y"
