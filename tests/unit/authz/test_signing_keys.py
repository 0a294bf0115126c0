"""Signing keys per authorization server: lazy creation, NEXT key ahead, rotation, at-rest encryption."""

from __future__ import annotations

import jwt
import pytest
from sqlalchemy import select

from ostiary.domain.authz import server_lookup
from ostiary.domain.authz.key_rotation import KeyRings
from ostiary.domain.tokens.verification import verify_access_token
from ostiary.jose.key_encryption import KeyDecryptionError, KeyEncryptor
from ostiary.jose.verify import TokenInvalid
from ostiary.store.models import AuthorizationServer, SigningKeyRow
from tests.conftest import Server
from tests.support.signing_keys import ISSUER, org_id, sign, verify


async def statuses(server: Server, oid: str) -> list[str]:
    async with server.rt.db.session() as session:
        rows = (await session.scalars(select(SigningKeyRow).where(SigningKeyRow.org_id == oid))).all()
    return sorted(r.status for r in rows)


async def test_keys_are_created_on_first_use_with_a_next_key_published(any_server: Server) -> None:
    oid = await org_id(any_server)
    assert await statuses(any_server, oid) == []
    ring = await any_server.rt.rings.ring(oid, server_lookup.DEFAULT_SERVER_ID)
    assert await statuses(any_server, oid) == ["ACTIVE", "NEXT"]
    assert len(ring.jwks["keys"]) == 2
    assert ring.active.kid in ring.public
    jwk = ring.public[ring.active.kid]
    assert (jwk["kty"], jwk["alg"], jwk["use"]) == ("RSA", "RS256", "sig")
    assert "d" not in jwk


async def test_private_keys_are_encrypted_at_rest(server: Server) -> None:
    oid = await org_id(server)
    await server.rt.rings.ring(oid, server_lookup.DEFAULT_SERVER_ID)
    async with server.rt.db.session() as session:
        row = (await session.scalars(select(SigningKeyRow).where(SigningKeyRow.status == "ACTIVE"))).first()
    assert row is not None
    assert row.private_key.startswith("v1.")
    assert "PRIVATE KEY" not in row.private_key
    with pytest.raises(KeyDecryptionError):
        KeyEncryptor(b"\x01" * 32).decrypt(row.private_key, associated_data=b'["x","y"]')


async def test_tokens_signed_before_rotation_still_verify_and_jwks_shows_both(any_server: Server) -> None:
    oid = await org_id(any_server)
    rings = any_server.rt.rings
    before = await sign(any_server, oid, rings)
    old_ring = await rings.ring(oid, server_lookup.DEFAULT_SERVER_ID)
    next_kid = next(k for k in old_ring.public if k != old_ring.active.kid)
    await rings.rotate(oid, server_lookup.DEFAULT_SERVER_ID)
    new_ring = await rings.ring(oid, server_lookup.DEFAULT_SERVER_ID)
    assert new_ring.active.kid == next_kid, "the published NEXT key becomes ACTIVE"
    assert old_ring.active.kid in new_ring.public, "the old key stays published for verification"
    assert len(new_ring.jwks["keys"]) == 3
    assert sorted(await statuses(any_server, oid)) == ["ACTIVE", "EXPIRED", "NEXT"]
    assert (await verify(any_server, oid, before))["cid"] == "0oaclient"
    after = await sign(any_server, oid, rings)
    assert jwt.get_unverified_header(after)["kid"] == next_kid
    assert (await verify(any_server, oid, after))["cid"] == "0oaclient"


async def test_another_process_sees_a_rotation_through_an_unknown_kid(server: Server) -> None:
    oid = await org_id(server)
    mine = server.rt.rings
    other = KeyRings(server.rt.db, mine.encryptor)
    await mine.ring(oid, server_lookup.DEFAULT_SERVER_ID)
    await other.rotate(oid, server_lookup.DEFAULT_SERVER_ID)
    await other.rotate(oid, server_lookup.DEFAULT_SERVER_ID)
    token = await sign(server, oid, other)
    assert (await verify(server, oid, token))["iss"] == ISSUER


async def test_tampered_and_foreign_issuer_tokens_are_refused(server: Server) -> None:
    oid = await org_id(server)
    token = await sign(server, oid, server.rt.rings)
    header, payload, signature = token.split(".")
    with pytest.raises(TokenInvalid):
        await verify(server, oid, f"{header}.{payload}x.{signature}")
    async with server.rt.db.session() as session:
        with pytest.raises(TokenInvalid):
            await verify_access_token(
                server.rt.rings,
                session,
                org_id=oid,
                server_id=server_lookup.DEFAULT_SERVER_ID,
                issuer="http://localhost:8080",
                audience=None,
                token=token,
            )


async def test_es256_is_an_opt_in_per_server(server: Server) -> None:
    oid = await org_id(server)
    async with server.rt.db.session() as session:
        row = await session.get(AuthorizationServer, (oid, server_lookup.DEFAULT_SERVER_ID))
        assert row is not None
        row.signing_alg = "ES256"
    ring = await server.rt.rings.ring(oid, server_lookup.DEFAULT_SERVER_ID)
    assert ring.active.alg == "ES256"
    assert ring.public[ring.active.kid]["kty"] == "EC"
    token = await sign(server, oid, server.rt.rings)
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    assert (await verify(server, oid, token))["scp"] == ["s"]
