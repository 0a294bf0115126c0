"""Verifying tokens this server minted: signature by a published key of the server (alg pinned),
exact issuer, audience, expiry, not revoked; and whether the token's user and client may still
use it (:func:`active_parties`, shared by introspection and userinfo; refresh tokens apply the
same user rule through :func:`user_may_use`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.domain.authz.key_rotation import KeyRings
from ostiary.domain.clients.client_cache import Client, get_active_client
from ostiary.domain.tokens import revoked_jtis
from ostiary.domain.tokens.token_user import TokenUser
from ostiary.domain.tokens.user_context_cache import token_users
from ostiary.jose.verified_tokens import verify_jwt_remembered
from ostiary.jose.verify import KeySet, TokenInvalid, check_claims, check_signature, parse_token

USER_ACTIVE: Final = "ACTIVE"
TIME_CLAIMS: Final = frozenset({"exp", "nbf", "iat"})


@dataclass(frozen=True, slots=True)
class TokenServer:
    """The authorization server whose tokens are checked: its org, id and exact issuer."""

    org_id: str
    server_id: str
    issuer: str


async def verify_access_token(
    rings: KeyRings,
    session: AsyncSession,
    *,
    org_id: str,
    server_id: str,
    issuer: str,
    audience: str | Sequence[str] | None,
    token: str,
    now: float | None = None,
) -> dict[str, Any]:
    """The claims of a valid, unrevoked token of this server; ``TokenInvalid`` otherwise.

    Only public keys are used. An unknown ``kid`` re-reads them once (another process may have
    rotated), at most once per interval per server: forged kids cost no reload. A token verified
    before by the same key skips the signature check (``rings.verified``,
    :mod:`ostiary.jose.verified_tokens`); its claims, revocation included, are checked anew.
    """
    keyset = await rings.verification_keys(org_id, server_id, session)
    memo = rings.verified
    try:
        claims = verify_jwt_remembered(
            token, keyset, memo, issuer=issuer, audience=audience, leeway=0, now=now
        )
    except TokenInvalid as exc:
        if exc.reason != "unknown_kid":
            raise
        refreshed = await rings.refresh_verification_keys(org_id, server_id, session)
        if refreshed is keyset:
            raise
        claims = verify_jwt_remembered(
            token, refreshed, memo, issuer=issuer, audience=audience, leeway=0, now=now
        )
    jti = claims.get("jti")
    if not isinstance(jti, str) or await revoked_jtis.is_revoked(session, jti):
        raise TokenInvalid("revoked", "the token has been revoked")
    return claims


def verify_ignoring_expiry(token: str, keys: KeySet, *, issuer: str) -> dict[str, Any]:
    """The claims of a token signed by a key of ``keys`` with exactly this ``issuer`` (and an
    ``exp`` and ``iat``), whenever it expires, starts or was issued: RFC 7009 revocation takes
    an expired token too. ``TokenInvalid`` otherwise; revocation is not checked."""
    parsed = parse_token(token)
    check_signature(parsed, keys)
    claims = parsed.claims
    for name in ("exp", "iat"):
        if name not in claims:
            raise TokenInvalid("missing_claim", f"the token has no {name} claim")
    timeless = {name: value for name, value in claims.items() if name not in TIME_CLAIMS}
    check_claims(timeless, issuer=issuer, audience=None, required_claims=())
    return claims


def user_may_use(user: TokenUser | None, org_id: str, issued: datetime) -> bool:
    """The user of a token issued at ``issued`` is ACTIVE and has not changed status since.

    Checked at use time instead of revoking on every lifecycle change: a suspended or
    deactivated user's tokens stop at once, and unsuspending or reactivating the user does
    not bring them back (as Okta, which revokes them). Any other status change (a lockout,
    an expired password) ends them too.
    """
    return (
        user is not None
        and user.org_id == org_id
        and user.status == USER_ACTIVE
        and (user.status_changed is None or user.status_changed <= issued)
    )


def issued_at(iat: int) -> datetime:
    """The latest instant a token with this whole-second ``iat`` may have been minted at (``iat``
    is truncated), so that a status change earlier in the same second does not end it."""
    return datetime.fromtimestamp(iat, UTC) + timedelta(seconds=1) - timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class TokenParties:
    """The client an access token was issued to and, for a user's token, its user."""

    client: Client
    user: TokenUser | None


async def active_parties(
    session: AsyncSession, org_id: str, claims: Mapping[str, Any]
) -> TokenParties | None:
    """The parties of a verified access token when they may still use it: the ``cid`` client is
    active and, when the token has a ``uid``, that user passes :func:`user_may_use` for the
    token's ``iat``. ``None`` otherwise (a suspended user, a deactivated client, …).

    The user comes from ``tokens.user_context_cache`` (forgotten by any write of the user, in
    every process, by the ``directory`` cache event)."""
    client_id, user_id, iat = claims.get("cid"), claims.get("uid"), claims.get("iat")
    if not isinstance(client_id, str):
        return None
    user: TokenUser | None = None
    if "uid" in claims:
        if not isinstance(user_id, str) or not isinstance(iat, int) or isinstance(iat, bool):
            return None
        user = await token_users(session).user(org_id, user_id)
        if not user_may_use(user, org_id, issued_at(iat)):
            return None
    client = await get_active_client(session, org_id, client_id)
    return None if client is None else TokenParties(client, user)
