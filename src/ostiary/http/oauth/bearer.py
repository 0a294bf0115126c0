"""``Authorization: Bearer`` on the management API: an access token of the org authorization server.

The token must verify against the org AS keys, name the org URL as issuer and audience, not be
revoked, and belong to a client that is still active — revocation and deactivation apply at once.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.domain.authz import servers
from ostiary.domain.clients.client_cache import get_active_client
from ostiary.domain.context import Actor
from ostiary.domain.tokens.verification import verify_access_token
from ostiary.http.runtime import Principal, Runtime
from ostiary.jose.verify import TokenInvalid
from ostiary.store.models import Org


def bearer_authenticator(rt: Runtime):  # type: ignore[no-untyped-def]
    async def authenticate(session: AsyncSession, org: Org, org_url: str, token: str) -> Principal | None:
        try:
            claims = await verify_access_token(
                rt.rings,
                session,
                org_id=org.id,
                server_id=servers.ORG_SERVER_ID,
                issuer=org_url,
                audience=org_url,
                token=token,
            )
        except TokenInvalid:
            return None
        client_id = claims.get("cid")
        scopes = claims.get("scp")
        if not isinstance(client_id, str) or not isinstance(scopes, list):
            return None
        client = await get_active_client(session, org.id, client_id)
        if client is None:
            return None
        actor = Actor(client.id, "PublicClientApp", client.id, client.label)
        return Principal(actor=actor, scopes=frozenset(s for s in scopes if isinstance(s, str)), kind="oauth")

    return authenticate
