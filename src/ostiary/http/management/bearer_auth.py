"""``Authorization: Bearer`` on the management API: an access token of the org authorization server.

The token must verify against the org AS keys, name the org URL as issuer and audience, not be
revoked, and its parties must still be allowed to use it, as introspection and userinfo decide
(:func:`~ostiary.domain.tokens.verification.active_parties`): an active client and, for a
user-bound token, an ACTIVE user whose status has not changed since the token was issued.
Revocation, deactivation and suspension apply at once. The principal carries the admin roles
(``domain.roles.authority``) of the token's user, or of its client for a service app's token.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.domain.authz import server_lookup
from ostiary.domain.context import Actor, Tx
from ostiary.domain.orgs import Org
from ostiary.domain.roles import authority
from ostiary.domain.tokens.verification import active_parties, verify_access_token
from ostiary.http.runtime import Principal, Runtime
from ostiary.jose.verify import TokenInvalid


def bearer_authenticator(rt: Runtime):  # type: ignore[no-untyped-def]
    async def authenticate(session: AsyncSession, org: Org, org_url: str, token: str) -> Principal | None:
        try:
            claims = await verify_access_token(
                rt.rings,
                session,
                org_id=org.id,
                server_id=server_lookup.ORG_SERVER_ID,
                issuer=org_url,
                audience=org_url,
                token=token,
            )
        except TokenInvalid:
            return None
        scopes = claims.get("scp")
        if not isinstance(scopes, list):
            return None
        parties = await active_parties(session, org.id, claims)
        if parties is None:
            return None
        client = parties.client
        actor = Actor(client.id, "PublicClientApp", client.id, client.label)
        tx = Tx(session=session, org=org)
        if parties.user is not None:  # a user's token: that admin's roles, as Okta's
            held = await authority.for_user(tx, parties.user.id)
        else:  # a service app: its client's roles, when it has any
            held = await authority.for_client(tx, client.id)
        return Principal(
            actor=actor,
            scopes=frozenset(s for s in scopes if isinstance(s, str)),
            kind="oauth",
            authority=held,
            user_id=parties.user.id if parties.user is not None else None,
        )

    return authenticate
