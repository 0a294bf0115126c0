"""Client authentication for the token, introspect and revoke endpoints (RFC 6749 §2.3,
RFC 7523): every method, and every way a credential or an assertion can be wrong."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from ostiary.domain.clients.authentication import AuthenticatedClient, authenticate_client
from ostiary.domain.clients.client_assertions import CLIENT_ASSERTION_TYPE
from ostiary.domain.oauth_errors import OAuthError
from ostiary.store.repositories import orgs
from tests.conftest import ORG_URL, Server
from tests.support.apps import (
    APPS,
    create_app,
    ec_jwk,
    ec_private,
    key_app,
    oidc_app,
    rsa_jwk,
    rsa_private,
    service_app,
)

TOKEN_URL = f"{ORG_URL}/oauth2/v1/token"
ISSUER_TOKEN_URL = f"{ORG_URL}/oauth2/default/v1/token"


@dataclass
class Env:
    server: Server
    admin: httpx.AsyncClient

    async def authenticate(
        self,
        *,
        header: str | None = None,
        form: dict[str, str] | None = None,
        now: float | None = None,
        audiences: tuple[str, ...] = (),
    ) -> AuthenticatedClient:
        rings = getattr(self.server.rt, "rings", None)
        async with self.server.rt.db.session() as session:
            org = await orgs.ensure_default(session)
            storage = self.server.rt.token_storage(session)
            return await authenticate_client(
                storage.clients,
                storage.assertions,
                org.id,
                authorization_header=header,
                form=form or {},
                endpoint_url=TOKEN_URL,
                accepted_audiences=audiences,
                now=now,
                encryptor=getattr(rings, "encryptor", None),
            )

    async def refused(self, **kwargs: Any) -> OAuthError:
        with pytest.raises(OAuthError) as caught:
            await self.authenticate(**kwargs)
        return caught.value


async def _env(server: Server) -> AsyncIterator[Env]:
    token = await server.create_token()
    async with server.client(token) as admin:
        yield Env(server, admin)


@pytest.fixture
async def env(server: Server) -> AsyncIterator[Env]:
    async for value in _env(server):
        yield value


@pytest.fixture
async def any_env(any_server: Server) -> AsyncIterator[Env]:
    async for value in _env(any_server):
        yield value


def basic(client_id: str, secret: str, *, encode: bool = True) -> str:
    if encode:
        client_id, secret = quote_plus(client_id), quote_plus(secret)
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def claims(
    client_id: str, *, aud: str | list[str] = TOKEN_URL, lifetime: int = 3000, **extra: Any
) -> dict[str, Any]:
    now = int(time.time())
    body = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "iat": now,
        "exp": now + lifetime,
        "jti": str(uuid.uuid4()),
    }
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


def rs256(payload: dict[str, Any], *, key: str = "k1", kid: str | None = "k1", alg: str = "RS256") -> str:
    headers = {"kid": kid} if kid else {}
    return jwt.encode(payload, rsa_private(key), algorithm=alg, headers=headers)


def forged(header: dict[str, Any], payload: dict[str, Any], key: bytes | None) -> str:
    """A token no library would sign: ``alg: none`` (no key), or HMAC keyed with ``key``."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    if key is None:
        return signing_input + "."
    return signing_input + "." + b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


def assertion_form(token: str, **extra: str) -> dict[str, str]:
    return {"client_assertion_type": CLIENT_ASSERTION_TYPE, "client_assertion": token, **extra}


async def secret_app(env: Env, method: str = "client_secret_basic", **kwargs: Any) -> tuple[str, str]:
    app = await create_app(env.admin, service_app(method=method, **kwargs))
    return app["id"], app["credentials"]["oauthClient"]["client_secret"]


async def jwt_app(env: Env, *keys: dict[str, Any]) -> str:
    app = await create_app(env.admin, key_app(*(keys or (rsa_jwk("k1", kid="k1"),))))
    return str(app["id"])


# --- client secrets ----------------------------------------------------------------------------


async def test_client_secret_basic(any_env: Env) -> None:
    client_id, secret = await secret_app(any_env)
    result = await any_env.authenticate(header=basic(client_id, secret))
    assert (result.client_id, result.method) == (client_id, "client_secret_basic")
    assert result.app.grant_types == ("client_credentials",)


async def test_basic_credentials_are_form_urlencoded_or_raw(env: Env) -> None:
    secret = "pa ss:wo%rd+x/y=z&1"
    client_id, _ = await secret_app(env, credentials={"client_secret": secret})
    encoded = await env.authenticate(header=basic(client_id, secret))
    raw = await env.authenticate(header=basic(client_id, secret, encode=False))
    assert encoded.client_id == raw.client_id == client_id


