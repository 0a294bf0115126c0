"""The memo of signature checks (``jose.verified_tokens``, held by ``KeyRings.verified``): a token
introspected again skips the RSA verify, and still turns inactive at once when it is revoked
(here or by another process), when the key that signed it leaves the key set, when it expires,
or when its client is deactivated. Runs on SQLite and, when ``OSTIARY_TEST_POSTGRES_URL`` is set,
on PostgreSQL."""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import insert, update

from ostiary.domain.authz.server_lookup import ORG_SERVER_ID
from ostiary.domain.clients.authentication import AuthenticatedClient
from ostiary.domain.clients.client_cache import get_active_client
from ostiary.domain.tokens import introspection
from ostiary.domain.tokens.verification import TokenServer
from ostiary.http.cache_sync import cache_event_handlers
from ostiary.jose import jwt_claims, verified_tokens
from ostiary.jose.b64 import b64url_encode
from ostiary.jose.jwk import KeySet, VerificationKey
from ostiary.jose.token_errors import TokenInvalid
from ostiary.jose.verified_tokens import VerifiedTokens, verify_jwt_remembered
from ostiary.store.cache_events import REVOKED
from ostiary.store.models import RevokedToken, SigningKeyRow
from ostiary.timeutil import utcnow
from tests.conftest import ORG_URL, Server
from tests.support.authorize import claims as minted_claims
from tests.support.oauth import basic, service_client

SCOPE = "okta.users.read"


@pytest.fixture
def signature_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The kid of every signature the memo's verifier checked."""
    checked: list[str] = []
    original = verified_tokens.check_signature

    def spy(parsed: Any, keys: KeySet) -> None:
        checked.append(parsed.kid)
        original(parsed, keys)

    monkeypatch.setattr(verified_tokens, "check_signature", spy)
    return checked


async def setup(server: Server) -> tuple[dict[str, str], str, str]:
    async with server.client(await server.create_token()) as admin:
        client_id, secret = await service_client(admin, SCOPE)
    headers = basic(client_id, secret)
    async with server.client() as anon:
        minted = await anon.post(
            "/oauth2/v1/token", data={"grant_type": "client_credentials", "scope": SCOPE}, headers=headers
        )
    assert minted.status_code == 200, minted.text
    return headers, minted.json()["access_token"], client_id


