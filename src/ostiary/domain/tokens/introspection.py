"""Token introspection (RFC 7662): what an authenticated client learns about a token.

A token of this server is described (§2.2) while its user and client may still use it and
the caller may see it; anything else, unknown tokens included, is ``{"active": false}``.

Who may introspect which token (§2.1 and §4: the endpoint must not become a token-scanning
or identity oracle):

- a public client (``token_endpoint_auth_method: none``) only the tokens issued to it: its
  ``client_id`` is no secret (it ships in SPA and native code), so it proves nothing more;
- a confidential client the tokens issued to it, and the access tokens whose ``aud`` names its
  own client id: the app of a resource server, made the audience of an authorization server
  (Okta's servers have exactly one audience; setting it to the resource server's client id is
  how that server is told "these tokens are for me"). The org authorization server's audience
  is the org URL, so there a client only ever sees its own tokens;
- a refresh token only the client it was issued to, whatever the audience.

Any other request gets the answer of an unknown token, ``{"active": false}``: the caller learns
nothing about a token it may not see.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.domain.authz.key_rotation import KeyRings
from ostiary.domain.clients.authentication import NONE, AuthenticatedClient
from ostiary.domain.oauth_errors import UNSUPPORTED_TOKEN_TYPE, OAuthError, invalid_request
from ostiary.domain.tokens import refresh_tokens
from ostiary.domain.tokens.verification import TokenServer, active_parties, verify_access_token
from ostiary.jose.verify import TokenInvalid

INACTIVE: Final[Mapping[str, Any]] = {"active": False}
TOKEN_TYPE_HINTS: Final = frozenset({"access_token", "refresh_token", "id_token", "device_secret"})
TOKEN_REQUIRED: Final = "The `token` parameter is required."
BAD_HINT: Final = "The token_type_hint is not supported."


def may_introspect_access_token(caller: AuthenticatedClient, issued_to: object, audience: object) -> bool:
    """``issued_to`` and ``audience`` are the token's ``cid`` and ``aud`` claims."""
    if issued_to == caller.client_id:
        return True
    if caller.method == NONE:
        return False
    audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
    return caller.client_id in audiences


def may_introspect_refresh_token(caller: AuthenticatedClient, issued_to: str) -> bool:
    return issued_to == caller.client_id


async def introspect(
    session: AsyncSession,
    rings: KeyRings,
    server: TokenServer,
    caller: AuthenticatedClient,
    token: str | None,
    hint: str | None,
) -> dict[str, Any]:
    """The introspection response for ``token`` asked by ``caller``; raises :class:`OAuthError`
    for a request without a token or with an unknown ``token_type_hint``."""
    if not token:
        raise invalid_request(TOKEN_REQUIRED)
    if hint and hint not in TOKEN_TYPE_HINTS:
        raise OAuthError(UNSUPPORTED_TOKEN_TYPE, BAD_HINT)
    for introspector in INTROSPECTORS:
        found = await introspector(session, rings, server, caller, token)
        if found is not None:
            return found
    return dict(INACTIVE)


def introspection_body(claims: Mapping[str, Any]) -> dict[str, Any]:
    """An active access token's response (§2.2) from its verified claims."""
    scopes = claims.get("scp") or []
    body: dict[str, Any] = {
        "active": True,
        "token_type": "Bearer",
        "scope": " ".join(scopes) if isinstance(scopes, list) else str(scopes),
        "client_id": claims.get("cid"),
    }
    if "uid" in claims:
        body["username"] = claims.get("sub")
    for name in ("exp", "iat", "sub", "aud", "iss", "jti", "uid"):
        if name in claims:
            body[name] = claims[name]
    return body


async def introspect_access_token(
    session: AsyncSession, rings: KeyRings, server: TokenServer, caller: AuthenticatedClient, token: str
) -> dict[str, Any] | None:
    """A JWT access token of this server (None when it is not one); inactive when the caller may
    not see it or its user or client may no longer use it."""
    try:
        claims = await verify_access_token(
            rings,
            session,
            org_id=server.org_id,
            server_id=server.server_id,
            issuer=server.issuer,
            audience=None,
            token=token,
        )
    except TokenInvalid:
        return None
    if not may_introspect_access_token(caller, claims.get("cid"), claims.get("aud")):
        return dict(INACTIVE)
    if await active_parties(session, server.org_id, claims) is None:
        return dict(INACTIVE)
    return introspection_body(claims)


async def introspect_refresh_token(
    session: AsyncSession, rings: KeyRings, server: TokenServer, caller: AuthenticatedClient, token: str
) -> dict[str, Any] | None:
    """A current refresh token of this server (None when it is not one), asked by its own client,
    whose user and client may still use it. ``exp`` is when it stops working if unused (the
    sooner of its absolute and idle expiry); absent when neither."""
    found = await refresh_tokens.active_token(session, server.org_id, server.server_id, token)
    if found is None:
        return None
    row, user = found
    if not may_introspect_refresh_token(caller, row.client_id):
        return dict(INACTIVE)
    body: dict[str, Any] = {
        "active": True,
        "token_type": "Bearer",
        "scope": " ".join(row.scopes),
        "client_id": row.client_id,
        "username": user.login,
    }
    expiry = refresh_tokens.expiry_of(row)
    if expiry is not None:
        body["exp"] = int(expiry.timestamp())
    body.update(iat=int(row.created.timestamp()), sub=user.login, uid=user.id)
    return body


Introspector = Callable[
    [AsyncSession, KeyRings, TokenServer, AuthenticatedClient, str], Awaitable[dict[str, Any] | None]
]

# Each kind of token this server can introspect, in the order tried.
INTROSPECTORS: Final[tuple[Introspector, ...]] = (introspect_access_token, introspect_refresh_token)