async def test_wrong_secret_is_invalid_client_with_a_basic_challenge(env: Env) -> None:
    client_id, secret = await secret_app(env)
    error = await env.refused(header=basic(client_id, secret + "x"))
    assert (error.error, error.status) == ("invalid_client", 401)
    assert error.basic_realm == ORG_URL
    assert error.description == "The client secret supplied for a confidential client is invalid."


async def test_unknown_client_is_invalid_client(env: Env) -> None:
    error = await env.refused(header=basic("0oa00000000000000000", "whatever-secret-value"))
    assert (error.error, error.status) == ("invalid_client", 401)
    assert error.basic_realm is not None


@pytest.mark.parametrize(
    "header", ["Basic !!!not-base64!!!", "Basic " + base64.b64encode(b"no-colon").decode()]
)
async def test_malformed_basic_header_is_invalid_client(env: Env, header: str) -> None:
    error = await env.refused(header=header)
    assert (error.error, error.status) == ("invalid_client", 401)


async def test_client_secret_post(any_env: Env) -> None:
    client_id, secret = await secret_app(any_env, "client_secret_post")
    result = await any_env.authenticate(form={"client_id": client_id, "client_secret": secret})
    assert (result.client_id, result.method) == (client_id, "client_secret_post")


async def test_wrong_post_secret_has_no_basic_challenge(env: Env) -> None:
    client_id, _ = await secret_app(env, "client_secret_post")
    error = await env.refused(form={"client_id": client_id, "client_secret": "not-the-secret-at-all"})
    assert (error.error, error.basic_realm) == ("invalid_client", None)


async def test_a_second_active_secret_also_authenticates_and_an_inactive_one_does_not(env: Env) -> None:
    client_id, first = await secret_app(env)
    url = f"{APPS}/{client_id}/credentials/secrets"
    second = (await env.admin.post(url)).json()
    assert (await env.authenticate(header=basic(client_id, second["client_secret"]))).client_id == client_id
    first_id = next(s["id"] for s in (await env.admin.get(url)).json() if s["id"] != second["id"])
    await env.admin.post(f"{url}/{first_id}/lifecycle/deactivate")
    assert (await env.refused(header=basic(client_id, first))).error == "invalid_client"


async def test_method_must_be_the_registered_one(env: Env) -> None:
    client_id, secret = await secret_app(env, "client_secret_basic")
    error = await env.refused(form={"client_id": client_id, "client_secret": secret})
    assert (error.error, error.status) == ("invalid_client", 401)
    assert "token_endpoint_auth_method" in error.description


async def test_two_methods_at_once_are_invalid_request(env: Env) -> None:
    client_id, secret = await secret_app(env)
    error = await env.refused(
        header=basic(client_id, secret), form={"client_id": client_id, "client_secret": secret}
    )
    assert (error.error, error.status) == ("invalid_request", 400)
    both = await env.refused(
        form={"client_id": client_id, "client_secret": secret, **assertion_form(rs256(claims(client_id)))}
    )
    assert (both.error, both.status) == ("invalid_request", 400)


async def test_missing_credentials(env: Env) -> None:
    error = await env.refused(form={"grant_type": "client_credentials"})
    assert (error.error, error.status, error.description) == (
        "invalid_client",
        401,
        "No client credentials found.",
    )


async def test_an_inactive_client_cannot_authenticate(env: Env) -> None:
    client_id, secret = await secret_app(env)
    await env.authenticate(header=basic(client_id, secret))
    await env.admin.post(f"{APPS}/{client_id}/lifecycle/deactivate")
    error = await env.refused(header=basic(client_id, secret))
    assert (error.error, error.status) == ("invalid_client", 401)


async def test_basic_client_id_must_match_the_form_client_id(env: Env) -> None:
    client_id, secret = await secret_app(env)
    other, _ = await secret_app(env)
    error = await env.refused(header=basic(client_id, secret), form={"client_id": other})
    assert error.error == "invalid_client"


# --- public clients ----------------------------------------------------------------------------


async def test_a_public_client_names_itself(env: Env) -> None:
    app = await create_app(env.admin, oidc_app("browser", method=None))
    result = await env.authenticate(form={"client_id": app["id"], "client_secret": ""})
    assert (result.client_id, result.method) == (app["id"], "none")