async def introspect(server: Server, headers: dict[str, str], token: str) -> dict[str, Any]:
    async with server.client() as anon:
        response = await anon.post("/oauth2/v1/introspect", data={"token": token}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def org_id(server: Server) -> str:
    return (await server.rt.org_for_host(urlsplit(ORG_URL).netloc)).id


async def test_a_token_introspected_again_is_not_verified_again(
    any_server: Server, signature_checks: list[str]
) -> None:
    headers, token, client_id = await setup(any_server)
    first = await introspect(any_server, headers, token)
    assert first["active"] is True and first["client_id"] == client_id
    assert len(signature_checks) == 1
    assert await introspect(any_server, headers, token) == first
    assert len(signature_checks) == 1


async def test_revoking_here_ends_a_remembered_token(any_server: Server, signature_checks: list[str]) -> None:
    headers, token, _ = await setup(any_server)
    assert (await introspect(any_server, headers, token))["active"] is True
    async with any_server.client() as anon:
        revoked = await anon.post("/oauth2/v1/revoke", data={"token": token}, headers=headers)
    assert revoked.status_code == 200, revoked.text
    assert await introspect(any_server, headers, token) == {"active": False}


async def test_a_revocation_by_another_process_ends_a_remembered_token(
    any_server: Server, signature_checks: list[str]
) -> None:
    headers, token, _ = await setup(any_server)
    assert (await introspect(any_server, headers, token))["active"] is True
    jti = minted_claims(token)["jti"]
    async with any_server.rt.db.session() as session:
        await session.execute(
            insert(RevokedToken).values(
                jti=jti, org_id=await org_id(any_server), expires_at=utcnow() + timedelta(hours=1)
            )
        )
    cache_event_handlers(any_server.rt)[REVOKED]()
    assert await introspect(any_server, headers, token) == {"active": False}
    assert len(signature_checks) == 1  # the memo held; revocation still decided


async def test_a_remembered_token_whose_key_left_the_key_set_is_inactive(
    any_server: Server, signature_checks: list[str]
) -> None:
    headers, token, _ = await setup(any_server)
    assert (await introspect(any_server, headers, token))["active"] is True
    kid = signature_checks[0]
    async with any_server.rt.db.session() as session:
        row = await session.get(SigningKeyRow, kid)
        assert row is not None
        server_id = row.server_id
        await session.execute(
            update(SigningKeyRow)
            .where(SigningKeyRow.kid == kid)
            .values(status="EXPIRED", retire_after=utcnow() - timedelta(seconds=1))
        )
    cache_event_handlers(any_server.rt)["ring"](await org_id(any_server), server_id)  # as a rotation does
    assert await introspect(any_server, headers, token) == {"active": False}


async def test_a_remembered_token_that_expired_is_inactive(
    any_server: Server, signature_checks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    headers, token, _ = await setup(any_server)
    assert (await introspect(any_server, headers, token))["active"] is True
    exp = minted_claims(token)["exp"]
    monkeypatch.setattr(jwt_claims, "time", SimpleNamespace(time=lambda: exp + 1))
    assert await introspect(any_server, headers, token) == {"active": False}
    assert len(signature_checks) == 1  # from the memo, and still refused


async def test_a_remembered_token_of_a_deactivated_client_is_inactive(
    any_server: Server, signature_checks: list[str]
) -> None:
    """As a resource server whose app may see the token would ask (the org AS's tokens are only
    their own client's to see over HTTP, and a deactivated client cannot authenticate)."""
    headers, token, client_id = await setup(any_server)
    assert (await introspect(any_server, headers, token))["active"] is True
    org = await org_id(any_server)
    rt = any_server.rt
    server = TokenServer(org, ORG_SERVER_ID, ORG_URL)
    async with rt.db.session() as session:
        app = await get_active_client(session, org, client_id)
        assert app is not None
        caller = AuthenticatedClient(app, "client_secret_basic")
        assert (await introspection.introspect(session, rt.rings, server, caller, token, None))["active"]
    async with any_server.client(await any_server.create_token()) as admin:
        deactivated = await admin.post(f"/api/v1/apps/{client_id}/lifecycle/deactivate")
    assert deactivated.status_code == 200
    async with rt.db.session() as session:
        assert await introspection.introspect(session, rt.rings, server, caller, token, None) == {
            "active": False
        }
    assert len(signature_checks) == 1


# --- the memo itself ---------------------------------------------------------------------------

ISSUER = "https://issuer.example"


def _key(kid: str) -> tuple[rsa.RSAPrivateKey, KeySet]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return private, KeySet({kid: VerificationKey(kid, "RS256", private.public_key())})


def _token(private: rsa.RSAPrivateKey, kid: str, exp: int) -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    header = b64url_encode(b'{"alg":"RS256","kid":"%s"}' % kid.encode())
    now = int(time.time())
    claims = b64url_encode(b'{"iss":"%s","iat":%d,"exp":%d,"jti":"AT.1"}' % (ISSUER.encode(), now, exp))
    signature = private.sign(f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{claims}.{b64url_encode(signature)}"


def test_the_memo_needs_the_very_key_that_verified_the_token(signature_checks: list[str]) -> None:
    private, keys = _key("k1")
    token = _token(private, "k1", int(time.time()) + 60)
    memo = VerifiedTokens()
    assert verify_jwt_remembered(token, keys, memo, issuer=ISSUER, audience=None)["jti"] == "AT.1"
    assert verify_jwt_remembered(token, keys, memo, issuer=ISSUER, audience=None)["jti"] == "AT.1"
    assert signature_checks == ["k1"]
    reloaded = KeySet(dict(keys.keys) | {"k1": VerificationKey("k1", "RS256", private.public_key())})
    verify_jwt_remembered(token, reloaded, memo, issuer=ISSUER, audience=None)  # another key object
    assert signature_checks == ["k1", "k1"]
    _, others = _key("k2")
    with pytest.raises(TokenInvalid, match="no signing key"):
        verify_jwt_remembered(token, others, memo, issuer=ISSUER, audience=None)


def test_the_memo_checks_claims_every_time_and_hands_out_copies() -> None:
    private, keys = _key("k1")
    exp = int(time.time()) + 60
    token = _token(private, "k1", exp)
    memo = VerifiedTokens()
    claims = verify_jwt_remembered(token, keys, memo, issuer=ISSUER, audience=None)
    claims["iss"] = "changed"
    with pytest.raises(TokenInvalid, match="expired"):
        verify_jwt_remembered(token, keys, memo, issuer=ISSUER, audience=None, leeway=0, now=exp)
    with pytest.raises(TokenInvalid, match="issuer"):
        verify_jwt_remembered(token, keys, memo, issuer="https://other.example", audience=None)
    assert verify_jwt_remembered(token, keys, memo, issuer=ISSUER, audience=None)["iss"] == ISSUER


def test_a_token_that_fails_its_claims_is_not_remembered() -> None:
    private, keys = _key("k1")
    token = _token(private, "k1", int(time.time()) - 100)
    memo = VerifiedTokens()
    with pytest.raises(TokenInvalid, match="expired"):
        verify_jwt_remembered(token, keys, memo, issuer=ISSUER, audience=None, leeway=0)
    assert len(memo) == 0
