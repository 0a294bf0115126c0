"""The authorization code grant (RFC 6749 §4.1.3, PKCE RFC 7636 §4.6): a code from ``/authorize``
becomes an access token, an ID token (``openid``) and a refresh token (``offline_access``).

The code must be this server's, unused, unexpired, issued to this client for this
``redirect_uri``, and answered by the PKCE ``code_verifier`` when it carries a challenge.
A code used a second time fails and revokes the tokens it was first exchanged for.
"""

from __future__ import annotations

from typing import NoReturn

from ostiary.domain.oauth_errors import OAuthError
from ostiary.domain.tokens import pkce
from ostiary.domain.tokens.access_tokens import MintedId
from ostiary.domain.tokens.authorization_codes import (
    OFFLINE_ACCESS,
    claim_code,
    find_code,
    is_expired,
    mark_used,
    remember_tokens,
    revoke_replayed,
)
from ostiary.domain.tokens.grants.base import GrantContext, TokenResponse
from ostiary.domain.tokens.refresh_tokens import IssuedRefreshToken, issue_refresh_token
from ostiary.domain.tokens.user_tokens import mint_user_tokens
from ostiary.store.models.codes import AuthorizationCode
from ostiary.store.repositories.authorization_codes import ClaimedCode
from ostiary.timeutil import token_time

GRANT_TYPE = "authorization_code"
REFRESH_TOKEN = "refresh_token"
INVALID_CODE = "The authorization code is invalid or has expired."
OTHER_CLIENT = (
    "The grant was issued to another client. Ensure that the `client_id` matches the one used at "
    "the authorize request."
)
REDIRECT_MISMATCH = "The 'redirect_uri' does not match the redirection URI used in the authorization request."
PKCE_FAILED = "PKCE verification failed."


async def issue(ctx: GrantContext) -> TokenResponse:
    """Run after the endpoint checked the client may use this grant type."""
    code = ctx.params.get("code")
    if not code:
        raise OAuthError("invalid_request", "The `code` parameter is required.")
    redirect_uri = ctx.params.get("redirect_uri")
    if not redirect_uri:
        raise OAuthError("invalid_request", "The `redirect_uri` parameter is required.")
    row = await _redeemable_code(ctx, code, redirect_uri)
    user = await ctx.storage.users.user(ctx.org_id, row.user_id)
    if user is None or user.org_id != ctx.org_id or user.status != "ACTIVE":
        raise OAuthError("invalid_grant", INVALID_CODE)
    named = row.access_token_jti is not None  # tokens named at issue: nothing to write after
    now = token_time()
    minted = MintedId.named(row.access_token_jti, now, row.access_token_lifetime)
    tokens = await mint_user_tokens(
        ctx,
        user=user,
        scopes=row.scopes,
        access_lifetime=row.access_token_lifetime,
        auth_time=row.auth_time,
        amr=row.amr,
        nonce=row.nonce,
        include_id_token=True,
        now=now,
        access_jti=minted.jti,
    )
    refresh = await _refresh_token(ctx, row, minted)
    tokens.refresh_token = refresh.secret if refresh is not None else None
    if not named:
        await remember_tokens(ctx.storage.codes, row, minted, refresh.family_id if refresh else None)
    return tokens


async def _redeemable_code(ctx: GrantContext, code: str, redirect_uri: str) -> ClaimedCode:
    """The code's row, won by this request: claimed in one statement when everything matches
    (:func:`claim_code`), else checked step by step, which names what failed and revokes a
    replayed code's tokens."""
    verifier = ctx.params.get("code_verifier")
    if not verifier or pkce.well_formed_verifier(verifier):
        challenge = pkce.s256(verifier) if verifier else None
        claimed = await claim_code(
            ctx.storage.codes, ctx.org_id, ctx.server.id, ctx.client.id, code, redirect_uri, challenge
        )
        if claimed is not None:
            return claimed
    return await _checked_code(ctx, code, redirect_uri)


async def _checked_code(ctx: GrantContext, code: str, redirect_uri: str) -> AuthorizationCode:
    row = await find_code(ctx.storage.codes, ctx.org_id, ctx.server.id, code)
    if row is None:
        raise OAuthError("invalid_grant", INVALID_CODE)
    if row.used_at is not None:
        await _replayed(ctx, row)
    if is_expired(row):
        raise OAuthError("invalid_grant", INVALID_CODE)
    if row.client_id != ctx.client.id:
        raise OAuthError("invalid_grant", OTHER_CLIENT)
    if redirect_uri != row.redirect_uri:
        raise OAuthError("invalid_grant", REDIRECT_MISMATCH)
    if not pkce.verify(ctx.params.get("code_verifier"), row.code_challenge, row.code_challenge_method):
        raise OAuthError("invalid_grant", PKCE_FAILED)
    if not await mark_used(ctx.storage.codes, row):
        await _replayed(ctx, row)
    return row


async def _replayed(ctx: GrantContext, row: AuthorizationCode) -> NoReturn:
    """RFC 6749 §4.1.2: deny, and revoke the tokens the code was first exchanged for."""
    await ctx.storage.codes.reload(row)
    await revoke_replayed(ctx.storage.codes, ctx.storage.refresh_tokens, row)
    raise OAuthError("invalid_grant", INVALID_CODE)


async def _refresh_token(
    ctx: GrantContext, row: ClaimedCode, access_token: MintedId
) -> IssuedRefreshToken | None:
    """A refresh token when ``offline_access`` was granted and the client may refresh: of the
    family the code named at issue, with ``access_token`` noted in it."""
    scopes = row.scopes
    if OFFLINE_ACCESS not in scopes or REFRESH_TOKEN not in (ctx.client.grant_types or []):
        return None
    return await issue_refresh_token(
        ctx.storage.refresh_tokens,
        org_id=ctx.org_id,
        server_id=ctx.server.id,
        client_id=ctx.client.id,
        user_id=row.user_id,
        scopes=scopes,
        auth_time=row.auth_time,
        lifetime_minutes=row.refresh_token_lifetime_minutes,
        window_minutes=row.refresh_token_window_minutes,
        amr=row.amr,
        family_id=row.refresh_token_family_id,
        access_token=access_token,
    )
