"""The refresh token grant (RFC 6749 §6): new tokens for the user of an earlier grant.

The steps, each refusing with ``invalid_grant`` unless noted:

1. the client sent a ``refresh_token`` (``invalid_request``); that it has the
   ``refresh_token`` grant type the endpoint checked before (``unauthorized_client``);
2. the token is one of this server's, issued to this client (client authentication
   happened in the token endpoint);
3. the token is usable (see :mod:`ostiary.domain.tokens.refresh_tokens`): not revoked, not
   expired (absolute lifetime, idle window), not rotated, or retried within the grace. A
   rotated token presented outside the grace revokes its whole family;
4. the user still exists, is ACTIVE and has not changed status since the token was minted
   (checked here, at use time: a suspended or deactivated user's tokens stop working at
   once, and reactivating the user does not revive them), and is still assigned to the app;
5. ``scope``, when sent, is a subset of the original grant that keeps ``offline_access``
   (``invalid_scope``); the new access and ID tokens carry it, while the refresh token keeps
   the original grant (RFC 6749 §6);
6. default and custom servers re-evaluate their access policies for grant type
   ``refresh_token`` with the user's current groups; the matched rule sets the access
   token lifetime and the refresh token's idle window. The org server has no policies.

Then the access token (and an ID token when ``openid`` is among the scopes, without nonce)
is minted and the refresh token rotated or kept, per the app's rotation setting.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ostiary.domain.authz import server_lookup
from ostiary.domain.authz.policy_engine import POLICY_DENIED, TokenRequest
from ostiary.domain.oauth_errors import OAuthError
from ostiary.domain.tokens import refresh_tokens, user_tokens
from ostiary.domain.tokens.access_tokens import MintedId
from ostiary.domain.tokens.grants.base import (
    GrantContext,
    TokenResponse,
    requested_scopes,
    resolved_scopes,
)
from ostiary.domain.tokens.refresh_tokens import RefreshTokenReused, RefreshTokenUnusable, TokenState
from ostiary.domain.tokens.token_user import TokenUser
from ostiary.store.models.refresh_tokens import RefreshToken
from ostiary.timeutil import token_time, utcnow

log = logging.getLogger(__name__)

GRANT_TYPE = "refresh_token"
OFFLINE_ACCESS = "offline_access"
OPENID = "openid"
ORG_ACCESS_TOKEN_LIFETIME = 3600

INVALID_TOKEN = "The refresh token is invalid or expired."
NOT_ASSIGNED = "User is not assigned to the client application."
SCOPE_NOT_GRANTED = "The requested scope is invalid, unknown, or malformed."
OFFLINE_ACCESS_REQUIRED = "The requested scope must include 'offline_access' when refreshing."


@dataclass(frozen=True, slots=True)
class RefreshDecision:
    access_token_lifetime: int
    window_minutes: int | None


def _invalid(description: str = INVALID_TOKEN) -> OAuthError:
    return OAuthError("invalid_grant", description)


def _presented(ctx: GrantContext) -> str:
    presented = ctx.params.get("refresh_token")
    if not presented:
        raise OAuthError("invalid_request", "The `refresh_token` parameter is required.")
    return presented


async def _token_of_this_client(ctx: GrantContext, presented: str, now: datetime) -> RefreshToken:
    row = await refresh_tokens.find_refresh_token(ctx.storage.refresh_tokens, ctx.org_id, presented)
    if row is None or row.server_id != ctx.server.id or row.client_id != ctx.client.id:
        raise _invalid()
    state = refresh_tokens.state_of(row, now, refresh_tokens.rotation_policy(ctx.client).leeway)
    if state is TokenState.REUSED:
        await _revoke_reused(ctx, row.family_id)
    if state not in (TokenState.ACTIVE, TokenState.GRACE):
        raise _invalid()
    return row


async def _revoke_reused(ctx: GrantContext, family_id: str) -> None:
    """A rotated token came back: whoever holds the family may be an attacker; end it for good."""
    await refresh_tokens.revoke_family(ctx.storage.refresh_tokens, ctx.org_id, family_id, durable=True)
    log.warning("refresh token reuse by client %s: family %s revoked", ctx.client.id, family_id)


async def _current_user(ctx: GrantContext, row: RefreshToken) -> TokenUser:
    user = await ctx.storage.users.user(ctx.org_id, row.user_id)
    if user is None or not refresh_tokens.user_may_refresh(user, row):
        raise _invalid()
    if not await ctx.storage.users.is_assigned(ctx.org_id, ctx.client.id, user.id):
        raise _invalid(NOT_ASSIGNED)
    return user


def _scopes(ctx: GrantContext, granted: Sequence[str]) -> tuple[str, ...]:
    requested = requested_scopes(ctx.params)
    if not requested:
        return tuple(granted)
    if not set(requested) <= set(granted):
        raise OAuthError("invalid_scope", SCOPE_NOT_GRANTED)
    if OFFLINE_ACCESS not in requested:
        raise OAuthError("invalid_scope", OFFLINE_ACCESS_REQUIRED)
    return tuple(requested)


async def _policy_decision(
    ctx: GrantContext, user: TokenUser, scopes: tuple[str, ...], row: RefreshToken
) -> RefreshDecision:
    if ctx.server.kind == server_lookup.ORG:
        return RefreshDecision(ORG_ACCESS_TOKEN_LIFETIME, row.window_minutes)
    configuration = await ctx.storage.policy_sets.policy_set(ctx.org_id, ctx.server.id)
    resolved_scopes(configuration, scopes)
    groups = await ctx.storage.users.groups(ctx.org_id, user.id)
    decision = configuration.policies.evaluate(
        TokenRequest(
            client_id=ctx.client.id,
            user_id=user.id,
            user_group_ids=frozenset(group.id for group in groups),
            grant_type=GRANT_TYPE,
            scopes=scopes,
        )
    )
    if not decision.granted:
        raise _invalid(POLICY_DENIED)
    return RefreshDecision(
        access_token_lifetime=(decision.access_token_lifetime_minutes or 60) * 60,
        window_minutes=decision.refresh_token_window_minutes,
    )


async def _spend(
    ctx: GrantContext, row: RefreshToken, presented: str, window: int | None, now: datetime
) -> str:
    try:
        return await refresh_tokens.exchange(
            ctx.storage.refresh_tokens,
            row,
            presented,
            policy=refresh_tokens.rotation_policy(ctx.client),
            window_minutes=window,
            now=now,
        )
    except RefreshTokenReused as exc:
        await _revoke_reused(ctx, exc.family_id)
        raise _invalid() from None
    except RefreshTokenUnusable:
        raise _invalid() from None


async def issue(ctx: GrantContext) -> TokenResponse:
    presented = _presented(ctx)
    now = utcnow()
    row = await _token_of_this_client(ctx, presented, now)
    user = await _current_user(ctx, row)
    scopes = _scopes(ctx, row.scopes)
    decision = await _policy_decision(ctx, user, scopes, row)
    auth_time, amr = row.auth_time, list(row.amr)
    refresh_token = await _spend(ctx, row, presented, decision.window_minutes, now)
    issued = token_time()
    minted = MintedId.named(None, issued, decision.access_token_lifetime)
    response = await user_tokens.mint_user_tokens(
        ctx,
        user=user,
        scopes=scopes,
        access_lifetime=decision.access_token_lifetime,
        auth_time=auth_time,
        amr=amr,
        nonce=None,
        include_id_token=OPENID in scopes,
        now=issued,
        access_jti=minted.jti,
    )
    response.refresh_token = refresh_token
    await refresh_tokens.remember_access_token(ctx.storage.refresh_tokens, ctx.org_id, row.family_id, minted)
    return response
