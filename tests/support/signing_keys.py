"""Signing and verifying with an authorization server's key ring."""

from __future__ import annotations

from ostiary.domain.authz import server_lookup
from ostiary.domain.authz.key_rotation import KeyRings
from ostiary.domain.tokens.access_tokens import access_token_claims
from ostiary.domain.tokens.verification import verify_access_token
from tests.conftest import Server

ISSUER = "http://localhost:8080/oauth2/default"


async def org_id(server: Server) -> str:
    return (await server.rt.org_for_host("localhost:8080")).id


async def sign(server: Server, oid: str, rings: KeyRings) -> str:
    ring = await rings.ring(oid, server_lookup.DEFAULT_SERVER_ID)
    claims = access_token_claims(
        issuer=ISSUER, audience="api://default", client_id="0oaclient", scopes=["s"], lifetime_seconds=300
    )
    return await server.rt.signer.sign(claims, ring.active)


async def verify(server: Server, oid: str, token: str) -> dict[str, object]:
    async with server.rt.db.session() as session:
        return await verify_access_token(
            server.rt.rings,
            session,
            org_id=oid,
            server_id=server_lookup.DEFAULT_SERVER_ID,
            issuer=ISSUER,
            audience="api://default",
            token=token,
        )