async def test_a_confidential_client_cannot_skip_its_secret(env: Env) -> None:
    client_id, _ = await secret_app(env)
    error = await env.refused(form={"client_id": client_id})
    assert (error.error, error.status) == ("invalid_client", 401)


# --- private_key_jwt -------------------------------------------------------------------------


async def test_private_key_jwt_rs256(any_env: Env) -> None:
    client_id = await jwt_app(any_env)
    result = await any_env.authenticate(form=assertion_form(rs256(claims(client_id))))
    assert (result.client_id, result.method) == (client_id, "private_key_jwt")


async def test_private_key_jwt_without_kid_as_the_okta_sdk_sends_it(env: Env) -> None:
    client_id = await jwt_app(env)
    result = await env.authenticate(form=assertion_form(rs256(claims(client_id), kid=None)))
    assert result.client_id == client_id


async def test_private_key_jwt_es256(env: Env) -> None:
    client_id = await jwt_app(env, rsa_jwk("k1", kid="k1"), ec_jwk("e1", kid="e1"))
    token = jwt.encode(claims(client_id), ec_private("e1"), algorithm="ES256", headers={"kid": "e1"})
    assert (await env.authenticate(form=assertion_form(token))).client_id == client_id


async def test_assertion_may_name_the_issuer_relative_token_url_when_accepted(env: Env) -> None:
    client_id = await jwt_app(env)
    token = rs256(claims(client_id, aud=ISSUER_TOKEN_URL))
    refused = await env.refused(form=assertion_form(token))
    assert (
        refused.description
        == "The audience claim for client_assertion must be the endpoint invoked for the request."
    )
    accepted = await env.authenticate(
        form=assertion_form(rs256(claims(client_id, aud=ISSUER_TOKEN_URL))), audiences=(ISSUER_TOKEN_URL,)
    )
    assert accepted.client_id == client_id


async def test_wrong_audience_is_refused(env: Env) -> None:
    client_id = await jwt_app(env)
    error = await env.refused(
        form=assertion_form(rs256(claims(client_id, aud=f"{ORG_URL}/oauth2/v1/introspect")))
    )
    assert (error.error, error.status) == ("invalid_client", 401)


async def test_expired_assertion_is_refused(env: Env) -> None:
    client_id = await jwt_app(env)
    token = rs256(claims(client_id, iat=int(time.time()) - 7200, lifetime=-3600))
    error = await env.refused(form=assertion_form(token))
    assert error.description == "The client_assertion token is expired."


async def test_assertion_valid_for_more_than_an_hour_is_refused(env: Env) -> None:
    client_id = await jwt_app(env)
    error = await env.refused(form=assertion_form(rs256(claims(client_id, lifetime=2 * 3600))))
    assert error.description == "The client_assertion token has an expiration too far into the future."


async def test_assertion_without_exp_or_jti_is_refused(env: Env) -> None:
    client_id = await jwt_app(env)
    for missing in ("exp", "jti"):
        payload = claims(client_id)
        del payload[missing]
        error = await env.refused(form=assertion_form(rs256(payload)))
        assert (error.error, error.status) == ("invalid_client", 401), missing


async def test_assertion_issued_in_the_future_is_refused(env: Env) -> None:
    client_id = await jwt_app(env)
    error = await env.refused(form=assertion_form(rs256(claims(client_id, iat=int(time.time()) + 600))))
    assert error.description == "The client_assertion token was issued in the future."


async def test_replayed_jti_is_refused(any_env: Env) -> None:
    client_id = await jwt_app(any_env)
    token = rs256(claims(client_id))
    await any_env.authenticate(form=assertion_form(token))
    error = await any_env.refused(form=assertion_form(token))
    assert (error.error, error.status) == ("invalid_client", 401)
    assert error.description == "The client_assertion token has already been used."


async def test_a_jti_is_per_client(env: Env) -> None:
    first, second = await jwt_app(env), await jwt_app(env)
    jti = "shared-jti"
    await env.authenticate(form=assertion_form(rs256(claims(first, jti=jti))))
    assert (await env.authenticate(form=assertion_form(rs256(claims(second, jti=jti))))).client_id == second


async def test_alg_none_assertion_is_refused(env: Env) -> None:
    client_id = await jwt_app(env)
    token = forged({"alg": "none", "kid": "k1"}, claims(client_id), None)
    error = await env.refused(form=assertion_form(token))
    assert (error.error, error.status) == ("invalid_client", 401)


