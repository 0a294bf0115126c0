"""The device authorization grant at ``/v1/token`` (RFC 8628 §3.4-3.5): a device polls with its
``device_code``; the rules are in :mod:`ostiary.domain.tokens.device_codes`. An approved request
becomes an access token, an ID token (``openid``) and a refresh token (``offline_access``, when
the client may refresh), once; revoking that refresh token's family revokes the access token
minted with it, as for the code grant."""

from __future__ import annotations

from ostiary.domain.oauth_errors import OAuthError
from ostiary.domain.tokens import device_codes
from ostiary.domain.tokens.access_tokens import MintedId
from ostiary.domain.tokens.device_codes import GRANT_TYPE, INVALID_DEVICE_CODE
from ostiary.domain.tokens.grants.base import GrantContext, TokenResponse
from ostiary.domain.tokens.refresh_tokens import issue_refresh_token
from ostiary.domain.tokens.user_tokens import mint_user_tokens
from ostiary.timeutil import token_time

__all__ = ["GRANT_TYPE", "issue"]


async def issue(ctx: GrantContext) -> TokenResponse:
    store = ctx.storage.devices
    if store is None:
        raise OAuthError("unsupported_grant_type", "The grant type in the request isn't supported.")
    device_code = ctx.params.get("device_code")
    if not device_code:
        raise OAuthError("invalid_request", "The `device_code` parameter is required.")
    row = await store.find(device_codes.digest(device_code))
    if row is None or row.org_id != ctx.org_id:
        raise OAuthError("invalid_grant", INVALID_DEVICE_CODE)
    device_codes.check_poll(row, ctx.client.id, ctx.server.id)
    if not await store.redeem(row):
        raise OAuthError("invalid_grant", INVALID_DEVICE_CODE)
    assert row.user_id is not None and row.granted_scopes is not None and row.auth_time is not None
    user = await ctx.storage.users.user(ctx.org_id, row.user_id)
    if user is None or user.status != "ACTIVE":
        raise OAuthError("invalid_grant", INVALID_DEVICE_CODE)
    scopes = row.granted_scopes
    lifetime = row.access_token_lifetime or 3600
    now = token_time()
    minted = MintedId.named(None, now, lifetime)
    tokens = await mint_user_tokens(
        ctx,
        user=user,
        scopes=scopes,
        access_lifetime=lifetime,
        auth_time=row.auth_time,
        amr=row.amr or ["pwd"],
        nonce=None,
        include_id_token=True,
        now=now,
        access_jti=minted.jti,
    )
    if "offline_access" in scopes and "refresh_token" in (ctx.client.grant_types or []):
        refresh = await issue_refresh_token(
            ctx.storage.refresh_tokens,
            org_id=ctx.org_id,
            server_id=ctx.server.id,
            client_id=ctx.client.id,
            user_id=row.user_id,
            scopes=scopes,
            auth_time=row.auth_time,
            lifetime_minutes=row.refresh_token_lifetime_minutes,
            window_minutes=row.refresh_token_window_minutes,
            amr=row.amr or ["pwd"],
            access_token=minted,  # revoking the family revokes it too, as the code grant's
        )
        tokens.refresh_token = refresh.secret
    return tokens
