"""The admin API's client assertion rules and access token lifetime, at their boundaries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
import pytest

from ostiary.access_gateway.admin import access_tokens
from ostiary.access_gateway.admin.client_assertion import (
    AssertionRejected,
    claimed_client_id,
    unverified,
    verify,
)
from ostiary.access_gateway.runtime import make_config, open_runtime
from ostiary.access_gateway.store import migrate
from ostiary.jose.signing_keys import generate_signing_key

AUDIENCE = "https://oag.example.com"
NOW = 1_800_000_000


@pytest.fixture(scope="module")
def key() -> Any:
    return generate_signing_key("RS256")


def client_of(key: Any) -> dict[str, Any]:
    return {"id": "c1", "kid": key.kid, "public_jwk": key.public_jwk(), "scopes": ["okta.oag.app.read"]}


def assertion(key: Any, *, alg: str = "RS256", headers: dict[str, Any] | None = None, **claims: Any) -> str:
    payload = {
        "iss": "c1",
        "sub": "c1",
        "aud": AUDIENCE,
        "exp": NOW + 300,
        "iat": NOW,
        "scope": "x",
        **claims,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    pem = key.private_pem()
    return jwt.encode(payload, pem, algorithm=alg, headers={"typ": "JWT", **(headers or {})})


def check(key: Any, token: str) -> None:
    parsed = unverified(token)
    assert claimed_client_id(parsed) == "c1"
    verify(parsed, client_of(key), audience=AUDIENCE, now=NOW)


def test_the_seeds_assertion_passes(key: Any) -> None:
    check(key, assertion(key))


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": NOW + 3600},
        {"exp": NOW + 1},
        {"iat": None},
        {"iat": NOW + 29},
        {"aud": AUDIENCE + "/"},
        {"aud": ["https://other.example", AUDIENCE]},
        {"jti": "j-1"},
    ],
)
def test_accepted_at_the_edges(key: Any, claims: dict[str, Any]) -> None:
    check(key, assertion(key, **claims))


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": NOW + 3600 + 31},
        {"exp": NOW},
        {"exp": None},
        {"exp": "soon"},
        {"iat": NOW + 31},
        {"nbf": NOW + 60},
        {"aud": "https://oag.example.com.evil"},
        {"aud": None},
        {"scope": None},
        {"scope": " "},
        {"sub": "c2"},
        {"jti": ""},
    ],
)
def test_refused_at_the_edges(key: Any, claims: dict[str, Any]) -> None:
    with pytest.raises(AssertionRejected):
        check(key, assertion(key, **claims))


def test_a_kid_must_be_the_clients(key: Any) -> None:
    check(key, assertion(key, headers={"kid": key.kid}))
    with pytest.raises(AssertionRejected):
        check(key, assertion(key, headers={"kid": "someone-else"}))


def test_only_rs256(key: Any) -> None:
    with pytest.raises(AssertionRejected):
        check(key, assertion(key, alg="RS384"))
    with pytest.raises(AssertionRejected):
        check(key, assertion(key, alg="PS256"))


def test_a_tampered_assertion_is_refused(key: Any) -> None:
    header, _payload, signature = assertion(key).split(".")
    forged = assertion(key, scope="okta.oag.app.manage").split(".")[1]
    with pytest.raises(AssertionRejected):
        check(key, f"{header}.{forged}.{signature}")


async def test_an_access_token_lasts_300_seconds_and_an_assertion_is_spent_once(tmp_path: Path) -> None:
    runtime = open_runtime(make_config(data_dir=tmp_path))
    try:
        await migrate.upgrade(runtime.engine)
        token = await access_tokens.issue(runtime.engine, "c1", ["okta.oag.app.read"], NOW)
        assert await access_tokens.lookup(runtime.engine, token, NOW + 299) is not None
        assert await access_tokens.lookup(runtime.engine, token, NOW + 300) is None
        assert await access_tokens.lookup(runtime.engine, token + "x", NOW) is None
        assert await access_tokens.spend_assertion(runtime.engine, "jti:c1:a", NOW + 60, NOW)
        assert not await access_tokens.spend_assertion(runtime.engine, "jti:c1:a", NOW + 60, NOW + 30)
        assert await access_tokens.spend_assertion(runtime.engine, "jti:c1:b", NOW + 60, NOW)
    finally:
        await runtime.close()