async def test_hs256_assertion_keyed_with_the_public_key_is_refused(env: Env) -> None:
    client_id = await jwt_app(env)
    public_pem = (
        rsa_private("k1")
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    for kid in ("k1", None):
        header = {"alg": "HS256", **({"kid": kid} if kid else {})}
        error = await env.refused(form=assertion_form(forged(header, claims(client_id), public_pem)))
        assert error.description == "The client_assertion signature is invalid."


async def test_assertion_signed_by_a_foreign_key_with_the_registered_kid_is_refused(env: Env) -> None:
    client_id = await jwt_app(env)
    token = rs256(claims(client_id), key="attacker", kid="k1")
    error = await env.refused(form=assertion_form(token))
    assert error.description == "The client_assertion signature is invalid."


async def test_a_deactivated_key_no_longer_verifies(env: Env) -> None:
    client_id = await jwt_app(env, rsa_jwk("k1", kid="k1"), rsa_jwk("k2", kid="k2"))
    keys = (await env.admin.get(f"{APPS}/{client_id}/credentials/jwks")).json()
    await env.admin.post(f"{APPS}/{client_id}/credentials/jwks/{keys[0]['id']}/lifecycle/deactivate")
    assert (await env.refused(form=assertion_form(rs256(claims(client_id))))).error == "invalid_client"
    assert (
        await env.authenticate(form=assertion_form(rs256(claims(client_id), key="k2", kid="k2")))
    ).client_id == client_id


async def test_iss_and_sub_must_both_be_the_client(env: Env) -> None:
    client_id = await jwt_app(env)
    error = await env.refused(form=assertion_form(rs256(claims(client_id, sub="someone-else"))))
    assert (error.error, error.status) == ("invalid_client", 401)


async def test_assertion_for_a_secret_client_is_a_method_mismatch(env: Env) -> None:
    client_id, _ = await secret_app(env)
    error = await env.refused(form=assertion_form(rs256(claims(client_id))))
    assert (error.error, error.status) == ("invalid_client", 401)


async def test_assertion_parameters_must_come_together_and_name_the_jwt_bearer_type(env: Env) -> None:
    client_id = await jwt_app(env)
    token = rs256(claims(client_id))
    wrong_type = await env.refused(
        form={"client_assertion_type": "urn:example:saml", "client_assertion": token}
    )
    assert (wrong_type.error, wrong_type.status, wrong_type.description) == (
        "invalid_request",
        400,
        "The `client_assertion_type` is invalid.",
    )
    no_type = await env.refused(form={"client_assertion": token})
    assert (no_type.error, no_type.status) == ("invalid_request", 400)
    no_assertion = await env.refused(form={"client_assertion_type": CLIENT_ASSERTION_TYPE})
    assert (no_assertion.error, no_assertion.status) == ("invalid_request", 400)


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "e30.e30.", "x" * 9000])
async def test_malformed_assertions_are_invalid_client(env: Env, token: str) -> None:
    error = await env.refused(form=assertion_form(token))
    assert (error.error, error.status) == ("invalid_client", 401)


# --- client_secret_jwt -------------------------------------------------------------------------


async def test_client_secret_jwt(any_env: Env) -> None:
    app = await create_app(any_env.admin, service_app(method="client_secret_jwt"))
    client_id, secret = app["id"], app["credentials"]["oauthClient"]["client_secret"]
    token = jwt.encode(claims(client_id), secret, algorithm="HS256")
    result = await any_env.authenticate(form=assertion_form(token))
    assert (result.client_id, result.method) == (client_id, "client_secret_jwt")
    replay = await any_env.refused(form=assertion_form(token))
    assert replay.description == "The client_assertion token has already been used."


async def test_client_secret_jwt_with_the_wrong_secret_is_refused(env: Env) -> None:
    app = await create_app(env.admin, service_app(method="client_secret_jwt"))
    token = jwt.encode(claims(app["id"]), "a-guessed-secret-that-is-long-enough-1234", algorithm="HS256")
    error = await env.refused(form=assertion_form(token))
    assert error.description == "The client_assertion signature is invalid."


async def test_switching_to_client_secret_jwt_issues_a_usable_secret(env: Env) -> None:
    client_id, old_secret = await secret_app(env)
    updated = (
        await env.admin.put(f"{APPS}/{client_id}", json=service_app(method="client_secret_jwt"))
    ).json()
    secret = updated["credentials"]["oauthClient"]["client_secret"]
    token = jwt.encode(claims(client_id), secret, algorithm="HS256")
    assert (await env.authenticate(form=assertion_form(token))).method == "client_secret_jwt"
    stale = jwt.encode(claims(client_id), old_secret, algorithm="HS256")
    assert (await env.refused(form=assertion_form(stale))).error == "invalid_client"
